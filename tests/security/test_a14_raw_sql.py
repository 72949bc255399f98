"""A14: values only ever travel as driver parameters; SQL text is never %-formatted with data.

``raw()``, ``RawSQL`` and ``connection.cursor()`` hand the SQL text to the
driver unchanged and the values as parameters. The only rewriting is orm's
placeholder convention, which applies to the *developer's* text: ``%s``
marks a parameter and ``%%`` a literal ``%`` whenever parameters are given
(raw() always gives a list), while ``cursor.execute(sql)`` without
parameters leaves the text untouched. Also here: LIKE lookups escape ``%``,
``_`` and ``\\`` in values (the tortoise-orm advisory).
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import RawSQL
from tests.security.corpus import RAW_VALUES
from tests.security.models import Book


@pytest.fixture
def books(db: str) -> list[Book]:
    return [Book.objects.create(name=n) for n in ("50%", "a_b", "a\\b", "axb", "plain", "it's")]


def table() -> str:
    return orm.connection.ops.quote_name(Book._meta.db_table)


@pytest.mark.parametrize("value", RAW_VALUES, ids=repr)
def test_raw_value_is_a_parameter(
    books: list[Book], count_queries: Any, snapshot: Any, value: str
) -> None:
    before = snapshot(Book)
    sql = f"SELECT * FROM {table()} WHERE name = %s"
    with count_queries() as ctx:
        result = list(Book.objects.raw(sql, [value]))
    assert result == [b for b in books if b.name == value]
    assert ctx.queries == [(sql, [value])], "SQL text verbatim, the value only as a parameter"
    assert snapshot(Book) == before


@pytest.mark.parametrize("value", RAW_VALUES, ids=repr)
def test_cursor_and_rawsql_return_value_verbatim(books: list[Book], value: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT %s, %s", [value, "%%"])
        assert cursor.fetchone() == (value, "%%")
    annotated = Book.objects.annotate(
        echo=RawSQL("SELECT %s", [value], output_field=orm.TextField())
    )
    assert set(annotated.values_list("echo", flat=True)) == {value}
    stored = Book.objects.create(name=value)
    assert list(
        Book.objects.raw(f"SELECT * FROM {table()} WHERE name = %s AND id = %s", [value, stored.pk])
    ) == [stored]


def test_raw_literal_percent_doubled(books: list[Book], count_queries: Any) -> None:
    """Portable form: with the %s convention a literal % in raw() is written %%."""
    sql = f"SELECT * FROM {table()} WHERE name LIKE '50%%' ORDER BY id"
    with count_queries() as ctx:
        assert [b.name for b in Book.objects.raw(sql)] == ["50%"]
    assert ctx.queries == [(sql, [])]


def test_raw_single_percent_without_params(backend: str, books: list[Book]) -> None:
    """A lone % that is not %s/%% is left alone (SQLite; with psycopg write %%)."""
    if backend != "sqlite":
        pytest.skip("psycopg parses every % once parameters (even []) are given")
    assert [
        b.name
        for b in Book.objects.raw(f"SELECT * FROM {table()} WHERE name LIKE '50%' ORDER BY id")
    ] == ["50%"]


def test_cursor_without_params_is_not_rewritten(books: list[Book]) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT '%', '%%', '%s', '100%'")
        assert cursor.fetchone() == ("%", "%%", "%s", "100%")


def test_hostile_value_cannot_end_the_statement(books: list[Book]) -> None:
    value = f"x'); DELETE FROM {table()}; --"
    assert list(Book.objects.raw(f"SELECT * FROM {table()} WHERE name = %s", [value])) == []
    Book.objects.filter(name=value).update(rating=1)
    assert Book.objects.count() == len(books)


@pytest.mark.parametrize(
    "lookup,value,expected",
    [
        ("contains", "%", ["50%"]),
        ("contains", "_", ["a_b"]),
        ("contains", "\\", ["a\\b"]),
        ("startswith", "a_", ["a_b"]),
        ("endswith", "%", ["50%"]),
        ("icontains", "A_B", ["a_b"]),
        ("istartswith", "%", []),
        ("iendswith", "_B", ["a_b"]),
        ("contains", "'", ["it's"]),
        ("contains", "' OR '1'='1", []),
        ("exact", "a_b", ["a_b"]),
        ("iexact", "A%B", []),
    ],
)
def test_like_wildcards_in_values_are_escaped(
    books: list[Book], lookup: str, value: str, expected: list[str]
) -> None:
    assert sorted(b.name for b in Book.objects.filter(**{f"name__{lookup}": value})) == expected
