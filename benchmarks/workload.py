"""The fixed workload: sizes, deterministic rows, and value normalization.

Rows are generated, never random, so every implementation stores the same
data and every result can be checked: book ``i`` (its primary key in a fresh
table) is titled ``Book 00000i``, belongs to author ``(i - 1) % authors + 1``
and has a price and page count computed from ``i``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, NamedTuple

UTC = dt.UTC
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Sizes:
    """How big each operation is; ``FULL`` is the issue's workload, ``QUICK`` a smoke run."""

    authors: int
    books: int  # bulk create, and the table every read runs on
    gets: int  # aget calls
    async_for_rows: int  # `async for` over this many model instances
    async_for_reps: int
    values_reps: int  # values_list over all books
    select_related_rows: int
    select_related_reps: int
    counts: int  # acount calls
    concurrent_tasks: int
    concurrent_gets: int  # aget calls per task
    concurrent_rounds: int  # bursts of concurrent_tasks tasks
    creates: int  # acreate calls
    updates: int  # aupdate calls (each touches 10% of the books)
    transactions: int  # wrapped transactional functions
    iterator_rows: int  # aiterator over this many rows
    chunk_size: int
    warmup: int  # untimed calls before a point operation

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


FULL = Sizes(
    authors=200,
    books=20_000,
    gets=1_000,
    async_for_rows=1_000,
    async_for_reps=10,
    values_reps=3,
    select_related_rows=100,
    select_related_reps=50,
    counts=500,
    concurrent_tasks=50,
    concurrent_gets=10,
    concurrent_rounds=5,
    creates=300,
    updates=5,
    transactions=100,
    iterator_rows=100_000,
    chunk_size=2_000,
    warmup=10,
)
QUICK = Sizes(
    authors=100,
    books=2_000,
    gets=300,
    async_for_rows=1_000,
    async_for_reps=3,
    values_reps=2,
    select_related_rows=100,
    select_related_reps=20,
    counts=200,
    concurrent_tasks=50,
    concurrent_gets=4,
    concurrent_rounds=3,
    creates=100,
    updates=3,
    transactions=30,
    iterator_rows=10_000,
    chunk_size=2_000,
    warmup=5,
)


class AuthorRow(NamedTuple):
    id: int
    name: str
    email: str
    created: dt.datetime


class BookRow(NamedTuple):
    id: int
    title: str
    author_id: int
    published: dt.date
    price: Decimal
    pages: int


EPOCH = dt.datetime(2024, 1, 1, tzinfo=UTC)


def author_row(i: int) -> AuthorRow:
    return AuthorRow(
        i, f"Author {i:05d}", f"author{i}@example.com", EPOCH + dt.timedelta(seconds=i)
    )


def book_row(i: int, authors: int, prefix: str = "Book") -> BookRow:
    return BookRow(
        id=i,
        title=f"{prefix} {i:06d}",
        author_id=(i - 1) % authors + 1,
        published=dt.date(2000, 1, 1) + dt.timedelta(days=i % 9000),
        price=(Decimal((i * 7919) % 100_000) / 100).quantize(CENT),  # 0.00 .. 999.99, numeric(8, 2)
        pages=50 + (i * 31) % 950,
    )


def authors(sizes: Sizes) -> list[AuthorRow]:
    return [author_row(i) for i in range(1, sizes.authors + 1)]


def books(sizes: Sizes) -> list[BookRow]:
    return [book_row(i, sizes.authors) for i in range(1, sizes.books + 1)]


def books_of_author(sizes: Sizes, author_id: int) -> int:
    """How many of the bulk-created books belong to ``author_id``."""
    return sum(1 for i in range(1, sizes.books + 1) if (i - 1) % sizes.authors + 1 == author_id)


def money(value: Any) -> Decimal:
    """A price as every driver may return it (Decimal, float, int, str) -> Decimal(x.xx)."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value)).quantize(CENT)
