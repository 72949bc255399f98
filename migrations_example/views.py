"""The example app's views, written once against the Django-style API, and its JSON over ASGI.

``app.py`` binds them to `orm`'s models; ``benchmarks/django_app.py`` binds the
very same code to Django's models, so the HTTP benchmark compares the ORMs and
nothing else. That one body of code serves both is the point of the API.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

#: Errors from malformed request data: answered with 400.
BAD_INPUT = (KeyError, ValueError, TypeError, decimal.InvalidOperation)


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)``: Decimals as strings."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def author_email(name: str) -> str:
    """The unique e-mail an author created from a request gets."""
    return f"{name.lower().replace(' ', '.')}@example.com"


Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def respond(send: Send, status: int, payload: Any) -> None:
    """Send ``payload`` as a JSON response (Decimals as strings) with ``status``."""
    body = json.dumps(payload, default=json_default).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_json(receive: Receive) -> Any:
    """The request body, read to its end and parsed as JSON (``{}`` when empty)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return json.loads(body or b"{}")


async def route_books(
    method: str,
    parts: list[str],
    receive: Receive,
    send: Send,
    views: Any,
    move_book: Callable[[int, str], Awaitable[Any]],
) -> bool:
    """Answer the book routes with ``views``' async ``list_books``/``create_book``/``set_price``
    and ``move_book``; False (nothing sent) when the path is none of them.

    The example app and the benchmark's peer apps route the same way through this.
    """
    if parts == ["books"] and method == "GET":
        await respond(send, 200, await views.list_books())
    elif parts == ["books"] and method == "POST":
        await respond(send, 201, await views.create_book(await read_json(receive)))
    elif len(parts) == 3 and parts[0] == "books" and parts[2] == "price" and method == "POST":
        await respond(send, 200, await views.set_price(int(parts[1]), await read_json(receive)))
    elif len(parts) == 3 and parts[0] == "books" and parts[2] == "move" and method == "POST":
        data = await read_json(receive)
        await respond(send, 200, await move_book(int(parts[1]), data["author"]))
    else:
        return False
    return True


class BookViews:
    """The four views over ``Author``/``Book`` models and an ``atomic`` factory."""

    def __init__(self, author: Any, book: Any, atomic: Callable[[], Any]) -> None:
        self.Author = author
        self.Book = book
        self.atomic = atomic

    async def list_books(self) -> list[dict[str, Any]]:
        """Every book with its author's name; select_related keeps it to one query."""
        return [
            {"id": book.pk, "title": book.title, "author": book.author.name, "price": book.price}
            async for book in self.Book.objects.select_related("author").order_by("id")
        ]

    async def create_book(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a book, creating its author on first use."""
        author, _ = await self.Author.objects.aget_or_create(
            email=author_email(data["author"]),
            defaults={"name": data["author"]},
        )
        book = await self.Book.objects.acreate(
            title=data["title"],
            author=author,
            price=decimal.Decimal(str(data.get("price", "0"))),
        )
        return {"id": book.pk, "title": book.title}

    async def set_price(self, pk: int, data: dict[str, Any]) -> dict[str, Any]:
        """Load, change and save one book."""
        book = await self.Book.objects.aget(pk=pk)
        book.price = decimal.Decimal(str(data["price"]))
        await book.asave(update_fields=["price"])
        return {"id": book.pk, "price": book.price}

    def move_book(self, pk: int, author_name: str) -> dict[str, Any]:
        """A transaction is a sync block: lock the row, change it, commit as a whole."""
        with self.atomic():
            book = self.Book.objects.select_for_update().get(pk=pk)
            author, _ = self.Author.objects.get_or_create(
                email=author_email(author_name),
                defaults={"name": author_name},
            )
            book.author = author
            book.save(update_fields=["author"])
            return {"id": book.pk, "author": author.name}
