"""Fault-injection regressions: bugs found while writing these tests (all fixed).

Still open (documented in the issue notes): psycopg_pool keeps timed-out waiters
queued, so pool_max_waiting can refuse a request during a slow first connect or
right after a pool timeout.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import orm
from orm import transaction
from tests.faults.helpers import (
    SLEEP_1S,
    backend_pid,
    committed_names,
    terminate,
    transaction_status,
    url_replacing,
    url_with,
)
from tests.faults.models import Item

pytestmark = [pytest.mark.faults]


def execute(sql: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql)


# ----------------------------------------------------------------------- bug 1


@pytest.mark.parametrize("fault", ["terminated", "idle-in-transaction timeout"])
def test_bug1_query_after_connection_loss_inside_atomic_raises_tme(pg: Any, fault: str) -> None:
    pid = backend_pid()
    with transaction.atomic():
        if fault == "idle-in-transaction timeout":
            execute("SET LOCAL idle_in_transaction_session_timeout = 100")
        Item.objects.create(name="bug1-first")
        if fault == "terminated":
            terminate(pg, pid)
        else:
            time.sleep(0.3)
        with pytest.raises(orm.DatabaseError) as info:
            Item.objects.create(name="bug1-second")
        with pytest.raises(orm.TransactionManagementError) as refused:
            Item.objects.create(name="bug1-third")
        assert refused.value.__cause__ is info.value
    assert committed_names(pg, "bug1-") == []


# ----------------------------------------------------------------------- bug 2


def test_bug2_idle_in_transaction_timeout_is_an_operational_error(pg: Any) -> None:
    with pytest.raises(orm.OperationalError) as info:
        with transaction.atomic():
            execute("SET LOCAL idle_in_transaction_session_timeout = 100")
            Item.objects.create(name="bug2-first")
            time.sleep(0.3)
            Item.objects.create(name="bug2-second")
    assert info.value.sqlstate == "25P03"
    assert isinstance(info.value.__cause__, psycopg.errors.IdleInTransactionSessionTimeout)


# ----------------------------------------------------------------------- bug 3


async def test_bug3_cancel_during_a_slow_aiterator_chunk_reaches_the_caller_at_once(pg: Any) -> None:
    await Item.objects.acreate(name="sleeper", qty=0)

    async def consume() -> list[str]:
        return [item.name async for item in Item.objects.filter(qty=SLEEP_1S).aiterator(chunk_size=5)]

    async with orm.connection_scope():
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(consume(), 0.1)
        elapsed = time.perf_counter() - started
        assert elapsed < 0.3, f"the timeout reached the caller after {elapsed:.2f} s"
        assert await Item.objects.acount() == 1
        assert await orm.sync_to_async(transaction_status)() == "IDLE"


# ----------------------------------------------------------------------- bug 4


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that completes the TCP handshake and then never says anything."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


def test_bug4_repeated_connect_failures_keep_reporting_the_cause(pg: Any) -> None:
    good = orm.connections.settings["default"].url
    orm.configure(url_replacing(url_with(pool_max_waiting=2), path="/no_such_db"))
    try:
        for _ in range(4):
            with pytest.raises(orm.OperationalError) as info:
                Item.objects.count()
            assert 'database "no_such_db" does not exist' in str(info.value)
    finally:
        orm.configure(good)


# ----------------------------------------------------------------------- bug 5


def test_bug5_sqlite_file_that_cannot_be_opened_is_an_operational_error(
    tables: str, tmp_path: Path
) -> None:
    if tables != "sqlite":
        pytest.skip("SQLite file paths only")
    good = orm.connections.settings["default"].url
    orm.configure(f"sqlite:///{tmp_path / 'no_such_dir' / 'db.sqlite3'}")
    try:
        with pytest.raises(orm.OperationalError, match="unable to open database file"):
            Item.objects.count()
        assert orm.connection.connection is None
        assert orm.connections.stats()["default"]["open_connections"] == 0
    finally:
        orm.configure(good)
    assert Item.objects.count() == 0


