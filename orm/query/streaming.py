"""Closing ``aiterator()`` streams early, and before the event loop closes.

A stream's rows come from a sync generator that runs on the context's sync
thread and holds a cursor (a PostgreSQL server-side cursor, or the stream's
own SQLite connection) until it ends. Closing it early takes one more hop to
a sync thread. Two kinds of close are awaited by nobody:

- a consumer cancelled while its next chunk is fetched must not wait for the
  close (it is queued behind that fetch), so the close runs as a task of its own;
- a generator the consumer dropped is closed by a task the loop creates when
  the generator is garbage-collected.

``asyncio.run()`` (and ``asyncio.Runner``) cancels the tasks it knows of and
then closes the loop: a close still in flight was destroyed with it ("Task was
destroyed but it is pending!") and the cursor stayed open. So every loop that
streams gets a sentinel async generator, started with the loop's first stream:
the loop's ``shutdown_asyncgens()``, which both call before closing the loop,
closes it, and its cleanup waits for every stream close still in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from types import GeneratorType
from typing import Any

from orm.utils.asyncio import to_async

__all__ = ["close", "close_soon", "watch_loop"]

logger = logging.getLogger("orm.query")

# Loop ticks without any close in flight after which shutdown stops waiting:
# a close scheduled by a callback already queued (a collected generator's
# finalizer) starts within these.
_QUIET_TICKS = 3


class _LoopWatch:
    """Per event loop: the stream closes in flight, and the sentinel that waits for them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.closing: set[asyncio.Future[Any]] = set()
        self.sentinel = self._sentinel(loop)

    async def _sentinel(self, loop: asyncio.AbstractEventLoop) -> AsyncGenerator[None, None]:
        try:
            while True:
                yield
        finally:
            # Reached when shutdown_asyncgens() closes this generator.
            await self.drain()
            _watches.pop(loop, None)

    async def drain(self) -> None:
        """Wait until no close is in flight, including ones that start meanwhile."""
        quiet = 0
        while quiet < _QUIET_TICKS:
            pending = [closer for closer in self.closing if not closer.done()]
            if pending:
                quiet = 0
                await asyncio.wait(pending)
            else:
                quiet += 1
                await asyncio.sleep(0)


# One watch per running loop; entries of loops closed without
# shutdown_asyncgens() are dropped when a new loop starts streaming.
_watches: dict[asyncio.AbstractEventLoop, _LoopWatch] = {}


async def watch_loop() -> None:
    """Make sure the running loop waits for stream closes when it shuts down.

    Called once per stream before its first fetch: the sentinel must be
    registered with the loop while it runs normally, since a generator first
    iterated during ``shutdown_asyncgens()`` is not closed by it.
    """
    loop = asyncio.get_running_loop()
    if loop in _watches:
        return
    # list() copies at once: loops in other threads (async_to_sync) stream too.
    for old in list(_watches):
        if old.is_closed():
            _watches.pop(old, None)
    watch = _watches[loop] = _LoopWatch(loop)
    await watch.sentinel.asend(None)


def close_soon(iterator: GeneratorType[Any, None, None]) -> None:
    """Close ``iterator`` on its sync thread in a task of its own, without waiting.

    For a cancelled consumer, which must not wait behind the fetch still
    running on that thread. Nothing is scheduled if the iterator has ended.
    """
    closer = _schedule_close(iterator)
    if closer is not None:
        # Nobody awaits this close: report a failure instead of leaving
        # "Task exception was never retrieved" to the garbage collector.
        closer.add_done_callback(_log_failure)


async def close(iterator: GeneratorType[Any, None, None]) -> None:
    """Close ``iterator`` on its sync thread and wait for it (nothing to do if it has ended).

    The close is shielded: a caller cancelled meanwhile stops waiting, the
    close goes on, and the loop's shutdown waits for it.
    """
    closer = _schedule_close(iterator)
    if closer is not None:
        await asyncio.shield(closer)


def _schedule_close(iterator: GeneratorType[Any, None, None]) -> asyncio.Future[Any] | None:
    # gi_frame is None once the generator has finished: it closed its cursor
    # then (exhausted or failed), so no hop is needed.
    if iterator.gi_frame is None:
        return None
    # The task copies the caller's context: a consumer's close runs on the
    # consumer's thread (the shared thread, or its scope's), after the work
    # queued there. A close started by the loop's finalizer runs in the loop's
    # own context, on the shared thread; closing a cursor is idempotent and
    # serialized by its connection, and a scope that ended closed it already.
    closer: asyncio.Future[Any] = asyncio.ensure_future(to_async(iterator.close)())
    watch = _watches.get(asyncio.get_running_loop())
    pending = watch.closing if watch is not None else _unwatched
    pending.add(closer)  # referenced until done, so it is not collected mid-way
    closer.add_done_callback(pending.discard)
    return closer


def _log_failure(closer: asyncio.Future[Any]) -> None:
    if not closer.cancelled() and (error := closer.exception()) is not None:
        logger.warning("Closing an abandoned aiterator() stream failed", exc_info=error)


# Closes on a loop that never started a stream (a generator moved between
# loops): referenced until done, though nothing waits for them at shutdown.
_unwatched: set[asyncio.Future[Any]] = set()
