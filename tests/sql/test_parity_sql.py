"""Compile-only SQL of the Django-parity fixes (issue 11, items 15-25), per dialect.

Each shape is compiled for SQLite (the configured in-memory database) and for
PostgreSQL (a wrapper that never connects), asserting text and parameters
together. The results these statements give are checked on real databases in
``tests/integration/test_django_parity.py``.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest

import orm
from orm import Count, F, Sum, Value
from orm.exceptions import EmptyResultSet
from tests.sql.helpers import ASSERTED_SEPARATELY, assert_sql, placeholder_count


class Shift(orm.Model):
    start = orm.DateTimeField()
    end = orm.DateTimeField()
    planned = orm.DurationField()
    day = orm.DateField()
    due = orm.DateField()
    opens = orm.TimeField()
    closes = orm.TimeField()

    class Meta:
        app_label = "paritysql"


class Item(orm.Model):
    price = orm.DecimalField(max_digits=8, decimal_places=2)
    qty = orm.IntegerField()

    class Meta:
        app_label = "paritysql"


class Part(orm.Model):
    item = orm.ForeignKey(Item, on_delete=orm.CASCADE, related_name="parts")
    cost = orm.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        app_label = "paritysql"


class Writer(orm.Model):
    name = orm.CharField(max_length=50)

    class Meta:
        app_label = "paritysql"


class Volume(orm.Model):
    title = orm.CharField(max_length=50)
    writers = orm.ManyToManyField(Writer, related_name="volumes")

    class Meta:
        app_label = "paritysql"


HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
START, END, PLANNED = (
    '"paritysql_shift"."start"',
    '"paritysql_shift"."end"',
    '"paritysql_shift"."planned"',
)
DAY_COL, DUE, OPENS, CLOSES = (
    '"paritysql_shift"."day"',
    '"paritysql_shift"."due"',
    '"paritysql_shift"."opens"',
    '"paritysql_shift"."closes"',
)
FROM_SHIFT = 'FROM "paritysql_shift"'
PRICE, QTY = '"paritysql_item"."price"', '"paritysql_item"."qty"'


def assert_pg_sql(pg: Any, qs: Any, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """``assert_sql`` for PostgreSQL, whose driver adapts timedelta and Decimal itself."""
    actual_sql, actual_params = qs.query.get_compiler(connection=pg).as_sql()
    assert actual_sql == sql
    assert list(actual_params) == list(params)
    assert placeholder_count(actual_sql) == len(actual_params), "placeholders and params differ"


def annotated(expression: Any) -> orm.QuerySet[Any]:
    return Shift.objects.annotate(x=expression).values("x")


# -- item 15: date, datetime, time and duration arithmetic --------------------------------


def test_datetime_plus_duration_in_a_filter(pg: Any) -> None:
    qs = Shift.objects.filter(end__lt=F("start") + F("planned")).values("id")
    select = f'SELECT "paritysql_shift"."id" AS "id" {FROM_SHIFT}'
    assert_sql(
        qs,
        f"{select} WHERE {END} < orm_datetime_add({START}, {PLANNED})",
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f"{select} WHERE {END} < ({START} + {PLANNED})")


def test_duration_plus_datetime_puts_the_datetime_first(pg: Any) -> None:
    qs = annotated(F("planned") + F("start"))
    assert_sql(
        qs,
        f'SELECT orm_datetime_add({START}, {PLANNED}) AS "x" {FROM_SHIFT}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f'SELECT ({START} + {PLANNED}) AS "x" {FROM_SHIFT}')


def test_datetime_minus_a_timedelta_value(pg: Any) -> None:
    qs = annotated(F("start") - HOUR)
    assert_sql(
        qs,
        f'SELECT orm_datetime_add({START}, -(%s)) AS "x" {FROM_SHIFT}',
        [3_600_000_000],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f'SELECT ({START} - %s) AS "x" {FROM_SHIFT}', [HOUR])


def test_datetime_minus_datetime(pg: Any) -> None:
    qs = annotated(F("end") - F("start"))
    assert_sql(
        qs,
        f'SELECT orm_timestamp_diff({END}, {START}) AS "x" {FROM_SHIFT}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f'SELECT ({END} - {START}) AS "x" {FROM_SHIFT}')


def test_datetime_minus_date(pg: Any) -> None:
    qs = annotated(F("end") - F("day"))
    assert_sql(
        qs,
        f'SELECT orm_timestamp_diff({END}, {DAY_COL}) AS "x" {FROM_SHIFT}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f'SELECT ({END} - {DAY_COL}) AS "x" {FROM_SHIFT}')


def test_date_minus_date_is_an_interval_on_postgresql(pg: Any) -> None:
    qs = annotated(F("due") - F("day"))
    assert_sql(
        qs,
        f'SELECT orm_timestamp_diff({DUE}, {DAY_COL}) AS "x" {FROM_SHIFT}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f"SELECT (interval '1 day' * ({DUE} - {DAY_COL})) AS \"x\" {FROM_SHIFT}")


def test_date_plus_and_minus_duration_are_utc_timestamps_on_postgresql(pg: Any) -> None:
    qs = annotated(F("day") + F("planned"))
    assert_sql(
        qs,
        f'SELECT orm_datetime_add({DAY_COL}, {PLANNED}) AS "x" {FROM_SHIFT}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(
        pg, qs, f"SELECT (({DAY_COL} + {PLANNED}) AT TIME ZONE 'UTC') AS \"x\" {FROM_SHIFT}"
    )
    qs = annotated(F("day") - F("planned"))
    assert_sql(
        qs,
        f'SELECT orm_datetime_add({DAY_COL}, -({PLANNED})) AS "x" {FROM_SHIFT}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(
        pg, qs, f"SELECT (({DAY_COL} - {PLANNED}) AT TIME ZONE 'UTC') AS \"x\" {FROM_SHIFT}"
    )


def test_time_arithmetic(pg: Any) -> None:
    qs = annotated(F("opens") + F("planned"))
    assert_sql(
        qs,
        f'SELECT orm_time_add({OPENS}, {PLANNED}) AS "x" {FROM_SHIFT}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f'SELECT ({OPENS} + {PLANNED}) AS "x" {FROM_SHIFT}')
    qs = annotated(F("closes") - F("opens"))
    assert_sql(
        qs,
        f'SELECT orm_time_diff({CLOSES}, {OPENS}) AS "x" {FROM_SHIFT}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f'SELECT ({CLOSES} - {OPENS}) AS "x" {FROM_SHIFT}')


def test_a_difference_compares_with_a_timedelta_as_a_duration(pg: Any) -> None:
    qs = Shift.objects.annotate(x=F("end") - F("start")).filter(x__gt=2 * HOUR).values("x")
    diff = f"orm_timestamp_diff({END}, {START})"
    assert_sql(
        qs,
        f'SELECT {diff} AS "x" {FROM_SHIFT} WHERE {diff} > %s',
        [7_200_000_000],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(
        pg,
        qs,
        f'SELECT ({END} - {START}) AS "x" {FROM_SHIFT} WHERE ({END} - {START}) > %s',
        [2 * HOUR],
    )


def test_a_date_compared_with_a_datetime_expression_is_its_midnight_on_sqlite(pg: Any) -> None:
    qs = Shift.objects.filter(due__gte=F("day") + DAY).values("id")
    select = f'SELECT "paritysql_shift"."id" AS "id" {FROM_SHIFT}'
    assert_sql(
        qs,
        f"{select} WHERE ({DUE} || ' 00:00:00.000000') >= orm_datetime_add({DAY_COL}, %s)",
        [86_400_000_000],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f"{select} WHERE {DUE} >= (({DAY_COL} + %s) AT TIME ZONE 'UTC')", [DAY])
    qs = Shift.objects.filter(end__lt=F("day")).values("id")
    assert_sql(
        qs,
        f"{select} WHERE {END} < ({DAY_COL} || ' 00:00:00.000000')",
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f"{select} WHERE {END} < {DAY_COL}")


def test_a_plain_date_value_is_not_rewritten(pg: Any) -> None:
    qs = Shift.objects.filter(due__gte=datetime.date(2024, 1, 2)).values("id")
    select = f'SELECT "paritysql_shift"."id" AS "id" {FROM_SHIFT}'
    assert_sql(qs, f"{select} WHERE {DUE} >= %s", ["2024-01-02"], postgresql=ASSERTED_SEPARATELY)
    assert_pg_sql(pg, qs, f"{select} WHERE {DUE} >= %s", [datetime.date(2024, 1, 2)])


def test_update_of_a_date_column_keeps_the_date_of_a_shifted_date(
    pg: Any, captured_sql: Any
) -> None:
    from orm.query.writes import update_values
    from orm.sql.dml import SQLUpdateCompiler

    Shift.objects.update(due=F("due") + DAY)
    assert captured_sql == [
        (
            'UPDATE "paritysql_shift" SET "due" = date(orm_datetime_add("paritysql_shift"."due", %s))',
            [86_400_000_000],
        ),
    ]
    query = Shift.objects.all().query.chain()
    sql, params = SQLUpdateCompiler(
        query, pg, update_values(query, {"due": F("due") + DAY}, pg)
    ).as_sql()
    assert sql == (
        'UPDATE "paritysql_shift" SET "due" = '
        "(((\"paritysql_shift\".\"due\" + %s) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::date"
    )
    assert params == [DAY]


def test_arithmetic_that_means_nothing_for_dates_is_refused_before_any_sql() -> None:
    with pytest.raises(orm.FieldError, match=r"DurationField - DateTimeField"):
        annotated(F("planned") - F("start"))
    with pytest.raises(orm.FieldError, match=r"DateField \+ DateField"):
        annotated(F("day") + F("due"))
    with pytest.raises(orm.FieldError, match=r"TimeField % BigIntegerField"):
        annotated(F("opens") % 2)


def test_an_explicit_output_field_allows_other_arithmetic(pg: Any) -> None:
    qs = annotated(orm.ExpressionWrapper(F("day") + 1, output_field=orm.DateField()))
    assert_pg_sql(pg, qs, f'SELECT ({DAY_COL} + %s) AS "x" {FROM_SHIFT}', [1])


def test_a_null_operand_keeps_plain_arithmetic(pg: Any) -> None:
    qs = annotated(F("start") + Value(None))
    assert_sql(qs, f'SELECT ({START} + NULL) AS "x" {FROM_SHIFT}')
    assert_pg_sql(pg, qs, f'SELECT ({START} + NULL) AS "x" {FROM_SHIFT}')


# -- item 16: decimal expressions on SQLite ------------------------------------------------


def test_a_computed_decimal_is_cast_to_numeric_when_compared_on_sqlite(pg: Any) -> None:
    qs = Item.objects.annotate(x=F("price") * 2).filter(x__gt=decimal.Decimal("15")).values("x")
    select = f'SELECT ({PRICE} * %s) AS "x" FROM "paritysql_item"'
    assert_sql(
        qs,
        f"{select} WHERE CAST(({PRICE} * %s) AS NUMERIC) > %s",
        [2, 2, "15"],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f"{select} WHERE ({PRICE} * %s) > %s", [2, 2, decimal.Decimal("15")])


def test_a_decimal_expression_over_an_aggregate_is_cast_in_having(pg: Any) -> None:
    qs = (
        Item.objects.annotate(s=Sum("parts__cost"))
        .annotate(n=F("price") - F("s"))
        .filter(n__gt=0)
        .values("n")
    )
    needed = f'({PRICE} - SUM("paritysql_part"."cost"))'
    head = (
        f'SELECT {needed} AS "n" FROM "paritysql_item" LEFT OUTER JOIN "paritysql_part" '
        'ON ("paritysql_item"."id" = "paritysql_part"."item_id") GROUP BY "paritysql_item"."id"'
    )
    assert_sql(
        qs, f"{head} HAVING CAST({needed} AS NUMERIC) > %s", ["0"], postgresql=ASSERTED_SEPARATELY
    )
    assert_pg_sql(pg, qs, f"{head} HAVING {needed} > %s", [decimal.Decimal("0")])


def test_a_decimal_column_is_compared_as_it_is(pg: Any) -> None:
    qs = Item.objects.filter(price__gt=decimal.Decimal("1.5")).values("id")
    select = 'SELECT "paritysql_item"."id" AS "id" FROM "paritysql_item"'
    assert_sql(qs, f"{select} WHERE {PRICE} > %s", ["1.5"], postgresql=ASSERTED_SEPARATELY)
    assert_pg_sql(pg, qs, f"{select} WHERE {PRICE} > %s", [decimal.Decimal("1.5")])


def test_decimal_division_divides_reals_on_sqlite(pg: Any) -> None:
    qs = Item.objects.annotate(x=F("price") / 3).values("x")
    assert_sql(
        qs,
        f'SELECT (CAST({PRICE} AS REAL) / %s) AS "x" FROM "paritysql_item"',
        [3],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_pg_sql(pg, qs, f'SELECT ({PRICE} / %s) AS "x" FROM "paritysql_item"', [3])
    # Integer division stays integer division, as on PostgreSQL.
    qs = Item.objects.annotate(x=F("qty") / 3).values("x")
    assert_sql(qs, f'SELECT ({QTY} / %s) AS "x" FROM "paritysql_item"', [3])


# -- item 17: union().none() ---------------------------------------------------------------


def test_none_after_union_compiles_to_nothing(pg: Any) -> None:
    qs = Item.objects.filter(qty=1).union(Item.objects.filter(qty=2)).none()
    with pytest.raises(EmptyResultSet):
        qs.query.sql_with_params()
    with pytest.raises(EmptyResultSet):
        qs.query.get_compiler(connection=pg).as_sql()


# -- item 24: values_list() + annotate() ---------------------------------------------------


def test_values_list_then_annotate_selects_and_groups(pg: Any) -> None:
    qs = Item.objects.values_list("qty").annotate(c=Count("id"))
    sql = (
        f'SELECT {QTY} AS "qty", COUNT("paritysql_item"."id") AS "c" FROM "paritysql_item" '
        f"GROUP BY {QTY}"
    )
    assert_sql(qs, sql)
    assert_pg_sql(pg, qs, sql)


# -- item 25: filter() after annotate() over a multi-valued relation -----------------------

JOIN_WRITERS = (
    'LEFT OUTER JOIN "paritysql_volume_writers" ON ("paritysql_volume"."id" = "paritysql_volume_writers"."volume_id") '
    'LEFT OUTER JOIN "paritysql_writer" ON ("paritysql_volume_writers"."writer_id" = "paritysql_writer"."id")'
)
GROUP_VOLUME = 'GROUP BY "paritysql_volume"."id", "paritysql_volume"."title"'


def test_filter_after_annotate_joins_the_relation_again(pg: Any) -> None:
    qs = (
        Volume.objects.annotate(n=Count("writers"))
        .filter(writers__name="N", n__gt=1)
        .values("title")
    )
    sql = (
        f'SELECT "paritysql_volume"."title" AS "title" FROM "paritysql_volume" {JOIN_WRITERS} '
        'LEFT OUTER JOIN "paritysql_volume_writers" "T4" ON ("paritysql_volume"."id" = "T4"."volume_id") '
        'LEFT OUTER JOIN "paritysql_writer" "T5" ON ("T4"."writer_id" = "T5"."id") '
        f'WHERE "T5"."name" = %s {GROUP_VOLUME} HAVING COUNT("paritysql_writer"."id") > %s'
    )
    assert_sql(qs, sql, ["N", 1])
    assert_pg_sql(pg, qs, sql, ["N", 1])


def test_annotate_after_filter_reuses_the_filter_join(pg: Any) -> None:
    qs = Volume.objects.filter(writers__name="N").annotate(n=Count("writers")).values("title", "n")
    sql = (
        'SELECT "paritysql_volume"."title" AS "title", COUNT("paritysql_writer"."id") AS "n" '
        f'FROM "paritysql_volume" {JOIN_WRITERS} WHERE "paritysql_writer"."name" = %s {GROUP_VOLUME}'
    )
    assert_sql(qs, sql, ["N"])
    assert_pg_sql(pg, qs, sql, ["N"])


def test_annotate_after_two_filters_reuses_the_latest_join() -> None:
    qs = (
        Volume.objects.filter(writers__name="A")
        .filter(writers__name="B")
        .annotate(n=Count("writers"))
        .values("n")
    )
    sql, params = qs.query.sql_with_params()
    assert sql.startswith('SELECT COUNT("T5"."id") AS "n" FROM "paritysql_volume"')
    assert list(params) == ["A", "B"]
