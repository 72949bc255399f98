"""Scopes under load (RELIABILITY.md L1, L2, L4).

- L1: 200 concurrent tasks, each in its own scope, run 10-20 random operations
  (create, read-your-write, update, delete, wrapped transactions and nested
  savepoints that fail at random); the table ends equal to the ledger of the
  operations that committed, and no connection, thread or backend is left.
- L4 through scopes: 8 scopes x 25 increments of one row lose nothing.
- L2 (PostgreSQL; SQLite has no pool): more scopes than pooled connections wait
  at most ``pool_timeout`` and fail cleanly; the pool is normal afterwards.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

import orm
from orm import F, transaction
from tests.scopes.helpers import LeakCheck, in_scope, slow_query, url_with, wait_for_flag
from tests.scopes.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# scopes and concurrent requests each need a real connection of their own.
pytestmark = [
    pytest.mark.usefixtures("tables", "wide_scope_pool"),
    pytest.mark.load,
    pytest.mark.transactional,
]

TASKS = 200
SEED = 6
FAILURE_RATE = 0.3
COUNTER = "counter"  # one row every committed transaction increments


class Boom(Exception):
    """A transaction that fails on purpose."""


def transfer(creates: dict[str, int], update: tuple[str, int] | None, fail: bool) -> None:
    """One transaction: create rows, update one, bump the shared counter, maybe fail."""
    with transaction.atomic():
        for name, qty in creates.items():
            Item.objects.create(name=name, qty=qty)
        if update is not None:
            Item.objects.filter(name=update[0]).update(qty=update[1])
        Item.objects.filter(name=COUNTER).update(qty=F("qty") + 1)
        if fail:
            raise Boom("rolled back on purpose")


def with_savepoint(outer: tuple[str, int], inner: tuple[str, int], inner_fails: bool) -> bool:
    """An outer block that always commits around an inner one that may roll back."""
    with transaction.atomic():
        Item.objects.create(name=outer[0], qty=outer[1])
        Item.objects.filter(name=COUNTER).update(qty=F("qty") + 1)
        try:
            with transaction.atomic():
                Item.objects.create(name=inner[0], qty=inner[1])
                if inner_fails:
                    raise Boom("inner block only")
        except Boom:
            return False
    return True


class Ledger:
    """The rows that must exist: updated only after an operation has committed."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.committed_transactions = 0
        self.ops: dict[str, int] = {}

    def count(self, op: str) -> None:
        self.ops[op] = self.ops.get(op, 0) + 1


async def check_row(name: str, ledger: Ledger) -> None:
    """Read-your-write: the scope sees what it just committed."""
    item = await Item.objects.aget(name=name)
    assert item.qty == ledger.rows[name], (name, item.qty, ledger.rows[name])


async def worker(i: int, ledger: Ledger) -> int:
    rnd = random.Random(SEED * 100_000 + i)  # per task: the same ops whatever the interleaving
    mine: list[str] = []
    serial = 0

    def new_name() -> str:
        nonlocal serial
        serial += 1
        return f"t{i}-{serial}"

    async with orm.connection_scope():
        thread = int(await orm.sync_to_async(threading.get_ident)())
        for _ in range(rnd.randint(10, 20)):
            op = rnd.choice(["create", "create", "update", "delete", "transaction", "savepoint"])
            if op in ("update", "delete") and not mine:
                op = "create"
            ledger.count(op)
            if op == "create":
                name, qty = new_name(), rnd.randint(0, 1000)
                item = await Item.objects.acreate(name=name, qty=qty)
                assert item.pk is not None
                ledger.rows[name] = qty
                mine.append(name)
                await check_row(name, ledger)
            elif op == "update":
                name, qty = rnd.choice(mine), rnd.randint(0, 1000)
                if rnd.random() < 0.5:
                    assert await Item.objects.filter(name=name).aupdate(qty=qty) == 1
                else:
                    item = await Item.objects.aget(name=name)
                    item.qty = qty
                    await item.asave(update_fields=["qty"])
                ledger.rows[name] = qty
                await check_row(name, ledger)
            elif op == "delete":
                name = mine.pop(rnd.randrange(len(mine)))
                deleted, _ = await Item.objects.filter(name=name).adelete()
                assert deleted == 1
                del ledger.rows[name]
                assert not await Item.objects.filter(name=name).aexists()
            elif op == "transaction":
                creates = {new_name(): rnd.randint(0, 1000) for _ in range(rnd.randint(1, 3))}
                update = (rnd.choice(mine), rnd.randint(0, 1000)) if mine else None
                fail = rnd.random() < FAILURE_RATE
                try:
                    await orm.sync_to_async(transfer)(creates, update, fail)
                except Boom:
                    assert fail
                    for name in creates:
                        assert not await Item.objects.filter(name=name).aexists()
                else:
                    assert not fail
                    ledger.rows.update(creates)
                    mine.extend(creates)
                    if update is not None:
                        ledger.rows[update[0]] = update[1]
                    ledger.committed_transactions += 1
                    for name in creates:
                        await check_row(name, ledger)
            else:  # savepoint
                outer = (new_name(), rnd.randint(0, 1000))
                inner = (new_name(), rnd.randint(0, 1000))
                inner_fails = rnd.random() < FAILURE_RATE
                kept = await orm.sync_to_async(with_savepoint)(outer, inner, inner_fails)
                assert kept is not inner_fails
                ledger.rows[outer[0]] = outer[1]
                mine.append(outer[0])
                ledger.committed_transactions += 1
                if kept:
                    ledger.rows[inner[0]] = inner[1]
                    mine.append(inner[0])
                else:
                    assert not await Item.objects.filter(name=inner[0]).aexists()
                await check_row(outer[0], ledger)
    return thread


@pytest.mark.timeout(60)
async def test_200_tasks_in_scopes_end_equal_to_the_ledger(tables: str, leaks: LeakCheck) -> None:
    if tables == "postgresql":
        orm.configure(url_with(pool_min_size=2, pool_max_size=10, pool_timeout=30))
    await Item.objects.acreate(name=COUNTER, qty=0)
    baseline = leaks.snapshot()
    ledger = Ledger()

    start = time.perf_counter()
    results = await asyncio.gather(
        *(worker(i, ledger) for i in range(TASKS)), return_exceptions=True
    )
    elapsed = time.perf_counter() - start

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} task(s) failed, first: {errors[0]!r}"
    assert len(set(results)) > 1  # the scopes really had threads of their own
    assert all(ledger.ops.get(op, 0) > 50 for op in ("create", "update", "delete", "transaction"))

    rows = {name: qty async for name, qty in Item.objects.values_list("name", "qty")}
    counter = rows.pop(COUNTER)
    assert rows == ledger.rows
    assert len(rows) == await Item.objects.exclude(name=COUNTER).acount()
    assert counter == ledger.committed_transactions
    await leaks.assert_clean(baseline)
    assert elapsed < 30, f"the load took {elapsed:.1f} s"


async def test_8_scopes_x_25_increments_lose_nothing(leaks: LeakCheck) -> None:
    await Item.objects.abulk_create([Item(name="f", qty=0), Item(name="locked", qty=0)])
    baseline = leaks.snapshot()

    def locked_increment() -> None:
        with transaction.atomic():
            row = Item.objects.select_for_update().get(name="locked")
            row.qty += 1
            row.save(update_fields=["qty"])

    async def work() -> None:
        async with orm.connection_scope():
            for _ in range(25):
                await Item.objects.filter(name="f").aupdate(qty=F("qty") + 1)
                await orm.sync_to_async(locked_increment)()

    await asyncio.gather(*(work() for _ in range(8)))
    assert {n: q async for n, q in Item.objects.values_list("name", "qty")} == {
        "f": 200,
        "locked": 200,
    }
    await leaks.assert_clean(baseline)


@pytest.mark.timing
async def test_pool_exhaustion_times_out_cleanly(tables: str, leaks: LeakCheck) -> None:
    """L2: 2 pooled connections, 4 scopes holding one for 0.2 s, pool_timeout 0.1 s."""
    if tables != "postgresql":
        pytest.skip("SQLite has no connection pool: each scope opens its own connection")
    orm.configure(url_with(pool_min_size=2, pool_max_size=2, pool_timeout=0.1))
    await asyncio.gather(in_scope(slow_query, 0), in_scope(slow_query, 0))  # both connections open
    baseline = leaks.snapshot()

    async def hold() -> tuple[str, float]:
        start = time.perf_counter()
        try:
            await in_scope(slow_query, 0.2)
        except orm.OperationalError as error:
            assert "pool_max_size=2" in str(error) and "pool_timeout=0.1" in str(error)
            return "timeout", time.perf_counter() - start
        return "ok", time.perf_counter() - start

    outcomes = await asyncio.gather(*(hold() for _ in range(4)))
    assert sorted(kind for kind, _ in outcomes) == ["ok", "ok", "timeout", "timeout"]
    waits = [seconds for kind, seconds in outcomes if kind == "timeout"]
    assert all(0.09 <= w < 0.5 for w in waits), waits  # L2 says 0.10-0.15 s; CI is noisy
    await leaks.assert_clean(baseline)
    assert (await in_scope(slow_query, 0)).rows == 0  # the pool serves again


async def test_too_many_waiting_scopes_are_refused_at_once(tables: str, leaks: LeakCheck) -> None:
    """L2, pool_max_waiting: beyond the queue limit a scope fails immediately."""
    if tables != "postgresql":
        pytest.skip("SQLite has no connection pool")
    orm.configure(url_with(pool_min_size=1, pool_max_size=1, pool_timeout=5, pool_max_waiting=1))
    await in_scope(slow_query, 0)
    baseline = leaks.snapshot()
    flag = threading.Event()

    def hold() -> None:
        slow_query(0)
        flag.set()
        time.sleep(0.3)

    holder = asyncio.create_task(in_scope(hold))
    await wait_for_flag(flag)
    waiter = asyncio.create_task(in_scope(slow_query, 0))  # queued: the one place
    await asyncio.sleep(0.05)
    with pytest.raises(orm.OperationalError, match="pool_max_waiting=1"):
        await in_scope(slow_query, 0)
    await holder
    assert (await waiter).rows == 0
    await leaks.assert_clean(baseline)
    stats: dict[str, Any] = orm.connections.stats()["default"]["pool"]
    assert stats["pool_available"] == stats["pool_size"] == 1
