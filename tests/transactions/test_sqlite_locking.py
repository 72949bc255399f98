"""SQLite ``database is locked`` (F7 i, iii): a writer waits ≈ the busy timeout, then
fails with an ``OperationalError`` that says how to fix it; WAL readers are not blocked."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import orm
from orm import transaction
from orm.backends.sqlite.writequeue import WriteQueue
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

WRITERS = 50


def _python_work() -> int:
    """About a millisecond of pure Python: the GIL is needed, as by the ORM's own code."""
    return sum(range(30_000))


def _in_threads(writer: Callable[[int], None]) -> list[BaseException]:
    """Run ``writer(n)`` in WRITERS threads at once; what they raised."""
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            writer(n)
        except BaseException as error:  # collected: the test reports them all
            errors.append(error)
        finally:
            orm.connections["default"].close()  # this thread's connection only

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_many_writing_threads_get_their_turn_in_order(backend: str) -> None:
    """50 threads x 20 write transactions, 1 s busy timeout: nobody is starved.

    Each block holds SQLite's write lock for about a millisecond, yet SQLite's
    busy handler polls (every 100 ms once a waiter has waited a while) and the
    lock goes to whoever polls right after a commit: without the process's
    first-come-first-served queue (orm/backends/sqlite/writequeue.py) about
    half a dozen of these threads ran out of their second and failed with
    "database is locked".
    """
    if backend != "sqlite":
        pytest.skip("SQLite file locking")
    path = orm.connection.settings.name
    orm.configure(f"sqlite:///{path}?timeout=1")
    orm.create_tables(*ALL_MODELS)
    Account.objects.create(name="total", balance=0)

    def writer(n: int) -> None:
        for i in range(20):
            with transaction.atomic():
                Account.objects.filter(name="total").update(balance=orm.F("balance") + 1)
                _python_work()
                Account.objects.create(name=f"w{n}-{i}")
            _python_work()  # outside the block: a new waiter arrives meanwhile

    assert _in_threads(writer) == []
    assert Account.objects.get(name="total").balance == WRITERS * 20
    assert Account.objects.count() == WRITERS * 20 + 1


def test_autocommit_writes_take_turns_too(backend: str) -> None:
    """Writes outside a block queue as well, beside threads running blocks."""
    if backend != "sqlite":
        pytest.skip("SQLite file locking")
    path = orm.connection.settings.name
    orm.configure(f"sqlite:///{path}?timeout=1")
    orm.create_tables(*ALL_MODELS)

    def writer(n: int) -> None:
        for i in range(20):
            if n % 2:
                Account.objects.create(name=f"a{n}-{i}")  # autocommit
            else:
                with transaction.atomic():
                    Account.objects.create(name=f"t{n}-{i}")
                    _python_work()
            _python_work()

    assert _in_threads(writer) == []
    assert Account.objects.count() == WRITERS * 20


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
