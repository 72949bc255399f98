"""Regression tests for bugs found while writing this test package (all fixed).

Each test names the behaviour a user relies on that was once broken.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import orm
from tests.async_.conftest import Library
from tests.async_.models import Author, Book, Tag

# BUG 1 -----------------------------------------------------------------------
# QuerySet.aiterator() validates nothing itself: the size check lives in the
# body of the sync generator iterator(), which _next_chunk(iterator, 0) never
# starts, because islice(iterator, 0) returns without advancing it. The chunk
# is then [] and `len(chunk) < chunk_size` is `0 < 0`, False, so the loop hops
# threads forever. With -1, islice raises its own ValueError first.


async def test_bug1_aiterator_chunk_size_zero_raises_instead_of_looping_forever(tables: str) -> None:
    async def consume() -> list[Any]:
        return [b async for b in Book.objects.aiterator(chunk_size=0)]

    with pytest.raises(ValueError, match="Chunk size must be strictly positive"):
        await asyncio.wait_for(consume(), timeout=3)  # today: TimeoutError


async def test_bug1_aiterator_negative_chunk_size_gives_iterators_message(tables: str) -> None:
    with pytest.raises(ValueError, match="Chunk size must be strictly positive"):
        [b async for b in Book.objects.aiterator(chunk_size=-1)]


# BUG 2 -----------------------------------------------------------------------
# DESIGN.md: lazy relations in async code should be fixed by select_related,
# prefetch_related "or an awaitable fetch". For to-many relations neither works:
# Manager.all() is the generic delegate get_queryset().all(), and
# QuerySet._chain() drops the prefetched _result_cache, so `book.tags.all()`
# ran a query (N+1 in sync code) and, in
# async code, raises SynchronousOnlyOperation. Separately, count()/exists()/
# contains() call the guard before looking at _result_cache, so
# `book.tags.count()` raises even though the rows are in memory (Django
# answers from the cache).


async def test_bug2_prefetched_m2m_can_be_read_in_async_code(seed: Library, count_queries: type) -> None:
    book = await Book.objects.aget(pk=seed.alpha.pk)
    await book.afetch_related("tags")
    with count_queries() as ctx:
        names = sorted(t.name for t in book.tags.all())  # today: SynchronousOnlyOperation
    assert names == ["db", "py"]
    assert ctx.queries == []


async def test_bug2_prefetch_related_reverse_fk_can_be_read_in_async_code(seed: Library) -> None:
    authors = [a async for a in Author.objects.prefetch_related("books").order_by("name")]
    assert [sorted(b.title for b in a.books.all()) for a in authors] == [["Alpha", "Beta"], ["Gamma"], []]


async def test_bug2_count_of_prefetched_relation_needs_no_query(seed: Library) -> None:
    book = await Book.objects.aget(pk=seed.alpha.pk)
    await book.afetch_related("tags")
    assert book.tags.count() == 2  # today: SynchronousOnlyOperation (guard before cache)
    assert book.tags.exists() is True


# BUG 3 -----------------------------------------------------------------------
# DeferredAttribute.__get__ (orm/models/related.py) reuses _check_lazy_load,
# whose message is written for relations: for `only("title")` then `.pages` it
# says "Load it with the query: .select_related('pages') or
# .prefetch_related('pages'), or fetch it first with
# `await obj.afetch_related('pages')`". All three fail (afetch_related raises
# FieldError "Cannot find 'pages' ..."). It should point at
# `await obj.arefresh_from_db(fields=['pages'])` or at not deferring the field.


async def test_bug3_deferred_field_guard_gives_working_advice(seed: Library) -> None:
    book = await Book.objects.only("title").aget(pk=seed.alpha.pk)
    with pytest.raises(orm.SynchronousOnlyOperation) as info:
        _ = book.pages
    message = str(info.value)
    assert "select_related" not in message and "afetch_related" not in message
    assert "arefresh_from_db" in message


# BUG 4 -----------------------------------------------------------------------
# API.md: the guard names "the call and its a twin". The related managers'
# add/remove/clear/set have no guard of their own, so the first guarded
# internal call speaks: ManyRelatedManager.remove()/clear() -> "`QuerySet.delete()`
# ... use `await ...adelete()`" (and `await book.tags.adelete()` would delete the
# Tag rows instead of unlinking them); RelatedManager.remove()/clear() ->
# "`QuerySet.update()` ... aupdate()"; add()/set() -> transaction.atomic()'s
# message, which names no twin.

RELATED_WRITES = {
    "m2m.add": (lambda s: s.alpha.tags.add(s.unused), "add()", "aadd()"),
    "m2m.remove": (lambda s: s.alpha.tags.remove(s.py), "remove()", "aremove()"),
    "m2m.clear": (lambda s: s.alpha.tags.clear(), "clear()", "aclear()"),
    "m2m.set": (lambda s: s.alpha.tags.set([s.py]), "set()", "aset()"),
    "fk.add": (lambda s: s.ann.edited.add(s.alpha), "add()", "aadd()"),
    "fk.remove": (lambda s: s.ann.edited.remove(s.alpha), "remove()", "aremove()"),
    "fk.clear": (lambda s: s.ann.edited.clear(), "clear()", "aclear()"),
}


@pytest.mark.parametrize("name", sorted(RELATED_WRITES))
async def test_bug4_related_manager_guard_names_the_call_and_its_twin(seed: Library, name: str) -> None:
    call, sync_name, twin = RELATED_WRITES[name]
    with pytest.raises(orm.SynchronousOnlyOperation) as info:
        call(seed)
    message = str(info.value)
    assert sync_name in message and twin in message
    assert "adelete()" not in message and "aupdate()" not in message


# BUG 5 -----------------------------------------------------------------------
# QuerySet._evaluate passes the twin "async for / await ...aiterator()" to
# check_async_unsafe, which formats "use `await ...{twin}`": the message reads
# "use `await ...async for / await ...aiterator()`" (RawQuerySet: "use
# `await ...async for`"), which is not valid code.


async def test_bug5_iteration_guard_message_is_valid_advice(seed: Library) -> None:
    for evaluate in (lambda: list(Book.objects.all()),
                     lambda: list(Book.objects.raw("SELECT id FROM shared_book"))):
        with pytest.raises(orm.SynchronousOnlyOperation) as info:
            evaluate()
        assert "await ...async for" not in str(info.value)


# BUG 6 -----------------------------------------------------------------------
# API.md: "Every public method or function that touches the database has an
# a-prefixed twin". Model.validate_unique() runs one exists() query per unique
# field / unique_together, and full_clean() calls it; prefetch_related_objects()
# runs one query per lookup (Django 5 has aprefetch_related_objects). None has a
# twin; in async code full_clean() fails with a message about
# `QuerySet.exists()` / `aexists()`, calls the user never made.


def test_bug6_database_touching_api_has_twins() -> None:
    import inspect

    for owner, name in ((orm.Model, "afull_clean"), (orm.Model, "avalidate_unique"),
                        (orm, "aprefetch_related_objects")):
        assert inspect.iscoroutinefunction(getattr(owner, name, None)), name


async def test_bug6_full_clean_in_async_code_names_itself(seed: Library) -> None:
    with pytest.raises(orm.SynchronousOnlyOperation) as info:
        Author(name="ann").full_clean()
    assert "full_clean" in str(info.value)


# BUG 7 -----------------------------------------------------------------------
# QuerySet.bulk_create(objs, batch_size, ignore_conflicts) never passes
# ignore_conflicts on: writes.bulk_insert(model, objs, using, batch_size) has no
# such parameter, although the backends have insert_statement(on_conflict_ignore=).
# A conflicting row raises IntegrityError instead of being skipped, sync and async.


async def test_bug7_abulk_create_ignore_conflicts_skips_duplicates(seed: Library) -> None:
    await Tag.objects.abulk_create([Tag(name="py"), Tag(name="fresh")], ignore_conflicts=True)
    assert sorted([t.name async for t in Tag.objects.all()]) == ["db", "fresh", "py", "unused"]


def test_bug7_bulk_create_ignore_conflicts_skips_duplicates(seed: Library) -> None:
    Tag.objects.bulk_create([Tag(name="py"), Tag(name="fresh")], ignore_conflicts=True)
    assert Tag.objects.count() == 4


# BUG 8 -----------------------------------------------------------------------
# API.md: "A connection used from a thread other than the one that opened it
# raises orm.DatabaseError naming both threads." BaseDatabaseWrapper.cursor()
# checks, but CursorWrapper.execute()/_run() (orm/db/cursor.py) check neither
# thread affinity nor the async guard. A cursor fetched with
# `await orm.sync_to_async(orm.connection.cursor)()` and then used in async code
# runs its query on the event loop's thread over the sync thread's connection,
# possibly while that thread is using it (SQLite connections are opened with
# check_same_thread=False, so sqlite3 does not catch it either).


async def test_bug8_cursor_used_on_the_loop_is_refused(tables: str) -> None:
    cursor = await orm.sync_to_async(lambda: orm.connection.cursor())()
    try:
        with pytest.raises((orm.SynchronousOnlyOperation, orm.DatabaseError)):
            cursor.execute("SELECT 1")  # today: runs, on the loop's thread
    finally:
        await orm.sync_to_async(cursor.close)()


def test_bug8_cursor_used_from_another_thread_is_refused(tables: str) -> None:
    outcome: list[BaseException | None] = []
    with orm.connection.cursor() as cursor:

        def other() -> None:
            try:
                cursor.execute("SELECT 1")
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001
                outcome.append(exc)

        thread = threading.Thread(target=other, name="cursor-thief")
        thread.start()
        thread.join(10)
    assert isinstance(outcome[0], orm.DatabaseError)
    assert "cursor-thief" in str(outcome[0])


# BUG 9 -----------------------------------------------------------------------
# RelatedManager.set() (orm/models/related.py) always computes the stale objects
# and calls remove(), which raises AttributeError for a non-nullable key. Django
# (create_reverse_many_to_one_manager.set) only adds when the key is not
# nullable: `author.books.set([book])` moves `book` here and leaves the others.


async def test_bug9_set_on_non_nullable_reverse_fk_adds(seed: Library) -> None:
    await seed.ann.books.aset([seed.gamma])  # today: AttributeError from remove()
    assert sorted([b.title async for b in seed.ann.books.all()]) == ["Alpha", "Beta", "Gamma"]
