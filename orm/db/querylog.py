"""Seeing the SQL: the ``orm.db`` statement log and :func:`capture_queries`.

Every statement `orm` sends to a driver passes here once it has run (or
failed): the cursor wrapper (``orm.db.cursor``) for queries, DML, DDL and
the ``DECLARE`` of a server-side stream, and the connection wrapper
(``orm.db.wrapper``) for transaction control (``BEGIN``, ``COMMIT``,
``ROLLBACK``, ``SAVEPOINT``, ``RELEASE SAVEPOINT``, ``ROLLBACK TO SAVEPOINT``),
as Django 4.2+ logs them. Statements a connection runs for itself (SQLite
pragmas, PostgreSQL's time zone, the reset before a pooled connection goes
back, health checks) are not the user's and are not logged.

Both consumers are process-wide and thread-agnostic on purpose: an ``a*``
call runs on asgiref's worker thread (or a scope's), not on the caller's, so
anything tied to the calling thread or context would miss it.

Cost when nobody watches: the caller tests :data:`active` (a module global,
empty tuple) and ``logger.isEnabledFor(DEBUG)`` (cached by ``logging``), and
nothing is timed, built or formatted. Even when logging is on, the message is
formatted only by a handler that emits it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from time import perf_counter
from types import TracebackType
from typing import Any, overload

from orm.db.connections import connections
from orm.exceptions import ImproperlyConfigured
from orm.utils.text import short_repr

__all__ = [
    "PARAMS_SHOWN",
    "CapturedQuery",
    "QueryCapture",
    "active",
    "capture_queries",
    "logger",
    "observe",
    "record",
]

#: The statement logger. Statements are logged on it at DEBUG; its children
#: (``orm.db.transaction``, ``orm.db.scopes``, ...) log other events.
logger = logging.getLogger("orm.db")

#: Characters of a statement's parameters shown in a log message before they
#: are cut (the record's ``params`` attribute keeps them whole).
PARAMS_SHOWN = 500

#: The captures currently open, on every thread. A tuple replaced (never
#: mutated) under ``_lock``: the per-statement test reads one global without
#: locking, and a recording thread iterates a snapshot that cannot change
#: under it.
active: tuple[QueryCapture, ...] = ()
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class CapturedQuery:
    """One statement seen by :func:`capture_queries`."""

    #: The SQL with ``%s`` placeholders, as `orm` wrote it (on every backend).
    sql: str
    #: The parameters as passed to the driver; for ``executemany`` the list of
    #: parameter tuples; ``None`` for a statement without parameters.
    params: Any
    #: Wall time of the driver call in milliseconds (``perf_counter``).
    duration: float
    #: The database alias the statement ran on.
    alias: str
    #: Name of the thread that ran it (asgiref's worker for an ``a*`` call).
    thread: str
    #: True for ``executemany`` (one statement, many parameter tuples).
    many: bool = False

    def __str__(self) -> str:
        return f"{self.sql} -- params={short_repr(self.params, PARAMS_SHOWN)}"


class _Params:
    """The ``args=`` of a log message: formatted (and cut) only if a handler emits it."""

    __slots__ = ("params",)

    def __init__(self, params: Any) -> None:
        self.params = params

    def __str__(self) -> str:
        return short_repr(self.params, PARAMS_SHOWN)


def record(alias: str, sql: str, params: Any, many: bool, duration: float, log: bool) -> None:
    """Hand one finished statement to the open captures, and to the logger if ``log``.

    Called by the thread that ran the statement, after it ran or failed, and
    only when the caller saw :data:`active` non-empty or ``log`` true (the
    caller tests the level once and passes the answer). ``duration`` is in
    milliseconds.
    """
    thread = threading.current_thread().name
    captures = active
    if captures:
        entry = CapturedQuery(sql, params, duration, alias, thread, many)
        for capture in captures:
            if capture.using == alias:
                # list.append is atomic under the GIL: threads recording at
                # once need no lock, and a reader sees whole entries only.
                capture._queries.append(entry)
    if log:
        logger.debug(
            "(%.3f ms) %s; args=%s; alias=%s; thread=%s",
            duration, sql, _Params(params), alias, thread,
            extra={
                "sql": sql, "params": params, "duration": duration, "alias": alias,
                "thread_name": thread, "many": many,
            },
        )


class _NotWatched:
    """What :func:`observe` returns when nobody watches: a ``with`` that does nothing."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


class _Timed:
    """Times one statement and records it on exit, failed or not."""

    __slots__ = ("alias", "log", "sql", "start")

    def __init__(self, alias: str, sql: str, log: bool) -> None:
        self.alias, self.sql, self.log = alias, sql, log
        self.start = 0.0

    def __enter__(self) -> None:
        self.start = perf_counter()

    def __exit__(self, *exc_info: object) -> None:
        duration = (perf_counter() - self.start) * 1000.0
        record(self.alias, self.sql, None, False, duration, self.log)


_NOT_WATCHED = _NotWatched()


def observe(alias: str, sql: str) -> _NotWatched | _Timed:
    """``with observe(alias, "COMMIT"): <driver call>``: log and capture a statement
    the wrapper sends without a cursor (transaction control, no parameters).

    When nobody watches it returns a shared do-nothing object, so the cost is
    the two tests and an empty ``with``.
    """
    log = logger.isEnabledFor(logging.DEBUG)
    if not (log or active):
        return _NOT_WATCHED
    return _Timed(alias, sql, log)


class QueryCapture(Sequence[CapturedQuery]):
    """The statements run on one alias, on any thread, while the block is open.

    Made by :func:`capture_queries`. A sequence of :class:`CapturedQuery`
    (``len()``, iteration, indexing), in the order the statements finished.
    It keeps its statements after the block ends; entering it again starts
    a new, empty record. Captures nest: an outer one also sees the statements
    of an inner one.
    """

    def __init__(self, using: str = "default") -> None:
        if not isinstance(using, str):
            raise TypeError(
                f"capture_queries(using=...) takes one database alias as a str, "
                f"not {short_repr(using)}; capture each alias in its own block."
            )
        self.using = using
        self._queries: list[CapturedQuery] = []
        self._open = False

    # -- the block -------------------------------------------------------------
    def __enter__(self) -> QueryCapture:
        global active
        if self._open:
            raise RuntimeError(
                "This capture_queries() block is already open; open a new "
                "orm.capture_queries() to capture inside it."
            )
        _check_alias(self.using)
        self._queries = []
        with _lock:
            self._open = True
            active = (*active, self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global active
        with _lock:
            self._open = False
            active = tuple(capture for capture in active if capture is not self)

    async def __aenter__(self) -> QueryCapture:
        # No thread hop: registration is process-wide, so the statements of
        # the a* calls awaited in the block are seen on whichever thread runs them.
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- the record ------------------------------------------------------------
    @property
    def queries(self) -> list[CapturedQuery]:
        """A copy of the statements captured so far."""
        return list(self._queries)

    @property
    def sql(self) -> list[str]:
        """The SQL of each captured statement, in order."""
        return [query.sql for query in self._queries]

    def __len__(self) -> int:
        return len(self._queries)

    @overload
    def __getitem__(self, index: int) -> CapturedQuery: ...
    @overload
    def __getitem__(self, index: slice) -> list[CapturedQuery]: ...
    def __getitem__(self, index: int | slice) -> CapturedQuery | list[CapturedQuery]:
        return self._queries[index]

    def __iter__(self) -> Iterator[CapturedQuery]:
        return iter(list(self._queries))

    def numbered(self) -> str:
        """The captured SQL as a numbered list, one statement per line (for messages)."""
        return "\n".join(f"{i}. {query}" for i, query in enumerate(self._queries, 1))

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<QueryCapture using={self.using!r} {state} queries={len(self._queries)}>"


def capture_queries(using: str = "default") -> QueryCapture:
    """Record every statement run on ``using`` while the block is open, on any thread.

    ``with orm.capture_queries() as queries:`` or ``async with``; afterwards
    ``len(queries)``, ``queries[0].sql``, ``.params``, ``.duration`` (ms),
    ``.alias``, ``.thread``. Statements of other threads count too (another
    request served meanwhile, a background thread): capture around code
    that runs alone when the count matters.
    """
    return QueryCapture(using)


def _check_alias(alias: str) -> None:
    """Refuse an alias that is not configured (a capture of it would stay empty forever)."""
    if alias not in connections:
        raise ImproperlyConfigured(
            f"capture_queries(using={short_repr(alias)}): that database alias is not "
            f"configured; configured aliases: {', '.join(sorted(connections))}."
        )
