"""``TransactionState``: the one object holding a connection's transaction state.

Issue 12 item 1. The operations (enter/exit an atomic block, savepoints, the
rollback mark, on_commit hooks, manual mode, a lost connection) and the
status they lead to are tested directly against a fake driver that records
the commands it is sent and fails on demand; no database is needed for those.
The last tests check, on both backends, that a real connection wrapper owns
one such state, that Django's names on the connection (``in_atomic_block``,
``needs_rollback``, ...) read and write it, and that the handler reaches the
wrapper through its constructor.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

import orm
from orm import transaction
from orm.db.transaction_state import TransactionState, TransactionStatus
from orm.exceptions import DatabaseError, OperationalError, TransactionManagementError

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests drive the transaction state itself (autocommit, savepoints, on_commit).
pytestmark = pytest.mark.transactional

IDLE, ATOMIC, FAILED = TransactionStatus.IDLE, TransactionStatus.ATOMIC, TransactionStatus.FAILED
MANUAL, MANUAL_OPEN = TransactionStatus.MANUAL, TransactionStatus.MANUAL_OPEN


class FakeDriver:
    """A ``TransactionDriver`` that logs commands; ``fail[verb]`` makes that verb raise."""

    alias = "fake"

    def __init__(self) -> None:
        self.thread_ident = threading.get_ident()
        self.connection: object | None = None
        self.log: list[str] = []
        self.fail: dict[str, Exception] = {}
        self.in_tx = False
        self.state = TransactionState(self)

    def _send(self, command: str) -> None:
        self.log.append(command)
        for verb, error in self.fail.items():
            if command.startswith(verb):
                raise error

    def ensure_connection(self) -> None:
        if self.connection is None:
            self.connection = object()
            self.log.append("CONNECT")

    def validate_thread_sharing(self) -> None:
        pass

    def close(self) -> None:
        # As BaseDatabaseWrapper.close() does.
        conn, self.connection = self.connection, None
        self.state.close_at_transaction_end = False
        if conn is None:
            return
        self.log.append("CLOSE")
        self.in_tx = False
        self.state.connection_closed()

    def driver_begin(self) -> None:
        self._send("BEGIN")
        self.in_tx = True

    def driver_commit(self) -> None:
        if self.connection is not None:
            self._send("COMMIT")
            self.in_tx = False

    def driver_rollback(self) -> None:
        if self.connection is not None:
            self._send("ROLLBACK")
            self.in_tx = False

    def driver_savepoint(self, verb: str, sid: str) -> None:
        self._send(f"{verb} {sid}")

    def driver_in_transaction(self) -> bool:
        return self.connection is not None and self.in_tx


@pytest.fixture
def db() -> FakeDriver:
    return FakeDriver()


def here() -> FrameType:
    return sys._getframe(1)


def verbs(db: FakeDriver) -> list[str]:
    """The log with savepoint names dropped (they are unique per process)."""
    return [
        " ".join(w for w in entry.split() if not w.startswith("s")) or entry for entry in db.log
    ]


# --------------------------------------------------------------- atomic blocks


def test_new_state_is_idle_autocommit(db: FakeDriver) -> None:
    state = db.state
    assert state.status is IDLE
    assert state.autocommit and not state.in_atomic_block and not state.needs_rollback
    assert state.atomic_blocks == [] and state.savepoint_ids == [] and state.run_on_commit == []
    assert state.owner is None
    assert repr(state) == "<TransactionState idle depth=0>"


def test_outermost_block_begins_and_commits(db: FakeDriver) -> None:
    state = db.state
    block = object()
    state.enter_atomic(block, savepoint=True, durable=False)
    assert state.status is ATOMIC and not state.autocommit
    assert state.atomic_blocks == [block] and state.savepoint_ids == []
    # Opened outside any sync_to_async call: statements need no owner check.
    assert state.owner is None
    state.exit_atomic(None, None)
    assert db.log == ["CONNECT", "BEGIN", "COMMIT"]
    assert state.status is IDLE and state.autocommit and state.atomic_blocks == []


def test_nested_block_is_a_savepoint_released_on_success(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.enter_atomic(object(), True, False)
    sid = state.savepoint_ids[-1]
    assert sid is not None and state.savepoint_ids == [sid]
    state.exit_atomic(None, None)
    assert state.status is ATOMIC and state.savepoint_ids == []
    state.exit_atomic(None, None)
    assert db.log == ["CONNECT", "BEGIN", f"SAVEPOINT {sid}", f"RELEASE SAVEPOINT {sid}", "COMMIT"]


def test_nested_failure_rolls_back_to_its_savepoint_and_outer_goes_on(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.enter_atomic(object(), True, False)
    sid = state.savepoint_ids[-1]
    error = ValueError("inner")
    state.mark_rollback(error)  # what mark_for_rollback_on_error does
    assert state.status is FAILED
    state.exit_atomic(ValueError, error)
    assert state.status is ATOMIC and not state.needs_rollback and state.rollback_cause is None
    state.exit_atomic(None, None)
    assert db.log[-3:] == [f"ROLLBACK TO SAVEPOINT {sid}", f"RELEASE SAVEPOINT {sid}", "COMMIT"]


def test_merged_block_failure_fails_the_outer_block(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.enter_atomic(object(), False, False)  # savepoint=False
    assert state.savepoint_ids == [None]
    state.exit_atomic(ValueError, ValueError("inner"))
    assert state.status is FAILED
    with pytest.raises(TransactionManagementError, match="until the end of the 'atomic' block"):
        state.validate_no_broken_transaction()
    state.exit_atomic(None, None)  # no exception, but marked: rolls back
    assert verbs(db) == ["CONNECT", "BEGIN", "ROLLBACK"]
    assert state.status is IDLE and state.autocommit


def test_failed_block_makes_no_savepoint_for_a_nested_one(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.mark_rollback(ValueError("x"))
    state.enter_atomic(object(), True, False)
    assert state.savepoint_ids == [None]
    assert db.log == ["CONNECT", "BEGIN"]


def test_exception_in_outermost_block_rolls_back_and_drops_hooks(db: FakeDriver) -> None:
    state = db.state
    ran: list[str] = []
    state.enter_atomic(object(), True, False)
    state.on_commit(lambda: ran.append("hook"))
    state.exit_atomic(RuntimeError, RuntimeError("boom"))
    assert db.log[-1] == "ROLLBACK" and ran == [] and state.run_on_commit == []
    assert state.status is IDLE and state.autocommit and state.rollback_cause is None


def test_commit_failure_rolls_back_drops_hooks_and_raises(db: FakeDriver) -> None:
    state = db.state
    ran: list[str] = []
    state.enter_atomic(object(), True, False)
    state.on_commit(lambda: ran.append("hook"))
    db.fail["COMMIT"] = OperationalError("commit failed")
    with pytest.raises(OperationalError, match="commit failed"):
        state.exit_atomic(None, None)
    assert db.log[-2:] == ["COMMIT", "ROLLBACK"]
    assert ran == [] and state.status is IDLE and state.autocommit


def test_commit_and_rollback_failure_closes_the_connection(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    db.fail["COMMIT"] = OperationalError("commit failed")
    db.fail["ROLLBACK"] = OperationalError("rollback failed")
    with pytest.raises(OperationalError, match="commit failed"):
        state.exit_atomic(None, None)
    assert db.log[-1] == "CLOSE" and db.connection is None and state.status is IDLE


def test_release_failure_rolls_back_to_the_savepoint_and_raises(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.enter_atomic(object(), True, False)
    sid = state.savepoint_ids[-1]
    db.fail["RELEASE"] = OperationalError("release failed")
    with pytest.raises(OperationalError, match="release failed"):
        state.exit_atomic(None, None)
    assert db.log[-2:] == [f"RELEASE SAVEPOINT {sid}", f"ROLLBACK TO SAVEPOINT {sid}"]
    assert state.status is ATOMIC and not state.needs_rollback


def test_release_and_rollback_to_failure_fail_the_outer_block(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.enter_atomic(object(), True, False)
    db.fail["RELEASE"] = OperationalError("release failed")
    db.fail["ROLLBACK TO"] = OperationalError("rollback to failed")
    with pytest.raises(OperationalError, match="release failed"):
        state.exit_atomic(None, None)
    assert state.status is FAILED


def test_durable_block_refused_when_nested_or_in_manual_mode(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    with pytest.raises(RuntimeError, match="cannot be nested"):
        state.enter_atomic(object(), True, True)
    state.exit_atomic(None, None)
    state.set_autocommit(False)
    with pytest.raises(RuntimeError, match="manual transaction management"):
        state.enter_atomic(object(), True, True)
    assert state.atomic_blocks == []


def test_commit_rollback_and_autocommit_refused_inside_a_block(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    for operation in (state.commit, state.rollback, lambda: state.set_autocommit(False)):
        with pytest.raises(TransactionManagementError, match="forbidden when an 'atomic' block"):
            operation()
    assert db.log == ["CONNECT", "BEGIN"]


# ---------------------------------------------------------- the rollback mark


def test_mark_rollback_keeps_the_first_cause(db: FakeDriver) -> None:
    state = db.state
    first, second = ValueError("first"), ValueError("second")
    state.mark_rollback(first)
    state.mark_rollback(second)
    state.mark_rollback()
    assert state.needs_rollback and state.rollback_cause is first
    state.clear_rollback()
    assert not state.needs_rollback and state.rollback_cause is None
    state.mark_rollback()  # set_rollback(True): a mark without a cause
    state.mark_rollback(second)
    assert state.rollback_cause is second


def test_broken_transaction_refusal_chains_the_cause(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    cause = ValueError("original")
    state.mark_rollback(cause)
    with pytest.raises(TransactionManagementError) as info:
        state.validate_no_broken_transaction()
    assert info.value.__cause__ is cause


# -------------------------------------------------------------- on_commit hooks


def test_hooks_run_after_commit_in_order_and_outside_a_block_at_once(db: FakeDriver) -> None:
    state = db.state
    ran: list[str] = []
    state.on_commit(lambda: ran.append("now"))
    assert ran == ["now"]
    state.enter_atomic(object(), True, False)
    state.on_commit(lambda: ran.append("a"))
    state.on_commit(lambda: ran.append("b"))
    assert ran == ["now"] and len(state.run_on_commit) == 2
    state.exit_atomic(None, None)
    assert ran == ["now", "a", "b"] and state.run_on_commit == []


def test_hooks_of_a_rolled_back_savepoint_are_dropped(db: FakeDriver) -> None:
    state = db.state
    ran: list[str] = []
    state.enter_atomic(object(), True, False)
    state.on_commit(lambda: ran.append("outer"))
    state.enter_atomic(object(), True, False)
    state.on_commit(lambda: ran.append("inner"))
    state.exit_atomic(RuntimeError, RuntimeError())
    state.exit_atomic(None, None)
    assert ran == ["outer"]


def test_robust_hook_failure_is_logged_and_the_next_hook_runs(
    db: FakeDriver, caplog: pytest.LogCaptureFixture
) -> None:
    state = db.state
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("hook failed")

    state.enter_atomic(object(), True, False)
    state.on_commit(broken, robust=True)
    state.on_commit(lambda: ran.append("next"))
    with caplog.at_level(logging.ERROR, logger="orm.db.transaction"):
        state.exit_atomic(None, None)
    assert ran == ["next"]
    assert "robust=True" in caplog.text


def test_on_commit_refuses_non_callables_and_manual_mode(db: FakeDriver) -> None:
    state = db.state
    with pytest.raises(TypeError, match="must be a callable"):
        state.on_commit("not callable")  # type: ignore[arg-type]
    state.set_autocommit(False)
    with pytest.raises(TransactionManagementError, match="manual transaction management"):
        state.on_commit(lambda: None)


# ----------------------------------------------------------- manual transactions


def test_manual_mode_begins_lazily_and_commit_ends_the_transaction(db: FakeDriver) -> None:
    state = db.state
    state.set_autocommit(False)
    assert state.status is MANUAL and not state.autocommit and db.log == []
    state.guard_statement()  # what the cursor runs before a statement
    assert state.status is MANUAL_OPEN and db.log == ["CONNECT", "BEGIN"]
    state.guard_statement()
    assert db.log == ["CONNECT", "BEGIN"]
    state.commit()
    assert state.status is MANUAL and db.log[-1] == "COMMIT"
    state.guard_statement()
    state.rollback()
    assert state.status is MANUAL and db.log[-2:] == ["BEGIN", "ROLLBACK"]
    state.set_autocommit(True)
    assert state.status is IDLE and state.autocommit and state.owner is None


def test_leaving_manual_mode_commits_what_is_pending_then_runs_hooks(db: FakeDriver) -> None:
    state = db.state
    ran: list[str] = []
    state.set_autocommit(False)
    state.enter_atomic(object(), True, False)  # a savepoint of the manual transaction
    sid = state.savepoint_ids[-1]
    state.on_commit(lambda: ran.append("hook"))
    state.exit_atomic(None, None)
    assert state.status is MANUAL_OPEN and ran == []
    assert db.log == ["CONNECT", "BEGIN", f"SAVEPOINT {sid}", f"RELEASE SAVEPOINT {sid}"]
    state.set_autocommit(True)
    assert db.log[-1] == "COMMIT" and ran == ["hook"] and state.status is IDLE


def test_failed_manual_transaction_is_rolled_back_not_committed(db: FakeDriver) -> None:
    state = db.state
    state.set_autocommit(False)
    state.guard_statement()
    cause = OperationalError("statement failed")
    state.mark_rollback(cause)
    assert state.status is FAILED
    with pytest.raises(TransactionManagementError, match="until you call") as refused:
        state.validate_no_broken_transaction()
    assert refused.value.__cause__ is cause
    with pytest.raises(TransactionManagementError, match="cannot be committed") as info:
        state.commit()
    assert info.value.__cause__ is cause
    assert db.log[-1] == "ROLLBACK" and "COMMIT" not in db.log
    assert state.status is MANUAL


def test_leaving_a_failed_manual_transaction_rolls_back_and_says_so(db: FakeDriver) -> None:
    state = db.state
    state.set_autocommit(False)
    state.guard_statement()
    state.mark_rollback(OperationalError("statement failed"))
    with pytest.raises(TransactionManagementError, match="could not commit"):
        state.set_autocommit(True)
    assert db.log[-1] == "ROLLBACK" and state.status is IDLE and state.autocommit


def test_failed_rollback_closes_but_keeps_manual_mode(db: FakeDriver) -> None:
    state = db.state
    state.set_autocommit(False)
    state.guard_statement()
    db.fail["ROLLBACK"] = OperationalError("rollback failed")
    with pytest.raises(OperationalError):
        state.rollback()
    assert db.connection is None and db.log[-1] == "CLOSE"
    # Not silently back in autocommit: later statements still need a rollback() first.
    assert state.manual_mode and not state.autocommit
    assert state.status is MANUAL


def test_connection_lost_in_open_manual_transaction_fails_it(db: FakeDriver) -> None:
    state = db.state
    state.set_autocommit(False)
    state.guard_statement()
    state.close_keeping_manual_mode()
    assert db.connection is None
    assert state.status is FAILED and state.manual_mode and not state.manual_transaction_open


# ----------------------------------------------------------- the lost connection


def test_connection_closed_inside_a_block_ends_it_with_an_error(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.enter_atomic(object(), True, False)
    db.close()
    assert state.closed_in_transaction and state.status is FAILED and state.in_atomic_block
    state.exit_atomic(None, None)  # inner: nothing to release on a closed connection
    with pytest.raises(DatabaseError, match="connection was lost inside an atomic block"):
        state.exit_atomic(None, None)
    assert state.status is IDLE and not state.closed_in_transaction
    assert db.log[-1] == "CLOSE"


def test_close_at_transaction_end_closes_after_the_outermost_block(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.close_at_transaction_end = True
    state.exit_atomic(None, None)
    assert db.log[-2:] == ["COMMIT", "CLOSE"] and db.connection is None
    assert not state.close_at_transaction_end and state.status is IDLE


def test_reset_keeps_open_blocks_only_when_asked(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.on_commit(lambda: None)
    state.mark_rollback(ValueError())
    state.reset(keep_atomic=True)
    assert state.in_atomic_block and state.needs_rollback and state.run_on_commit == []
    assert state.autocommit and not state.manual_mode
    state.reset()
    assert state.status is IDLE and state.atomic_blocks == [] and state.rollback_cause is None


# --------------------------------------------------------------- the owning call


def _finished_frame() -> FrameType:
    """A frame that is no longer on any stack (its function has returned)."""
    return sys._getframe()


def test_statement_from_another_call_is_refused(db: FakeDriver) -> None:
    state = db.state
    state.enter_atomic(object(), True, False)
    state.owner = _finished_frame()
    with pytest.raises(TransactionManagementError, match="atomic\\(\\) block that was opened"):
        state.guard_statement()
    state.owner = here()  # this test's frame is on the stack of the check
    state.guard_statement()


def test_manual_mode_from_another_call_is_refused(db: FakeDriver) -> None:
    state = db.state
    state.set_autocommit(False)
    state.owner = _finished_frame()
    with pytest.raises(TransactionManagementError, match="manual transaction"):
        state.set_autocommit(False)
    with pytest.raises(TransactionManagementError, match="manual transaction"):
        state.guard_statement()
    assert db.log == []


def test_savepoint_ids_are_unique() -> None:
    states = [FakeDriver().state for _ in range(3)]
    ids = {state.new_savepoint_id() for state in states for _ in range(100)}
    assert len(ids) == 300


# ------------------------------------------------------ a real wrapper, both backends


class Ledger(orm.Model):
    name = orm.CharField(max_length=20, unique=True)

    class Meta:
        app_label = "i12_state"


@pytest.fixture
def ledger(backend: str) -> Iterator[str]:
    orm.create_tables(Ledger)
    try:
        yield backend
    finally:
        orm.connections.close_current()


def test_wrapper_owns_one_state_and_reports_its_status(ledger: str) -> None:
    conn = orm.connections["default"]
    state = conn.transaction_state
    assert isinstance(state, TransactionState)
    assert conn.diagnostics()["transaction"] == "idle"
    with transaction.atomic():
        Ledger.objects.create(name="a")
        assert state.status is ATOMIC and orm.connection.in_atomic_block
        assert conn.diagnostics()["transaction"] == "atomic"
        try:
            with transaction.atomic():
                Ledger.objects.create(name="a")
        except orm.IntegrityError:
            pass
        assert state.status is ATOMIC and not orm.connection.needs_rollback
        with transaction.atomic(savepoint=False):
            orm.connection.needs_rollback = True  # Django's attribute, written
        assert state.status is FAILED and state.needs_rollback
        assert transaction.get_rollback() is True
        transaction.set_rollback(False)
        assert state.status is ATOMIC
    assert state.status is IDLE and conn.autocommit and not conn.in_atomic_block
    assert list(Ledger.objects.values_list("name", flat=True)) == ["a"]


def test_manual_mode_statuses_on_a_real_connection(ledger: str) -> None:
    state = orm.connections["default"].transaction_state
    transaction.set_autocommit(False)
    try:
        assert state.status is MANUAL
        Ledger.objects.create(name="m")
        assert state.status is MANUAL_OPEN
        with pytest.raises(orm.IntegrityError):
            Ledger.objects.create(name="m")
        assert state.status is FAILED
        assert orm.connection.diagnostics()["transaction"] == "failed"
        transaction.rollback()
        assert state.status is MANUAL
    finally:
        transaction.set_autocommit(True)
    assert state.status is IDLE and not Ledger.objects.exists()


def test_hooks_and_savepoints_through_the_connection(ledger: str) -> None:
    conn = orm.connections["default"]
    ran: list[str] = []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("kept"))
        try:
            with transaction.atomic():
                transaction.on_commit(lambda: ran.append("dropped"))
                assert len(conn.savepoint_ids) == 1 and len(conn.run_on_commit) == 2
                assert conn.run_on_commit is conn.transaction_state.run_on_commit
                raise RuntimeError
        except RuntimeError:
            pass
        assert len(conn.run_on_commit) == 1
        sid = transaction.savepoint()
        assert sid is not None
        Ledger.objects.create(name="undone")
        transaction.savepoint_rollback(sid)
        Ledger.objects.create(name="kept")
        transaction.savepoint_commit(sid)
        assert ran == []
    assert ran == ["kept"]
    assert list(Ledger.objects.values_list("name", flat=True)) == ["kept"]


def test_closing_inside_a_block_reports_the_lost_work(ledger: str) -> None:
    conn = orm.connections["default"]
    with pytest.raises(DatabaseError, match="connection was lost"):
        with transaction.atomic():
            Ledger.objects.create(name="lost")
            conn.close()
            assert conn.transaction_state.closed_in_transaction
    assert conn.transaction_state.status is IDLE
    assert not Ledger.objects.filter(name="lost").exists()


def test_handler_reaches_the_wrapper_through_its_constructor(ledger: str) -> None:
    assert orm.connections["default"].handler is orm.connections

    class Registry:
        """A PoolRegistry that hands out a marker instead of a pool."""

        def __init__(self) -> None:
            self.asked: list[str] = []

        def get_pool(self, alias: str, factory: Any) -> Any:
            self.asked.append(alias)
            return "the pool"

    settings = orm.connections.settings["default"]
    backend = orm.connections.load_backend(settings.vendor)
    registry = Registry()
    wrapper = backend.DatabaseWrapper(settings, "by-hand", handler=registry)
    assert wrapper.handler is registry
    assert backend.DatabaseWrapper(settings, "by-hand").handler is None
    if ledger == "postgresql":
        # The pool comes from the registry the wrapper was given.
        assert wrapper._get_pool() == "the pool" and registry.asked == ["by-hand"]
