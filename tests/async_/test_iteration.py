"""``async for`` over QuerySets (models, values, values_list, raw) and ``aiterator``.

``aiterator(chunk_size=N)`` must cross into the sync thread once per chunk,
not once per row: the hops are counted by wrapping the per-chunk fetch
(``orm.query.queryset._next_chunk``) and every ``to_async`` call the
QuerySet makes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import aclosing
from typing import Any

import pytest

import orm
import orm.query.queryset as queryset_module
from tests.async_.conftest import Library, row
from tests.async_.models import Author, Book

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional


async def sync_list(qs: Any) -> list[Any]:
    return await orm.sync_to_async(list)(qs)


QUERYSETS: dict[str, Callable[[], Any]] = {
    "models": lambda: Book.objects.order_by("pk"),
    "filtered": lambda: Book.objects.filter(author__name="ann").order_by("-pages"),
    "values": lambda: Book.objects.order_by("pk").values(),
    "values-some": lambda: Book.objects.order_by("pk").values("title", "author__name"),
    "values_list": lambda: Book.objects.order_by("pk").values_list("title", "pages"),
    "values_list-flat": lambda: Book.objects.order_by("pk").values_list("title", flat=True),
    "values_list-named": lambda: Book.objects.order_by("pk").values_list("pk", "title", named=True),
    "select_related": lambda: Book.objects.select_related("author").order_by("pk"),
    "empty": lambda: Book.objects.none(),
    "sliced": lambda: Book.objects.order_by("pk")[1:3],
    "annotated": lambda: (
        Author.objects.annotate(n=orm.Count("books")).order_by("name").values_list("name", "n")
    ),
    "raw": lambda: Book.objects.raw(
        "SELECT id, title, pages, author_id FROM shared_book WHERE pages > %s ORDER BY id", [150]
    ),
    "raw-translations": lambda: Author.objects.raw(
        "SELECT id AS ident, name AS label, age FROM shared_author ORDER BY id",
        translations={"ident": "id", "label": "name"},
    ),
}


def comparable(items: list[Any]) -> list[Any]:
    """Instances by class and values; named rows by field names and values."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, orm.Model):
            out.append((type(item).__name__, row(item), vars(item).get("two")))
        elif hasattr(item, "_fields"):
            out.append((item._fields, tuple(item)))
        else:
            out.append(item)
    return out


@pytest.mark.parametrize("kind", sorted(QUERYSETS))
async def test_async_for_yields_what_sync_iteration_yields(seed: Library, kind: str) -> None:
    expected = await sync_list(QUERYSETS[kind]())
    got = [item async for item in QUERYSETS[kind]()]
    assert comparable(got) == comparable(expected)
    assert [type(i).__name__ for i in got] == [type(i).__name__ for i in expected]


async def test_async_for_gives_the_right_items(seed: Library) -> None:
    books = [b async for b in Book.objects.order_by("pk")]
    assert [b.title for b in books] == ["Alpha", "Beta", "Gamma"]
    assert all(isinstance(b, Book) and b._state.adding is False for b in books)
    assert [d async for d in Book.objects.order_by("pk").values("title", "pages")] == [
        {"title": "Alpha", "pages": 100},
        {"title": "Beta", "pages": 200},
        {"title": "Gamma", "pages": 300},
    ]
    assert [t async for t in Book.objects.order_by("pk").values_list("title", "author__name")] == [
        ("Alpha", "ann"),
        ("Beta", "ann"),
        ("Gamma", "bob"),
    ]
    assert [t async for t in Book.objects.order_by("pk").values_list("title", flat=True)] == [
        "Alpha",
        "Beta",
        "Gamma",
    ]
    named = [t async for t in Book.objects.order_by("pk").values_list("title", named=True)]
    assert [t.title for t in named] == ["Alpha", "Beta", "Gamma"]
    raw = [
        b
        async for b in Book.objects.raw(
            "SELECT id, title FROM shared_book WHERE title <> %s ORDER BY id", ["Beta"]
        )
    ]
    assert [(type(b), b.pk, b.title) for b in raw] == [
        (Book, seed.alpha.pk, "Alpha"),
        (Book, seed.gamma.pk, "Gamma"),
    ]
    extra = [
        a
        async for a in Author.objects.raw(
            "SELECT id, name, 1 + 1 AS two FROM shared_author WHERE name = %s", ["bob"]
        )
    ]
    assert [(a.name, a.two) for a in extra] == [("bob", 2)]


async def test_async_for_select_related_needs_no_further_query(
    seed: Library, count_queries: type
) -> None:
    async with count_queries() as ctx:
        books = [b async for b in Book.objects.select_related("author").order_by("pk")]
    assert len(ctx.queries) == 1
    assert [b.author.name for b in books] == ["ann", "ann", "bob"]  # no guard: loaded


async def test_async_for_runs_prefetches(seed: Library, count_queries: type) -> None:
    async with count_queries() as ctx:
        authors = [a async for a in Author.objects.prefetch_related("books").order_by("name")]
    assert len(ctx.queries) == 2
    assert [a.name for a in authors] == ["ann", "bob", "cy"]
    assert [len(a._prefetched_objects_cache["books"]) for a in authors] == [2, 1, 0]


async def test_async_for_fills_the_cache_once(seed: Library, count_queries: type) -> None:
    qs = Book.objects.order_by("pk")
    first = [b async for b in qs]
    async with count_queries() as ctx:
        second = [b async for b in qs]
        assert len(qs) == 3  # evaluated: safe on the loop, runs nothing
        assert qs[0] == first[0]
    assert ctx.queries == []
    assert second == first


async def test_raw_without_primary_key_raises_like_sync(seed: Library) -> None:
    for run in (sync_list, lambda qs: _alist(qs)):
        with pytest.raises(ValueError, match="primary key"):
            await run(Book.objects.raw("SELECT title FROM shared_book"))


async def _alist(qs: Any) -> list[Any]:
    return [x async for x in qs]


async def test_async_for_error_surfaces_in_the_loop(seed: Library) -> None:
    with pytest.raises(orm.DatabaseError):
        [x async for x in Book.objects.raw("SELECT id FROM no_such_table")]


# ------------------------------------------------------------------ aiterator


@pytest.fixture
def thousand_books(tables: str) -> Author:
    author = Author.objects.create(name="prolific")
    Book.objects.bulk_create([Book(title=f"{i:04}", author=author, pages=i) for i in range(1000)])
    for alias in orm.connections:
        orm.connections[alias].close()
    return author


@pytest.fixture
def chunk_fetches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every per-chunk fetch as ``(thread id, rows)``."""
    calls: list[tuple[int, int]] = []
    original = queryset_module._next_chunk

    def next_chunk_spy(iterator: Iterator[Any], size: int) -> list[Any]:
        chunk = original(iterator, size)
        calls.append((threading.get_ident(), len(chunk)))
        return chunk

    monkeypatch.setattr(queryset_module, "_next_chunk", next_chunk_spy)
    return calls


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions the QuerySet module sends across with ``to_async``."""
    names: list[str] = []
    original = queryset_module.to_async

    def counting(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        wrapped = original(fn)

        async def hop(*args: Any, **kwargs: Any) -> Any:
            names.append(getattr(fn, "__name__", repr(fn)))
            return await wrapped(*args, **kwargs)

        return hop

    monkeypatch.setattr(queryset_module, "to_async", counting)
    return names


async def test_aiterator_crosses_threads_once_per_chunk(
    thousand_books: Author, chunk_fetches: list[tuple[int, int]], hops: list[str]
) -> None:
    loop_thread = threading.get_ident()
    titles = [b.title async for b in Book.objects.order_by("pk").aiterator(chunk_size=100)]
    assert titles == [f"{i:04}" for i in range(1000)]
    # 10 full chunks and one empty read that ends the stream, not 1000 hops
    assert 10 <= len(chunk_fetches) <= 11
    assert [n for _, n in chunk_fetches[:10]] == [100] * 10
    assert loop_thread not in {t for t, _ in chunk_fetches}
    assert len({t for t, _ in chunk_fetches}) == 1  # one sync thread for the whole stream
    # every hop of the stream: the chunk reads plus closing the sync iterator
    assert len(hops) <= 12
    assert hops.count("next_chunk_spy") == len(chunk_fetches)


async def test_aiterator_with_a_partial_last_chunk(
    thousand_books: Author, chunk_fetches: list[tuple[int, int]]
) -> None:
    count = 0
    async for _ in Book.objects.aiterator(chunk_size=300):
        count += 1
    assert count == 1000
    assert [n for _, n in chunk_fetches] == [300, 300, 300, 100]


async def test_aiterator_streams_lazily(
    thousand_books: Author, chunk_fetches: list[tuple[int, int]]
) -> None:
    """Rows are fetched chunk by chunk as they are consumed, not all up front."""
    stream = Book.objects.order_by("pk").aiterator(chunk_size=100)
    async with aclosing(stream):
        titles: list[str] = []
        async for book in stream:
            titles.append(book.title)
            assert len(chunk_fetches) == (len(titles) - 1) // 100 + 1
            if len(titles) == 250:
                break
        assert titles[-1] == "0249"
    assert len(chunk_fetches) == 3


async def test_aiterator_of_values_and_values_list(thousand_books: Author) -> None:
    qs = Book.objects.filter(pages__lt=5).order_by("pk")
    assert [d async for d in qs.values("pages").aiterator(chunk_size=2)] == [
        {"pages": i} for i in range(5)
    ]
    assert [t async for t in qs.values_list("title", "pages").aiterator(chunk_size=3)] == [
        (f"{i:04}", i) for i in range(5)
    ]
    assert [p async for p in qs.values_list("pages", flat=True).aiterator(chunk_size=1)] == list(
        range(5)
    )


async def test_aiterator_matches_iterator(thousand_books: Author) -> None:
    qs = Book.objects.filter(pages__gte=990).order_by("-pages")
    expected = await orm.sync_to_async(lambda: [row(b) for b in qs.iterator(chunk_size=4)])()
    assert [row(b) async for b in qs.aiterator(chunk_size=4)] == expected
    assert len(expected) == 10


async def test_aiterator_on_the_manager(
    thousand_books: Author, chunk_fetches: list[tuple[int, int]]
) -> None:
    assert len([b async for b in Book.objects.aiterator(chunk_size=500)]) == 1000
    assert len(chunk_fetches) <= 3
    assert [b.pages async for b in thousand_books.books.filter(pages__lt=3).aiterator()] == [
        0,
        1,
        2,
    ]


async def test_aiterator_does_not_fill_the_result_cache(thousand_books: Author) -> None:
    qs = Book.objects.filter(pages__lt=10)
    assert len([b async for b in qs.aiterator(chunk_size=3)]) == 10
    assert qs._result_cache is None


async def test_aiterator_with_prefetch_related_loads_each_chunk(
    seed: Library, count_queries: type
) -> None:
    async with count_queries() as ctx:
        authors = [
            a
            async for a in Author.objects.prefetch_related("books")
            .order_by("name")
            .aiterator(chunk_size=2)
        ]
    # two chunks (plus the empty read), each with its own prefetch query
    assert len(ctx.queries) <= 5
    assert {
        a.name: sorted(b.title for b in a._prefetched_objects_cache["books"]) for a in authors
    } == {"ann": ["Alpha", "Beta"], "bob": ["Gamma"], "cy": []}


async def test_aiterator_select_for_update_outside_a_transaction_raises(tables: str) -> None:
    with pytest.raises(orm.TransactionManagementError):
        [b async for b in Book.objects.select_for_update().aiterator()]


# BUG 1 -----------------------------------------------------------------------
# QuerySet.aiterator() validates nothing itself: the size check lives in the
# body of the sync generator iterator(), which _next_chunk(iterator, 0) never
# starts, because islice(iterator, 0) returns without advancing it. The chunk
# is then [] and `len(chunk) < chunk_size` is `0 < 0`, False, so the loop hops
# threads forever. With -1, islice raises its own ValueError first.


async def test_aiterator_chunk_size_zero_raises_instead_of_looping_forever(tables: str) -> None:
    async def consume() -> list[Any]:
        return [b async for b in Book.objects.aiterator(chunk_size=0)]

    with pytest.raises(ValueError, match="Chunk size must be strictly positive"):
        await asyncio.wait_for(consume(), timeout=3)  # today: TimeoutError


async def test_aiterator_negative_chunk_size_gives_iterators_message(tables: str) -> None:
    with pytest.raises(ValueError, match="Chunk size must be strictly positive"):
        [b async for b in Book.objects.aiterator(chunk_size=-1)]
