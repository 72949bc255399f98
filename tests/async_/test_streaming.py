"""A stream reads one consistent snapshot and lets other writers wait as usual (issue 11, item 8).

``iterator()``/``aiterator()`` outside a transaction used to read, on SQLite,
through the same connection that every other task of the shared thread writes
with. The stream then saw writes made while it ran (a sum that every transfer
preserves came out wrong), and a write on that connection after another
connection had committed failed at once with "database is locked", ignoring the
busy timeout (the pending read pinned an old WAL snapshot, or, in
rollback-journal mode, a shared lock SQLite refuses to wait behind).

Now a SQLite stream outside a transaction reads through a connection of its
own, opened for the stream and closed when it ends; inside ``atomic()`` it
reads through the transaction's connection; a ``:memory:`` database is read
in one go. PostgreSQL needs no change (a ``WITH HOLD`` cursor is materialised
at ``DECLARE``) and runs the same tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import orm
from orm import transaction
from orm.db.scopes import DEFAULT_THREADS

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional

ACCOUNTS = 30
START = 100
TOTAL = ACCOUNTS * START
AMOUNT = 7


class Account(orm.Model):
    name = orm.CharField(max_length=20, default="acct")
    balance = orm.IntegerField(default=START)

    class Meta:
        app_label = "i11_stream"


class Missing(orm.Model):
    """A model whose table is never created: its query fails when it runs."""

    class Meta:
        app_label = "i11_stream"


@pytest.fixture
def accounts(backend: str) -> Iterator[list[int]]:
    """ACCOUNTS accounts of START each; yields their pks in order."""
    orm.create_tables(Account)
    Account.objects.bulk_create([Account() for _ in range(ACCOUNTS)])
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    orm.connections.close_current()
    yield ids
    orm.connections.close_current()


def transfer(src: int, dst: int, amount: int = AMOUNT) -> None:
    """Move ``amount`` between two accounts in one transaction (the sum is preserved)."""
    # Rows are updated in pk order, so concurrent transfers cannot deadlock (PostgreSQL).
    moves = sorted([(src, -amount), (dst, amount)])
    with transaction.atomic():
        for pk, delta in moves:
            Account.objects.filter(pk=pk).update(balance=orm.F("balance") + delta)


async def scoped_transfer(src: int, dst: int) -> None:
    """A transfer on a connection of its own (another thread)."""
    async with orm.connection_scope():
        await orm.sync_to_async(transfer)(src, dst)


def balances() -> list[int]:
    return list(Account.objects.order_by("pk").values_list("balance", flat=True))


def open_streams() -> int:
    """Streams whose database resource is still open on this thread's connection.

    SQLite: the stream connections of this thread's wrapper. PostgreSQL: the
    server-side cursors of this thread's session.
    """
    wrapper = orm.connections["default"]
    if wrapper.vendor == "sqlite":
        return int(wrapper.diagnostics()["stream_connections"])
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        row = cursor.fetchone()
    return int(row[0])


def open_sqlite_connections() -> int:
    """Every sqlite3 connection object of the process that is still open."""
    found = 0
    for obj in gc.get_objects():
        if isinstance(obj, sqlite3.Connection):
            try:
                obj.total_changes  # noqa: B018 - raises on a closed connection
            except sqlite3.ProgrammingError:
                continue
            found += 1
    return found


# ----------------------------------------------------------- one consistent snapshot


async def test_aiterator_reads_one_snapshot_while_transfers_commit_on_every_thread(
    accounts: list[int],
) -> None:
    """Money moves from rows already streamed to rows not streamed yet, mid-stream.

    Before the fix, on SQLite the stream counted the shared-thread transfer's
    credit (its connection's own write), and the next shared-thread transfer,
    after a scope's commit, failed at once with "database is locked".
    """
    first, last = accounts[0], accounts[-1]
    total = streamed = 0
    stream = Account.objects.order_by("pk").aiterator(chunk_size=4)
    async with contextlib.aclosing(stream):
        async for account in stream:
            total += account.balance
            streamed += 1
            if streamed == 1:
                await orm.sync_to_async(transfer)(first, last)  # the stream's own thread
                await scoped_transfer(first, last)  # another connection commits
                await orm.sync_to_async(transfer)(first, last)  # shared thread again
    assert streamed == ACCOUNTS
    assert total == TOTAL  # the snapshot of the stream's start
    now = await orm.sync_to_async(balances)()
    assert sum(now) == TOTAL
    assert (now[0], now[-1]) == (START - 3 * AMOUNT, START + 3 * AMOUNT)  # every transfer committed


@pytest.mark.load
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_streams_stay_exact_under_concurrent_transfers(
    accounts: list[int], seed: int
) -> None:
    """Several streams, several writers on the shared thread and in scopes, all at once."""
    rng = random.Random(seed)
    stop = asyncio.Event()
    committed: list[int] = []
    failures: list[BaseException] = []

    async def writer(scoped: bool) -> None:
        while not stop.is_set():
            src, dst = rng.sample(accounts, 2)
            try:
                if scoped:
                    await scoped_transfer(src, dst)
                else:
                    await orm.sync_to_async(transfer)(src, dst)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                failures.append(error)
            committed.append(1)
            await asyncio.sleep(0)

    async def reader(chunk_size: int) -> tuple[int, int]:
        total = rows = 0
        async for account in Account.objects.order_by("pk").aiterator(chunk_size=chunk_size):
            total += account.balance
            rows += 1
            await asyncio.sleep(0.001)  # a slow consumer: transfers commit meanwhile
        return total, rows

    writers = [asyncio.create_task(writer(scoped=i % 2 == 1)) for i in range(4)]
    try:
        before = len(committed)
        sums = await asyncio.gather(*(reader(size) for size in (1, 3, 5)))
        during = len(committed) - before
    finally:
        stop.set()
        await asyncio.gather(*writers)
    assert failures == []
    assert during > 0, "no transfer committed while the streams ran: the test proves nothing"
    assert sums == [(TOTAL, ACCOUNTS)] * 3
    assert sum(await orm.sync_to_async(balances)()) == TOTAL


def test_iterator_does_not_see_writes_made_on_its_own_thread_while_it_streams(
    accounts: list[int],
) -> None:
    stream = Account.objects.order_by("pk").values_list("balance", flat=True).iterator(chunk_size=2)
    seen = [next(stream)]
    Account.objects.update(balance=0)  # autocommit write on the same thread, mid-stream
    seen += list(stream)
    assert seen == [START] * ACCOUNTS
    assert balances() == [0] * ACCOUNTS


def test_each_stream_reads_the_data_committed_before_it_started(accounts: list[int]) -> None:
    """A stream's snapshot starts with the stream: the next one (on SQLite, through
    the connection the first one left idle) sees what was committed in between."""
    qs = Account.objects.order_by("pk").values_list("balance", flat=True)
    assert list(qs.iterator(chunk_size=4)) == [START] * ACCOUNTS
    Account.objects.update(balance=1)
    assert list(qs.iterator(chunk_size=4)) == [1] * ACCOUNTS
    transfer(accounts[0], accounts[1], 1)
    assert list(qs.iterator(chunk_size=4))[:2] == [0, 2]


def test_nested_streams_each_read_their_own_snapshot(accounts: list[int]) -> None:
    qs = Account.objects.order_by("pk").values_list("balance", flat=True)
    outer_seen, inner_sums = [], []
    for balance in qs.iterator(chunk_size=3):
        outer_seen.append(balance)
        if len(outer_seen) % 10 == 1:
            transfer(accounts[0], accounts[-1])  # the outer stream has read the first row already
            inner_sums.append(sum(qs.iterator(chunk_size=7)))
            assert open_streams() == 1  # the inner stream ended; the outer one is open
    assert sum(outer_seen) == TOTAL
    assert outer_seen[-1] == START  # credited three times meanwhile, after the outer stream began
    assert balances()[-1] == START + 3 * AMOUNT
    assert inner_sums == [TOTAL] * 3
    assert open_streams() == 0


def test_a_thread_reuses_one_idle_stream_connection(accounts: list[int]) -> None:
    """SQLite: consecutive streams of a thread share one extra connection, kept
    idle in between (no lock, no snapshot) and closed with the thread's."""
    if orm.connection.vendor != "sqlite":
        assert [len(list(Account.objects.iterator(chunk_size=5))) for _ in range(3)] == [
            ACCOUNTS
        ] * 3
        assert open_streams() == 0
        return
    before = open_sqlite_connections()
    for _ in range(3):
        assert len(list(Account.objects.iterator(chunk_size=5))) == ACCOUNTS
        assert open_sqlite_connections() == before + 2  # the thread's own and the idle one
    assert orm.connection.diagnostics()["idle_stream_connection"] is True
    Account.objects.update(balance=0)  # the idle connection holds no lock: writes go through
    orm.connections.close_current()
    assert open_sqlite_connections() == before


def test_iterator_inside_atomic_reads_through_the_transaction(accounts: list[int]) -> None:
    """Inside a transaction the stream sees the transaction's own uncommitted writes."""
    with transaction.atomic():
        Account.objects.filter(pk=accounts[0]).update(balance=0)
        inside = list(
            Account.objects.order_by("pk").values_list("balance", flat=True).iterator(chunk_size=3)
        )
        transaction.set_rollback(True)
    assert inside == [0] + [START] * (ACCOUNTS - 1)
    assert balances() == [START] * ACCOUNTS


def test_a_stream_filters_like_any_other_query(accounts: list[int]) -> None:
    """The stream's own SQLite connection has the same settings: case-sensitive
    LIKE and the REGEXP function."""
    Account.objects.filter(pk=accounts[0]).update(name="Acct")
    qs = Account.objects.order_by("pk")
    for lookup in ({"name__contains": "Ac"}, {"name__regex": "^Ac"}, {"name__icontains": "ACCT"}):
        expected = [a.pk for a in qs.filter(**lookup)]
        assert [a.pk for a in qs.filter(**lookup).iterator(chunk_size=2)] == expected, lookup
    assert len(list(qs.filter(name__contains="Ac").iterator())) == 1


def test_iterator_on_a_memory_database_reads_one_snapshot() -> None:
    """``:memory:`` cannot be opened twice, so its stream is read in one go (one snapshot)."""
    orm.configure("sqlite:///:memory:")
    try:
        orm.create_tables(Account)
        Account.objects.bulk_create([Account() for _ in range(ACCOUNTS)])
        stream = (
            Account.objects.order_by("pk").values_list("balance", flat=True).iterator(chunk_size=2)
        )
        seen = [next(stream)]
        Account.objects.update(balance=0)
        seen += list(stream)
        assert seen == [START] * ACCOUNTS
        assert orm.connection.diagnostics()["stream_connections"] == 0
    finally:
        orm.connections.close_all()


# ------------------------------------------------------------ nothing is left open


def test_stream_resources_are_released_when_a_stream_ends_is_abandoned_or_fails(
    accounts: list[int],
) -> None:
    qs = Account.objects.order_by("pk")
    assert len(list(qs.iterator(chunk_size=4))) == ACCOUNTS  # exhausted
    assert open_streams() == 0

    stream = qs.iterator(chunk_size=4)
    next(stream)
    assert open_streams() == 1
    stream.close()  # abandoned
    assert open_streams() == 0

    stream = qs.iterator(chunk_size=4)
    next(stream)
    del stream  # dropped: the generator's finalizer closes it
    gc.collect()
    assert open_streams() == 0

    with pytest.raises(orm.DatabaseError):  # the query fails when it runs: no such table
        next(Missing.objects.iterator(chunk_size=2))
    assert open_streams() == 0
    assert Account.objects.count() == ACCOUNTS  # the connection still works


def test_close_all_closes_an_abandoned_stream(accounts: list[int]) -> None:
    sqlite = orm.connection.vendor == "sqlite"
    before = open_sqlite_connections()
    stream = Account.objects.order_by("pk").iterator(chunk_size=2)
    next(stream)
    if sqlite:
        assert open_sqlite_connections() == before + 2  # the thread's connection and the stream's
    orm.connections.close_all()  # PostgreSQL: the server cursor is closed before the return
    assert open_sqlite_connections() == before
    with pytest.raises((orm.DatabaseError, orm.InterfaceError)):
        list(stream)  # the stream's connection or cursor is gone: a clear error, not wrong rows
    stream.close()
    assert Account.objects.count() == ACCOUNTS


async def test_scope_exit_closes_a_stream_left_open_inside_it(accounts: list[int]) -> None:
    DEFAULT_THREADS.close()  # idle scope threads and the connections they keep
    before = await orm.sync_to_async(open_sqlite_connections)()
    stream = Account.objects.order_by("pk").aiterator(chunk_size=2)
    async with orm.connection_scope():
        await anext(stream)
        assert await orm.sync_to_async(open_streams)() == 1
        thread = await orm.sync_to_async(threading.get_ident)()
    # The scope closed its connections, the stream's included; closing the
    # generator afterwards finds nothing left to close.
    await stream.aclose()
    assert thread != threading.get_ident()
    # The scope's thread keeps its own SQLite connection (reset), not the stream's.
    kept = 1 if orm.connections["default"].vendor == "sqlite" else 0
    assert await orm.sync_to_async(open_sqlite_connections)() == before + kept
    DEFAULT_THREADS.close()
    assert await orm.sync_to_async(open_sqlite_connections)() == before
    assert await orm.sync_to_async(open_streams)() == 0


# ---------------------------------------------- SQLite rollback journal: writers wait

BUSY_TIMEOUT = 0.5


def rollback_journal(tmp_path: Path, timeout: float) -> list[int]:
    """orm on a SQLite file in rollback-journal mode; the accounts' pks."""
    orm.configure(f"sqlite:///{tmp_path / 'journal.sqlite3'}?journal_mode=delete&timeout={timeout}")
    orm.create_tables(Account)
    Account.objects.bulk_create([Account() for _ in range(ACCOUNTS)])
    with orm.connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "delete"
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    orm.connections.close_current()
    return ids


@pytest.fixture
def journal_file(tmp_path: Path) -> Iterator[Path]:
    try:
        yield tmp_path
    finally:
        orm.connections.close_all()


@pytest.mark.timing
async def test_rollback_journal_writer_waits_for_a_stream_then_commits(journal_file: Path) -> None:
    """The stream holds a shared lock from its first row to its last: a writer
    on another connection waits for it (up to the busy timeout), then commits."""
    ids = await orm.sync_to_async(rollback_journal)(journal_file, 5.0)
    first, last = ids[0], ids[-1]
    total = 0
    writer: asyncio.Task[None] | None = None
    started = time.monotonic()
    async for account in Account.objects.order_by("pk").aiterator(chunk_size=4):
        total += account.balance
        if writer is None:
            writer = asyncio.create_task(scoped_transfer(first, last))
            started = time.monotonic()
        await asyncio.sleep(0.2 / ACCOUNTS)  # the stream lasts about 0.2 s
    assert writer is not None
    await writer
    waited = time.monotonic() - started
    assert total == TOTAL
    assert waited >= 0.15, f"the writer committed after {waited:.3f} s, during the stream"
    assert (await orm.sync_to_async(balances)())[-1] == START + AMOUNT


@pytest.mark.timing
async def test_rollback_journal_writer_on_the_streams_thread_waits_the_busy_timeout(
    journal_file: Path,
) -> None:
    """A writer that cannot get the lock while a stream runs waits up to the busy
    timeout; before the fix it failed at once (SQLite's deadlock rule) when the
    stream's pending read sat on the writer's own connection."""
    ids = await orm.sync_to_async(rollback_journal)(journal_file, BUSY_TIMEOUT)
    first, last = ids[0], ids[-1]
    ready = threading.Event()

    def hold_the_write_lock() -> None:
        with transaction.atomic():  # RESERVED now; its COMMIT waits for the stream's lock
            Account.objects.filter(pk=first).update(balance=orm.F("balance") - 1)
            ready.set()

    stream = Account.objects.order_by("pk").aiterator(chunk_size=4)
    async with contextlib.aclosing(stream):
        total = (await anext(stream)).balance
        other = asyncio.create_task(orm_scope_call(hold_the_write_lock))
        while not ready.is_set():
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(orm.OperationalError, match="database is locked"):
            await orm.sync_to_async(transfer)(first, last)  # on the stream's own thread
        waited = time.monotonic() - started
        with pytest.raises(orm.OperationalError, match="database is locked"):
            await other
        async for account in stream:
            total += account.balance
    assert waited >= BUSY_TIMEOUT * 0.75, f"failed after {waited:.3f} s instead of waiting"
    assert total == TOTAL
    assert await orm.sync_to_async(balances)() == [START] * ACCOUNTS  # nothing half-done
    await orm.sync_to_async(transfer)(first, last)  # once the stream has ended, writes go through
    assert sum(await orm.sync_to_async(balances)()) == TOTAL


async def orm_scope_call(fn: Any) -> Any:
    async with orm.connection_scope():
        return await orm.sync_to_async(fn)()
