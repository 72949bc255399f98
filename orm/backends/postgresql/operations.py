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

from orm.backends.base.operations import BaseDatabaseOperations, Converter
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
    "day": "CAST(EXTRACT(DAY FROM {}) AS integer)",
    # Django's convention: 1 = Sunday ... 7 = Saturday (DOW is 0 = Sunday).
    "week_day": "(CAST(EXTRACT(DOW FROM {}) AS integer) + 1)",
    "hour": "CAST(EXTRACT(HOUR FROM {}) AS integer)",
    "minute": "CAST(EXTRACT(MINUTE FROM {}) AS integer)",
    "second": "CAST(FLOOR(EXTRACT(SECOND FROM {})) AS integer)",
}
# Largest index ->(jsonb, integer) accepts; longer digit keys stay object keys.
_MAX_ARRAY_INDEX = 2**31 - 1
_JSON_COMPARE_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
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


def _as_is(text: Any) -> Any:
    # The "dumps" of a Jsonb wrapper whose object is already JSON text.
    return text


def _to_naive_utc(value: Any, expression: Any, connection: Any) -> Any:
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def _to_int(value: Any, expression: Any, connection: Any) -> Any:
    # SUM(bigint) and friends come back as numeric (Decimal).
    return int(value) if isinstance(value, decimal.Decimal) else value


def _to_float(value: Any, expression: Any, connection: Any) -> Any:
    # AVG(integer) and AVG(numeric) come back as numeric (Decimal).
    return float(value) if isinstance(value, decimal.Decimal) else value


def _as_is_converter(value: Any, expression: Any, connection: Any) -> Any:
    return value


def _decimal_converter(expression: Any) -> Converter:
    places: int | None = getattr(expression.output_field, "decimal_places", None)
    if places is None:
        return _as_is_converter
    quantum = decimal.Decimal(1).scaleb(-places)

    def convert(value: Any, expression: Any, connection: Any) -> Any:
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

    def convert_query(self, sql: str, has_params: bool) -> str:
        if not has_params or "%" not in sql:
            return sql
        if len(sql) <= _CACHE_MAX_SQL:
            return _escape_cached(sql)
        return _escape_lone_percents(sql)

    def max_name_length(self) -> int:
        return 63  # NAMEDATALEN - 1

    # -- values -------------------------------------------------------------
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

    def get_db_converters(self, expression: Any) -> list[Converter]:
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
        elif lookup_type in _TEXT_LOOKUPS and internal_type not in _TEXT_TYPES:
            lookup = "(%s)::text"
        if lookup_type in _UPPER_LOOKUPS:
            lookup = f"UPPER({lookup})"
        return lookup

    def date_extract_sql(self, kind: str, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
        # Every connection runs with TimeZone=UTC, so a timestamptz is split in UTC.
        kind = self.check_extract_kind(kind)
        return _EXTRACT_SQL[kind].format(sql), params

    def datetime_cast_date_sql(self, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
        return f"({sql} AT TIME ZONE 'UTC')::date", params

    def date_trunc_sql(
        self, kind: str, sql: str, params: list[Any], is_datetime: bool
    ) -> tuple[str, list[Any]]:
        if kind not in _TRUNC_KINDS:
            raise ValueError(
                f"Invalid truncation kind {short_repr(kind)}; choose from: {', '.join(_TRUNC_KINDS)}."
            )
        # The kind travels as a parameter even though it is allow-listed.
        if is_datetime:
            return f"DATE_TRUNC(%s, {sql}, 'UTC')", [kind, *params]
        return f"DATE_TRUNC(%s, ({sql})::timestamp)::date", [kind, *params]

    def temporal_arithmetic_sql(
        self, lhs_type: str, connector: str, rhs_type: str, lhs_sql: str, rhs_sql: str,
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

    def _key_path_sql(self, sql: str, keys: list[str], last: str = "->") -> str:
        # ``(col -> %s -> %s ->> %s)``: one operator per key, the last one chosen
        # by the caller (-> gives jsonb, ->> gives the scalar as text).
        chain = " -> %s" * (len(keys) - 1)
        return f"({sql}{chain} {last} %s)"

    def json_key_sql(
        self, sql: str, params: list[Any], keys: list[str], as_json: bool
    ) -> tuple[str, list[Any]]:
        path_sql = self._key_path_sql(sql, keys, "->" if as_json else "->>")
        return path_sql, [*params, *self.json_path_params(keys)]

    def _key_base(self, compiler: Any, key: Any) -> tuple[str, list[Any]]:
        # The key's jsonb value (``->`` all the way) and its parameters.
        base, keys = key.key_path()
        sql, params = compiler.compile(base)
        return self._key_path_sql(sql, list(keys)), [*params, *self.json_path_params(list(keys))]

    def json_key_exact_sql(self, compiler: Any, key: Any, value: Any) -> tuple[str, list[Any]]:
        sql, params = self._key_base(compiler, key)
        if hasattr(value, "as_sql"):
            rhs_sql, rhs_params = compiler.compile(value)
            return f"{sql} = to_jsonb({rhs_sql})", [*params, *rhs_params]
        document = json.dumps(value, allow_nan=False, ensure_ascii=False)
        return f"{sql} = %s::jsonb", [*params, document]

    def json_key_isnull_sql(self, compiler: Any, key: Any, isnull: bool) -> tuple[str, list[Any]]:
        # An absent key gives SQL NULL; a key holding JSON null is present ('null'::jsonb).
        sql, params = self._key_base(compiler, key)
        return f"{sql} {'IS NULL' if isnull else 'IS NOT NULL'}", params

    def json_has_keys_sql(
        self, compiler: Any, lhs: Any, keys: list[str], require_all: bool
    ) -> tuple[str, list[Any]]:
        # Not the ?, ?& and ?| operators: they also match a string element of an
        # array and a string scalar ('["a"]' ? 'a'), and give NULL rather than
        # false for a missing parent key; "-> text" finds object keys only and
        # IS NOT NULL is never unknown, as on SQLite. A key containing NUL
        # cannot exist in jsonb (nor be sent as text), so it is bound as NULL.
        if hasattr(lhs, "key_path"):
            sql, params = self._key_base(compiler, lhs)
        else:
            sql, params = compiler.compile(lhs)
        parts: list[str] = []
        all_params: list[Any] = []
        for key in keys:
            parts.append(f"({sql} -> %s::text) IS NOT NULL")
            all_params += [*params, None if "\x00" in key else key]
        if len(parts) == 1:
            return parts[0], all_params
        return "(" + (" AND " if require_all else " OR ").join(parts) + ")", all_params

    def json_containment_sql(
        self, compiler: Any, lhs: Any, value: Any, contained_by: bool
    ) -> tuple[str, list[Any]]:
        if hasattr(lhs, "key_path"):
            sql, params = self._key_base(compiler, lhs)
        else:
            sql, params = compiler.compile(lhs)
        operator = "<@" if contained_by else "@>"
        if hasattr(value, "as_sql"):
            rhs_sql, rhs_params = compiler.compile(value)
            return f"({sql} {operator} {rhs_sql})", [*params, *rhs_params]
        document = json.dumps(value, allow_nan=False, ensure_ascii=False)
        return f"({sql} {operator} %s::jsonb)", [*params, document]

    # Comparing a key with gt/gte/lt/lte/in needs the value as jsonb, because
    # the scalar text form (->>) cannot be compared with a number parameter.
    def json_key_compare_sql(
        self, compiler: Any, key: Any, lookup_name: str, value: Any
    ) -> tuple[str, list[Any]]:
        """``key <op> value`` comparing jsonb values (numbers numerically)."""
        operator = _JSON_COMPARE_OPERATORS[lookup_name]
        sql, params = self._key_base(compiler, key)
        document = json.dumps(value, allow_nan=False, ensure_ascii=False)
        return f"{sql} {operator} %s::jsonb", [*params, document]

    def json_key_in_sql(self, compiler: Any, key: Any, values: list[Any]) -> tuple[str, list[Any]]:
        """``key IN (values)`` comparing jsonb values, bound as one jsonb[] parameter."""
        sql, params = self._key_base(compiler, key)
        documents = [json.dumps(v, allow_nan=False, ensure_ascii=False) for v in values]
        return f"{sql} = ANY(%s::jsonb[])", [*params, documents]
