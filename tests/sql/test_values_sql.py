"""Compile-only SQL of ``values_list()`` with expressions and repeated names (issue 17 item 7), both dialects."""

from __future__ import annotations

from typing import Any

from orm import Count, Lower
from tests.sql.helpers import assert_sql
from tests.sql.models import Author, Book

A = '"shared_author"'


def test_expressions_and_repeated_names_get_django_aliases(pg: Any) -> None:
    qs = Author.objects.values_list("name", Lower("name"), "name", Count("books"))
    sql = (
        f'SELECT {A}."name" AS "name", LOWER({A}."name") AS "lower1", {A}."name" AS "name1", '
        f'COUNT("shared_book"."id") AS "books__count1" FROM {A} LEFT OUTER JOIN "shared_book" '
        f'ON ({A}."id" = "shared_book"."author_id") GROUP BY {A}."id", {A}."name", LOWER({A}."name")'
    )
    assert_sql(qs, sql, [])
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, [])
    assert qs._fields == ("name", "lower1", "name1", "books__count1")


def test_transforms_in_values(pg: Any) -> None:
    qs = Book.objects.values_list("published__year")
    assert_sql(
        qs.query.get_compiler(connection=pg).as_sql(),
        'SELECT CAST(EXTRACT(YEAR FROM "shared_book"."published") AS integer) AS "published__year" '
        'FROM "shared_book"',
        [],
    )
