"""SQLite ``database is locked`` (F7 i, iii): a writer waits ≈ the busy timeout, then
fails with an ``OperationalError`` that says how to fix it; WAL readers are not blocked."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest

import orm
from orm import transaction
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
