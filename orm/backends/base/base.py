"""``BaseDatabaseWrapper``: one per alias and thread, owning one driver connection.

A wrapper is bound to the thread that created it. Using it from another
thread raises ``DatabaseError`` naming both, because neither sqlite3 nor a
psycopg connection in a transaction may be shared between threads safely, and
because `orm`'s async design depends on each context's work running on its
own thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from orm.conf import DatabaseSettings
from orm.db.cursor import CursorWrapper
from orm.db.errors import DatabaseErrorWrapper
from orm.exceptions import (
    DatabaseError,
    Error,
    InterfaceError,
    InternalError,
    OperationalError,
    TransactionManagementError,
)
from orm.utils.asyncio import call_boundary, check_async_unsafe

if TYPE_CHECKING:
    from orm.backends.base.features import BaseDatabaseFeatures
    from orm.backends.base.introspection import BaseDatabaseIntrospection
    from orm.backends.base.operations import BaseDatabaseOperations
    from orm.backends.base.schema import BaseDatabaseSchemaEditor

# transaction_owner of a manual transaction started outside any sync_to_async
# call: its statements need the lazy BEGIN but no owner check.
_NO_CALL = object()


class BaseDatabaseWrapper:
    """Connection state for one alias on one thread (composed from named parts)."""

    vendor: ClassVar[str] = "unknown"
    display_name: ClassVar[str] = "unknown"
    #: internal field type -> column type pattern, formatted with the field's attributes.
    data_types: ClassVar[dict[str, str]] = {}
    #: internal field type -> CHECK pattern (``%(column)s`` is the quoted column).
    data_type_check_constraints: ClassVar[dict[str, str]] = {}
    #: lookup name -> SQL operator pattern with ``%s`` for the right-hand side.
    #: LIKE patterns arrive escaped (``prep_for_like_query``) with ``\`` as escape.
    operators: ClassVar[dict[str, str]] = {
        "exact": "= %s",
        "iexact": "= UPPER(%s)",
        "contains": "LIKE %s ESCAPE '\\'",
        "icontains": "LIKE UPPER(%s) ESCAPE '\\'",
        "gt": "> %s",
        "gte": ">= %s",
        "lt": "< %s",
        "lte": "<= %s",
        "startswith": "LIKE %s ESCAPE '\\'",
        "endswith": "LIKE %s ESCAPE '\\'",
        "istartswith": "LIKE UPPER(%s) ESCAPE '\\'",
        "iendswith": "LIKE UPPER(%s) ESCAPE '\\'",
    }
    #: lookup name -> pattern used when the right-hand side is an expression.
    pattern_ops: ClassVar[dict[str, str]] = {}

    #: Seconds the open connection may sit unused before its next use outside a
    #: transaction checks it (``is_usable()``) and replaces it if dead; ``None``
    #: never checks (no server can cut the connection), ``0`` checks every use.
    health_check_after: float | None = None

    ops_class: ClassVar[type[BaseDatabaseOperations]]
    features_class: ClassVar[type[BaseDatabaseFeatures]]
    introspection_class: ClassVar[type[BaseDatabaseIntrospection]]
    schema_editor_class: ClassVar[type[BaseDatabaseSchemaEditor]]

    def __init__(self, settings: DatabaseSettings, alias: str) -> None:
        self.settings = settings
        self.alias = alias
        self.connection: Any = None
        self.thread_ident = threading.get_ident()
        self.thread_name = threading.current_thread().name
        self.ops = self.ops_class(self)
        self.features = self.features_class(self)
        self.introspection = self.introspection_class(self)
        self.wrap_database_errors = DatabaseErrorWrapper(self)
        self.execute_wrappers: list[Callable[..., Any]] = []
        self.closed_in_transaction = False
        #: A connection-level error happened inside an atomic block: the
        #: connection is closed when the outermost block ends (see on_database_error).
        self.close_at_transaction_end = False
        # Transaction state (see orm.db.transaction).
        self.autocommit = True
        self.in_atomic_block = False
        self.savepoint_ids: list[str | None] = []
        self.atomic_blocks: list[Any] = []
        self.commit_on_exit = True
        self.needs_rollback = False
        self.rollback_cause: BaseException | None = None
        self.savepoint_state = 0
        self.run_on_commit: list[tuple[set[str | None], Callable[[], Any], bool]] = []
        #: On from set_autocommit(False) until set_autocommit(True) or close().
        self.manual_mode = False
        #: True while the manual transaction orm began is open (until commit/rollback).
        self.manual_transaction_open = False
        #: Whose statements the open transaction accepts: the frame of the
        #: sync_to_async call that opened the atomic block or manual mode (see
        #: call_boundary), or _NO_CALL for manual mode entered outside any such
        #: call. None when statements need no check: the cursor wrapper tests
        #: only this on its path, so autocommit mode pays nothing more.
        self.transaction_owner: object = None
        #: monotonic() of the last ensure_connection(), for health_check_after.
        self.last_used = 0.0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} vendor={self.vendor!r} alias={self.alias!r}>"

    # -- hooks each backend implements ---------------------------------------
    def get_new_connection(self) -> Any:
        """Open and return a new driver connection (autocommit on)."""
        raise NotImplementedError

    def init_connection_state(self) -> None:
        """Configure a freshly opened connection (pragmas, time zone, ...)."""

    def create_cursor(self) -> Any:
        """Return a new driver cursor on the open connection."""
        return self.connection.cursor()

    def close_connection(self, connection: Any) -> None:
        """Close (or give back to its pool) a driver connection."""
        connection.close()

    def is_broken(self) -> bool:
        """True when the driver connection can no longer be used."""
        return False

    def is_usable(self) -> bool:
        """Check the open connection with the cheapest round trip; False when it is dead.

        Called only after the connection sat idle (``health_check_after``),
        never inside a transaction. Must not raise for a dead connection.
        """
        return True

    def is_unusable_after(self, error: Error) -> bool:
        """True when ``error`` leaves the connection unfit for the next call.

        The driver's error is ``error.__cause__``. By default: an operational,
        interface or internal error after which :meth:`is_broken` says the
        connection is gone. Backends whose connections fail in ways a probe
        cannot see (SQLite's read-only or I/O errors) also look at the error.
        """
        return isinstance(error, OperationalError | InterfaceError | InternalError) and self.is_broken()

    def _begin(self) -> None:
        """Start a transaction on an autocommit connection."""
        self.connection.execute("BEGIN")

    # -- connection lifecycle ----------------------------------------------
    def validate_thread_sharing(self) -> None:
        """Raise ``DatabaseError`` when used from a thread other than the creator."""
        if threading.get_ident() != self.thread_ident:
            current = threading.current_thread()
            raise DatabaseError(
                f"The connection wrapper for alias {self.alias!r} was created in thread "
                f"{self.thread_name!r} (id {self.thread_ident}) and cannot be used from thread "
                f"{current.name!r} (id {current.ident}). Each thread gets its own: use "
                "orm.connections[alias] on the thread that runs the query."
            )

    def ensure_connection(self) -> None:
        """Open the driver connection if none is open (on this wrapper's thread).

        An open one that sat unused for ``health_check_after`` seconds is
        checked first and replaced if the server cut it meanwhile (see
        ``_replace_if_dead``), so the statement about to run is sent to a live
        connection.
        """
        if self.connection is not None:
            after = self.health_check_after
            if after is not None:
                # The hot path (a call right after another) pays one clock
                # read; the round trip happens only after an idle period.
                now = monotonic()
                if now - self.last_used >= after:
                    self._replace_if_dead()
                self.last_used = now
            return
        check_async_unsafe("opening a database connection")
        self.validate_thread_sharing()
        with self.wrap_database_errors:
            self.connection = self.get_new_connection()
        self.last_used = monotonic()
        try:
            self.init_connection_state()
        except BaseException:
            # A connection whose set-up did not finish (a pragma, the time
            # zone) must not be used by the next call as if it had: close
            # it (a pooled one goes back to its pool) and open afresh then.
            self.close()
            raise

    def _replace_if_dead(self) -> None:
        """After an idle period: swap a connection the server cut for a new one.

        Nothing of the caller's has been sent yet, so nothing is replayed.
        Only outside a transaction: inside one (``atomic()`` or
        ``set_autocommit(False)``), a new connection would silently drop the
        work already done, so the next statement fails instead, as it must.
        """
        if not self.autocommit or self.in_atomic_block:
            return
        if self.is_usable():
            return
        self.close()  # RETURNED dead: the pool discards it and opens a replacement
        self.ensure_connection()

    def cursor(self) -> CursorWrapper:
        """Return a cursor for raw SQL with ``%s`` placeholders."""
        check_async_unsafe("connection.cursor()")
        self.validate_thread_sharing()
        # Refuse before touching the driver: after a lost connection inside
        # atomic() the error must be the block's, not "connection is closed".
        self.validate_no_broken_transaction()
        self.ensure_connection()
        with self.wrap_database_errors:
            return CursorWrapper(self.create_cursor(), self)

    def chunked_cursor(self) -> CursorWrapper:
        """A cursor for streaming large results (server-side where the backend has one)."""
        return self.cursor()

    def close(self) -> None:
        """Close the connection (a pooled one goes back to its pool, rolled back).

        Inside an atomic block the block is marked for rollback so its exit
        does not try to commit on a connection that is gone.
        """
        conn, self.connection = self.connection, None
        self.close_at_transaction_end = False
        if conn is None:
            return
        if self.in_atomic_block:
            self.closed_in_transaction = True
            self.needs_rollback = True
        self._reset_transaction_state(keep_atomic=self.in_atomic_block)
        try:
            self.close_connection(conn)
        except Error:
            pass

    def _reset_transaction_state(self, keep_atomic: bool = False) -> None:
        if not keep_atomic:
            self.in_atomic_block = False
            self.atomic_blocks = []
            self.savepoint_ids = []
            self.needs_rollback = False
            self.rollback_cause = None
            self.transaction_owner = None
        # The connection is gone, and its transaction with it: the next user
        # of this wrapper starts in autocommit mode, as on a new connection.
        self.autocommit = True
        self.manual_mode = False
        self.manual_transaction_open = False
        self.run_on_commit = []

    def on_database_error(self, error: Error) -> None:
        """Called by the error boundary with every translated driver error.

        Inside ``atomic`` the block can no longer be trusted, so it is marked
        for rollback. Outside one, a connection-level failure drops the
        connection now, so the *next* call reconnects instead of failing
        forever (RELIABILITY.md F2).
        """
        if self.in_atomic_block:
            if not self.needs_rollback or self.rollback_cause is None:
                self.rollback_cause = error
            self.needs_rollback = True
            if self.connection is not None and self.is_unusable_after(error):
                # Not now: a savepoint may still roll back and let the outer
                # block go on. But once the transaction is over, the next one
                # must not start on this connection (a read-only one would fail
                # every block forever), so the outermost block's exit closes it.
                self.close_at_transaction_end = True
            return
        if self.manual_transaction_open:
            # As in atomic: after an error the manual transaction cannot be
            # trusted (PostgreSQL aborts it and would turn COMMIT into a
            # silent ROLLBACK; SQLite may have rolled it back by itself), so
            # it must be rolled back before anything else runs in it.
            self._mark_manual_transaction_broken(error)
        if self.connection is not None and self.is_unusable_after(error):
            self._close_keeping_manual_mode()

    # -- transactions (low level; orm.db.transaction builds on these) --------
    #
    # The driver connection always runs in autocommit mode and orm issues
    # BEGIN itself: eagerly when an atomic block starts, lazily (before the
    # first statement) in manual mode, so that no transaction is ever open
    # while get_autocommit() says True and none is held between commit() and
    # the next statement (on SQLite that would hold the write lock).

    def get_autocommit(self) -> bool:
        """True when no transaction is open on this connection."""
        return self.autocommit

    def _transaction_open(self) -> bool:
        """True when the driver connection is inside a transaction (even a failed one)."""
        raise NotImplementedError

    def _begin_transaction(self) -> None:
        """BEGIN the transaction of an outermost atomic block."""
        self.validate_thread_sharing()
        self.ensure_connection()
        with self.wrap_database_errors:
            self._begin()
        self.autocommit = False

    def set_autocommit(self, autocommit: bool) -> None:
        """Turn manual transaction management on (``False``) or off (``True``), as Django.

        ``False``: the next statement begins a transaction, which lasts until
        ``commit()`` or ``rollback()``; the statement after that begins the
        next one. ``True`` commits the open transaction (as sqlite3 and JDBC
        do; on a failed one see ``_leave_manual_mode``) and returns to
        autocommit. Refused inside ``atomic()`` and on an event loop's
        thread; ``False`` is also refused while another ``sync_to_async``
        call's manual transaction is open on this connection.
        """
        check_async_unsafe(f"transaction.set_autocommit({autocommit!r})")
        self.validate_thread_sharing()
        self.validate_no_atomic_block()
        if not autocommit:
            if self.manual_mode:
                self.check_transaction_owner()  # already on: fine for the same call only
                return
            self.manual_mode = True
            self.autocommit = False
            # Remember which thread-sensitive call switched it off: the
            # transaction is that call's, as an atomic block is (see
            # check_transaction_owner).
            self.transaction_owner = call_boundary(sys._getframe(1)) or _NO_CALL
        elif self.manual_mode:
            self._leave_manual_mode()

    def _leave_manual_mode(self) -> None:
        """``set_autocommit(True)``: commit what is pending, then autocommit again.

        A transaction that failed cannot be committed: it is rolled back and
        ``TransactionManagementError`` says so. Either way the connection is
        back in autocommit mode with no transaction open, so cleanup in a
        ``finally`` never leaves a transaction (or SQLite's write lock) behind.
        """
        broken, cause = self.needs_rollback, self.rollback_cause
        hooks, self.run_on_commit = self.run_on_commit, []
        try:
            if broken:
                try:
                    self._rollback_or_close()
                except DatabaseError:
                    pass  # closed instead, which discards the transaction too
            elif self.connection is not None and self._transaction_open():
                try:
                    self._commit()
                except DatabaseError:
                    self._rollback_or_close()
                    raise
        finally:
            self.manual_mode = self.manual_transaction_open = False
            self.needs_rollback, self.rollback_cause = False, None
            self.transaction_owner = None
            self.autocommit = True
        if broken:
            raise TransactionManagementError(
                "set_autocommit(True) could not commit the manual transaction: an error occurred "
                "in it (see the cause). It was rolled back, so nothing since the last commit() "
                "was saved; the connection is in autocommit mode again."
            ) from cause
        # Hooks registered by atomic blocks inside the transaction just committed.
        self.run_on_commit = hooks
        self.run_and_clear_commit_hooks()

    def commit(self) -> None:
        """Commit the open transaction (outside ``atomic()``) and run its on_commit hooks.

        In manual mode the next statement begins a new transaction. A manual
        transaction in which an error occurred cannot be committed: it is
        rolled back and ``TransactionManagementError`` says so.
        """
        check_async_unsafe("transaction.commit()")
        self.validate_thread_sharing()
        self.validate_no_atomic_block()
        if self.manual_mode and self.needs_rollback:
            cause = self.rollback_cause
            try:
                self.rollback()
            except DatabaseError:
                pass  # the connection was closed instead, which discards the transaction too
            raise TransactionManagementError(
                "The manual transaction cannot be committed: an error occurred in it (see the "
                "cause). It was rolled back, so nothing since the last commit() was saved. "
                "Run the work again, or wrap a statement that may fail in "
                "transaction.atomic() so only its savepoint is rolled back."
            ) from cause
        self._commit()
        self.manual_transaction_open = False
        self.run_and_clear_commit_hooks()

    def rollback(self) -> None:
        """Roll back the open transaction (outside ``atomic()``) and drop its on_commit hooks.

        In manual mode the next statement begins a new transaction.
        """
        check_async_unsafe("transaction.rollback()")
        self.validate_thread_sharing()
        self.validate_no_atomic_block()
        try:
            self._rollback_or_close()
        finally:
            self.manual_transaction_open = False
            self.needs_rollback = False
            self.rollback_cause = None
            self.run_on_commit = []

    def _rollback_or_close(self) -> None:
        try:
            self._rollback()
        except DatabaseError:
            # A connection that cannot roll back is not reused; closing it
            # discards the transaction on the server side as well.
            self._close_keeping_manual_mode()
            raise

    def _mark_manual_transaction_broken(self, cause: BaseException | None) -> None:
        if not self.needs_rollback or self.rollback_cause is None:
            self.rollback_cause = cause
        self.needs_rollback = True

    def _close_keeping_manual_mode(self) -> None:
        """Drop a failed connection without silently leaving manual mode.

        Later statements would otherwise autocommit one by one while the user
        still believes rollback() can undo them. A transaction that was open
        is lost with the connection, so it is marked to be rolled back.
        """
        manual, owner = self.manual_mode, self.transaction_owner
        lost, cause = self.manual_transaction_open, self.rollback_cause
        self.close()
        if manual:
            self.manual_mode, self.autocommit, self.transaction_owner = True, False, owner
            if lost:
                self._mark_manual_transaction_broken(cause)

    def check_transaction_owner(self) -> None:
        """Refuse work from a ``sync_to_async`` call other than the one that owns the transaction.

        The owner is the call that opened the atomic block or turned
        autocommit off. Calls nested inside it (``async_to_sync`` →
        ``sync_to_async``) still have its frame on their stack and pass.
        """
        owner = self.transaction_owner
        if owner is None or owner is _NO_CALL:
            return
        frame: Any = sys._getframe(1)
        while frame is not None:
            if frame is owner:
                return
            frame = frame.f_back
        raise TransactionManagementError(self._foreign_call_message())

    def _foreign_call_message(self) -> str:
        if self.manual_mode:
            return (
                f"The connection for alias {self.alias!r} is in a manual transaction "
                "(transaction.set_autocommit(False)) started by an earlier sync_to_async call "
                "which has already returned. Running this here would make it part of that "
                "unfinished transaction, which that code will commit or roll back. Do the whole "
                "manual transaction in one sync function (set_autocommit(False) ... commit() "
                "... set_autocommit(True)) and call it with `await orm.sync_to_async(fn)(...)`; "
                "work that must run meanwhile gets its own connection inside "
                "`async with orm.connection_scope():`."
            )
        return (
            f"The connection for alias {self.alias!r} is inside a transaction.atomic() block that "
            "was opened by an earlier sync_to_async call which has already returned. Running this "
            "query would make it part of that unfinished transaction (the 'async atomic' "
            "anti-pattern). Put the whole transaction in one sync function and call it with "
            "`await orm.sync_to_async(fn)(...)`."
        )

    def guard_statement(self) -> None:
        """Run by the cursor wrapper before a statement while ``transaction_owner`` is set.

        Refuses a statement from another call (``check_transaction_owner``)
        and, in manual mode, begins the transaction if none is open.
        """
        self.check_transaction_owner()
        if self.manual_mode:
            self.begin_manual_transaction()

    def begin_manual_transaction(self) -> None:
        """BEGIN the manual transaction unless one is open (lazily: before its first
        statement or savepoint, so none is held between commit() and the next one)."""
        self.ensure_connection()
        if self._transaction_open():
            return
        with self.wrap_database_errors:
            self._begin()
        self.manual_transaction_open = True

    def _commit(self) -> None:
        if self.connection is not None:
            with self.wrap_database_errors:
                self.connection.commit()

    def _rollback(self) -> None:
        if self.connection is not None:
            with self.wrap_database_errors:
                self.connection.rollback()

    def _savepoint_sql(self, verb: str, sid: str) -> None:
        # Straight to the driver: savepoint bookkeeping of the block itself is
        # not a user query (no execute wrappers, no owner check).
        self.validate_thread_sharing()
        with self.wrap_database_errors:
            self.connection.execute(f"{verb} {self.ops.quote_name(sid)}")

    def savepoint_create(self, sid: str) -> None:
        """SAVEPOINT sid."""
        self._savepoint_sql("SAVEPOINT", sid)

    def savepoint_rollback_to(self, sid: str) -> None:
        """ROLLBACK TO SAVEPOINT sid, dropping on_commit hooks registered after it."""
        self._savepoint_sql("ROLLBACK TO SAVEPOINT", sid)
        self.run_on_commit = [
            (sids, fn, robust) for (sids, fn, robust) in self.run_on_commit if sid not in sids
        ]

    def savepoint_release(self, sid: str) -> None:
        """RELEASE SAVEPOINT sid."""
        self._savepoint_sql("RELEASE SAVEPOINT", sid)

    def validate_no_atomic_block(self) -> None:
        """Refuse explicit commit/rollback inside an atomic block."""
        if self.in_atomic_block:
            raise TransactionManagementError("This is forbidden when an 'atomic' block is active.")

    def validate_no_broken_transaction(self) -> None:
        """Refuse queries after a database error inside the current atomic block
        or manual transaction (until the block ends / ``rollback()``)."""
        if not self.needs_rollback:  # the common path: one attribute test per statement
            return
        if self.in_atomic_block:
            raise TransactionManagementError(
                "An error occurred in the current transaction. You can't execute queries "
                "until the end of the 'atomic' block."
            ) from self.rollback_cause
        if self.manual_mode:
            raise TransactionManagementError(
                "An error occurred in the current manual transaction "
                "(transaction.set_autocommit(False)). You can't execute queries until you call "
                "transaction.rollback(); nothing since the last commit() can be committed."
            ) from self.rollback_cause

    def on_commit(self, func: Callable[[], Any], robust: bool = False) -> None:
        """Run ``func`` after the outermost atomic block commits (now if none is open)."""
        if not callable(func):
            raise TypeError("on_commit()'s callback must be a callable.")
        if self.in_atomic_block:
            self.run_on_commit.append((set(self.savepoint_ids), func, robust))
        elif not self.get_autocommit():
            raise TransactionManagementError(
                "on_commit() cannot be used in manual transaction management"
            )
        else:
            self._run_hook(func, robust)

    def run_and_clear_commit_hooks(self) -> None:
        """Run the pending on_commit hooks in order (after a commit)."""
        self.validate_no_atomic_block()
        hooks, self.run_on_commit = self.run_on_commit, []
        for _sids, func, robust in hooks:
            self._run_hook(func, robust)

    @staticmethod
    def _run_hook(func: Callable[[], Any], robust: bool) -> None:
        if not robust:
            func()
            return
        try:
            func()
        except Exception:
            import logging

            logging.getLogger("orm.db.transaction").exception(
                "Error calling %r in on_commit() (robust=True); continuing.", func
            )

    # -- parts -------------------------------------------------------------
    def schema_editor(self, atomic: bool = True) -> BaseDatabaseSchemaEditor:
        """Return the schema editor (a context manager) used for DDL and migrations."""
        return self.schema_editor_class(self, atomic=atomic)

    def diagnostics(self) -> dict[str, Any]:
        """Connection facts for debugging: vendor, thread, open or not, transaction state."""
        return {
            "alias": self.alias,
            "vendor": self.vendor,
            "thread": self.thread_name,
            "open": self.connection is not None,
            "in_atomic_block": self.in_atomic_block,
        }
