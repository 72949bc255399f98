"""``connection_scope()``: a block of async code with its own sync thread and connections.

Outside any scope, every thread-sensitive call of the process shares one
thread (asgiref's), so database work is serialized. A scope opens an asgiref
``ThreadSensitiveContext``: its twins and wrapped functions run on a thread
of their own, in order, with their own connections.

The thread comes from a small pool (``ScopeThreads``, ``DEFAULT_THREADS``:
at most 4, see ``orm.db.scopethreads``) and its connections stay open from
one scope to the next: when the block exits, however it exits, they are
reset on that thread (rolled back, transaction state, savepoints and
on_commit hooks dropped; see ``ConnectionHandler.reset_current``), or
closed when they cannot be reset. PostgreSQL connections go back to their
pool, reset (only rolled back after a scope that ran nothing able to change
the session, see ``CursorWrapper.session_safe``). A scope given its own
``executor`` closes its connections at exit, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from contextlib import asynccontextmanager

from asgiref.sync import AsyncToSync, SyncToAsync, ThreadSensitiveContext

from orm.db.connections import connections
from orm.db.scopethreads import ScopeThread, ScopeThreads
from orm.utils.asyncio import to_async

__all__ = ["DEFAULT_THREADS", "ScopeThreads", "connection_scope"]

logger = logging.getLogger("orm.db.scopes")

#: The pool of scope threads ``connection_scope()`` uses when given none.
DEFAULT_THREADS = ScopeThreads()
# ids of executors owned by an active scope (only touched on the event loop).
_busy_executors: set[int] = set()


@asynccontextmanager
async def connection_scope(
    executor: Executor | None = None, *, threads: ScopeThreads | None = None
) -> AsyncIterator[None]:
    """Run the block's database work on a thread of its own; reset its connections on exit.

    The thread is taken from ``threads`` (default :data:`DEFAULT_THREADS`),
    waiting for a free one if all are busy (see ``ScopeThreads``), and given
    back when the block exits, once its connections were reset for the next
    scope. ``executor`` (optional) must run one call at a time on one
    thread, e.g. ``ThreadPoolExecutor(max_workers=1)``: the block then runs
    there and its connections are closed on exit. A scope nested in another
    scope (or entered inside ``async_to_sync``) shares the outer one's
    thread and leaves its connections to it.
    """
    if executor is not None:
        async with _executor_scope(executor):
            yield
        return
    if (
        SyncToAsync.thread_sensitive_context.get(None) is not None
        or getattr(AsyncToSync.executors, "current", None) is not None
    ):
        # Nested, or inside async_to_sync: asgiref keeps the work on the
        # outer thread, whose connections are not this scope's to reset.
        async with ThreadSensitiveContext():
            yield
        return
    pool = DEFAULT_THREADS if threads is None else threads
    thread = await pool.acquire()
    try:
        submitted = thread.executor.submitted
        async with ThreadSensitiveContext(executor=thread.executor):
            try:
                yield
            finally:
                # A pooled thread given no call by this scope is as the last
                # scope's reset left it: nothing to reset, no hop to make.
                if thread.executor.submitted != submitted or not thread.pooled:
                    await _end_scope(thread)
    finally:
        pool.release(thread)


@asynccontextmanager
async def _executor_scope(executor: Executor) -> AsyncIterator[None]:
    if id(executor) in _busy_executors:
        raise RuntimeError(
            "This executor is already used by another active connection_scope(); two "
            "scopes on one thread would close each other's connections. Give each "
            "concurrent scope its own single-thread executor."
        )
    _busy_executors.add(id(executor))
    try:
        async with ThreadSensitiveContext(executor=executor):
            try:
                yield
            finally:
                await _end_scope(None)
    finally:
        _busy_executors.discard(id(executor))


async def _end_scope(thread: ScopeThread | None) -> None:
    # Runs on the scope's own thread (thread-sensitive inside the context):
    # only that thread may touch its connections, and it runs after any sync
    # function still finishing there (a cancelled caller does not stop it).
    # Further cancellations are absorbed until the reset is done, then
    # re-raised, so a cancelled request never strands a connection, and the
    # thread goes back to the pool only once nothing of the scope runs on it.
    if thread is not None and thread.pooled:
        # Straight to the scope's one-thread executor, behind anything the
        # scope still has queued there: the same thread and order as a
        # thread-sensitive call, without asgiref's context copy and executor
        # lookup (one per scope, so per request under the middleware).
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(thread.executor, connections.reset_current)
    else:
        done = asyncio.ensure_future(to_async(lambda: (0, connections.close_current()))())
    cancelled = False
    while not done.done():
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            cancelled = True
    kept, closed = done.result()
    if closed or kept:
        logger.debug("connection_scope kept %d and closed %d connection(s)", kept, closed)
    if cancelled:
        raise asyncio.CancelledError
