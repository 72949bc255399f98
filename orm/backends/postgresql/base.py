"""PostgreSQL ``DatabaseWrapper`` on psycopg 3 and ``psycopg_pool``.

Connections come from one ``psycopg_pool.ConnectionPool`` per alias, shared
by every thread and created on first use through
``ConnectionHandler.get_pool``. A thread's wrapper takes a connection when it
first needs one and holds it until the wrapper is closed (end of a
``connection_scope()``, ``close_current()``/``close_all()``, a
connection-level error, or the end of the thread), then gives it back idle:
an open transaction is rolled back and the session reset (``_SESSION_RESET``:
role, settings, cursors, prepared statements, ...), and a connection that
cannot be reset is closed, so the next user never inherits the last one's
session. The pool checks each connection before
handing it out (``check=ConnectionPool.check_connection``), so one the server
killed while it sat idle is replaced instead of failing the next query. A
connection a wrapper holds between calls is checked the same way before its
next use once it sat unused for ``health_check_after`` seconds (URL option,
default 1; see ``orm.db.wrapper.BaseDatabaseWrapper.ensure_connection``).

Connections run in autocommit mode; ``atomic()`` issues ``BEGIN`` and ends
with ``COMMIT``/``ROLLBACK`` through the connection. Every session uses
``TimeZone=UTC`` (timestamptz values come back aware, in UTC) and reads
``json``/``jsonb`` as text, which ``JSONField.from_db_value`` decodes.

URL options other than ``pool_*`` are libpq parameters (``sslmode``,
``connect_timeout``, ``application_name``, ...), checked when the pool is
created, plus psycopg's ``prepare_threshold`` (``none`` behind PgBouncer in
transaction mode). A connect failure (wrong password, unknown database,
server down) is reported with its cause, and before the pool ever connected
it ends the wait at once rather than after ``pool_timeout``.

``iterator()`` streams through a server-side (named) cursor. Outside a
transaction it is declared ``WITH HOLD`` so it survives the implicit commit
of autocommit mode: the client holds one chunk at a time, while PostgreSQL
materialises the result when the ``DECLARE`` commits. Inside ``atomic()``
the cursor is an ordinary one that streams lazily and ends with the
transaction. Either way it is closed when the iteration ends, stops early or
fails.

Behind a PgBouncer in transaction pooling mode (URL option
``pgbouncer=transaction``) consecutive transactions of one client connection
may run on different server sessions, so nothing may rely on session state:
psycopg prepares no statements (unless ``prepare_threshold`` is given, for a
PgBouncer that tracks them), the UTC time zone is set with ``SET`` (PgBouncer
tracks ``TimeZone`` per client and replays it) instead of a startup option it
would refuse, ``iterator()`` outside a transaction reads the whole result
through a client-side cursor (a ``WITH HOLD`` cursor would stay on a server
session that the next ``FETCH`` may not reach), and the reset before a
connection goes back restores only the parameters PgBouncer keeps for the
client (``_restore_tracked``): every other session statement would reach
whichever server session is free, not the one the user changed.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Self

import psycopg
from psycopg import pq, sql
from psycopg.conninfo import make_conninfo
from psycopg.types.array import ListBinaryDumper
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout, TooManyRequests

from orm.abc import PoolRegistry
from orm.backends.postgresql.features import DatabaseFeatures
from orm.backends.postgresql.introspection import DatabaseIntrospection
from orm.backends.postgresql.operations import BinaryArray, DatabaseOperations
from orm.backends.postgresql.schema import DatabaseSchemaEditor
from orm.conf import (
    DEFAULT_HEALTH_CHECK_AFTER,
    PGBOUNCER_TRANSACTION,
    DatabaseSettings,
    redact_secrets,
)
from orm.db.connections import connections
from orm.db.cursor import CursorWrapper
from orm.db.wrapper import BaseDatabaseWrapper
from orm.exceptions import Error, ImproperlyConfigured, OperationalError
from orm.utils.asyncio import check_async_unsafe
from orm.utils.text import short_repr

__all__ = ["DatabaseWrapper", "POOL_DEFAULTS"]

PgConnection = psycopg.Connection[Any]

#: psycopg_pool settings used when the URL does not give ``pool_<name>=...``.
POOL_DEFAULTS: dict[str, Any] = {"min_size": 1, "max_size": 10, "timeout": 30.0}
# How long one wait for a connection lasts while the pool has never connected,
# so a wrong password or a stopped server fails fast instead of after the
# whole pool timeout.
_FIRST_CONNECT_POLL = 0.1
_cursor_names = itertools.count(1)
# The session parameters PgBouncer keeps per client connection and replays on
# whichever server session runs the client's next transaction (1.18 tracks the
# first five; 1.20+ IntervalStyle too, by default). Behind PgBouncer in
# transaction mode these are a client's whole session state.
_TRACKED_PARAMETERS = (
    "TimeZone",
    "application_name",
    "DateStyle",
    "client_encoding",
    "standard_conforming_strings",
    "IntervalStyle",
)
# The tracked parameters of each connection right after it was configured,
# restored by _restore_tracked() before the connection goes back to the pool.
_tracked_baselines: weakref.WeakKeyDictionary[PgConnection, dict[str, str]] = (
    weakref.WeakKeyDictionary()
)
logger = logging.getLogger("orm.db.postgresql")


class _PoolHealth:
    """What the pool's last attempt to open a connection gave (written by its workers)."""

    def __init__(self, secrets: tuple[str | None, ...] = ()) -> None:
        self._lock = threading.Lock()
        self.ever_connected = False
        self.last_error: psycopg.Error | None = None
        #: passwords of the alias, masked in connect errors (see ``sanitized``).
        self.secrets = secrets

    def sanitized(self, error: psycopg.Error) -> psycopg.Error:
        """``error``, or a copy of it without the alias's passwords in its message.

        libpq quotes connection parameters back in some errors (``invalid
        integer value "..." for connection option "port"``); such an error
        would reach the pool's log, our message and every traceback.
        """
        message = str(error)
        masked = redact_secrets(message, *self.secrets)
        if masked == message:
            return error
        return type(error)(masked)

    def succeeded(self) -> None:
        with self._lock:
            self.ever_connected = True
            self.last_error = None

    def failed(self, error: psycopg.Error) -> None:
        with self._lock:
            self.last_error = error


def _recording_connection_class(health: _PoolHealth) -> type[PgConnection]:
    """A ``psycopg.Connection`` subclass that reports each connect outcome to ``health``.

    The pool opens connections in background workers and only logs why a
    connect failed; recording it lets a waiting caller see the real cause
    (wrong password, unknown database, server down) instead of a bare timeout.
    """

    class PooledConnection(psycopg.Connection[Any]):
        #: monotonic() when a scope gave it back with nothing to reset (see
        #: ``DatabaseWrapper.close_connection``); None otherwise.
        returned_clean_at: float | None = None

        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
            try:
                conn = super().connect(conninfo, **kwargs)
            except psycopg.Error as error:
                safe = health.sanitized(error)
                health.failed(safe)
                if safe is error:
                    raise
                raise safe from None  # not chained: the original quotes a password
            health.succeeded()
            return conn

    return PooledConnection


# What a connection goes back to the pool without, in one round trip (see
# docs/postgresql.md for what it cannot undo). The identity goes first: RESET
# ALL leaves ROLE and SESSION AUTHORIZATION alone, and everything after it must
# run with the pool user's own rights. Not DISCARD ALL: it also drops psycopg's
# prepared statements, which are safe to keep (privileges are checked at each
# execution, and the server replans one when the role or search_path changes)
# and which a scope-per-request workload would otherwise re-prepare on every
# request. The last statement lists what is prepared, for _reset_prepared().
_SESSION_RESET = (
    "RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL; CLOSE ALL; UNLISTEN *; "
    "SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES; "
    "SELECT name, from_sql FROM pg_catalog.pg_prepared_statements"
)


class _Pool(ConnectionPool[PgConnection]):
    """The alias's ``ConnectionPool``, carrying the health record of its connects."""

    def __init__(self, conninfo: str, *, health: _PoolHealth, **kwargs: Any) -> None:
        self.health = health
        super().__init__(conninfo, connection_class=_recording_connection_class(health), **kwargs)


class _ThreadExitHook:
    """Lives only in a thread's local storage, so it is freed when the thread ends.

    Its finalizer then closes the wrappers that thread left open, giving their
    connections back to the pool: a plain thread that used the ORM and ended
    without ``connections.close_current()`` would otherwise keep a pool slot
    until ``close_all()``.
    """

    def __init__(self) -> None:
        self.wrappers: weakref.WeakSet[DatabaseWrapper] = weakref.WeakSet()
        finalizer = weakref.finalize(self, _close_wrappers_of_ended_thread, self.wrappers)
        finalizer.atexit = False  # at interpreter exit the process closes its sockets anyway


_thread_exit = threading.local()


def _close_wrappers_of_ended_thread(wrappers: weakref.WeakSet[DatabaseWrapper]) -> None:
    for wrapper in list(wrappers):
        try:
            # The owning thread has ended, so nothing else uses this connection.
            wrapper.close()  # RETURNED to the pool through close_connection()
        except Exception:  # noqa: BLE001 - a finalizer must not raise
            pass


def _secrets(settings: DatabaseSettings) -> tuple[str | None, ...]:
    """Every password the settings carry (userinfo, ``password=``, ``sslpassword=``)."""
    options = settings.options
    return (settings.password, options.get("password"), options.get("sslpassword"))


def _check_unless_just_returned(recent: float) -> Callable[[PgConnection], None]:
    """The pool's check before it hands a connection out: psycopg_pool's own
    (an empty query, one round trip), skipped for a connection a scope gave
    back clean less than ``recent`` seconds ago.

    The same bet a wrapper makes on the connection it holds between calls
    (``health_check_after``): one used a moment ago is alive. A scope per
    request then costs no round trip at either end.
    """

    def check(conn: PgConnection) -> None:
        returned = getattr(conn, "returned_clean_at", None)
        if returned is not None:
            conn.returned_clean_at = None  # type: ignore[attr-defined]
            if time.monotonic() - returned < recent:
                return
        ConnectionPool.check_connection(conn)

    return check


def _configure_connection(conn: PgConnection) -> None:
    """Run once per new physical connection, in the pool's worker thread."""
    _register_loaders(conn)


def _configure_pgbouncer_connection(conn: PgConnection) -> None:
    """``_configure_connection`` for a client connection of PgBouncer in transaction mode."""
    _register_loaders(conn)
    if conn.info.parameter_status("TimeZone") != "UTC":
        # PgBouncer records the TimeZone the server reports back for this
        # client and sets it on every server session that later serves it.
        conn.execute("SET TIME ZONE 'UTC'", prepare=False)
    _tracked_baselines[conn] = {
        name: value
        for name in _TRACKED_PARAMETERS
        if (value := conn.info.parameter_status(name)) is not None
    }


def _register_loaders(conn: PgConnection) -> None:
    # JSONField.from_db_value decodes JSON text itself (with the field's
    # decoder), and EXPLAIN (FORMAT JSON) should read as JSON text too.
    conn.adapters.register_loader("jsonb", TextLoader)
    conn.adapters.register_loader("json", TextLoader)
    # GenericIPAddressField values are text, as on SQLite and in Django:
    # psycopg would otherwise return ipaddress objects.
    conn.adapters.register_loader("inet", TextLoader)
    # bulk_create's columns (DatabaseOperations.bulk_insert_column).
    conn.adapters.register_dumper(BinaryArray, ListBinaryDumper)


def _close_server_cursor(cursor: psycopg.ServerCursor[Any]) -> None:
    """Close a named cursor before its connection goes back to the pool."""
    if cursor.closed:
        return
    try:
        # Sends CLOSE when the connection is usable; on a broken one it only
        # marks the cursor closed.
        cursor.close()
    except psycopg.Error:
        # CLOSE failed (the server no longer knows the cursor): mark it closed
        # on the client only, so it is not closed again later on a connection
        # that belongs to someone else, and warns of no leak when collected.
        psycopg.Cursor.close(cursor)


def _prepare_threshold(raw: Any, transaction_pooling: bool) -> int | None:
    if raw is None:
        if transaction_pooling:
            # A statement prepared in one server session is unknown to the
            # next one PgBouncer (before 1.21) hands the client.
            return None
        return 5  # psycopg's default: prepare a statement on its 5th execution
    if str(raw).lower() in ("none", "off", ""):
        return None  # never prepare (needed behind PgBouncer in transaction mode)
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"Invalid prepare_threshold {short_repr(raw)} in the PostgreSQL URL; use an integer or 'none'."
        ) from None


def _reset_session(
    conn: PgConnection, transaction_pooling: bool = False, session: bool = True
) -> None:
    """Roll back, then undo the session state a user may have left (see ``_SESSION_RESET``).

    ``session=False``: nothing that could change the session ran, only roll back.

    Behind PgBouncer in transaction mode (``transaction_pooling``) only the
    parameters it tracks per client are restored (``_restore_tracked``).
    Closes the connection itself when it is broken or mid-statement; raises
    when a step fails (the caller then closes it).
    """
    if conn.closed:
        return
    status = conn.info.transaction_status
    if conn.broken or status == pq.TransactionStatus.ACTIVE:
        # The socket is gone, or a statement or COPY is still running: a
        # connection mid-protocol must never be reused.
        conn.close()  # CLOSED: the pool will replace it
        return
    if status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR):
        conn.rollback()
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.close()  # CLOSED: never give back a connection inside a transaction
        return
    if transaction_pooling:
        _restore_tracked(conn)
        return
    if session:
        _send_session_reset(conn)


def _send_session_reset(conn: PgConnection) -> None:
    """``_SESSION_RESET`` in one round trip, then drop the prepared statements psycopg does not know."""
    cursor = conn.execute(_SESSION_RESET, prepare=False)
    while cursor.nextset():  # the last result lists the prepared statements
        pass
    _reset_prepared(conn, cursor.fetchall())


def _restore_tracked(conn: PgConnection) -> None:
    """Set back the tracked parameters a user changed (behind PgBouncer in transaction mode).

    PgBouncer keeps them for this client connection, so the next user of it
    would inherit a ``SET TIME ZONE`` or ``SET application_name``. Compared on
    the client (psycopg sees every change the server reports): no round trip
    unless one changed. ``_SESSION_RESET`` is not sent: it would reset
    whichever server session is free, not the one the user changed, and its
    ``DEALLOCATE ALL`` would drop statements PgBouncer 1.21+ prepared for others.
    """
    baseline = _tracked_baselines.get(conn, {})
    changed = [
        sql.SQL("SET {} TO {}").format(sql.Identifier(name), sql.Literal(value))
        for name, value in baseline.items()
        if conn.info.parameter_status(name) != value
    ]
    if changed:
        conn.execute(sql.SQL("; ").join(changed), prepare=False)


def _reset_prepared(conn: PgConnection, prepared: list[tuple[str, bool]]) -> None:
    """Drop prepared statements psycopg does not manage; keep its cache true to the server.

    ``prepared`` is ``pg_prepared_statements`` (name, made by SQL PREPARE).
    psycopg keeps the names of the statements it prepared (``conn._prepared``,
    its ``PrepareManager``) and runs them by name. A user's ``PREPARE`` would
    keep its name taken and its query callable by the next user; a user's
    ``DEALLOCATE ALL`` or ``DISCARD ALL`` that psycopg did not notice (it
    checks only the first run of a statement text) would make the next user's
    prepared query fail with "prepared statement does not exist". Either way
    (rare), drop everything and clear psycopg's cache with it.
    """
    manager: Any = conn._prepared
    cached = {name.decode() for name in manager._names.values()}
    on_server = {name for name, _from_sql in prepared}
    if cached == on_server and not any(from_sql for _name, from_sql in prepared):
        return  # the common case: only psycopg's own statements, all known to it
    # clear() forgets psycopg's names (and, when it had some, queues a
    # DEALLOCATE ALL of its own, sent after ours: redundant but harmless here).
    manager.clear()
    conn.execute("DEALLOCATE ALL", prepare=False)


def _forget_missing_prepared(conn: PgConnection, message: str) -> None:
    """After "prepared statement ... does not exist" for one of psycopg's own names.

    psycopg missed a ``DEALLOCATE ALL``/``DISCARD ALL`` (see
    ``_reset_prepared``) and would run that name again, failing the same way
    on every later call of a connection that is never returned. Forget its
    names so each statement is prepared afresh: its counter only grows, so a
    new name never meets an old one. Not ``clear()``: that would also queue a
    ``DEALLOCATE ALL``, dropping the user's own ``PREPARE``d statements.
    """
    manager: Any = conn._prepared
    if any(f'"{name.decode()}"' in message for name in manager._names.values()):
        manager._names.clear()
        manager._counts.clear()


class DatabaseWrapper(BaseDatabaseWrapper):
    """PostgreSQL connection wrapper: one pooled psycopg connection per alias and thread."""

    vendor = "postgresql"
    display_name = "PostgreSQL"
    data_types: dict[str, str] = {
        # Auto fields become identity columns through the schema editor's suffix.
        "AutoField": "integer",
        "BigAutoField": "bigint",
        "SmallAutoField": "smallint",
        "BinaryField": "bytea",
        "BooleanField": "boolean",
        "CharField": "varchar(%(max_length)s)",
        "DateField": "date",
        "DateTimeField": "timestamp with time zone",
        "DecimalField": "numeric(%(max_digits)s, %(decimal_places)s)",
        "DurationField": "interval",
        "FloatField": "double precision",
        "IntegerField": "integer",
        "BigIntegerField": "bigint",
        "PositiveIntegerField": "integer",
        "PositiveSmallIntegerField": "smallint",
        "PositiveBigIntegerField": "bigint",
        "GenericIPAddressField": "inet",
        "SmallIntegerField": "smallint",
        "TextField": "text",
        "TimeField": "time",
        "UUIDField": "uuid",
        "JSONField": "jsonb",
    }
    data_type_check_constraints: dict[str, str] = {
        "PositiveIntegerField": "%(column)s >= 0",
        "PositiveSmallIntegerField": "%(column)s >= 0",
        "PositiveBigIntegerField": "%(column)s >= 0",
    }
    # The i-lookups upper-case both sides (the left one through ops.lookup_cast);
    # LIKE values arrive with %, _ and \ escaped by ops.prep_for_like_query.
    ops_class = DatabaseOperations
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    schema_editor_class = DatabaseSchemaEditor

    def __init__(
        self, settings: DatabaseSettings, alias: str, handler: PoolRegistry | None = None
    ) -> None:
        super().__init__(settings, alias, handler)
        # The pool the current connection came from: it goes back to that pool
        # even if close_all()/configure() replaced the alias's pool meanwhile.
        self._connection_pool: _Pool | None = None
        # Server-side cursors opened on the current connection. They are closed
        # before the connection goes back: a WITH HOLD cursor would outlive the
        # return, and an iterator finished later must not touch a connection
        # that by then belongs to another thread.
        self._server_cursors: weakref.WeakSet[psycopg.ServerCursor[Any]] = weakref.WeakSet()
        # The server (idle_session_timeout, a restart, an admin) or anything on
        # the way (PgBouncer, a firewall) may cut a connection this wrapper
        # holds between calls, where the pool's check never sees it.
        self.health_check_after = settings.options.get(
            "health_check_after", DEFAULT_HEALTH_CHECK_AFTER
        )
        #: Behind PgBouncer in transaction mode (``pgbouncer=transaction``): no
        #: session state outlives a transaction (see the module docstring).
        self.transaction_pooling = settings.options.get("pgbouncer") == PGBOUNCER_TRANSACTION
        # On a scope-pool thread the session reset before the connection goes
        # back is skipped after scopes that ran only statements known to leave
        # the session alone (see close_connection).
        self.watch_session = self.reused_thread and not self.transaction_pooling

    # -- the pool -----------------------------------------------------------------
    def _pool_params(self) -> tuple[str, dict[str, Any]]:
        """(conninfo, psycopg connect kwargs) from the settings; validated here."""
        settings = self.settings
        options = dict(settings.options)
        # orm's own options (see __init__), not libpq's.
        options.pop("health_check_after", None)
        options.pop("pgbouncer", None)
        prepare_threshold = _prepare_threshold(
            options.pop("prepare_threshold", None), self.transaction_pooling
        )
        params: dict[str, Any] = {"dbname": settings.name}
        for key in ("host", "port", "user", "password"):
            value = getattr(settings, key)
            if value is not None:
                params[key] = value
        params.update(options)
        if not self.transaction_pooling:
            # Every session runs in UTC at no cost: the server applies it at
            # startup. PgBouncer refuses the startup option (see
            # _configure_pgbouncer_connection); orm.conf refuses 'options' there.
            params["options"] = f"{options.get('options', '')} -c TimeZone=UTC".strip()
        try:
            conninfo = make_conninfo("", **params)
        except psycopg.ProgrammingError as error:
            raise ImproperlyConfigured(
                f"Invalid PostgreSQL connection option for alias {self.alias!r}: "
                f"{redact_secrets(str(error), *_secrets(settings))}"
            ) from None
        return conninfo, {"autocommit": True, "prepare_threshold": prepare_threshold}

    def _create_pool(self) -> _Pool:
        """Build the alias's pool (called once per alias by the handler, under its lock)."""
        conninfo, connect_kwargs = self._pool_params()
        options = {**POOL_DEFAULTS, **self.settings.pool}
        if "max_size" not in self.settings.pool:
            # A larger pool_min_size alone raises the ceiling with it.
            options["max_size"] = max(int(options["max_size"]), int(options["min_size"]))
        try:
            return _Pool(
                conninfo,
                health=_PoolHealth(_secrets(self.settings)),
                kwargs=connect_kwargs,
                min_size=int(options["min_size"]),
                max_size=int(options["max_size"]),
                timeout=float(options["timeout"]),
                max_waiting=int(options.get("max_waiting", 0)),
                max_idle=float(options.get("max_idle", 600.0)),
                max_lifetime=float(options.get("max_lifetime", 3600.0)),
                reconnect_timeout=float(options.get("reconnect_timeout", 300.0)),
                # A connection the server killed while it sat in the pool fails
                # this check and is replaced before anyone sees it (F2).
                check=_check_unless_just_returned(float(self.health_check_after or 0.0)),
                configure=(
                    _configure_pgbouncer_connection
                    if self.transaction_pooling
                    else _configure_connection
                ),
                name=f"orm-{self.alias}",
                # Opened now; its workers connect in the background (min_size)
                # while the first getconn() waits for one.
                open=True,
            )
        except ValueError as error:  # psycopg_pool's own size checks
            raise ImproperlyConfigured(
                f"Invalid pool settings for alias {self.alias!r}: {error}."
            ) from None

    def _get_pool(self) -> _Pool:
        # A wrapper built by hand (tests) shares the pools of orm.connections.
        handler = self.handler if self.handler is not None else connections
        return handler.get_pool(self.alias, self._create_pool)

    # -- connection lifecycle ---------------------------------------------------
    def get_new_connection(self) -> Any:
        """Take a connection from the alias's pool, waiting at most ``pool_timeout``."""
        pool = self._get_pool()
        try:
            conn = self._getconn(pool)
        except PoolClosed:
            # close_all()/configure() closed this pool between get_pool() and
            # getconn(); the handler makes a new one on the next request.
            pool = self._get_pool()
            conn = self._getconn(pool)
        # TAKEN: this wrapper now owns the connection until close_connection(),
        # which runs at the latest when this thread ends.
        self._connection_pool = pool
        self.session_changed = False  # the pool reset it
        hook = getattr(_thread_exit, "hook", None)
        if hook is None:
            hook = _thread_exit.hook = _ThreadExitHook()
        hook.wrappers.add(self)
        return conn

    def _getconn(self, pool: _Pool) -> PgConnection:
        health = pool.health
        deadline = time.monotonic() + pool.timeout
        while True:
            remaining = deadline - time.monotonic()
            # Until the pool has connected once, wait in short slices so that a
            # connect error recorded meanwhile ends the wait at once. Afterwards
            # wait the whole timeout in one request, keeping our place in the
            # pool's queue (fair when the pool is busy).
            first_connect = not health.ever_connected
            wait = min(remaining, _FIRST_CONNECT_POLL) if first_connect else remaining
            try:
                # Connection TAKEN from the pool (checked by the pool before).
                return pool.getconn(timeout=max(wait, 0.001))
            except PoolTimeout as timeout:
                error = health.last_error
                if error is not None and (first_connect or time.monotonic() >= deadline - 0.001):
                    raise self._connect_error(error) from error
                if time.monotonic() >= deadline - 0.001:
                    raise self._pool_timeout_error(pool) from timeout
            except TooManyRequests as error:
                last = health.last_error
                if last is not None and not health.ever_connected:
                    # The waiters are our own earlier slices of a connect that keeps
                    # failing: report why it fails, not the queue length.
                    raise self._connect_error(last) from last
                raise OperationalError(
                    f"Too many requests are already waiting for a PostgreSQL connection for "
                    f"alias {self.alias!r} (pool_max_waiting={pool.max_waiting}). Raise "
                    "pool_max_waiting or pool_max_size in the database URL, or shed load."
                ) from error

    def _connect_error(self, error: psycopg.Error) -> OperationalError:
        settings = self.settings
        where = f"{settings.host or 'localhost'}:{settings.port or 5432}/{settings.name}"
        new = OperationalError(
            f"Could not connect to PostgreSQL for alias {self.alias!r} ({where}, user "
            f"{settings.user!r}): {str(error).strip()}"  # sanitized by _PoolHealth
        )
        new.sqlstate = error.sqlstate
        return new

    def _pool_timeout_error(self, pool: _Pool) -> OperationalError:
        return OperationalError(
            f"No PostgreSQL connection for alias {self.alias!r} became free within "
            f"{pool.timeout:g} s: all {pool.max_size} pooled connections are in use "
            f"(pool_max_size={pool.max_size}, pool_timeout={pool.timeout:g}). Raise "
            "pool_max_size or pool_timeout in the database URL (e.g. "
            "'?pool_max_size=20&pool_timeout=60'), or return connections sooner by running "
            "each unit of work in orm.connection_scope()."
        )

    def init_connection_state(self) -> None:
        conn: PgConnection = self.connection
        with self.wrap_database_errors:
            if not conn.autocommit:
                conn.autocommit = True  # atomic() issues BEGIN itself
            # Set at connect; restored here if a previous user changed it.
            if conn.info.parameter_status("TimeZone") != "UTC":
                conn.execute("SET TIME ZONE 'UTC'")

    def close_connection(self, connection: Any) -> None:
        """Give the connection back to its pool idle, or closed if it cannot be reset."""
        conn: PgConnection = connection
        pool, self._connection_pool = self._connection_pool, None
        cursors, self._server_cursors = list(self._server_cursors), weakref.WeakSet()
        # A scope that ran only statements known to leave the session alone
        # (CursorWrapper.session_safe) needs no session reset: a rollback is
        # enough, and the pool may hand the connection out again unchecked for
        # a moment (see _check_unless_just_returned).
        clean = self.watch_session and not self.session_changed
        try:
            self._reset(conn, cursors, self.transaction_pooling, session=not clean)
            if clean and pool is not None and not conn.closed:
                conn.returned_clean_at = time.monotonic()  # type: ignore[attr-defined]
        finally:
            if pool is None:
                conn.close()  # CLOSED: not from a pool (should not happen)
            else:
                try:
                    # RETURNED to the pool: idle, or closed (the pool then discards
                    # it and opens a replacement in the background).
                    pool.putconn(conn)
                except ValueError:
                    # The pool does not know it (already returned): never leak it.
                    conn.close()  # CLOSED

    @staticmethod
    def _reset(
        conn: PgConnection,
        cursors: list[psycopg.ServerCursor[Any]],
        transaction_pooling: bool,
        session: bool = True,
    ) -> None:
        """Close ``cursors`` and bring ``conn`` back to a fresh session, or close it.

        Whatever goes wrong here (a database error, or any other exception,
        which is then re-raised), the connection is closed rather than given
        back half reset: the pool then replaces it.
        """
        try:
            for cursor in cursors:
                _close_server_cursor(cursor)
            _reset_session(conn, transaction_pooling, session)
        except psycopg.Error as error:
            logger.warning("Closing a PostgreSQL connection whose reset failed: %s", error)
            conn.close()  # CLOSED: could not be reset, so it is not reused
        except BaseException:
            conn.close()  # CLOSED: not known to be reset, so it is not reused
            raise

    def driver_in_transaction(self) -> bool:
        conn: PgConnection | None = self.connection
        return conn is not None and conn.info.transaction_status != pq.TransactionStatus.IDLE

    def is_broken(self) -> bool:
        conn: PgConnection | None = self.connection
        return conn is None or bool(conn.closed or conn.broken)

    def on_database_error(self, error: Error) -> None:
        super().on_database_error(error)
        conn: PgConnection | None = self.connection
        if error.sqlstate == "26000" and conn is not None and not conn.closed:
            _forget_missing_prepared(conn, str(error))

    def is_usable(self) -> bool:
        conn: PgConnection | None = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        try:
            # An empty query, as psycopg_pool's check: one round trip, no
            # parse or plan. A socket the server closed is noticed only when
            # something is sent, so a look at conn.broken alone is not enough.
            conn.execute("", prepare=False)
        except psycopg.Error as error:
            logger.info("Replacing a PostgreSQL connection found dead after idling: %s", error)
            return False
        return True

    # -- cursors --------------------------------------------------------------------
    def create_cursor(self) -> Any:
        return self.connection.cursor()

    def chunked_cursor(self) -> CursorWrapper:
        """A named (server-side) cursor; see the module docstring for WITH HOLD.

        Behind PgBouncer in transaction mode, outside a transaction: a
        client-side cursor, which holds the whole result in memory.
        """
        check_async_unsafe("connection.chunked_cursor()")
        self.validate_thread_sharing()
        self.ensure_connection()
        conn: PgConnection = self.connection
        # In autocommit the DECLARE commits at once and a plain cursor would
        # vanish with its transaction; inside atomic() it lives as long as the
        # transaction, which closes it if the iteration is abandoned.
        withhold = conn.info.transaction_status == pq.TransactionStatus.IDLE
        if withhold and self.transaction_pooling:
            # Each FETCH is a transaction of its own, which PgBouncer may run
            # on a server session that never saw the DECLARE.
            return self.cursor()
        name = f"_orm_chunked_{next(_cursor_names)}"
        with self.wrap_database_errors:
            cursor = conn.cursor(name, scrollable=False, withhold=withhold)
        self._server_cursors.add(cursor)
        return CursorWrapper(cursor, self)

    def diagnostics(self) -> dict[str, Any]:
        info = super().diagnostics()
        conn: PgConnection | None = self.connection
        if conn is not None and not conn.closed:
            info["backend_pid"] = conn.info.backend_pid
            info["transaction_status"] = pq.TransactionStatus(conn.info.transaction_status).name
        return info
