"""ASGI integration: run each request in its own ``connection_scope()``.

Without it, every request's database work shares the process's one sync
thread and is serialized; with it, each HTTP or WebSocket request runs on a
thread of a small pool (at most ``max_threads`` at once) with that thread's
connections, which stay open between requests and are reset when a request
ends, including when the client disconnects and the task is cancelled.
``lifespan`` events pass through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from orm.db.scopes import DEFAULT_THREADS, ScopeThreads, connection_scope

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["ConnectionScopeMiddleware"]


class ConnectionScopeMiddleware:
    """Pure ASGI middleware: ``app = ConnectionScopeMiddleware(app)``.

    Works with any ASGI 3 application (Starlette, FastAPI, Django's
    ``get_asgi_application()``, a bare callable).

    Each request runs in a ``connection_scope()`` on a thread of a pool of
    at most ``max_threads`` (default 4): a request that finds every thread
    busy waits for one; only when no thread came back for ``thread_wait``
    seconds (default 1) does it get an extra thread of its own, not kept (so
    long-lived requests, WebSockets, cannot stall the others forever). Threads and their SQLite
    connections are reused; what a request leaves behind on them is reset
    (see the concurrency guide). Without arguments the middleware shares
    ``orm.db.scopes.DEFAULT_THREADS`` with every ``connection_scope()`` of
    the process; with either argument it has a pool of its own.

    ``reuse_threads=False`` restores the old behaviour: a new thread per
    request and connections closed at its end (slower; for comparison).
    Call :meth:`close` at shutdown to stop the idle threads.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        reuse_threads: bool = True,
        max_threads: int | None = None,
        thread_wait: float | None = None,
    ) -> None:
        self.app = app
        self.reuse_threads = reuse_threads
        if max_threads is None and thread_wait is None:
            self.threads = DEFAULT_THREADS
        else:
            self.threads = ScopeThreads(
                max_threads=DEFAULT_THREADS.max_threads if max_threads is None else max_threads,
                wait=DEFAULT_THREADS.wait if thread_wait is None else thread_wait,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not self.reuse_threads:
            # One fresh single-thread executor per request. Not joined on the
            # loop: the scope's last call (closing its connections) has run.
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orm-request")
            try:
                async with connection_scope(executor):
                    await self.app(scope, receive, send)
            finally:
                executor.shutdown(wait=False)
            return
        async with connection_scope(threads=self.threads):
            await self.app(scope, receive, send)

    def close(self) -> None:
        """Stop the idle request threads, closing their connections (see ``ScopeThreads.close``)."""
        self.threads.close()
