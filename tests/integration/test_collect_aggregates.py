"""StringAgg/ArrayAgg/JSONBAgg, F slicing, conditions as values and user Func/Aggregate
subclasses on both backends (issue 17 item 5). SQL text: tests/sql/test_collect_aggregates_sql.py.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm import ArrayAgg, Exists, F, JSONBAgg, OuterRef, Q, StringAgg, Value
from orm.exceptions import NotSupportedError
from orm.lookups import GreaterThan
from tests.integration.conftest import Library
from tests.models import Author, Book


def per_author(expression: Any) -> dict[str, Any]:
    return dict(Author.objects.annotate(t=expression).values_list("name", "t"))


def test_string_agg_joins_each_group(library: Library) -> None:
    result = per_author(StringAgg("books__title", "; "))
    assert sorted(result["Alice"].split("; ")) == ["Advanced Python", "Python Basics"]
    assert sorted(result["Bob"].split("; ")) == ["Django Unchained", "SQL 101"]
    assert result["Carol"] is None  # no book: NULL, as Django


def test_string_agg_distinct_filter_default(library: Library) -> None:
    result = per_author(
        StringAgg(
            "books__tags__name", ",", distinct=True, filter=Q(books__pages__gt=250), default=""
        )
    )
    assert sorted(result["Alice"].split(",")) == ["python", "sql"]
    assert sorted(result["Bob"].split(",")) == ["django", "python"]
    assert result["Carol"] == ""
    assert Book.objects.filter(pk__in=[]).aggregate(t=StringAgg("title", ",", default="none")) == {
        "t": "none"
    }


def test_string_agg_order_by(library: Library) -> None:
    expression = StringAgg("books__title", "|", order_by="-books__title")
    if not orm.connection.features.supports_aggregate_order_by_clause:
        with pytest.raises(NotSupportedError, match="ORDER BY inside an aggregate"):
            per_author(expression)
        return
    assert per_author(expression)["Alice"] == "Python Basics|Advanced Python"
    assert Book.objects.aggregate(t=StringAgg("title", "|", order_by=F("title").asc())) == {
        "t": "Advanced Python|Django Unchained|Python Basics|SQL 101"
    }


def test_array_agg_keeps_nulls_and_converts_elements(library: Library) -> None:
    result = per_author(ArrayAgg("books__published"))
    assert sorted(result["Alice"]) == [datetime.date(2020, 1, 15), datetime.date(2021, 6, 30)]
    assert sorted(result["Bob"], key=str) == [datetime.date(2022, 11, 5), None]
    assert result["Carol"] == [None]  # one joined row without a book, as ARRAY_AGG
    prices = Book.objects.aggregate(p=ArrayAgg("price", filter=Q(pages__gt=250)))["p"]
    assert sorted(prices) == [Decimal("35.00"), Decimal("49.50")]


def test_array_agg_of_a_json_field_gives_documents_on_both(library: Library) -> None:
    documents = Author.objects.filter(name="Bob").aggregate(a=ArrayAgg("books__data"))["a"]
    assert sorted(documents, key=str) == [None, {"level": "intermediate", "rating": 3}]


def test_array_agg_over_no_row_is_none_on_both(library: Library) -> None:
    assert per_author(ArrayAgg("books__pages", filter=Q(books__pages__gt=1000)))["Alice"] is None
    assert Book.objects.filter(pk__in=[]).aggregate(p=ArrayAgg("pages")) == {"p": None}


def test_array_agg_distinct(library: Library) -> None:
    tags = Author.objects.filter(name="Alice").aggregate(
        t=ArrayAgg("books__tags__name", distinct=True)
    )["t"]
    assert sorted(tags) == ["python", "sql"]


def test_jsonb_agg_gives_documents(library: Library) -> None:
    result = per_author(JSONBAgg("books__data"))
    levels = sorted(doc["level"] for doc in result["Alice"])
    assert levels == ["advanced", "beginner"]
    assert {"level": "intermediate", "rating": 3} in result["Bob"] and None in result["Bob"]


def test_slices_of_text_fields(library: Library) -> None:
    rows = (
        Book.objects.annotate(
            h=F("title")[:3], m=F("title")[2:5], c=F("title")[0], t=F("title")[4:]
        )
        .order_by("title")
        .values_list("h", "m", "c", "t")
    )
    assert list(rows)[0] == ("Adv", "van", "A", "nced Python")
    assert Author.objects.filter(name__startswith=F("name")[:2]).count() == 3
    assert Book.objects.filter(title=F("title")[:100]).count() == 4


def test_slice_of_an_outer_ref(library: Library) -> None:
    # Alice wrote "Advanced Python": a title starting with her initial.
    initial = Book.objects.filter(author=OuterRef("pk"), title__startswith=OuterRef("name")[:1])
    assert list(Author.objects.filter(Exists(initial)).values_list("name", flat=True)) == ["Alice"]
    second = Book.objects.filter(author=OuterRef("pk"), title__startswith=OuterRef("name")[1:2])
    assert list(Author.objects.filter(Exists(second)).values_list("name", flat=True)) == []


def test_conditions_as_values_and_in_filter(library: Library) -> None:
    rows = dict(Book.objects.annotate(big=Q(pages__gt=250)).values_list("title", "big"))
    # SQL 101 has no page count: the comparison is NULL, as in Django.
    assert rows == {
        "Python Basics": False,
        "Advanced Python": True,
        "Django Unchained": True,
        "SQL 101": None,
    }
    assert Book.objects.filter(GreaterThan(F("pages"), 250)).count() == 2
    over = dict(Book.objects.annotate(o=GreaterThan(F("pages"), 250)).values_list("title", "o"))
    assert over["Python Basics"] is False and over["Advanced Python"] is True
    assert set(Book.objects.annotate(n=Q(pk__in=[])).values_list("n", flat=True)) == {False}
    long_first = Book.objects.filter(pages__isnull=False).order_by(
        GreaterThan(F("pages"), 250).desc(), "title"
    )
    assert list(long_first.values_list("title", flat=True)) == [
        "Advanced Python",
        "Django Unchained",
        "Python Basics",
    ]
    size = orm.Case(
        orm.When(GreaterThan(F("pages"), 250), then=Value("long")), default=Value("short")
    )
    assert dict(Book.objects.annotate(s=size).values_list("title", "s"))["Python Basics"] == "short"
    has_books = Exists(Book.objects.filter(author=OuterRef("pk")))
    assert dict(Author.objects.annotate(h=has_books).values_list("name", "h")) == {
        "Alice": True,
        "Bob": True,
        "Carol": False,
    }


def test_value_and_expression_wrapper_with_output_field(library: Library) -> None:
    rows = (
        Book.objects.filter(pages__isnull=False)
        .annotate(
            v=Value("7", output_field=orm.CharField()),
            d=orm.ExpressionWrapper(F("pages") * 2, output_field=orm.IntegerField()),
        )
        .order_by("pages")
        .values_list("v", "d")
    )
    assert list(rows) == [("7", 400), ("7", 600), ("7", 900)]


class Twice(orm.Func):
    """The text and a suffix joined by ``||``; PostgreSQL's hook adds a cast to prove it runs."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    _output_field = orm.TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="CAST((%(expressions)s) AS text)")


class EmptyIsMinusOne(orm.Max):
    empty_result_set_value = -1


def test_user_func_and_aggregate_subclasses(library: Library) -> None:
    assert Book.objects.annotate(t=Twice("title", Value("!"))).get(title="SQL 101").t == "SQL 101!"
    assert Book.objects.aggregate(m=EmptyIsMinusOne("pages")) == {"m": 450}
    assert Book.objects.none().aggregate(m=EmptyIsMinusOne("pages")) == {"m": -1}


def test_stddev_and_variance_agree_on_both(library: Library) -> None:
    import statistics

    pages = [200, 450, 300]
    result = Book.objects.aggregate(
        orm.StdDev("pages"),
        v=orm.Variance("pages", sample=True),
        p=orm.StdDev("price", filter=Q(pages__isnull=False)),
    )
    assert result["pages__stddev"] == pytest.approx(statistics.pstdev(pages))
    assert result["v"] == pytest.approx(statistics.variance(pages))
    assert result["p"] == pytest.approx(statistics.pstdev([19.99, 49.50, 35.00]))
    one = Book.objects.filter(title="SQL 101").aggregate(v=orm.Variance("price", sample=True))
    assert one == {"v": None}  # one value has no sample variance, on both
    assert Book.objects.none().aggregate(s=orm.StdDev("pages")) == {"s": None}
