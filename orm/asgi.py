"""ASGI integration: run each request in its own ``connection_scope()``.

Without it, every request's database work shares the process's one sync
thread and is serialized; with it, each HTTP or WebSocket request gets its own
thread and connections (from the pool on PostgreSQL), which are returned when
the request ends, including when the client disconnects and the task is
cancelled. ``lifespan`` events pass through untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from orm.db.scopes import connection_scope

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["ConnectionScopeMiddleware"]


class ConnectionScopeMiddleware:
    """Pure ASGI middleware: ``app = ConnectionScopeMiddleware(app)``.

    Works with any ASGI 3 application (Starlette, FastAPI, Django's
    ``get_asgi_application()``, a bare callable).

    ``reuse_threads=True`` keeps the threads of finished requests (one
    single-thread executor each, at most ``max_idle_threads`` idle) and gives
    them to later requests instead of starting a thread per request. The
    connections are still closed at the end of every request; only the thread
    is reused. Call :meth:`close` at shutdown to stop the idle threads.
    """

    def __init__(self, app: ASGIApp, *, reuse_threads: bool = False, max_idle_threads: int = 64) -> None:
        self.app = app
        self.reuse_threads = reuse_threads
        self.max_idle_threads = max_idle_threads
        self._idle: list[ThreadPoolExecutor] = []
        # Guards _idle: requests check executors out and in from the event
        # loop, but close() may be called from any thread at shutdown.
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not self.reuse_threads:
            async with connection_scope():
                await self.app(scope, receive, send)
            return
        executor = self._checkout()
        try:
            async with connection_scope(executor=executor):
                await self.app(scope, receive, send)
        finally:
            self._checkin(executor)

    def _checkout(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="orm-request")

    def _checkin(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._idle) < self.max_idle_threads:
                self._idle.append(executor)
                return
        executor.shutdown(wait=False)  # over the idle limit: let the thread end

    def close(self) -> None:
        """Stop the idle request threads (for ``reuse_threads=True``)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for executor in idle:
            executor.shutdown(wait=True)
