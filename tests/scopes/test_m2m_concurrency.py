"""Concurrent many-to-many writes on one object (issue 11, item 9).

50 requests, each in its own ``connection_scope()`` (its own thread and, on
PostgreSQL, its own pooled connection), write the tags of the SAME book at
once. Before the fix, two of them could both decide a join row was missing
and both insert it: PostgreSQL then failed the second with ``duplicate key
value violates unique constraint "..._book_id_tag_id_key"``, and two ``set()``
calls could interleave into a union of both sets. Now every write succeeds,
and the book ends with exactly one of the sets that were written.

SQLite serializes writers (``BEGIN IMMEDIATE``), so there the tests check the
same guarantees under the same load rather than a race.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import pytest

import orm
from tests.scopes.helpers import LeakCheck

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# scopes and concurrent requests each need a real connection of their own.
pytestmark = [
    pytest.mark.usefixtures("wide_scope_pool"),
    pytest.mark.load,
    pytest.mark.transactional,
]

REQUESTS = 50
ROUNDS = 8  # the race showed in about one round in three before the fix
TAGS = 8
CORE = 2  # tags every written set contains, and the only ones aadd() adds


class ConcTag(orm.Model):
    name = orm.CharField(max_length=20, unique=True)

    class Meta:
        app_label = "i11_m2m"


class ConcBook(orm.Model):
    title = orm.CharField(max_length=20)
    tags = orm.ManyToManyField(ConcTag, related_name="books")

    class Meta:
        app_label = "i11_m2m"


@pytest.fixture
def shelf(backend: str) -> Iterator[tuple[Any, list[Any]]]:
    """A book and ``TAGS`` tags on the fresh database; this thread's connection closed."""
    orm.create_tables(ConcTag, ConcBook)
    book = ConcBook.objects.create(title="shared")
    tags = [ConcTag.objects.create(name=f"t{i}") for i in range(TAGS)]
    orm.connections.close_current()
    try:
        yield book, tags
    finally:
        orm.connections.close_current()


async def in_scope(write: Any) -> BaseException | None:
    """Run one write in its own scope (as one request would); return what it raised."""
    try:
        async with orm.connection_scope():
            await write
    except Exception as exc:  # collected: the test reports every failure at once
        return exc
    return None


async def linked(book: Any) -> frozenset[str]:
    """The names of the book's tags, read in a scope of its own (which closes its connection)."""
    async with orm.connection_scope():
        return frozenset(
            await orm.sync_to_async(lambda: list(book.tags.values_list("name", flat=True)))()
        )


async def clear(book: Any) -> None:
    async with orm.connection_scope():
        await book.tags.aclear()


def assert_no_failures(results: list[BaseException | None], round_no: int) -> None:
    failures = [repr(exc) for exc in results if exc is not None]
    assert not failures, (
        f"round {round_no}: {len(failures)} of {REQUESTS} writes failed: {failures[:3]}"
    )


async def test_concurrent_aset_and_aadd_on_one_object_all_succeed_and_one_set_wins(
    shelf: tuple[Any, list[Any]],
    admin: Any,
    backend: str,
) -> None:
    book, tags = shelf
    leaks = LeakCheck(backend, admin)
    await orm.sync_to_async(lambda: None)()  # the shared thread is part of the baseline
    baseline = leaks.snapshot()
    rng = random.Random(11)
    core, rest = tags[:CORE], tags[CORE:]
    for round_no in range(ROUNDS):
        await clear(book)
        written: set[frozenset[str]] = set()
        writes = []
        for _ in range(REQUESTS):
            if rng.random() < 0.7:
                chosen = core + rng.sample(rest, rng.randint(0, len(rest)))
                rng.shuffle(chosen)
                written.add(frozenset(t.name for t in chosen))
                writes.append(book.tags.aset(chosen))
            else:
                # Adding core tags keeps "the final set is one of the written sets"
                # true, since every written set already holds them.
                writes.append(book.tags.aadd(*rng.sample(core, rng.randint(1, CORE))))
        results = await asyncio.gather(*(in_scope(w) for w in writes))
        assert_no_failures(results, round_no)
        final = await linked(book)
        assert final in written, f"round {round_no}: {sorted(final)} is no set that was written"
    await leaks.assert_clean(baseline)


async def test_concurrent_aadd_of_overlapping_objects_links_each_once(
    shelf: tuple[Any, list[Any]],
    backend: str,
) -> None:
    book, tags = shelf
    rng = random.Random(9)
    through = ConcBook.tags.through
    for round_no in range(ROUNDS):
        await clear(book)
        added: set[str] = set()
        writes = []
        for _ in range(REQUESTS):
            chosen = rng.sample(tags, rng.randint(1, 4))
            added.update(t.name for t in chosen)
            writes.append(book.tags.aadd(*chosen))
        results = await asyncio.gather(*(in_scope(w) for w in writes))
        assert_no_failures(results, round_no)
        assert await linked(book) == added
        assert await through.objects.filter(concbook=book).acount() == len(added)


async def test_concurrent_writes_from_both_sides_neither_fail_nor_deadlock(
    shelf: tuple[Any, list[Any]],
    backend: str,
) -> None:
    # Any mix: sets, adds and removes of any tags on the book, and tags adding
    # or removing the book from their side. Writers of one object take turns;
    # a writer from the other side only ever shares one join row with them.
    book, tags = shelf
    rng = random.Random(23)
    through = ConcBook.tags.through
    for round_no in range(ROUNDS):
        writes = []
        for _ in range(REQUESTS):
            chosen = rng.sample(tags, rng.randint(1, 5))
            kind = rng.choice(["set", "add", "remove", "tag_add", "tag_remove"])
            if kind == "set":
                writes.append(book.tags.aset(chosen))
            elif kind == "add":
                writes.append(book.tags.aadd(*chosen))
            elif kind == "remove":
                writes.append(book.tags.aremove(*chosen))
            elif kind == "tag_add":
                writes.append(chosen[0].books.aadd(book))
            else:
                writes.append(chosen[0].books.aremove(book))
        results = await asyncio.gather(*(in_scope(w) for w in writes))
        assert_no_failures(results, round_no)
        final = await linked(book)
        assert await through.objects.filter(concbook=book).acount() == len(final)
