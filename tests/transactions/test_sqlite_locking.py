"""SQLite ``database is locked`` (F7 i, iii): a writer waits ≈ the busy timeout, then
fails with an ``OperationalError`` that says how to fix it; WAL readers are not blocked."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest

import orm
from orm import transaction
from orm.backends.sqlite.writequeue import WriteQueue, queue_for
from tests.transactions.models import ALL_MODELS, Account

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests drive the transaction state itself (autocommit, savepoints, on_commit).
pytestmark = [pytest.mark.faults, pytest.mark.timing, pytest.mark.transactional]

BUSY_TIMEOUT = 0.2


@pytest.fixture(params=["wal", "delete"])
def locked_db(request: pytest.FixtureRequest, backend: str) -> Iterator[sqlite3.Connection]:
    """orm on a file with ``?timeout=0.2``; yield a raw connection holding the write lock."""
    if backend != "sqlite":
        pytest.skip("SQLite file locking")
    path = orm.connection.settings.name
    journal_mode = request.param
    orm.configure(f"sqlite:///{path}?timeout={BUSY_TIMEOUT}&journal_mode={journal_mode}")
    orm.create_tables(*ALL_MODELS)
    Account.objects.create(name="committed", balance=1)
    with orm.connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == journal_mode
    raw = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE txtests_account SET balance = 2")  # uncommitted
        yield raw
    finally:
        raw.close()


def _assert_locked_error(error: orm.OperationalError, elapsed: float) -> None:
    message = str(error)
    assert "database is locked" in message
    assert "timeout" in message  # the fix: raise '?timeout=SECONDS' in the URL
    assert "?timeout=" in message
    assert isinstance(error.__cause__, sqlite3.OperationalError)
    assert BUSY_TIMEOUT * 0.75 <= elapsed < BUSY_TIMEOUT + 1.0, elapsed


def test_write_outside_atomic_fails_after_busy_timeout(locked_db: sqlite3.Connection) -> None:
    started = time.monotonic()
    with pytest.raises(orm.OperationalError) as info:
        Account.objects.create(name="blocked")
    _assert_locked_error(info.value, time.monotonic() - started)

    locked_db.execute("ROLLBACK")
    Account.objects.create(name="later")  # the same connection works once the lock is gone
    assert Account.objects.count() == 2


def test_entering_atomic_fails_after_busy_timeout(locked_db: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE waits for the write lock, then fails; no block is left open."""
    calls: list[str] = []
    started = time.monotonic()
    with pytest.raises(orm.OperationalError) as info:
        with transaction.atomic():
            calls.append("body")  # pragma: no cover - not reached
    _assert_locked_error(info.value, time.monotonic() - started)
    assert calls == []
    assert transaction.get_autocommit()
    with pytest.raises(orm.TransactionManagementError):
        transaction.get_rollback()  # not inside a block

    locked_db.execute("COMMIT")
    with transaction.atomic():
        Account.objects.create(name="later")
    assert dict(Account.objects.values_list("name", "balance")) == {"committed": 2, "later": 0}


def test_reader_is_not_blocked_by_a_writer(locked_db: sqlite3.Connection) -> None:
    """Readers see the last committed value at once while another connection writes."""
    started = time.monotonic()
    assert Account.objects.get(name="committed").balance == 1
    assert list(Account.objects.values_list("balance", flat=True)) == [1]
    assert time.monotonic() - started < BUSY_TIMEOUT
    locked_db.execute("COMMIT")
    assert Account.objects.get(name="committed").balance == 2


# ------------------------------------------------------------ fair write turns
# SQLite's busy handler polls and does not queue waiters, so under contention a
# writer that has waited a while keeps losing the lock to newer ones and can run
# out of its busy timeout (orm/backends/sqlite/writequeue.py). The threads of a
# process therefore take turns: the tests below hold a turn from the test's
# thread, as another thread's write transaction would, and check that blocks
# and autocommit writes wait for it and then go in arrival order.


def _sqlite_file(backend: str, timeout: float) -> str:
    if backend != "sqlite":
        pytest.skip("SQLite file locking")
    path = orm.connection.settings.name
    orm.configure(f"sqlite:///{path}?timeout={timeout}")
    orm.create_tables(*ALL_MODELS)
    return path


def test_blocks_and_autocommit_writes_wait_for_their_turn_in_arrival_order(backend: str) -> None:
    queue = queue_for(_sqlite_file(backend, timeout=5))
    assert queue.acquire(timeout=0)  # the test's thread has the turn
    done: list[tuple[str, float]] = []

    def block() -> None:
        with transaction.atomic():
            Account.objects.create(name="block")
        done.append(("block", time.monotonic()))

    def autocommit() -> None:
        Account.objects.create(name="autocommit")
        done.append(("autocommit", time.monotonic()))

    threads = [threading.Thread(target=block), threading.Thread(target=autocommit)]
    try:
        for thread in threads:
            thread.start()
            time.sleep(0.2)  # queued behind the thread started before it
        assert done == []  # both are waiting for the turn
        released = time.monotonic()
    finally:
        queue.release()
        for thread in threads:
            thread.join()
        orm.connections.close_all()
    assert [name for name, _ in done] == ["block", "autocommit"]
    assert all(at >= released for _, at in done)
    assert sorted(Account.objects.values_list("name", flat=True)) == ["autocommit", "block"]


def test_a_turn_that_does_not_come_is_database_is_locked(backend: str) -> None:
    queue = queue_for(_sqlite_file(backend, timeout=BUSY_TIMEOUT))
    errors: list[BaseException] = []

    def write() -> None:
        for attempt in (lambda: Account.objects.create(name="autocommit"), _create_in_block):
            started = time.monotonic()
            try:
                attempt()
            except orm.OperationalError as error:
                _assert_locked_error(error, time.monotonic() - started)
                errors.append(error)
        orm.connections["default"].close()

    assert queue.acquire(timeout=0)
    try:
        thread = threading.Thread(target=write)
        thread.start()
        thread.join()
    finally:
        queue.release()
    assert len(errors) == 2
    assert all("other threads of this process" in str(error) for error in errors)
    _create_in_block()  # the turn is free again
    assert list(Account.objects.values_list("name", flat=True)) == ["blocked"]


def _create_in_block() -> None:
    with transaction.atomic():
        Account.objects.create(name="blocked")


def test_write_queue_hands_turns_over_in_arrival_order() -> None:
    queue = WriteQueue("test")
    assert queue.acquire(timeout=0)
    order: list[int] = []
    arrived = [threading.Event() for _ in range(5)]

    def waiter(n: int) -> None:
        arrived[n].set()
        assert queue.acquire(timeout=5)
        order.append(n)
        queue.release()

    threads = []
    for n in range(5):
        threads.append(threading.Thread(target=waiter, args=(n,)))
        threads[-1].start()
        arrived[n].wait()
        time.sleep(0.02)  # now queued behind the previous waiter
    queue.release()
    for thread in threads:
        thread.join()
    assert order == [0, 1, 2, 3, 4]
    assert queue.acquire(timeout=0)  # free again once the last one released it


def test_write_queue_timeout_leaves_the_queue_usable() -> None:
    queue = WriteQueue("test")
    assert queue.acquire(timeout=0)
    started = time.monotonic()
    assert not queue.acquire(timeout=0.05)
    assert time.monotonic() - started >= 0.04
    queue.release()
    assert queue.acquire(timeout=0)
    error = queue.locked_error(0.05)
    assert "database is locked" in str(error) and "?timeout=" in str(error)
