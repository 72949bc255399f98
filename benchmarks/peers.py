"""Implementations that run in a process of their own, and the virtualenv some of them need.

Some peers cannot share the suite's process: the newest Django (6.1, Python
>= 3.12) and ``django-async-backend`` conflict with Django 5.2, and
``orm (WAL default)`` would fight ``orm`` over the process-wide
``orm.configure``. Each such implementation runs in a child process
(``python -m benchmarks.run --isolated NAME``) together with the floor
(``raw_thread``), so its ratios are same-run ratios like everyone else's; the
parent merges the child's results into its own table (``merge``).

The Django 6.1 peers need a virtualenv of their own, ``benchmarks/.venv-django61``,
built on demand from ``benchmarks/requirements-django61.txt`` with the first
Python >= 3.12 found (``BENCH_PYTHON``, then ``python3.14`` ... ``python3.12``
on ``PATH``, then pyenv's versions). A peer that cannot be built (no such
Python, no network, a failed install) is reported as not measured, with the
reason; it never fails the suite. ``python -m benchmarks.peers`` builds it.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import procs

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "raw_thread"
PIP_TIMEOUT = 900  # seconds; a cold install of Django + psycopg takes well under a minute


@dataclass(frozen=True)
class Venv:
    """A virtualenv the suite builds for peers that need another Python or conflicting packages."""

    name: str
    min_python: tuple[int, int]
    requirements: Path

    @property
    def path(self) -> Path:
        return ROOT / "benchmarks" / f".venv-{self.name}"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


DJANGO61 = Venv("django61", (3, 12), ROOT / "benchmarks" / "requirements-django61.txt")
VENVS = (DJANGO61,)


@dataclass(frozen=True)
class Isolated:
    """An implementation measured in a child process; ``venv`` None means this interpreter."""

    module: str
    cls: str
    venv: Venv | None = None
    backends: tuple[str, ...] = ("sqlite", "postgresql")


ISOLATED = {
    "orm_wal": Isolated("benchmarks.impl_orm", "OrmWalImpl", backends=("sqlite",)),
    "django61": Isolated("benchmarks.impl_django61", "Django61Impl", DJANGO61),
    "django_async_backend": Isolated(
        "benchmarks.impl_django_async", "DjangoAsyncBackendImpl", DJANGO61, backends=("postgresql",)
    ),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Building the virtualenv
# --------------------------------------------------------------------------


def _version_of(python: str) -> tuple[int, int] | None:
    """(major, minor) of a working interpreter with sqlite3 and venv, else None (e.g. a pyenv shim)."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys, sqlite3, venv; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python(minimum: tuple[int, int]) -> str | None:
    """The first interpreter at least ``minimum`` that actually runs."""
    candidates = [os.environ.get("BENCH_PYTHON", "")]
    candidates += [shutil.which(f"python3.{m}") or "" for m in range(14, minimum[1] - 1, -1)]
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(
        glob.glob(os.path.join(pyenv, "versions", "3.*", "bin", "python3")), reverse=True
    )
    for python in filter(None, candidates):
        version = _version_of(python)
        if version is not None and version >= minimum:
            return python
    return None


def _stamp(venv: Venv) -> str:
    return hashlib.sha256(venv.requirements.read_bytes()).hexdigest()


def ensure_venv(venv: Venv) -> tuple[Path | None, str | None]:
    """(python of the built virtualenv, None) or (None, why it cannot be built)."""
    stamp = venv.path / ".stamp"
    if venv.python.exists() and stamp.exists() and stamp.read_text() == _stamp(venv):
        return venv.python, None
    base = find_python(venv.min_python)
    if base is None:
        need = ".".join(map(str, venv.min_python))
        return None, (f"no Python >= {need} found (set BENCH_PYTHON, or put python{need} on PATH)")
    log(f"building {venv.path} with {base} from {venv.requirements.name}")
    steps = [
        [base, "-m", "venv", "--clear", str(venv.path)],
        [
            str(venv.python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(venv.requirements),
        ],
    ]
    for cmd in steps:
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return None, f"`{shlex.join(cmd[:4])} ...` did not finish in {PIP_TIMEOUT} s"
        if proc.returncode != 0:
            errors = [ln for ln in proc.stderr.splitlines() if "ERROR" in ln or "Error" in ln]
            detail = (errors or proc.stderr.strip().splitlines() or ["no output"])[-1]
            return None, f"building {venv.path.name} failed: {detail.strip()}"
    stamp.write_text(_stamp(venv))
    return venv.python, None


# --------------------------------------------------------------------------
# Running an isolated implementation and merging its results
# --------------------------------------------------------------------------


def child_command(
    python: str | Path, name: str, backend: str, passthrough: list[str], out: str
) -> list[str]:
    """The child's command line: the same sizes and runs, one implementation plus the floor."""
    return [
        str(python),
        "-m",
        "benchmarks.run",
        *passthrough,
        "--backend",
        backend,
        "--isolated",
        name,
        "--json-out",
        out,
    ]


def run_isolated(
    name: str, backend: str, passthrough: list[str], timeout: float = 6 * 3_600
) -> dict[str, Any]:
    """Measure ``name`` (with the floor) in a child process; a backend result, or ``{"not_run": why}``.

    A child still running after ``timeout`` seconds is stopped (with anything
    it started) and reported as not measured: a hung peer cannot hang the suite.
    """
    spec = ISOLATED[name]
    python: Path | str = sys.executable
    if spec.venv is not None:
        built, why = ensure_venv(spec.venv)
        if built is None:
            return {"not_run": why}
        python = built
    fd, out = tempfile.mkstemp(suffix=".json", prefix=f"orm-bench-{name}-")
    os.close(fd)
    try:
        cmd = child_command(python, name, backend, passthrough, out)
        log(f"$ {shlex.join(cmd)}")
        try:
            code = procs.run(cmd, timeout, cwd=ROOT)
        except procs.ChildTimeout as exc:
            return {"not_run": str(exc)}
        if code != 0:
            return {
                "not_run": f"its process ({Path(str(python)).parent.parent.name}) "
                f"exited with {code}"
            }
        with open(out) as f:
            result: dict[str, Any] = json.load(f)[backend]
        return result
    finally:
        os.remove(out)


def aux_floor(name: str) -> str:
    """The key under which the floor measured beside ``name`` is kept (never a column)."""
    return f"{FLOOR}@{name}"


def merge(parent: dict[str, Any], name: str, child: dict[str, Any]) -> None:
    """Add an isolated implementation's results (and its own floor's) to ``parent`` in place.

    Operations are matched by key; the child's floor is stored as
    ``raw_thread@<name>`` and ``floor_of`` tells the report to take that
    implementation's ratios against it.
    """
    if "not_run" in child or child.get("skipped"):
        parent["unavailable"][name] = child.get("not_run") or child.get("skipped")
        return
    if name not in child["implementations"]:
        parent["unavailable"][name] = child.get("unavailable", {}).get(name, "not measured")
        return
    aux = aux_floor(name)
    parent["implementations"].append(name)
    parent.setdefault("floor_of", {})[name] = aux
    for key in ("labels", "kinds", "notes"):
        if name in child.get(key, {}):
            parent[key][name] = child[key][name]
    parent.setdefault("sqlite_settings", {}).update(
        {k: v for k, v in child.get("sqlite_settings", {}).items() if k == name}
    )
    parent.setdefault("environments", {})[name] = child.get("environment", {})
    child_ops = {op["key"]: op for op in child["operations"]}
    for op in parent["operations"]:
        c = child_ops.get(op["key"])
        if c is None:
            continue
        op["runs"][name] = c["runs"].get(name, [])
        op["runs"][aux] = c["runs"].get(FLOOR, [])
        for impl, errs in c.get("errors", {}).items():
            op["errors"].setdefault(aux if impl == FLOOR else impl, []).extend(errs)
        for key, per_impl in c.get("extra", {}).items():
            if name in per_impl:
                op["extra"].setdefault(key, {})[name] = per_impl[name]


def wanted(backend: str, only: list[str] | None) -> tuple[list[str], dict[str, str]]:
    """The isolated implementations to run on ``backend`` (all, or those named in ``--only``),
    and why the others of the selection are not run there."""
    run, skip = [], {}
    for n, spec in ISOLATED.items():
        if only is not None and n not in only:
            continue
        if backend in spec.backends:
            run.append(n)
        else:
            skip[n] = f"runs on {' and '.join(spec.backends)} only"
    return run, skip


def main() -> int:
    """``python -m benchmarks.peers``: build every peer virtualenv now (``make bench-peers``)."""
    status = 0
    for venv in {spec.venv for spec in ISOLATED.values() if spec.venv is not None}:
        python, why = ensure_venv(venv)
        if python is None:
            log(f"{venv.path.name}: not built: {why}")
            status = 1
        else:
            log(f"{venv.path.name}: ready ({python})")
    return status


if __name__ == "__main__":
    sys.exit(main())
