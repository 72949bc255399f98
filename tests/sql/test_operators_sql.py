"""Compile-only SQL of power, the bitwise methods and ``~F`` (issue 17 item 5), per dialect."""

from __future__ import annotations

from typing import Any

import pytest

from orm import F, Value
from tests.sql.helpers import ASSERTED_SEPARATELY, assert_sql
from tests.sql.models import Book

PAGES, ID = '"shared_book"."pages"', '"shared_book"."id"'
FROM = 'FROM "shared_book"'


def annotated(expr: Any) -> Any:
    return Book.objects.annotate(x=expr).values_list("x")


@pytest.mark.parametrize(
    ("expr", "sql", "params"),
    [
        (F("pages").bitand(3), f"({PAGES} & %s)", [3]),
        (F("pages").bitor(F("id")), f"({PAGES} | {ID})", []),
        (F("pages").bitleftshift(2), f"({PAGES} << %s)", [2]),
        (F("pages").bitrightshift(1), f"({PAGES} >> %s)", [1]),
        (F("pages") ** 2, f"POWER({PAGES}, %s)", [2]),
        (3 ** F("pages"), f"POWER(%s, {PAGES})", [3]),
        (F("pages") % 4, f"({PAGES} %% %s)", [4]),
    ],
)
def test_same_sql_on_both_dialects(pg: Any, expr: Any, sql: str, params: list[Any]) -> None:
    qs = annotated(expr)
    expected = f'SELECT {sql} AS "x" {FROM}'
    assert_sql(qs, expected, params)
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), expected, params)


def test_bitxor_is_hash_on_postgresql_and_or_minus_and_on_sqlite(pg: Any) -> None:
    qs = annotated(F("pages").bitxor(Value(5)))
    assert_sql(
        qs,
        f'SELECT (({PAGES} | %s) - ({PAGES} & %s)) AS "x" {FROM}',
        [5, 5],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(
        qs.query.get_compiler(connection=pg).as_sql(), f'SELECT ({PAGES} # %s) AS "x" {FROM}', [5]
    )


def test_double_invert_is_the_expression_itself() -> None:
    expr = F("flag")
    assert ~~expr is expr


def test_aggregate_default_is_coalesce_on_both_dialects(pg: Any) -> None:
    from orm import Sum

    qs = Book.objects.values("publisher").annotate(s=Sum("pages", default=0)).values_list("s")
    expected = (
        f'SELECT COALESCE(SUM({PAGES}), %s) AS "s" {FROM} GROUP BY "shared_book"."publisher_id"'
    )
    assert_sql(qs, expected, [0])
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), expected, [0])


def test_nested_outer_ref_compiles_against_the_outermost_table(pg: Any) -> None:
    from orm import Exists, OuterRef
    from tests.sql.models import Author, Tag

    book = Book.objects.filter(author=OuterRef(OuterRef("pk")), pk=OuterRef("pk"))
    qs = Author.objects.filter(Exists(Tag.objects.filter(Exists(book)))).values_list("pk")
    expected = (
        'SELECT "shared_author"."id" AS "pk" FROM "shared_author" WHERE EXISTS (SELECT %s AS "a" '
        'FROM "shared_tag" "U1_0" WHERE EXISTS (SELECT %s AS "a" FROM "shared_book" "U2_0" '
        'WHERE ("U2_0"."author_id" = "shared_author"."id" AND "U2_0"."id" = "U1_0"."id") LIMIT 1) LIMIT 1)'
    )
    assert_sql(qs, expected, [1, 1])
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), expected, [1, 1])
