"""Compile-only SQL of orm.functions, per dialect (text and parameters together).

SQLite is the configured in-memory database; PostgreSQL is a wrapper that
never connects. The results are checked on real databases in
``tests/integration/test_functions_*.py``.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest

import orm
from orm import F, Value
from orm import functions as fn
from tests.sql.helpers import ASSERTED_SEPARATELY, assert_sql, placeholder_count


class Gadget(orm.Model):
    name = orm.CharField(max_length=50)
    note = orm.TextField(null=True)
    qty = orm.IntegerField()
    weight = orm.FloatField()
    price = orm.DecimalField(max_digits=8, decimal_places=2)
    made = orm.DateTimeField()
    day = orm.DateField()
    opens = orm.TimeField()

    class Meta:
        app_label = "functionsql"


T = '"functionsql_gadget"'
NAME, NOTE, QTY, WEIGHT, PRICE = (f'{T}."{c}"' for c in ("name", "note", "qty", "weight", "price"))
MADE, DAY, OPENS = (f'{T}."{c}"' for c in ("made", "day", "opens"))
FROM = f"FROM {T}"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def x(expression: Any) -> orm.QuerySet[Any]:
    return Gadget.objects.annotate(x=expression).values("x")


def both(
    pg: Any, expression: Any, sqlite: tuple[str, list[Any]], postgres: tuple[str, list[Any]]
) -> None:
    """Assert the SELECT of ``expression`` as ``x`` on both dialects."""
    qs = x(expression)
    assert_sql(qs, f'SELECT {sqlite[0]} AS "x" {FROM}', sqlite[1], postgresql=ASSERTED_SEPARATELY)
    sql, params = qs.query.get_compiler(connection=pg).as_sql()
    assert sql == f'SELECT {postgres[0]} AS "x" {FROM}'
    assert list(params) == postgres[1]
    assert placeholder_count(sql) == len(params)


# -- text ----------------------------------------------------------------------------


def test_concat_treats_null_as_empty(pg: Any) -> None:
    both(
        pg,
        fn.Concat("name", Value("-"), "note"),
        (f"COALESCE({NAME}, '') || COALESCE(COALESCE(%s, '') || COALESCE({NOTE}, ''), '')", ["-"]),
        (f"CONCAT(({NAME})::text, (CONCAT((%s)::text, ({NOTE})::text))::text)", ["-"]),
    )


@pytest.mark.parametrize(
    ("expression", "sqlite", "postgres", "params"),
    [
        (fn.Left("name", 3), f"SUBSTR({NAME}, %s, %s)", f"LEFT({NAME}, %s)", None),
        (fn.Right("name", 3), f"SUBSTR({NAME}, -(%s))", f"RIGHT({NAME}, %s)", [3]),
        (fn.Substr("name", 2, 3), f"SUBSTR({NAME}, %s, %s)", f"SUBSTRING({NAME}, %s, %s)", [2, 3]),
        (fn.Substr("name", 2), f"SUBSTR({NAME}, %s)", f"SUBSTRING({NAME}, %s)", [2]),
        (
            fn.LPad("name", 8, Value("*")),
            f"LPAD({NAME}, %s, %s)",
            f"LPAD({NAME}, %s, %s)",
            [8, "*"],
        ),
        (fn.RPad("name", 8), f"RPAD({NAME}, %s, %s)", f"RPAD({NAME}, %s, %s)", [8, " "]),
        (fn.Repeat("name", 2), f"REPEAT({NAME}, %s)", f"REPEAT({NAME}, %s)", [2]),
        (
            fn.Replace("name", Value("a"), Value("b")),
            f"REPLACE({NAME}, %s, %s)",
            f"REPLACE({NAME}, %s, %s)",
            ["a", "b"],
        ),
        (
            fn.Replace("name", Value("a")),
            f"REPLACE({NAME}, %s, %s)",
            f"REPLACE({NAME}, %s, %s)",
            ["a", ""],
        ),
        (fn.StrIndex("name", Value("g")), f"INSTR({NAME}, %s)", f"STRPOS({NAME}, %s)", ["g"]),
        (fn.Reverse("name"), f"REVERSE({NAME})", f"REVERSE({NAME})", []),
        (fn.Trim("name"), f"TRIM({NAME})", f"TRIM({NAME})", []),
        (fn.LTrim("name"), f"LTRIM({NAME})", f"LTRIM({NAME})", []),
        (fn.RTrim("name"), f"RTRIM({NAME})", f"RTRIM({NAME})", []),
        (fn.Chr("qty"), f"CHAR({QTY})", f"CHR({QTY})", []),
        (fn.Ord("name"), f"UNICODE({NAME})", f"ASCII({NAME})", []),
        (fn.MD5("name"), f"MD5({NAME})", f"MD5({NAME})", []),
        (fn.SHA1("name"), f"SHA1({NAME})", f"ENCODE(DIGEST({NAME}, 'sha1'), 'hex')", []),
        (
            fn.SHA256("name"),
            f"SHA256({NAME})",
            f"ENCODE(SHA256(CONVERT_TO({NAME}, 'UTF8')), 'hex')",
            [],
        ),
        (
            fn.SHA512("name"),
            f"SHA512({NAME})",
            f"ENCODE(SHA512(CONVERT_TO({NAME}, 'UTF8')), 'hex')",
            [],
        ),
        (fn.Collate("name", "C"), f'{NAME} COLLATE "C"', f'{NAME} COLLATE "C"', []),
    ],
)
def test_text_functions(
    pg: Any, expression: Any, sqlite: str, postgres: str, params: list[Any] | None
) -> None:
    if params is None:  # Left: SQLite takes SUBSTR(x, 1, n)
        both(pg, expression, (sqlite, [1, 3]), (postgres, [3]))
    else:
        both(pg, expression, (sqlite, params), (postgres, params))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: fn.Concat("name"), "Concat must take at least two expressions"),
        (lambda: fn.LPad("name", -1), "'length' must be greater or equal to 0."),
        (lambda: fn.Left("name", 0), "'length' must be greater than 0."),
        (lambda: fn.Repeat("name", -2), "'number' must be greater or equal to 0."),
        (lambda: fn.Substr("name", 0), "'pos' must be greater than 0"),
        (lambda: fn.Collate("name", "C; DROP TABLE x"), "Invalid collation name"),
        (lambda: fn.Greatest("qty"), "Greatest must take at least two expressions"),
        (lambda: fn.Least("qty"), "Least must take at least two expressions"),
        (lambda: fn.Coalesce("qty"), "Coalesce must take at least two expressions"),
    ],
)
def test_bad_arguments_are_refused_when_built(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        build()


# -- math ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "sql"),
    [
        (fn.Abs("qty"), f"ABS({QTY})"),
        (fn.Ceil("weight"), f"CEILING({WEIGHT})"),
        (fn.Floor("weight"), f"FLOOR({WEIGHT})"),
        (fn.Sign("qty"), f"SIGN({QTY})"),
        (fn.Sqrt("qty"), f"SQRT({QTY})"),
        (fn.Exp("weight"), f"EXP({WEIGHT})"),
        (fn.Ln("weight"), f"LN({WEIGHT})"),
        (fn.Sin("weight"), f"SIN({WEIGHT})"),
        (fn.Cos("weight"), f"COS({WEIGHT})"),
        (fn.Tan("weight"), f"TAN({WEIGHT})"),
        (fn.Cot("weight"), f"COT({WEIGHT})"),
        (fn.ASin("weight"), f"ASIN({WEIGHT})"),
        (fn.ACos("weight"), f"ACOS({WEIGHT})"),
        (fn.ATan("weight"), f"ATAN({WEIGHT})"),
        (fn.ATan2("weight", "qty"), f"ATAN2({WEIGHT}, {QTY})"),
        (fn.Degrees("weight"), f"DEGREES({WEIGHT})"),
        (fn.Radians("weight"), f"RADIANS({WEIGHT})"),
        (fn.Power("qty", "qty"), f"POWER({QTY}, {QTY})"),
        (fn.Pi(), "PI()"),
    ],
)
def test_math_functions_are_the_same_sql_on_both(pg: Any, expression: Any, sql: str) -> None:
    both(pg, expression, (sql, []), (sql, []))


def test_float_arguments_are_numeric_on_postgresql(pg: Any) -> None:
    numeric = "numeric(1000, 15)"
    both(
        pg,
        fn.Log("weight", "qty"),
        (f"LOG({WEIGHT}, {QTY})", []),
        (f"LOG(CAST({WEIGHT} AS {numeric}), {QTY})", []),
    )
    both(
        pg,
        fn.Mod("weight", "weight"),
        (f"MOD({WEIGHT}, {WEIGHT})", []),
        (f"MOD(CAST({WEIGHT} AS {numeric}), CAST({WEIGHT} AS {numeric}))", []),
    )
    both(
        pg,
        fn.Round("weight", 2),
        (f"ROUND({WEIGHT}, %s)", [2]),
        (f"ROUND(CAST({WEIGHT} AS {numeric}), %s)", [2]),
    )
    both(pg, fn.Round("price"), (f"ROUND({PRICE}, %s)", [0]), (f"ROUND({PRICE}, %s)", [0]))


def test_round_refuses_a_negative_precision_on_sqlite(pg: Any) -> None:
    with pytest.raises(ValueError, match="SQLite does not support negative precision."):
        str(x(fn.Round("qty", -1)).query)
    sql, params = x(fn.Round("qty", -1)).query.get_compiler(connection=pg).as_sql()
    assert (sql, list(params)) == (f'SELECT ROUND({QTY}, %s) AS "x" {FROM}', [-1])


def test_random_is_a_float_on_both(pg: Any) -> None:
    both(pg, fn.Random(), ("RAND()", []), ("RANDOM()", []))


def test_math_output_types() -> None:
    assert isinstance(fn.Sqrt(Value(4)).output_field, orm.FloatField)
    assert isinstance(fn.Sqrt(Value(4.0)).output_field, orm.FloatField)
    assert isinstance(fn.Abs(Value(-4)).output_field, orm.BigIntegerField)


# -- comparison ----------------------------------------------------------------------


def test_greatest_least_nullif(pg: Any) -> None:
    both(pg, fn.Greatest("qty", Value(3)), (f"MAX({QTY}, %s)", [3]), (f"GREATEST({QTY}, %s)", [3]))
    both(pg, fn.Least("qty", Value(3)), (f"MIN({QTY}, %s)", [3]), (f"LEAST({QTY}, %s)", [3]))
    both(
        pg,
        fn.NullIf("name", Value("")),
        (f"NULLIF({NAME}, %s)", [""]),
        (f"NULLIF({NAME}, %s)", [""]),
    )


def test_json_object_keys_are_parameters(pg: Any) -> None:
    both(
        pg,
        fn.JSONObject(n="name", q="qty"),
        (f"JSON_OBJECT(%s, {NAME}, %s, {QTY})", ["n", "q"]),
        (f"JSONB_BUILD_OBJECT((%s)::text, {NAME}, (%s)::text, {QTY})", ["n", "q"]),
    )


@pytest.mark.parametrize(
    ("field", "sqlite", "postgres"),
    [
        (orm.IntegerField(), f"CAST({WEIGHT} AS integer)", f"CAST({WEIGHT} AS integer)"),
        (orm.BigIntegerField(), f"CAST({WEIGHT} AS bigint)", f"CAST({WEIGHT} AS bigint)"),
        (orm.FloatField(), f"CAST({WEIGHT} AS real)", f"CAST({WEIGHT} AS double precision)"),
        (
            orm.DecimalField(max_digits=6, decimal_places=1),
            f"CAST({WEIGHT} AS decimal)",
            f"CAST({WEIGHT} AS numeric(6, 1))",
        ),
        (orm.CharField(max_length=10), f"CAST({WEIGHT} AS text)", f"CAST({WEIGHT} AS varchar(10))"),
        (orm.TextField(), f"CAST({WEIGHT} AS text)", f"CAST({WEIGHT} AS text)"),
        (orm.BooleanField(), f"CAST({WEIGHT} AS bool)", f"CAST({WEIGHT} AS boolean)"),
        (orm.DateField(), f"date({WEIGHT})", f"CAST({WEIGHT} AS date)"),
        # Registered functions, not strftime('%f'), which keeps milliseconds only.
        (
            orm.DateTimeField(),
            f"orm_datetime_cast({WEIGHT})",
            f"CAST({WEIGHT} AS timestamp with time zone)",
        ),
        (orm.TimeField(), f"orm_datetime_cast_time({WEIGHT}, NULL)", f"CAST({WEIGHT} AS time)"),
        (orm.DurationField(), f"CAST({WEIGHT} AS bigint)", f"CAST({WEIGHT} AS interval)"),
        (orm.UUIDField(), f"CAST({WEIGHT} AS text)", f"CAST({WEIGHT} AS uuid)"),
        (orm.JSONField(), f"CAST({WEIGHT} AS text)", f"CAST({WEIGHT} AS jsonb)"),
    ],
)
def test_cast_to_every_field_type(pg: Any, field: Any, sqlite: str, postgres: str) -> None:
    both(pg, fn.Cast("weight", field), (sqlite, []), (postgres, []))


# -- date and time -------------------------------------------------------------------


def test_now(pg: Any) -> None:
    both(
        pg,
        fn.Now(),
        ("strftime('%%Y-%%m-%%d %%H:%%M:%%f000', 'now')", []),
        ("STATEMENT_TIMESTAMP()", []),
    )


@pytest.mark.parametrize(
    ("expression", "sqlite", "postgres"),
    [
        (
            fn.ExtractYear("made"),
            (f"CAST(strftime('%%Y', {MADE}) AS INTEGER)", []),
            (f"CAST(EXTRACT(YEAR FROM {MADE}) AS integer)", []),
        ),
        (
            fn.ExtractQuarter("day"),
            (f"((CAST(strftime('%%m', {DAY}) AS INTEGER) + 2) / 3)", []),
            (f"CAST(EXTRACT(QUARTER FROM {DAY}) AS integer)", []),
        ),
        (
            fn.ExtractWeek("day"),
            (f"orm_datetime_extract(%s, {DAY}, %s)", ["week", None]),
            (f"CAST(EXTRACT(WEEK FROM {DAY}) AS integer)", []),
        ),
        (
            fn.ExtractIsoYear("made"),
            (f"orm_datetime_extract(%s, {MADE}, %s)", ["iso_year", None]),
            (f"CAST(EXTRACT(ISOYEAR FROM {MADE}) AS integer)", []),
        ),
        (
            fn.ExtractIsoWeekDay("made"),
            (f"orm_datetime_extract(%s, {MADE}, %s)", ["iso_week_day", None]),
            (f"CAST(EXTRACT(ISODOW FROM {MADE}) AS integer)", []),
        ),
        (
            fn.ExtractHour("made", tzinfo=PARIS),
            (f"orm_datetime_extract(%s, {MADE}, %s)", ["hour", "Europe/Paris"]),
            (f"CAST(EXTRACT(HOUR FROM ({MADE} AT TIME ZONE %s)) AS integer)", ["Europe/Paris"]),
        ),
        (
            fn.ExtractMinute("opens"),
            (f"CAST(strftime('%%M', {OPENS}) AS INTEGER)", []),
            (f"CAST(EXTRACT(MINUTE FROM {OPENS}) AS integer)", []),
        ),
    ],
)
def test_extract(pg: Any, expression: Any, sqlite: Any, postgres: Any) -> None:
    both(pg, expression, sqlite, postgres)


@pytest.mark.parametrize(
    ("expression", "sqlite", "postgres"),
    [
        (
            fn.TruncMonth("made"),
            (f"strftime('%%Y-%%m-01 00:00:00', {MADE})", []),
            (f"DATE_TRUNC(%s, {MADE}, 'UTC')", ["month"]),
        ),
        (
            fn.TruncWeek("made"),
            (f"orm_datetime_trunc(%s, {MADE}, %s)", ["week", None]),
            (f"DATE_TRUNC(%s, {MADE}, 'UTC')", ["week"]),
        ),
        (
            fn.Trunc("made", "day", tzinfo=PARIS),
            (f"orm_datetime_trunc(%s, {MADE}, %s)", ["day", "Europe/Paris"]),
            (f"DATE_TRUNC(%s, {MADE}, %s)", ["day", "Europe/Paris"]),
        ),
        (
            fn.TruncQuarter("day"),
            (f"orm_datetime_trunc(%s, {DAY}, %s)", ["quarter", None]),
            (f"DATE_TRUNC(%s, ({DAY})::timestamp)::date", ["quarter"]),
        ),
        (
            fn.TruncHour("opens"),
            (f"orm_datetime_trunc(%s, {OPENS}, NULL)", ["hour"]),
            (f"DATE_TRUNC(%s, ({OPENS})::interval)::time", ["hour"]),
        ),
        (
            fn.TruncYear("made", output_field=orm.DateField()),
            (f"strftime('%%Y-01-01', date({MADE}))", []),
            (f"DATE_TRUNC(%s, (({MADE} AT TIME ZONE 'UTC')::date)::timestamp)::date", ["year"]),
        ),
        (
            fn.TruncDate("made", tzinfo=PARIS),
            (f"orm_datetime_cast_date({MADE}, %s)", ["Europe/Paris"]),
            (f"({MADE} AT TIME ZONE %s)::date", ["Europe/Paris"]),
        ),
        (
            fn.TruncTime("made"),
            (f"orm_datetime_cast_time({MADE}, %s)", [None]),
            (f"({MADE} AT TIME ZONE 'UTC')::time", []),
        ),
    ],
)
def test_trunc(pg: Any, expression: Any, sqlite: Any, postgres: Any) -> None:
    both(pg, expression, sqlite, postgres)


def test_date_part_lookups(pg: Any) -> None:
    qs = Gadget.objects.filter(made__iso_week_day=1, day__quarter=2, made__time__hour=9).values(
        "id"
    )
    where = (
        f"(((CAST(strftime('%%m', {DAY}) AS INTEGER) + 2) / 3) = %s AND orm_datetime_extract(%s, {MADE}, %s)"
        f" = %s AND CAST(strftime('%%H', orm_datetime_cast_time({MADE}, %s)) AS INTEGER) = %s)"
    )
    assert_sql(
        qs,
        f'SELECT {T}."id" AS "id" {FROM} WHERE {where}',
        [2, "iso_week_day", None, 1, None, 9],
        postgresql=ASSERTED_SEPARATELY,
    )


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: fn.ExtractHour("day"),
            ValueError,
            "Cannot extract time component 'hour' from DateField 'day'.",
        ),
        (
            lambda: fn.ExtractYear("opens"),
            ValueError,
            "Cannot extract component 'year' from TimeField 'opens'.",
        ),
        (lambda: fn.ExtractYear("name"), ValueError, "Extract input expression must be DateField"),
        (
            lambda: fn.TruncHour("day"),
            ValueError,
            "Cannot truncate DateField 'day' to DateTimeField.",
        ),
        (
            lambda: fn.TruncDay("opens"),
            ValueError,
            "Cannot truncate TimeField 'opens' to DateTimeField.",
        ),
        (lambda: fn.TruncDay("name"), TypeError, "isn't a DateField, TimeField, or DateTimeField."),
        (
            lambda: fn.ExtractYear("day", tzinfo=PARIS),
            ValueError,
            "tzinfo can only be used with DateTimeField.",
        ),
    ],
)
def test_date_functions_refuse_what_means_nothing(
    build: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        str(x(build()).query)


def test_tzinfo_must_have_a_zone_name() -> None:
    with pytest.raises(ValueError, match="tzinfo must be a zoneinfo.ZoneInfo"):
        fn.ExtractHour("made", tzinfo=datetime.timezone(datetime.timedelta(hours=2)))


def test_f_arguments_are_columns(pg: Any) -> None:
    both(pg, fn.Lower(F("name")), (f"LOWER({NAME})", []), (f"LOWER({NAME})", []))


def test_json_array_types_bound_values_on_postgresql(pg: Any) -> None:
    both(
        pg,
        fn.JSONArray("name", Value("a"), Value(None)),
        (f"JSON_ARRAY({NAME}, %s, NULL)", ["a"]),
        (f"JSONB_BUILD_ARRAY({NAME}, CAST(%s AS text), NULL)", ["a"]),
    )
    both(
        pg,
        fn.JSONObject(k=Value(1)),
        ("JSON_OBJECT(%s, %s)", ["k", 1]),
        ("JSONB_BUILD_OBJECT((%s)::text, CAST(%s AS bigint))", ["k", 1]),
    )


#: Django 5.2's django.db.models.functions.__all__ without the window functions (see the window module).
DJANGO_FUNCTIONS = """
Cast Coalesce Collate Greatest JSONArray JSONObject Least NullIf Extract ExtractDay ExtractHour
ExtractIsoWeekDay ExtractIsoYear ExtractMinute ExtractMonth ExtractQuarter ExtractSecond ExtractWeek
ExtractWeekDay ExtractYear Now Trunc TruncDate TruncDay TruncHour TruncMinute TruncMonth TruncQuarter
TruncSecond TruncTime TruncWeek TruncYear Abs ACos ASin ATan ATan2 Ceil Cos Cot Degrees Exp Floor Ln Log
Mod Pi Power Radians Random Round Sign Sin Sqrt Tan MD5 SHA1 SHA224 SHA256 SHA384 SHA512 Chr Concat
ConcatPair Left Length Lower LPad LTrim Ord Repeat Replace Reverse Right RPad RTrim StrIndex Substr
Trim Upper
""".split()


def test_every_django_function_is_in_orm_functions() -> None:
    missing = [name for name in DJANGO_FUNCTIONS if not hasattr(fn, name)]
    assert missing == []
    assert all(name in fn.__all__ for name in DJANGO_FUNCTIONS)


def test_date_transforms_keep_their_old_import_path() -> None:
    from orm.query import lookups

    assert lookups.Extract is fn.Extract and lookups.TruncDate is fn.TruncDate
    assert lookups.ExtractIsoYear is fn.ExtractIsoYear
    with pytest.raises(AttributeError):
        lookups.ExtractNothing  # noqa: B018
