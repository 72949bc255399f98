"""``BaseDatabaseWrapper``: one per alias and thread, owning one driver connection.

The vendor-neutral core of every connection: opening, health checks and
closing, cursors, the error hook, and the transaction API (delegated to its
:class:`~orm.db.transaction_state.TransactionState`). A backend subclasses it
(``orm.backends.<vendor>.base.DatabaseWrapper``), implements the driver hooks
and names its parts (``ops_class`` and the rest), which this layer knows only
through the protocols of ``orm.abc``.

A wrapper is bound to the thread that created it. Using it from another
thread raises ``DatabaseError`` naming both, because neither sqlite3 nor a
psycopg connection in a transaction may be shared between threads safely, and
because `orm`'s async design depends on each context's work running on its
own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import monotonic
from typing import Any, ClassVar, Self

from orm.abc import Connection, Features, Introspection, Operations, PoolRegistry, SchemaEditor
from orm.conf import DatabaseSettings
from orm.db.cursor import CursorWrapper
from orm.db.errors import DatabaseErrorWrapper
from orm.db.querylog import observe
from orm.db.transaction_state import OnCommitHook, TransactionState
from orm.exceptions import (
    DatabaseError,
    DatabaseOperationForbidden,
    Error,
    InterfaceError,
    InternalError,
    OperationalError,
)
from orm.utils.asyncio import check_async_unsafe, running_loop

__all__ = ["BaseDatabaseWrapper", "SHARED_WAIT", "mark_thread_reused"]

logger = logging.getLogger("orm.db.scopes")

#: Seconds a thread waits for a shared (test-pinned) connection held by another.
SHARED_WAIT = 30.0

# Per thread: set on the threads of ``ScopeThreads``, which keep their
# connections from one scope to the next (reset in between, see
# ``reset_for_reuse``). A wrapper reads it once, on the thread it belongs to.
_thread_flags = threading.local()


def mark_thread_reused() -> None:
    """Mark the calling thread as one whose connections outlive a scope (reset, not closed).

    The initializer of the scope pool's threads. A backend may then watch
    what a user changes on a connection it opens there, so that the reset
    between scopes stays cheap (see ``BaseDatabaseWrapper.reused_thread``).
    """
    _thread_flags.reused = True


class BaseDatabaseWrapper:
    """Connection state for one alias on one thread (composed from named parts)."""

    vendor: str = "unknown"
    display_name: str = "unknown"
    #: internal field type -> column type pattern, formatted with the field's attributes.
    data_types: dict[str, str] = {}
    #: internal field type -> CHECK pattern (``%(column)s`` is the quoted column).
    data_type_check_constraints: dict[str, str] = {}
    #: lookup name -> SQL operator pattern with ``%s`` for the right-hand side.
    #: LIKE patterns arrive escaped (``prep_for_like_query``) with ``\`` as escape.
    operators: dict[str, str] = {
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
    pattern_ops: dict[str, str] = {}

    #: The statement that starts a transaction on the (autocommit) driver connection.
    begin_sql: ClassVar[str] = "BEGIN"

    #: Seconds the open connection may sit unused before its next use outside a
    #: transaction checks it (``is_usable()``) and replaces it if dead; ``None``
    #: never checks (no server can cut the connection), ``0`` checks every use.
    health_check_after: float | None = None

    #: The parts a backend names; typed by the protocols of ``orm.abc``
    #: (mypy checks each backend's classes against them where it sets these).
    ops_class: ClassVar[type[Operations]]
    features_class: ClassVar[type[Features]]
    introspection_class: ClassVar[type[Introspection]]
    schema_editor_class: ClassVar[type[SchemaEditor]]

    def __init__(
        self, settings: DatabaseSettings, alias: str, handler: PoolRegistry | None = None
    ) -> None:
        self.settings = settings
        self.alias = alias
        #: The ``orm.connections`` that made this wrapper (it keeps the pools
        #: shared by every thread); ``None`` for a wrapper built by hand.
        self.handler = handler
        self.connection: Any = None
        self.thread_ident = threading.get_ident()
        self.thread_name = threading.current_thread().name
        self.ops: Operations = self.ops_class(self)
        self.features: Features = self.features_class(self)
        self.introspection: Introspection = self.introspection_class(self)
        self.wrap_database_errors = DatabaseErrorWrapper(self)
        self.execute_wrappers: list[Callable[..., Any]] = []
        #: Everything about the open transaction (see orm.db.transaction_state).
        self.transaction_state = TransactionState(self)
        #: monotonic() of the last ensure_connection(), for health_check_after.
        self.last_used = 0.0
        #: Set while a test pins this wrapper for every thread (see
        #: ``share_between_threads``); ``None`` otherwise.
        self.pin_lock: threading.RLock | None = None
        #: True for a wrapper made by ``unconnected()``: it compiles, never connects.
        self.unconnected_only = False
        #: Why a test forbids this alias (``ConnectionHandler.forbid``); ``None``: allowed.
        self.forbidden: str | None = None
        #: True on a scope-pool thread, whose connection is reset between
        #: scopes rather than closed (see :func:`mark_thread_reused`).
        self.reused_thread: bool = getattr(_thread_flags, "reused", False)
        #: True while statements that may change the session are noted in
        #: ``session_changed`` (see ``CursorWrapper.session_safe``): set by a
        #: backend whose reset between scopes is skipped when nothing changed.
        self.watch_session = False
        #: A statement not known to leave the session alone ran since the last reset.
        self.session_changed = False

    @classmethod
    def unconnected(cls, alias: str = "unconnected") -> Self:
        """A wrapper of this vendor for compiling SQL only; it never opens a connection.

        Like peewee's ``PostgresqlDatabase(None)``: ``query.get_compiler(
        connection=wrapper).as_sql()`` and ``schema_editor(collect_sql=True)``
        work without a server (the driver must still be importable), while
        anything that would connect raises ``InterfaceError``. Nothing here
        asks the server for its version: where the SQL could depend on it, the
        newest version this backend supports is assumed.
        """
        settings = DatabaseSettings(vendor=cls.vendor, name="", url=f"{cls.vendor}://")
        wrapper = cls(settings, alias)
        wrapper.unconnected_only = True
        return wrapper

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
        return (
            isinstance(error, OperationalError | InterfaceError | InternalError)
            and self.is_broken()
        )

    # -- connection lifecycle ----------------------------------------------
    def validate_thread_sharing(self) -> None:
        """Raise ``DatabaseError`` when used from a thread other than the creator
        (unless the wrapper is shared, see :meth:`share_between_threads`)."""
        if threading.get_ident() != self.thread_ident and self.pin_lock is None:
            current = threading.current_thread()
            raise DatabaseError(
                f"The connection wrapper for alias {self.alias!r} was created in thread "
                f"{self.thread_name!r} (id {self.thread_ident}) and cannot be used from thread "
                f"{current.name!r} (id {current.ident}). Each thread gets its own: use "
                "orm.connections[alias] on the thread that runs the query."
            )

    def share_between_threads(self) -> None:
        """Let every thread use this wrapper, one statement or atomic block at a time.

        For the ``orm_db`` test fixture only (``connections.pin()``): the
        test's transaction is open here, and the threads it reaches must all
        run inside it. ``pin_lock`` is held by each statement (an execute
        wrapper) and by each atomic block, so two threads never interleave
        on the one driver connection or in its transaction bookkeeping.
        """
        if self.pin_lock is not None:
            return
        self.pin_lock = threading.RLock()
        self.execute_wrappers.insert(0, self._serialize_statement)

    def stop_sharing(self) -> None:
        """Bind the wrapper to its own thread again (undo :meth:`share_between_threads`)."""
        if self.pin_lock is None:
            return
        self.pin_lock = None
        self.execute_wrappers[:] = [
            w for w in self.execute_wrappers if w != self._serialize_statement
        ]

    def acquire_shared(self) -> bool:
        """Take ``pin_lock`` for this thread's statement or block; False when not shared.

        Waits at most ``SHARED_WAIT`` seconds, then raises ``DatabaseError``:
        a thread that waits for another thread while holding the connection
        (an atomic block awaiting a request that needs the database) would
        otherwise hang the test forever.
        """
        lock = self.pin_lock
        if lock is None:
            return False
        if not lock.acquire(timeout=SHARED_WAIT):
            raise DatabaseError(
                f"Thread {threading.current_thread().name!r} waited {SHARED_WAIT:g} s for the "
                f"test's connection for alias {self.alias!r}, which another thread holds (an "
                "atomic block or a statement). Under orm_db every thread shares one connection "
                "and one transaction: code that waits inside atomic() for work on another "
                "thread deadlocks. Use orm_transactional_db for such a test."
            )
        return True

    def release_shared(self) -> None:
        """Release what :meth:`acquire_shared` took (no-op when not shared)."""
        lock = self.pin_lock
        if lock is not None:
            lock.release()

    def _serialize_statement(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if not self.acquire_shared():
            return execute(sql, params, many, context)
        try:
            return execute(sql, params, many, context)
        finally:
            self.release_shared()

    def ensure_connection(self) -> None:
        """Open the driver connection if none is open (on this wrapper's thread).

        An open one that sat unused for ``health_check_after`` seconds is
        checked first and replaced if the server cut it meanwhile (see
        ``_replace_if_dead``), so the statement about to run is sent to a live
        connection. Raises ``DatabaseOperationForbidden`` while a test forbids
        this alias (every statement and transaction passes here first).
        """
        if self.forbidden is not None:
            raise DatabaseOperationForbidden(self.forbidden)
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
        if self.unconnected_only:
            raise InterfaceError(
                f"The {self.vendor} wrapper {self.alias!r} was made by "
                "DatabaseWrapper.unconnected() to compile SQL only and cannot open a "
                "connection; run queries through orm.connections after orm.configure(url)."
            )
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
        state = self.transaction_state
        if not state.autocommit or state.in_atomic_block:
            return
        if self.is_usable():
            return
        self.close()  # RETURNED dead: the pool discards it and opens a replacement
        self.ensure_connection()

    def cursor(self) -> CursorWrapper:
        """Return a cursor for raw SQL with ``%s`` placeholders."""
        # Every statement passes here: the tests are inlined, the calls are
        # made only when there is something to refuse.
        if running_loop() is not None:
            check_async_unsafe("connection.cursor()")
        if self.thread_ident != threading.get_ident():
            self.validate_thread_sharing()
        # Refuse before touching the driver: after a lost connection inside
        # atomic() the error must be the block's, not "connection is closed".
        # (One attribute test when the transaction is healthy.)
        state = self.transaction_state
        if state.needs_rollback:
            state.validate_no_broken_transaction()
        self.ensure_connection()
        try:
            return CursorWrapper(self.create_cursor(), self)
        except Exception as error:
            self.wrap_database_errors.reraise(error)
            raise

    @contextmanager
    def execute_wrapper(self, wrapper: Callable[..., Any]) -> Iterator[None]:
        """Run every statement of the block through ``wrapper`` (Django's ``execute_wrapper``).

        ``wrapper(execute, sql, params, many, context)`` must return
        ``execute(sql, params, many, context)``; it is removed when the block
        exits, however it exits. Only this thread's connection of this alias.
        """
        self.execute_wrappers.append(wrapper)
        try:
            yield
        finally:
            self.execute_wrappers.remove(wrapper)

    def chunked_cursor(self) -> CursorWrapper:
        """A cursor for streaming large results (server-side where the backend has one)."""
        return self.cursor()

    def close(self) -> None:
        """Close the connection (a pooled one goes back to its pool, rolled back).

        Inside an atomic block the block is marked for rollback so its exit
        does not try to commit on a connection that is gone.
        """
        conn, self.connection = self.connection, None
        self.transaction_state.close_at_transaction_end = False
        if conn is None:
            return
        self.transaction_state.connection_closed()
        try:
            self.close_connection(conn)
        except Error:
            pass

    def reset_for_reuse(self) -> bool:
        """End of a scope on a reused thread: make this wrapper fresh for the next scope.

        Returns True when the driver connection was kept open (reset in
        place), False when it was closed or none was open. The transaction
        bookkeeping always starts afresh: no atomic block, manual mode,
        savepoint, rollback mark or on_commit hook (dropped, not run) of the
        last scope survives, and neither do its execute wrappers. This base
        version closes the connection (a pooled one is reset by its pool);
        a backend that can reset a connection cheaply overrides
        :meth:`reset_connection`.
        """
        kept = False
        try:
            if self.connection is not None:
                kept = self.reset_connection()
        except Error as error:
            # Closed below: a connection that could not be reset is never reused.
            logger.warning(
                "Closing the %s connection %r: its reset between scopes failed: %s",
                self.vendor,
                self.alias,
                error,
            )
        finally:
            if not kept:
                self.close()
            # Nothing of the last scope's transactions may reach the next one.
            self.transaction_state = TransactionState(self)
            if self.pin_lock is None:
                self.execute_wrappers.clear()
        return kept

    def reset_connection(self) -> bool:
        """Bring the open driver connection back to a fresh session for the next scope.

        Return True to keep it, False to have it closed. Must roll back an
        open transaction and undo what a user changed on the session, or
        return False when it cannot; an exception also closes it (and is
        re-raised). The default keeps nothing.
        """
        return False

    def on_database_error(self, error: Error) -> None:
        """Called by the error boundary with every translated driver error.

        Inside ``atomic`` the block can no longer be trusted, so it is marked
        for rollback. Outside one, a connection-level failure drops the
        connection now, so the *next* call reconnects instead of failing
        forever (RELIABILITY.md F2).
        """
        state = self.transaction_state
        if state.in_atomic_block:
            state.mark_rollback(error)
            if self.connection is not None and self.is_unusable_after(error):
                # Not now: a savepoint may still roll back and let the outer
                # block go on. But once the transaction is over, the next one
                # must not start on this connection (a read-only one would fail
                # every block forever), so the outermost block's exit closes it.
                state.close_at_transaction_end = True
            return
        if state.manual_transaction_open:
            # As in atomic: after an error the manual transaction cannot be
            # trusted (PostgreSQL aborts it and would turn COMMIT into a
            # silent ROLLBACK; SQLite may have rolled it back by itself), so
            # it must be rolled back before anything else runs in it.
            state.mark_rollback(error)
        if self.connection is not None and self.is_unusable_after(error):
            state.close_keeping_manual_mode()

    # -- driver-level transaction calls (TransactionState's TransactionDriver) --
    def driver_in_transaction(self) -> bool:
        """True when the driver connection is inside a transaction (even a failed one)."""
        raise NotImplementedError

    def driver_begin(self) -> None:
        """``begin_sql`` on the open connection, errors translated."""
        with self.wrap_database_errors, observe(self.alias, self.begin_sql):
            self.connection.execute(self.begin_sql)

    def driver_commit(self) -> None:
        """COMMIT on the open connection, if any."""
        if self.connection is not None:
            with self.wrap_database_errors, observe(self.alias, "COMMIT"):
                self.connection.commit()

    def driver_rollback(self) -> None:
        """ROLLBACK on the open connection, if any."""
        if self.connection is not None:
            with self.wrap_database_errors, observe(self.alias, "ROLLBACK"):
                self.connection.rollback()

    def driver_savepoint(self, verb: str, sid: str) -> None:
        """``SAVEPOINT``/``ROLLBACK TO SAVEPOINT``/``RELEASE SAVEPOINT`` ``sid``."""
        # Straight to the driver: savepoint bookkeeping of the block itself is
        # not a user query (no execute wrappers, no owner check).
        self.validate_thread_sharing()
        sql = f"{verb} {self.ops.quote_name(sid)}"
        with self.wrap_database_errors, observe(self.alias, sql):
            self.connection.execute(sql)

    # -- the transaction API (Django's names; the work is TransactionState's) --
    @property
    def autocommit(self) -> bool:
        """True when no transaction is open and manual mode is off."""
        return self.transaction_state.autocommit

    @property
    def in_atomic_block(self) -> bool:
        """True inside ``transaction.atomic()``."""
        return self.transaction_state.in_atomic_block

    @property
    def needs_rollback(self) -> bool:
        """True when the open block or manual transaction must roll back."""
        return self.transaction_state.needs_rollback

    @needs_rollback.setter
    def needs_rollback(self, value: bool) -> None:
        self.transaction_state.needs_rollback = value

    @property
    def savepoint_ids(self) -> list[str | None]:
        """The savepoints of the open atomic blocks, innermost last."""
        return self.transaction_state.savepoint_ids

    @property
    def run_on_commit(self) -> list[OnCommitHook]:
        """The on_commit hooks waiting for the commit: ``(savepoint ids, func, robust)``."""
        return self.transaction_state.run_on_commit

    def get_autocommit(self) -> bool:
        """True when no transaction is open on this connection."""
        return self.transaction_state.autocommit

    def set_autocommit(self, autocommit: bool) -> None:
        """Turn manual transaction management on (``False``) or off (``True``), as Django.

        ``False``: the next statement begins a transaction, which lasts until
        ``commit()`` or ``rollback()``; the statement after that begins the
        next one. ``True`` commits the open transaction (as sqlite3 and JDBC
        do; a failed one is rolled back and ``TransactionManagementError``
        says so) and returns to autocommit. Refused inside ``atomic()`` and
        on an event loop's thread; ``False`` is also refused while another
        ``sync_to_async`` call's manual transaction is open on this connection.
        """
        check_async_unsafe(f"transaction.set_autocommit({autocommit!r})")
        self.validate_thread_sharing()
        self.transaction_state.set_autocommit(autocommit)

    def commit(self) -> None:
        """Commit the open transaction (outside ``atomic()``) and run its on_commit hooks.

        In manual mode the next statement begins a new transaction. A manual
        transaction in which an error occurred cannot be committed: it is
        rolled back and ``TransactionManagementError`` says so.
        """
        check_async_unsafe("transaction.commit()")
        self.validate_thread_sharing()
        self.transaction_state.commit()

    def rollback(self) -> None:
        """Roll back the open transaction (outside ``atomic()``) and drop its on_commit hooks.

        In manual mode the next statement begins a new transaction.
        """
        check_async_unsafe("transaction.rollback()")
        self.validate_thread_sharing()
        self.transaction_state.rollback()

    def savepoint_create(self, sid: str) -> None:
        """SAVEPOINT sid."""
        self.transaction_state.savepoint_create(sid)

    def savepoint_rollback_to(self, sid: str) -> None:
        """ROLLBACK TO SAVEPOINT sid, dropping on_commit hooks registered after it."""
        self.transaction_state.savepoint_rollback(sid)

    def savepoint_release(self, sid: str) -> None:
        """RELEASE SAVEPOINT sid."""
        self.transaction_state.savepoint_release(sid)

    def check_transaction_owner(self) -> None:
        """Refuse work from a ``sync_to_async`` call other than the one that owns the
        open transaction (see ``TransactionState.check_owner``)."""
        self.transaction_state.check_owner()

    def validate_no_atomic_block(self) -> None:
        """Refuse explicit commit/rollback inside an atomic block."""
        self.transaction_state.validate_no_atomic_block()

    def validate_no_broken_transaction(self) -> None:
        """Refuse queries after a database error inside the current atomic block
        or manual transaction (until the block ends / ``rollback()``)."""
        self.transaction_state.validate_no_broken_transaction()

    def on_commit(self, func: Callable[[], Any], robust: bool = False) -> None:
        """Run ``func`` after the outermost atomic block commits (now if none is open)."""
        self.transaction_state.on_commit(func, robust)

    def run_and_clear_commit_hooks(self) -> None:
        """Run the pending on_commit hooks in order (after a commit)."""
        self.transaction_state.run_commit_hooks()

    # -- parts -------------------------------------------------------------
    def schema_editor(self, atomic: bool = True, collect_sql: bool = False) -> SchemaEditor:
        """Return the schema editor (a context manager) used for DDL and migrations.

        With ``collect_sql=True`` it runs nothing and records the statements in
        ``collected_sql`` (for ``sqlmigrate``).
        """
        return self.schema_editor_class(self, atomic=atomic, collect_sql=collect_sql)

    def diagnostics(self) -> dict[str, Any]:
        """Connection facts for debugging: vendor, thread, open or not, transaction state."""
        state = self.transaction_state
        return {
            "alias": self.alias,
            "vendor": self.vendor,
            "thread": self.thread_name,
            "open": self.connection is not None,
            "in_atomic_block": state.in_atomic_block,
            "transaction": state.status.value,
        }


def _as_connection(wrapper: BaseDatabaseWrapper) -> Connection:
    """Never called: mypy checks here that the wrapper is the ``orm.abc.Connection``
    the layers above see, so the protocol and the class cannot drift apart."""
    return wrapper
