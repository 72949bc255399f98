"""Compile-only SQL of window expressions (issue 17 item 2), for SQLite and PostgreSQL.

Both dialects spell ``OVER (PARTITION BY ... ORDER BY ... frame)`` the same way;
each shape is compiled for the configured SQLite database and for a PostgreSQL
wrapper that never connects. Results are checked in tests/integration/test_window.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm import (
    Avg,
    CumeDist,
    DenseRank,
    F,
    FirstValue,
    Lag,
    LastValue,
    Lead,
    NthValue,
    NTile,
    PercentRank,
    Q,
    Rank,
    RowNumber,
    RowRange,
    Sum,
    ValueRange,
    Window,
    WindowFrameExclusion,
)
from tests.sql.helpers import assert_sql
from tests.sql.models import Book

PAGES = '"shared_book"."pages"'
PUB = '"shared_book"."publisher_id"'
ID = '"shared_book"."id"'
FROM = 'FROM "shared_book"'


def both(pg: Any, qs: Any, sql: str, params: list[Any]) -> None:
    """Same text and parameters on SQLite and PostgreSQL."""
    assert_sql(qs, sql, params)
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, params)


def window_only(**annotations: Any) -> Any:
    return Book.objects.annotate(**annotations).values_list(*annotations)


@pytest.mark.parametrize(
    ("func", "sql"),
    [
        (RowNumber(), "ROW_NUMBER()"),
        (Rank(), "RANK()"),
        (DenseRank(), "DENSE_RANK()"),
        (PercentRank(), "PERCENT_RANK()"),
        (CumeDist(), "CUME_DIST()"),
        (FirstValue("pages"), f"FIRST_VALUE({PAGES})"),
        (LastValue("pages"), f"LAST_VALUE({PAGES})"),
    ],
)
def test_ranking_functions_with_partition_and_order(pg: Any, func: Any, sql: str) -> None:
    qs = window_only(w=Window(func, partition_by=F("publisher"), order_by="-pages"))
    both(pg, qs, f'SELECT {sql} OVER (PARTITION BY {PUB} ORDER BY {PAGES} DESC) AS "w" {FROM}', [])


def test_functions_with_arguments_bind_them_as_parameters(pg: Any) -> None:
    qs = window_only(
        lag=Window(Lag("pages", 2, 0), order_by="id"),
        lead=Window(Lead("pages"), order_by="id"),
        nth=Window(NthValue("pages", 3), order_by="id"),
        tile=Window(NTile(4), order_by="id"),
    )
    order = f"OVER (ORDER BY {ID} ASC)"
    both(
        pg,
        qs,
        f'SELECT LAG({PAGES}, %s, %s) {order} AS "lag", LEAD({PAGES}, %s) {order} AS "lead", '
        f'NTH_VALUE({PAGES}, %s) {order} AS "nth", NTILE(%s) {order} AS "tile" {FROM}',
        [2, 0, 1, 3, 4],
    )


def test_aggregate_over_an_empty_window_adds_no_group_by(pg: Any) -> None:
    qs = window_only(
        total=Window(Sum("pages")), avg=Window(Avg("pages"), partition_by=["publisher", "author"])
    )
    both(
        pg,
        qs,
        f'SELECT SUM({PAGES}) OVER () AS "total", AVG({PAGES}) OVER (PARTITION BY {PUB}, '
        f'"shared_book"."author_id") AS "avg" {FROM}',
        [],
    )


@pytest.mark.parametrize(
    ("frame", "sql"),
    [
        (RowRange(start=-2, end=0), "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW"),
        (RowRange(start=1, end=3), "ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING"),
        (RowRange(), "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"),
        (ValueRange(end=0), "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"),
        (ValueRange(-10, 10), "RANGE BETWEEN 10 PRECEDING AND 10 FOLLOWING"),
        (
            RowRange(None, 0, exclusion=WindowFrameExclusion.CURRENT_ROW),
            "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW",
        ),
        (
            ValueRange(0, None, exclusion=WindowFrameExclusion.NO_OTHERS),
            "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE NO OTHERS",
        ),
    ],
)
def test_frames(pg: Any, frame: Any, sql: str) -> None:
    qs = window_only(s=Window(Sum("pages"), order_by=F("pages").asc(), frame=frame))
    both(pg, qs, f'SELECT SUM({PAGES}) OVER (ORDER BY {PAGES} ASC {sql}) AS "s" {FROM}', [])


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: Window(F("pages")),
            ValueError,
            "Expression 'F' isn't compatible with OVER clauses.",
        ),
        (lambda: Window(RowNumber(), order_by=3), ValueError, "Window.order_by must be either"),
        (lambda: RowRange(start=2, end=1), ValueError, "start cannot be greater than end."),
        (
            lambda: RowRange(start="1"),
            ValueError,
            "start argument must be an integer, zero, or None",
        ),
        (
            lambda: ValueRange(start=1),
            ValueError,
            "start argument must be a negative integer, zero, or None",
        ),
        (
            lambda: ValueRange(end=-1),
            ValueError,
            "end argument must be a positive integer, zero, or None",
        ),
        (
            lambda: RowRange(exclusion="TIES"),
            TypeError,
            "RowRange.exclusion must be a WindowFrameExclusion",
        ),
        (lambda: NTile(0), ValueError, "num_buckets must be greater than 0."),
        (lambda: Lag("pages", 0), ValueError, "Lag requires a positive integer for the offset."),
        (
            lambda: Lead("pages", None),
            ValueError,
            "Lead requires a positive integer for the offset.",
        ),
        (
            lambda: NthValue("pages", 0),
            ValueError,
            "NthValue requires a positive integer as for nth.",
        ),
    ],
)
def test_bad_arguments_are_refused_as_django_does(
    make: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(
        error, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        make()


def test_filter_on_a_window_wraps_the_query_and_filters_outside(pg: Any) -> None:
    qs = Book.objects.annotate(rn=Window(RowNumber(), partition_by="publisher", order_by="-pages"))
    qs = qs.filter(rn__lte=2, pages__gt=10).order_by("title").values_list("title", "rn")[:5]
    both(
        pg,
        qs,
        f'SELECT "col0" AS "title", "col1" AS "rn" FROM (SELECT "shared_book"."title" AS "col0", ROW_NUMBER() OVER '
        f'(PARTITION BY {PUB} ORDER BY {PAGES} DESC) AS "col1" {FROM} WHERE {PAGES} > %s) "qualify" '
        'WHERE "col1" <= %s ORDER BY "col0" ASC LIMIT 5',
        [10, 2],
    )


def test_alias_or_and_exclude_add_the_columns_the_outer_filter_needs(pg: Any) -> None:
    qs = Book.objects.alias(rn=Window(RowNumber(), order_by="id")).filter(
        Q(rn=1) | Q(pages__gt=F("rating"))
    )
    qs = qs.exclude(rn=3).values_list("id")
    window = f"ROW_NUMBER() OVER (ORDER BY {ID} ASC)"
    both(
        pg,
        qs,
        f'SELECT "col0" AS "id" FROM (SELECT {ID} AS "col0", {window} AS "qual0", {PAGES} AS "qual1", '
        f'"shared_book"."rating" AS "qual2" {FROM}) "qualify" '
        'WHERE (("qual0" = %s OR "qual1" > "qual2") AND NOT ("qual0" = %s))',
        [1, 3],
    )


def test_count_and_exists_over_a_window_filter(pg: Any) -> None:
    from orm.sql.compiler import SQLCompiler

    qs = Book.objects.annotate(rn=Window(RowNumber(), order_by="id")).filter(rn=1)
    sql, params = SQLCompiler(qs.query.exists_query(), pg).as_sql()
    assert sql == (
        f'SELECT "col0" AS "a" FROM (SELECT %s AS "col0", ROW_NUMBER() OVER (ORDER BY {ID} ASC) AS "qual0" '
        f'{FROM}) "qualify" WHERE "qual0" = %s LIMIT 1'
    )
    assert params == [1, 1]


def test_or_with_a_plain_condition_under_grouping_is_refused_as_django_does() -> None:
    from orm import Count

    qs = (
        Book.objects.annotate(rn=Window(RowNumber(), order_by="id"))
        .values("title")
        .annotate(n=Count("id"))
    )
    with pytest.raises(NotImplementedError, match="Heterogeneous disjunctive predicates"):
        str(qs.filter(Q(rn=1) | Q(title="x")).query)
