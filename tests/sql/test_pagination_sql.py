"""Compile-only SQL of pagination (issue 20): a page is one LIMIT/OFFSET query, the count one COUNT.

Each page's QuerySet is compiled for SQLite and for a PostgreSQL wrapper that
never connects; the behaviour on both databases is in
tests/integration/test_pagination.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from tests.sql.helpers import assert_sql
from tests.sql.models import Book, Publisher, Tag

FROM_PUBLISHER = (
    'SELECT "shared_publisher"."id", "shared_publisher"."name", '
    '"shared_publisher"."city_id" FROM "shared_publisher"'
)
FROM_TAG = 'SELECT "shared_tag"."id", "shared_tag"."name" FROM "shared_tag"'


def both(pg: Any, qs: Any, sql: str, params: list[Any]) -> None:
    """Same text and parameters on SQLite and PostgreSQL."""
    assert_sql(qs, sql, params)
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, params)


class Known(orm.Paginator):
    """A paginator whose count is given, so building a page runs no COUNT."""

    def __init__(self, object_list: Any, per_page: int, count: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count


def test_a_page_is_limit_offset_over_the_ordering(pg: Any) -> None:
    paginator = Known(
        Tag.objects.filter(name__startswith="a").order_by("name", "-id"), 10, count=35
    )
    where = 'WHERE "shared_tag"."name" LIKE %s ESCAPE \'\\\''
    order = 'ORDER BY "shared_tag"."name" ASC, "shared_tag"."id" DESC'
    both(pg, paginator.page(1).object_list, f"{FROM_TAG} {where} {order} LIMIT 10", ["a%"])
    both(
        pg, paginator.page(3).object_list, f"{FROM_TAG} {where} {order} LIMIT 10 OFFSET 20", ["a%"]
    )
    # The last page runs to the end: 5 rows, LIMIT 5 OFFSET 30.
    both(pg, paginator.page(4).object_list, f"{FROM_TAG} {where} {order} LIMIT 5 OFFSET 30", ["a%"])


def test_orphans_widen_the_last_page(pg: Any) -> None:
    paginator = Known(Tag.objects.order_by("id"), 10, count=23, orphans=3)
    assert paginator.num_pages == 2
    both(
        pg,
        paginator.page(2).object_list,
        f'{FROM_TAG} ORDER BY "shared_tag"."id" ASC LIMIT 13 OFFSET 10',
        [],
    )


def test_meta_ordering_orders_the_pages(pg: Any) -> None:
    page = Known(Publisher.objects.all(), 5, count=12).page(2)
    both(
        pg,
        page.object_list,
        f'{FROM_PUBLISHER} ORDER BY "shared_publisher"."name" ASC LIMIT 5 OFFSET 5',
        [],
    )


def test_count_is_one_count_query(captured_sql: Any) -> None:
    paginator = orm.Paginator(Tag.objects.filter(name="x").order_by("id"), 10)
    assert paginator.count == 0  # nothing is executed: the COUNT fetches no row
    assert paginator.count == 0  # cached: no second statement
    assert len(captured_sql) == 1
    sql, params = captured_sql[0]
    assert sql == 'SELECT COUNT(*) AS "__count" FROM "shared_tag" WHERE "shared_tag"."name" = %s'
    assert params == ["x"]


@pytest.mark.parametrize(
    ("qs", "ordered"),
    [
        (lambda: Tag.objects.all(), False),
        (lambda: Tag.objects.order_by("name"), True),
        (lambda: Tag.objects.order_by("name").order_by(), False),
        (lambda: Publisher.objects.all(), True),  # Meta.ordering
        (lambda: Publisher.objects.order_by(), False),
        (lambda: Tag.objects.none(), True),  # no rows, no order to lose
        (lambda: Publisher.objects.values("city").annotate(n=orm.Count("id")), False),
        (lambda: Tag.objects.union(Tag.objects.all()), False),
        (lambda: Book.objects.order_by("-pages"), True),
    ],
)
def test_queryset_ordered_follows_the_compiled_order_by(qs: Any, ordered: bool) -> None:
    """``QuerySet.ordered`` is what decides the paginator's warning."""
    assert qs().ordered is ordered
