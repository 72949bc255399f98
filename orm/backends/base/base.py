"""``BaseDatabaseWrapper``: one per alias and thread, owning one driver connection.

A wrapper is bound to the thread that created it. Using it from another
thread raises ``DatabaseError`` naming both, because neither sqlite3 nor a
psycopg connection in a transaction may be shared between threads safely, and
because `orm`'s async design depends on each context's work running on its
own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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
from orm.utils.asyncio import check_async_unsafe

if TYPE_CHECKING:
    from orm.backends.base.features import BaseDatabaseFeatures
    from orm.backends.base.operations import BaseDatabaseOperations
    from orm.backends.base.schema import BaseDatabaseSchemaEditor


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

    ops_class: ClassVar[type[BaseDatabaseOperations]]
    features_class: ClassVar[type[BaseDatabaseFeatures]]
    schema_editor_class: ClassVar[type[BaseDatabaseSchemaEditor]]

    def __init__(self, settings: DatabaseSettings, alias: str) -> None:
        self.settings = settings
        self.alias = alias
        self.connection: Any = None
        self.thread_ident = threading.get_ident()
        self.thread_name = threading.current_thread().name
        self.ops = self.ops_class(self)
        self.features = self.features_class(self)
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
        self.run_commit_hooks_on_set_autocommit_on = False
        #: id of the thread-sensitive call that opened the current atomic block.
        self.atomic_owner: object = None

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
        """Open the driver connection if none is open (on this wrapper's thread)."""
        if self.connection is None:
            check_async_unsafe("opening a database connection")
            self.validate_thread_sharing()
            with self.wrap_database_errors:
                self.connection = self.get_new_connection()
            try:
                self.init_connection_state()
            except BaseException:
                # A connection whose set-up did not finish (a pragma, the time
                # zone) must not be used by the next call as if it had: close
                # it (a pooled one goes back to its pool) and open afresh then.
                self.close()
                raise

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
            self.atomic_owner = None
        self.autocommit = True
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
        elif self.connection is not None and self.is_unusable_after(error):
            self.close()

    # -- transactions (low level; orm.db.transaction builds on these) --------
    def get_autocommit(self) -> bool:
        """True when no transaction is open on this connection."""
        return self.autocommit

    def set_autocommit(self, autocommit: bool) -> None:
        """Leave or re-enter autocommit mode (BEGIN / COMMIT happen around it)."""
        self.validate_thread_sharing()
        self.ensure_connection()
        if autocommit == self.autocommit:
            return
        if autocommit:
            self.autocommit = True
            if self.run_commit_hooks_on_set_autocommit_on:
                self.run_and_clear_commit_hooks()
                self.run_commit_hooks_on_set_autocommit_on = False
        else:
            with self.wrap_database_errors:
                self._begin()
            self.autocommit = False

    def commit(self) -> None:
        """Commit the open transaction."""
        self.validate_thread_sharing()
        self.validate_no_atomic_block()
        self._commit()
        self._restart_manual_transaction()
        self.run_and_clear_commit_hooks()

    def rollback(self) -> None:
        """Roll back the open transaction and drop its on_commit hooks."""
        self.validate_thread_sharing()
        self.validate_no_atomic_block()
        self._rollback()
        self._restart_manual_transaction()
        self.needs_rollback = False
        self.run_on_commit = []

    def _restart_manual_transaction(self) -> None:
        # The driver runs in autocommit mode; with set_autocommit(False) the
        # next statements must be in a transaction again, as in Django.
        if not self.autocommit and self.connection is not None:
            with self.wrap_database_errors:
                self._begin()

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
        """Refuse queries after a database error inside the current atomic block."""
        if self.needs_rollback and self.in_atomic_block:
            raise TransactionManagementError(
                "An error occurred in the current transaction. You can't execute queries "
                "until the end of the 'atomic' block."
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
