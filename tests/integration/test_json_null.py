"""KT/KeyTextTransform/KeyTransform, key transforms in values()/order_by()/annotate(), and
JSON null against SQL NULL, as Django's "Storing and querying for None" (issue 17 item 6).
SQL text: tests/sql/test_json_text_sql.py.
"""

from __future__ import annotations

import pytest

import orm
from orm import KT, KeyTextTransform, KeyTransform, Value
from tests.integration.conftest import Library
from tests.models import Book


@pytest.fixture
def nulls(library: Library) -> Library:
    Book.objects.create(title="json null", author=library.alice, data=Value(None, orm.JSONField()))
    Book.objects.create(title="sql null", author=library.alice, data=None)
    Book.objects.create(
        title="keys",
        author=library.alice,
        data={"level": None, "flag": True, "off": False, "n": 1.5, "big": 10, "o": {"a": [1, 2]}},
    )
    return library


def titles(qs: orm.QuerySet[Book]) -> list[str]:
    return sorted(qs.values_list("title", flat=True))


def test_none_is_sql_null_and_value_none_is_json_null(nulls: Library) -> None:
    assert titles(Book.objects.filter(data=None)) == ["json null"]
    assert titles(Book.objects.filter(data__isnull=True)) == ["SQL 101", "sql null"]
    assert "json null" in titles(Book.objects.filter(data__isnull=False))
    # Both read back as None, as in Django.
    assert Book.objects.get(title="json null").data is None


def test_saving_and_updating_with_value_none(nulls: Library) -> None:
    book = Book.objects.get(title="sql null")
    book.data = Value(None, orm.JSONField())
    book.save()
    assert Book.objects.filter(pk=book.pk, data=None).exists()
    assert Book.objects.filter(title="SQL 101").update(data=Value(None, orm.JSONField())) == 1
    assert titles(Book.objects.filter(data=None)) == ["SQL 101", "json null", "sql null"]


def test_a_key_holding_null_against_a_missing_key(nulls: Library) -> None:
    assert titles(Book.objects.filter(data__level=None)) == ["keys"]
    missing = titles(Book.objects.filter(data__level__isnull=True))
    assert "keys" not in missing and "Python Basics" not in missing


def test_kt_reads_text_the_same_on_both(nulls: Library) -> None:
    row = (
        Book.objects.filter(title="keys")
        .annotate(
            flag=KT("data__flag"),
            off=KT("data__off"),
            n=KT("data__n"),
            second=KT("data__o__a__1"),
            null=KT("data__level"),
            missing=KT("data__nope"),
        )
        .values_list("flag", "off", "n", "second", "null", "missing")
        .get()
    )
    assert row == ("true", "false", "1.5", "2", None, None)
    level = KeyTextTransform("level", "data")
    assert titles(Book.objects.annotate(level=level).filter(level__startswith="beg")) == [
        "Python Basics"
    ]


def test_key_transforms_in_annotate_values_and_order_by(nulls: Library) -> None:
    isbn = dict(
        Book.objects.annotate(isbn=KeyTransform("isbn", KeyTransform("meta", "data")))
        .filter(isbn__isnull=False)
        .values_list("title", "isbn")
    )
    assert isbn == {"Python Basics": "111", "Advanced Python": "222"}
    assert list(
        Book.objects.filter(data__rating__isnull=False)
        .order_by("-data__rating")
        .values_list("data__rating", flat=True)
    ) == [5, 4, 3]
    assert list(Book.objects.filter(data__level__startswith="int").values("data__level")) == [
        {"data__level": "intermediate"}
    ]


def test_order_by_a_key_compares_numbers_as_numbers(nulls: Library) -> None:
    Book.objects.filter(title="SQL 101").update(data={"rating": 10})
    ranked = Book.objects.filter(data__rating__isnull=False).order_by("data__rating")
    assert list(ranked.values_list("data__rating", flat=True)) == [3, 4, 5, 10]
