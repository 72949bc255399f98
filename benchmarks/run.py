"""Run the benchmark suite: ``python -m benchmarks.run [--quick] [--backend ...] [--runs N]``.

A backend's run measures the operation table, then the curves of
``benchmarks/curves.py`` (how cost grows with rows and with concurrent
tasks); ``--only-curves`` measures just the curves, ``--no-curves`` skips them.

Each backend runs in a process of its own when ``--backend both`` is given
(Django's settings and Tortoise's registry are process-global). Within a
backend, the implementations that cannot share the process (Django 6.1 and
django-async-backend in their own virtualenv, ``orm`` with its WAL default)
run afterwards in child processes beside the floor (``benchmarks/peers.py``).
The parent merges the results, writes ``benchmarks/results/<timestamp>.json``
and updates ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import importlib
import json
import os
import shlex
import sys
import tempfile
import traceback
from typing import Any

from benchmarks import curves, curves_report, peers, procs, report
from benchmarks.databases import Session, pg_server_version, postgres_unreachable
from benchmarks.impl_base import Implementation
from benchmarks.operations import RunData, VerificationError, operations
from benchmarks.workload import FULL, QUICK, Sizes

# name -> (module, class); imported lazily so a missing peer only skips itself.
IMPLEMENTATIONS = {
    "orm": ("benchmarks.impl_orm", "OrmImpl"),
    "django": ("benchmarks.impl_django", "DjangoImpl"),
    "tortoise": ("benchmarks.impl_tortoise", "TortoiseImpl"),
    "sqlalchemy": ("benchmarks.impl_sqlalchemy", "SQLAlchemyImpl"),
    "raw_async": ("benchmarks.impl_raw", "RawAsyncImpl"),
    "raw_thread": ("benchmarks.impl_raw", "RawThreadImpl"),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


MIN_RUNS = 3  # the tables show medians over runs: fewer than 3 is not a median worth quoting


def registry(isolated: str | None) -> dict[str, tuple[str, str]]:
    """This process's implementations: the in-process ones, or one isolated peer and the floor."""
    if isolated is None:
        return IMPLEMENTATIONS
    spec = peers.ISOLATED[isolated]
    return {isolated: (spec.module, spec.cls), "raw_thread": IMPLEMENTATIONS["raw_thread"]}


def load_implementations(
    backend: str,
    only: list[str] | None,
    isolated: str | None = None,
) -> tuple[list[type[Implementation]], dict[str, str]]:
    classes, unavailable = [], {}
    for name, (module, cls_name) in registry(isolated).items():
        if only and name not in only:
            continue
        try:
            cls = getattr(importlib.import_module(module), cls_name)
        except ImportError as exc:
            unavailable[name] = f"cannot import {module}: {exc} (pip install -e '.[bench]')"
            continue
        reason = cls.unavailable(backend)
        if reason:
            unavailable[name] = reason
        else:
            classes.append(cls)
    return classes, unavailable


async def run_backend(
    backend: str,
    sizes: Sizes,
    runs: int,
    only: list[str] | None,
    isolated: str | None = None,
    curve_config: curves.CurveConfig | None = None,
) -> dict[str, Any]:
    """One backend: ``runs`` runs of the operations (``runs`` may be 0), then the curves if asked."""
    session = Session(backend)
    result: dict[str, Any] = {
        "implementations": [],
        "labels": {},
        "kinds": {},
        "notes": {},
        "unavailable": {},
        "operations": [],
        "sqlite_settings": {},
    }
    if backend == "postgresql":
        reason = postgres_unreachable(session.pg_url)
        if reason:
            result["skipped"] = reason
            return result
        result["server"] = pg_server_version(session.pg_url)
    classes, result["unavailable"] = load_implementations(backend, only, isolated)
    impls = [cls(session.target(cls.name)) for cls in classes]
    ops = operations(sizes)
    result["operations"] = [
        {
            "key": op.key,
            "title": op.title,
            "unit": op.unit,
            "target": op.target,
            "runs": {i.name: [] for i in impls},
            "errors": {},
            "extra": {},
        }
        for op in ops
    ]
    for impl in impls:
        result["implementations"].append(impl.name)
        result["labels"][impl.name] = impl.label
        result["kinds"][impl.name] = impl.kind
        if impl.notes:
            result["notes"][impl.name] = list(impl.notes)
    try:
        for run in range(runs):
            await _one_run(backend, sizes, run, runs, impls, ops, result)
        if curve_config is not None and isolated is None:
            # The same instances, on fresh databases: only those that share this process.
            chosen = [i for i in impls if i.name in curves.IMPLS]
            result["curves"] = await curves.Curves(curve_config, chosen, log).run()
    finally:
        session.cleanup()
    return result


async def _one_run(
    backend: str,
    sizes: Sizes,
    run: int,
    runs: int,
    impls: list[Implementation],
    ops: list[Any],
    result: dict[str, Any],
) -> None:
    # Rotate the order every run so no implementation always goes first.
    order = impls[run % len(impls) :] + impls[: run % len(impls)]
    data = RunData(sizes, seed=1000 + run)
    ready: dict[str, bool] = {}
    for impl in order:
        try:
            impl.target.reset()
            await impl.setup()
            await impl.seed_authors(data.authors)
            if backend == "sqlite" and run == 0:
                await _read_sqlite_settings(impl, result)
            ready[impl.name] = True
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            ready[impl.name] = False
            _record_error(result, None, impl.name, f"setup failed: {type(exc).__name__}: {exc}")
            log(traceback.format_exc())
    for op, rec in zip(ops, result["operations"], strict=True):
        values = await _run_operation(op, rec, data, [i for i in order if ready[i.name]], result)
        line = []
        for impl in order:
            rec["runs"][impl.name].append(values.get(impl.name))
            line.append(f"{impl.name} {report.fmt_time(values.get(impl.name))}")
        for per_impl in rec["extra"].values():  # keep extra lists aligned with runs
            for vals in per_impl.values():
                vals.extend([None] * (run + 1 - len(vals)))
        log(f"[{backend} run {run + 1}/{runs}] {op.key:<16} " + "  ".join(line))
    for impl in order:
        try:
            if ready[impl.name]:
                await impl.teardown()
        except Exception as exc:  # noqa: BLE001
            _record_error(result, None, impl.name, f"teardown failed: {type(exc).__name__}: {exc}")
        impl.target.close_verifier()


async def _read_sqlite_settings(impl: Implementation, result: dict[str, Any]) -> None:
    """Ask the implementation's own connection what it runs with (shown under the table)."""
    try:
        settings = await impl.sqlite_settings()
    except Exception as exc:  # noqa: BLE001 - a failed read-back must not cost the measurement
        settings = f"unknown ({type(exc).__name__}: {exc})"
    if settings is not None:
        result["sqlite_settings"][impl.name] = settings


async def _run_operation(
    op: Any, rec: dict[str, Any], data: RunData, impls: list[Implementation], result: dict[str, Any]
) -> dict[str, float]:
    """Prepare every implementation, run the blocks round-robin, then verify each."""
    gc.collect()
    trials, failed = {}, set()

    async def guarded(impl: Implementation, step: Any) -> None:
        if impl.name in failed:
            return
        try:
            await step()
        except VerificationError as exc:
            failed.add(impl.name)
            _record_error(result, rec, impl.name, f"wrong result: {exc}")
        except Exception as exc:  # noqa: BLE001 - report it, keep measuring the others
            failed.add(impl.name)
            _record_error(result, rec, impl.name, f"{type(exc).__name__}: {exc}")
            log(traceback.format_exc())

    for impl in impls:
        trials[impl.name] = op.trial(data, impl, impl.target)
        await guarded(impl, trials[impl.name].prepare)
    for i in range(max((t.blocks for t in trials.values()), default=0)):
        for impl in impls:
            trial = trials[impl.name]
            if i < trial.blocks:
                await guarded(impl, lambda trial=trial, i=i: trial.block(i))
    values: dict[str, float] = {}
    for impl in impls:
        trial = trials[impl.name]

        async def finish(trial: Any = trial, name: str = impl.name) -> None:
            m = await trial.finish()
            values[name] = m.seconds
            for key, v in m.extra.items():
                rec["extra"].setdefault(key, {}).setdefault(name, [])
                vals = rec["extra"][key][name]
                vals.extend([None] * (len(rec["runs"][name]) - len(vals)))
                vals.append(v)

        await guarded(impl, finish)
    return values


def _record_error(result: dict[str, Any], rec: dict[str, Any] | None, impl: str, msg: str) -> None:
    log(f"  !! {impl}: {msg}")
    recs = [rec] if rec is not None else result["operations"]
    for r in recs:
        r["errors"].setdefault(impl, []).append(msg)


CHILD_TIMEOUT = {"quick": 3_600, "full": 6 * 3_600}  # seconds per child process


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    p.add_argument(
        "--quick",
        action="store_true",
        help="reduced sizes, 3 runs, curves up to 100k rows (a few minutes)",
    )
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--runs", type=int, help="runs per backend (default 5, quick 3)")
    p.add_argument(
        "--only",
        help="comma-separated implementations (debugging; the floor raw_thread is always added)",
    )
    curve = p.add_mutually_exclusive_group()
    curve.add_argument(
        "--only-curves",
        action="store_true",
        help="measure only the curves (rows, memory, concurrency), not the "
        "operation table nor the isolated peers",
    )
    curve.add_argument("--no-curves", action="store_true", help="measure only the operation table")
    p.add_argument(
        "--curve-sizes",
        metavar="N,N,...",
        help="row counts of the curves, e.g. 1k,10k,100k,1M (default: those four; "
        "quick: up to 100k)",
    )
    p.add_argument(
        "--child-timeout",
        type=float,
        metavar="SECONDS",
        help="stop a backend's or a peer's process (and what it started) after this "
        f"long (default {CHILD_TIMEOUT['full']} s, quick {CHILD_TIMEOUT['quick']} s)",
    )
    p.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument(
        "--render",
        metavar="JSON",
        help="measure nothing: rewrite the sections of "
        "docs/benchmarks.md from a saved results file",
    )
    p.add_argument("--json-out", help=argparse.SUPPRESS)  # child process of --backend both
    p.add_argument("--isolated", choices=sorted(peers.ISOLATED), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.runs is not None and args.runs < MIN_RUNS:
        p.error(f"--runs must be at least {MIN_RUNS}: the tables show medians over runs")
    if args.curve_sizes is not None:
        try:
            args.curve_sizes = curves.parse_sizes(args.curve_sizes)
        except ValueError as exc:
            p.error(f"--curve-sizes: {exc}")
    if args.child_timeout is None:
        args.child_timeout = float(CHILD_TIMEOUT["quick" if args.quick else "full"])
    elif args.child_timeout <= 0:
        p.error("--child-timeout must be positive")
    return args


def curve_config(args: argparse.Namespace) -> curves.CurveConfig | None:
    """The curves this invocation measures, or None (``--no-curves``, an isolated peer)."""
    if args.no_curves or args.isolated:
        return None
    config = curves.QUICK_CURVES if args.quick else curves.FULL_CURVES
    if args.curve_sizes:
        config = dataclasses.replace(config, sizes=args.curve_sizes)
    return config


def _command(args: argparse.Namespace) -> str:
    parts = ["python -m benchmarks.run"]
    if args.quick:
        parts.append("--quick")
    parts.append(f"--backend {args.backend}")
    if args.runs:
        parts.append(f"--runs {args.runs}")
    if args.only:
        parts.append(f"--only {args.only}")
    if args.only_curves:
        parts.append("--only-curves")
    if args.no_curves:
        parts.append("--no-curves")
    if args.curve_sizes:
        parts.append("--curve-sizes " + ",".join(curves.fmt_rows(n) for n in args.curve_sizes))
    return " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        with open(args.render) as f:
            saved = json.load(f)
        for b in saved["backends"].values():
            if not b.get("skipped"):
                report.summarize(b)
        report.update_doc(saved)
        log(f"updated {report.DOC} from {args.render}")
        return 0
    sizes = QUICK if args.quick else FULL
    runs = 0 if args.only_curves else args.runs or (3 if args.quick else 5)
    config = curve_config(args)
    only = None
    if args.only:
        only = sorted(set(args.only.split(",")) | {"raw_thread"})
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    stamp, date = report.now_stamp()
    meta = {
        "date": date,
        "command": _command(args),
        "quick": args.quick,
        "runs": runs,
        "only_curves": args.only_curves,
        "sizes": sizes.as_dict(),
        "curves": config.as_dict() if config else None,
        "machine": report.machine(),
    }
    results: dict[str, Any] = {}
    if len(backends) == 1:
        b = backends[0]
        if args.isolated:
            results[b] = asyncio.run(run_backend(b, sizes, runs, None, args.isolated))
            results[b]["environment"] = report.environment()
        else:
            results[b] = asyncio.run(run_backend(b, sizes, runs, only, curve_config=config))
            if not args.only_curves:
                _run_isolated(results[b], b, args, runs, only)
    else:
        for b in backends:  # one process per backend: global ORM state stays apart
            results[b] = _run_child(argv, b, args.child_timeout)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, default=str)
        return 0
    # Beside the start's: the machine may have got busier during a long run.
    meta["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    for b in results.values():
        if not b.get("skipped"):
            report.summarize(b)
    full = {"meta": meta, "backends": results}
    path = report.write_json(full, stamp)
    log(f"results: {path}")
    for name, b in results.items():
        if not args.only_curves:
            print(report.backend_markdown(name, b, meta))
            print()
        if b.get("curves"):
            print(curves_report.markdown(name, b, meta))
            print()
    if not args.no_docs:
        report.update_doc(full)
        log(f"updated {report.DOC}")
    return 0


def _run_isolated(
    result: dict[str, Any],
    backend: str,
    args: argparse.Namespace,
    runs: int,
    only: list[str] | None,
) -> None:
    """Measure the peers that need a process of their own, one after the other, and merge them."""
    if result.get("skipped"):
        return
    names, skip = peers.wanted(backend, only)
    result["unavailable"].update(skip)
    passthrough = (["--quick"] if args.quick else []) + ["--runs", str(runs)]
    for name in names:
        peers.merge(
            result, name, peers.run_isolated(name, backend, passthrough, timeout=args.child_timeout)
        )


def child_args(args: list[str], backend: str) -> list[str]:
    """The parent's arguments for one backend's child: ``--backend X`` replaced by ``backend``."""
    cleaned, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--backend":
            skip = True
            continue
        if a.startswith("--backend="):
            continue
        cleaned.append(a)
    return [*cleaned, "--backend", backend]


def child_command(args: list[str], backend: str, out: str) -> list[str]:
    """The command line of one backend's process, writing its results to ``out``."""
    return [sys.executable, "-m", "benchmarks.run", *child_args(args, backend), "--json-out", out]


def _run_child(argv: list[str] | None, backend: str, timeout: float) -> dict[str, Any]:
    args = list(sys.argv[1:] if argv is None else argv)
    fd, out = tempfile.mkstemp(suffix=".json", prefix=f"orm-bench-{backend}-")
    os.close(fd)
    try:
        cmd = child_command(args, backend, out)
        log(f"$ {shlex.join(cmd)}")
        try:
            code = procs.run(cmd, timeout)
        except procs.ChildTimeout as exc:
            return {"skipped": str(exc), "implementations": [], "operations": []}
        if code != 0:
            return {
                "skipped": f"the {backend} process exited with {code}",
                "implementations": [],
                "operations": [],
            }
        with open(out) as f:
            result: dict[str, Any] = json.load(f)[backend]
        return result
    finally:
        os.remove(out)


if __name__ == "__main__":
    sys.exit(main())
