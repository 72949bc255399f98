"""Contended transactions from many threads and tasks (F7 ii, L4, L6)."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import orm
from orm import transaction
from tests.transactions.models import Account, Counter, Entry

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests drive the transaction state itself (autocommit, savepoints, on_commit).
pytestmark = [
    pytest.mark.usefixtures("tables"),
    pytest.mark.load,
    pytest.mark.timeout(30),
    pytest.mark.transactional,
]

THREADS = 8
PER_THREAD = 25


class Boom(Exception):
    """A transfer that fails on purpose after debiting."""


def run_threads(work: Callable[[], None]) -> list[BaseException]:
    """Run ``work`` PER_THREAD times on each of THREADS new threads; return the errors."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(10)
            for _ in range(PER_THREAD):
                work()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, name=f"load-{i}") for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(25)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return errors


def test_read_then_write_transactions_from_8_threads(tables: str) -> None:
    """SQLite: atomic() takes the write lock up front (BEGIN IMMEDIATE), so the
    naive read-modify-write inside a block loses no update and never fails with
    'database is locked'. (On PostgreSQL the same code loses updates under READ
    COMMITTED; there it needs select_for_update, tested below.)"""
    if tables != "sqlite":
        pytest.skip("read-then-write without row locks is only safe with SQLite's IMMEDIATE")
    Counter.objects.create(value=0)

    def increment() -> None:
        with transaction.atomic():
            counter = Counter.objects.get()
            counter.value += 1
            counter.save()

    started = time.monotonic()
    errors = run_threads(increment)
    assert errors == []
    assert Counter.objects.get().value == THREADS * PER_THREAD
    assert time.monotonic() - started < 10


def test_select_for_update_read_then_write_from_8_threads() -> None:
    Counter.objects.create(value=0)

    def increment() -> None:
        with transaction.atomic():
            counter = Counter.objects.select_for_update().get()
            counter.value += 1
            counter.save()

    errors = run_threads(increment)
    assert errors == []
    assert Counter.objects.get().value == THREADS * PER_THREAD


def test_f_expression_updates_from_8_threads_with_monotonic_readers() -> None:
    """One decorated function shared by all threads; concurrent readers (WAL on SQLite)
    never fail and never see the value go backwards (L6)."""
    counter = Counter.objects.create(value=0)

    @transaction.atomic
    def increment() -> None:
        Counter.objects.filter(pk=counter.pk).update(value=orm.F("value") + 1)

    stop = threading.Event()
    seen: list[list[int]] = [[], []]
    reader_errors: list[BaseException] = []

    def reader(out: list[int]) -> None:
        try:
            while not stop.is_set():
                out.append(Counter.objects.get(pk=counter.pk).value)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            reader_errors.append(exc)

    readers = [threading.Thread(target=reader, args=(out,)) for out in seen]
    for thread in readers:
        thread.start()
    try:
        errors = run_threads(increment)
    finally:
        stop.set()
        for thread in readers:
            thread.join(10)
    assert errors == []
    assert reader_errors == []
    assert Counter.objects.get().value == THREADS * PER_THREAD
    for values in seen:
        assert values, "a reader made no read"
        assert values == sorted(values)
        assert 0 <= values[0] and values[-1] <= THREADS * PER_THREAD


def test_f_expression_updates_outside_atomic_from_8_threads() -> None:
    """A single UPDATE is atomic on its own (autocommit) and waits within the busy timeout."""
    counter = Counter.objects.create(value=0)

    def increment() -> None:
        Counter.objects.filter(pk=counter.pk).update(value=orm.F("value") + 1)

    errors = run_threads(increment)
    assert errors == []
    assert Counter.objects.get().value == THREADS * PER_THREAD


# ------------------------------------------------------ concurrent transfers

ACCOUNTS = 5
INITIAL = 1000
TRANSFERS = 100


def _seed() -> list[int]:
    return [Account.objects.create(name=f"acct-{i}", balance=INITIAL).pk for i in range(ACCOUNTS)]


def transfer(src: int, dst: int, amount: int, fail: bool) -> None:
    """Move ``amount`` from ``src`` to ``dst`` with a ledger entry per leg.

    Rows are locked in primary-key order so PostgreSQL cannot deadlock; with
    ``fail`` the block raises after the debit (and its ledger entry).
    """
    with transaction.atomic():
        list(Account.objects.select_for_update().filter(pk__in=[src, dst]).order_by("pk"))
        Account.objects.filter(pk=src).update(balance=orm.F("balance") - amount)
        Entry.objects.create(account_id=src, amount=-amount)
        if fail:
            raise Boom(f"transfer {src}->{dst} of {amount}")
        Account.objects.filter(pk=dst).update(balance=orm.F("balance") + amount)
        Entry.objects.create(account_id=dst, amount=amount)


def _plan(pks: list[int]) -> list[tuple[int, int, int, bool]]:
    rng = random.Random(4)
    plan = []
    for i in range(TRANSFERS):
        src, dst = rng.sample(pks, 2)
        plan.append((src, dst, rng.randint(1, 50), i % 7 == 3))
    return plan


def _check_ledger(
    pks: list[int], plan: list[tuple[int, int, int, bool]], results: list[Any]
) -> None:
    failures = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, Boom) for r in failures), failures
    expected_failures = sum(1 for *_, fail in plan if fail)
    assert len(failures) == expected_failures
    assert all(r is None for r in results if not isinstance(r, BaseException))

    balances = dict(Account.objects.values_list("pk", "balance"))
    assert sum(balances.values()) == ACCOUNTS * INITIAL
    expected = dict.fromkeys(pks, INITIAL)
    for src, dst, amount, fail in plan:
        if not fail:
            expected[src] -= amount
            expected[dst] += amount
    assert balances == expected
    for pk in pks:
        ledger = Entry.objects.filter(account_id=pk).values_list("amount", flat=True)
        assert INITIAL + sum(ledger) == balances[pk]
    assert Entry.objects.count() == 2 * (TRANSFERS - expected_failures)
    assert sum(Entry.objects.values_list("amount", flat=True)) == 0


async def test_concurrent_wrapped_transfers_on_separate_threads() -> None:
    pks = await orm.sync_to_async(_seed)()
    plan = _plan(pks)
    started = time.monotonic()
    results = await asyncio.gather(
        *(orm.sync_to_async(transfer, thread_sensitive=False)(*args) for args in plan),
        return_exceptions=True,
    )
    assert time.monotonic() - started < 10
    await orm.sync_to_async(_check_ledger)(pks, plan, results)


async def test_concurrent_wrapped_transfers_each_in_a_connection_scope() -> None:
    pks = await orm.sync_to_async(_seed)()
    plan = _plan(pks)

    async def one(args: tuple[int, int, int, bool]) -> None:
        async with orm.connection_scope():
            await orm.sync_to_async(transfer)(*args)

    started = time.monotonic()
    results = await asyncio.gather(*(one(args) for args in plan), return_exceptions=True)
    assert time.monotonic() - started < 10
    await orm.sync_to_async(_check_ledger)(pks, plan, results)
