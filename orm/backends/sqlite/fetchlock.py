"""One thread of the process at a time reads many rows from SQLite.

``sqlite3`` releases the GIL around every ``sqlite3_step()``, so fetching N
rows drops and takes the GIL N times. With one thread reading that costs
nothing; with several scope threads reading at once, every drop hands the GIL
to another thread and the reader then waits to get it back: a convoy of
thread switches per row. On this project's 2-CPU machine, ten concurrent
scopes each listing 200 books with ``select_related`` spent 3.8-4.0 ms of CPU
per listing against 1.4 ms for the same listings awaited without scopes (all
on asgiref's one thread).

A process-wide lock around the fetching calls (``fetchall``/``fetchmany``)
ends it: the other threads wait on the lock, asleep, and the reader's GIL
drops find nobody to hand over to. ``fetchall`` takes it per slice of
``_SLICE`` rows, so one long result does not stall everybody else's reads.
The first step (in ``execute``) runs outside the lock, so a read that waits
for SQLite's file lock (busy handler) never holds it; the lock is
re-entrant, so a Python SQL function that reads inside a fetch cannot
deadlock its own thread.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

__all__ = ["FetchLockedCursor"]

# Guards the fetching of every SQLite cursor of this process (see the docstring).
_FETCH_LOCK = threading.RLock()
# Rows fetched per hold of the lock by fetchall().
_SLICE = 500


class FetchLockedCursor(sqlite3.Cursor):
    """A ``sqlite3.Cursor`` whose multi-row fetches hold the process's fetch lock."""

    def fetchall(self) -> list[Any]:
        # In slices, releasing the lock between them: a long result must not
        # stall every other thread's reads until it is done.
        rows: list[Any] = []
        while True:
            with _FETCH_LOCK:
                chunk = super().fetchmany(_SLICE)
            rows.extend(chunk)
            if len(chunk) < _SLICE:
                return rows

    def fetchmany(self, size: int | None = None) -> list[Any]:
        with _FETCH_LOCK:
            if size is None:
                return super().fetchmany()
            return super().fetchmany(size)
