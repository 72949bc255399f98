"""Errors the server raises on a healthy connection (RELIABILITY.md F4, F5, F6).

- F4: a statement timeout raises ``orm.QueryCanceled`` (an
  ``OperationalError``) with SQLSTATE 57014 kept; inside ``atomic()`` every
  later query raises ``TransactionManagementError`` until the block ends,
  which rolls back; the connection is usable afterwards.
- F5: a serialization failure (40001) and a deadlock (40P01) surface as the
  distinct ``orm.SerializationFailure`` and ``orm.DeadlockDetected``, so a
  caller can retry the whole block: the retried result is exact and the failed
  attempt leaves nothing behind.
- F6: the server ends a session idle in a transaction: the next statement
  fails, orm does not reconnect in the middle of the block, the block's writes
  are gone and the next call outside works. The error is an
  ``OperationalError`` (SQLSTATE 25P03 kept), like every other lost connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import pytest

import orm
from orm import F, transaction
from tests.faults.helpers import (
    SLEEP_1S,
    backend_pid,
    committed_names,
    is_superuser,
    isolation,
    run_threads,
    server_state,
    transaction_status,
)
from tests.faults.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# faults kill, time out and replace real connections.
pytestmark = [pytest.mark.faults, pytest.mark.transactional]

T = TypeVar("T")


def execute(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


def retry(
    block: Callable[[], T],
    attempts: int = 5,
    on: tuple[type[BaseException], ...] = (orm.SerializationFailure, orm.DeadlockDetected),
    failures: list[BaseException] | None = None,
) -> T:
    """Run ``block`` (a whole atomic block) again after a retryable error."""
    for attempt in range(attempts):
        try:
            return block()
        except on as error:
            if failures is not None:
                failures.append(error)
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------- F4


@pytest.mark.timing
def test_f4_statement_timeout_raises_query_canceled(pg: Any) -> None:
    Item.objects.create(name="sleeper", qty=0)
    execute("SET statement_timeout = 50")
    try:
        started = time.monotonic()
        with pytest.raises(orm.QueryCanceled) as raw:
            execute("SELECT pg_sleep(1)")
        with pytest.raises(orm.QueryCanceled) as through_orm:
            Item.objects.filter(qty=SLEEP_1S).count()
        elapsed = time.monotonic() - started
    finally:
        execute("RESET statement_timeout")
    for error in (raw.value, through_orm.value):
        assert isinstance(error, orm.OperationalError)
        assert error.sqlstate == "57014"
        assert isinstance(error.__cause__, psycopg.errors.QueryCanceled)
        assert "statement timeout" in str(error)
    assert elapsed < 0.9, f"two 50 ms timeouts took {elapsed:.2f} s"
    # The connection is usable after: same server process, idle, answers.
    assert Item.objects.count() == 1
    assert transaction_status() == "IDLE"


def test_f4_statement_timeout_inside_atomic_breaks_the_block_until_it_ends(pg: Any) -> None:
    Item.objects.create(name="sleeper", qty=0)
    pid = backend_pid()
    hooks: list[str] = []
    with transaction.atomic():
        Item.objects.create(name="f4-before")
        transaction.on_commit(lambda: hooks.append("ran"))
        execute("SET LOCAL statement_timeout = 50")
        with pytest.raises(orm.QueryCanceled) as info:
            Item.objects.filter(qty=SLEEP_1S).count()
        assert info.value.sqlstate == "57014"
        for later in (
            lambda: Item.objects.count(),
            lambda: Item.objects.create(name="f4-after"),
            lambda: execute("SELECT 1"),
        ):
            with pytest.raises(orm.TransactionManagementError) as refused:
                later()
            assert refused.value.__cause__ is info.value
    # The block ended by rolling back: nothing it wrote is there, no hook ran.
    assert committed_names(pg, "f4-") == []
    assert hooks == []
    assert transaction_status() == "IDLE"
    assert backend_pid() == pid  # the same connection, usable: the error was statement-level
    assert execute("SHOW statement_timeout") == [("0",)]  # SET LOCAL ended with the block
    assert Item.objects.count() == 1


def test_f4_statement_timeout_in_a_nested_block_only_rolls_back_its_savepoint(pg: Any) -> None:
    Item.objects.create(name="sleeper", qty=0)
    with transaction.atomic():
        Item.objects.create(name="f4-outer")
        execute("SET LOCAL statement_timeout = 50")
        with pytest.raises(orm.QueryCanceled):
            with transaction.atomic():
                Item.objects.create(name="f4-inner")
                Item.objects.filter(qty=SLEEP_1S).count()
        Item.objects.create(name="f4-outer-2")  # the outer block goes on
    assert committed_names(pg, "f4-") == ["f4-outer", "f4-outer-2"]


# ----------------------------------------------------------------------------- F5


def test_f5_serialization_failure_is_distinct_and_retrying_gives_the_exact_value(pg: Any) -> None:
    counter = Item.objects.create(name="counter", qty=0)
    barrier = threading.Barrier(2, timeout=5)
    failures: list[BaseException] = []

    def increment(worker: str) -> None:
        attempt = 0

        def block() -> None:
            nonlocal attempt
            attempt += 1
            with transaction.atomic():
                isolation("REPEATABLE READ")
                current = Item.objects.get(pk=counter.pk).qty  # the snapshot starts here
                Item.objects.create(name=f"f5-{worker}-{attempt}")
                if attempt == 1:
                    barrier.wait()  # both have read 0 before either writes
                # A read-modify-write that only REPEATABLE READ makes safe.
                Item.objects.filter(pk=counter.pk).update(qty=current + 1)

        retry(block, failures=failures)

    started = time.monotonic()
    run_threads(lambda: increment("a"), lambda: increment("b"))
    assert time.monotonic() - started < 5

    assert len(failures) == 1, failures  # exactly one of the two lost the first round
    error = failures[0]
    assert isinstance(error, orm.SerializationFailure)
    assert isinstance(error, orm.OperationalError)
    assert not isinstance(error, orm.DeadlockDetected)
    assert error.sqlstate == "40001"
    assert isinstance(error.__cause__, psycopg.errors.SerializationFailure)
    assert Item.objects.get(pk=counter.pk).qty == 2  # exact after the retry
    # The failed attempt left nothing: one marker per worker, the loser's from attempt 2.
    markers = committed_names(pg, "f5-")
    assert len(markers) == 2 and sorted(m[:4] for m in markers) == ["f5-a", "f5-b"]
    assert sorted(m[-1] for m in markers) == ["1", "2"]


def test_f5_serializable_conflict_raises_serialization_failure(pg: Any) -> None:
    """Write skew: each block reads what the other writes; SERIALIZABLE refuses one."""
    Item.objects.bulk_create([Item(name="oncall-a", qty=1), Item(name="oncall-b", qty=1)])
    barrier = threading.Barrier(2, timeout=5)
    outcomes: dict[str, BaseException | None] = {}

    def go_off_call(me: str) -> None:
        try:
            with transaction.atomic():
                isolation("SERIALIZABLE")
                on_call = Item.objects.filter(name__startswith="oncall-", qty=1).count()
                barrier.wait()
                if on_call == 2:
                    Item.objects.filter(name=me).update(qty=0)
                barrier.wait()  # both wrote before either commits
            outcomes[me] = None
        except orm.DatabaseError as error:
            outcomes[me] = error

    run_threads(lambda: go_off_call("oncall-a"), lambda: go_off_call("oncall-b"))
    errors = [e for e in outcomes.values() if e is not None]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], orm.SerializationFailure)
    assert errors[0].sqlstate == "40001"
    # The invariant holds: someone is still on call.
    assert Item.objects.filter(name__startswith="oncall-", qty=1).count() == 1


@pytest.mark.timing
def test_f5_deadlock_raises_deadlock_detected_and_a_retry_completes(pg: Any) -> None:
    Item.objects.bulk_create([Item(name="lock-1", qty=0), Item(name="lock-2", qty=0)])
    fast_detection = is_superuser(pg)  # deadlock_timeout can only be SET by a superuser
    barrier = threading.Barrier(2, timeout=5)
    # The victim retries once the survivor committed, as a real retry backs
    # off: retrying at once can take its first row back before the survivor
    # gets it and deadlock a second time (seen in CI).
    survivor_committed = threading.Event()
    failures: list[BaseException] = []

    def lock_both(first: str, second: str) -> None:
        attempt = 0

        def block() -> None:
            nonlocal attempt
            attempt += 1
            if attempt > 1:
                assert survivor_committed.wait(5), "the other transaction never committed"
            with transaction.atomic():
                if fast_detection:
                    execute("SET LOCAL deadlock_timeout = '100ms'")
                Item.objects.create(name=f"f5-{first}-{attempt}")
                Item.objects.filter(name=first).update(qty=F("qty") + 1)
                if attempt == 1:
                    barrier.wait()  # each holds one row lock, then wants the other's
                Item.objects.filter(name=second).update(qty=F("qty") + 1)

        retry(block, failures=failures)
        survivor_committed.set()

    started = time.monotonic()
    run_threads(lambda: lock_both("lock-1", "lock-2"), lambda: lock_both("lock-2", "lock-1"))
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"deadlock resolution took {elapsed:.2f} s"

    assert len(failures) == 1, failures
    error = failures[0]
    assert isinstance(error, orm.DeadlockDetected)
    assert isinstance(error, orm.OperationalError)
    assert not isinstance(error, orm.SerializationFailure)
    assert error.sqlstate == "40P01"
    assert isinstance(error.__cause__, psycopg.errors.DeadlockDetected)
    # Two committed blocks, each +1 on both rows; the victim's first attempt left nothing.
    assert dict(Item.objects.filter(name__startswith="lock-").values_list("name", "qty")) == {
        "lock-1": 2,
        "lock-2": 2,
    }
    markers = committed_names(pg, "f5-")
    assert len(markers) == 2 and sorted(m[-1] for m in markers) == ["1", "2"]


def test_f5_lock_timeout_and_nowait_are_operational_errors(pg: Any) -> None:
    """Not F5 proper, but the same retry-or-not decision: a lock not granted."""
    row = Item.objects.create(name="locked", qty=0)
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def holder() -> None:
        with transaction.atomic():
            Item.objects.select_for_update().get(pk=row.pk)
            holding.set()
            release.wait(5)

    def contender() -> None:
        assert holding.wait(5)
        try:
            with transaction.atomic():
                list(Item.objects.select_for_update(nowait=True).filter(pk=row.pk))
        except orm.DatabaseError as error:
            errors.append(error)
        finally:
            release.set()

    run_threads(holder, contender)
    assert len(errors) == 1
    assert isinstance(errors[0], orm.OperationalError)
    assert errors[0].sqlstate == "55P03"  # lock_not_available


# ----------------------------------------------------------------------------- F6


def assert_idle_timeout(error: BaseException) -> None:
    """The server's idle-in-transaction FATAL, translated, with the driver error as cause."""
    assert isinstance(error, orm.OperationalError), repr(error)
    assert isinstance(error.__cause__, psycopg.Error)
    assert error.sqlstate == "25P03"
    assert "idle-in-transaction timeout" in str(error)


def test_f6_idle_in_transaction_timeout_ends_the_block_without_reconnecting(pg: Any) -> None:
    Item.objects.create(name="before")
    pid = backend_pid()
    hooks: list[str] = []
    with transaction.atomic():
        execute("SET LOCAL idle_in_transaction_session_timeout = 100")
        Item.objects.create(name="f6-first")
        transaction.on_commit(lambda: hooks.append("ran"))
        raw = orm.connection.connection
        time.sleep(0.3)  # idle in transaction: the server ends the session
        with pytest.raises(orm.DatabaseError) as info:  # should be OperationalError
            Item.objects.create(name="f6-second")
        assert_idle_timeout(info.value)
        # No silent reconnect mid-block: a new connection would commit these
        # statements on their own, outside the transaction the block promised.
        with pytest.raises((orm.TransactionManagementError, orm.OperationalError)):
            Item.objects.create(name="f6-third")
        assert orm.connection.connection is raw
    assert committed_names(pg, "f6-") == []
    assert hooks == []
    assert server_state(pg, pid) is None  # the server really ended that session
    # The next call outside the block works, on a new connection.
    assert list(Item.objects.values_list("name", flat=True)) == ["before"]
    assert backend_pid() != pid


def test_f6_idle_in_transaction_timeout_error_propagates_out_of_the_block(pg: Any) -> None:
    pid = backend_pid()
    with pytest.raises(orm.DatabaseError) as info:  # should be OperationalError
        with transaction.atomic():
            execute("SET LOCAL idle_in_transaction_session_timeout = 100")
            Item.objects.create(name="f6-first")
            time.sleep(0.3)
            Item.objects.create(name="f6-second")
    assert_idle_timeout(info.value)
    assert committed_names(pg, "f6-") == []
    assert Item.objects.count() == 0
    assert backend_pid() != pid


# ----------------------------------------------------------------------- bug 2


def test_idle_in_transaction_timeout_is_an_operational_error(pg: Any) -> None:
    with pytest.raises(orm.OperationalError) as info:
        with transaction.atomic():
            execute("SET LOCAL idle_in_transaction_session_timeout = 100")
            Item.objects.create(name="bug2-first")
            time.sleep(0.3)
            Item.objects.create(name="bug2-second")
    assert info.value.sqlstate == "25P03"
    assert isinstance(info.value.__cause__, psycopg.errors.IdleInTransactionSessionTimeout)
