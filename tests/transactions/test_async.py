"""Transactions from async code: misuse is refused, wrapped blocks work (F13, F14),
``select_for_update`` needs a block, and cancellation does not split a block (F10)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import orm
from orm import transaction
from orm.db.scopes import DEFAULT_THREADS
from tests.transactions.models import Account

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests drive the transaction state itself (autocommit, savepoints, on_commit).
pytestmark = [pytest.mark.usefixtures("tables"), pytest.mark.transactional]


class Boom(Exception):
    """Raised on purpose."""


def names() -> set[str]:
    return set(Account.objects.values_list("name", flat=True))


# ------------------------------------------------------------------- misuse


async def test_entering_atomic_on_the_event_loop_thread_is_refused(
    count_queries: Any,
) -> None:
    with count_queries() as ctx:
        with pytest.raises(orm.SynchronousOnlyOperation, match="sync_to_async"):
            with transaction.atomic():
                pass  # pragma: no cover - not reached
        with pytest.raises(orm.SynchronousOnlyOperation, match="sync_to_async"):
            with transaction.atomic(using="default", durable=True):
                pass  # pragma: no cover - not reached
    assert ctx.queries == []
    # Nothing was left half-open: a proper wrapped block works.
    await orm.sync_to_async(_create_in_block)("ok")
    assert await Account.objects.acount() == 1


def _create_in_block(name: str) -> bool:
    with transaction.atomic():
        Account.objects.create(name=name)
        return transaction.get_autocommit()


async def test_calling_a_decorated_sync_function_on_the_loop_is_refused() -> None:
    @transaction.atomic
    def create() -> None:
        Account.objects.create(name="never")  # pragma: no cover - not reached

    with pytest.raises(orm.SynchronousOnlyOperation, match="sync_to_async"):
        create()
    assert await Account.objects.acount() == 0
    # The same function, wrapped, is fine.
    await orm.sync_to_async(create)()
    assert await Account.objects.acount() == 1


def test_decorating_async_def_raises_type_error_at_decoration_time() -> None:
    calls: list[str] = []

    with pytest.raises(TypeError, match="sync_to_async"):

        @transaction.atomic
        async def bare() -> None:
            calls.append("bare")  # pragma: no cover - never called

    with pytest.raises(TypeError, match="sync_to_async"):

        @transaction.atomic(using="default")
        async def with_args() -> None:
            calls.append("with_args")  # pragma: no cover - never called

    with pytest.raises(TypeError):

        @transaction.atomic(durable=True)
        async def agen() -> Any:
            yield 1  # pragma: no cover - never called

    async def plain() -> None:
        calls.append("plain")  # pragma: no cover - never called

    with pytest.raises(TypeError):
        transaction.atomic()(plain)
    assert calls == []


async def test_async_atomic_recipe_is_refused() -> None:
    """``__enter__`` in one wrapped call, queries in later ones: refused, not mixed in."""
    cm = transaction.atomic()
    await orm.sync_to_async(cm.__enter__)()
    try:
        with pytest.raises(orm.TransactionManagementError, match="sync_to_async"):
            await Account.objects.acreate(name="inside-recipe")
        with pytest.raises(orm.TransactionManagementError):
            await Account.objects.acount()

        # A user's own wrapped function is a later call too.
        with pytest.raises(orm.TransactionManagementError):
            await orm.sync_to_async(lambda: Account.objects.create(name="wrapped"))()
    finally:
        await orm.sync_to_async(cm.__exit__)(None, None, None)
    # The block ended cleanly: nothing was written, the connection is back in autocommit.
    assert await orm.sync_to_async(transaction.get_autocommit)() is True
    assert await Account.objects.acount() == 0
    await Account.objects.acreate(name="after")
    assert await orm.sync_to_async(names)() == {"after"}


async def test_async_atomic_recipe_refuses_other_tasks_too() -> None:
    """Another task's query must not silently join the unfinished block."""
    cm = transaction.atomic()
    await orm.sync_to_async(cm.__enter__)()
    try:
        other = asyncio.ensure_future(Account.objects.acreate(name="other-task"))
        with pytest.raises(orm.TransactionManagementError):
            await other
    finally:
        await orm.sync_to_async(cm.__exit__)(None, None, None)
    assert await Account.objects.acount() == 0


async def test_async_atomic_recipe_refuses_a_nested_block_before_its_savepoint() -> None:
    """A block nested from another call is refused on entry, not only at its first query."""
    cm = transaction.atomic()
    await orm.sync_to_async(cm.__enter__)()
    try:
        entered: list[bool] = []

        def nested() -> None:
            with transaction.atomic():
                entered.append(True)

        with pytest.raises(orm.TransactionManagementError, match="sync_to_async"):
            await orm.sync_to_async(nested)()
        assert entered == []
        savepoints = await orm.sync_to_async(lambda: list(orm.connection.savepoint_ids))()
        assert savepoints == []
    finally:
        await orm.sync_to_async(cm.__exit__)(None, None, None)
    assert await orm.sync_to_async(transaction.get_autocommit)() is True


async def test_sync_async_sync_nesting_inside_a_block_shares_the_transaction() -> None:
    """F13 (v): same thread, same connection, same transaction."""
    outer_error = Boom("after nested calls")

    def probe() -> tuple[int, int, bool]:
        return threading.get_ident(), id(orm.connections["default"]), transaction.get_autocommit()

    def work(fail: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        with transaction.atomic():
            Account.objects.create(name="sync")
            result["outer"] = probe()
            result["count"] = orm.async_to_sync(Account.objects.acount)()
            orm.async_to_sync(Account.objects.acreate)(name="nested")
            result["nested"] = orm.async_to_sync(orm.sync_to_async(probe))()
            result["names"] = names()
            if fail:
                raise outer_error
        return result

    result = await orm.sync_to_async(work)(False)
    assert result["count"] == 1  # sees the block's uncommitted write
    assert result["nested"] == result["outer"]
    assert result["outer"][2] is False
    assert result["names"] == {"sync", "nested"}
    assert await orm.sync_to_async(names)() == {"sync", "nested"}

    await Account.objects.all().adelete()
    with pytest.raises(Boom) as info:
        await orm.sync_to_async(work)(True)
    assert info.value is outer_error
    # The write made through the nested async call was part of the rolled-back block.
    assert await Account.objects.acount() == 0


def test_sync_async_sync_nesting_from_a_plain_thread_shares_the_transaction() -> None:
    """The same from plain sync code (no event loop anywhere in this thread)."""

    def probe() -> tuple[int, int]:
        return threading.get_ident(), id(orm.connections["default"])

    with transaction.atomic():
        Account.objects.create(name="sync")
        assert orm.async_to_sync(Account.objects.acount)() == 1
        assert orm.async_to_sync(orm.sync_to_async(probe))() == probe()
        orm.async_to_sync(Account.objects.acreate)(name="nested")
        transaction.set_rollback(True)
    assert Account.objects.count() == 0


async def test_select_for_update_through_async_to_sync_inside_a_wrapped_block() -> None:
    def work() -> int:
        with transaction.atomic():
            account = Account.objects.create(name="a", balance=5)
            locked = orm.async_to_sync(Account.objects.select_for_update().aget)(pk=account.pk)
            return int(locked.balance)

    assert await orm.sync_to_async(work)() == 5


async def test_wrapped_transaction_inside_connection_scope() -> None:
    def transfer() -> bool:
        with transaction.atomic():
            Account.objects.create(name="scoped")
            return transaction.get_autocommit()

    async with orm.connection_scope():
        assert await orm.sync_to_async(transfer)() is False
        assert await Account.objects.acount() == 1
    assert await Account.objects.acount() == 1


# --------------------------------------------------------- select_for_update


def test_select_for_update_outside_atomic_raises(count_queries: Any) -> None:
    Account.objects.create(name="a")
    with count_queries() as ctx:
        with pytest.raises(orm.TransactionManagementError):
            list(Account.objects.select_for_update())
        with pytest.raises(orm.TransactionManagementError):
            Account.objects.select_for_update().get(name="a")
        with pytest.raises(orm.TransactionManagementError):
            Account.objects.select_for_update().filter(name="a").first()
    assert ctx.queries == []


async def test_select_for_update_outside_atomic_raises_async() -> None:
    await Account.objects.acreate(name="a")
    with pytest.raises(orm.TransactionManagementError):
        await Account.objects.select_for_update().aget(name="a")
    with pytest.raises(orm.TransactionManagementError):
        [a async for a in Account.objects.select_for_update()]


def test_select_for_update_inside_atomic_works() -> None:
    a = Account.objects.create(name="a", balance=10)
    Account.objects.create(name="b", balance=5)
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=a.pk)
        assert locked.balance == 10
        locked.balance -= 3
        locked.save()
        rows = list(Account.objects.select_for_update().order_by("name"))
        assert [(r.name, r.balance) for r in rows] == [("a", 7), ("b", 5)]
        of_self = Account.objects.select_for_update(of=("self",)).filter(name="b")
        assert [r.name for r in of_self] == ["b"]
    assert Account.objects.get(pk=a.pk).balance == 7


def test_select_for_update_nowait_and_skip_locked_together_is_refused() -> None:
    with pytest.raises(ValueError):
        Account.objects.select_for_update(nowait=True, skip_locked=True)


# -------------------------------------------------------------- cancellation


def _seed_accounts() -> tuple[int, int]:
    a = Account.objects.create(name="src", balance=100)
    b = Account.objects.create(name="dst", balance=0)
    return a.pk, b.pk


def _balances() -> dict[str, int]:
    return dict(Account.objects.values_list("name", "balance"))


async def _assert_settled(finished: threading.Event, balances: dict[str, int]) -> None:
    """The block ran to its end, the connection is back in autocommit and usable."""

    def after() -> tuple[bool, bool, dict[str, int]]:
        return finished.is_set(), transaction.get_autocommit(), _balances()

    assert await orm.sync_to_async(after)() == (True, True, balances)
    await orm.sync_to_async(_create_in_block)("next")
    assert await Account.objects.acount() == 3


async def _cancel_mid_way(fn: Any) -> float:
    """Start ``sync_to_async(fn)()``, cancel it after 0.1 s; return how long the cancel took."""
    task = asyncio.ensure_future(orm.sync_to_async(fn)())
    await asyncio.sleep(0.1)
    assert not task.done()
    task.cancel()
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    return time.monotonic() - started


async def test_cancelled_caller_does_not_split_the_block() -> None:
    """F10: cancel does not roll back; the sync function runs to completion (all or nothing)."""
    src, dst = await orm.sync_to_async(_seed_accounts)()
    finished = threading.Event()

    def transfer() -> None:
        with transaction.atomic():
            Account.objects.filter(pk=src).update(balance=orm.F("balance") - 10)
            time.sleep(0.3)
            Account.objects.filter(pk=dst).update(balance=orm.F("balance") + 10)
        finished.set()

    elapsed = await _cancel_mid_way(transfer)
    assert elapsed < 0.1, f"CancelledError took {elapsed:.3f}s to reach the caller"
    assert not finished.is_set()  # the caller was released while the block still ran

    # The next wrapped call on the same thread/connection works and sees both writes.
    await _assert_settled(finished, {"src": 90, "dst": 10})


async def test_cancelled_caller_then_function_raises_commits_nothing() -> None:
    src, dst = await orm.sync_to_async(_seed_accounts)()
    finished = threading.Event()

    def transfer() -> None:
        try:
            with transaction.atomic():
                Account.objects.filter(pk=src).update(balance=orm.F("balance") - 10)
                time.sleep(0.3)
                Account.objects.filter(pk=dst).update(balance=orm.F("balance") + 10)
                raise Boom("after the cancel")
        finally:
            finished.set()

    elapsed = await _cancel_mid_way(transfer)
    assert elapsed < 0.1, f"CancelledError took {elapsed:.3f}s to reach the caller"

    await _assert_settled(finished, {"src": 100, "dst": 0})


async def test_cancelled_caller_in_connection_scope_does_not_split_the_block() -> None:
    """The same inside a scope; the scope's exit waits for the wrapped call's thread."""
    src, dst = await orm.sync_to_async(_seed_accounts)()

    def transfer() -> None:
        with transaction.atomic():
            Account.objects.filter(pk=src).update(balance=orm.F("balance") - 10)
            time.sleep(0.3)
            Account.objects.filter(pk=dst).update(balance=orm.F("balance") + 10)

    async with orm.connection_scope():
        await _cancel_mid_way(transfer)
        assert await orm.sync_to_async(transaction.get_autocommit)() is True
        assert await orm.sync_to_async(_balances)() == {"src": 90, "dst": 10}
    assert await orm.sync_to_async(_balances)() == {"src": 90, "dst": 10}


async def test_cancelling_a_task_inside_connection_scope_commits_and_closes() -> None:
    """Cancelling the task that owns a scope: the block still completes (both writes),
    and the scope's exit closes the connection it opened."""
    src, dst = await orm.sync_to_async(_seed_accounts)()
    DEFAULT_THREADS.close()  # idle scope threads keep their (SQLite) connections
    baseline = orm.connections.stats()["default"]["open_connections"]
    finished = threading.Event()

    def transfer() -> None:
        with transaction.atomic():
            Account.objects.filter(pk=src).update(balance=orm.F("balance") - 10)
            time.sleep(0.3)
            Account.objects.filter(pk=dst).update(balance=orm.F("balance") + 10)
        finished.set()

    async def scoped() -> None:
        async with orm.connection_scope():
            await orm.sync_to_async(transfer)()

    task = asyncio.ensure_future(scoped())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()
    DEFAULT_THREADS.close()
    assert orm.connections.stats()["default"]["open_connections"] == baseline
    assert await orm.sync_to_async(_balances)() == {"src": 90, "dst": 10}


async def test_wait_for_timeout_on_wrapped_transaction() -> None:
    """``asyncio.wait_for`` is a cancellation too: TimeoutError, block still whole."""
    src, dst = await orm.sync_to_async(_seed_accounts)()

    def transfer() -> None:
        with transaction.atomic():
            Account.objects.filter(pk=src).update(balance=orm.F("balance") - 10)
            time.sleep(0.3)
            Account.objects.filter(pk=dst).update(balance=orm.F("balance") + 10)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(orm.sync_to_async(transfer)(), 0.1)
    assert time.monotonic() - started < 0.25
    assert await orm.sync_to_async(_balances)() == {"src": 90, "dst": 10}


# --------------------------------------------------------------------------
# Once broken: a connection_scope() whose task is cancelled twice (e.g. a cancel
# while the scope's exit is still waiting for a running wrapped transaction)
# leaves its connection open: the scope's cleanup
# (``await to_async(connections.close_current)()``) is itself cancelled and
# never runs, so the wrapper stays open in the handler until close_all() (on
# PostgreSQL: a pooled connection never returned). connection_scope promises
# to close its connections "however it exits". The transaction itself is fine
# (both writes committed); only the cleanup is lost.
# --------------------------------------------------------------------------


async def test_connection_scope_closes_its_connection_when_cancelled_twice() -> None:
    a = await Account.objects.acreate(name="src", balance=100)
    b = await Account.objects.acreate(name="dst", balance=0)
    DEFAULT_THREADS.close()  # idle scope threads keep their (SQLite) connections
    baseline = orm.connections.stats()["default"]["open_connections"]
    finished = threading.Event()

    def transfer() -> None:
        with transaction.atomic():
            Account.objects.filter(pk=a.pk).update(balance=orm.F("balance") - 10)
            time.sleep(0.3)
            Account.objects.filter(pk=b.pk).update(balance=orm.F("balance") + 10)
        finished.set()

    async def scoped() -> None:
        async with orm.connection_scope():
            await orm.sync_to_async(transfer)()

    task = asyncio.ensure_future(scoped())
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.sleep(0.05)
    task.cancel()  # lands while the scope's exit waits for transfer()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)  # transfer() has long finished
    assert finished.is_set()
    # Actual: baseline + 1 (the scope's connection is still open).
    DEFAULT_THREADS.close()
    assert orm.connections.stats()["default"]["open_connections"] == baseline


# --------------------------------------------------------------------------
# Once broken: ORM_ALLOW_ASYNC_UNSAFE
# turns off the event-loop guard for every sync database call (API.md "Async:
# one rule"), but not for transaction.atomic(), whose __enter__ checks
# in_event_loop_thread() directly instead of going through
# check_async_unsafe(). A notebook user (Jupyter runs a loop) who sets the
# variable can save() and filter() but cannot open a transaction, and the
# SynchronousOnlyOperation message does not say the variable does not apply.
# Django honours DJANGO_ALLOW_ASYNC_UNSAFE for atomic().
# --------------------------------------------------------------------------


async def test_atomic_honours_orm_allow_async_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORM_ALLOW_ASYNC_UNSAFE", "1")
    Account.objects.create(name="plain")  # allowed by the variable
    # Actual: SynchronousOnlyOperation from Atomic.__enter__.
    with transaction.atomic():
        Account.objects.create(name="in-block")
    assert Account.objects.count() == 2
