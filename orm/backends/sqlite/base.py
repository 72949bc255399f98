"""SQLite ``DatabaseWrapper`` on stdlib ``sqlite3``.

File databases open with WAL, ``foreign_keys=ON``, a 5 s busy timeout and
``synchronous=NORMAL`` (each overridable in the URL). The driver runs in
autocommit mode (``isolation_level=None``) and `orm` issues ``BEGIN
IMMEDIATE`` itself when an atomic block starts: a deferred transaction that
reads and then writes fails at once with "database is locked", ignoring the
busy timeout, while IMMEDIATE takes the write lock up front and waits for it.

``iterator()`` streams through :meth:`DatabaseWrapper.chunked_cursor`.
Outside a transaction a file database is read through a connection of the
stream's own: its one ``SELECT`` is one read transaction, so the stream sees
one snapshot, and the thread's own connection stays free of a pending read.
(SQLite calls the busy handler only for a connection with no read transaction
open: with the stream's statement pending on it, a write of the thread that
found the lock taken failed at once with "database is locked", and in WAL mode
the stream could see the rows the thread wrote while it ran.)
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from typing import Any, Self

from orm.abc import PoolRegistry
from orm.backends.sqlite import functions
from orm.backends.sqlite.features import DatabaseFeatures
from orm.backends.sqlite.fetchlock import FetchLockedCursor
from orm.backends.sqlite.introspection import DatabaseIntrospection
from orm.backends.sqlite.operations import DatabaseOperations
from orm.backends.sqlite.schema import DatabaseSchemaEditor
from orm.backends.sqlite.writequeue import QueuedCursor, Turn, queue_for
from orm.conf import SQLITE_PRAGMA_VALUES, DatabaseSettings
from orm.db.cursor import CursorWrapper
from orm.db.wrapper import BaseDatabaseWrapper
from orm.exceptions import Error, ImproperlyConfigured
from orm.utils.asyncio import check_async_unsafe

# Primary result codes (the low byte of sqlite_errorcode, so every extended
# code of the family counts) after which the connection itself is suspect: it
# was opened read-only (the file or its directory was not writable at the
# time), lost its file, or hit an I/O error. `SELECT 1` still succeeds on such
# a connection, so is_broken() cannot tell; reopening can fix all of them.
_CONNECTION_LEVEL_CODES = frozenset(
    {
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_NOTADB,
    }
)


# Authorizer action codes after which a connection's session differs from a
# fresh one: a PRAGMA that sets something, ATTACH/DETACH, a TEMP object.
_CREATE_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_CREATE_INDEX,
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_CREATE_VIEW,
        sqlite3.SQLITE_CREATE_VTABLE,
    }
)
_SESSION_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_ATTACH,
        sqlite3.SQLITE_DETACH,
        sqlite3.SQLITE_CREATE_TEMP_INDEX,
        sqlite3.SQLITE_CREATE_TEMP_TABLE,
        sqlite3.SQLITE_CREATE_TEMP_TRIGGER,
        sqlite3.SQLITE_CREATE_TEMP_VIEW,
    }
)
# PRAGMAs whose argument names what to read (introspection, migrations) or
# that act on the file rather than set the session: not a session change.
_READING_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
        "wal_checkpoint",
        "optimize",
        "incremental_vacuum",
        "user_version",
        "application_id",
    }
)


def _regexp(pattern: str | None, value: Any) -> bool | None:
    if pattern is None or value is None:
        return None
    return re.search(pattern, str(value)) is not None


def _is_private(name: str) -> bool:
    """Whether a second connection to ``name`` would open another database.

    ``:memory:`` and ``file:...?mode=memory`` databases exist once per
    connection (shared-cache ones lock per table and fail instead of waiting),
    and an empty name is a private temporary file.
    """
    return name in ("", ":memory:") or "mode=memory" in name or name.startswith("file::memory:")


class _StreamCursor(sqlite3.Cursor):
    """The cursor of a stream's own connection: closing it ends the stream's use of it."""

    #: ``release(connection, clean)``: the wrapper keeps the connection for the
    #: next stream, or closes it.
    release: Any = None

    def close(self) -> None:
        clean = False
        try:
            super().close()
            clean = True
        finally:
            if self.release is not None:
                self.release(self.connection, clean)


class _BufferedCursor(sqlite3.Cursor):
    """A cursor that reads its whole result when it executes: one snapshot, in one step."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__(connection)
        self._rows: list[Any] = []
        self._next = 0

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        super().execute(sql, parameters)
        self._rows, self._next = super().fetchall(), 0
        return self

    def fetchmany(self, size: int | None = None) -> list[Any]:
        start = self._next
        count = self.arraysize if size is None else max(size, 0)
        self._next = min(start + count, len(self._rows))
        return self._rows[start : self._next]

    def fetchone(self) -> Any:
        rows = self.fetchmany(1)
        return rows[0] if rows else None

    def fetchall(self) -> list[Any]:
        return self.fetchmany(len(self._rows))

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row


class DatabaseWrapper(BaseDatabaseWrapper):
    """SQLite connection wrapper: one sqlite3 connection per alias and thread."""

    vendor = "sqlite"
    display_name = "SQLite"
    data_types: dict[str, str] = {
        "AutoField": "integer",
        "BigAutoField": "integer",
        "SmallAutoField": "integer",
        "BinaryField": "BLOB",
        "BooleanField": "bool",
        "CharField": "varchar(%(max_length)s)",
        "DateField": "date",
        "DateTimeField": "datetime",
        "DecimalField": "decimal",
        "DurationField": "bigint",
        "FloatField": "real",
        "IntegerField": "integer",
        "BigIntegerField": "bigint",
        "PositiveIntegerField": "integer unsigned",
        "PositiveSmallIntegerField": "smallint unsigned",
        "PositiveBigIntegerField": "bigint unsigned",
        "GenericIPAddressField": "char(39)",
        "SmallIntegerField": "smallint",
        "TextField": "text",
        "TimeField": "time",
        "UUIDField": "char(32)",
        "JSONField": "text",
    }
    data_type_check_constraints: dict[str, str] = {
        "PositiveIntegerField": "%(column)s >= 0",
        "PositiveSmallIntegerField": "%(column)s >= 0",
        "PositiveBigIntegerField": "%(column)s >= 0",
        "JSONField": "(JSON_VALID(%(column)s) OR %(column)s IS NULL)",
    }
    # A deferred BEGIN that reads and then writes fails at once with "database
    # is locked", ignoring the busy timeout; IMMEDIATE waits for the write lock.
    begin_sql = "BEGIN IMMEDIATE"
    ops_class = DatabaseOperations
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    schema_editor_class = DatabaseSchemaEditor

    def __init__(
        self, settings: DatabaseSettings, alias: str, handler: PoolRegistry | None = None
    ) -> None:
        super().__init__(settings, alias, handler)
        # Connections of the streams still open on this wrapper's thread, and
        # one left idle by a finished stream for the next (a new connection
        # costs a connect and a schema read). close() closes them all.
        self._streams: set[sqlite3.Connection] = set()
        self._idle_reader: sqlite3.Connection | None = None
        # This connection's place in the file's write queue (writequeue.py):
        # the threads of the process take turns at SQLite's write lock instead
        # of polling for it. A private database has no other writer.
        name = settings.name
        timeout = float(settings.options.get("timeout", 5.0))
        self._turn = None if _is_private(name) else Turn(queue_for(name), timeout)
        # Set by the authorizer of a connection on a reused thread when a
        # statement changed its session (see reset_connection).
        self._session_changed = False

    def get_new_connection(self) -> Any:
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        name = self.settings.name
        options = self.settings.options
        conn = sqlite3.connect(
            name,
            timeout=float(options.get("timeout", 5.0)),
            isolation_level=None,  # autocommit; atomic() issues BEGIN IMMEDIATE itself
            # Thread affinity is enforced by validate_thread_sharing() with a clear
            # message; the driver's own check would only let close_all() fail.
            check_same_thread=False,
            uri=name.startswith("file:"),
        )
        conn.create_function("REGEXP", 2, _regexp, deterministic=True)
        functions.register(conn)
        return conn

    def create_cursor(self) -> Any:
        if self._turn is None:
            return self.connection.cursor(FetchLockedCursor)
        cursor = self.connection.cursor(QueuedCursor)
        cursor.turn = self._turn
        return cursor

    def init_connection_state(self) -> None:
        self._apply_pragmas(self.connection, self._pragmas(reader=False))
        self._session_changed = False
        if self.reused_thread:
            # Only here, after our own pragmas. SQLite asks the authorizer
            # when it prepares a statement (not when sqlite3 runs one from
            # its statement cache), so each distinct statement costs one
            # call per column or table it touches, once per connection.
            self.connection.set_authorizer(self._watch_session)

    def _watch_session(
        self,
        action: int,
        arg1: str | None,
        arg2: str | None,
        dbname: str | None,
        _source: str | None,
    ) -> int:
        """SQLite authorizer: note a statement that changes the session (allows everything)."""
        if action == sqlite3.SQLITE_PRAGMA:
            if arg2 is not None and (arg1 or "").lower() not in _READING_PRAGMAS:
                self._session_changed = True
        elif action in _SESSION_ACTIONS or (action in _CREATE_ACTIONS and dbname == "temp"):
            self._session_changed = True
        return sqlite3.SQLITE_OK

    def reset_connection(self) -> bool:
        """Keep the connection for the next scope on this thread, reset; False to close it.

        Rolls back an open transaction (giving back the write-queue turn),
        closes the connections of streams the scope abandoned (its idle one is
        kept), and restores the driver attributes a user may have set. A
        connection whose session a statement changed (a PRAGMA that sets
        something, ATTACH or DETACH, a TEMP table, index, view or trigger; the
        authorizer installed by ``init_connection_state`` notices) is closed
        instead: a new one is cheaper than finding what to undo, and nothing
        of it can then reach the next scope.
        """
        conn: sqlite3.Connection = self.connection
        streams, self._streams = list(self._streams), set()
        for stream in streams:
            stream.close()  # CLOSED: a stream the scope left open
        if conn.in_transaction:
            self.driver_rollback()
        self._end_turn()
        if conn.in_transaction or self._session_changed or not self.reused_thread:
            return False
        if conn.isolation_level is not None:
            conn.isolation_level = None
        if conn.row_factory is not None:
            conn.row_factory = None
        if conn.text_factory is not str:
            conn.text_factory = str
        # Cannot be read back, so cleared every time (cheap C calls); orm
        # sets neither.
        conn.set_progress_handler(None, 0)
        conn.set_trace_callback(None)
        return True

    def _pragmas(self, reader: bool) -> dict[str, Any]:
        """The validated PRAGMA settings of a new connection.

        A stream's connection (``reader``) only reads: the journal mode is the
        file's (WAL) or matters to writers only, and so does ``synchronous``.
        """
        options = self.settings.options
        memory = self.settings.name == ":memory:" or "mode=memory" in self.settings.name
        pragmas = {
            "foreign_keys": options.get("foreign_keys", "on"),
            # LIKE must be case-sensitive for contains/startswith; i-lookups use UPPER().
            "case_sensitive_like": "on",
        }
        if not memory and not reader:
            pragmas["journal_mode"] = options.get("journal_mode", "wal")
            pragmas["synchronous"] = options.get("synchronous", "normal")
        if "cache_size" in options:
            pragmas["cache_size"] = str(int(options["cache_size"]))
        if self.settings.replica_of is not None:
            # A replica alias is read-only: SQLite refuses every write on it (last, after journal_mode).
            pragmas["query_only"] = "on"
        for key, value in pragmas.items():
            # parse_url() refused anything else; settings built by hand are
            # checked again because the value is spliced into the PRAGMA.
            allowed = SQLITE_PRAGMA_VALUES.get(key)
            if allowed is not None and str(value).lower() not in allowed:
                raise ImproperlyConfigured(
                    f"Invalid SQLite {key} {value!r}; choose from: {', '.join(sorted(allowed))}."
                )
        return pragmas

    def _apply_pragmas(self, conn: sqlite3.Connection, pragmas: dict[str, Any]) -> None:
        timeout = float(self.settings.options.get("timeout", 5.0))
        for key, value in pragmas.items():
            # Values are allow-listed by _pragmas() (or an int), never user text.
            with self.wrap_database_errors:
                _pragma_waiting(conn, f"PRAGMA {key} = {value}", timeout)

    def close_connection(self, connection: Any) -> None:
        """Close the connection and every stream connection still open on this wrapper."""
        streams, self._streams = list(self._streams), set()
        if self._idle_reader is not None:
            streams.append(self._idle_reader)
            self._idle_reader = None
        try:
            for stream in streams:
                # An abandoned stream's generator may be closed later (or
                # never): its connection must not outlive this wrapper's.
                stream.close()
        finally:
            try:
                connection.close()
            finally:
                # Closing ended any transaction: the next thread's turn.
                if self._turn is not None:
                    self._turn.end()

    def chunked_cursor(self) -> CursorWrapper:
        """A cursor for ``iterator()`` that reads one consistent snapshot.

        - Inside a transaction (``atomic()``, ``set_autocommit(False)``, the
          test fixture's): the transaction's connection, which the transaction
          keeps consistent, and which sees its own uncommitted writes.
        - Outside one, a file database: a second connection to the same file
          with the same read settings, used by this stream only. Its one
          statement is one read transaction: a WAL snapshot, or a shared lock
          in rollback-journal mode, where writers then wait for the stream to
          end before they can commit (up to the busy timeout). When the cursor
          closes (the stream ends, is closed or fails) the connection is kept
          idle for this thread's next stream, or closed if one is kept
          already; ``close()`` of this wrapper (``close_all()``, the end of a
          scope) closes it and any an abandoned stream still holds.
        - Outside one, a ``:memory:`` database: a second connection would open
          another, empty database, so the whole result is read at once.
        """
        check_async_unsafe("connection.chunked_cursor()")
        self.validate_thread_sharing()
        self.validate_no_broken_transaction()
        # The thread's own connection opens first: close() reaches the stream
        # connections through it, so none can outlive the wrapper.
        self.ensure_connection()
        if not self.transaction_state.autocommit or self.connection.in_transaction:
            return self.cursor()
        if _is_private(self.settings.name):
            with self.wrap_database_errors:
                return CursorWrapper(self.connection.cursor(_BufferedCursor), self)
        reader = self._take_reader()
        try:
            cursor = reader.cursor(_StreamCursor)
        except BaseException:
            reader.close()
            raise
        cursor.release = self._release_reader
        self._streams.add(reader)
        return CursorWrapper(cursor, self)

    def _take_reader(self) -> sqlite3.Connection:
        """The idle stream connection, or a new one with the read settings."""
        reader, self._idle_reader = self._idle_reader, None
        if reader is not None:
            return reader
        with self.wrap_database_errors:
            reader = self._connect()
        try:
            self._apply_pragmas(reader, self._pragmas(reader=True))
        except BaseException:
            reader.close()
            raise
        return reader

    def _release_reader(self, reader: sqlite3.Connection, clean: bool) -> None:
        """Called by a stream's cursor when it closes, on whichever thread closes it."""
        if reader not in self._streams:
            reader.close()  # CLOSED: close() of this wrapper got to it first
            return
        self._streams.discard(reader)
        # Kept for the next stream only by the wrapper's own thread (the only
        # one that takes it back), only one, and only if its statement ended
        # cleanly: it then holds no lock and no snapshot.
        if (
            clean
            and self._idle_reader is None
            and not reader.in_transaction
            and threading.get_ident() == self.thread_ident
        ):
            self._idle_reader = reader
        else:
            reader.close()  # CLOSED

    def diagnostics(self) -> dict[str, Any]:
        info = super().diagnostics()
        info["stream_connections"] = len(self._streams)
        info["idle_stream_connection"] = self._idle_reader is not None
        return info

    def driver_in_transaction(self) -> bool:
        return self.connection is not None and bool(self.connection.in_transaction)

    # The write-queue turn spans the transaction: taken before BEGIN IMMEDIATE
    # (which then finds SQLite's lock free unless another process holds it),
    # given back once COMMIT or ROLLBACK has really ended the transaction (a
    # COMMIT that failed leaves it open, and the lock with it) or the
    # connection is closed.
    def driver_begin(self) -> None:
        turn = self._turn
        if turn is None:
            super().driver_begin()
            return
        with self.wrap_database_errors:
            turn.take()
        try:
            super().driver_begin()
        except BaseException:
            turn.end()
            raise

    def driver_commit(self) -> None:
        try:
            super().driver_commit()
        finally:
            self._end_turn()

    def driver_rollback(self) -> None:
        try:
            super().driver_rollback()
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        if self._turn is not None and not self.driver_in_transaction():
            self._turn.end()

    def is_unusable_after(self, error: Error) -> bool:
        code = getattr(error.__cause__, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _CONNECTION_LEVEL_CODES:
            return True
        return super().is_unusable_after(error)

    def is_broken(self) -> bool:
        if self.connection is None:
            return True
        try:
            self.connection.execute("SELECT 1")
        except sqlite3.Error:
            return True
        return False


def _pragma_waiting(conn: sqlite3.Connection, statement: str, timeout: float) -> None:
    """Run a set-up PRAGMA, trying again while SQLite answers "database is locked".

    On a file another connection is switching to WAL (two threads or
    processes opening a new database at once), ``PRAGMA journal_mode`` can
    fail at once with SQLITE_BUSY: SQLite does not call its busy handler while
    the WAL index is being set up. The PRAGMAs are idempotent, so waiting for
    up to the busy timeout, as any other statement would, is safe.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute(statement)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(0.005)
