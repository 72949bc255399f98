"""The example app's routes on ``django-async-backend`` (Django 6.1, true async psycopg, PostgreSQL).

For the HTTP load benchmark (``python -m benchmarks.http_load``, variant
``django_async_backend``). It needs the peer virtualenv
``benchmarks/.venv-django61`` (Django 6.1, the package and uvicorn; built by
``benchmarks/peers.py``), whose Python runs uvicorn on this module. The same
tables, routes and JSON as ``migrations_example/app.py``, written the way the
package's README asks: models with ``AsyncModelMixin``, queries through
``async_objects``, ``async_save``, ``async_atomic``, and each request inside
``async_new_connection()`` (a connection belongs to the task that first used
it; a request is a task of its own), from the package's psycopg
``AsyncConnectionPool`` (``max_size`` from ``BENCH_HTTP_DJANGO_POOL``).

The database comes from ``BENCH_HTTP_DATABASE_URL``
(``postgresql://user@host:port/db?options=-c search_path=...&application_name=...``).
Tables are created at startup by Django's sync schema editor, as the
benchmark's ``impl_django_async`` does.
"""

from __future__ import annotations

import decimal
import os
from collections.abc import MutableMapping
from types import SimpleNamespace
from typing import Any

import django
from django.conf import settings

from benchmarks.databases import django_postgres_settings

ENGINE = "django_async_backend.db.backends.postgresql"


def database_settings(url: str, pool_max_size: int) -> dict[str, Any]:
    """``DATABASES["default"]`` for a benchmark PostgreSQL URL, with the package's pool."""
    return django_postgres_settings(url, ENGINE, max(1, pool_max_size))


if not settings.configured:
    settings.configure(
        DEBUG=False,
        INSTALLED_APPS=["django_async_backend"],
        DATABASES={
            "default": database_settings(
                os.environ.get(
                    "BENCH_HTTP_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
                ),
                int(os.environ.get("BENCH_HTTP_DJANGO_POOL") or 10),
            )
        },
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        SECRET_KEY="benchmark-only",
        # The sync connection only creates the tables, at startup.
        ASYNC_BACKEND_DISABLE_POOL_WARNING=True,
    )
    django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from django.db import connection, models  # noqa: E402
from django_async_backend.db import async_connections, async_new_connection  # noqa: E402
from django_async_backend.db.models.base import AsyncModelMixin  # noqa: E402
from django_async_backend.db.transaction import async_atomic  # noqa: E402

from migrations_example.views import (  # noqa: E402
    BAD_INPUT,
    Receive,
    Send,
    author_email,
    respond,
    route_books,
)


class Author(AsyncModelMixin, models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "migrations_example"
        ordering = ["name"]


class Tag(AsyncModelMixin, models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        app_label = "migrations_example"


class Book(AsyncModelMixin, models.Model):
    title = models.CharField(max_length=200, db_index=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books", blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    class Meta:
        app_label = "migrations_example"


async def list_books() -> list[dict[str, Any]]:
    return [
        {"id": b.pk, "title": b.title, "author": b.author.name, "price": b.price}
        async for b in Book.async_objects.select_related("author").order_by("id")
    ]


async def create_book(data: dict[str, Any]) -> dict[str, Any]:
    author, _ = await Author.async_objects.aget_or_create(
        email=author_email(data["author"]), defaults={"name": data["author"]}
    )
    book = await Book.async_objects.acreate(
        title=data["title"], author=author, price=decimal.Decimal(str(data.get("price", "0")))
    )
    return {"id": book.pk, "title": book.title}


async def set_price(pk: int, data: dict[str, Any]) -> dict[str, Any]:
    book = await Book.async_objects.aget(pk=pk)
    book.price = decimal.Decimal(str(data["price"]))
    await book.async_save(update_fields=["price"])
    return {"id": book.pk, "price": book.price}


async def move_book(pk: int, author_name: str) -> dict[str, Any]:
    async with async_atomic():
        book = await Book.async_objects.select_for_update().aget(pk=pk)
        author, _ = await Author.async_objects.aget_or_create(
            email=author_email(author_name), defaults={"name": author_name}
        )
        book.author = author
        await book.async_save(update_fields=["author"])
        return {"id": book.pk, "author": author.name}


def _create_tables() -> None:
    try:
        existing = set(connection.introspection.table_names())
        with connection.schema_editor() as editor:
            for model in (Author, Tag, Book):
                if model._meta.db_table not in existing:
                    editor.create_model(model)
    finally:
        connection.close()
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await sync_to_async(_create_tables)()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            conn = async_connections["default"]
            await conn.close()
            await conn.close_pool()
            await send({"type": "lifespan.shutdown.complete"})
            return


# What route_books() calls for the book routes (this module's views).
_VIEWS = SimpleNamespace(list_books=list_books, create_book=create_book, set_price=set_price)


async def _route(method: str, parts: list[str], receive: Receive, send: Send) -> None:
    if not await route_books(method, parts, receive, send, _VIEWS, move_book):
        await respond(send, 404, {"error": "not found"})


async def application(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    """The ASGI app: each request on a pooled connection of its own."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    parts = [p for p in scope["path"].split("/") if p]
    try:
        async with async_new_connection():
            await _route(scope["method"], parts, receive, send)
    except Book.DoesNotExist:
        await respond(send, 404, {"error": "no such book"})
    except BAD_INPUT as error:
        await respond(send, 400, {"error": str(error)})
