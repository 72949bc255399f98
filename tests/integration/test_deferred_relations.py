"""``only()``/``defer()`` across relations on real databases (issue 17 item 7)."""

from __future__ import annotations

import orm
from tests.integration.conftest import Library
from tests.models import Book


def test_only_across_a_relation_loads_the_rest_lazily(library: Library) -> None:
    qs = Book.objects.select_related("author").only("title", "author__name").order_by("title")
    with orm.capture_queries() as queries:
        rows = [(b.title, b.author.name) for b in qs]
    assert len(queries) == 1
    assert rows[:2] == [("Advanced Python", "Alice"), ("Django Unchained", "Bob")]
    book = qs[0]
    assert book.get_deferred_fields() == {"price", "pages", "published", "data"}
    assert book.author.get_deferred_fields() == {"email", "created"}
    with orm.capture_queries() as queries:
        assert book.author.email == "alice@example.com"  # loaded on first access
    assert len(queries) == 1


def test_defer_across_a_relation(library: Library) -> None:
    (book,) = (
        Book.objects.select_related("author")
        .defer("author__email", "pages")
        .filter(title="SQL 101")
    )
    assert book.get_deferred_fields() == {"pages"}
    assert book.author.get_deferred_fields() == {"email"}
    assert (book.author.name, book.author.email, book.pages) == ("Bob", "bob@example.com", None)


async def test_async_iteration(library: Library) -> None:
    qs = Book.objects.select_related("author").only("title", "author__name").order_by("title")
    assert [(b.title, b.author.name) async for b in qs][-1] == ("SQL 101", "Bob")
