"""The example app's views (``migrations_example/app.py``) written with Django's async ORM.

A minimal standalone Django project in one module, for the HTTP load
benchmark (``python -m benchmarks.http_load``): ``settings.configure()``, the
same three models (same tables: ``migrations_example_author``, ...), the same
routes and JSON shapes, served by Django's own ASGI handler
(``get_asgi_application()``), so Django's own per-request connection handling
applies: every request runs in an asgiref ``ThreadSensitiveContext`` (a thread
of its own for the ORM's ``sync_to_async`` calls) and ``request_finished``
closes the request's connection (``CONN_MAX_AGE = 0``, the default; Django's
documentation asks for it under ASGI) or, with ``OPTIONS["pool"]``
(PostgreSQL, Django >= 5.1), gives it back to a psycopg pool.

Run it with ``uvicorn benchmarks.django_app:application --lifespan on``. The
database comes from the environment:

- ``BENCH_HTTP_DATABASE_URL``: ``sqlite:////abs/path.sqlite3`` or
  ``postgresql://user[:password]@host:port/db[?options=-c search_path=...]``
  (the same URL the ``orm`` variants get in ``ORM_DATABASE_URL``, minus the
  ``pool_*`` options);
- ``BENCH_HTTP_DJANGO_POOL``: PostgreSQL only, the pool's ``max_size``
  (unset or ``0``: no pool, a new connection per request).

Tables are created at startup (ASGI lifespan), as the ``orm`` example does;
Django's ASGI handler itself does not speak lifespan, so a thin ASGI wrapper
handles it and passes every ``http`` request to Django unchanged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import django
from django.conf import settings

from benchmarks.databases import django_postgres_settings

# Same pragmas as orm's SQLite defaults (WAL, synchronous=NORMAL; Django turns
# foreign keys on itself) and the same BEGIN IMMEDIATE write transactions.
SQLITE_INIT = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"


def database_settings(url: str, pool_max_size: int = 0) -> dict[str, Any]:
    """Django's ``DATABASES["default"]`` for one of the benchmark's database URLs."""
    if url.startswith("sqlite:///"):
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": unquote(url.removeprefix("sqlite:///").partition("?")[0]),
            "OPTIONS": {"init_command": SQLITE_INIT, "transaction_mode": "IMMEDIATE", "timeout": 5},
        }
    return django_postgres_settings(url, "django.db.backends.postgresql", pool_max_size)


if not settings.configured:
    settings.configure(
        DEBUG=False,  # DEBUG=True would keep every query in memory
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],  # the orm app has none either
        INSTALLED_APPS=[],
        DATABASES={
            "default": database_settings(
                os.environ.get("BENCH_HTTP_DATABASE_URL", "sqlite:///django_example.sqlite3"),
                int(os.environ.get("BENCH_HTTP_DJANGO_POOL") or 0),
            )
        },
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        SECRET_KEY="benchmark-only",
    )
    django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from migrations_example.views import BAD_INPUT, BookViews, json_default  # noqa: E402


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "migrations_example"
        ordering = ["name"]


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        app_label = "migrations_example"
        ordering = ["name"]


class Book(models.Model):
    title = models.CharField(max_length=200, db_index=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books", blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    class Meta:
        app_label = "migrations_example"


# -- the views: the orm example's own code (migrations_example/views.py) -----------------


def _respond(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, default=json_default).encode()
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Content-Length"] = str(len(body))  # as the orm app sends it (no chunking)
    return response


def _read_json(request: HttpRequest) -> Any:
    return json.loads(request.body or b"{}")


views = BookViews(Author, Book, transaction.atomic)


async def books_view(request: HttpRequest) -> HttpResponse:
    try:
        if request.method == "GET":
            return _respond(200, await views.list_books())
        if request.method == "POST":
            return _respond(201, await views.create_book(_read_json(request)))
    except BAD_INPUT as error:
        return _respond(400, {"error": str(error)})
    return _respond(404, {"error": "not found"})


async def price_view(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return _respond(404, {"error": "not found"})
    try:
        return _respond(200, await views.set_price(pk, _read_json(request)))
    except Book.DoesNotExist:
        return _respond(404, {"error": "no such book"})
    except BAD_INPUT as error:
        return _respond(400, {"error": str(error)})


async def move_view(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return _respond(404, {"error": "not found"})
    try:
        data = _read_json(request)
        return _respond(200, await sync_to_async(views.move_book)(pk, data["author"]))
    except Book.DoesNotExist:
        return _respond(404, {"error": "no such book"})
    except BAD_INPUT as error:
        return _respond(400, {"error": str(error)})


urlpatterns = [
    path("books", books_view),
    path("books/<int:pk>/price", price_view),
    path("books/<int:pk>/move", move_view),
]


# -- ASGI --------------------------------------------------------------------------------

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

django_asgi = get_asgi_application()


def _create_tables() -> None:
    try:
        existing = set(connection.introspection.table_names())
        with connection.schema_editor() as editor:
            for model in (Author, Tag, Book):
                if model._meta.db_table not in existing:
                    editor.create_model(model)
    finally:
        connection.close()


async def application(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    """Django's ASGI handler, plus the lifespan startup that creates the tables."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await sync_to_async(_create_tables)()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await sync_to_async(_close_all)()
                await send({"type": "lifespan.shutdown.complete"})
                return
    await django_asgi(scope, receive, send)


def _close_all() -> None:
    from django.db import connections

    connections.close_all()
    if hasattr(connection, "close_pool"):  # Django >= 5.1 with OPTIONS["pool"]
        for conn in connections.all():
            if getattr(conn, "pool", None) is not None:
                conn.close_pool()
