"""First come, first served: the threads of one process queue for a SQLite file's write lock.

SQLite has one write lock per database file, and a connection that finds it
taken waits in a *busy handler* that polls: it sleeps 1, 2, 5, ... up to
100 ms between tries. Waiters are not queued, so under contention the lock goes
to whichever thread happens to try right after a commit, usually one that has
just started waiting and polls every few milliseconds. A thread that has waited
a while polls every 100 ms and keeps losing: with a couple of hundred writing
threads (scopes under load, a migration beside a busy app) it can exhaust its
busy timeout and fail with "database is locked" although every transaction held
the lock for about a millisecond. A busy CPU makes it worse: the lock holder
needs the GIL to reach its COMMIT.

So every write of this process to a file database first takes a turn in a
queue kept per file (``BEGIN IMMEDIATE`` until the transaction ends, or one
autocommit write statement). Only one thread of the process then competes for
SQLite's lock at a time, and turns are handed over in arrival order. The wait
is bounded by the connection's busy timeout; running out of it raises the same
"database is locked" error SQLite would. SQLite's own lock still guards against
other processes: the queue only makes the threads of this one fair to each
other, so correctness never depends on it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Self

from orm.backends.sqlite.fetchlock import FetchLockedCursor

__all__ = ["QueuedCursor", "Turn", "WriteQueue", "queue_for"]

# Statements that never write (the common ones by far): they skip the queue.
# Anything else in autocommit mode (DML, DDL, WITH ... INSERT) takes a turn;
# a read that does by mistake only waits, it cannot deadlock.
_READS = ("SELECT", "PRAGMA", "EXPLAI", "VALUES", "SAVEPO", "RELEAS", "ROLLBA")


class WriteQueue:
    """A FIFO lock: ``acquire()`` returns in the order the threads called it.

    ``threading.Lock`` lets a newly arrived thread take the lock ahead of one
    woken to take it, which brings the starvation back; here the releasing
    thread hands the turn to the oldest waiter directly, without ever letting
    ``_held`` go while anyone waits, so a newcomer cannot barge in. An
    uncontended turn costs one non-blocking acquire and one release.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._held = threading.Lock()  # taken by whoever has the turn
        self._mutex = threading.Lock()  # guards _waiters and every handover
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the turn; False if it did not come."""
        if self._held.acquire(blocking=False):
            return True
        with self._mutex:
            # Released since the first try (release() takes the mutex too, so
            # no handover can be missed between this test and the append).
            if self._held.acquire(blocking=False):
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=max(timeout, 0.0)):
            return True
        with self._mutex:
            try:
                self._waiters.remove(turn)
            except ValueError:
                # release() handed the turn over between the timeout and here.
                return True
            return False

    def release(self) -> None:
        """End this turn: the oldest waiter (if any) gets the next one."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # a handover: _held stays taken
            else:
                self._held.release()

    def locked_error(self, timeout: float) -> sqlite3.OperationalError:
        """The error of a turn that did not come: SQLite's own "database is locked"."""
        return sqlite3.OperationalError(
            f"database is locked: other threads of this process kept the write lock of "
            f"{self.name!r} for more than the {timeout:g} s busy timeout. Keep write "
            f"transactions short, or raise the wait with ?timeout=SECONDS in the database URL."
        )


_queues: dict[str, WriteQueue] = {}
_queues_lock = threading.Lock()


def queue_for(name: str) -> WriteQueue:
    """The one queue of the database file ``name`` (a path or a ``file:`` URI)."""
    path = name[5:] if name.startswith("file:") else name
    path = os.path.realpath(path.split("?", 1)[0])
    with _queues_lock:
        queue = _queues.get(path)
        if queue is None:
            queue = _queues[path] = WriteQueue(path)
        return queue


class Turn:
    """One connection's place in its file's queue, held from ``take()`` to ``end()``."""

    __slots__ = ("queue", "timeout", "held")

    def __init__(self, queue: WriteQueue, timeout: float) -> None:
        self.queue = queue
        self.timeout = timeout
        self.held = False

    def take(self) -> None:
        """Wait for the turn (a transaction begins); raise "database is locked" on timeout."""
        if self.held:
            return
        if not self.queue.acquire(self.timeout):
            raise self.queue.locked_error(self.timeout)
        self.held = True

    def end(self) -> None:
        """Give the turn to the next thread (the transaction ended, or the connection closed)."""
        if self.held:
            self.held = False
            self.queue.release()


class QueuedCursor(FetchLockedCursor):
    """A cursor whose autocommit writes take a turn in the file's write queue.

    Inside a transaction the turn was taken by ``BEGIN IMMEDIATE`` and is held
    until the transaction ends, so statements there go straight through (also
    after SQLite rolled a failed transaction back by itself: the turn is still
    this connection's until the rollback or close that ends it).
    """

    turn: Turn

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        if self.turn.held or self.connection.in_transaction or sql[:6].upper() in _READS:
            return super().execute(sql, parameters)
        return self._in_turn(super().execute, sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        if self.turn.held or self.connection.in_transaction:
            return super().executemany(sql, seq_of_parameters)
        return self._in_turn(super().executemany, sql, seq_of_parameters)

    def _in_turn(self, run: Callable[[str, Any], Self], sql: str, parameters: Any) -> Self:
        self.turn.take()
        try:
            return run(sql, parameters)
        finally:
            self.turn.end()
