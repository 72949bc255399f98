"""ASGI integration: run each request in its own ``connection_scope()``.

Without it, every request's database work shares the process's one sync
thread and is serialized; with it, each HTTP or WebSocket request gets its own
thread and connections (from the pool on PostgreSQL), which are returned when
the request ends, including when the client disconnects and the task is
cancelled. ``lifespan`` events pass through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
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
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        async with connection_scope():
            await self.app(scope, receive, send)
