"""PostgreSQL SQL fragments and value conversions.

psycopg 3 adapts dates, times, aware datetimes, UUIDs, decimals, bytes and
timedeltas natively and uses ``%s`` placeholders itself (a literal percent in
SQL text that travels with parameters is written ``%%``), so most hooks of the
base class stay as they are. What is PostgreSQL-specific lives here: casts for
pattern lookups, ``EXTRACT``/``DATE_TRUNC``, POSIX regular expressions, jsonb
operators with every key and value bound as a parameter, ``DISTINCT ON`` and
large ``IN`` lists bound as one array.
"""

from __future__ import annotations

import datetime
import decimal
import json
import re
import uuid
from functools import lru_cache
from typing import Any

from psycopg.types.json import Jsonb

from orm.abc import Connection
from orm.backends.base.operations import BaseDatabaseOperations, Converter
from orm.backends.base.shapes import Selected
from orm.utils import timezone
from orm.utils.text import short_repr

# Lookups that compare text: a non-text left-hand side is cast to text first.
_TEXT_LOOKUPS = frozenset(
    {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}
)
# Case-insensitive lookups: both sides are upper-cased (see DatabaseWrapper.operators).
_UPPER_LOOKUPS = frozenset({"iexact", "icontains", "istartswith", "iendswith"})
# Column types that already are text, so no cast is added (and indexes stay usable).
_TEXT_TYPES = frozenset({"CharField", "TextField", "EmailField", "SlugField", "URLField"})
_INTEGER_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
    }
)

# Date part -> SQL (the part comes from this table, never from the caller's string).
# EXTRACT returns numeric on PostgreSQL 14+, so every part is cast to integer;
# seconds are floored first because the fraction would otherwise round up.
_EXTRACT_SQL = {
    "year": "CAST(EXTRACT(YEAR FROM {}) AS integer)",
    "quarter": "CAST(EXTRACT(QUARTER FROM {}) AS integer)",
    "month": "CAST(EXTRACT(MONTH FROM {}) AS integer)",
    "week": "CAST(EXTRACT(WEEK FROM {}) AS integer)",  # ISO 8601 week number
    "iso_year": "CAST(EXTRACT(ISOYEAR FROM {}) AS integer)",
    "iso_week_day": "CAST(EXTRACT(ISODOW FROM {}) AS integer)",  # 1 = Monday ... 7 = Sunday
    "day": "CAST(EXTRACT(DAY FROM {}) AS integer)",
    # Django's convention: 1 = Sunday ... 7 = Saturday (DOW is 0 = Sunday).
    "week_day": "(CAST(EXTRACT(DOW FROM {}) AS integer) + 1)",
    "hour": "CAST(EXTRACT(HOUR FROM {}) AS integer)",
    "minute": "CAST(EXTRACT(MINUTE FROM {}) AS integer)",
    "second": "CAST(FLOOR(EXTRACT(SECOND FROM {})) AS integer)",
}
# Largest index ->(jsonb, integer) accepts; longer digit keys stay object keys.
_MAX_ARRAY_INDEX = 2**31 - 1
# In SQL that travels with parameters: a placeholder, an escaped percent, or a
# lone percent (which psycopg would reject).
_PERCENT = re.compile(r"%[s%]?")
_TRUNC_KINDS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")


def _escape_lone_percents(sql: str) -> str:
    # psycopg reads every "%" of SQL sent with parameters as a placeholder;
    # SQLite's conversion leaves a lone one alone. Doubling lone ones gives
    # both backends the same rules: %s is a placeholder, %% a percent, and
    # any other % (LIKE 'A%' in raw SQL) is itself.
    return _PERCENT.sub(lambda m: m.group() if len(m.group()) == 2 else "%%", sql)


# Statements repeat, so conversions are cached, but only for statements of a
# modest size (a bulk INSERT can be hundreds of kilobytes).
_escape_cached = lru_cache(maxsize=512)(_escape_lone_percents)
_CACHE_MAX_SQL = 8192


class BinaryArray(list[Any]):
    """An array parameter psycopg sends in binary (its dumper is registered per connection)."""


# What a bulk INSERT's column holds after its fields prepared it, when psycopg
# packs the binary array with its C dumpers and the server casts it to the
# column type exactly as it casts the text array (None included).
_BINARY_ARRAY_TYPES = frozenset(
    {
        str,
        int,
        float,
        bool,
        bytes,
        decimal.Decimal,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
        type(None),
    }
)


def _as_is(text: str) -> str:
    # The "dumps" of a Jsonb wrapper whose object is already JSON text.
    return text


def _to_naive_utc(value: Any, expression: object, connection: Connection) -> Any:
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def _to_int(value: Any, expression: object, connection: Connection) -> Any:
    # SUM(bigint) and friends come back as numeric (Decimal).
    return int(value) if isinstance(value, decimal.Decimal) else value


def _to_float(value: Any, expression: object, connection: Connection) -> Any:
    # AVG(integer) and AVG(numeric) come back as numeric (Decimal).
    return float(value) if isinstance(value, decimal.Decimal) else value


def _as_is_converter(value: Any, expression: object, connection: Connection) -> Any:
    return value


def _decimal_converter(expression: Selected) -> Converter:
    places: int | None = getattr(expression.output_field, "decimal_places", None)
    if places is None:
        return _as_is_converter
    quantum = decimal.Decimal(1).scaleb(-places)

    def convert(value: Any, expression: object, connection: Connection) -> Any:
        # AVG() returns many more places than the field declares; restore the
        # declared places so both backends give the same Decimal.
        if not isinstance(value, decimal.Decimal) or not value.is_finite():
            return value
        if value.as_tuple().exponent == -places:
            return value
        try:
            return value.quantize(quantum)
        except decimal.InvalidOperation:  # more digits than the context holds
            return value

    return convert


class DatabaseOperations(BaseDatabaseOperations):
    """PostgreSQL SQL fragments and conversions (contracts in the base class)."""

    extract_kinds = frozenset(_EXTRACT_SQL)
    trunc_kinds = _TRUNC_KINDS

    def convert_query(self, sql: str, has_params: bool) -> str:
        if not has_params or "%" not in sql:
            return sql
        if len(sql) <= _CACHE_MAX_SQL:
            return _escape_cached(sql)
        return _escape_lone_percents(sql)

    def max_name_length(self) -> int:
        return 63  # NAMEDATALEN - 1

    # -- values -------------------------------------------------------------
    def bulk_insert_column(self, values: list[Any]) -> Any:
        """One column of ``INSERT ... SELECT * FROM UNNEST(...)`` as its array parameter.

        psycopg sends a list as a text array, testing each element with a
        regular expression (and often escaping it) in Python; a binary array
        is packed by its C dumpers: 20,000 rows of five columns inserted in
        3.9 instead of 6.3 us per row. Any other value type (a ``Jsonb``, a
        custom field's object) keeps the text array.
        """
        if set(map(type, values)) <= _BINARY_ARRAY_TYPES:
            return BinaryArray(values)
        return values

    def adapt_json_value(self, value: Any, encoder: type[json.JSONEncoder] | None) -> Any:
        # Dump now, so a value that is not JSON fails here (as on SQLite) and not
        # inside the driver; the wrapper sends the text with the jsonb type, so
        # it also works where PostgreSQL cannot infer a type (CASE in bulk_update).
        text = json.dumps(value, cls=encoder, allow_nan=False, ensure_ascii=False)
        return Jsonb(text, dumps=_as_is)

    def adapt_datetimefield_value(self, value: datetime.datetime | None) -> Any:
        return value  # aware datetimes are sent as timestamptz

    def adapt_uuidfield_value(self, value: uuid.UUID | None) -> Any:
        return value  # native uuid

    def adapt_durationfield_value(self, value: datetime.timedelta | None) -> Any:
        return value  # native interval

    def get_db_converters(self, expression: Selected) -> list[Converter]:
        if not timezone.use_tz() and self.converter_type(expression) == "DateTimeField":
            # use_tz=False: columns stay timestamptz and sessions run in UTC,
            # so a naive value written is read back as the same wall clock.
            return [_to_naive_utc]
        if hasattr(expression, "target"):
            # A plain column comes back in its own type (timestamptz as an aware
            # UTC datetime, numeric at its scale, jsonb as text for from_db_value).
            return []
        internal = self.converter_type(expression)
        if internal in _INTEGER_TYPES:
            return [_to_int]
        if internal == "FloatField":
            return [_to_float]
        if internal == "DecimalField":
            return [_decimal_converter(expression)]
        return []

    # -- statements -----------------------------------------------------------
    def limit_offset_sql(self, low: int, high: int | None) -> str:
        parts = []
        if high is not None:
            parts.append(f"LIMIT {int(high) - int(low)}")
        if low:
            parts.append(f"OFFSET {int(low)}")
        return " ".join(parts)

    def distinct_sql(self, fields: list[str]) -> str:
        # ``fields`` are compiled column references, not caller text.
        if fields:
            return f"DISTINCT ON ({', '.join(fields)})"
        return "DISTINCT"

    def lookup_cast(self, lookup_type: str, internal_type: str | None = None) -> str:
        lookup = "%s"
        if lookup_type in _TEXT_LOOKUPS and internal_type == "UUIDField":
            # Compare the 32 hex digits, as SQLite stores them; the UUID text
            # lookups strip the value's hyphens too, so either spelling matches.
            lookup = "REPLACE((%s)::text, '-', '')"
        elif lookup_type in _TEXT_LOOKUPS and internal_type == "GenericIPAddressField":
            # inet::text appends the netmask ("10.0.0.1/32"); HOST() is the address
            # alone, the text SQLite stores (as Django).
            lookup = "HOST(%s)"
        elif lookup_type in _TEXT_LOOKUPS and internal_type not in _TEXT_TYPES:
            lookup = "(%s)::text"
        if lookup_type in _UPPER_LOOKUPS:
            lookup = f"UPPER({lookup})"
        return lookup

    def date_extract_sql(
        self,
        kind: str,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        # Every connection runs with TimeZone=UTC, so a timestamptz is split in
        # UTC unless a zone is named; the zone name is a bound parameter.
        kind = self.check_extract_kind(kind)
        if tzname is not None:
            sql, params = f"({sql} AT TIME ZONE %s)", [*params, tzname]
        return _EXTRACT_SQL[kind].format(sql), params

    def datetime_cast_date_sql(
        self,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        if tzname is None:
            return f"({sql} AT TIME ZONE 'UTC')::date", params
        return f"({sql} AT TIME ZONE %s)::date", [*params, tzname]

    def datetime_cast_time_sql(
        self,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        if tzname is None:
            return f"({sql} AT TIME ZONE 'UTC')::time", params
        return f"({sql} AT TIME ZONE %s)::time", [*params, tzname]

    def date_trunc_sql(
        self,
        kind: str,
        sql: str,
        params: list[Any],
        is_datetime: bool,
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        if kind not in self.trunc_kinds:
            raise ValueError(
                f"Invalid truncation kind {short_repr(kind)}; choose from: {', '.join(self.trunc_kinds)}."
            )
        # The kind and zone travel as parameters even though the kind is allow-listed.
        if is_datetime and tzname is None:
            return f"DATE_TRUNC(%s, {sql}, 'UTC')", [kind, *params]
        if is_datetime:
            return f"DATE_TRUNC(%s, {sql}, %s)", [kind, *params, tzname]
        return f"DATE_TRUNC(%s, ({sql})::timestamp)::date", [kind, *params]

    def time_trunc_sql(self, kind: str, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
        """SQL truncating a time to ``kind`` (hour, minute or second)."""
        return f"DATE_TRUNC(%s, ({sql})::interval)::time", [kind, *params]

    def temporal_arithmetic_sql(
        self,
        lhs_type: str,
        connector: str,
        rhs_type: str,
        lhs_sql: str,
        rhs_sql: str,
    ) -> str:
        if lhs_type == "DateField" and rhs_type == "DateField":
            # date - date is a number of days; the result is a duration.
            return f"(interval '1 day' * ({lhs_sql} - {rhs_sql}))"
        if lhs_type == "DateField" and rhs_type == "DurationField":
            # date +/- interval is a timestamp without time zone: read it as
            # UTC, so the result is an aware datetime like every other one.
            return f"(({lhs_sql} {connector} {rhs_sql}) AT TIME ZONE 'UTC')"
        return super().temporal_arithmetic_sql(lhs_type, connector, rhs_type, lhs_sql, rhs_sql)

    def regex_lookup(self, lookup_type: str) -> str:
        # POSIX regular expressions; ~* is the case-insensitive variant.
        if lookup_type == "regex":
            return "(%s)::text ~ %s"
        return "(%s)::text ~* %s"

    # -- large IN lists and JSON -------------------------------------------------
    def in_array_sql(self, values: list[Any]) -> tuple[str, list[Any]]:
        # One array parameter instead of one per value. The result follows "IN ",
        # hence the subquery. psycopg types arrays of most values itself, but a
        # list of str is sent untyped and unnest() needs to know its type.
        if values and all(isinstance(value, str) for value in values):
            return "(SELECT unnest(%s::text[]))", [list(values)]
        return "(SELECT unnest(%s))", [list(values)]

    def json_path_params(self, keys: list[str]) -> Any:
        # One parameter per key, for a chain of -> operators. A key of ASCII
        # digits is an array index (an int parameter selects ->(jsonb, integer),
        # which finds nothing in an object), as on SQLite and in Django. A key
        # containing NUL cannot exist in jsonb, so it becomes NULL, which finds
        # nothing either; the SQL text never depends on the key.
        params: list[Any] = []
        for key in keys:
            if "\x00" in key:
                params.append(None)
            elif key.isascii() and key.isdigit() and int(key) <= _MAX_ARRAY_INDEX:
                params.append(int(key))
            else:
                params.append(key)
        return params

    def json_key_path_sql(self, sql: str, keys: list[str], last: str = "->") -> str:
        """``(col -> %s -> %s ->> %s)``: one operator per key, the last one ``last``.

        ``->`` gives jsonb, ``->>`` the scalar as text; the keys are bound
        parameters (``json_path_params``), never SQL text.
        """
        chain = " -> %s" * (len(keys) - 1)
        return f"({sql}{chain} {last} %s)"

    def json_key_order_sql(
        self, sql: str, params: list[Any], keys: list[str]
    ) -> tuple[str, list[Any]]:
        # ->> would sort numbers as text ('10' < '9'); jsonb values compare by type.
        return self.json_key_sql(sql, params, keys, as_json=True)

    def json_key_sql(
        self, sql: str, params: list[Any], keys: list[str], as_json: bool
    ) -> tuple[str, list[Any]]:
        path_sql = self.json_key_path_sql(sql, keys, "->" if as_json else "->>")
        return path_sql, [*params, *self.json_path_params(keys)]
