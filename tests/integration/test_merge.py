"""``qs1 | qs2``, ``qs1 & qs2`` and ``qs1 ^ qs2`` on real databases: rows and the alias they run on.

The SQL of each shape is checked without a database in ``tests/sql/test_merge_sql.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import orm
from orm import Count
from tests.conftest import QueryCounter, postgres_url, with_application_name
from tests.integration.conftest import Library
from tests.models import ALL_MODELS, Author, Book

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the querysets run on aliases the test configures.
pytestmark = pytest.mark.transactional


def titles(qs: Any) -> list[str]:
    return sorted(book.title for book in qs)


@pytest.fixture
def two_aliases(backend: str, tmp_path: Path) -> Iterator[str]:
    """``default`` and ``other`` configured, each with the tables; ``other`` holds one author.

    SQLite: two files, so the rows differ. PostgreSQL: two aliases of one
    database (the only one a test may use), told apart by the statements each runs.
    """
    if backend == "sqlite":
        urls = {
            "default": f"sqlite:///{tmp_path / 'default.sqlite3'}",
            "other": f"sqlite:///{tmp_path / 'other.sqlite3'}",
        }
    else:
        url = with_application_name(postgres_url() or "")
        urls = {"default": url, "other": url}
    orm.configure(databases=urls)
    orm.create_tables(*ALL_MODELS)
    if backend == "sqlite":
        orm.create_tables(*ALL_MODELS, using="other")
    Author.objects.using("other").create(name="Olga", email="olga@example.com")
    yield backend


def test_merged_querysets_run_on_their_own_alias(two_aliases: str) -> None:
    # Regression: `|` used to rebuild the QuerySet from the model's base
    # manager, so the merged query ran on "default" whatever using() said.
    left = Author.objects.using("other").filter(name="Olga")
    right = Author.objects.using("other").filter(name="Nobody")
    with QueryCounter(["default"]) as on_default, QueryCounter(["other"]) as on_other:
        for merged in (left | right, left ^ right, left & Author.objects.using("other").all()):
            assert merged.db == "other"
            assert [a.name for a in merged] == ["Olga"]
    assert len(on_default) == 0
    assert len(on_other) == 3


def test_an_aggregating_side_keeps_the_alias_too(two_aliases: str) -> None:
    counted = Author.objects.annotate(n=Count("books")).filter(n__gte=0)
    merged = Author.objects.using("other").filter(name="Nobody") | counted.using("other")
    with QueryCounter(["default"]) as on_default:
        assert [a.name for a in merged] == ["Olga"]
    assert len(on_default) == 0


def test_or_and_xor_of_filters(library: Library) -> None:
    alice_books = Book.objects.filter(author=library.alice)
    thick = Book.objects.filter(pages__gte=300)
    assert titles(alice_books | thick) == ["Advanced Python", "Django Unchained", "Python Basics"]
    assert titles(alice_books & thick) == ["Advanced Python"]
    assert titles(alice_books ^ thick) == ["Django Unchained", "Python Basics"]


def test_or_across_a_join_keeps_the_rows_the_other_side_matches(library: Library) -> None:
    # The author join is needed by one side only: it must not drop the other side's rows.
    qs = Book.objects.filter(author__name="Bob") | Book.objects.filter(title="Python Basics")
    assert titles(qs) == ["Django Unchained", "Python Basics", "SQL 101"]
    tagged = Book.objects.filter(tags__name="django") | Book.objects.filter(pages__isnull=True)
    assert titles(tagged) == ["Django Unchained", "SQL 101"]


def test_and_over_a_multivalued_relation_may_match_two_related_rows(library: Library) -> None:
    both = Author.objects.filter(books__pages=200) & Author.objects.filter(books__pages=450)
    assert [a.name for a in both] == ["Alice"]
    assert list(Author.objects.filter(books__pages=200, books__title="Advanced Python")) == []


def test_empty_querysets_follow_django(library: Library) -> None:
    some = Book.objects.filter(author=library.bob)
    assert titles(some | Book.objects.none()) == ["Django Unchained", "SQL 101"]
    assert titles(Book.objects.none() | some) == ["Django Unchained", "SQL 101"]
    assert list(some & Book.objects.none()) == []


def test_a_merged_queryset_keeps_ordering_select_related_and_values(
    library: Library, count_queries: Any
) -> None:
    qs = Book.objects.select_related("author").order_by("-pages").filter(
        pages__gte=300
    ) | Book.objects.filter(title="Python Basics")
    with count_queries() as ctx:
        rows = [(b.title, b.author.name) for b in qs]
    assert rows == [
        ("Advanced Python", "Alice"),
        ("Django Unchained", "Bob"),
        ("Python Basics", "Alice"),
    ]
    assert len(ctx) == 1
    values = Book.objects.values("title").filter(pages=200) | Book.objects.values("title").filter(
        pages=300
    )
    assert sorted(row["title"] for row in values) == ["Django Unchained", "Python Basics"]
    with pytest.raises(TypeError, match="must involve the same values"):
        Book.objects.values("title") | Book.objects.values("pages")
