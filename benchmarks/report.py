"""Results: medians, per-run ratios vs the floor, JSON and the Markdown tables.

``docs/benchmarks.md`` keeps one section per backend between
``<!-- bench:<backend>:begin -->`` and ``<!-- bench:<backend>:end -->``
markers; a run replaces only the sections of the backends it measured.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import sqlite3
import statistics
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import chart

FLOOR = "raw_thread"
ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
PACKAGES = (
    "orm",
    "asgiref",
    "Django",
    "django-async-backend",
    "tortoise-orm",
    "SQLAlchemy",
    "aiosqlite",
    "psycopg",
    "psycopg-binary",
    "psycopg-pool",
    "asyncpg",
)
# Column order of the tables.
ORDER = (
    "orm",
    "orm_wal",
    "django",
    "django61",
    "django_async_backend",
    "tortoise",
    "sqlalchemy",
    "raw_async",
    "raw_thread",
)


def packages() -> dict[str, str]:
    """Installed versions of the packages the suite compares (those present)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def environment() -> dict[str, Any]:
    """Interpreter, virtualenv, SQLite library and packages of this process (isolated peers)."""
    return {
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "venv": Path(sys.prefix).name,
        "packages": packages(),
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = packages()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
    }


def summarize(backend_result: dict[str, Any]) -> None:
    """Add medians and per-run ratios vs the floor to one backend's raw results (in place).

    An implementation measured in a process of its own is divided by the
    floor measured beside it (``floor_of``), so every ratio is a same-run ratio.
    """
    ops = backend_result["operations"]
    floor_of = backend_result.get("floor_of", {})
    for op in ops:
        per_impl = op["runs"]  # impl -> [seconds per unit or None, one per run]
        op["median"], op["ratios"], op["median_ratio"] = {}, {}, {}
        for impl, values in per_impl.items():
            floor = per_impl.get(floor_of.get(impl, FLOOR), [])
            ok = [v for v in values if v is not None]
            op["median"][impl] = statistics.median(ok) if ok else None
            ratios = [
                v / f if v is not None and f else None
                for v, f in zip(values, floor + [None] * len(values), strict=False)
            ]
            op["ratios"][impl] = ratios
            good = [r for r in ratios if r is not None]
            op["median_ratio"][impl] = statistics.median(good) if good else None
        for key, per_impl_extra in op.get("extra", {}).items():
            op.setdefault("extra_median", {})[key] = {
                impl: statistics.median([v for v in vals if v is not None])
                if any(v is not None for v in vals)
                else None
                for impl, vals in per_impl_extra.items()
            }


def write_json(result: dict[str, Any], stamp: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    us = seconds * 1e6
    if us >= 10_000:
        return f"{us / 1000:.1f} ms"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    if us >= 100:
        return f"{us:.0f} µs"
    if us >= 10:
        return f"{us:.1f} µs"
    return f"{us:.2f} µs"


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}×"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    return f"{n / 1024:.0f} KiB"


def _impls(b: dict[str, Any]) -> list[str]:
    present = list(b["implementations"])
    return [i for i in ORDER if i in present] + [i for i in present if i not in ORDER]


def _cell(op: dict[str, Any], impl: str) -> str:
    if impl in op.get("errors", {}) and op["median"].get(impl) is None:
        return "**failed**"
    t = op["median"].get(impl)
    if t is None:
        return "—"
    if impl == FLOOR:
        return fmt_time(t)
    return f"{fmt_time(t)} ({fmt_ratio(op['median_ratio'].get(impl))})"


def backend_markdown(
    name: str, b: dict[str, Any], meta: dict[str, Any], chart: str | None = None
) -> str:
    """One backend's section; ``chart`` is the chart's path relative to the page, if drawn."""
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(name, name)
    lines = [f"## {title}", ""]
    lines += _meta_lines(b, meta)
    if b.get("skipped"):
        lines += [f"**Not measured:** {b['skipped']}", ""]
        return "\n".join(lines)
    if chart:
        lines += [
            f"![{title}: each implementation's median time relative to the floor, "
            f"per operation (log scale)]({chart})",
            "",
        ]
    impls = _impls(b)
    labels = b["labels"]
    lines += [
        "Median time per call or per row over the runs; in parentheses the median of the "
        f"per-run ratios to the floor ({labels.get(FLOOR, FLOOR)}; for an implementation "
        "run in a process of its own, to the floor run beside it there). Lower is better.",
        "",
        "| operation | unit | " + " | ".join(labels.get(i, i) for i in impls) + " |",
        "|---|---|" + "---|" * len(impls),
    ]
    for op in b["operations"]:
        cells = [_cell(op, i) for i in impls]
        lines.append(f"| {op['title']} | per {op['unit']} | " + " | ".join(cells) + " |")
        if op["key"] == "aiterator" and "peak_bytes" in op.get("extra_median", {}):
            peaks = op["extra_median"]["peak_bytes"]
            lines.append(
                "| ↳ peak memory (tracemalloc) | per run | "
                + " | ".join(fmt_bytes(peaks.get(i)) for i in impls)
                + " |"
            )
        if op["key"] == "concurrent_aget" and "ops_per_second" in op.get("extra_median", {}):
            tput = op["extra_median"]["ops_per_second"]
            lines.append(
                "| ↳ throughput | aget/s | "
                + " | ".join("—" if tput.get(i) is None else f"{tput[i]:,.0f}" for i in impls)
                + " |"
            )
    lines += ["", *_targets(b), "", *_per_run(b, impls), ""]
    notes = _notes(b, meta)
    if notes:
        lines += ["Notes:", "", *notes, ""]
    return "\n".join(lines)


def _meta_lines(b: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    server = f"; server: {b['server']}" if b.get("server") else ""
    kind = "**quick run** (`--quick`, reduced sizes)" if meta["quick"] else "full run"
    lines = [f"- {kind}, {meta['runs']} runs, {meta['date']}", *machine_lines(meta, server)]
    settings = sqlite_settings_line(b)
    if settings:
        lines.insert(len(lines) - 1, settings)  # before the blank line that ends the list
    return lines


def sqlite_settings_line(b: dict[str, Any]) -> str | None:
    """What each implementation's SQLite connection really ran with, grouped by setting."""
    read = b.get("sqlite_settings") or {}
    if not read:
        return None
    groups: dict[str, list[str]] = {}
    for impl in _impls(b):
        if impl in read:
            groups.setdefault(read[impl], []).append(b["labels"].get(impl, impl))
    parts = [f"`{setting}` ({', '.join(names)})" for setting, names in groups.items()]
    return (
        "- SQLite settings, read back from each implementation's own connection "
        "after setup: " + "; ".join(parts)
    )


def machine_lines(meta: dict[str, Any], server: str) -> list[str]:
    """The command, machine, Python and package lines under a results table."""
    m = meta["machine"]
    pk = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    end = f", at end {' '.join(map(str, m['loadavg_end']))}" if m.get("loadavg_end") else ""
    return [
        f"- command: `{meta['command']}`",
        f"- machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['platform']}; "
        f"load average at start {' '.join(map(str, m.get('loadavg', [])))}{end}",
        f"- Python {m['python']}, SQLite library {m['sqlite']}{server}",
        f"- packages: {pk}",
        "",
    ]


def _targets(b: dict[str, Any]) -> list[str]:
    if "orm" not in b["implementations"]:
        return []
    peers = [i for i in b["implementations"] if b["kinds"].get(i) == "peer"]
    lines = [
        "Targets today for `orm` (issue 19): the median ratio to the floor must not exceed "
        "the target (≤ 1.15× for a single call, ≤ 1.5× per row with model instances, "
        "≤ 1.2× per row for `values_list` and bulk create, ≤ 1.1× for a wrapped transaction). "
        '"Fastest" compares the median ratios to the floor (ratios are taken within a run, '
        "so they share its noise; medians of raw times can disagree on a loaded machine):",
        "",
        "| operation | orm | target | met | best peer | orm fastest |",
        "|---|---|---|---|---|---|",
    ]
    for op in b["operations"]:
        ratios = op["median_ratio"]
        r = ratios.get("orm")
        target = op.get("target")
        met = "—" if r is None or target is None else ("yes" if r <= target else "**no**")
        peer_r = {p: ratios[p] for p in peers if ratios.get(p) is not None}
        best = min(peer_r, key=peer_r.__getitem__) if peer_r else None
        fastest = "—" if r is None or best is None else ("yes" if r < peer_r[best] else "**no**")
        best_txt = (
            "—" if best is None else f"{b['labels'].get(best, best)} {fmt_ratio(peer_r[best])}"
        )
        lines.append(
            f"| {op['title']} | {fmt_ratio(r)} | "
            f"{'—' if target is None else f'≤ {target}×'} | {met} | {best_txt} | {fastest} |"
        )
    return lines


def _per_run(b: dict[str, Any], impls: list[str]) -> list[str]:
    shown = [i for i in impls if i != FLOOR]
    lines = [
        "Per-run ratios to the floor (run 1 / run 2 / ...):",
        "",
        "| operation | " + " | ".join(b["labels"].get(i, i) for i in shown) + " |",
        "|---|" + "---|" * len(shown),
    ]
    for op in b["operations"]:
        cells = []
        for i in shown:
            rs = op["ratios"].get(i) or []
            cells.append(" / ".join("×" if r is None else f"{r:.2f}" for r in rs) or "—")
        lines.append(f"| {op['key']} | " + " | ".join(cells) + " |")
    return lines


def _notes(b: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    out = [f"- {b['labels'].get(i, i)}: {n}" for i, ns in b.get("notes", {}).items() for n in ns]
    out += _isolated_notes(b, meta)
    out += [f"- {i} not measured: {why}" for i, why in b.get("unavailable", {}).items()]
    for op in b["operations"]:
        for impl, errs in op.get("errors", {}).items():
            out.append(
                f"- {impl} / {op['key']}: {errs[0]}"
                + (f" (and {len(errs) - 1} more)" if len(errs) > 1 else "")
            )
    return out


def _isolated_notes(b: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """Where each isolated implementation ran, and its floor there beside the one here."""
    out = []
    ours = meta.get("machine", {}).get("packages", {})
    for impl, aux in b.get("floor_of", {}).items():
        env = b.get("environments", {}).get(impl, {})
        # Only what differs from the parent's packages line above.
        pk = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items() if ours.get(k) != v)
        pk = f"; {pk}" if pk else "; the same packages"
        aget = next((op for op in b["operations"] if op["key"] == "aget"), None)
        floors = ""
        if aget is not None:
            floors = (
                f"; the floor's `aget` there {fmt_time(aget['median'].get(aux))}, "
                f"here {fmt_time(aget['median'].get(FLOOR))}"
            )
        out.append(
            f"- {b['labels'].get(impl, impl)}: measured in a process of its own "
            f"(`{env.get('venv', '?')}`: Python {env.get('python', '?')}, SQLite "
            f"{env.get('sqlite', '?')}{pk}) beside its own run of the floor, "
            f"which its ratios are to{floors}."
        )
    return out


HEADER = """# Benchmarks

`orm` against Django's async ORM (5.2, and the newest release, 6.1, with its
PostgreSQL pool), `django-async-backend` (Django 6.1 on true async psycopg
connections, PostgreSQL only), Tortoise ORM, SQLAlchemy's asyncio ORM and two
floors on the same workload (issues 7 and 19): the raw sync driver on one
dedicated thread reached through `asgiref.sync_to_async` (the floor `orm`'s
design allows; every ratio is against it) and the native async driver.

How it works (`benchmarks/`):

- Every implementation gets a fresh database per run (a SQLite file in a temp
  dir; a PostgreSQL schema of its own) and the same generated rows.
- SQLite fairness: every client, `orm` included, runs with the same settings,
  `journal_mode=delete` and `synchronous=full` (a rollback journal and an
  fsync at every commit; `benchmarks/databases.py` `SQLITE_PRAGMAS`), foreign
  keys on. Each implementation's own connection is asked after setup what it
  really runs with, and the answer is printed under the SQLite table.
  `orm`'s default for file databases (WAL, `synchronous=NORMAL`) is shown as
  an extra column, "orm (WAL default)", not as the comparison: it is divided
  by the same floor (delete journal, full sync), so it shows what the default
  buys, and the targets table ignores it.
- Implementations are interleaved inside each run: every operation runs in
  blocks (10 calls, 5 transactions, 1 update, or one pass over the rows), block 1 of every
  implementation, then block 2 of every implementation, and so on, the order
  rotating between runs, so they share the machine's noise. A run's value is
  the median over its blocks of the time per call or per row.
- Peers that cannot share the process (see the next section) run after the
  others, each in a child process of its own together with the floor, with
  the same sizes, seeds and number of runs; their ratios are to the floor
  measured beside them in that process, so every ratio in the table is a
  same-run ratio. The notes under a table say where each ran and compare the
  two floors.
- Each operation is warmed up, timed, then verified (row counts, sums, values
  read back by the harness's own connection), so a broken implementation
  cannot look fast; a failed check is reported ("failed"), not timed.
- Tables show the median over the runs (at least 3: `--runs` refuses fewer)
  and, in parentheses, the median of the per-run ratios to the floor. The
  floor returns the driver's raw tuples (on SQLite a price is a float and a
  date a string); ORMs build typed values and instances. Peak memory of
  `aiterator()` is measured by tracemalloc (all threads) in a second,
  untimed pass. Raw JSON goes to `benchmarks/results/<timestamp>.json` (not
  committed). Under each table: the date, the command, the machine (CPU
  count and model, kernel, load average at start), the Python, SQLite and
  PostgreSQL versions and the versions of every compared package.
- Thread hops are sensitive to CPU contention: on a shared 2-CPU machine
  absolute times move a lot between runs (see the load average); the ratios,
  taken within a run, move much less.

## How the suite builds its peers

Django 5.2, Tortoise, SQLAlchemy, aiosqlite, asyncpg and psycopg come from
the `bench` extra (`pip install -e '.[bench]'`) and run in the suite's own
process. Three implementations run in processes of their own
(`benchmarks/peers.py`):

- **Django 6.1** (`impl_django61.py`; `OPTIONS={"pool": True}` on
  PostgreSQL, psycopg_pool with Django's defaults) and
  **django-async-backend** (`impl_django_async.py`; `async_objects`,
  `async_atomic`, its `AsyncConnectionPool`) need Python >= 3.12 and
  conflict with Django 5.2, so they run in a virtualenv of their own,
  `benchmarks/.venv-django61`, built from
  `benchmarks/requirements-django61.txt` the first time a run needs it (or
  with `make bench-peers`), and rebuilt when that file changes. The Python
  is the first of `BENCH_PYTHON`, `python3.14` ... `python3.12` on `PATH`
  and pyenv's installed versions that actually runs (a pyenv shim without a
  version does not).
- **orm (WAL default)** (SQLite only) runs with the suite's own interpreter,
  apart only because `orm.configure()` is process-wide.

A peer that cannot be built (no Python >= 3.12, no network for pip, a failed
install) or whose process fails is listed under the table as not measured,
with the reason; the rest of the suite runs as usual.

## Running it

`make bench` (full: 5 runs, 20,000 books, 100,000-row iterator, then the
curves up to 1M rows) or `make bench-quick` (3 runs, reduced sizes, curves up
to 100k rows), or directly:
`python -m benchmarks.run [--quick] [--backend sqlite|postgresql|both] [--runs N] [--only a,b] [--only-curves | --no-curves] [--curve-sizes 1k,10k] [--child-timeout SECONDS]`.
Every process the suite starts (one per backend, one per isolated peer, and
uvicorn with its workers in the HTTP benchmark) runs in a process group of
its own with a deadline (`--child-timeout`, default 6 hours, quick 1 hour):
one that does not finish in time is stopped together with everything it
started and reported as not measured, so a hung peer cannot hang the suite.
PostgreSQL is reached at `BENCH_POSTGRES_URL` (default
`postgresql://postgres@127.0.0.1:5432/test`); each implementation works in a
schema of its own that is dropped afterwards. `python -m benchmarks.profile_orm`
prints cProfile output for `orm`'s `aget` and `async for` paths.

The last section, [HTTP load](#http-load-example-app-under-uvicorn), serves the
example app of issue 6 with uvicorn and measures requests per second and
latency with and without `ConnectionScopeMiddleware`, under one and two
uvicorn workers, against the same routes on Django's async ORM, Tortoise and
`django-async-backend`: `make bench-http` or `python -m benchmarks.http_load`.
Before it, [How cost grows](#how-cost-grows) shows the curves.

The charts: each backend's section starts with a chart the suite draws
itself (`benchmarks/chart.py`, matplotlib from the `bench` extra) from the
same results as its table, written to `docs/img/benchmarks-<backend>.svg`:
one bar per implementation and operation, the median ratio to the floor on a
log scale, growing from the floor's line at 1× (left of it is faster than the
floor). `python -m benchmarks.run --render benchmarks/results/<file>.json`
redraws the tables and charts from saved results without measuring.

The numbers now on this page come from three quick runs on 2026-12-07, each
dated and with its command under its table: the operation tables from
`python -m benchmarks.run --quick --backend both --no-curves` (3 runs,
reduced sizes), the curves from `python -m benchmarks.run --quick --backend
both --only-curves` (up to 100k rows), and the HTTP sections from `python -m
benchmarks.http_load --quick`; the operation tables and the HTTP load were
measured at the same time. The machine's 2 CPUs were shared with several
other engineers' test suites (load average 10 to 17, under each table), so
only quick runs were made on it and absolute times are several times a quiet
machine's; the ratios, taken within a run, are steadier. Use `make bench` on
a quiet machine for numbers to quote.

"""


def put_section(text: str, name: str, body: str, after: tuple[str, ...] = ()) -> str:
    """Replace the ``bench:<name>`` block of ``text``, or add it after the first of ``after``
    blocks present (at the end when none is)."""
    block = f"<!-- bench:{name}:begin -->\n{body}\n<!-- bench:{name}:end -->"
    pattern = re.compile(rf"<!-- bench:{name}:begin -->.*?<!-- bench:{name}:end -->", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text)
    for other in after:
        i = text.find(f"<!-- bench:{other}:end -->")
        if i >= 0:
            i += len(f"<!-- bench:{other}:end -->")
            return text[:i] + "\n\n" + block + text[i:]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def update_doc(result: dict[str, Any], doc: Path = DOC) -> None:
    """Replace (or add) the sections of the measured backends in ``docs/benchmarks.md``.

    The operation tables and charts are left alone by an ``--only-curves`` run;
    each backend's curves (table and PNG) are written whenever it measured them.
    """
    from benchmarks import curves_report  # it imports this module's formatting

    text = doc.read_text() if doc.exists() else HEADER
    if not text.startswith("# Benchmarks"):
        text = HEADER + "\n" + text
    meta = result["meta"]
    for name in ("sqlite", "postgresql"):
        if name not in result["backends"]:
            continue
        b = result["backends"][name]
        if not meta.get("only_curves"):
            # The chart sits next to the page (docs/img/), drawn from the same results.
            drawn = chart.write_chart(name, b, meta, doc.parent / "img" / f"benchmarks-{name}.svg")
            section = backend_markdown(
                name, b, meta, chart=f"img/benchmarks-{name}.svg" if drawn else None
            )
            text = put_section(text, name, section)
        if b.get("curves") or b.get("skipped"):
            png = curves_report.write_plot(name, b, meta, doc.parent / "img" / f"curves-{name}.png")
            section = curves_report.markdown(
                name, b, meta, plot=f"img/curves-{name}.png" if png else None
            )
            text = put_section(
                text, f"curves-{name}", section, after=("curves-sqlite", "postgresql", "sqlite")
            )
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def now_stamp() -> tuple[str, str]:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y-%m-%d %H:%M UTC")
