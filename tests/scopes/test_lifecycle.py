"""What a scope leaves behind: nothing (RELIABILITY.md L3, L5, F9, F10, F15).

- 20 finished scopes leave no extra open connection, thread or PostgreSQL backend.
- A scope closes (or returns to the pool, idle) every connection it opened,
  however it exits: normally, with an exception, or cancelled (once or twice,
  mid-query, mid-transaction, mid-iteration); the next call works.
- A nested ``connection_scope()`` shares the outer thread and leaves its
  connection open; a scope given an executor runs its calls on it.
- A connection left inside a transaction (even a failed one) is rolled back
  before it is returned.
- A debug log line reports what each scope closed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import Any

import pytest

import orm
from orm import transaction
from orm.db.scopes import DEFAULT_THREADS
from tests.scopes.helpers import (
    LeakCheck,
    in_scope,
    make_temp_table,
    released,
    slow_query,
    temp_table_rows,
    thread_and_wrapper,
    url_with,
    wait_for_flag,
)
from tests.scopes.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# scopes and concurrent requests each need a real connection of their own.
pytestmark = [pytest.mark.usefixtures("tables"), pytest.mark.transactional]

SLOW = 0.3


class Boom(Exception):
    """Raised on purpose inside a scope."""


def slow_and_flag(flag: threading.Event, seconds: float = SLOW) -> Any:
    """Set ``flag`` once running on the scope thread, then run a ``seconds`` query."""
    flag.set()
    return slow_query(seconds)


async def grab_wrapper() -> Any:
    """The current context's ``default`` wrapper, after making sure it is connected."""
    await Item.objects.acount()
    _, wrapper = await orm.sync_to_async(thread_and_wrapper)()
    assert wrapper.connection is not None
    return wrapper


# ------------------------------------------------------------------- no leaks


async def test_20_finished_scopes_leave_no_connection_open(leaks: LeakCheck) -> None:
    await Item.objects.acreate(name="seed")  # the shared thread has its connection
    baseline = leaks.snapshot()
    assert baseline.open_connections == 1

    wrappers: list[Any] = []

    async def request(i: int) -> None:
        async with orm.connection_scope():
            await Item.objects.filter(name="seed").aupdate(qty=i)
            assert await Item.objects.acount() >= 1
            wrappers.append(await grab_wrapper())

    for i in range(10):  # one after the other ...
        await request(i)
    await asyncio.gather(*(request(i) for i in range(10, 20)))  # ... and ten at once

    # Reused: one wrapper per thread of the scope pool, not one per scope.
    assert len({id(w) for w in wrappers}) <= DEFAULT_THREADS.max_threads
    assert all(released(w) for w in wrappers)
    await leaks.assert_clean(baseline)


async def test_the_debug_log_reports_what_a_scope_closed(
    caplog: pytest.LogCaptureFixture, tables: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="orm.db.scopes")
    async with orm.connection_scope():
        await Item.objects.acount()
    async with orm.connection_scope():
        pass  # nothing opened: nothing to report
    lines = [r.getMessage() for r in caplog.records if r.name == "orm.db.scopes"]
    # SQLite keeps the connection on the scope's thread (reset); PostgreSQL's goes back.
    kept = "1 and closed 0" if tables == "sqlite" else "0 and closed 1"
    assert lines[0] == f"connection_scope kept {kept} connection(s)"


async def test_a_scope_that_opens_nothing_leaves_nothing(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    async with orm.connection_scope():
        thread, wrapper = await orm.sync_to_async(thread_and_wrapper)()
        assert released(wrapper)
    await leaks.assert_clean(baseline)


# ------------------------------------------------------ closing, however it exits


async def test_normal_exit_closes_the_scopes_connection(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    async with orm.connection_scope():
        wrapper = await grab_wrapper()
        await Item.objects.acreate(name="kept")
        assert (
            orm.connections.stats()["default"]["open_connections"] == baseline.open_connections + 1
        )
    assert released(wrapper)
    await leaks.assert_clean(baseline)
    assert await Item.objects.filter(name="kept").aexists()  # committed, not rolled back


async def test_an_exception_closes_the_scopes_connection_and_propagates(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    boom = Boom("inside the scope")
    with pytest.raises(Boom) as info:
        async with orm.connection_scope():
            wrapper = await grab_wrapper()
            await Item.objects.acreate(name="before the error")
            raise boom
    assert info.value is boom
    assert released(wrapper)
    await leaks.assert_clean(baseline)
    assert await Item.objects.filter(name="before the error").aexists()


async def test_a_failed_transaction_in_a_scope_leaves_an_idle_connection(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()

    def half_done() -> None:
        with transaction.atomic():
            Item.objects.create(name="rolled back")
            raise Boom("mid-transaction")

    with pytest.raises(Boom):
        await in_scope(half_done)
    await leaks.assert_clean(baseline)
    assert not await Item.objects.filter(name="rolled back").aexists()


async def test_a_raw_transaction_left_open_is_rolled_back_at_exit(leaks: LeakCheck) -> None:
    """F15: returned while INTRANS (or INERROR on PostgreSQL): rolled back, next user IDLE."""
    baseline = leaks.snapshot()

    def leave_open(name: str, fail: bool) -> None:
        with orm.connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("INSERT INTO scopetests_item (name, qty) VALUES (%s, %s)", [name, 1])
            if fail:
                with pytest.raises(orm.DatabaseError):
                    cursor.execute("SELECT * FROM no_such_table")

    for name, fail in (("left in a transaction", False), ("left in a failed one", True)):
        await in_scope(leave_open, name, fail)
        await leaks.assert_clean(baseline)  # PostgreSQL: every backend "idle"
    assert (await in_scope(slow_query, 0)).rows == 0  # nothing was committed


async def start_slow_task(flag: threading.Event, seconds: float = SLOW) -> tuple[Any, list[Any]]:
    """A task that enters a scope and awaits a ``seconds`` wrapped query; returns once it runs."""
    seen: list[Any] = []

    async def body() -> Any:
        async with orm.connection_scope():
            seen.append(await grab_wrapper())
            return await orm.sync_to_async(slow_and_flag)(flag, seconds)

    task = asyncio.create_task(body())
    await wait_for_flag(flag)
    return task, seen


async def test_cancelling_a_task_in_a_scope_closes_its_connection(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    flag = threading.Event()
    task, seen = await start_slow_task(flag)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert released(seen[0])  # closed after the sync function finished
    await leaks.assert_clean(baseline)
    # The next call works, in a new scope and outside any.
    assert (await in_scope(slow_query, 0)).rows == 0
    await leaks.assert_clean(baseline)
    assert await Item.objects.acount() == 0


async def test_cancelling_twice_still_closes_the_connection(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    flag = threading.Event()
    task, seen = await start_slow_task(flag, 0.6)
    task.cancel()
    await asyncio.sleep(0.05)  # the scope is now closing, behind the running query
    assert not task.done()
    task.cancel()  # a second cancellation must not strand the connection
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert released(seen[0])
    await leaks.assert_clean(baseline)
    assert (await in_scope(slow_query, 0)).rows == 0


async def test_cancelling_before_the_scope_thread_starts_anything(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()

    async def body() -> None:
        async with orm.connection_scope():
            await Item.objects.acount()

    task = asyncio.create_task(body())
    await asyncio.sleep(0)  # entered the scope, the hop is submitted
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await leaks.assert_clean(baseline)


async def test_many_cancelled_scopes_leave_the_pool_full(leaks: LeakCheck) -> None:
    """L3's shape: 3 x 10 tasks queued for 10 pooled connections, all cancelled."""
    baseline = leaks.snapshot()
    started = [threading.Event() for _ in range(30)]
    # The running queries take 1 s so that, on a loaded machine where the loop
    # wakes late, none of them has finished (and returned) before the cancel.
    tasks = [asyncio.create_task(in_scope(slow_and_flag, flag, 1.0)) for flag in started]
    await wait_for_flag(started[0])
    await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    not_cancelled = [r for r in results if not isinstance(r, asyncio.CancelledError)]
    assert not_cancelled == []
    await leaks.assert_clean(baseline)
    assert (await in_scope(slow_query, 0)).rows == 0


async def test_cancelling_mid_transaction_lets_the_block_finish_then_closes(
    leaks: LeakCheck,
) -> None:
    """Cancellation does not stop the sync function (docs/transactions.md#cancellation):
    the block commits as a whole, and only then is the connection closed, idle."""
    baseline = leaks.snapshot()
    flag = threading.Event()

    def transfer() -> None:
        with transaction.atomic():
            Item.objects.create(name="first half")
            flag.set()
            slow_query(SLOW)
            Item.objects.create(name="second half")

    task = asyncio.create_task(in_scope(transfer))
    await wait_for_flag(flag)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await leaks.assert_clean(baseline)  # no backend left "idle in transaction"
    names = {n async for n in Item.objects.values_list("name", flat=True)}
    assert names == {"first half", "second half"}


async def test_a_timed_out_call_does_not_break_its_scope(leaks: LeakCheck) -> None:
    """F9 within a scope: wait_for gives up at once; the next call of the scope
    queues behind the abandoned query on the same connection and works."""
    baseline = leaks.snapshot()
    async with orm.connection_scope():
        wrapper = await grab_wrapper()
        start = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(orm.sync_to_async(slow_query)(SLOW), 0.05)
        gave_up = time.perf_counter() - start
        hop = await orm.sync_to_async(slow_query)(0)  # waits for the abandoned one
        assert hop.wrapper == id(wrapper)
        assert time.perf_counter() - start >= SLOW
        assert await Item.objects.acount() == 0
    assert gave_up < SLOW  # the caller did not wait for the query (bound checked loosely)
    await leaks.assert_clean(baseline)


async def test_cancelling_mid_iteration_closes_the_connection(leaks: LeakCheck) -> None:
    await Item.objects.abulk_create([Item(name=f"row {i}", qty=i) for i in range(10)])
    baseline = leaks.snapshot()
    first_row = asyncio.Event()

    async def stream(close_explicitly: bool) -> None:
        async with orm.connection_scope():
            iterator = Item.objects.order_by("pk").aiterator(chunk_size=2)
            if close_explicitly:
                async with aclosing(iterator) as rows:
                    async for _ in rows:
                        first_row.set()
                        await asyncio.sleep(10)
            else:
                async for _ in iterator:
                    first_row.set()
                    await asyncio.sleep(10)

    for close_explicitly in (True, False):
        first_row.clear()
        task = asyncio.create_task(stream(close_explicitly))
        await first_row.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await leaks.assert_clean(baseline)
    assert await Item.objects.acount() == 10


# ------------------------------------------------------------ nesting, executors


async def test_a_nested_scope_shares_the_outer_thread_and_connection() -> None:
    async with orm.connection_scope():
        outer_thread, outer_wrapper = await orm.sync_to_async(thread_and_wrapper)()
        await orm.sync_to_async(make_temp_table)("outer")
        async with orm.connection_scope():
            inner_thread, inner_wrapper = await orm.sync_to_async(thread_and_wrapper)()
            assert await orm.sync_to_async(temp_table_rows)() == [("outer",)]
            await Item.objects.acreate(name="inner")
        # The inner exit closed nothing: same connection, TEMP table still there.
        assert outer_wrapper.connection is not None
        assert await orm.sync_to_async(temp_table_rows)() == [("outer",)]
        assert await Item.objects.acount() == 1
    assert (inner_thread, inner_wrapper) == (outer_thread, outer_wrapper)
    assert outer_wrapper.connection is None  # the outer scope closed it


async def test_scopes_nested_in_concurrent_scopes_stay_separate() -> None:
    barrier = threading.Barrier(4)

    def meet() -> int:
        Item.objects.count()
        barrier.wait(10)
        return threading.get_ident()

    async def outer() -> tuple[int, int]:
        async with orm.connection_scope():
            mine = await orm.sync_to_async(meet)()
            async with orm.connection_scope():
                nested = (await orm.sync_to_async(thread_and_wrapper)())[0]
            return mine, nested

    pairs = await asyncio.gather(*(outer() for _ in range(4)))
    assert all(mine == nested for mine, nested in pairs)
    assert len({mine for mine, _ in pairs}) == 4


async def test_a_scope_runs_its_calls_on_the_executor_it_is_given(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scope-exec")
    try:
        executor_thread = executor.submit(threading.get_ident).result()
        wrappers = []
        for i in range(2):  # the executor (and its thread) can serve scope after scope
            async with orm.connection_scope(executor=executor):
                thread, wrapper = await orm.sync_to_async(thread_and_wrapper)()
                hop = await orm.sync_to_async(slow_query)(0)
                await Item.objects.acreate(name=f"via executor {i}")
                assert thread == hop.thread == executor_thread
                assert wrapper.connection is not None
                wrappers.append(wrapper)
            assert wrapper.connection is None  # closed on exit ...
            assert executor.submit(lambda: 1).result() == 1  # ... the executor not shut down
        assert wrappers[0] is not wrappers[1]  # the exit dropped the thread's wrappers
    finally:
        executor.shutdown(wait=True)
    await leaks.assert_clean(baseline)
    assert await Item.objects.acount() == 2


async def test_a_scope_with_an_executor_nested_in_a_scope_uses_the_executor() -> None:
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        executor_thread = executor.submit(threading.get_ident).result()
        async with orm.connection_scope():
            outer_thread, outer_wrapper = await orm.sync_to_async(thread_and_wrapper)()
            await Item.objects.acount()
            async with orm.connection_scope(executor=executor):
                inner_thread, inner_wrapper = await orm.sync_to_async(thread_and_wrapper)()
                await Item.objects.acount()
            assert inner_wrapper.connection is None  # its own scope: closed on its exit
            assert outer_wrapper.connection is not None  # the outer's untouched
            assert (await orm.sync_to_async(thread_and_wrapper)())[0] == outer_thread
        assert inner_thread == executor_thread != outer_thread
    finally:
        executor.shutdown(wait=True)


async def test_a_cancelled_scope_with_an_executor_closes_its_connection(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        flag = threading.Event()
        seen: list[Any] = []

        async def body() -> None:
            async with orm.connection_scope(executor=executor):
                seen.append(await grab_wrapper())
                await orm.sync_to_async(slow_and_flag)(flag)

        task = asyncio.create_task(body())
        await wait_for_flag(flag)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen[0].connection is None
    finally:
        executor.shutdown(wait=True)
    await leaks.assert_clean(baseline)


# ------------------------------------------------------------ once broken


async def helper_in_a_scope() -> int:
    async with orm.connection_scope():
        return await Item.objects.acount()


async def test_a_scope_under_async_to_sync_keeps_the_callers_transaction() -> None:
    def sync_view() -> tuple[bool, list[str]]:
        with transaction.atomic():
            Item.objects.create(name="before the helper")
            assert orm.async_to_sync(helper_in_a_scope)() == 1  # same thread, sees the row
            still_open = orm.connection.connection is not None
            Item.objects.create(name="after the helper")
        return still_open, sorted(Item.objects.values_list("name", flat=True))

    still_open, names = await orm.sync_to_async(sync_view)()
    assert still_open  # today: False, the scope closed the caller's connection
    assert names == ["after the helper", "before the helper"]  # today: ["after the helper"]


async def test_a_scope_under_async_to_sync_leaves_the_callers_connection() -> None:
    def sync_caller() -> Any:
        make_temp_table("caller")
        orm.async_to_sync(helper_in_a_scope)()
        return temp_table_rows()

    assert await orm.sync_to_async(sync_caller)() == [("caller",)]  # today: None


# ------------------------------------------------------------ once broken


@pytest.fixture
def one_pooled_connection(tables: str) -> None:
    if tables != "postgresql":
        pytest.skip("PostgreSQL only: SQLite scopes open and close their own connection")
    orm.configure(url_with(pool_min_size=1, pool_max_size=1))


def poison_session() -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 50")
        cursor.execute("SELECT pg_advisory_lock(6)")
    make_temp_table("left behind")


def session_state() -> tuple[str, int, Any]:
    with orm.connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        timeout = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        locks = cursor.fetchone()[0]
    return timeout, locks, temp_table_rows()


@pytest.mark.usefixtures("one_pooled_connection")
async def test_a_later_scope_starts_with_a_clean_session() -> None:
    async with orm.connection_scope():
        await orm.sync_to_async(poison_session)()
    async with orm.connection_scope():
        state = await orm.sync_to_async(session_state)()
    assert state == ("0", 0, None)  # today: ("50ms", 1, [("left behind",)])
