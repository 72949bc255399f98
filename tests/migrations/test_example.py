"""The example project (migrations_example/): its ASGI app migrates the database in its lifespan."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import orm

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional


async def lifespan() -> list[str]:
    """Run the example app's lifespan (startup, then shutdown); return the message types it sent."""
    from migrations_example.app import app

    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent


def applied() -> list[tuple[str, str]]:
    with orm.connections["default"].cursor() as cursor:
        cursor.execute("SELECT app, name FROM orm_migrations ORDER BY id")
        return [(app, name) for app, name in cursor.fetchall()]


@pytest.mark.parametrize("tables_first", [False, True], ids=["fresh", "adopted"])
def test_lifespan_applies_the_example_migrations(
    backend: str, monkeypatch: pytest.MonkeyPatch, tables_first: bool,
) -> None:
    monkeypatch.setenv("ORM_DATABASE_URL", orm.connections.settings["default"].url)
    from migrations_example.models import Author, Book, Tag

    if tables_first:  # tables made without migrations, as the benchmarks do: fake_initial adopts them
        orm.create_tables(Author, Tag, Book)
        Author.objects.create(name="Ada", email="ada@example.org")
        orm.connections.close_all()
    assert asyncio.run(lifespan()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert [name for _, name in applied()] == [
        "0001_initial", "0001_initial", "0002_review_summary", "0003_rename_body_text",
        "0004_review_reviews_book_rating_idx_and_more",
    ]
    from migrations_example.reviews.models import Review

    author = Author.objects.get_or_create(name="Ada", defaults={"email": "ada@example.org"})[0]
    book = Book.objects.create(title="Notes", author=author)
    Review.objects.create(book=book, rating=5, text="Good", summary="Good")
    with pytest.raises(orm.IntegrityError), orm.transaction.atomic():
        Review.objects.create(book=book, rating=0, text="CHECK of migration 0004")
    assert Author.objects.count() == 1
    # A second start finds nothing to apply.
    assert asyncio.run(lifespan()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert len(applied()) == 5
    orm.connections.close_all()
