"""``ScopeThreads``: the small pool of sync threads that ``connection_scope()`` reuses.

Starting a thread and opening a connection for every scope (every request
under ``ConnectionScopeMiddleware``) cost more than the scope's own queries.
A pool keeps up to ``max_threads`` single-thread executors. A scope checks
one out for its whole life (its connections belong to that thread), and
gives it back once its connections were reset for the next scope (see
``ConnectionHandler.reset_current``).

When every thread is taken, a scope waits for one to be given back. Only
when no thread at all was given back for ``wait`` seconds (the pool is
stuck, not merely busy) does it get an *overflow* thread of its own, which
is not kept: long-lived scopes (WebSockets, streaming responses) that hold
every pooled thread must not stall the other requests forever, while a busy
pool whose threads keep coming back never grows past ``max_threads``.

The pool is loop-agnostic: scopes of several event loops (threads running
``asyncio.run``, tests) may share it. Waiters are woken through their own
loop's ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from time import monotonic
from typing import Any, ParamSpec, TypeVar

from orm.db.connections import connections
from orm.db.wrapper import mark_thread_reused

__all__ = ["ScopeExecutor", "ScopeThread", "ScopeThreads"]

logger = logging.getLogger("orm.db.scopes")

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[ScopeThread]"]
_P = ParamSpec("_P")
_R = TypeVar("_R")


class ScopeExecutor(ThreadPoolExecutor):
    """The one-thread executor of a scope thread; counts the calls handed to it.

    ``connection_scope()`` compares the count at a scope's start and end: a
    scope that handed its thread nothing (a request that never touched the
    database) has nothing to reset, and its end skips the hop to the thread.
    """

    #: Calls submitted so far (by the scope that holds the thread, one at a time).
    submitted = 0

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        """Queue ``fn`` on the thread, counting it."""
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


@dataclass(eq=False)
class ScopeThread:
    """One single-thread executor of a scope; ``pooled`` False for an overflow thread."""

    executor: ScopeExecutor
    pooled: bool


class ScopeThreads:
    """A pool of at most ``max_threads`` reusable scope threads (see the module docstring).

    ``wait``: seconds without any thread given back after which a waiting
    scope gets an overflow thread (one used by that scope only, its
    connections closed and the thread ended when the scope exits).
    """

    def __init__(self, max_threads: int = 4, wait: float = 1.0, name: str = "orm-scope") -> None:
        if max_threads < 1:
            raise ValueError(f"max_threads must be at least 1, not {max_threads!r}.")
        if wait < 0:
            raise ValueError(f"wait must be 0 or more seconds, not {wait!r}.")
        self.max_threads = max_threads
        self.wait = wait
        self.name = name
        # Guards everything below: scopes of any loop (and close(), from any
        # thread) check threads out and in.
        self._lock = threading.Lock()
        # Most recently used last: popping it reuses the warmest thread.
        self._idle: list[ScopeThread] = []
        self._waiters: deque[_Waiter] = deque()
        self._pooled = 0  # pooled threads alive: idle plus checked out
        self._overflow = 0  # overflow threads checked out
        self._overflowed = 0  # overflow threads ever made (stats)
        self._last_release = monotonic()  # when a pooled thread last came back

    def __repr__(self) -> str:
        return f"<ScopeThreads max_threads={self.max_threads} wait={self.wait:g}>"

    # -- checking out and in -------------------------------------------------
    async def acquire(self) -> ScopeThread:
        """A free thread: an idle one, a new one under the cap, or a freed one; an overflow
        one when no thread came back for ``wait`` seconds.

        Cancellation while waiting leaves the pool as it was (a thread handed
        over meanwhile is given back).
        """
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._pooled < self.max_threads:
                self._pooled += 1
                return self._new_thread(pooled=True)
            loop = asyncio.get_running_loop()
            waiter: _Waiter = (loop, loop.create_future())
            self._waiters.append(waiter)
        future = waiter[1]
        timeout = self.wait
        while True:
            try:
                # asyncio.wait() does not cancel the future on timeout: a
                # thread may be on its way to it (see _abandon).
                await asyncio.wait((future,), timeout=timeout)
            except BaseException:
                self._abandon(waiter)
                raise
            if future.done():
                return future.result()
            # Threads still come back (the queue moves): keep waiting.
            timeout = self._last_release + self.wait - monotonic()
            if timeout <= 0:
                break
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                self._overflow += 1
                self._overflowed += 1
                logger.debug(
                    "%r: no thread came back for %g s, starting an overflow thread", self, self.wait
                )
                return self._new_thread(pooled=False)
        # Handed over just now: the hand-over callback is queued on this loop.
        return await future

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter was cancelled: drop it, or give back a thread handed to it."""
        future = waiter[1]
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return
        # Runs on the waiter's loop, like _hand: no race with it.
        if future.done() and not future.cancelled():
            self.release(future.result())
        else:
            future.cancel()  # _hand, still queued, gives the thread back

    def _hand(self, future: asyncio.Future[ScopeThread], thread: ScopeThread) -> None:
        if future.cancelled():
            self.release(thread)
        else:
            future.set_result(thread)

    def release(self, thread: ScopeThread) -> None:
        """Give back a thread whose scope is over (its connections already reset or closed)."""
        if not thread.pooled:
            with self._lock:
                self._overflow -= 1
            thread.executor.shutdown(wait=False)  # ends once idle: nothing is queued
            return
        with self._lock:
            self._last_release = monotonic()
            while self._waiters:
                loop, future = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(self._hand, future, thread)
                    return
                except RuntimeError:
                    continue  # that waiter's loop is closed: try the next one
            self._idle.append(thread)

    # -- threads ---------------------------------------------------------------
    def _new_thread(self, pooled: bool) -> ScopeThread:
        prefix = self.name if pooled else f"{self.name}-overflow"
        # Pooled threads keep their connections between scopes (reset, not
        # closed): the wrappers they create must know it (see mark_thread_reused).
        initializer = mark_thread_reused if pooled else None
        executor = ScopeExecutor(max_workers=1, thread_name_prefix=prefix, initializer=initializer)
        return ScopeThread(executor, pooled)

    def close(self) -> None:
        """Stop the idle threads, closing their connections on them first.

        Blocks until they ended. Threads checked out keep running and come
        back to the pool as usual; the pool stays usable (it starts threads
        again when needed). For shutdown and tests.
        """
        with self._lock:
            idle, self._idle = self._idle, []
            self._pooled -= len(idle)
        for thread in idle:
            try:
                # Each connection is closed by the thread that owns it.
                thread.executor.submit(connections.close_current).result()
            finally:
                thread.executor.shutdown(wait=True)

    def stats(self) -> dict[str, Any]:
        """Threads now: ``pooled`` (idle + busy), ``idle``, ``overflow`` busy, ``waiting``
        scopes; and ``overflowed``, the overflow threads started so far."""
        with self._lock:
            return {
                "max_threads": self.max_threads,
                "pooled": self._pooled,
                "idle": len(self._idle),
                "overflow": self._overflow,
                "waiting": len(self._waiters),
                "overflowed": self._overflowed,
            }
