"""The cursor wrapper every query goes through.

It is the single place that (1) refuses queries inside a broken atomic block,
(2) runs the connection's execute wrappers, (3) hands each statement to the
statement log and the open query captures (``orm.db.querylog``) and (4)
translates driver errors. Placeholders are ``%s`` on every backend; the
backend's ``convert_query`` turns them into the driver's style.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol

from orm.abc import Params
from orm.db import querylog
from orm.utils.asyncio import check_async_unsafe, running_loop

if TYPE_CHECKING:
    from orm.abc import Operations
    from orm.db.errors import DatabaseErrorWrapper
    from orm.db.transaction_state import TransactionState

__all__ = ["CursorOwner", "CursorWrapper", "Params"]

_DEBUG = logging.DEBUG


class CursorOwner(Protocol):
    """What a cursor needs from the connection wrapper that made it
    (``orm.db.wrapper.BaseDatabaseWrapper``, which imports this module)."""

    @property
    def alias(self) -> str: ...
    @property
    def thread_ident(self) -> int: ...
    @property
    def ops(self) -> Operations: ...
    @property
    def wrap_database_errors(self) -> DatabaseErrorWrapper: ...
    @property
    def execute_wrappers(self) -> list[Callable[..., Any]]: ...
    @property
    def transaction_state(self) -> TransactionState: ...
    @property
    def watch_session(self) -> bool: ...

    session_changed: bool

    def validate_thread_sharing(self) -> None: ...


class CursorWrapper:
    """A DB-API cursor with `orm`'s error translation and ``%s`` placeholders."""

    #: Set by the ORM on a cursor that runs only statements it built from an
    #: allow-list of nodes (a statement-cache entry, an UPDATE by primary
    #: key), which cannot change the session. Every other statement tells a
    #: wrapper that watches its session (``watch_session``) that the session
    #: may have changed, so that its reset between scopes cannot be skipped.
    session_safe = False

    def __init__(self, cursor: Any, db: CursorOwner) -> None:
        self.cursor = cursor
        self.db = db

    # -- DB-API passthrough -------------------------------------------------
    @property
    def description(self) -> Any:
        """Column descriptions of the last query (DB-API)."""
        return self.cursor.description

    @property
    def rowcount(self) -> int:
        """Rows affected by the last statement (DB-API)."""
        return int(self.cursor.rowcount)

    @property
    def lastrowid(self) -> Any:
        """Row id of the last inserted row (SQLite)."""
        return self.cursor.lastrowid

    # The fetches and the execution below translate errors with try/except
    # rather than ``with db.wrap_database_errors`` (see DatabaseErrorWrapper.reraise):
    # they run for every statement.
    def fetchone(self) -> Any:
        """Fetch the next row or ``None``."""
        try:
            return self.cursor.fetchone()
        except Exception as error:
            self.db.wrap_database_errors.reraise(error)
            raise

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Fetch up to ``size`` rows."""
        try:
            if size is None:
                return list(self.cursor.fetchmany())
            return list(self.cursor.fetchmany(size))
        except Exception as error:
            self.db.wrap_database_errors.reraise(error)
            raise

    def fetchall(self) -> list[Any]:
        """Fetch all remaining rows."""
        try:
            return list(self.cursor.fetchall())
        except Exception as error:
            self.db.wrap_database_errors.reraise(error)
            raise

    def __iter__(self) -> Iterator[Any]:
        with self.db.wrap_database_errors:
            yield from self.cursor

    def close(self) -> None:
        """Close the driver cursor; errors from an already-dead connection are ignored."""
        try:
            self.cursor.close()
        except Exception:  # noqa: BLE001 - closing a cursor of a dropped connection
            pass

    def __enter__(self) -> CursorWrapper:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- execution ----------------------------------------------------------
    def execute(self, sql: str, params: Params = None) -> CursorWrapper:
        """Execute one statement with ``%s`` placeholders and bound ``params``."""
        return self._run(sql, params, many=False)

    def executemany(self, sql: str, param_list: Sequence[Sequence[Any]]) -> CursorWrapper:
        """Execute one statement once per parameter tuple."""
        return self._run(sql, param_list, many=True)

    def _run(self, sql: str, params: Params, many: bool) -> CursorWrapper:
        db = self.db
        if db.thread_ident != threading.get_ident():
            db.validate_thread_sharing()
        if running_loop() is not None:  # the test inlined: a call saved per statement
            check_async_unsafe("cursor.execute()")
        if db.watch_session and not (self.session_safe and not db.execute_wrappers):
            # An execute wrapper may rewrite even a safe statement.
            db.session_changed = True
        # Two attribute tests on the common path (no transaction, or one that
        # is healthy and owned by nobody in particular); the calls happen only
        # when there is something to refuse or to check.
        state = db.transaction_state
        if state.needs_rollback:
            state.validate_no_broken_transaction()
        if state.owner is not None:
            # Inside an atomic block opened by a sync_to_async call, or in
            # manual mode: check the caller and begin a manual transaction.
            state.guard_statement()
        if db.execute_wrappers:
            call: _Execute = self._execute
            for wrapper in reversed(db.execute_wrappers):
                call = _bind(wrapper, call)
            call(sql, params, many, {"connection": db, "cursor": self})
        else:
            self._execute(sql, params, many, None)
        return self

    def _execute(self, sql: str, params: Params, many: bool, context: dict[str, Any] | None) -> Any:
        db = self.db
        query = db.ops.convert_query(sql, params is not None)
        # The statement log and query capture (orm.db.querylog) cost two
        # tests here while nobody watches: nothing is timed or built.
        if not querylog.active and not querylog.logger.isEnabledFor(_DEBUG):
            try:
                if many:
                    return self.cursor.executemany(query, params)
                if params is None:
                    return self.cursor.execute(query)
                return self.cursor.execute(query, params)
            except Exception as error:
                db.wrap_database_errors.reraise(error)
                raise
        return self._execute_watched(sql, query, params, many)

    def _execute_watched(self, sql: str, query: str, params: Params, many: bool) -> Any:
        """Run and time the statement, then hand it to the log and the captures."""
        db = self.db
        log = querylog.logger.isEnabledFor(_DEBUG)
        start = perf_counter()
        try:
            with db.wrap_database_errors:
                if many:
                    return self.cursor.executemany(query, params)
                if params is None:
                    return self.cursor.execute(query)
                return self.cursor.execute(query, params)
        finally:
            # After a failure too (as Django): the failing SQL is what one looks for.
            duration = (perf_counter() - start) * 1000.0
            querylog.record(db.alias, sql, params, many, duration, log)


#: One step of the execute chain: ``(sql, params, many, context) -> driver result``.
_Execute = Callable[[str, Params, bool, "dict[str, Any] | None"], Any]


def _bind(wrapper: Callable[..., Any], call: _Execute) -> _Execute:
    def bound(sql: str, params: Params, many: bool, context: dict[str, Any] | None) -> Any:
        return wrapper(call, sql, params, many, context)

    return bound
