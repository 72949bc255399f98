"""``connection_scope()``: a block of async code with its own sync thread and connections.

Outside any scope, every thread-sensitive call of the process shares one
thread (asgiref's), so database work is serialized. A scope opens an asgiref
``ThreadSensitiveContext``: its twins and wrapped functions run on a thread
of their own, in order, with their own connections, which are closed (or
returned to their pool) when the block exits, however it exits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from contextlib import asynccontextmanager

from asgiref.sync import AsyncToSync, ThreadSensitiveContext

from orm.db.connections import connections
from orm.utils.asyncio import to_async

logger = logging.getLogger("orm.db.scopes")
# ids of executors owned by an active scope (only touched on the event loop).
_busy_executors: set[int] = set()


@asynccontextmanager
async def connection_scope(executor: Executor | None = None) -> AsyncIterator[None]:
    """Run the block's database work on its own thread; close its connections on exit.

    ``executor`` (optional) must run one call at a time on one thread, e.g.
    ``ThreadPoolExecutor(max_workers=1)``; pass one to reuse threads across
    scopes. A scope nested in another scope shares the outer one's thread
    and leaves closing to it.
    """
    if executor is not None:
        if id(executor) in _busy_executors:
            raise RuntimeError(
                "This executor is already used by another active connection_scope(); two "
                "scopes on one thread would close each other's connections. Give each "
                "concurrent scope its own single-thread executor."
            )
        _busy_executors.add(id(executor))
    try:
        context = (ThreadSensitiveContext(executor=executor) if executor is not None
                   else ThreadSensitiveContext())
        async with context:
            # Inside async_to_sync, asgiref runs thread-sensitive calls on the
            # caller's own sync thread (its CurrentThreadExecutor wins over a
            # new context): this scope does not own that thread's connections
            # (the caller may be inside atomic()), so it must not close them.
            owner = context.token is not None and (
                executor is not None or getattr(AsyncToSync.executors, "current", None) is None
            )
            try:
                yield
            finally:
                if owner:
                    await _close_scope_connections()
    finally:
        if executor is not None:
            _busy_executors.discard(id(executor))


async def _close_scope_connections() -> None:
    # The close runs on the scope's own thread (thread-sensitive inside the
    # context): only that thread may touch its connections, and it runs after
    # any sync function still finishing there (a cancelled caller does not
    # stop it). Further cancellations are absorbed until the close is done,
    # then re-raised, so a cancelled request never strands a pooled connection.
    close = asyncio.ensure_future(to_async(connections.close_current)())
    cancelled = False
    while not close.done():
        try:
            await asyncio.shield(close)
        except asyncio.CancelledError:
            cancelled = True
    closed = close.result()
    if closed:
        logger.debug("connection_scope closed %d connection(s)", closed)
    if cancelled:
        raise asyncio.CancelledError
