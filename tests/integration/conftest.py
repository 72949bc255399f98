"""Fixtures of the integration tests: ``db`` gives a configured database with every table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def db(backend: str) -> Iterator[str]:
    """The ``backend`` database with the tables of every model in ``tests.models``.

    Yields the vendor (``"sqlite"`` or ``"postgresql"``).
    """
    import orm
    from tests.models import ALL_MODELS

    orm.create_tables(*ALL_MODELS)
    yield backend


class Library:
    """Handles on the objects of the ``library`` fixture."""

    def __init__(self) -> None:
        import datetime
        from decimal import Decimal

        from tests.models import Author, Book, Tag

        self.alice = Author.objects.create(name="Alice", email="alice@example.com")
        self.bob = Author.objects.create(name="Bob", email="bob@example.com")
        self.carol = Author.objects.create(name="Carol", email="carol@example.com")  # no books
        self.python = Tag.objects.create(name="python")
        self.django = Tag.objects.create(name="django")
        self.sql = Tag.objects.create(name="sql")
        self.basics = Book.objects.create(
            title="Python Basics",
            author=self.alice,
            price=Decimal("19.99"),
            pages=200,
            published=datetime.date(2020, 1, 15),
            data={"level": "beginner", "rating": 4, "langs": ["en", "de"], "meta": {"isbn": "111"}},
        )
        self.advanced = Book.objects.create(
            title="Advanced Python",
            author=self.alice,
            price=Decimal("49.50"),
            pages=450,
            published=datetime.date(2021, 6, 30),
            data={"level": "advanced", "rating": 5, "langs": ["en"], "meta": {"isbn": "222"}},
        )
        self.unchained = Book.objects.create(
            title="Django Unchained",
            author=self.bob,
            price=Decimal("35.00"),
            pages=300,
            published=datetime.date(2022, 11, 5),
            data={"level": "intermediate", "rating": 3},
        )
        self.sql101 = Book.objects.create(title="SQL 101", author=self.bob, price=Decimal("9.99"))
        self.basics.tags.add(self.python)
        self.advanced.tags.add(self.python, self.sql)
        self.unchained.tags.add(self.python, self.django)
        self.sql101.tags.add(self.sql)


@pytest.fixture
def library(db: str) -> Library:
    """Three authors (Carol has no book), three tags and four books (see ``Library``)."""
    return Library()
