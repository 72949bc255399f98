"""The timed operations: each warms up, times, then checks its result.

An operation returns a :class:`Measurement` (seconds per call or per row) or
raises :class:`VerificationError`. Checks compare what the implementation
returned with the generated data and with ground truth read by the
harness's own driver connection (``Target.query``), after the clock stops.
"""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.databases import Target
from benchmarks.impl_base import Implementation
from benchmarks.workload import (
    AuthorRow,
    BookRow,
    Sizes,
    author_row,
    authors,
    book_row,
    books,
    books_of_author,
    money,
)

BOOKS_PER_TRANSACTION = 5


class VerificationError(AssertionError):
    """An implementation returned or stored the wrong thing."""


def expect(ok: bool, message: str) -> None:
    if not ok:
        raise VerificationError(message)


@dataclass
class Measurement:
    seconds: float  # per unit (call or row)
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class RunData:
    """The inputs of one run, shared by every implementation of that run."""

    sizes: Sizes
    seed: int
    authors: list[AuthorRow] = field(init=False)
    books: list[BookRow] = field(init=False)
    get_pks: list[int] = field(init=False)
    count_authors: list[int] = field(init=False)

    def __post_init__(self) -> None:
        s = self.sizes
        rng = random.Random(self.seed)
        self.authors = authors(s)
        self.books = books(s)
        self.get_pks = [rng.randint(1, s.books) for _ in range(s.warmup + s.gets)]
        self.count_authors = [rng.randint(1, s.authors) for _ in range(s.warmup + s.counts)]
        self.author_counts = {a: books_of_author(s, a) for a in set(self.count_authors)}
        self.pages_total = sum(b.pages for b in self.books)

    def book(self, pk: int) -> BookRow:
        return self.books[pk - 1]

    def new_book(self, j: int) -> BookRow:
        """The j-th row of the acreate operation (author cycles like the bulk rows)."""
        return book_row(j, self.sizes.authors, prefix="New")

    @property
    def created_books(self) -> int:
        return self.sizes.warmup + self.sizes.creates

    @property
    def transactions(self) -> int:
        return self.sizes.warmup + self.sizes.transactions


def _now() -> float:
    return time.perf_counter()


def _check_book(impl: Implementation, data: RunData, pk: int, obj: Any) -> None:
    expect(obj is not None, f"get({pk}) returned None")
    got = impl.book_fields(obj)
    row = data.book(pk)
    want = (pk, row.title, row.price, row.pages)
    expect(
        (int(got[0]), got[1], money(got[2]), int(got[3])) == want,
        f"get({pk}) returned {got!r}, expected {want!r}",
    )


class Trial:
    """One implementation's share of one operation in one run.

    The runner calls ``prepare()`` for every implementation, then
    ``block(i)`` round-robin across implementations (block 0 of each, then
    block 1 of each, ...) so that they share the machine's noise, then
    ``finish()``, which verifies and returns the measurement: the median
    over blocks of the time per unit (call or row).
    """

    blocks = 1

    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        self.data, self.impl, self.t = data, impl, t
        self.per_unit: list[float] = []
        self.extra: dict[str, float] = {}

    async def prepare(self) -> None:
        """Warm up and read ground truth (untimed)."""

    async def block(self, i: int) -> None:
        raise NotImplementedError

    def check(self) -> None:
        """Raise VerificationError when a result or the stored state is wrong."""

    async def finish(self) -> Measurement:
        self.check()
        return Measurement(statistics.median(self.per_unit), self.extra)


class CallsTrial(Trial):
    """Many calls of one method, BLOCK calls per timed block."""

    BLOCK = 10
    warmup_args: Sequence[Any] = ()

    def __init__(self, data: RunData, impl: Implementation, t: Target, args: Sequence[Any]) -> None:
        super().__init__(data, impl, t)
        self.args = list(args)
        self.out: list[Any] = [None] * len(self.args)
        self.blocks = -(-len(self.args) // self.BLOCK)

    async def call(self, arg: Any) -> Any:
        raise NotImplementedError

    async def prepare(self) -> None:
        for arg in self.warmup_args:
            await self.call(arg)

    async def block(self, i: int) -> None:
        lo, hi = i * self.BLOCK, min((i + 1) * self.BLOCK, len(self.args))
        call, args, out = self.call, self.args, self.out
        start = _now()
        for k in range(lo, hi):
            out[k] = await call(args[k])
        self.per_unit.append((_now() - start) / (hi - lo))


class PassesTrial(Trial):
    """Repeated passes over rows: one pass per block, timed per row."""

    def __init__(self, data: RunData, impl: Implementation, t: Target, reps: int) -> None:
        super().__init__(data, impl, t)
        self.blocks = reps
        self.out: list[Any] = []

    async def one_pass(self) -> Any:
        raise NotImplementedError

    def rows(self, result: Any) -> int:
        raise NotImplementedError

    async def prepare(self) -> None:
        await self.one_pass()

    async def block(self, i: int) -> None:
        start = _now()
        result = await self.one_pass()
        elapsed = _now() - start
        self.out.append(result)
        self.per_unit.append(elapsed / max(self.rows(result), 1))


# --------------------------------------------------------------------------
# The operations, in the order a run executes them
# --------------------------------------------------------------------------


class BulkCreate(Trial):
    async def block(self, i: int) -> None:
        start = _now()
        await self.impl.bulk_create_books(self.data.books)
        self.per_unit.append((_now() - start) / len(self.data.books))

    def check(self) -> None:
        data, t = self.data, self.t
        n, pages = t.count_and_pages()
        expect(
            (n, pages) == (len(data.books), data.pages_total),
            f"after bulk create: {n} rows / {pages} pages, expected "
            f"{len(data.books)} / {data.pages_total}",
        )
        for pk in {1, len(data.books) // 2, len(data.books)}:
            got = t.query(
                "SELECT title, author_id, price, pages FROM bench_book WHERE id = %s", (pk,)
            )
            row = data.book(pk)
            expect(
                bool(got)
                and (got[0][0], int(got[0][1]), money(got[0][2]), int(got[0][3]))
                == (row.title, row.author_id, row.price, row.pages),
                f"book {pk} stored as {got!r}, expected {row!r}",
            )


class Get(CallsTrial):
    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        w = data.sizes.warmup
        super().__init__(data, impl, t, data.get_pks[w:])
        self.warmup_args = data.get_pks[:w]

    async def call(self, arg: Any) -> Any:
        return await self.impl.get_book(arg)

    def check(self) -> None:
        for pk, obj in zip(self.args, self.out, strict=True):
            _check_book(self.impl, self.data, pk, obj)


class AsyncFor(PassesTrial):
    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        super().__init__(data, impl, t, data.sizes.async_for_reps)
        self.limit = data.sizes.async_for_rows

    async def prepare(self) -> None:
        self.want = self.t.count_and_pages(self.limit)
        await super().prepare()

    async def one_pass(self) -> Any:
        return await self.impl.iterate_books(self.limit)

    def rows(self, result: Any) -> int:
        return int(result[0])

    def check(self) -> None:
        for got in self.out:
            expect(
                tuple(got) == self.want,
                f"async for over id <= {self.limit}: {got}, expected {self.want}",
            )


class ValuesList(PassesTrial):
    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        super().__init__(data, impl, t, data.sizes.values_reps)

    async def one_pass(self) -> Any:
        return await self.impl.values_list_books()

    def rows(self, result: Any) -> int:
        return len(result)

    def check(self) -> None:
        books = self.data.books
        want_sum = sum(b.price for b in books)
        for rows in self.out:
            expect(len(rows) == len(books), f"values_list: {len(rows)} rows, expected {len(books)}")
            expect(
                all(r[1] == books[int(r[0]) - 1].title for r in rows),
                "values_list: a title does not match its id",
            )
            got_sum = sum(money(r[2]) for r in rows)
            expect(
                got_sum == want_sum, f"values_list: prices sum to {got_sum}, expected {want_sum}"
            )


class SelectRelated(PassesTrial):
    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        super().__init__(data, impl, t, data.sizes.select_related_reps)
        self.limit = data.sizes.select_related_rows

    async def one_pass(self) -> Any:
        return await self.impl.select_related_books(self.limit)

    def rows(self, result: Any) -> int:
        return len(result)

    def check(self) -> None:
        data = self.data
        want = Counter(
            data.authors[data.book(pk).author_id - 1].name for pk in range(1, self.limit + 1)
        )
        for names in self.out:
            expect(
                Counter(names) == want, f"select_related: author names {Counter(names)} != {want}"
            )


class Count(CallsTrial):
    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        w = data.sizes.warmup
        super().__init__(data, impl, t, data.count_authors[w:])
        self.warmup_args = data.count_authors[:w]

    async def call(self, arg: Any) -> Any:
        return await self.impl.count_books(arg)

    def check(self) -> None:
        for a, n in zip(self.args, self.out, strict=True):
            want = self.data.author_counts[a]
            expect(n == want, f"count(author={a}) = {n}, expected {want}")


class ConcurrentGet(Trial):
    """``tasks`` tasks each awaiting ``per_task`` agets; a block is one such burst."""

    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        super().__init__(data, impl, t)
        s = data.sizes
        self.blocks = s.concurrent_rounds
        pks = data.get_pks
        self.plans = [
            [
                [
                    pks[(r * 7919 + k * s.concurrent_gets + i) % len(pks)]
                    for i in range(s.concurrent_gets)
                ]
                for k in range(s.concurrent_tasks)
            ]
            for r in range(self.blocks)
        ]
        self.out: list[Any] = []
        self.throughput: list[float] = []

    async def block(self, i: int) -> None:
        get, scope = self.impl.get_book, self.impl.task_scope

        async def worker(batch: list[int]) -> list[Any]:
            async with scope():  # a no-op except where a connection belongs to one task
                return [await get(pk) for pk in batch]

        plan = self.plans[i]
        start = _now()
        self.out.append(await asyncio.gather(*(worker(batch) for batch in plan)))
        elapsed = _now() - start
        total = sum(len(b) for b in plan)
        self.per_unit.append(elapsed / total)
        self.throughput.append(total / elapsed)

    def check(self) -> None:
        for plan, out in zip(self.plans, self.out, strict=True):
            for batch, objs in zip(plan, out, strict=True):
                for pk, obj in zip(batch, objs, strict=True):
                    _check_book(self.impl, self.data, pk, obj)
        self.extra["ops_per_second"] = statistics.median(self.throughput)


class Create(CallsTrial):
    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        w = data.sizes.warmup
        self.rows = [data.new_book(j) for j in range(1, data.created_books + 1)]
        super().__init__(data, impl, t, self.rows[w:])
        self.warmup_args = self.rows[:w]

    async def call(self, arg: Any) -> Any:
        return await self.impl.create_book(arg)

    def check(self) -> None:
        t, pks = self.t, self.out
        expect(len(set(pks)) == len(pks), "acreate returned duplicate primary keys")
        want = len(self.data.books) + len(self.rows)
        expect(
            t.count("bench_book") == want,
            f"after acreate: {t.count('bench_book')} books, expected {want}",
        )
        got = t.query("SELECT title, pages FROM bench_book WHERE id = %s", (pks[-1],))
        expect(
            [tuple(r) for r in got] == [(self.rows[-1].title, self.rows[-1].pages)],
            f"created book {pks[-1]} reads back as {got!r}",
        )


class Update(CallsTrial):
    BLOCK = 1

    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        self.limit = len(data.books) // 10
        super().__init__(data, impl, t, [self.limit] * data.sizes.updates)
        self.warmup_args = [self.limit]

    async def prepare(self) -> None:
        self.before = self.t.count_and_pages(self.limit)[1]
        await super().prepare()

    async def call(self, arg: Any) -> Any:
        return await self.impl.update_books(arg)

    def check(self) -> None:
        expect(
            all(n == self.limit for n in self.out),
            f"aupdate row counts {self.out}, expected {self.limit} each",
        )
        after = self.t.count_and_pages(self.limit)[1]
        want = self.before + (len(self.args) + 1) * self.limit
        expect(after == want, f"after aupdate: pages sum {after}, expected {want}")
        self.extra["rows"] = float(self.limit)


class Transaction(CallsTrial):
    BLOCK = 5

    def __init__(self, data: RunData, impl: Implementation, t: Target) -> None:
        w = data.sizes.warmup
        first = data.sizes.authors + 1
        calls = []
        for j in range(first, first + data.transactions):
            a = author_row(j)._replace(email=f"tx{j}@example.com")
            bs = [
                book_row(j * 10 + k, data.sizes.authors, prefix="Tx")
                for k in range(BOOKS_PER_TRANSACTION)
            ]
            calls.append((a, bs))
        super().__init__(data, impl, t, calls[w:])
        self.warmup_args = calls[:w]
        self.n = len(calls)

    async def prepare(self) -> None:
        self.authors_before = self.t.count("bench_author")
        self.books_before = self.t.count("bench_book")
        await super().prepare()

    async def call(self, arg: Any) -> Any:
        return await self.impl.create_author_with_books(*arg)

    def check(self) -> None:
        t, pks = self.t, self.out
        expect(
            t.count("bench_author") == self.authors_before + self.n,
            "transaction: wrong number of authors",
        )
        expect(
            t.count("bench_book") == self.books_before + BOOKS_PER_TRANSACTION * self.n,
            "transaction: wrong number of books",
        )
        expect(len(set(pks)) == len(pks), "transaction returned duplicate author keys")
        for pk in (pks[0], pks[-1]):
            got = t.query("SELECT count(*) FROM bench_book WHERE author_id = %s", (pk,))[0][0]
            expect(got == BOOKS_PER_TRANSACTION, f"author {pk} has {got} books, expected 5")


class AIterator(Trial):
    """One timed pass, then a second pass under tracemalloc for the peak memory."""

    async def prepare(self) -> None:
        self.t.grow_books(self.data.sizes.iterator_rows)
        self.want = self.t.count_and_pages()

    async def block(self, i: int) -> None:
        start = _now()
        self.got = await self.impl.stream_books(self.data.sizes.chunk_size)
        self.per_unit.append((_now() - start) / max(self.got[0], 1))

    async def finish(self) -> Measurement:
        expect(tuple(self.got) == self.want, f"aiterator: {self.got}, expected {self.want}")
        # tracemalloc slows everything down, hence a separate, untimed pass.
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            got = await self.impl.stream_books(self.data.sizes.chunk_size)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        expect(tuple(got) == self.want, f"aiterator (memory pass): {got}, expected {self.want}")
        self.extra.update(peak_bytes=float(peak), rows=float(self.want[0]))
        return await super().finish()


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    unit: str  # "call" or "row"
    target: float | None  # orm's ratio target to the floor today (issue 19)
    trial: Callable[[RunData, Implementation, Target], Trial]


def operations(sizes: Sizes) -> list[Operation]:
    s = sizes
    return [
        Operation("bulk_create", f"bulk create {s.books:,} books", "row", 1.2, BulkCreate),
        Operation("aget", "`aget(pk=)` random pk", "call", 1.15, Get),
        Operation(
            "async_for", f"`async for` over {s.async_for_rows:,} models", "row", 1.5, AsyncFor
        ),
        Operation(
            "values_list",
            f'`values_list("id", "title", "price")` over {s.books:,} books',
            "row",
            1.2,
            ValuesList,
        ),
        Operation(
            "select_related",
            f'{s.select_related_rows} books `select_related("author")`',
            "row",
            1.5,
            SelectRelated,
        ),
        Operation("acount", "`acount()` with an indexed filter", "call", 1.15, Count),
        Operation(
            "concurrent_aget",
            f"{s.concurrent_tasks} concurrent tasks doing `aget`",
            "call",
            None,
            ConcurrentGet,
        ),
        Operation("acreate", "`acreate` one row (autocommit)", "call", 1.15, Create),
        Operation(
            "aupdate",
            f"`aupdate` of 10% of the books ({s.books // 10:,} rows)",
            "call",
            1.15,
            Update,
        ),
        Operation(
            "transaction",
            f"transactional function: 1 author + {BOOKS_PER_TRANSACTION} books",
            "call",
            1.1,
            Transaction,
        ),
        Operation(
            "aiterator", f"`aiterator()` over {s.iterator_rows:,} rows", "row", None, AIterator
        ),
    ]
