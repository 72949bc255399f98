"""Compile-only SQL of a sliced ``Prefetch`` queryset (issue 17 item 7), for SQLite and PostgreSQL.

The slice becomes a row number per related key, filtered after the window runs,
as Django does. Results: tests/integration/test_prefetch_slices.py.
"""

from __future__ import annotations

from typing import Any

from orm import Prefetch
from orm.query.prefetch import expand_path, filter_prefetch_queryset, to_attr_paths
from tests.sql.helpers import assert_sql
from tests.sql.models import Book


def test_slice_becomes_a_row_number_per_key(pg: Any) -> None:
    qs = filter_prefetch_queryset(
        Book.objects.order_by("title")[1:3], "author__in", [1, 2], "author"
    )
    sql = (
        'SELECT "col0" AS "title" FROM (SELECT "shared_book"."title" AS "col0", ROW_NUMBER() OVER '
        '(PARTITION BY "shared_book"."author_id" ORDER BY "shared_book"."title" ASC) AS "qual0" '
        'FROM "shared_book" WHERE "shared_book"."author_id" IN (%s, %s)) "qualify" '
        'WHERE ("qual0" > %s AND "qual0" <= %s) ORDER BY "col0" ASC'
    )
    values = qs.values_list("title")
    assert_sql(values, sql, [1, 2, 1, 3])
    assert_sql(values.query.get_compiler(connection=pg).as_sql(), sql, [1, 2, 1, 3])


def test_unsliced_queryset_is_only_filtered(pg: Any) -> None:
    qs = filter_prefetch_queryset(Book.objects.all(), "author__in", [7], "author").values_list("id")
    sql = 'SELECT "shared_book"."id" AS "id" FROM "shared_book" WHERE "shared_book"."author_id" IN (%s)'
    assert_sql(qs, sql, [7])
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, [7])


def test_open_ended_slice_has_no_upper_bound() -> None:
    qs = filter_prefetch_queryset(Book.objects.order_by("-pages")[2:], "author__in", [1], "author")
    sql, params = qs.values_list("id").query.sql_with_params()
    assert sql.endswith('"qualify" WHERE "qual0" > %s ORDER BY "qual1" DESC')
    assert list(params) == [1, 2]


def test_to_attr_paths_expand_through_earlier_prefetches() -> None:
    paths = to_attr_paths(
        [Prefetch("books", to_attr="bk"), Prefetch("bk__tags", to_attr="tg"), "books"]
    )
    assert paths == {"bk": "books", "bk__tg": "books__tags"}
    assert expand_path("bk__tg__books", paths) == "books__tags__books"
    assert expand_path("books__tags", paths) == "books__tags"
