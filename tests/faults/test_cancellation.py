"""A task cancelled while its query runs on the sync thread (RELIABILITY.md F9).

``asyncio.wait_for(twin, 0.1)`` around a query the server needs one second
for: the timeout reaches the caller at once (the sync function is left to
finish on its thread; orm does not cancel the statement server-side), the
connection ends ``idle`` once it has, and the next call of the same scope
works on the same connection. Nothing is leaked when the scope ends.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import orm
from tests.faults.helpers import (
    SLEEP_1S,
    backend_pid,
    server_state,
    transaction_status,
    wait_for_state,
)
from tests.faults.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# faults kill, time out and replace real connections.
pytestmark = [pytest.mark.faults, pytest.mark.transactional]


def slow_raw_query() -> int:
    """A wrapped sync function: one raw statement the server needs a second for."""
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT 7 FROM pg_sleep(1)")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def open_server_cursors() -> int:
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


async def connection_facts() -> tuple[int, str | None]:
    return await orm.sync_to_async(backend_pid)(), await orm.sync_to_async(transaction_status)()


@pytest.mark.timing
@pytest.mark.parametrize("query", ["twin", "wrapped raw cursor"])
async def test_f9_timeout_reaches_the_caller_at_once_and_the_connection_ends_idle(
    pg: Any, query: str
) -> None:
    await Item.objects.acreate(name="sleeper", qty=0)
    opened = orm.connections.stats()["default"]["open_connections"]
    async with orm.connection_scope():
        pid = await orm.sync_to_async(backend_pid)()
        call = (
            Item.objects.filter(qty=SLEEP_1S).acount()
            if query == "twin"
            else orm.sync_to_async(slow_raw_query)()
        )
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(call, 0.1)
        elapsed = time.perf_counter() - started
        assert elapsed < 0.3, f"the timeout reached the caller after {elapsed:.2f} s"
        assert server_state(pg, pid) == "active"  # the statement goes on in the background

        # The next call of the same scope runs once the abandoned one finished.
        assert await Item.objects.acount() == 1
        assert wait_for_state(pg, pid, "idle") == "idle"
        assert await connection_facts() == (pid, "IDLE")  # same connection, not in a transaction
    assert orm.connections.stats()["default"]["open_connections"] == opened  # nothing leaked
    assert wait_for_state(pg, pid, "idle") == "idle"  # back in the pool, idle


@pytest.mark.timing
async def test_f9_cancelled_task_gets_cancelled_error_at_once(pg: Any) -> None:
    await Item.objects.acreate(name="sleeper", qty=0)
    async with orm.connection_scope():
        pid = await orm.sync_to_async(backend_pid)()
        task = asyncio.create_task(Item.objects.filter(qty=SLEEP_1S).acount())
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.perf_counter() - started < 0.2
        assert await Item.objects.acount() == 1  # same scope, works
        assert await connection_facts() == (pid, "IDLE")
    assert wait_for_state(pg, pid, "idle") == "idle"


@pytest.mark.timing
async def test_f9_cancel_between_chunks_of_aiterator_closes_the_server_cursor(pg: Any) -> None:
    await Item.objects.abulk_create([Item(name=f"r{i:02d}", qty=i) for i in range(40)])
    seen: list[str] = []

    async def consume() -> None:
        async for item in Item.objects.order_by("name").aiterator(chunk_size=5):
            seen.append(item.name)
            await asyncio.sleep(0.02)

    async with orm.connection_scope():
        pid = await orm.sync_to_async(backend_pid)()
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(consume(), 0.15)
        assert time.perf_counter() - started < 0.3
        assert 0 < len(seen) < 40
        assert seen == [f"r{i:02d}" for i in range(len(seen))]
        # The abandoned stream's cursor is closed (its generator is closed when
        # the cancelled task drops it), and the connection is idle.
        deadline = time.monotonic() + 2
        while (
            cursors := await orm.sync_to_async(open_server_cursors)()
        ) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert cursors == 0
        assert await connection_facts() == (pid, "IDLE")
        assert await Item.objects.acount() == 40
    assert wait_for_state(pg, pid, "idle") == "idle"


async def test_f9_cancel_during_a_slow_chunk_fetch_leaves_the_connection_idle(pg: Any) -> None:
    """The timeout reaches the caller at once here too: the stream's close runs in
    the background, behind the fetch still running. The connection ends clean."""
    await Item.objects.acreate(name="sleeper", qty=0)

    async def consume() -> list[str]:
        return [
            item.name async for item in Item.objects.filter(qty=SLEEP_1S).aiterator(chunk_size=5)
        ]

    async with orm.connection_scope():
        pid = await orm.sync_to_async(backend_pid)()
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(consume(), 0.1)
        # Well under the fetch's second: the caller did not wait for it.
        assert time.perf_counter() - started < 0.9
        assert await Item.objects.acount() == 1
        assert await orm.sync_to_async(open_server_cursors)() == 0
        assert await connection_facts() == (pid, "IDLE")
    assert server_state(pg, pid) == "idle"


# ----------------------------------------------------------------------- bug 3


async def test_cancel_during_a_slow_aiterator_chunk_reaches_the_caller_at_once(pg: Any) -> None:
    await Item.objects.acreate(name="sleeper", qty=0)

    async def consume() -> list[str]:
        return [
            item.name async for item in Item.objects.filter(qty=SLEEP_1S).aiterator(chunk_size=5)
        ]

    async with orm.connection_scope():
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(consume(), 0.1)
        elapsed = time.perf_counter() - started
        assert elapsed < 0.3, f"the timeout reached the caller after {elapsed:.2f} s"
        assert await Item.objects.acount() == 1
        assert await orm.sync_to_async(transaction_status)() == "IDLE"
