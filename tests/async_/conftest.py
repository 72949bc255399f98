"""Fixtures of the async-skin tests.

``tables`` creates the shared book-shop tables on the fresh database of the
shared ``backend`` fixture, then closes the main thread's connection: the
main thread is the thread that runs the event loop in ``async def`` tests, so
a test can assert that a guarded call opened no connection there.

``seed`` adds a small library; ``pair`` adds two authors with identical books,
one for the sync method and one for its twin, so that a write made through
each can be compared.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import orm
from tests.async_.models import ALL_MODELS, Author, Book, Tag

SIDES = ("sync", "async")


def call(side: str, receiver: Any, method: str, /, *args: Any, **kwargs: Any) -> Awaitable[Any]:
    """Run ``receiver.<method>`` (sync, through ``orm.sync_to_async``) or ``receiver.a<method>``."""
    if side == "sync":
        sync: Callable[..., Any] = getattr(receiver, method)
        return orm.sync_to_async(sync)(*args, **kwargs)
    twin: Callable[..., Awaitable[Any]] = getattr(receiver, "a" + method)
    return twin(*args, **kwargs)


def close_this_threads_connections() -> None:
    """Close the calling thread's connections (the next use reopens them)."""
    for alias in orm.connections:
        orm.connections[alias].close()


@pytest.fixture
def tables(backend: str) -> Iterator[str]:
    """The shared book-shop tables on a fresh database; yields the vendor."""
    orm.create_tables(*ALL_MODELS)
    close_this_threads_connections()
    yield backend


@dataclass
class Library:
    ann: Author
    bob: Author
    cy: Author
    alpha: Book
    beta: Book
    gamma: Book
    py: Tag
    db: Tag
    unused: Tag
    books: list[Book] = field(default_factory=list)


@pytest.fixture
def seed(tables: str) -> Library:
    """Three authors, three books (all with a ``published`` date), three tags."""
    with orm.transaction.atomic():
        ann = Author.objects.create(name="ann", age=30)
        bob = Author.objects.create(name="bob", age=40)
        cy = Author.objects.create(name="cy", age=None)
        alpha = Book.objects.create(
            title="Alpha", author=ann, pages=100, published=datetime.date(2020, 1, 1)
        )
        beta = Book.objects.create(
            title="Beta", author=ann, pages=200, published=datetime.date(2021, 6, 1)
        )
        gamma = Book.objects.create(
            title="Gamma", author=bob, pages=300, published=datetime.date(2019, 3, 3)
        )
        py = Tag.objects.create(name="py")
        db = Tag.objects.create(name="db")
        unused = Tag.objects.create(name="unused")
        alpha.tags.add(py, db)
        beta.tags.add(py)
    close_this_threads_connections()
    return Library(ann, bob, cy, alpha, beta, gamma, py, db, unused, [alpha, beta, gamma])


@pytest.fixture
def pair(tables: str) -> dict[str, Author]:
    """Per side, an author with books ``B1``/``B2``/``B3`` of 100/200/300 pages."""
    authors = {}
    with orm.transaction.atomic():
        for side in SIDES:
            author = Author.objects.create(name=f"author-{side}", age=50)
            for i in (1, 2, 3):
                Book.objects.create(
                    title=f"B{i}",
                    author=author,
                    pages=100 * i,
                    published=datetime.date(2000 + i, 1, 1),
                )
            authors[side] = author
    close_this_threads_connections()
    return authors


def row(obj: Any) -> dict[str, Any]:
    """An instance's concrete field values by attname."""
    return {f.attname: obj.__dict__.get(f.attname) for f in type(obj)._meta.concrete_fields}


def shape(value: Any, *, drop: tuple[str, ...] = ()) -> Any:
    """A comparable form of a result: instances become (class, field values)."""
    if isinstance(value, orm.Model):
        data = row(value)
        for name in drop:
            data.pop(name, None)
        return (type(value).__name__, tuple(sorted(data.items())))
    if isinstance(value, dict):
        return {k: shape(v, drop=drop) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(shape(v, drop=drop) for v in value)
    return value
