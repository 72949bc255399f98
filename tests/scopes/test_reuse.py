"""Scope threads and connections are reused, and nothing of one scope reaches the next.

Scopes take their thread from a ``ScopeThreads`` pool (at most ``max_threads``,
waiting ``wait`` seconds for a free one, then an overflow thread). SQLite
connections stay open on their thread between scopes and are reset; PostgreSQL
ones go back to their pool, which resets them. Each test runs its scopes on a
one-thread pool, so the second scope provably runs on the first one's thread
(a thread-local mark survives) and, on SQLite, on its kept connection.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import orm
from orm import transaction
from orm.db.connections import connections
from orm.db.scopes import ScopeThreads
from tests.scopes.helpers import make_temp_table, temp_table_rows, wait_for_flag
from tests.scopes.models import Item

pytestmark = [pytest.mark.usefixtures("tables"), pytest.mark.transactional]

_mark = threading.local()


@pytest.fixture
async def pool() -> AsyncIterator[ScopeThreads]:
    """A pool of one thread: consecutive scopes run on the same thread."""
    threads = ScopeThreads(max_threads=1, wait=10.0)
    yield threads
    threads.close()


async def run(threads: ScopeThreads, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on the scope thread of a new scope from ``threads``."""
    async with orm.connection_scope(threads=threads):
        return await orm.sync_to_async(fn)(*args)


def mark_thread(value: str) -> int:
    """Leave ``value`` on this thread (a thread-local), return the thread's id."""
    _mark.value = value
    return threading.get_ident()


def thread_mark() -> str | None:
    return getattr(_mark, "value", None)


def driver_connection() -> Any:
    """This thread's driver connection for ``default`` (opened if need be)."""
    wrapper = orm.connections["default"]
    wrapper.ensure_connection()
    return wrapper.connection


def state_of_connection() -> dict[str, Any]:
    """What the next scope finds on its thread's ``default`` connection."""
    wrapper = orm.connections["default"]
    return {
        "mark": thread_mark(),
        "autocommit": wrapper.get_autocommit(),
        "in_atomic_block": wrapper.in_atomic_block,
        "savepoint_ids": list(wrapper.savepoint_ids),
        "hooks": len(wrapper.run_on_commit),
        "needs_rollback": wrapper.needs_rollback,
        "rows": Item.objects.count(),
        "in_transaction": wrapper.driver_in_transaction(),
    }


CLEAN = {
    "mark": "first",
    "autocommit": True,
    "in_atomic_block": False,
    "savepoint_ids": [],
    "hooks": 0,
    "needs_rollback": False,
    "rows": 0,
    "in_transaction": False,
}


# ---------------------------------------------------------------- reuse and cap


async def test_sequential_scopes_reuse_one_thread_and_its_sqlite_connection(
    pool: ScopeThreads, backend: str
) -> None:
    first = await run(pool, mark_thread, "first")
    conn = await run(pool, driver_connection)
    assert await run(pool, thread_mark) == "first"
    assert await run(pool, threading.get_ident) == first
    again = await run(pool, driver_connection)
    if backend == "sqlite":
        assert again is conn  # kept open and reset, not reopened
    else:
        # Back to the pool at each scope's end, then taken again.
        wrappers = await run(pool, lambda: orm.connections["default"].connection)
        assert wrappers is None
    assert pool.stats()["pooled"] == 1


async def test_concurrent_scopes_are_capped_at_max_threads() -> None:
    threads = ScopeThreads(max_threads=2, wait=10.0)
    running = 0
    peak = 0
    seen: set[int] = set()
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            seen.add(threading.get_ident())
        time.sleep(0.05)
        Item.objects.count()
        with lock:
            running -= 1

    try:
        await asyncio.gather(*(run(threads, work) for _ in range(8)))
        assert peak == 2
        assert len(seen) == 2
        assert threads.stats() == {
            "max_threads": 2,
            "pooled": 2,
            "idle": 2,
            "overflow": 0,
            "waiting": 0,
            "overflowed": 0,
        }
    finally:
        threads.close()


async def test_a_scope_waits_briefly_then_gets_an_overflow_thread() -> None:
    threads = ScopeThreads(max_threads=1, wait=0.05)
    release = threading.Event()
    started = threading.Event()

    def hold() -> int:
        started.set()
        release.wait(10)
        return threading.get_ident()

    try:
        holder = asyncio.ensure_future(run(threads, hold))
        await wait_for_flag(started)
        # The one pooled thread is busy: this scope runs on an extra thread.
        other = await asyncio.wait_for(run(threads, threading.get_ident), 5)
        assert threads.stats()["overflowed"] == 1
        release.set()
        assert await holder != other
        stats = threads.stats()
        assert (stats["pooled"], stats["idle"], stats["overflow"]) == (1, 1, 0)
    finally:
        release.set()
        threads.close()


async def test_a_waiter_cancelled_before_it_gets_a_thread_leaves_the_pool_intact() -> None:
    threads = ScopeThreads(max_threads=1, wait=10.0)
    release = threading.Event()
    started = threading.Event()

    def hold() -> None:
        started.set()
        release.wait(10)

    try:
        holder = asyncio.ensure_future(run(threads, hold))
        await wait_for_flag(started)
        waiter = asyncio.ensure_future(run(threads, threading.get_ident))
        await asyncio.sleep(0.05)
        assert threads.stats()["waiting"] == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        release.set()
        await holder
        assert threads.stats()["idle"] == 1
        await run(threads, Item.objects.count)  # the thread is still usable
    finally:
        release.set()
        threads.close()


# ---------------------------------------------------- nothing reaches the next scope


async def test_a_scope_that_gave_its_thread_no_call_skips_the_reset(
    pool: ScopeThreads, monkeypatch: pytest.MonkeyPatch
) -> None:
    resets: list[int] = []
    real_reset = connections.reset_current

    def counted_reset() -> tuple[int, int]:
        resets.append(threading.get_ident())
        return real_reset()

    monkeypatch.setattr(connections, "reset_current", counted_reset)
    thread = await run(pool, mark_thread, "first")
    assert resets == [thread]  # a scope that ran a call is reset on its thread
    for _ in range(3):
        async with orm.connection_scope(threads=pool):
            await asyncio.sleep(0)  # async work only: nothing on the scope's thread
    assert resets == [thread]
    stats = pool.stats()
    assert (stats["pooled"], stats["idle"]) == (1, 1)

    def leave_open() -> None:
        transaction.set_autocommit(False)
        Item.objects.create(name="uncommitted")

    await run(pool, leave_open)
    async with orm.connection_scope(threads=pool):
        pass
    # The reset that matters ran at the end of the scope that left the
    # transaction open, not at the end of the empty one after it.
    assert await run(pool, state_of_connection) == CLEAN
    assert len(resets) == 3


async def test_an_uncommitted_manual_transaction_does_not_reach_the_next_scope(
    pool: ScopeThreads,
) -> None:
    def leave_open() -> None:
        mark_thread("first")
        transaction.set_autocommit(False)
        Item.objects.create(name="uncommitted")

    await run(pool, leave_open)
    assert await run(pool, state_of_connection) == CLEAN
    await run(pool, lambda: Item.objects.create(name="next"))  # autocommit again
    assert [i.name async for i in Item.objects.all()] == ["next"]


async def test_an_atomic_block_left_open_its_savepoints_and_hooks_do_not_reach_the_next_scope(
    pool: ScopeThreads,
) -> None:
    ran: list[str] = []

    def leave_block_open() -> None:
        mark_thread("first")
        outer = transaction.atomic()
        outer.__enter__()
        Item.objects.create(name="in the block")
        transaction.atomic().__enter__()  # a savepoint, never released
        transaction.on_commit(lambda: ran.append("hook"))
        assert orm.connection.savepoint_ids

    await run(pool, leave_block_open)
    assert await run(pool, state_of_connection) == CLEAN

    def atomic_works() -> None:
        with transaction.atomic():
            Item.objects.create(name="after")

    await run(pool, atomic_works)
    assert [i.name async for i in Item.objects.all()] == ["after"]
    assert ran == []  # dropped with the block, not run by the next scope's commit


async def test_a_temp_table_does_not_reach_the_next_scope(pool: ScopeThreads) -> None:
    await run(pool, mark_thread, "first")
    await run(pool, make_temp_table, "mine")
    assert await run(pool, thread_mark) == "first"
    assert await run(pool, temp_table_rows) is None


async def test_a_session_setting_does_not_reach_the_next_scope(
    pool: ScopeThreads, backend: str
) -> None:
    if backend == "sqlite":
        change = ["PRAGMA foreign_keys = OFF", "PRAGMA case_sensitive_like = OFF"]
        probe = "SELECT (SELECT foreign_keys FROM pragma_foreign_keys), 'a' LIKE 'A'"
        fresh: tuple[Any, ...] = (1, 0)
    else:
        change = ["SET statement_timeout = '1234ms'"]
        probe = "SELECT current_setting('statement_timeout')"
        fresh = ("0",)

    def set_and_read() -> tuple[Any, ...]:
        mark_thread("first")
        with orm.connection.cursor() as cursor:
            for sql in change:
                cursor.execute(sql)
            cursor.execute(probe)
            return tuple(cursor.fetchone())

    def read() -> tuple[Any, ...]:
        assert thread_mark() == "first"
        with orm.connection.cursor() as cursor:
            cursor.execute(probe)
            return tuple(cursor.fetchone())

    assert await run(pool, set_and_read) != fresh
    assert await run(pool, read) == fresh
    # And again: a cached statement that changes the session is noticed each time.
    assert await run(pool, set_and_read) != fresh
    assert await run(pool, read) == fresh


async def test_a_scope_that_died_mid_transaction_leaves_a_clean_thread(pool: ScopeThreads) -> None:
    class Boom(Exception):
        pass

    def fail_mid_transaction() -> None:
        mark_thread("first")
        transaction.set_autocommit(False)
        Item.objects.create(name="lost")

    with pytest.raises(Boom):
        async with orm.connection_scope(threads=pool):
            await orm.sync_to_async(fail_mid_transaction)()
            raise Boom
    # The write lock (SQLite) / row lock was let go: another scope writes at once.
    other = ScopeThreads(max_threads=1, wait=1.0)
    try:
        await asyncio.wait_for(run(other, lambda: Item.objects.create(name="lost")), 5)
    finally:
        other.close()
    state = await run(pool, state_of_connection)
    assert state == {**CLEAN, "rows": 1}


async def test_cancelled_mid_scope_the_thread_comes_back_clean(pool: ScopeThreads) -> None:
    started = threading.Event()

    def slow_write() -> None:
        mark_thread("first")
        transaction.set_autocommit(False)
        Item.objects.create(name="cancelled")
        started.set()
        time.sleep(0.3)

    task = asyncio.ensure_future(run(pool, slow_write))
    await wait_for_flag(started)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Given back only once the function finished and the reset ran.
    assert pool.stats()["idle"] == 1
    assert await run(pool, state_of_connection) == CLEAN


async def test_concurrent_scopes_stay_isolated() -> None:
    threads = ScopeThreads(max_threads=2, wait=10.0)
    both = threading.Barrier(2)

    def writer() -> tuple[int, Any]:
        make_temp_table("writer's")
        transaction.set_autocommit(False)
        Item.objects.create(name="not yet")
        both.wait(5)  # the reader reads now
        both.wait(5)
        transaction.rollback()
        return threading.get_ident(), temp_table_rows()

    def reader() -> tuple[int, Any]:
        both.wait(5)
        seen = (Item.objects.filter(name="not yet").exists(), temp_table_rows())
        both.wait(5)
        return threading.get_ident(), seen

    try:
        (t1, own), (t2, seen) = await asyncio.gather(run(threads, writer), run(threads, reader))
        assert t1 != t2
        assert own == [("writer's",)]
        assert seen == (False, None)
    finally:
        threads.close()


async def test_a_failing_reset_closes_the_connection(
    pool: ScopeThreads, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await run(pool, driver_connection)
    wrapper = await run(pool, lambda: orm.connections["default"])

    def broken_reset() -> bool:
        raise orm.OperationalError("reset failed")

    monkeypatch.setattr(wrapper, "reset_connection", broken_reset)
    with caplog.at_level(logging.WARNING, logger="orm.db.scopes"):
        await run(pool, driver_connection)
    assert wrapper.connection is None
    assert "reset between scopes failed" in caplog.text
    monkeypatch.undo()
    new = await run(pool, driver_connection)
    if wrapper.vendor == "sqlite":
        assert new is not conn
        with pytest.raises(Exception, match="closed"):
            conn.execute("SELECT 1")
