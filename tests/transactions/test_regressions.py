"""Regression tests for bugs found while writing this test package (all fixed).

Each test names the behaviour a user relies on that was once broken.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import orm
from orm import transaction
from tests.transactions.models import Account

pytestmark = pytest.mark.usefixtures("tables")


# --------------------------------------------------------------------------
# Bug 1: after a *write* is refused in a broken block, later
# TransactionManagementErrors name the previous TransactionManagementError as
# their __cause__ instead of the database error that broke the block.
#
# Cause: transaction.mark_for_rollback_on_error (used by Model.save() and
# QuerySet.update()) overwrites conn.rollback_cause with whatever exception
# passes through it, including the TransactionManagementError raised by
# validate_no_broken_transaction() for the refused write. It should keep the
# first cause (only set rollback_cause when it is None / when the block is not
# already marked for rollback).
# --------------------------------------------------------------------------


def test_cause_stays_the_integrity_error_after_a_refused_write() -> None:
    Account.objects.create(name="dup")
    with transaction.atomic():
        with pytest.raises(orm.IntegrityError) as first:
            Account.objects.create(name="dup")
        integrity_error = first.value

        with pytest.raises(orm.TransactionManagementError) as info:
            Account.objects.create(name="refused write")
        assert info.value.__cause__ is integrity_error  # passes

        # Actual: __cause__ is the TransactionManagementError raised just above.
        with pytest.raises(orm.TransactionManagementError) as info:
            Account.objects.count()
        assert info.value.__cause__ is integrity_error

        with pytest.raises(orm.TransactionManagementError) as info:
            Account.objects.filter(name="dup").update(balance=1)
        assert info.value.__cause__ is integrity_error


# --------------------------------------------------------------------------
# Bug 2: a connection_scope() whose task is cancelled twice (e.g. a cancel
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
    assert orm.connections.stats()["default"]["open_connections"] == baseline


# --------------------------------------------------------------------------
# Bug 3 (contract inconsistency, confirm before fixing): ORM_ALLOW_ASYNC_UNSAFE
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
