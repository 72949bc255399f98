"""What the thread hop costs: ``python -m benchmarks.hop [--runs 5] [-n 2000] [--postgres URL]``.

Every ``a*`` call of `orm` (and of the floor, ``raw_thread``) is one round
trip through asgiref's ``sync_to_async(fn, thread_sensitive=True)``. This
times that round trip against the plainest hop asyncio has,
``loop.run_in_executor`` on a dedicated one-thread ``ThreadPoolExecutor``,
and against calling the function directly on the event loop's thread (no hop
at all), for the same three functions:

* ``noop``: returns at once, so the time is the hop alone;
* ``sqlite``: a primary-key SELECT on a small in-memory SQLite table
  (one connection per thread, made on first use there);
* ``postgresql``: the same SELECT on PostgreSQL (with ``--postgres URL`` or
  ``ORM_TEST_POSTGRES_URL``; a temporary table, dropped at the end).

Each run times ``n`` sequential awaited calls of every (hop, function) pair,
the pairs in a different order each run; the table shows the median per call
over the runs and, per function, the median of the per-run ratios to
``run_in_executor``. Ratios taken within a run share its noise, so they are
steadier than the times on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async

HOPS = ("direct", "run_in_executor", "sync_to_async")
_local = threading.local()
_SQLITE_ROWS = 1000


def noop() -> None:
    """The hop alone."""


def sqlite_get(pk: int = 7) -> Any:
    """A primary-key SELECT on this thread's in-memory SQLite database."""
    conn = getattr(_local, "sqlite", None)
    if conn is None:
        conn = _local.sqlite = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE book (id integer PRIMARY KEY, title text, pages integer)")
        conn.executemany(
            "INSERT INTO book VALUES (?, ?, ?)", [(i, f"t{i}", i) for i in range(_SQLITE_ROWS)]
        )
    return conn.execute("SELECT id, title, pages FROM book WHERE id = ?", (pk,)).fetchone()


def _postgres_get(url: str) -> Callable[[], Any]:
    import psycopg

    def get(pk: int = 7) -> Any:
        conn = getattr(_local, "pg", None)
        if conn is None:
            conn = _local.pg = psycopg.connect(url, autocommit=True)
            conn.execute(
                "CREATE TEMPORARY TABLE hop_book (id integer PRIMARY KEY, title text, pages integer)"
            )
            conn.cursor().executemany(
                "INSERT INTO hop_book VALUES (%s, %s, %s)",
                [(i, f"t{i}", i) for i in range(_SQLITE_ROWS)],
            )
        return conn.execute("SELECT id, title, pages FROM hop_book WHERE id = %s", (pk,)).fetchone()

    return get


def _closer() -> None:
    for name in ("sqlite", "pg"):
        conn = getattr(_local, name, None)
        if conn is not None:
            conn.close()
            delattr(_local, name)


def _callers(
    fn: Callable[[], Any], executor: ThreadPoolExecutor
) -> dict[str, Callable[[], Awaitable[Any]]]:
    loop = asyncio.get_running_loop()
    # Made once, as orm.utils.asyncio.to_async keeps one per function.
    bridged = sync_to_async(fn, thread_sensitive=True)

    async def direct() -> Any:
        return fn()

    async def executor_call() -> Any:
        return await loop.run_in_executor(executor, fn)

    return {"direct": direct, "run_in_executor": executor_call, "sync_to_async": bridged}


async def _time(call: Callable[[], Awaitable[Any]], n: int) -> float:
    for _ in range(50):  # warm-up: threads started, connections opened
        await call()
    start = time.perf_counter()
    for _ in range(n):
        await call()
    return (time.perf_counter() - start) / n


async def measure(runs: int, n: int, pg_url: str | None) -> dict[str, dict[str, list[float]]]:
    """{function: {hop: [seconds per call, one per run]}}."""
    functions: dict[str, Callable[[], Any]] = {"noop": noop, "sqlite": sqlite_get}
    if pg_url:
        functions["postgresql"] = _postgres_get(pg_url)
    # One worker: every call runs on the same thread, as thread_sensitive does.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hop")
    times: dict[str, dict[str, list[float]]] = {
        name: {hop: [] for hop in HOPS} for name in functions
    }
    try:
        for run in range(runs):
            pairs = [(name, hop) for name in functions for hop in HOPS]
            shift = run % len(pairs)
            for name, hop in pairs[shift:] + pairs[:shift]:
                times[name][hop].append(await _time(_callers(functions[name], executor)[hop], n))
    finally:
        # Each thread closes the connections it opened (sqlite3 objects are thread-bound).
        _closer()
        await loop_call(executor, _closer)
        await sync_to_async(_closer, thread_sensitive=True)()
        executor.shutdown()
    return times


async def loop_call(executor: ThreadPoolExecutor, fn: Callable[[], Any]) -> Any:
    """``fn()`` on ``executor``'s thread."""
    return await asyncio.get_running_loop().run_in_executor(executor, fn)


def report(times: dict[str, dict[str, list[float]]]) -> str:
    """A Markdown table: median µs per call, and the median per-run ratio to run_in_executor."""
    lines = [
        "| function | direct (no hop) | run_in_executor, 1 thread | sync_to_async, thread_sensitive "
        "| sync_to_async / run_in_executor | sync_to_async - direct |",
        "|---|---|---|---|---|---|",
    ]
    for name, per_hop in times.items():
        med = {hop: statistics.median(per_hop[hop]) * 1e6 for hop in HOPS}
        ratio = statistics.median(
            a / b for a, b in zip(per_hop["sync_to_async"], per_hop["run_in_executor"], strict=True)
        )
        lines.append(
            f"| {name} | {med['direct']:.1f} µs | {med['run_in_executor']:.1f} µs "
            f"| {med['sync_to_async']:.1f} µs | {ratio:.2f}× | {med['sync_to_async'] - med['direct']:.1f} µs |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "-n", type=int, default=2000, help="awaited calls per (hop, function) and run"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("ORM_TEST_POSTGRES_URL"),
        help="PostgreSQL URL for the postgresql row (default: ORM_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args()
    times = asyncio.run(measure(args.runs, args.n, args.postgres))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.runs} runs x {args.n} calls, load average at end {load}, {os.cpu_count()} CPUs\n")
    print(report(times))


if __name__ == "__main__":
    main()
