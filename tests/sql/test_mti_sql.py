"""Compile-only SQL of multi-table inheritance (issue 16 item 1), per dialect.

A child model's queries join its parents' tables through the parent links;
its own INSERT/UPDATE/DELETE touch only its own table (``save()``/``delete()``
run one statement per table).
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm.models.registry import Apps
from orm.query.writes import _insert_fields, update_values
from orm.sql.dml import SQLDeleteCompiler, SQLUpdateCompiler, insert_sql

apps = Apps()


def _meta(**extra: Any) -> type:
    return type("Meta", (), {"app_label": "mtisql", "apps": apps, **extra})


class Place(orm.Model):
    name = orm.CharField(max_length=50)
    Meta = _meta()


class Restaurant(Place):
    serves_pizza = orm.BooleanField(default=False)
    Meta = _meta()


class Italian(Restaurant):
    gnocchi = orm.BooleanField(default=False)
    Meta = _meta()


class Menu(orm.Model):
    place = orm.OneToOneField(Place, on_delete=orm.CASCADE, related_name="menu")
    dishes = orm.IntegerField(default=0)
    Meta = _meta()


def _connection(dialect: str, pg: Any) -> Any:
    return orm.connections["default"] if dialect == "sqlite" else pg


def _select(qs: Any, connection: Any) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


JOIN = 'INNER JOIN "mtisql_place" ON ("mtisql_restaurant"."place_ptr_id" = "mtisql_place"."id")'
COLS = (
    '"mtisql_place"."id", "mtisql_place"."name", '
    '"mtisql_restaurant"."place_ptr_id", "mtisql_restaurant"."serves_pizza"'
)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_child_select_joins_the_parent_table(dialect: str, pg: Any) -> None:
    sql, params = _select(Restaurant.objects.filter(name="Ann", pk__gt=1), _connection(dialect, pg))
    assert sql == (
        f'SELECT {COLS} FROM "mtisql_restaurant" {JOIN} '
        'WHERE ("mtisql_place"."name" = %s AND "mtisql_restaurant"."place_ptr_id" > %s)'
    )
    assert params == ["Ann", 1]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_grandchild_select_joins_every_ancestor(dialect: str, pg: Any) -> None:
    sql, params = _select(Italian.objects.order_by("name"), _connection(dialect, pg))
    assert sql == (
        f'SELECT {COLS}, "mtisql_italian"."restaurant_ptr_id", "mtisql_italian"."gnocchi" '
        'FROM "mtisql_italian" INNER JOIN "mtisql_restaurant" ON '
        '("mtisql_italian"."restaurant_ptr_id" = "mtisql_restaurant"."place_ptr_id") '
        'INNER JOIN "mtisql_place" ON ("mtisql_restaurant"."place_ptr_id" = "mtisql_place"."id") '
        'ORDER BY "mtisql_place"."name" ASC'
    )
    assert params == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_values_and_annotate_read_inherited_columns_through_the_join(dialect: str, pg: Any) -> None:
    qs = Restaurant.objects.values("name").annotate(n=orm.Count("serves_pizza"))
    sql, params = _select(qs, _connection(dialect, pg))
    assert sql == (
        'SELECT "mtisql_place"."name" AS "name", COUNT("mtisql_restaurant"."serves_pizza") AS "n" '
        f'FROM "mtisql_restaurant" {JOIN} GROUP BY "mtisql_place"."name"'
    )
    assert params == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_parent_filtered_by_child_field_joins_the_child(dialect: str, pg: Any) -> None:
    sql, params = _select(
        Place.objects.filter(restaurant__serves_pizza__in=[True]).values_list("name"),
        _connection(dialect, pg),
    )
    # A filter on the reverse one-to-one requires the child row: INNER, as Django.
    assert sql == (
        'SELECT "mtisql_place"."name" AS "name" FROM "mtisql_place" INNER JOIN "mtisql_restaurant" '
        'ON ("mtisql_place"."id" = "mtisql_restaurant"."place_ptr_id") '
        'WHERE "mtisql_restaurant"."serves_pizza" IN (%s)'
    )
    assert params == [True]


FROM_PLACE = 'SELECT "mtisql_place"."id" AS "id" FROM "mtisql_place" '
TO_RESTAURANT = (
    'JOIN "mtisql_restaurant" ON ("mtisql_place"."id" = "mtisql_restaurant"."place_ptr_id")'
)
TO_ITALIAN = (
    'JOIN "mtisql_italian" ON ("mtisql_restaurant"."place_ptr_id" = '
    '"mtisql_italian"."restaurant_ptr_id")'
)


def _ids(qs: Any, dialect: str, pg: Any) -> tuple[str, list[Any]]:
    return _select(qs.values_list("id"), _connection(dialect, pg))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_reverse_one_to_one_under_or_stays_left_outer(dialect: str, pg: Any) -> None:
    sql, params = _ids(
        Place.objects.filter(orm.Q(restaurant__serves_pizza=True) | orm.Q(name="x")), dialect, pg
    )
    assert sql == (
        f"{FROM_PLACE}LEFT OUTER {TO_RESTAURANT} "
        'WHERE ("mtisql_restaurant"."serves_pizza" = %s OR "mtisql_place"."name" = %s)'
    )
    assert params == [True, "x"]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_reverse_one_to_one_isnull_true_and_exclude_stay_left_outer(dialect: str, pg: Any) -> None:
    sql, _ = _ids(Place.objects.filter(restaurant__isnull=True), dialect, pg)
    assert sql == (
        f'{FROM_PLACE}LEFT OUTER {TO_RESTAURANT} WHERE "mtisql_restaurant"."place_ptr_id" IS NULL'
    )
    sql, params = _ids(Place.objects.exclude(restaurant__serves_pizza=True), dialect, pg)
    assert sql.startswith(f"{FROM_PLACE}LEFT OUTER {TO_RESTAURANT} WHERE NOT")
    assert params == [True]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_reverse_one_to_one_isnull_false_is_inner(dialect: str, pg: Any) -> None:
    sql, params = _ids(Place.objects.filter(restaurant__isnull=False), dialect, pg)
    assert (
        sql
        == f'{FROM_PLACE}INNER {TO_RESTAURANT} WHERE "mtisql_restaurant"."place_ptr_id" IS NOT NULL'
    )
    assert params == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_two_reverse_one_to_one_steps_both_inner(dialect: str, pg: Any) -> None:
    sql, params = _ids(Place.objects.filter(restaurant__italian__gnocchi=True), dialect, pg)
    assert sql == (
        f"{FROM_PLACE}INNER {TO_RESTAURANT} INNER {TO_ITALIAN} "
        'WHERE "mtisql_italian"."gnocchi" = %s'
    )
    assert params == [True]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_later_filter_demotes_a_join_an_or_made_outer(dialect: str, pg: Any) -> None:
    qs = Place.objects.filter(orm.Q(restaurant__serves_pizza=True) | orm.Q(name="x"))
    sql, _ = _ids(qs.filter(restaurant__serves_pizza=False), dialect, pg)
    assert sql.startswith(f"{FROM_PLACE}INNER {TO_RESTAURANT} WHERE")
    # The first queryset is unchanged (joins are replaced, never mutated).
    assert _ids(qs, dialect, pg)[0].startswith(f"{FROM_PLACE}LEFT OUTER {TO_RESTAURANT} WHERE")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_insert_of_the_child_part_writes_only_its_own_table(dialect: str, pg: Any) -> None:
    connection = _connection(dialect, pg)
    fields = _insert_fields(Restaurant, with_pk=True)
    assert [f.name for f in fields] == ["place_ptr", "serves_pizza"]
    ((sql, params),) = insert_sql(
        connection, "mtisql_restaurant", [f.column for f in fields], [[7, True]], []
    )
    assert sql == 'INSERT INTO "mtisql_restaurant" ("place_ptr_id", "serves_pizza") VALUES (%s, %s)'
    assert params == [7, True]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_update_of_a_child_filtered_on_a_parent_field_selects_pks_in_a_subquery(
    dialect: str, pg: Any
) -> None:
    connection = _connection(dialect, pg)
    query = Restaurant.objects.filter(name="Ann").query.chain()
    values = update_values(query, {"serves_pizza": False}, connection)
    sql, params = SQLUpdateCompiler(query, connection, values).as_sql()
    assert sql == (
        'UPDATE "mtisql_restaurant" SET "serves_pizza" = %s WHERE "place_ptr_id" IN '
        '(SELECT "U1_0"."place_ptr_id" FROM "mtisql_restaurant" "U1_0" INNER JOIN "mtisql_place" "U1_1" '
        'ON ("U1_0"."place_ptr_id" = "U1_1"."id") WHERE "U1_1"."name" = %s)'
    )
    assert params == [False, "Ann"]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_delete_of_the_child_rows_by_pk(dialect: str, pg: Any) -> None:
    connection = _connection(dialect, pg)
    sql, params = SQLDeleteCompiler(
        Restaurant.objects.filter(pk__in=[3]).query, connection
    ).as_sql()
    assert sql == 'DELETE FROM "mtisql_restaurant" WHERE "mtisql_restaurant"."place_ptr_id" IN (%s)'
    assert params == [3]


MENU_COLS = '"mtisql_menu"."id", "mtisql_menu"."place_id", "mtisql_menu"."dishes"'
TO_MENU = 'JOIN "mtisql_menu" ON ("mtisql_place"."id" = "mtisql_menu"."place_id")'


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_any_reverse_one_to_one_filter_is_inner(dialect: str, pg: Any) -> None:
    sql, params = _ids(Place.objects.filter(menu__dishes__gt=2), dialect, pg)
    assert sql == f'{FROM_PLACE}INNER {TO_MENU} WHERE "mtisql_menu"."dishes" > %s'
    assert params == [2]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_child_filtered_on_the_parents_reverse_one_to_one(dialect: str, pg: Any) -> None:
    sql, params = _select(Restaurant.objects.filter(menu__dishes=3), _connection(dialect, pg))
    assert (
        sql
        == f'SELECT {COLS} FROM "mtisql_restaurant" {JOIN} INNER {TO_MENU} WHERE "mtisql_menu"."dishes" = %s'
    )
    assert params == [3]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_select_related_from_a_child_of_the_parents_reverse_one_to_one(
    dialect: str, pg: Any
) -> None:
    sql, params = _select(Restaurant.objects.select_related("menu"), _connection(dialect, pg))
    # As Django: up the parent link, then LEFT OUTER to the parent's one-to-one.
    assert sql == f'SELECT {COLS}, {MENU_COLS} FROM "mtisql_restaurant" {JOIN} LEFT OUTER {TO_MENU}'
    assert params == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_only_on_a_child_selects_the_parent_link_as_pk(dialect: str, pg: Any) -> None:
    sql, _ = _select(Restaurant.objects.only("serves_pizza"), _connection(dialect, pg))
    assert sql == (
        'SELECT "mtisql_restaurant"."place_ptr_id", "mtisql_restaurant"."serves_pizza" '
        'FROM "mtisql_restaurant"'
    )
    sql, _ = _select(Restaurant.objects.only("name"), _connection(dialect, pg))
    assert sql == (
        'SELECT "mtisql_place"."name", "mtisql_restaurant"."place_ptr_id" '
        f'FROM "mtisql_restaurant" {JOIN}'
    )


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_filtered_relation_on_a_reverse_one_to_one_is_demoted_with_its_condition(
    dialect: str, pg: Any
) -> None:
    qs = Place.objects.annotate(
        r=orm.FilteredRelation("restaurant", condition=orm.Q(restaurant__serves_pizza=True))
    )
    on = 'JOIN "mtisql_restaurant" "r" ON ("mtisql_place"."id" = "r"."place_ptr_id" AND ("r"."serves_pizza" = %s))'
    sql, params = _ids(qs.filter(r__isnull=False), dialect, pg)
    assert sql == f'{FROM_PLACE}INNER {on} WHERE "r"."place_ptr_id" IS NOT NULL'
    assert params == [True]
    sql, params = _ids(qs.filter(r__isnull=True), dialect, pg)
    assert sql == f'{FROM_PLACE}LEFT OUTER {on} WHERE "r"."place_ptr_id" IS NULL'
    assert params == [True]
