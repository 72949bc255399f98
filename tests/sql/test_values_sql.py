"""Compile-only SQL of ``values_list()`` with expressions and repeated names (issue 17 item 7), both dialects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orm import Count, Lower
from tests.sql.helpers import assert_sql
from tests.sql.models import Author, Book

A = '"shared_author"'


@pytest.fixture(scope="module")
def pg() -> Iterator[Any]:
    """A PostgreSQL connection wrapper used only to compile (it never connects)."""
    from orm.conf import parse_url
    from orm.db.connections import ConnectionHandler

    backend = ConnectionHandler.load_backend("postgresql")
    wrapper = backend.DatabaseWrapper(parse_url("postgresql://u@127.0.0.1:5432/db"), "pg")
    yield wrapper
    assert wrapper.connection is None  # compiling opened nothing


def test_expressions_and_repeated_names_get_django_aliases(pg: Any) -> None:
    qs = Author.objects.values_list("name", Lower("name"), "name", Count("books"))
    sql = (f'SELECT {A}."name" AS "name", LOWER({A}."name") AS "lower1", {A}."name" AS "name1", '
           f'COUNT("shared_book"."id") AS "books__count1" FROM {A} LEFT OUTER JOIN "shared_book" '
           f'ON ({A}."id" = "shared_book"."author_id") GROUP BY {A}."id", {A}."name", LOWER({A}."name")')
    assert_sql(qs, sql, [])
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, [])
    assert qs._fields == ("name", "lower1", "name1", "books__count1")


def test_transforms_in_values(pg: Any) -> None:
    qs = Book.objects.values_list("published__year")
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(),
               'SELECT CAST(EXTRACT(YEAR FROM "shared_book"."published") AS integer) AS "published__year" '
               'FROM "shared_book"', [])
