"""How cost grows (issue 19): per-row time against table size, memory, and aget under concurrency.

Three measurements, run per backend after the operation table (or alone with
``python -m benchmarks.run --only-curves``), for the implementations that
share the suite's process (``orm``, Django, Tortoise, SQLAlchemy, both floors):

- **rows**: for each size (1k, 10k, 100k and, in the full run, 1M rows) a
  fresh table per implementation, filled with ``abulk_create`` (timed, in
  batches of at most ``INSERT_BATCH`` rows so 1M rows never sit in memory
  as model instances at once), then ``async for`` over every model,
  ``values_list`` over every row and ``aiterator(chunk_size)`` over every row,
  ``reps`` passes each, implementations interleaved pass by pass. A size's
  value is the median over the passes of the time per row.
- **memory**: one more ``aiterator`` pass per size under tracemalloc (all
  threads): its peak must stay flat as the table grows, bounded by the chunk.
- **concurrency**: 1, 8, 64 and 256 tasks doing ``aget`` on a table of
  ``concurrency_rows`` rows, ``gets`` calls per level in all; each call is
  timed on its own (p50, p99) and the burst as a whole (calls per second).
  ``orm`` runs twice: tasks sharing the process's one sync thread, and each
  task inside ``orm.connection_scope()`` (its own thread and connection;
  on PostgreSQL from orm's pool, default ``pool_max_size=10``, so 256 tasks
  queue for 10 connections rather than open 256).

Every pass is checked (row count and sum of pages, the pk of every fetched
book) after its clock stops, so a broken implementation cannot look fast.
"""

from __future__ import annotations

import asyncio
import gc
import math
import re
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.impl_base import Implementation
from benchmarks.workload import AuthorRow, author_row, book_row

FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000, 100_000)
LEVELS = (1, 8, 64, 256)
MAX_SIZE = 10_000_000
INSERT_BATCH = 100_000  # rows per abulk_create call: 1M rows go in 10 calls
AUTHORS = 100
# The implementations with a curve: those that run in the suite's own process.
IMPLS = ("orm", "django", "tortoise", "sqlalchemy", "raw_async", "raw_thread")
ROW_OPS = (
    ("bulk_create", "`abulk_create`"),
    ("async_for", "`async for` over models"),
    ("values_list", '`values_list("id", "title", "price")`'),
    ("aiterator", "`aiterator(chunk_size)`"),
)


@dataclass(frozen=True)
class CurveConfig:
    """The sizes of one curves run (``FULL_CURVES``, ``QUICK_CURVES`` or ``--curve-sizes``)."""

    sizes: tuple[int, ...]
    reps: int  # read passes per size (the 1M point gets one: it is slow, and flat)
    levels: tuple[int, ...]
    gets: int  # aget calls per concurrency level, all tasks together
    concurrency_rows: int
    chunk_size: int = 2_000

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def reps_for(self, size: int) -> int:
        return 1 if size >= 1_000_000 else self.reps


FULL_CURVES = CurveConfig(FULL_SIZES, reps=3, levels=LEVELS, gets=4_096, concurrency_rows=10_000)
QUICK_CURVES = CurveConfig(QUICK_SIZES, reps=2, levels=LEVELS, gets=1_024, concurrency_rows=2_000)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_size(text: str) -> int:
    """``"100k"`` -> 100000, ``"1M"`` -> 1000000, ``"2500"`` -> 2500; ValueError otherwise."""
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"not a row count: {text!r} (e.g. 1000, 10k, 1M)")
    value = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    if value != int(value) or not 1 <= value <= MAX_SIZE:
        raise ValueError(f"row count {text!r} must be a whole number from 1 to {MAX_SIZE:,}")
    return int(value)


def parse_sizes(text: str) -> tuple[int, ...]:
    """A comma-separated list of row counts, sorted, duplicates dropped: ``"10k,1k"`` -> (1000, 10000)."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("no row counts given (e.g. 1k,10k,100k)")
    return tuple(sorted({parse_size(p) for p in parts}))


def fmt_rows(n: int) -> str:
    """1000 -> ``1k``, 1000000 -> ``1M``, 2500 -> ``2,500``."""
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suffix}"
    return f"{n:,}"


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def expected(size: int) -> tuple[int, int]:
    """(rows, sum of pages) of a table bulk-created with ``size`` rows."""
    return size, sum(book_row(i, AUTHORS).pages for i in range(1, size + 1))


def _now() -> float:
    return time.perf_counter()


# --------------------------------------------------------------------------
# Rows: per-row time against table size
# --------------------------------------------------------------------------


class Curves:
    """One backend's curves: measure, check, and keep the raw numbers for the report."""

    def __init__(
        self, config: CurveConfig, impls: list[Implementation], log: Callable[[str], None]
    ) -> None:
        self.config, self.impls, self.log = config, impls, log
        self.result: dict[str, Any] = {
            "config": config.as_dict(),
            "insert_batch": INSERT_BATCH,
            "implementations": [i.name for i in impls],
            "labels": {i.name: i.label for i in impls},
            "rows": {key: {i.name: {} for i in impls} for key, _ in ROW_OPS},
            "memory": {i.name: {} for i in impls},
            "concurrency": {"series": {}, "labels": {}, "floor_series": "raw_thread"},
            "errors": [],
        }
        self.failed: set[str] = set()

    def error(self, impl: str, what: str, exc: BaseException) -> None:
        msg = f"{impl} / {what}: {type(exc).__name__}: {exc}"
        self.log(f"  !! {msg}")
        self.result["errors"].append(msg)

    async def guarded(
        self, impl: Implementation, what: str, step: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Run ``step`` unless ``impl`` already failed at this size; record a failure."""
        if impl.name in self.failed:
            return None
        try:
            return await step()
        except Exception as exc:  # noqa: BLE001 - report it, keep measuring the others
            self.failed.add(impl.name)
            self.error(impl.name, what, exc)
            return None

    async def run(self) -> dict[str, Any]:
        for n, size in enumerate(self.config.sizes):
            # Rotate the order per size so no implementation always goes first.
            order = self.impls[n % len(self.impls) :] + self.impls[: n % len(self.impls)]
            await self.one_size(size, order)
        await self.concurrency()
        return self.result

    async def one_size(self, size: int, order: list[Implementation]) -> None:
        self.failed = set()
        want = expected(size)
        for impl in order:
            await self.guarded(impl, f"setup {fmt_rows(size)}", lambda impl=impl: _fresh(impl))
        for impl in order:
            await self.guarded(
                impl,
                f"abulk_create {fmt_rows(size)}",
                lambda impl=impl: self.bulk_create(impl, size, want),
            )
        for rep in range(self.config.reps_for(size)):
            for key, _title in ROW_OPS[1:]:
                for impl in order:
                    await self.guarded(
                        impl,
                        f"{key} {fmt_rows(size)}",
                        lambda impl=impl, key=key: self.read(impl, key, size, want),
                    )
            self.log(
                f"[curves {order[0].backend} {fmt_rows(size)} pass {rep + 1}] aiterator "
                + "  ".join(f"{i.name} {self._last(i.name, size)}" for i in order)
            )
        for impl in order:
            await self.guarded(
                impl,
                f"aiterator memory {fmt_rows(size)}",
                lambda impl=impl: self.memory(impl, size, want),
            )
        for impl in order:
            try:
                await impl.teardown()
            except Exception as exc:  # noqa: BLE001 - it may not have got as far as setup
                if impl.name not in self.failed:
                    self.error(impl.name, f"teardown {fmt_rows(size)}", exc)
            impl.target.close_verifier()

    def _last(self, impl: str, size: int) -> str:
        vals = self.result["rows"]["aiterator"][impl].get(str(size)) or [None]
        return "—" if vals[-1] is None else f"{vals[-1] * 1e6:.2f}µs"

    def _record(self, key: str, impl: str, size: int, seconds_per_row: float) -> None:
        self.result["rows"][key][impl].setdefault(str(size), []).append(seconds_per_row)

    async def bulk_create(self, impl: Implementation, size: int, want: tuple[int, int]) -> None:
        gc.collect()
        elapsed = 0.0
        for lo in range(1, size + 1, INSERT_BATCH):
            batch = [book_row(i, AUTHORS) for i in range(lo, min(lo + INSERT_BATCH, size + 1))]
            start = _now()
            await impl.bulk_create_books(batch)
            elapsed += _now() - start
            del batch
        got = impl.target.count_and_pages()
        _expect(got == want, f"after abulk_create: {got}, expected {want}")
        self._record("bulk_create", impl.name, size, elapsed / size)

    async def read(self, impl: Implementation, key: str, size: int, want: tuple[int, int]) -> None:
        gc.collect()
        rows: list[Any] = []
        start = _now()
        if key == "async_for":
            got = tuple(await impl.iterate_books(size))
        elif key == "values_list":
            rows = await impl.values_list_books()
            got = (len(rows), want[1])  # the sum of pages is not among the values
        else:
            got = tuple(await impl.stream_books(self.config.chunk_size))
        elapsed = _now() - start
        del rows  # freed after the clock stopped, as a caller keeps its result
        _expect(got == want, f"{key}: {got}, expected {want}")
        self._record(key, impl.name, size, elapsed / size)

    async def memory(self, impl: Implementation, size: int, want: tuple[int, int]) -> None:
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            got = await impl.stream_books(self.config.chunk_size)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        _expect(tuple(got) == want, f"aiterator (memory pass): {tuple(got)}, expected {want}")
        self.result["memory"][impl.name][str(size)] = peak

    # ----------------------------------------------------------------------
    # Concurrency: aget from 1 to 256 tasks
    # ----------------------------------------------------------------------

    async def concurrency(self) -> None:
        cfg = self.config
        self.failed = set()
        want = expected(cfg.concurrency_rows)
        for impl in self.impls:
            await self.guarded(impl, "concurrency setup", lambda impl=impl: _fresh(impl))
            await self.guarded(
                impl,
                "concurrency setup",
                lambda impl=impl: self.fill(impl, cfg.concurrency_rows, want),
            )
        series = self.result["concurrency"]["series"]
        for n, level in enumerate(cfg.levels):
            order = self.impls[n % len(self.impls) :] + self.impls[: n % len(self.impls)]
            for impl in order:
                for key, (label, scope) in impl.concurrency_variants().items():
                    self.result["concurrency"]["labels"][key] = label
                    out = await self.guarded(
                        impl,
                        f"{key} × {level} tasks",
                        lambda impl=impl, scope=scope, level=level: self.burst(impl, scope, level),
                    )
                    if out is not None:
                        series.setdefault(key, {})[str(level)] = out
            self.log(
                f"[curves {self.impls[0].backend} {level} tasks] "
                + "  ".join(
                    f"{k} {v[str(level)]['throughput']:.0f}/s"
                    for k, v in series.items()
                    if str(level) in v
                )
            )
        for impl in self.impls:
            try:
                await impl.teardown()
            except Exception as exc:  # noqa: BLE001
                if impl.name not in self.failed:
                    self.error(impl.name, "concurrency teardown", exc)
            impl.target.close_verifier()

    async def fill(self, impl: Implementation, rows: int, want: tuple[int, int]) -> None:
        await impl.bulk_create_books([book_row(i, AUTHORS) for i in range(1, rows + 1)])
        got = impl.target.count_and_pages()
        _expect(got == want, f"concurrency table: {got}, expected {want}")

    async def burst(
        self, impl: Implementation, scope: Callable[[], Any], level: int
    ) -> dict[str, float | None]:
        """``level`` tasks, ``gets`` agets in all; a warm-up burst first, untimed."""
        cfg = self.config
        per_task = max(1, -(-cfg.gets // level))
        plan = [
            [(k * per_task + j) * 7919 % cfg.concurrency_rows + 1 for j in range(per_task)]
            for k in range(level)
        ]
        latencies: list[float] = []
        wrong: list[str] = []

        async def task(pks: list[int]) -> None:
            async with scope():
                for pk in pks:
                    start = _now()
                    obj = await impl.get_book(pk)
                    latencies.append(_now() - start)
                    if impl.book_fields(obj)[0] != pk:
                        wrong.append(f"aget({pk}) returned {impl.book_fields(obj)[0]}")

        await asyncio.gather(*(task(pks[:2]) for pks in plan))  # warm-up: threads, pools
        latencies.clear()
        start = _now()
        await asyncio.gather(*(task(pks) for pks in plan))
        elapsed = _now() - start
        _expect(not wrong, f"{len(wrong)} wrong answers, e.g. {wrong[:2]}")
        calls = level * per_task
        _expect(len(latencies) == calls, f"{len(latencies)} calls timed, expected {calls}")
        return {
            "tasks": level,
            "calls": calls,
            "seconds": elapsed,
            "throughput": calls / elapsed,
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "mean": statistics.fmean(latencies),
        }


async def _fresh(impl: Implementation) -> None:
    """An empty database for ``impl``, its tables and the authors (untimed)."""
    impl.target.reset()
    await impl.setup()
    await impl.seed_authors(_authors())


def _authors() -> list[AuthorRow]:
    return [author_row(i) for i in range(1, AUTHORS + 1)]


def _expect(ok: bool, message: str) -> None:
    if not ok:
        from benchmarks.operations import VerificationError

        raise VerificationError(message)
