"""Seeing the SQL: the ``orm.db`` statement log and the recorders behind
``orm.capture_queries()`` (``orm.db.capture``).

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
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from orm.abc import Params
from orm.utils.text import short_repr

__all__ = [
    "PARAMS_SHOWN",
    "CapturedQuery",
    "Recorder",
    "active",
    "logger",
    "observe",
    "record",
    "start_recording",
    "stop_recording",
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
active: tuple[Recorder, ...] = ()
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class CapturedQuery:
    """One statement seen by ``orm.capture_queries()``."""

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


@dataclass(eq=False)
class Recorder:
    """What :func:`record` appends to: the statements of one alias, while started.

    The base of ``orm.db.capture.QueryCapture`` (which lives apart because it
    checks the alias against ``orm.db.connections``, and this module is
    imported by the cursor, below the connection handler).
    """

    #: The alias whose statements are recorded.
    using: str
    #: The statements recorded, in the order they finished.
    entries: list[CapturedQuery] = field(default_factory=list)


def start_recording(recorder: Recorder) -> None:
    """Make ``recorder`` receive the statements of its alias from now on, on every thread."""
    global active
    with _lock:
        active = (*active, recorder)


def stop_recording(recorder: Recorder) -> None:
    """Stop giving statements to ``recorder`` (nothing if it was not started)."""
    global active
    with _lock:
        active = tuple(other for other in active if other is not recorder)


class _Params:
    """The ``args=`` of a log message: formatted (and cut) only if a handler emits it."""

    __slots__ = ("params",)

    def __init__(self, params: Params) -> None:
        self.params = params

    def __str__(self) -> str:
        return short_repr(self.params, PARAMS_SHOWN)


def record(alias: str, sql: str, params: Params, many: bool, duration: float, log: bool) -> None:
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
        for recorder in captures:
            if recorder.using == alias:
                # list.append is atomic under the GIL: threads recording at
                # once need no lock, and a reader sees whole entries only.
                recorder.entries.append(entry)
    if log:
        logger.debug(
            "(%.3f ms) %s; args=%s; alias=%s; thread=%s",
            duration,
            sql,
            _Params(params),
            alias,
            thread,
            extra={
                "sql": sql,
                "params": params,
                "duration": duration,
                "alias": alias,
                "thread_name": thread,
                "many": many,
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
