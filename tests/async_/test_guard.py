"""The async-unsafe guard: sync database calls on the event loop's thread fail loudly.

Each guarded call must raise ``orm.SynchronousOnlyOperation`` naming the call
and its ``a`` twin (or, for a lazy relation, what to load), *before* any
query runs or any connection is opened on the loop's thread; and must work
when ``ORM_ALLOW_ASYNC_UNSAFE`` is set.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

import orm
from tests.async_.conftest import Library
from tests.async_.models import Author, Book, Tag

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional

ALLOW = "ORM_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(autouse=True)
def _guard_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW, raising=False)


def loop_thread_wrapper() -> Any:
    """The default alias's wrapper of the calling (event loop) thread."""
    return orm.connections["default"]


# (id, the sync call, what the message must contain)
GUARDED: list[tuple[str, Callable[[Library], Any], tuple[str, ...]]] = [
    ("count", lambda s: Book.objects.count(), ("QuerySet.count()", "acount()")),
    (
        "count-filtered",
        lambda s: Book.objects.filter(pages__gt=1).count(),
        ("QuerySet.count()", "acount()"),
    ),
    (
        "list",
        lambda s: list(Book.objects.all()),
        ("iterating", "QuerySet", "async for", "aiterator()"),
    ),
    (
        "for",
        lambda s: [b for b in Book.objects.filter(title="x")],
        ("iterating", "QuerySet", "async for"),
    ),
    ("len", lambda s: len(Book.objects.all()), ("len()", "QuerySet", "async for")),
    ("bool", lambda s: bool(Book.objects.all()), ("bool()", "QuerySet", "async for")),
    ("iterator", lambda s: next(Book.objects.iterator()), ("QuerySet.iterator()", "aiterator()")),
    ("save-update", lambda s: s.alpha.save(), ("Model.save()", "asave()")),
    ("save-insert", lambda s: Author(name="new").save(), ("Model.save()", "asave()")),
    ("delete-instance", lambda s: s.alpha.delete(), ("Model.delete()", "adelete()")),
    (
        "refresh_from_db",
        lambda s: s.alpha.refresh_from_db(),
        ("Model.refresh_from_db()", "arefresh_from_db()"),
    ),
    (
        "fetch_related",
        lambda s: s.alpha.fetch_related("author"),
        ("Model.fetch_related()", "afetch_related()"),
    ),
    ("get", lambda s: Book.objects.get(pk=1), ("QuerySet.get()", "aget()")),
    (
        "create",
        lambda s: Book.objects.create(title="x", author=s.ann),
        ("QuerySet.create()", "acreate()"),
    ),
    (
        "get_or_create",
        lambda s: Tag.objects.get_or_create(name="x"),
        ("QuerySet.get_or_create()", "aget_or_create()"),
    ),
    (
        "update_or_create",
        lambda s: Tag.objects.update_or_create(name="x"),
        ("QuerySet.update_or_create()", "aupdate_or_create()"),
    ),
    (
        "bulk_create",
        lambda s: Tag.objects.bulk_create([Tag(name="x")]),
        ("QuerySet.bulk_create()", "abulk_create()"),
    ),
    (
        "bulk_update",
        lambda s: Book.objects.bulk_update([s.alpha], ["pages"]),
        ("QuerySet.bulk_update()", "abulk_update()"),
    ),
    ("exists", lambda s: Book.objects.exists(), ("QuerySet.exists()", "aexists()")),
    ("first", lambda s: Book.objects.first(), ("QuerySet.first()", "afirst()")),
    ("last", lambda s: Book.objects.last(), ("QuerySet.last()", "alast()")),
    ("latest", lambda s: Book.objects.latest(), ("QuerySet.latest()", "alatest()")),
    ("earliest", lambda s: Book.objects.earliest("pages"), ("QuerySet.earliest()", "aearliest()")),
    ("in_bulk", lambda s: Book.objects.in_bulk([1]), ("QuerySet.in_bulk()", "ain_bulk()")),
    (
        "aggregate",
        lambda s: Book.objects.aggregate(orm.Sum("pages")),
        ("QuerySet.aggregate()", "aaggregate()"),
    ),
    ("update", lambda s: Book.objects.update(pages=0), ("QuerySet.update()", "aupdate()")),
    ("delete", lambda s: Book.objects.all().delete(), ("QuerySet.delete()", "adelete()")),
    ("contains", lambda s: Book.objects.contains(s.alpha), ("QuerySet.contains()", "acontains()")),
    ("explain", lambda s: Book.objects.explain(), ("QuerySet.explain()", "aexplain()")),
    (
        "raw",
        lambda s: list(Book.objects.raw("SELECT id FROM shared_book")),
        ("RawQuerySet", "async for"),
    ),
    (
        "create_tables",
        lambda s: orm.create_tables(Tag),
        ("orm.create_tables()", "acreate_tables()"),
    ),
    ("drop_tables", lambda s: orm.drop_tables(Tag), ("orm.drop_tables()", "adrop_tables()")),
    ("related-create", lambda s: s.ann.books.create(title="x"), ("create()", "acreate()")),
    ("related-count", lambda s: s.alpha.tags.count(), ("QuerySet.count()", "acount()")),
    ("related-list", lambda s: list(s.ann.books.all()), ("iterating", "async for")),
    ("related-add", lambda s: s.alpha.tags.add(s.unused), ("sync_to_async",)),
    ("related-set", lambda s: s.ann.edited.set([s.alpha]), ("sync_to_async",)),
    (
        "lazy-fk",
        lambda s: s.fresh_book.author,
        ("Book.author", "not loaded", "select_related('author')", "afetch_related('author')"),
    ),
]


@pytest.fixture
async def library(seed: Library) -> Library:
    """``seed`` plus a book loaded without its author (``fresh_book``)."""
    seed.fresh_book = await Book.objects.aget(pk=seed.alpha.pk)  # type: ignore[attr-defined]
    return seed


@pytest.mark.parametrize(("call", "words"), [pytest.param(c, w, id=i) for i, c, w in GUARDED])
async def test_sync_call_on_the_loop_raises_before_touching_the_database(
    library: Library, count_queries: type, call: Callable[[Library], Any], words: tuple[str, ...]
) -> None:
    assert loop_thread_wrapper().connection is None
    with count_queries() as ctx, pytest.raises(orm.SynchronousOnlyOperation) as info:
        call(library)
    message = str(info.value)
    for word in words:
        assert word in message
    assert ctx.queries == []
    assert loop_thread_wrapper().connection is None  # no connection opened on the loop
    # and nothing changed in the database
    assert await Book.objects.acount() == 3
    assert await Tag.objects.acount() == 3
    assert await Author.objects.acount() == 3


async def test_guard_messages_point_at_the_fix(library: Library) -> None:
    with pytest.raises(orm.SynchronousOnlyOperation) as info:
        Book.objects.count()
    assert "await" in str(info.value) and "acount()" in str(info.value)
    assert "orm.sync_to_async" in str(info.value) and ALLOW in str(info.value)
    with pytest.raises(orm.SynchronousOnlyOperation) as info:
        _ = library.fresh_book.author  # type: ignore[attr-defined]
    assert "prefetch_related('author')" in str(info.value)


async def test_guard_error_is_not_a_database_error(library: Library) -> None:
    """Callers catching DatabaseError must not swallow a programming mistake."""
    with pytest.raises(orm.SynchronousOnlyOperation) as info:
        Book.objects.count()
    assert not isinstance(info.value, orm.DatabaseError)


@pytest.mark.parametrize(
    ("call", "words"),
    [pytest.param(c, w, id=i) for i, c, w in GUARDED if i not in ("create_tables", "drop_tables")],
)
async def test_allow_async_unsafe_turns_the_guard_off(
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    count_queries: type,
    call: Callable[[Library], Any],
    words: tuple[str, ...],
) -> None:
    monkeypatch.setenv(ALLOW, "1")
    with count_queries() as ctx:
        try:
            call(library)
        except (orm.ObjectDoesNotExist, StopIteration):
            pass  # the call ran (get(pk=1) / next() may find nothing): only the guard matters
    assert ctx.queries  # it really ran, on the loop's own thread
    assert loop_thread_wrapper().connection is not None


async def test_allow_async_unsafe_covers_the_orms_own_atomic_blocks(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """delete(), bulk_create(), get_or_create(), related add() ... open atomic internally."""
    monkeypatch.setenv(ALLOW, "1")
    tag, created = Tag.objects.get_or_create(name="nb")
    assert created
    Tag.objects.bulk_create([Tag(name="nb2")])
    library.alpha.tags.add(tag)
    assert Book.objects.filter(title="Alpha").values_list("tags__name", flat=True).count() == 3
    assert Tag.objects.filter(name__startswith="nb").delete()[0] == 3  # 2 tags + 1 link
    orm.drop_tables(Book, Tag)
    orm.create_tables(Tag, Book)
    assert Book.objects.count() == 0


async def test_allow_async_unsafe_results_are_right(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW, "1")
    assert Book.objects.count() == 3
    assert [b.title for b in Book.objects.order_by("pk")] == ["Alpha", "Beta", "Gamma"]
    book = library.fresh_book  # type: ignore[attr-defined]
    assert book.author.name == "ann"
    book.pages = 1
    book.save()
    monkeypatch.delenv(ALLOW)
    assert (await Book.objects.aget(pk=book.pk)).pages == 1
    with pytest.raises(orm.SynchronousOnlyOperation):
        Book.objects.count()  # back on once the variable is gone


async def test_twins_are_not_affected_by_the_guard(library: Library) -> None:
    """The twins' sync bodies run on a thread without a loop: the guard stays quiet."""
    assert await Book.objects.acount() == 3
    await library.alpha.asave()
    assert await orm.sync_to_async(Book.objects.count)() == 3


def test_guard_is_silent_in_plain_sync_code(seed: Library) -> None:
    assert Book.objects.count() == 3
    assert seed.alpha.author.name == "ann"


def test_guard_fires_on_any_thread_running_a_loop(seed: Library) -> None:
    """Not just the main thread: a worker thread with its own loop is guarded too."""
    outcome: list[BaseException | int] = []

    async def in_worker_loop() -> int:
        return Book.objects.count()

    def worker() -> None:
        try:
            outcome.append(asyncio.run(in_worker_loop()))
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=worker, name="loop-worker")
    thread.start()
    thread.join(10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], orm.SynchronousOnlyOperation)
    assert Book.objects.count() == 3  # the main thread, without a loop, is fine


# BUG 3 -----------------------------------------------------------------------
# DeferredAttribute.__get__ (orm/models/related.py) reuses _check_lazy_load,
# whose message is written for relations: for `only("title")` then `.pages` it
# says "Load it with the query: .select_related('pages') or
# .prefetch_related('pages'), or fetch it first with
# `await obj.afetch_related('pages')`". All three fail (afetch_related raises
# FieldError "Cannot find 'pages' ..."). It should point at
# `await obj.arefresh_from_db(fields=['pages'])` or at not deferring the field.


async def test_deferred_field_guard_gives_working_advice(seed: Library) -> None:
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
async def test_related_manager_guard_names_the_call_and_its_twin(seed: Library, name: str) -> None:
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


async def test_iteration_guard_message_is_valid_advice(seed: Library) -> None:
    for evaluate in (
        lambda: list(Book.objects.all()),
        lambda: list(Book.objects.raw("SELECT id FROM shared_book")),
    ):
        with pytest.raises(orm.SynchronousOnlyOperation) as info:
            evaluate()
        assert "await ...async for" not in str(info.value)


# BUG 8 -----------------------------------------------------------------------
# API.md: "A connection used from a thread other than the one that opened it
# raises orm.DatabaseError naming both threads." BaseDatabaseWrapper.cursor()
# checks, but CursorWrapper.execute()/_run() (orm/db/cursor.py) check neither
# thread affinity nor the async guard. A cursor fetched with
# `await orm.sync_to_async(orm.connection.cursor)()` and then used in async code
# runs its query on the event loop's thread over the sync thread's connection,
# possibly while that thread is using it (SQLite connections are opened with
# check_same_thread=False, so sqlite3 does not catch it either).


async def test_cursor_used_on_the_loop_is_refused(tables: str) -> None:
    cursor = await orm.sync_to_async(lambda: orm.connection.cursor())()
    try:
        with pytest.raises((orm.SynchronousOnlyOperation, orm.DatabaseError)):
            cursor.execute("SELECT 1")  # today: runs, on the loop's thread
    finally:
        await orm.sync_to_async(cursor.close)()


def test_cursor_used_from_another_thread_is_refused(tables: str) -> None:
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
