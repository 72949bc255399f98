"""Compile-only SQL of composite queries (issue 17 item 8), for SQLite and PostgreSQL:
aggregates over subqueries, GROUP BY on expressions and subqueries, Exists in SELECT and
ORDER BY, union() with ordering and limits, DISTINCT ON, NULLS FIRST/LAST, and
Meta.ordering made of expressions. Results: tests/integration/test_composite.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import Count, Exists, F, OrderBy, OuterRef, Subquery, Sum
from orm.exceptions import NotSupportedError
from orm.functions import Lower
from tests.sql.helpers import assert_sql
from tests.sql.models import Author, Book


class Ranked(orm.Model):
    name = orm.CharField(max_length=20)
    rank = orm.IntegerField(null=True)

    class Meta:
        app_label = "sqltests_q17"
        ordering = [Lower("name").desc(), F("rank").asc(nulls_last=True)]


def both(pg: Any, qs: Any, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """The same text and parameters on SQLite and PostgreSQL."""
    assert_sql(qs, sql, params)
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, params)


A = '"shared_author"'
B = '"shared_book"'
HAS_BOOKS = f'EXISTS (SELECT %s AS "a" FROM {B} "U1_0" WHERE "U1_0"."author_id" = {A}."id" LIMIT 1)'


def test_meta_ordering_with_expressions_and_nulls_last(pg: Any) -> None:
    T = '"sqltests_q17_ranked"'
    both(
        pg,
        Ranked.objects.values_list("id"),
        f'SELECT {T}."id" AS "id" FROM {T} ORDER BY LOWER({T}."name") DESC, {T}."rank" ASC NULLS LAST',
    )
    # reverse() flips the direction and the NULLS placement, as in Django.
    both(
        pg,
        Ranked.objects.reverse().values_list("id"),
        f'SELECT {T}."id" AS "id" FROM {T} ORDER BY LOWER({T}."name") ASC, {T}."rank" DESC NULLS FIRST',
    )


def test_nulls_first_and_last(pg: Any) -> None:
    qs = Book.objects.order_by(
        F("pages").desc(nulls_last=True), OrderBy(F("rating"), nulls_first=True)
    )
    both(
        pg,
        qs.values_list("id"),
        f'SELECT {B}."id" AS "id" FROM {B} ORDER BY {B}."pages" DESC NULLS LAST, '
        f'{B}."rating" ASC NULLS FIRST',
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: F("pages").asc(nulls_first=False),
            "nulls_first and nulls_last values must be True or None.",
        ),
        (
            lambda: F("pages").desc(nulls_last=False),
            "nulls_first and nulls_last values must be True or None.",
        ),
        (lambda: F("pages").asc(nulls_first=True, nulls_last=True), "mutually exclusive"),
        (lambda: OrderBy("pages"), r"OrderBy\(\) takes an expression"),
    ],
)
def test_bad_ordering_terms_are_refused_as_django_does(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_exists_in_order_by_and_grouped_in_select(pg: Any) -> None:
    has_books = Exists(Book.objects.filter(author=OuterRef("pk")))
    both(
        pg,
        Author.objects.order_by(has_books.desc(), "name").values_list("id"),
        f'SELECT {A}."id" AS "id" FROM {A} ORDER BY {HAS_BOOKS} DESC, {A}."name" ASC',
        [1],
    )
    both(
        pg,
        Author.objects.annotate(e=has_books).values("e").annotate(c=Count("pk")).order_by("e"),
        f'SELECT {HAS_BOOKS} AS "e", COUNT({A}."id") AS "c" FROM {A} GROUP BY "e" ORDER BY "e" ASC',
        [1],
    )


def test_group_by_a_subquery_and_an_expression(pg: Any) -> None:
    name = Subquery(Author.objects.filter(pk=OuterRef("author")).values("name"))
    sub = f'(SELECT "U1_0"."name" AS "name" FROM {A} "U1_0" WHERE "U1_0"."id" = {B}."author_id")'
    both(
        pg,
        Book.objects.annotate(a=name).values("a").annotate(c=Count("pk")).order_by("a"),
        f'SELECT {sub} AS "a", COUNT({B}."id") AS "c" FROM {B} GROUP BY "a" ORDER BY "a" ASC',
    )
    both(
        pg,
        Book.objects.values(lower=Lower("title")).annotate(c=Count("pk")).order_by("lower"),
        f'SELECT LOWER({B}."title") AS "lower", COUNT({B}."id") AS "c" FROM {B} GROUP BY "lower" '
        'ORDER BY "lower" ASC',
    )


def test_an_aggregate_over_a_subquery_annotation(captured_sql: Any) -> None:
    per_author = Subquery(
        Book.objects.filter(author=OuterRef("pk"))
        .order_by()
        .values("author")
        .annotate(c=Count("pk"))
        .values("c")
    )
    Author.objects.annotate(n=per_author).aggregate(total=Sum("n"))
    ((sql, params),) = captured_sql
    # The subquery is summed in place (no GROUP BY outside): valid on both backends.
    assert_sql(
        (sql, params),
        f'SELECT SUM((SELECT COUNT("U1_0"."id") AS "c" FROM {B} "U1_0" '
        f'WHERE "U1_0"."author_id" = {A}."id" GROUP BY "U1_0"."author_id")) AS "total" FROM {A}',
    )


def test_union_with_values_order_by_and_a_slice(pg: Any) -> None:
    big = Book.objects.filter(pages__gt=250).values_list("title", flat=True)
    small = Book.objects.filter(pages__lt=250).values_list("title", flat=True)
    member = f'SELECT {B}."title" AS "title" FROM {B} WHERE {B}."pages" %s %%s'
    both(
        pg,
        big.union(small).order_by("-title")[1:3],
        f'SELECT * FROM ({member % ">"}) AS "_u0" UNION SELECT * FROM ({member % "<"}) AS "_u1" '
        "ORDER BY 1 DESC LIMIT 2 OFFSET 1",
        [250, 250],
    )
    # Each member keeps its own ORDER BY/LIMIT inside its parentheses.
    both(
        pg,
        big.order_by("title")[:1].union(small.order_by("title")[:1]),
        f'SELECT * FROM ({member % ">"} ORDER BY {B}."title" ASC LIMIT 1) AS "_u0" UNION '
        f'SELECT * FROM ({member % "<"} ORDER BY {B}."title" ASC LIMIT 1) AS "_u1"',
        [250, 250],
    )


def test_distinct_on_fields_is_postgresql_only(pg: Any) -> None:
    qs = Book.objects.order_by("author_id", "-pages").distinct("author_id").values_list("title")
    assert_sql(
        qs.query.get_compiler(connection=pg).as_sql(),
        f'SELECT DISTINCT ON ({B}."author_id") {B}."title" AS "title" FROM {B} '
        f'ORDER BY {B}."author_id" ASC, {B}."pages" DESC',
    )
    with pytest.raises(
        NotSupportedError, match="DISTINCT ON fields is not supported by this database backend."
    ):
        qs.query.sql_with_params()
