"""Profile `orm`'s async paths: ``python -m benchmarks.profile_orm [--backend ...] [--op ...]``.

cProfile only sees the thread it is enabled on, and an ``a*`` call spends
its time on two: the event loop's (the async skin, asgiref's hop) and the
sync thread's (the ORM's own work and the driver). This script enables one
profiler on each, on the real async path, and prints both, sorted by
cumulative time. It also times the same loop on the raw driver through the
same hop, so the ORM's share is visible.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import time
from typing import Any

from asgiref.sync import sync_to_async

from benchmarks.databases import Session
from benchmarks.impl_orm import OrmImpl
from benchmarks.impl_raw import RawThreadImpl
from benchmarks.operations import RunData
from benchmarks.workload import QUICK


async def _loop(impl: Any, op: str, data: RunData, n: int) -> None:
    if op == "aget":
        pks = data.get_pks
        for i in range(n):
            await impl.get_book(pks[i % len(pks)])
    elif op == "async_for":
        for _ in range(n):
            await impl.iterate_books(data.sizes.async_for_rows)
    elif op == "select_related":
        for _ in range(n):
            await impl.select_related_books(data.sizes.select_related_rows)
    elif op == "values_list":
        for _ in range(n):
            await impl.values_list_books()
    elif op == "acount":
        ids = data.count_authors
        for i in range(n):
            await impl.count_books(ids[i % len(ids)])
    elif op == "bulk_create":
        # The table only grows here; the numbers are per call anyway.
        for _ in range(n):
            await impl.bulk_create_books(data.books[:500])
    else:
        raise SystemExit(f"unknown op {op!r}")


def _stats(prof: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


async def main_async(args: argparse.Namespace) -> None:
    session = Session(args.backend)
    data = RunData(QUICK, seed=1)
    impls = [OrmImpl(session.target("orm")), RawThreadImpl(session.target("raw_thread"))]
    try:
        for impl in impls:
            reason = impl.unavailable(args.backend)
            if reason:
                raise SystemExit(reason)
            impl.target.reset()
            await impl.setup()
            await impl.seed_authors(data.authors)
            await impl.bulk_create_books(data.books)
        for op in args.op:
            n = args.n if op in ("aget", "acount") else max(args.n // 20, 5)
            for impl in impls:  # warm-up, then a timed loop without profiling
                await _loop(impl, op, data, min(n, 20))
            times = {}
            for impl in impls:
                start = time.perf_counter()
                await _loop(impl, op, data, n)
                times[impl.name] = (time.perf_counter() - start) / n
            print(
                f"=== {op}: {n} iterations; per iteration orm {times['orm'] * 1e6:.1f} µs, "
                f"raw driver through the same hop {times['raw_thread'] * 1e6:.1f} µs "
                f"({times['orm'] / times['raw_thread']:.2f}×)"
            )
            loop_prof, sync_prof = cProfile.Profile(), cProfile.Profile()
            # sys.setprofile is per thread: enable the second profiler on the
            # sync thread itself, where it stays on across later hops.
            await sync_to_async(sync_prof.enable, thread_sensitive=True)()
            loop_prof.enable()
            await _loop(impls[0], op, data, n)
            loop_prof.disable()
            await sync_to_async(sync_prof.disable, thread_sensitive=True)()
            print(f"--- {op}: sync thread (ORM work + driver), top {args.top} by cumulative time")
            print(_stats(sync_prof, args.top))
            if args.loop:
                print(
                    f"--- {op}: event-loop thread (async skin), top {args.top} by cumulative time"
                )
                print(_stats(loop_prof, args.top))
    finally:
        for impl in impls:
            try:
                await impl.teardown()
            except Exception:  # noqa: BLE001
                pass
        session.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_orm", description=__doc__)
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument(
        "--op",
        action="append",
        help="aget, async_for, select_related, values_list, "
        "acount, bulk_create (repeatable; default aget and async_for)",
    )
    p.add_argument("-n", type=int, default=2000, help="iterations for point operations")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--loop", action="store_true", help="also print the event-loop thread's profile")
    args = p.parse_args()
    args.op = args.op or ["aget", "async_for"]
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
