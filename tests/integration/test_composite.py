"""Composite queries give the same rows on both backends (issue 17 item 8): aggregates over
subqueries, GROUP BY on expressions and subqueries, Exists in SELECT and ORDER BY, union()
with values/order_by/slices, DISTINCT ON (PostgreSQL), NULLS FIRST/LAST and Meta.ordering
made of expressions. SQL text: tests/sql/test_composite_sql.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import orm
from orm import Count, Exists, F, Max, OrderBy, OuterRef, Subquery, Sum
from orm.exceptions import DatabaseError, NotSupportedError, ProgrammingError
from orm.functions import ExtractYear, Lower
from tests.integration.conftest import Library
from tests.models import Author, Book


class Ranked(orm.Model):
    name = orm.CharField(max_length=20)
    rank = orm.IntegerField(null=True)

    class Meta:
        app_label = "i17_composite"
        ordering = [Lower("name").desc(), F("rank").asc(nulls_last=True)]


@pytest.fixture
def ranked(backend: str) -> Iterator[str]:
    orm.create_tables(Ranked)
    Ranked.objects.bulk_create(
        [
            Ranked(name="b", rank=None),
            Ranked(name="B", rank=2),
            Ranked(name="a", rank=1),
            Ranked(name="c", rank=None),
        ]
    )
    yield backend


def books_per_author() -> Subquery:
    return Subquery(
        Book.objects.filter(author=OuterRef("pk"))
        .order_by()
        .values("author")
        .annotate(c=Count("pk"))
        .values("c")
    )


def test_aggregates_over_a_subquery(library: Library) -> None:
    assert Author.objects.aggregate(total=Sum(books_per_author())) == {"total": 4}
    assert Author.objects.annotate(n=books_per_author()).aggregate(
        total=Sum("n"), most=Max("n")
    ) == {"total": 4, "most": 2}


def test_group_by_expressions_and_subqueries(library: Library) -> None:
    by_author = (
        Book.objects.annotate(a=Lower("author__name"))
        .values("a")
        .annotate(c=Count("pk"))
        .order_by("a")
    )
    assert list(by_author) == [{"a": "alice", "c": 2}, {"a": "bob", "c": 2}]
    years = (
        Book.objects.filter(published__isnull=False)
        .values(y=ExtractYear("published"))
        .annotate(c=Count("pk"))
        .order_by("y")
    )
    assert [row["y"] for row in years] == [2020, 2021, 2022]
    name = Subquery(Author.objects.filter(pk=OuterRef("author")).values("name"))
    assert list(
        Book.objects.annotate(n=name).values("n").annotate(c=Count("pk")).order_by("n")
    ) == [{"n": "Alice", "c": 2}, {"n": "Bob", "c": 2}]


def test_exists_in_annotations_grouping_and_ordering(library: Library) -> None:
    has_books = Exists(Book.objects.filter(author=OuterRef("pk")))
    assert list(Author.objects.order_by(has_books, "name").values_list("name", flat=True)) == [
        "Carol",
        "Alice",
        "Bob",
    ]
    assert list(
        Author.objects.order_by(has_books.desc(), "-name").values_list("name", flat=True)
    ) == ["Bob", "Alice", "Carol"]
    grouped = Author.objects.annotate(e=has_books).values("e").annotate(c=Count("pk")).order_by("e")
    assert list(grouped) == [{"e": False, "c": 1}, {"e": True, "c": 2}]


def test_union_with_values_order_by_and_slices(library: Library) -> None:
    big = Book.objects.filter(pages__gt=250).values_list("title", flat=True)
    small = Book.objects.filter(pages__lt=250).values_list("title", flat=True)
    assert list(big.union(small).order_by("-title")[1:3]) == ["Django Unchained", "Advanced Python"]
    assert list(big.order_by("title")[:1].union(small.order_by("title")[:1]).order_by("title")) == [
        "Advanced Python",
        "Python Basics",
    ]
    rows = Book.objects.values("title", "pages")
    assert list(rows.filter(pages__gt=250).union(rows.filter(pages__lt=250)).order_by("pages")) == [
        {"title": "Python Basics", "pages": 200},
        {"title": "Django Unchained", "pages": 300},
        {"title": "Advanced Python", "pages": 450},
    ]
    assert big.union(big).count() == 2 and big.union(big, all=True).count() == 4
    with pytest.raises(
        DatabaseError, match="ORDER BY term does not match any column in the result set."
    ):
        list(big.union(small).order_by("pages"))


def test_distinct_on_fields_and_its_ordering_rule(library: Library, db: str) -> None:
    longest = F("pages").desc(nulls_last=True)
    qs = (
        Book.objects.order_by("author_id", longest)
        .distinct("author_id")
        .values_list("title", flat=True)
    )
    if db != "postgresql":
        with pytest.raises(NotSupportedError, match="DISTINCT ON fields is not supported"):
            list(qs)
        return
    assert list(qs) == ["Advanced Python", "Django Unchained"]
    # As in Django, the rule that ORDER BY starts with the DISTINCT ON fields is the database's.
    with pytest.raises(
        ProgrammingError, match="SELECT DISTINCT ON expressions must match initial ORDER BY"
    ):
        list(Book.objects.order_by("title").distinct("author_id"))


def test_nulls_first_and_last_and_their_reverse(library: Library) -> None:
    pages = Book.objects.values_list("pages", flat=True)
    assert list(pages.order_by(F("pages").desc(nulls_last=True))) == [450, 300, 200, None]
    assert list(pages.order_by(F("pages").asc(nulls_first=True))) == [None, 200, 300, 450]
    assert list(pages.order_by(OrderBy(F("pages"), nulls_last=True)).reverse()) == [
        None,
        450,
        300,
        200,
    ]


def test_meta_ordering_with_expressions(ranked: str) -> None:
    assert list(Ranked.objects.values_list("name", "rank")) == [
        ("c", None),
        ("B", 2),
        ("b", None),
        ("a", 1),
    ]
    assert list(Ranked.objects.reverse().values_list("name", flat=True))[0] == "a"
    assert Ranked.objects.first().name == "c"  # type: ignore[union-attr]
    assert Ranked.objects.last().name == "a"  # type: ignore[union-attr]
