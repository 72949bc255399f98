"""Compile-only SQL of the lookups issue 11 made the same on both backends.

JSON document lookups (``has_key``, ``has_keys``, ``has_any_keys``, ``contains``,
``contained_by``), a key compared with JSON null, UUID text lookups, invalid regular
expressions and durations beyond the column. Each is compiled for SQLite and for
PostgreSQL (a wrapper that never connects); keys and values are always parameters.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest

import orm
from orm import F
from orm.exceptions import EmptyResultSet
from tests.sql.helpers import ASSERTED_SEPARATELY, assert_sql, compile_sql

APP = "i11_json_sql"


class Doc(orm.Model):
    name = orm.CharField(max_length=50)
    data = orm.JSONField(null=True)
    uid = orm.UUIDField(null=True)
    length = orm.DurationField(null=True)

    class Meta:
        app_label = APP


T = '"i11_json_sql_doc"'
FROM = f'SELECT {T}."id", {T}."name", {T}."data", {T}."uid", {T}."length" FROM {T}'
DATA = f'{T}."data"'
UID = f'{T}."uid"'
ESCAPE = "ESCAPE '\\'"


def on(connection: Any, qs: Any) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


# ------------------------------------------------------------------- has_key family


def test_has_key_sqlite_names_an_object_key_even_of_digits():
    assert_sql(
        Doc.objects.filter(data__has_key="k"),
        f"{FROM} WHERE json_type({DATA}, %s) IS NOT NULL",
        ['$."k"'],
        postgresql=(f"{FROM} WHERE ({DATA} -> %s::text) IS NOT NULL", ["k"]),
    )
    # "0" is the object key "0", not array index [0] (that is data__0).
    assert_sql(
        Doc.objects.filter(data__has_key="0"),
        f"{FROM} WHERE json_type({DATA}, %s) IS NOT NULL",
        ['$."0"'],
        postgresql=(f"{FROM} WHERE ({DATA} -> %s::text) IS NOT NULL", ["0"]),
    )


def test_has_keys_and_has_any_keys_sqlite():
    one = f"json_type({DATA}, %s) IS NOT NULL"
    assert_sql(
        Doc.objects.filter(data__has_keys=["a", "b"]),
        f"{FROM} WHERE ({one} AND {one})",
        ['$."a"', '$."b"'],
        postgresql=(
            f"{FROM} WHERE (({DATA} -> %s::text) IS NOT NULL AND ({DATA} -> %s::text) IS NOT NULL)",
            ["a", "b"],
        ),
    )
    assert_sql(
        Doc.objects.filter(data__has_any_keys=["a", "1"]),
        f"{FROM} WHERE ({one} OR {one})",
        ['$."a"', '$."1"'],
        postgresql=(
            f"{FROM} WHERE (({DATA} -> %s::text) IS NOT NULL OR ({DATA} -> %s::text) IS NOT NULL)",
            ["a", "1"],
        ),
    )


def test_nested_has_key_sqlite_indexes_inner_digits_only():
    assert_sql(
        Doc.objects.filter(data__a__0__has_key="1"),
        f"{FROM} WHERE json_type({DATA}, %s) IS NOT NULL",
        ['$."a"[0]."1"'],
        postgresql=(f"{FROM} WHERE (({DATA} -> %s -> %s) -> %s::text) IS NOT NULL", ["a", 0, "1"]),
    )


def test_has_key_with_a_quote_walks_json_each_with_keys_bound_sqlite():
    assert_sql(
        Doc.objects.filter(data__has_key='q"k'),
        f"{FROM} WHERE (SELECT type FROM json_each({DATA}) WHERE key = %s) IS NOT NULL",
        ['q"k'],
        postgresql=(f"{FROM} WHERE ({DATA} -> %s::text) IS NOT NULL", ['q"k']),
    )
    inner = f"(SELECT value FROM json_each({DATA}) WHERE key = %s)"
    # The inner "0" is an array index (bound as int, or [0] in a path); the final
    # key an object key (bound as str, or ."0" in a path). Each key picks its form.
    assert_sql(
        Doc.objects.filter(data__0__has_keys=['"', "0"]),
        f"{FROM} WHERE ((SELECT type FROM json_each({inner}) WHERE key = %s) IS NOT NULL AND "
        f"json_type({DATA}, %s) IS NOT NULL)",
        [0, '"', '$[0]."0"'],
        postgresql=(
            f"{FROM} WHERE ((({DATA} -> %s) -> %s::text) IS NOT NULL AND (({DATA} -> %s) -> %s::text) IS NOT NULL)",
            [0, '"', 0, "0"],
        ),
    )


def test_has_key_family_postgresql(pg: Any):
    one = f"({DATA} -> %s::text) IS NOT NULL"
    assert on(pg, Doc.objects.filter(data__has_key="0")) == (f"{FROM} WHERE {one}", ["0"])
    assert on(pg, Doc.objects.filter(data__has_keys=["a", "b"])) == (
        f"{FROM} WHERE ({one} AND {one})",
        ["a", "b"],
    )
    assert on(pg, Doc.objects.filter(data__has_any_keys=["a", "b"])) == (
        f"{FROM} WHERE ({one} OR {one})",
        ["a", "b"],
    )
    # A key with NUL cannot exist in jsonb nor travel as text: NULL finds nothing.
    assert on(pg, Doc.objects.filter(data__has_key="k\x00")) == (f"{FROM} WHERE {one}", [None])


def test_nested_has_key_postgresql(pg: Any):
    assert on(pg, Doc.objects.filter(data__a__0__has_key="b")) == (
        f"{FROM} WHERE (({DATA} -> %s -> %s) -> %s::text) IS NOT NULL",
        ["a", 0, "b"],
    )


def test_hostile_has_key_stays_a_parameter(pg: Any):
    key = "a') OR 1=1 --"
    for sql, params in (
        compile_sql(Doc.objects.filter(data__has_keys=[key])),
        on(pg, Doc.objects.filter(data__x__has_any_keys=[key])),
    ):
        assert "OR 1=1" not in sql
        assert any(key in str(p) for p in params)


def test_has_key_arguments_are_checked_when_filtering():
    with pytest.raises(TypeError, match="str key"):
        Doc.objects.filter(data__has_key=["a"])
    with pytest.raises(TypeError, match="list of str keys"):
        Doc.objects.filter(data__has_any_keys="a")
    with pytest.raises(ValueError, match="at least one key"):
        Doc.objects.filter(data__has_any_keys=[])


# ------------------------------------------------------------------ containment


def test_containment_postgresql(pg: Any):
    assert on(pg, Doc.objects.filter(data__contains={"a": 1})) == (
        f"{FROM} WHERE ({DATA} @> %s::jsonb)",
        ['{"a": 1}'],
    )
    assert on(pg, Doc.objects.filter(data__contained_by=[1, "é"])) == (
        f"{FROM} WHERE ({DATA} <@ %s::jsonb)",
        ['[1, "é"]'],
    )
    assert on(pg, Doc.objects.filter(data__a__contains={"b": 1})) == (
        f"{FROM} WHERE (({DATA} -> %s) @> %s::jsonb)",
        ["a", '{"b": 1}'],
    )


@pytest.mark.parametrize("lookup", ["data__contains", "data__contained_by", "data__a__contains"])
def test_containment_is_not_supported_on_sqlite(lookup: str):
    with pytest.raises(orm.NotSupportedError, match="needs PostgreSQL"):
        compile_sql(Doc.objects.filter(**{lookup: {"a": 1}}))


def test_containment_value_is_checked_when_filtering():
    with pytest.raises(orm.DataError, match="NUL"):
        Doc.objects.filter(data__contains={"a": "\x00"})
    with pytest.raises(ValueError, match="not valid JSON"):
        Doc.objects.filter(data__contained_by=[float("nan")])


# --------------------------------------------------------- a key holding JSON null


def test_key_in_sqlite_compares_null_and_booleans_by_json_type():
    path = '$."a"'
    assert_sql(
        Doc.objects.filter(data__a__in=["x", None, True, 2]),
        f"{FROM} WHERE COALESCE(((json_extract({DATA}, %s) IN (%s, %s) "
        f"AND json_type({DATA}, %s) NOT IN ('true', 'false')) OR json_type({DATA}, %s) = 'null' "
        f"OR json_type({DATA}, %s) = %s), json_type({DATA}, %s) <> 'null')",
        [path, "x", 2, path, path, path, "true", path],
        postgresql=(
            f"{FROM} WHERE ({DATA} -> %s) = ANY(%s::jsonb[])",
            ["a", ['"x"', "null", "true", "2"]],
        ),
    )


def test_key_in_postgresql_compares_jsonb(pg: Any):
    sql, params = on(pg, Doc.objects.filter(data__a__in=["x", None, True]))
    assert sql == f"{FROM} WHERE ({DATA} -> %s) = ANY(%s::jsonb[])"
    assert params == ["a", ['"x"', "null", "true"]]


# ------------------------------------------------------------------ UUID text lookups


def test_uuid_text_lookups_strip_hyphens_sqlite():
    assert_sql(
        Doc.objects.filter(uid__contains="8400-e29b"),
        f"{FROM} WHERE {UID} LIKE %s {ESCAPE}",
        ["%8400e29b%"],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(
        Doc.objects.filter(uid__istartswith="550E-84"),
        f"{FROM} WHERE UPPER({UID}) LIKE UPPER(%s) {ESCAPE}",
        ["550E84%"],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(
        Doc.objects.filter(uid__iexact="550E8400-E29B-41D4-A716-446655440000"),
        f"{FROM} WHERE UPPER({UID}) = UPPER(%s)",
        ["550E8400E29B41D4A716446655440000"],
        postgresql=ASSERTED_SEPARATELY,
    )


def test_uuid_text_lookups_strip_hyphens_postgresql(pg: Any):
    hex_uid = f"REPLACE(({UID})::text, '-', '')"
    assert on(pg, Doc.objects.filter(uid__endswith="a716-4466")) == (
        f"{FROM} WHERE {hex_uid} LIKE %s {ESCAPE}",
        ["%a7164466"],
    )
    assert on(pg, Doc.objects.filter(uid__iexact="550E8400E29B41D4A716446655440000")) == (
        f"{FROM} WHERE UPPER({hex_uid}) = UPPER(%s)",
        ["550E8400E29B41D4A716446655440000"],
    )


def test_uuid_text_lookup_against_a_column_strips_its_hyphens():
    name = f"REPLACE(CAST({T}.\"name\" AS text), '-', '')"
    escaped = f"REPLACE(REPLACE(REPLACE({name}, '\\', '\\\\'), '%%', '\\%%'), '_', '\\_')"
    assert_sql(
        Doc.objects.filter(uid__startswith=F("name")),
        f"{FROM} WHERE {UID} LIKE (%s || {escaped} || %s) {ESCAPE}",
        ["", "%"],
        postgresql=(
            f"{FROM} WHERE REPLACE(({UID})::text, '-', '') LIKE (%s || REPLACE(REPLACE(REPLACE(REPLACE(CAST({T}.\"name\" AS text), '-', ''), '\\', '\\\\'), '%%', '\\%%'), '_', '\\_') || %s) ESCAPE '\\'",
            ["", "%"],
        ),
    )


def test_uuid_text_lookup_needs_text():
    with pytest.raises(TypeError, match="str or UUID"):
        Doc.objects.filter(uid__contains=5)


def test_uuid_exact_still_parses_either_spelling():
    assert_sql(
        Doc.objects.filter(uid="550e8400e29b41d4a716446655440000"),
        f"{FROM} WHERE {UID} = %s",
        ["550e8400e29b41d4a716446655440000"],
        postgresql=(
            f"{FROM} WHERE {UID} = %s",
            [uuid.UUID("550e8400-e29b-41d4-a716-446655440000")],
        ),
    )


# -------------------------------------------------------- regex and durations


@pytest.mark.parametrize("lookup", ["regex", "iregex"])
def test_invalid_regex_is_a_data_error_before_sql_on_sqlite(lookup: str):
    with pytest.raises(orm.DataError, match=r"Invalid regular expression '\(' for the " + lookup):
        compile_sql(Doc.objects.filter(**{f"name__{lookup}": "("}))


def test_valid_regex_compiles_on_both(pg: Any):
    assert_sql(
        Doc.objects.filter(name__regex="^ab"),
        f'{FROM} WHERE {T}."name" REGEXP %s',
        ["^ab"],
        postgresql=ASSERTED_SEPARATELY,
    )
    # PostgreSQL judges its own (POSIX) syntax: nothing is checked before SQL there.
    assert on(pg, Doc.objects.filter(name__regex="(")) == (
        f'{FROM} WHERE ({T}."name")::text ~ %s',
        ["("],
    )


def test_duration_beyond_the_column_folds_like_an_integer(pg: Any):
    huge = datetime.timedelta.max
    for compile_ in (compile_sql, lambda qs: on(pg, qs)):
        assert compile_(Doc.objects.filter(length__lt=huge)) == (
            f'{FROM} WHERE {T}."length" IS NOT NULL',
            [],
        )
        assert compile_(Doc.objects.filter(length__gte=datetime.timedelta.min)) == (
            f'{FROM} WHERE {T}."length" IS NOT NULL',
            [],
        )
    with pytest.raises(EmptyResultSet):
        compile_sql(Doc.objects.filter(length=huge))
    with pytest.raises(orm.DataError, match="out of range for DurationField"):
        compile_sql(Doc.objects.annotate(x=orm.Value(huge, output_field=orm.DurationField())))
