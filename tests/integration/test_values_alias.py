"""``values()``/``values_list()`` with expressions and transforms, and ``alias()`` wherever ``annotate()``
works, on both backends (issue 17 item 7: these already worked; the tests pin them)."""

from __future__ import annotations

from orm import Count, F, Lower, Sum, Upper
from tests.integration.conftest import Library
from tests.models import Author, Book


def test_values_with_expressions_and_transforms(library: Library) -> None:
    assert list(Author.objects.order_by("name").values(lower=Lower("name"))) == [
        {"lower": "alice"},
        {"lower": "bob"},
        {"lower": "carol"},
    ]
    rows = (
        Book.objects.filter(published__isnull=False)
        .order_by("published")
        .values_list("published__year", "published__month", Upper("author__name"), named=True)
    )
    assert [tuple(r) for r in rows] == [(2020, 1, "ALICE"), (2021, 6, "ALICE"), (2022, 11, "BOB")]
    assert rows[0]._fields == ("published__year", "published__month", "upper1")
    twice = Author.objects.filter(name="Bob").values_list("name", Lower("name"), "name", named=True)
    assert twice[0]._asdict() == {"name": "Bob", "lower1": "bob", "name1": "Bob"}
    assert list(Book.objects.order_by("title").values("title", "data__level")[:2]) == [
        {"title": "Advanced Python", "data__level": "advanced"},
        {"title": "Django Unchained", "data__level": "intermediate"},
    ]


def test_alias_in_filter_order_by_update_and_aggregate(library: Library) -> None:
    doubled = Book.objects.alias(double=F("pages") * 2)
    assert list(
        doubled.filter(double__gt=500).order_by("-double").values_list("title", flat=True)
    ) == ["Advanced Python", "Django Unchained"]
    assert doubled.aggregate(total=Sum("double")) == {"total": 1900}
    assert Author.objects.alias(n=Count("books")).filter(n=0).update(name="Nobody") == 1
    assert list(
        Author.objects.alias(n=Count("books")).filter(n=0).values_list("name", flat=True)
    ) == ["Nobody"]
    assert "double" not in Book.objects.alias(double=F("pages") * 2).values()[0]
