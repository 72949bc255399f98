"""The one boundary where driver errors become `orm` errors.

Both sqlite3 and psycopg raise PEP 249 exception classes; we map each to the
`orm` class of the same name (refined by SQLSTATE where it matters for a
retry), keep the driver error as ``__cause__`` and copy its SQLSTATE.
"""

from __future__ import annotations

from typing import Protocol

from orm import exceptions as exc

_PEP249 = (
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "DatabaseError",
    "InterfaceError",
    "Error",
)
_BY_SQLSTATE: dict[str, type[exc.Error]] = {
    "40001": exc.SerializationFailure,
    "40P01": exc.DeadlockDetected,
    "57014": exc.QueryCanceled,
    # idle_in_transaction_session_timeout: the server ended the session, like a
    # lost connection (psycopg files class 25 under InternalError).
    "25P03": exc.OperationalError,
}
# Characters of a driver's message kept in the translated error's message.
_MAX_MESSAGE = 2000
_SQLITE_LOCKED_HINT = (
    " (another connection holds the write lock longer than the busy timeout; "
    "raise it with '?timeout=SECONDS' in the SQLite URL, keep write transactions short, "
    "and use transaction.atomic() so writers queue with BEGIN IMMEDIATE)"
)
_SQLITE_FUNCTION_RAISED = "user-defined function raised exception"
_SQLITE_FUNCTION_HINT = (
    " (a Python function orm registers on SQLite rejected its arguments: e.g. a regular "
    "expression Python's re cannot compile, for the regex/iregex lookup)"
)


def translate(error: BaseException) -> exc.Error | None:
    """Return the `orm` exception for a driver exception, or ``None`` if it is not one."""
    if isinstance(error, exc.Error):
        return None  # already ours (e.g. a validation DataError)
    sqlstate = getattr(error, "sqlstate", None)
    target: type[exc.Error] | None = _BY_SQLSTATE.get(sqlstate) if sqlstate else None
    if target is None:
        for klass in type(error).__mro__:
            if klass.__name__ in _PEP249 and klass.__module__ != "builtins":
                target = getattr(exc, klass.__name__)
                break
    if target is None:
        return None
    message = str(error)
    if len(message) > _MAX_MESSAGE:
        # Drivers quote the statement or the value they refused (PostgreSQL:
        # 'invalid input syntax for type integer: "..."'), which may be
        # megabytes; the whole text stays on the driver's error (__cause__).
        message = (
            f"{message[:_MAX_MESSAGE]}... ({len(message)} characters; the driver's whole "
            "message is on __cause__)"
        )
    if "database is locked" in message:
        message += _SQLITE_LOCKED_HINT
    elif message == _SQLITE_FUNCTION_RAISED:
        # The functions orm registers on SQLite (REGEXP, ...) raise only for
        # arguments they cannot take: a pattern Python's re rejects (one read
        # from a column; literal patterns are checked before SQL), a result out
        # of range. PostgreSQL reports those as DataError (2201B, 22008).
        target = exc.DataError
        message += _SQLITE_FUNCTION_HINT
    new = target(message)
    new.sqlstate = sqlstate
    return new


class ErrorListener(Protocol):
    """Told about every translated error: the connection wrapper
    (``orm.db.wrapper.BaseDatabaseWrapper``, which imports this module)."""

    def on_database_error(self, error: exc.Error) -> None: ...


class DatabaseErrorWrapper:
    """Context manager translating driver errors raised inside it.

    Besides translating, it tells the wrapper about the failure: inside an
    atomic block the block is marked for rollback (later queries raise
    ``TransactionManagementError``); outside one, a connection-level error
    makes the wrapper drop its connection so the next call reconnects.
    """

    __slots__ = ("db",)

    def __init__(self, db: ErrorListener) -> None:
        self.db = db

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc_value: BaseException | None, tb: object) -> None:
        if exc_value is not None:
            self.reraise(exc_value)

    def reraise(self, exc_value: BaseException) -> None:
        """Raise the translation of a driver error; return when ``exc_value`` is not one.

        The form of the hot paths (every statement and fetch): ``try: ...
        except Exception as error: wrapper.reraise(error); raise``. A ``try``
        costs nothing until something raises, where ``with wrapper:`` costs
        two Python calls every time.
        """
        new = translate(exc_value)
        if new is None:
            return
        # Set before the raise below so on_database_error() can read the
        # driver's error (SQLite's error code) from it.
        new.__cause__ = exc_value
        new = _name_replica(self.db, new, exc_value)
        self.db.on_database_error(new)
        raise new.with_traceback(exc_value.__traceback__) from exc_value


def _name_replica(db: object, new: exc.Error, original: BaseException) -> exc.Error:
    """A write refused on a read-only replica, reworded to name the alias and its primary."""
    settings = getattr(db, "settings", None)
    primary = getattr(settings, "replica_of", None)
    text = str(original).lower()
    if primary is None or ("readonly" not in text and "read-only" not in text):
        return new
    alias = getattr(db, "alias", "?")
    reworded = type(new)(
        f"Cannot write to database {alias!r}: it is a read-only replica of {primary!r}. "
        f"Write with using({primary!r}) (or let a router's db_for_write choose it). ({original})"
    )
    reworded.__cause__ = original
    return reworded
