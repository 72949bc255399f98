"""Type-checked by ``test_typing.py`` with ``mypy --strict``; never imported or collected.

Each ``reveal_type`` carries the expected type in a trailing ``# expect:``
comment; the test matches mypy's notes against them line by line.
"""

from __future__ import annotations

from typing import reveal_type

from tests.async_.models import Book


async def sample() -> None:
    book = await Book.objects.aget(pk=1)
    reveal_type(book)  # expect: Book
    async for b in Book.objects.all():
        reveal_type(b)  # expect: Book
    qs = Book.objects.filter(title="x")
    first = await qs.afirst()
    reveal_type(first)  # expect: Book | None
    reveal_type(await qs.alast())  # expect: Book | None
    reveal_type(await Book.objects.acreate(title="x"))  # expect: Book
    reveal_type(await qs.aget_or_create(title="x"))  # expect: tuple[Book, bool]
    reveal_type(await qs.acount())  # expect: int
    reveal_type(await qs.aexists())  # expect: bool
    reveal_type(await qs.ain_bulk([1]))  # expect: dict[Any, Book]
    async for chunked in qs.aiterator(chunk_size=100):
        reveal_type(chunked)  # expect: Book
    async for streamed in Book.objects.aiterator():
        reveal_type(streamed)  # expect: Book
    reveal_type(await book.asave())  # expect: None
