"""Threads and connections behind the twins.

- a connection wrapper belongs to the thread that made it;
- ``orm.sync_to_async(fn)`` and the twins of one context share one thread and
  one connection (a temporary table made in one is seen by the other);
- many concurrent twins lose nothing;
- ``connection_scope()`` gives a block its own thread and connection and
  closes it on exit;
- a cancelled caller does not stop the sync function it started.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import orm
from orm.db.scopes import DEFAULT_THREADS
from tests.async_.models import Author, Book, Tag

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional

TEMP_DDL = "CREATE TEMPORARY TABLE scratch (id INTEGER PRIMARY KEY, name VARCHAR(20), age INTEGER)"


def run_in_thread(fn: Any, name: str) -> Any:
    """Run ``fn`` in a new named thread; return its result or its exception."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=target, name=name)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    return outcome[0]


# ------------------------------------------------------------ thread affinity


def test_a_wrapper_used_from_another_thread_raises_naming_both(tables: str) -> None:
    wrapper = orm.connections["default"]
    assert wrapper.connection is None
    error = run_in_thread(wrapper.cursor, "intruder-thread")
    assert isinstance(error, orm.DatabaseError)
    message = str(error)
    assert threading.current_thread().name in message  # the owner ("MainThread")
    assert "intruder-thread" in message
    assert wrapper.connection is None  # the intruder opened nothing on it


def test_an_open_connection_used_from_another_thread_raises(tables: str) -> None:
    wrapper = orm.connections["default"]
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert wrapper.connection is not None
    for attempt in (
        wrapper.cursor,
        wrapper.commit,
        wrapper.rollback,
        lambda: wrapper.set_autocommit(False),
    ):
        error = run_in_thread(attempt, "second-thread")
        assert isinstance(error, orm.DatabaseError), attempt
        assert "second-thread" in str(error) and threading.current_thread().name in str(error)
    assert wrapper.get_autocommit() is True
    assert Author.objects.count() == 0  # still usable by its owner


def test_each_thread_gets_its_own_wrapper(tables: str) -> None:
    mine = orm.connections["default"]

    def in_thread() -> tuple[Any, int]:
        theirs = orm.connections["default"]
        with orm.connection.cursor() as cursor:  # the proxy resolves per thread
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        return theirs, Author.objects.count()

    theirs, count = run_in_thread(in_thread, "own-wrapper")
    assert theirs is not mine and count == 0
    assert theirs.thread_ident != mine.thread_ident


async def test_the_sync_threads_wrapper_used_on_the_loop_raises(
    tables: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_wrapper, sync_name = await orm.sync_to_async(
        lambda: (orm.connections["default"], threading.current_thread().name)
    )()
    # On the loop, the guard refuses first ...
    with pytest.raises(orm.SynchronousOnlyOperation):
        sync_wrapper.cursor()
    # ... and with the guard off, thread affinity still does.
    monkeypatch.setenv("ORM_ALLOW_ASYNC_UNSAFE", "1")
    with pytest.raises(orm.DatabaseError) as info:
        sync_wrapper.cursor()
    assert sync_name in str(info.value)
    assert threading.current_thread().name in str(info.value)


# --------------------------------------------- one thread, one connection


async def test_sync_to_async_and_twins_share_thread_and_connection(tables: str) -> None:
    loop_thread = threading.get_ident()

    def make_temp_table() -> tuple[int, int]:
        with orm.connection.cursor() as cursor:
            cursor.execute(TEMP_DDL)
            cursor.execute(
                "INSERT INTO scratch (id, name, age) VALUES (%s, %s, %s)", [7, "temp", 1]
            )
        return threading.get_ident(), id(orm.connections["default"])

    wrapped_thread, wrapped_wrapper = await orm.sync_to_async(make_temp_table)()
    assert wrapped_thread != loop_thread

    seen: list[tuple[int, int]] = []

    def spy(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((threading.get_ident(), id(context["connection"])))
        return execute(sql, params, many, context)

    def install() -> None:
        orm.connections["default"].execute_wrappers.append(spy)

    def uninstall() -> None:
        orm.connections["default"].execute_wrappers.remove(spy)

    await orm.sync_to_async(install)()
    try:
        # A twin sees the temporary table: it exists only on that one connection.
        temp_rows = [a async for a in Author.objects.raw("SELECT id, name, age FROM scratch")]
        assert [(a.pk, a.name, a.age) for a in temp_rows] == [(7, "temp", 1)]
        assert await Author.objects.acount() == 0
        await Author.objects.acreate(name="real")
    finally:
        await orm.sync_to_async(uninstall)()
    assert len(seen) >= 3
    assert set(seen) == {(wrapped_thread, wrapped_wrapper)}

    def read_temp_table() -> tuple[list[Any], int]:
        with orm.connection.cursor() as cursor:
            cursor.execute("SELECT name FROM scratch")
            return cursor.fetchall(), threading.get_ident()

    rows, thread_again = await orm.sync_to_async(read_temp_table)()
    assert [tuple(r) for r in rows] == [("temp",)]
    assert thread_again == wrapped_thread


async def test_the_temporary_table_is_not_visible_on_other_connections(tables: str) -> None:
    """The check above is meaningful: another connection does not see ``scratch``."""

    def make() -> None:
        with orm.connection.cursor() as cursor:
            cursor.execute(TEMP_DDL)

    await orm.sync_to_async(make)()
    error = await asyncio.to_thread(
        run_in_thread,
        lambda: list(Author.objects.raw("SELECT id, name, age FROM scratch")),
        "other",
    )
    assert isinstance(error, orm.DatabaseError)
    assert [a async for a in Author.objects.raw("SELECT id, name, age FROM scratch")] == []


# --------------------------------------------------------------- concurrency


async def test_200_concurrent_acreate_lose_nothing(tables: str) -> None:
    author = await Author.objects.acreate(name="many")
    created = await asyncio.gather(
        *(Book.objects.acreate(title=f"c{i}", author=author, pages=i) for i in range(200))
    )
    assert await Book.objects.acount() == 200
    assert len({b.pk for b in created}) == 200
    assert [b.pages for b in created] == list(range(200))
    assert sorted([p async for p in Book.objects.values_list("pages", flat=True)]) == list(
        range(200)
    )


async def test_concurrent_aget_or_create_makes_one_row(tables: str) -> None:
    results = await asyncio.gather(*(Tag.objects.aget_or_create(name="same") for _ in range(50)))
    assert await Tag.objects.acount() == 1
    assert len({tag.pk for tag, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1


async def test_concurrent_mixed_twins(tables: str) -> None:
    author = await Author.objects.acreate(name="mixed", age=0)

    async def bump(i: int) -> None:
        book = await Book.objects.acreate(title=str(i), author=author)
        await Author.objects.filter(pk=author.pk).aupdate(age=orm.F("age") + 1)
        await book.arefresh_from_db()
        book.pages = i
        await book.asave()

    await asyncio.gather(*(bump(i) for i in range(50)))
    await author.arefresh_from_db()
    assert author.age == 50
    assert (await Book.objects.aaggregate(orm.Sum("pages")))["pages__sum"] == sum(range(50))


# ------------------------------------------------------------------- scopes


async def test_connection_scope_has_its_own_thread_and_connection(tables: str) -> None:
    def ident_and_wrapper() -> tuple[int, Any]:
        return threading.get_ident(), orm.connections["default"]

    def make_temp_table() -> None:
        with orm.connection.cursor() as cursor:
            cursor.execute(TEMP_DDL)

    outside_thread, outside_wrapper = await orm.sync_to_async(ident_and_wrapper)()
    await orm.sync_to_async(make_temp_table)()
    await Author.objects.acreate(name="before")
    async with orm.connection_scope():
        scope_thread, scope_wrapper = await orm.sync_to_async(ident_and_wrapper)()
        assert scope_thread != outside_thread and scope_wrapper is not outside_wrapper
        # committed data is shared, the other connection's temp table is not
        assert [a.name async for a in Author.objects.all()] == ["before"]
        with pytest.raises(orm.DatabaseError):
            [a async for a in Author.objects.raw("SELECT id, name, age FROM scratch")]
        await Author.objects.acreate(name="inside")
        assert scope_wrapper.connection is not None
    # Returned to the pool on exit (PostgreSQL), or kept by the scope's thread, reset (SQLite).
    assert scope_wrapper.connection is None or not scope_wrapper.driver_in_transaction()
    DEFAULT_THREADS.close()  # ends the idle scope thread, closing what it kept
    assert scope_wrapper.connection is None
    assert sorted([a.name async for a in Author.objects.all()]) == ["before", "inside"]
    # back outside: the process-wide thread and its connection again
    assert (await orm.sync_to_async(ident_and_wrapper)())[0] == outside_thread
    assert [a async for a in Author.objects.raw("SELECT id, name, age FROM scratch")] == []


async def test_connection_scope_closes_its_connection_on_error(tables: str) -> None:
    holder: list[Any] = []
    with pytest.raises(RuntimeError, match="boom"):
        async with orm.connection_scope():
            await Author.objects.acount()
            holder.append(await orm.sync_to_async(lambda: orm.connections["default"])())
            raise RuntimeError("boom")
    DEFAULT_THREADS.close()  # SQLite: the scope's thread kept its connection, reset
    assert holder[0].connection is None


async def test_concurrent_scopes_each_run_their_own_twins(tables: str) -> None:
    async def request(i: int) -> int:
        async with orm.connection_scope():
            await Author.objects.acreate(name=f"r{i}")
            return int(await orm.sync_to_async(threading.get_ident)())

    global_thread = await orm.sync_to_async(threading.get_ident)()
    threads = await asyncio.gather(*(request(i) for i in range(10)))
    assert await Author.objects.acount() == 10
    assert global_thread not in threads


# ------------------------------------------------------------- cancellation


async def test_a_cancelled_caller_does_not_stop_the_sync_function(tables: str) -> None:
    started = threading.Event()

    def slow_write() -> None:
        started.set()
        time.sleep(0.2)
        Author.objects.create(name="finished anyway")

    task = asyncio.create_task(orm.sync_to_async(slow_write)())
    while not started.is_set():
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The next twin queues behind it on the same thread and sees its write.
    assert (await Author.objects.aget(name="finished anyway")).pk is not None
