"""SQLite ``DatabaseWrapper`` on stdlib ``sqlite3``.

File databases open with WAL, ``foreign_keys=ON``, a 5 s busy timeout and
``synchronous=NORMAL`` (each overridable in the URL). The driver runs in
autocommit mode (``isolation_level=None``) and `orm` issues ``BEGIN
IMMEDIATE`` itself when an atomic block starts: a deferred transaction that
reads and then writes fails at once with "database is locked", ignoring the
busy timeout, while IMMEDIATE takes the write lock up front and waits for it.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, ClassVar

from orm.backends.base.base import BaseDatabaseWrapper
from orm.backends.sqlite.features import DatabaseFeatures
from orm.backends.sqlite.operations import DatabaseOperations
from orm.backends.sqlite.schema import DatabaseSchemaEditor
from orm.conf import SQLITE_PRAGMA_VALUES
from orm.exceptions import Error, ImproperlyConfigured

# Primary result codes (the low byte of sqlite_errorcode, so every extended
# code of the family counts) after which the connection itself is suspect: it
# was opened read-only (the file or its directory was not writable at the
# time), lost its file, or hit an I/O error. `SELECT 1` still succeeds on such
# a connection, so is_broken() cannot tell; reopening can fix all of them.
_CONNECTION_LEVEL_CODES = frozenset({
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_NOTADB,
})


def _regexp(pattern: str | None, value: Any) -> bool | None:
    if pattern is None or value is None:
        return None
    return re.search(pattern, str(value)) is not None


class DatabaseWrapper(BaseDatabaseWrapper):
    """SQLite connection wrapper: one sqlite3 connection per alias and thread."""

    vendor = "sqlite"
    display_name = "SQLite"
    data_types: ClassVar[dict[str, str]] = {
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
        "SmallIntegerField": "smallint",
        "TextField": "text",
        "TimeField": "time",
        "UUIDField": "char(32)",
        "JSONField": "text",
    }
    data_type_check_constraints: ClassVar[dict[str, str]] = {
        "PositiveIntegerField": "%(column)s >= 0",
        "JSONField": '(JSON_VALID(%(column)s) OR %(column)s IS NULL)',
    }
    ops_class = DatabaseOperations
    features_class = DatabaseFeatures
    schema_editor_class = DatabaseSchemaEditor

    def get_new_connection(self) -> Any:
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
        return conn

    def init_connection_state(self) -> None:
        options = self.settings.options
        memory = self.settings.name == ":memory:" or "mode=memory" in self.settings.name
        pragmas = {
            "foreign_keys": options.get("foreign_keys", "on"),
            # LIKE must be case-sensitive for contains/startswith; i-lookups use UPPER().
            "case_sensitive_like": "on",
        }
        if not memory:
            pragmas["journal_mode"] = options.get("journal_mode", "wal")
            pragmas["synchronous"] = options.get("synchronous", "normal")
        if "cache_size" in options:
            pragmas["cache_size"] = str(int(options["cache_size"]))
        for key, value in pragmas.items():
            # parse_url() refused anything else; settings built by hand are
            # checked again because the value is spliced into the PRAGMA.
            allowed = SQLITE_PRAGMA_VALUES.get(key)
            if allowed is not None and str(value).lower() not in allowed:
                raise ImproperlyConfigured(
                    f"Invalid SQLite {key} {value!r}; choose from: {', '.join(sorted(allowed))}."
                )
            with self.wrap_database_errors:
                self.connection.execute(f"PRAGMA {key} = {value}")

    def _begin(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

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
