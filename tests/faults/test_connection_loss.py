"""The server process behind orm's connection is terminated (RELIABILITY.md F1, F2, F17).

- F1: killed inside ``atomic()``: the next statement raises an ORM
  ``OperationalError`` caused by the psycopg error; nothing from the block is
  committed, its ``on_commit`` hooks never run, and the next call outside the
  block reconnects by itself.
- F2: killed while the connection sat idle: at most one of the next two calls
  fails, the second succeeds. A connection killed while it sat *in the pool*
  is replaced by the pool's check before anyone sees it.
- F17: killed between two chunks of ``iterator()``/``aiterator()``: the next
  chunk raises, the iterator is finished, the rows already yielded are intact
  and the next call works.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

import orm
from orm import transaction
from tests.faults.helpers import (
    backend_pid,
    committed_names,
    server_state,
    terminate,
    transaction_status,
)
from tests.faults.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# faults kill, time out and replace real connections.
pytestmark = [pytest.mark.faults, pytest.mark.transactional]


def assert_connection_error(error: BaseException) -> None:
    """An orm OperationalError (or subclass) whose cause is the driver's error."""
    assert isinstance(error, orm.OperationalError), repr(error)
    assert isinstance(error.__cause__, psycopg.Error), repr(error.__cause__)


# ----------------------------------------------------------------------------- F1


def test_f1_backend_killed_inside_atomic_persists_nothing(pg: Any) -> None:
    Item.objects.create(name="before", qty=1)
    pid = backend_pid()
    hooks: list[str] = []

    with pytest.raises(orm.OperationalError) as info:
        with transaction.atomic():
            Item.objects.create(name="f1-first")
            transaction.on_commit(lambda: hooks.append("ran"))
            terminate(pg, pid)
            Item.objects.create(name="f1-second")

    assert_connection_error(info.value)
    assert committed_names(pg, "f1-") == []  # zero rows from the block
    assert hooks == []  # on_commit hooks of a block that did not commit never run
    assert transaction.get_autocommit()  # the block is over, the wrapper is not stuck in it
    # The next call outside atomic works, with no close_old_connections()-style step.
    assert list(Item.objects.values_list("name", flat=True)) == ["before"]
    assert backend_pid() != pid
    Item.objects.create(name="f1-after")
    assert committed_names(pg, "f1-") == ["f1-after"]


def test_f1_error_inside_nested_block_rolls_back_the_outer_one_too(pg: Any) -> None:
    pid = backend_pid()
    hooks: list[str] = []

    with pytest.raises(orm.OperationalError) as info:
        with transaction.atomic():
            Item.objects.create(name="f1-outer")
            transaction.on_commit(lambda: hooks.append("outer"))
            with transaction.atomic():
                Item.objects.create(name="f1-inner")
                transaction.on_commit(lambda: hooks.append("inner"))
                terminate(pg, pid)
                Item.objects.filter(name="f1-inner").update(qty=2)

    assert_connection_error(info.value)
    assert committed_names(pg, "f1-") == []
    assert hooks == []
    assert Item.objects.count() == 0


def test_f1_caught_error_leaves_the_block_unusable_then_it_exits_clean(pg: Any) -> None:
    """Catching the error inside the block: later queries fail, nothing reconnects.

    They raise ``TransactionManagementError``, as after any other error inside
    a block, not the driver's "connection is closed".
    """
    pid = backend_pid()
    with transaction.atomic():
        Item.objects.create(name="f1-first")
        raw = orm.connection.connection
        terminate(pg, pid)
        with pytest.raises(orm.OperationalError) as info:
            Item.objects.create(name="f1-second")
        assert_connection_error(info.value)
        for _ in range(2):
            with pytest.raises(orm.TransactionManagementError):
                Item.objects.create(name="f1-third")
            # No silent reconnect mid-block: still the dead connection, still in the block.
            assert orm.connection.connection is raw
            assert orm.connection.in_atomic_block
    assert committed_names(pg, "f1-") == []
    assert Item.objects.count() == 0


# ----------------------------------------------------------------------------- F2


def test_f2_backend_killed_while_idle_at_most_one_call_fails(pg: Any) -> None:
    Item.objects.create(name="row")
    pid = backend_pid()  # warm: this thread's wrapper holds the connection
    terminate(pg, pid)

    outcomes: list[Any] = []
    for _ in range(2):
        try:
            outcomes.append(Item.objects.count())
        except orm.OperationalError as error:
            assert_connection_error(error)
            outcomes.append(error)

    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failures) <= 1, outcomes
    assert outcomes[1] == 1, outcomes  # the second call succeeds
    assert backend_pid() != pid
    assert server_state(pg, pid) is None


def test_f2_backend_killed_while_pooled_is_replaced_before_use(pg: Any) -> None:
    Item.objects.create(name="row")
    pid = backend_pid()
    orm.connections.close_current()  # back to the pool, idle
    terminate(pg, pid)

    assert Item.objects.count() == 1  # the pool's check replaced it: no call fails
    assert backend_pid() != pid


async def test_f2_async_twins_recover_in_a_scope(pg: Any) -> None:
    await Item.objects.acreate(name="row")
    opened = orm.connections.stats()["default"]["open_connections"]
    async with orm.connection_scope():
        pid = await orm.sync_to_async(backend_pid)()
        terminate(pg, pid)
        outcomes: list[Any] = []
        for _ in range(2):
            try:
                outcomes.append(await Item.objects.acount())
            except orm.OperationalError as error:
                assert_connection_error(error)
                outcomes.append(error)
        assert sum(isinstance(o, BaseException) for o in outcomes) <= 1, outcomes
        assert outcomes[1] == 1, outcomes
    assert orm.connections.stats()["default"]["open_connections"] == opened


# ---------------------------------------------------------------------------- F17


def test_f17_backend_killed_between_chunks_of_iterator(pg: Any) -> None:
    Item.objects.bulk_create([Item(name=f"r{i:02d}", qty=i) for i in range(30)])
    iterator: Any = Item.objects.order_by("name").iterator(chunk_size=10)
    try:
        first = [next(iterator) for _ in range(10)]
        terminate(pg, backend_pid())
        with pytest.raises(orm.OperationalError) as info:
            for _ in range(20):
                next(iterator)
        assert_connection_error(info.value)
        with pytest.raises(StopIteration):  # the iterator is finished, not half-alive
            next(iterator)
    finally:
        iterator.close()

    assert [(item.name, item.qty) for item in first] == [(f"r{i:02d}", i) for i in range(10)]
    assert all(item.pk is not None for item in first)
    assert orm.connection.connection is None  # the dead connection was dropped
    assert Item.objects.count() == 30  # the next call works
    assert transaction_status() == "IDLE"


def test_f17_backend_killed_between_chunks_inside_atomic(pg: Any) -> None:
    Item.objects.bulk_create([Item(name=f"r{i:02d}", qty=i) for i in range(30)])
    with pytest.raises(orm.OperationalError) as info:
        with transaction.atomic():
            Item.objects.create(name="f17-in-block")
            seen = []
            rows = Item.objects.filter(name__startswith="r").order_by("name")
            for item in rows.iterator(chunk_size=10):
                seen.append(item.name)
                if len(seen) == 10:
                    terminate(pg, backend_pid())
    assert_connection_error(info.value)
    assert seen == [f"r{i:02d}" for i in range(10)]
    assert committed_names(pg, "f17-") == []
    assert Item.objects.count() == 30


async def test_f17_backend_killed_between_chunks_of_aiterator(pg: Any) -> None:
    await Item.objects.abulk_create([Item(name=f"r{i:02d}", qty=i) for i in range(30)])
    opened = orm.connections.stats()["default"]["open_connections"]
    first: list[Item] = []
    async with orm.connection_scope():
        stream = Item.objects.order_by("name").aiterator(chunk_size=10)
        try:
            with pytest.raises(orm.OperationalError) as info:
                async for item in stream:
                    first.append(item)
                    if len(first) == 10:
                        terminate(pg, await orm.sync_to_async(backend_pid)())
            assert_connection_error(info.value)
            with pytest.raises(StopAsyncIteration):
                await stream.__anext__()
        finally:
            await stream.aclose()
        assert [(item.name, item.qty) for item in first] == [(f"r{i:02d}", i) for i in range(10)]
        assert await Item.objects.acount() == 30  # the next call in the same scope works
        assert await orm.sync_to_async(transaction_status)() == "IDLE"
    assert orm.connections.stats()["default"]["open_connections"] == opened


def execute(sql: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql)


# ----------------------------------------------------------------------- bug 1


@pytest.mark.parametrize("fault", ["terminated", "idle-in-transaction timeout"])
def test_query_after_connection_loss_inside_atomic_raises_tme(pg: Any, fault: str) -> None:
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
