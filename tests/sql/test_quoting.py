"""Identifiers with quote characters: every table, column and alias goes through one
chokepoint that doubles the double quote (``we"ird`` -> ``"we""ird"``); single quotes
need no escaping inside a double-quoted identifier. Values never become identifiers."""

from __future__ import annotations

import pytest

import orm
from orm import Count
from orm.sql.dml import SQLDeleteCompiler, SQLUpdateCompiler, insert_sql
from orm.utils.identifiers import check_alias, quote_name
from tests.sql.helpers import assert_sql
from tests.sql.models import Weird, WeirdChild

WEIRD_COLS = '"we""ird"."id", "we""ird"."o\'k", "we""ird"."sa""id"'
CHILD_COLS = '"child\'s"."id", "child\'s"."pa""rent"'


def test_quote_name_doubles_embedded_double_quotes():
    assert quote_name('we"ird') == '"we""ird"'
    assert quote_name("o'k") == '"o\'k"'
    assert quote_name('"already"') == '"""already"""'


def test_quote_name_refuses_nul():
    with pytest.raises(ValueError, match="NUL"):
        quote_name("a\x00b")


def test_select_filter_and_order_with_weird_names():
    assert_sql(
        Weird.objects.filter(ok="a", said__contains="b").order_by("-said"),
        f'SELECT {WEIRD_COLS} FROM "we""ird" WHERE ("we""ird"."o\'k" = %s AND "we""ird"."sa""id" LIKE %s '
        'ESCAPE \'\\\') ORDER BY "we""ird"."sa""id" DESC',
        ["a", "%b%"],
    )


def test_values_alias_is_the_field_name_not_the_column():
    assert_sql(Weird.objects.values("ok"), 'SELECT "we""ird"."o\'k" AS "ok" FROM "we""ird"')


def test_join_on_a_weird_fk_column():
    assert_sql(
        WeirdChild.objects.filter(parent__ok="a"),
        f'SELECT {CHILD_COLS} FROM "child\'s" INNER JOIN "we""ird" ON ("child\'s"."pa""rent" = "we""ird"."id") '
        'WHERE "we""ird"."o\'k" = %s',
        ["a"],
    )


def test_select_related_with_weird_names():
    assert_sql(
        WeirdChild.objects.select_related("parent"),
        f'SELECT {CHILD_COLS}, {WEIRD_COLS} FROM "child\'s" '
        'INNER JOIN "we""ird" ON ("child\'s"."pa""rent" = "we""ird"."id")',
    )


def test_subquery_aliases_with_weird_names():
    assert_sql(
        Weird.objects.exclude(children__id=3),
        f'SELECT {WEIRD_COLS} FROM "we""ird" WHERE NOT ("we""ird"."id" IN (SELECT DISTINCT "U1_0"."id" AS "pk" '
        'FROM "we""ird" "U1_0" LEFT OUTER JOIN "child\'s" "U1_1" ON ("U1_0"."id" = "U1_1"."pa""rent") '
        'WHERE "U1_1"."id" = %s))',
        [3],
    )


def test_group_by_with_weird_names():
    assert_sql(
        Weird.objects.values("ok").annotate(n=Count("children")).order_by("-n"),
        'SELECT "we""ird"."o\'k" AS "ok", COUNT("child\'s"."id") AS "n" FROM "we""ird" '
        'LEFT OUTER JOIN "child\'s" ON ("we""ird"."id" = "child\'s"."pa""rent") '
        'GROUP BY "we""ird"."o\'k" ORDER BY "n" DESC',
    )


def test_update_with_weird_names():
    conn = orm.connections["default"]
    query = Weird.objects.filter(ok="a").query
    said = Weird._meta.get_field("said")
    assert_sql(
        SQLUpdateCompiler(query, conn, [(said, "b")]).as_sql(),
        'UPDATE "we""ird" SET "sa""id" = %s WHERE "we""ird"."o\'k" = %s',
        ["b", "a"],
    )


def test_delete_across_a_join_with_weird_names():
    conn = orm.connections["default"]
    assert_sql(
        SQLDeleteCompiler(WeirdChild.objects.filter(parent__ok="a").query, conn).as_sql(),
        'DELETE FROM "child\'s" WHERE "id" IN (SELECT "U1_0"."id" FROM "child\'s" "U1_0" '
        'INNER JOIN "we""ird" "U1_1" ON ("U1_0"."pa""rent" = "U1_1"."id") WHERE "U1_1"."o\'k" = %s)',
        ["a"],
    )


def test_insert_with_weird_names():
    conn = orm.connections["default"]
    assert insert_sql(conn, 'we"ird', ["o'k", 'sa"id'], [["a", "b"]], ["id"]) == [
        ('INSERT INTO "we""ird" ("o\'k", "sa""id") VALUES (%s, %s) RETURNING "id"', ["a", "b"])
    ]


@pytest.mark.parametrize(
    "alias", ['x"y', "x y", "x;y", "x--y", "x/*y", "x.y", "x'y", "", "x\x00", "x$y", "x#y"]
)
def test_user_aliases_are_validated_before_quoting(alias):
    with pytest.raises(ValueError, match="Invalid alias"):
        check_alias(alias)
    with pytest.raises(ValueError, match="Invalid alias"):
        Weird.objects.annotate(**{alias: Count("id")})


def test_values_expression_alias_is_validated():
    with pytest.raises(ValueError, match="Invalid alias"):
        Weird.objects.values(**{'a" FROM x --': orm.F("ok")})
