"""F arithmetic beyond + - * /: power, the bitwise methods and ``~`` on booleans (issue 17 item 5).

The same rows on SQLite and PostgreSQL; the SQL is pinned in tests/sql/test_operators_sql.py.
"""

from __future__ import annotations

import pytest

from orm import F, Value
from tests.integration.conftest import Library
from tests.models import AllFields, Book


def test_bitwise_methods_give_the_same_numbers_on_both_backends(library: Library) -> None:
    row = (
        Book.objects.filter(pk=library.basics.pk)
        .annotate(  # pages = 200 = 0b11001000
            a=F("pages").bitand(72),
            o=F("pages").bitor(7),
            x=F("pages").bitxor(Value(12)),
            left=F("pages").bitleftshift(2),
            right=F("pages").bitrightshift(3),
            mod=F("pages") % 7,
        )
        .values("a", "o", "x", "left", "right", "mod")
        .get()
    )
    assert row == {"a": 72, "o": 207, "x": 196, "left": 800, "right": 25, "mod": 4}


def test_power_is_a_float(library: Library) -> None:
    row = (
        Book.objects.filter(pk=library.basics.pk)
        .annotate(
            sq=F("pages") ** 2,
            two=2 ** Value(10),
        )
        .values_list("sq", "two")
        .get()
    )
    assert row == (40000.0, 1024.0)
    assert all(isinstance(v, float) for v in row)


def test_invert_a_boolean_column(db: str) -> None:
    AllFields.objects.create(bool_value=True)
    AllFields.objects.create(bool_value=False)
    flipped = (
        AllFields.objects.annotate(flip=~F("bool_value"))
        .order_by("pk")
        .values_list("bool_value", "flip")
    )
    assert list(flipped) == [(True, False), (False, True)]
    AllFields.objects.update(bool_value=~F("bool_value"))
    assert list(AllFields.objects.order_by("pk").values_list("bool_value", flat=True)) == [
        False,
        True,
    ]


def test_invert_refuses_a_non_boolean(db: str) -> None:
    with pytest.raises(TypeError, match="Cannot negate non-conditional expressions."):
        list(Book.objects.annotate(x=~F("pages")))


# -- aggregates with default= (issue 17 item 5) ------------------------------------------


def test_aggregate_default_replaces_null(library: Library) -> None:
    from decimal import Decimal

    from orm import Count, Max, Sum

    none = Book.objects.filter(title="no such book")
    assert none.aggregate(s=Sum("pages", default=0), m=Max("price", default=Decimal("0")))["s"] == 0
    assert Book.objects.none().aggregate(s=Sum("pages", default=7)) == {"s": 7}
    assert Book.objects.aggregate(s=Sum("pages", default=0)) == {"s": 950}
    with_default = library.carol.__class__.objects.annotate(
        p=Sum("books__pages", default=0)
    ).order_by("name")
    assert list(with_default.values_list("name", "p")) == [
        ("Alice", 650),
        ("Bob", 300),
        ("Carol", 0),
    ]
    with pytest.raises(TypeError, match="Count does not allow default."):
        Count("pk", default=1)


# -- OuterRef(OuterRef(...)) (issue 17 item 5) ------------------------------------------


def test_nested_outer_ref_reaches_two_queries_out(library: Library) -> None:
    from orm import Exists, OuterRef
    from tests.models import Author, Tag

    def authors_with_a_tagged_book(min_pages: int) -> list[str]:
        # Innermost: a book carrying the tag (one level out) by the author (two levels out).
        book = Book.objects.filter(
            tags=OuterRef("pk"), author=OuterRef(OuterRef("pk")), pages__gte=min_pages
        )
        tag = Tag.objects.filter(Exists(book))
        return list(
            Author.objects.filter(Exists(tag)).order_by("name").values_list("name", flat=True)
        )

    assert authors_with_a_tagged_book(400) == ["Alice"]
    assert authors_with_a_tagged_book(300) == ["Alice", "Bob"]
    assert authors_with_a_tagged_book(1000) == []
