"""The example app's routes (``migrations_example/app.py``) written with Tortoise ORM.

For the HTTP load benchmark (``python -m benchmarks.http_load``): the same
three tables (``migrations_example_author``, ``_book``, ``_tag``), the same
routes and JSON, a bare ASGI app of the same shape as the orm one, served
by ``uvicorn benchmarks.tortoise_app:application --lifespan on``. Tortoise
is natively async: there is no thread hop and no per-request scope; its
connection pool (asyncpg on PostgreSQL, ``maxsize`` from
``BENCH_HTTP_POOL``) or its one aiosqlite connection serves every request.

The database comes from ``BENCH_HTTP_DATABASE_URL``: ``sqlite:////abs/path``
(WAL and ``synchronous=NORMAL``, the pragmas orm and the Django app get) or
``postgresql://user@host:port/db?options=-c search_path=...&application_name=...``.
Tables are created at startup (``generate_schemas(safe=True)``).
"""

from __future__ import annotations

import decimal
import os
from collections.abc import MutableMapping
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tortoise import Tortoise, fields
from tortoise.exceptions import DoesNotExist
from tortoise.models import Model
from tortoise.transactions import in_transaction

from migrations_example.views import (
    BAD_INPUT,
    Receive,
    Send,
    author_email,
    respond,
    route_books,
)


class Author(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, unique=True)
    created = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "migrations_example_author"
        ordering = ["name"]


class Tag(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)

    class Meta:
        table = "migrations_example_tag"


class Book(Model):
    id = fields.BigIntField(primary_key=True)
    title = fields.CharField(max_length=200, db_index=True)
    author: fields.ForeignKeyRelation[Author] = fields.ForeignKeyField(
        "bench_http.Author", related_name="books"
    )
    price = fields.DecimalField(max_digits=8, decimal_places=2, default=0)
    tags: fields.ManyToManyRelation[Tag] = fields.ManyToManyField(
        "bench_http.Tag", related_name="books", through="migrations_example_book_tags"
    )

    class Meta:
        table = "migrations_example_book"


def tortoise_config(url: str, pool: int) -> dict[str, Any]:
    """Tortoise's ``connections``/``apps`` config for one of the benchmark's database URLs."""
    if url.startswith("sqlite:///"):
        conn: dict[str, Any] = {
            "engine": "tortoise.backends.sqlite",
            "credentials": {
                "file_path": unquote(url.removeprefix("sqlite:///").partition("?")[0]),
                "journal_mode": "WAL",
                "synchronous": "NORMAL",
                "foreign_keys": "ON",
            },
        }
    else:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        schema = query.get("options", "").removeprefix("-c search_path=") or None
        creds: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password or ""),
            "database": unquote(parts.path.lstrip("/")),
            "minsize": 1,
            "maxsize": pool,
        }
        if schema:
            creds["schema"] = schema
        if query.get("application_name"):
            creds["application_name"] = query["application_name"]
        conn = {"engine": "tortoise.backends.asyncpg", "credentials": creds}
    return {
        "connections": {"default": conn},
        "apps": {"bench_http": {"models": [__name__], "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def list_books() -> list[dict[str, Any]]:
    return [
        {"id": b.id, "title": b.title, "author": b.author.name, "price": b.price}
        async for b in Book.all().select_related("author").order_by("id")
    ]


async def create_book(data: dict[str, Any]) -> dict[str, Any]:
    author, _ = await Author.get_or_create(
        email=author_email(data["author"]), defaults={"name": data["author"]}
    )
    book = await Book.create(
        title=data["title"], author=author, price=decimal.Decimal(str(data.get("price", "0")))
    )
    return {"id": book.id, "title": book.title}


async def set_price(pk: int, data: dict[str, Any]) -> dict[str, Any]:
    book = await Book.get(id=pk)
    book.price = decimal.Decimal(str(data["price"]))
    await book.save(update_fields=["price"])
    return {"id": book.id, "price": book.price}


async def move_book(pk: int, author_name: str) -> dict[str, Any]:
    async with in_transaction():
        book = await Book.select_for_update().get(id=pk)
        author, _ = await Author.get_or_create(
            email=author_email(author_name), defaults={"name": author_name}
        )
        book.author = author
        await book.save(update_fields=["author_id"])
        return {"id": book.id, "author": author.name}


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            url = os.environ.get("BENCH_HTTP_DATABASE_URL", "sqlite:///tortoise_example.sqlite3")
            # uvicorn runs each request in a task of its own, outside the
            # lifespan task's context: the global fallback lets them all see
            # the connections made here (Tortoise >= 1.0 keeps them per context).
            await Tortoise.init(
                config=tortoise_config(url, int(os.environ.get("BENCH_HTTP_POOL") or 10)),
                _enable_global_fallback=True,
            )
            await Tortoise.generate_schemas(safe=True)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await Tortoise.close_connections()
            await send({"type": "lifespan.shutdown.complete"})
            return


# What route_books() calls for the book routes (this module's views).
_VIEWS = SimpleNamespace(list_books=list_books, create_book=create_book, set_price=set_price)


async def application(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    """The ASGI app: the orm example's routes and answers, on Tortoise."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    method, parts = scope["method"], [p for p in scope["path"].split("/") if p]
    try:
        if not await route_books(method, parts, receive, send, _VIEWS, move_book):
            await respond(send, 404, {"error": "not found"})
    except DoesNotExist:
        await respond(send, 404, {"error": "no such book"})
    except BAD_INPUT as error:
        await respond(send, 400, {"error": str(error)})
