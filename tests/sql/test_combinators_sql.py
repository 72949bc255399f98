"""Compile-only SQL of combined QuerySets (``union``, ``intersection``, ``difference``).

Each shape is compiled for SQLite (the configured in-memory database) and for
PostgreSQL (a wrapper that never connects), asserting text and parameters
together. The rows these statements return are checked on real databases in
``tests/integration/test_combinators.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import F, OuterRef, Subquery, Sum, Value
from orm.exceptions import EmptyResultSet
from tests.sql.helpers import (
    PUBLISHER_COLS,
    assert_sql,
    placeholder_count,
)
from tests.sql.models import Publisher


class Item(orm.Model):
    num = orm.IntegerField()
    other = orm.IntegerField(null=True)

    class Meta:
        app_label = "i11_combinators_sql"


class Label(orm.Model):
    name = orm.CharField(max_length=20)
    order = orm.IntegerField()

    class Meta:
        app_label = "i11_combinators_sql"


COLS = '"i11_combinators_sql_item"."id", "i11_combinators_sql_item"."num", "i11_combinators_sql_item"."other"'
NUM, OTHER = '"i11_combinators_sql_item"."num"', '"i11_combinators_sql_item"."other"'
FROM = 'FROM "i11_combinators_sql_item"'


def part(index: int, select: str = COLS, where: str = f"{NUM} = %s") -> str:
    """One combined query as the compiler wraps it."""
    return f'SELECT * FROM (SELECT {select} {FROM} WHERE {where}) AS "_u{index}"'


def assert_both(pg: Any, qs: Any, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """The same text and parameters on SQLite and on PostgreSQL."""
    assert_sql(qs, sql, params)
    actual_sql, actual_params = qs.query.get_compiler(connection=pg).as_sql()
    assert actual_sql == sql
    assert list(actual_params) == list(params)
    assert placeholder_count(actual_sql) == len(actual_params)


def one_two() -> tuple[orm.QuerySet[Item], orm.QuerySet[Item]]:
    return Item.objects.filter(num=1), Item.objects.filter(num=2)


@pytest.mark.parametrize(
    ("combinator", "keyword"),
    [
        ("union", "UNION"),
        ("intersection", "INTERSECT"),
        ("difference", "EXCEPT"),
    ],
)
def test_each_combinator_and_its_keyword(pg: Any, combinator: str, keyword: str) -> None:
    qs1, qs2 = one_two()
    assert_both(pg, getattr(qs1, combinator)(qs2), f"{part(0)} {keyword} {part(1)}", [1, 2])
    three = Item.objects.filter(num=3)
    sql = f"{part(0)} {keyword} {part(1)} {keyword} {part(2)}"
    assert_both(pg, getattr(qs1, combinator)(qs2, three), sql, [1, 2, 3])


def test_union_all(pg: Any) -> None:
    qs1, qs2 = one_two()
    assert_both(pg, qs1.union(qs2, all=True), f"{part(0)} UNION ALL {part(1)}", [1, 2])


def test_values_after_the_combination_are_selected_by_every_query(pg: Any) -> None:
    qs1, qs2 = one_two()
    other = f'{OTHER} AS "other"'
    sql = f"{part(0, other)} UNION {part(1, other)}"
    assert_both(pg, qs1.union(qs2).values_list("other", flat=True), sql, [1, 2])
    # A query with values() of its own keeps them; the others take the first one's.
    assert_both(pg, qs1.values_list("other").union(qs2), sql, [1, 2])


def test_values_list_columns_keep_their_named_order_with_annotations(pg: Any) -> None:
    name, order = '"i11_combinators_sql_label"."name"', '"i11_combinators_sql_label"."order"'
    select = f'SELECT {name} AS "name", %s AS "kind", {order} AS "order" FROM "i11_combinators_sql_label"'
    qs = Label.objects.annotate(kind=Value("x")).values_list("name", "kind", "order")
    sql = f'SELECT * FROM ({select}) AS "_u0" UNION SELECT * FROM ({select}) AS "_u1"'
    assert_both(pg, qs.union(qs), sql, ["x", "x"])


def test_order_by_names_positions_and_reverse(pg: Any) -> None:
    qs1, qs2 = one_two()
    union = qs1.union(qs2)
    assert_both(
        pg,
        union.order_by("-other", "pk"),
        f"{part(0)} UNION {part(1)} ORDER BY 3 DESC, 1 ASC",
        [1, 2],
    )
    assert_both(
        pg,
        union.order_by(F("num").desc(nulls_last=True)).reverse(),
        f"{part(0)} UNION {part(1)} ORDER BY 2 ASC NULLS FIRST",
        [1, 2],
    )
    assert_both(
        pg,
        union.order_by("num")[2:5],
        f"{part(0)} UNION {part(1)} ORDER BY 2 ASC LIMIT 3 OFFSET 2",
        [1, 2],
    )


def test_order_by_an_unselected_column_selects_it_after_the_others(pg: Any) -> None:
    qs1, qs2 = one_two()
    select = f'{NUM} AS "num", {OTHER} AS "__orderbycol2"'
    sql = f"{part(0, select)} UNION {part(1, select)} ORDER BY 2 DESC"
    assert_both(pg, qs1.union(qs2).values_list("num").order_by("-other"), sql, [1, 2])


def test_nested_combination_is_wrapped_with_its_ordering_and_slice(pg: Any) -> None:
    qs1, qs2 = one_two()
    inner = f'SELECT * FROM ({part(0)} UNION {part(1)} ORDER BY 2 ASC LIMIT 2) AS "_u1"'
    three = Item.objects.filter(num=3)
    assert_both(
        pg,
        three.intersection(qs1.union(qs2).order_by("num")[:2]),
        f"{part(0)} INTERSECT {inner}",
        [3, 1, 2],
    )


def test_empty_queries_per_combinator(pg: Any) -> None:
    qs1, qs2 = one_two()
    never = Item.objects.filter(pk__in=[])
    assert_both(pg, qs1.union(never, qs2), f"{part(0)} UNION {part(1)}", [1, 2])
    assert_both(pg, qs1.difference(never, qs2), f"{part(0)} EXCEPT {part(1)}", [1, 2])
    for qs in (qs1.intersection(never), never.difference(qs1), never.union(never)):
        with pytest.raises(EmptyResultSet):
            qs.query.sql_with_params()
        with pytest.raises(EmptyResultSet):
            qs.query.get_compiler(connection=pg).as_sql()


def test_exists_of_a_union_stops_each_query_at_its_first_row(pg: Any) -> None:
    qs1, qs2 = one_two()
    one = f'SELECT * FROM (SELECT %s AS "a" {FROM} WHERE {NUM} = %s LIMIT 1)'
    sql = f'{one} AS "_u0" UNION {one} AS "_u1" LIMIT 1'
    assert_sql(qs1.union(qs2).query.exists_query(), sql, [1, 1, 1, 2])
    # An intersection needs every column of each row.
    assert_sql(
        qs1.intersection(qs2).query.exists_query(), f"{part(0)} INTERSECT {part(1)} LIMIT 1", [1, 2]
    )


def test_a_combination_as_the_right_hand_side_of_in_selects_primary_keys(pg: Any) -> None:
    qs1, qs2 = one_two()
    member = 'SELECT * FROM (SELECT "U1_0"."id" AS "pk" FROM "i11_combinators_sql_item" "U1_0" WHERE "U1_0"."num" = %s)'
    sql = f'SELECT {COLS} {FROM} WHERE "i11_combinators_sql_item"."id" IN ({member} AS "_u0" UNION {member} AS "_u1")'
    assert_both(pg, Item.objects.filter(pk__in=qs1.union(qs2)), sql, [1, 2])


def test_outer_references_inside_combined_queries(pg: Any) -> None:
    inner = Item.objects.filter(num=OuterRef("order")).union(
        Item.objects.filter(other=OuterRef("order"))
    )
    qs = Label.objects.annotate(n=Subquery(inner.values("num")[:1])).values("n")
    member = 'SELECT * FROM (SELECT "U1_0"."num" AS "num" FROM "i11_combinators_sql_item" "U1_0" WHERE "U1_0".'
    outer = '"i11_combinators_sql_label"."order"'
    sql = (
        f'SELECT ({member}"num" = {outer}) AS "_u0" UNION {member}"other" = {outer}) AS "_u1" LIMIT 1) AS "n" '
        'FROM "i11_combinators_sql_label"'
    )
    assert_both(pg, qs, sql)


def test_errors_are_raised_before_any_sql_runs(pg: Any) -> None:
    one, two = Item.objects.values_list("num"), Item.objects.values_list("num", "other")
    for connection in (None, pg):
        compile_ = (
            (lambda qs: qs.query.sql_with_params())
            if connection is None
            else (lambda qs: qs.query.get_compiler(connection=pg).as_sql())
        )
        with pytest.raises(
            orm.ProgrammingError,
            match="must select the same number of columns, but they select 1, 2",
        ):
            compile_(one.union(two))
        with pytest.raises(
            orm.DatabaseError, match="ORDER BY term does not match any column in the result set"
        ):
            compile_(one.union(one).order_by("other"))
        with pytest.raises(orm.NotSupportedError, match="Random ordering"):
            compile_(one.union(one).order_by("?"))


def test_aggregate_names_the_combined_columns_by_position(captured_sql: Any) -> None:
    qs1, qs2 = one_two()
    qs1.union(qs2).aggregate(total=Sum("other"))
    ((sql, params),) = captured_sql
    expected = (
        f'WITH subquery ("__col1", "__col2", "__col3") AS ({part(0)} UNION {part(1)}) '
        'SELECT SUM("__col3") AS "total" FROM subquery'
    )
    assert_sql((sql, params), expected, [1, 2])


# -- once broken: union() drops the ordering of sliced members ------------------------------------------


def test_union_of_sliced_querysets_keeps_their_ordering():
    # Actual: each member is "... LIMIT 2" without ORDER BY, i.e. two arbitrary rows instead of
    # the first and last two by name (QuerySet.union() calls clear_ordering() on every member).
    cols = f'SELECT {PUBLISHER_COLS} FROM "shared_publisher"'
    assert_sql(
        Publisher.objects.order_by("name")[:2].union(Publisher.objects.order_by("-name")[:2]),
        f'SELECT * FROM ({cols} ORDER BY "shared_publisher"."name" ASC LIMIT 2) AS "_u0" '
        f'UNION SELECT * FROM ({cols} ORDER BY "shared_publisher"."name" DESC LIMIT 2) AS "_u1"',
    )
