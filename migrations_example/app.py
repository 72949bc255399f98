"""A small ASGI app over the example models: async views, one scope per request.

Run it with ``make serve`` (uvicorn, from the ``example`` extra). Routes:

- ``GET  /books``                  list books with their authors (``async for``)
- ``POST /books``                  create a book: ``{"title", "author", "price"}`` (``acreate``)
- ``POST /books/<id>/price``       set a price: ``{"price"}`` (``aget`` + ``asave``)
- ``POST /books/<id>/move``        move a book to another author in one transaction
                                   (a sync function wrapped with ``sync_to_async``)
- ``GET  /stats``                  connection diagnostics (``orm.connections.stats()``)

The database comes from ``ORM_DATABASE_URL`` (default: ``sqlite:///example.sqlite3``);
the example's migrations are applied at startup (ASGI lifespan) with
``await orm.amigrate()``; ``fake_initial`` lets it adopt a database whose
tables were made before (by ``orm.create_tables``, as the benchmarks do).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

import orm
from migrations_example.models import Author, Book
from migrations_example.views import BAD_INPUT, BookViews, Receive, Send, respond, route_books
from orm import transaction
from orm.asgi import ConnectionScopeMiddleware

#: The example project's apps (as migrations_example/pyproject.toml lists them).
APPS = ["migrations_example", "migrations_example.reviews"]


views = BookViews(Author, Book, transaction.atomic)


async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    """The bare ASGI application (wrapped below with ConnectionScopeMiddleware)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                orm.configure(os.environ.get("ORM_DATABASE_URL", "sqlite:///example.sqlite3"))
                # amigrate runs the executor on the context's sync thread, the
                # one the requests' connections use, so none is left open elsewhere.
                await orm.amigrate(apps=APPS, fake_initial=True)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                orm.connections.close_all()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    method, parts = scope["method"], [p for p in scope["path"].split("/") if p]
    try:
        if parts == ["stats"]:
            await respond(send, 200, orm.connections.stats())
        elif not await route_books(
            method, parts, receive, send, views, orm.sync_to_async(views.move_book)
        ):
            await respond(send, 404, {"error": "not found"})
    except Book.DoesNotExist:
        await respond(send, 404, {"error": "no such book"})
    except (*BAD_INPUT, orm.DataError, orm.ValidationError) as error:
        await respond(send, 400, {"error": str(error)})


application = ConnectionScopeMiddleware(app)
# The same, spelled out: request threads (at most 4) and their SQLite connections are
# reused, reset between requests (the default since issue 19 item 4).
application_reused_threads = ConnectionScopeMiddleware(app, reuse_threads=True)
# A new thread and SQLite connection per request, as before issue 19 (for the benchmark).
application_thread_per_request = ConnectionScopeMiddleware(app, reuse_threads=False)
