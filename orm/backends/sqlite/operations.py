"""SQLite SQL fragments and conversions."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from orm.abc import Connection
from orm.backends.base.operations import BaseDatabaseOperations, Converter, inline
from orm.backends.base.shapes import Selected
from orm.exceptions import DataError
from orm.utils import timezone
from orm.utils.text import short_repr


@lru_cache(maxsize=512)
def _convert_placeholders(sql: str) -> str:
    # '%s' -> '?', '%%' -> '%'. Done on the SQL text we generated, never on values.
    # Splitting at '%%' first finds the same pairs a left-to-right scan does;
    # str methods, not a regex with a callback per match: a bulk INSERT has
    # tens of thousands of placeholders.
    return "%".join(part.replace("%s", "?") for part in sql.split("%%"))


def _parse_datetime(value: Any, expression: object, connection: Connection) -> Any:
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = datetime.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def _parse_naive_datetime(value: Any, expression: object, connection: Connection) -> Any:
    # use_tz=False: the text is the naive value as it was given.
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = datetime.datetime.fromisoformat(str(value))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def _parse_date(value: Any, expression: object, connection: Connection) -> Any:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _parse_time(value: Any, expression: object, connection: Connection) -> Any:
    if value is None or isinstance(value, datetime.time):
        return value
    return datetime.time.fromisoformat(str(value))


def _parse_bool(value: Any, expression: object, connection: Connection) -> Any:
    return value if value is None else bool(value)


def _parse_uuid(value: Any, expression: object, connection: Connection) -> Any:
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _parse_duration(value: Any, expression: object, connection: Connection) -> Any:
    if type(value) is int:  # the column: microseconds
        return datetime.timedelta(microseconds=value)
    if value is None or isinstance(value, datetime.timedelta):
        return value
    if isinstance(value, float):
        # AVG() of the microseconds: rounded half to even, as timedelta does
        # and as PostgreSQL rounds the average of intervals.
        return datetime.timedelta(microseconds=value)
    return datetime.timedelta(microseconds=int(value))


def _decimal_converter(expression: Selected) -> Converter:
    field = expression.output_field
    places = getattr(field, "decimal_places", None)
    quantum = decimal.Decimal(1).scaleb(-places) if places is not None else None

    def convert(value: Any, expression: object, connection: Connection) -> Any:
        if value is None:
            return None
        # Stored as NUMERIC: a REAL comes back for fractions; str() keeps its
        # shortest exact repr, then quantize restores the declared places.
        result = decimal.Decimal(str(value))
        if quantum is not None:
            try:
                result = result.quantize(quantum)
            except decimal.InvalidOperation:  # more digits than the context holds (EXP() of 100)
                pass
        return result

    if quantum is None:
        return inline(convert, float, "_D(repr(v))", _D=decimal.Decimal)
    if places is not None and places > 0:
        # A float's repr with exactly the declared places is the quantized
        # text already (a value the orm stored): skip the quantize. (A slice,
        # not an index: a repr may be shorter than the places, as '1.5'.)
        return inline(
            convert,
            float,
            f"(_D(s) if (s := repr(v))[-{places + 1}:-{places}] == '.' else _D(s).quantize(_q))",
            _D=decimal.Decimal,
            _q=quantum,
        )
    return inline(convert, float, "_D(repr(v)).quantize(_q)", _D=decimal.Decimal, _q=quantum)


# The text each column type is stored as, parsed inline by the row functions
# exactly as the parsers above parse a str.
inline(
    _parse_datetime,
    str,
    "(p if (p := _dt(v)).tzinfo is not None else p.replace(tzinfo=_utc))",
    _dt=datetime.datetime.fromisoformat,
    _utc=datetime.UTC,
)
inline(
    _parse_naive_datetime,
    str,
    "(p if (p := _dt(v)).tzinfo is None else p.astimezone(_utc).replace(tzinfo=None))",
    _dt=datetime.datetime.fromisoformat,
    _utc=datetime.UTC,
)
inline(_parse_date, str, "_date(v[:10])", _date=datetime.date.fromisoformat)
inline(_parse_uuid, str, "_uuid(v)", _uuid=uuid.UUID)
inline(_parse_bool, int, "(v != 0)")

_CONVERTERS: dict[str, Converter] = {
    "DateTimeField": _parse_datetime,
    "DateField": _parse_date,
    "TimeField": _parse_time,
    "BooleanField": _parse_bool,
    "UUIDField": _parse_uuid,
    "DurationField": _parse_duration,
}


# Appended to a date's text to compare it with datetimes (their storage format).
_MIDNIGHT = "' 00:00:00.000000'"

# json_each() yields SQL values; rebuild the JSON text of one element.
_JSON_TEXT = (
    "CASE type WHEN 'object' THEN value WHEN 'array' THEN value WHEN 'true' THEN 'true' "
    "WHEN 'false' THEN 'false' WHEN 'null' THEN 'null' ELSE json_quote(value) END"
)


class DatabaseOperations(BaseDatabaseOperations):
    """SQLite SQL fragments and conversions (contracts in the base class)."""

    explain_prefix = "EXPLAIN QUERY PLAN"

    extract_kinds = frozenset(
        {
            "year",
            "month",
            "day",
            "hour",
            "minute",
            "second",
            "week_day",
            "quarter",
            "week",
            "iso_year",
            "iso_week_day",
        }
    )
    # strftime's %W is not the ISO week, so "week" is not here (see date_extract_sql).
    _extract_formats = {
        "year": "%%Y",
        "month": "%%m",
        "day": "%%d",
        "hour": "%%H",
        "minute": "%%M",
        "second": "%%S",
        "week_day": "",
        "quarter": "",
    }
    _trunc_formats = {
        "year": "%%Y-01-01",
        "month": "%%Y-%%m-01",
        "day": "%%Y-%%m-%%d",
        "hour": "%%Y-%%m-%%d %%H:00:00",
        "minute": "%%Y-%%m-%%d %%H:%%M:00",
        "second": "%%Y-%%m-%%d %%H:%%M:%%S",
    }

    def convert_query(self, sql: str, has_params: bool) -> str:
        return _convert_placeholders(sql) if has_params else sql

    def max_name_length(self) -> int:
        return 120

    def no_limit_value(self) -> int:
        return -1

    def adapt_datetimefield_value(self, value: datetime.datetime | None) -> Any:
        if value is None:
            return None
        # Fixed-width UTC text so string order is time order on SQLite; a
        # naive value (use_tz=False) is written as given, in the same format.
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")

    def adapt_datefield_value(self, value: datetime.date | None) -> Any:
        return None if value is None else value.isoformat()

    def adapt_timefield_value(self, value: datetime.time | None) -> Any:
        return None if value is None else value.isoformat("microseconds")

    def adapt_decimalfield_value(
        self, value: decimal.Decimal | None, max_digits: int | None, decimal_places: int | None
    ) -> Any:
        return None if value is None else str(value)

    def adapt_uuidfield_value(self, value: uuid.UUID | None) -> Any:
        return None if value is None else value.hex

    def adapt_durationfield_value(self, value: datetime.timedelta | None) -> Any:
        if value is None:
            return None
        return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds

    def get_db_converters(self, expression: Selected) -> list[Converter]:
        internal = self.converter_type(expression)
        if internal == "DecimalField":
            return [_decimal_converter(expression)]
        if internal == "DateTimeField" and not timezone.use_tz():
            return [_parse_naive_datetime]
        converter = _CONVERTERS.get(internal)
        return [converter] if converter else []

    def for_update_sql(
        self,
        nowait: bool = False,
        skip_locked: bool = False,
        of: Sequence[str] = (),
        no_key: bool = False,
    ) -> str:
        return ""  # SQLite locks the whole database for writers; nothing to add.

    def date_extract_sql(
        self,
        kind: str,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        kind = self.check_extract_kind(kind)
        if tzname is not None or kind not in self._extract_formats:
            # ISO weeks and years, and any part read in a time zone, come from
            # Python (backends/sqlite/functions.py): strftime knows neither.
            return f"orm_datetime_extract(%s, {sql}, %s)", [kind, *params, tzname]
        if kind == "week_day":
            return f"(CAST(strftime('%%w', {sql}) AS INTEGER) + 1)", params
        if kind == "quarter":
            return f"((CAST(strftime('%%m', {sql}) AS INTEGER) + 2) / 3)", params
        return f"CAST(strftime('{self._extract_formats[kind]}', {sql}) AS INTEGER)", params

    def datetime_cast_date_sql(
        self,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        if tzname is not None:
            return f"orm_datetime_cast_date({sql}, %s)", [*params, tzname]
        return f"date({sql})", params

    def datetime_cast_time_sql(
        self,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        return f"orm_datetime_cast_time({sql}, %s)", [*params, tzname]

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
        if tzname is not None or kind not in self._trunc_formats:
            # Weeks, quarters and other zones than UTC: see backends/sqlite/functions.py.
            return f"orm_datetime_trunc(%s, {sql}, %s)", [kind, *params, tzname]
        fmt = self._trunc_formats[kind]
        if is_datetime and kind in ("year", "month", "day"):
            fmt += " 00:00:00"
        return f"strftime('{fmt}', {sql})", params

    def time_trunc_sql(self, kind: str, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
        return f"orm_datetime_trunc(%s, {sql}, NULL)", [kind, *params]

    def regex_lookup(self, lookup_type: str) -> str:
        if lookup_type == "regex":
            return "%s REGEXP %s"
        return "%s REGEXP '(?i)' || %s"

    def computed_lookup_cast(self, internal_type: str) -> str:
        # A decimal column has NUMERIC affinity, so the text parameter of
        # price > '0.5' is compared as a number; an expression has no
        # affinity and a number never equals or exceeds text. The cast gives
        # it the column's affinity (as Django's SQLiteNumericMixin does).
        return "CAST(%s AS NUMERIC)" if internal_type == "DecimalField" else "%s"

    def temporal_arithmetic_sql(
        self,
        lhs_type: str,
        connector: str,
        rhs_type: str,
        lhs_sql: str,
        rhs_sql: str,
    ) -> str:
        # Text dates and integer microseconds: see backends/sqlite/functions.py.
        if rhs_type == "DurationField":
            function = "orm_time_add" if lhs_type == "TimeField" else "orm_datetime_add"
            delta = rhs_sql if connector == "+" else f"-({rhs_sql})"
            return f"{function}({lhs_sql}, {delta})"
        function = "orm_time_diff" if lhs_type == "TimeField" else "orm_timestamp_diff"
        return f"{function}({lhs_sql}, {rhs_sql})"

    def temporal_comparison_sql(
        self,
        lhs_type: str | None,
        lhs_sql: str,
        rhs_type: str | None,
        rhs_sql: str,
    ) -> tuple[str, str]:
        # Dates and datetimes are compared as text: '2024-01-02' sorts before
        # '2024-01-02 00:00:00.000000', so a date becomes its midnight first.
        if lhs_type == "DateField" and rhs_type == "DateTimeField":
            return f"({lhs_sql} || {_MIDNIGHT})", rhs_sql
        if lhs_type == "DateTimeField" and rhs_type == "DateField":
            return lhs_sql, f"({rhs_sql} || {_MIDNIGHT})"
        return lhs_sql, rhs_sql

    def check_regex(self, pattern: object, lookup_type: str) -> None:
        # REGEXP runs Python's re (see base.py), so re.compile() judges the
        # pattern exactly as the query would; compiled patterns are cached by re.
        if not isinstance(pattern, str):
            return
        try:
            re.compile(pattern if lookup_type == "regex" else "(?i)" + pattern)
        except re.error as error:
            raise DataError(
                f"Invalid regular expression {pattern!r} for the {lookup_type} lookup: {error} "
                "(SQLite matches with Python's re syntax)."
            ) from None

    # -- large IN lists and JSON -------------------------------------------------
    def in_array_sql(self, values: list[Any]) -> tuple[str, list[Any]]:
        if any(isinstance(v, bytes | bytearray | memoryview) for v in values):
            return super().in_array_sql(values)
        # One JSON array parameter instead of thousands: SQLite caps the number
        # of bound variables per statement.
        return "(SELECT value FROM json_each(%s))", [json.dumps(values)]

    def json_path_params(self, keys: list[str], last_is_key: bool = False) -> Any:
        # Each key JSON-quoted, so dots, brackets and quotes in it stay literal;
        # the whole path travels as one bound parameter. A key of digits is an
        # array index, except a final one that must be an object key (has_key).
        path = "$"
        for position, key in enumerate(keys, 1):
            index = key.isascii() and key.isdigit() and not (last_is_key and position == len(keys))
            path += f"[{int(key)}]" if index else "." + json.dumps(key, ensure_ascii=False)
        return path

    def json_key_sql(
        self, sql: str, params: list[Any], keys: list[str], as_json: bool
    ) -> tuple[str, list[Any]]:
        return self.json_expr(sql, list(params), keys, "json" if as_json else "value")

    def json_expr(
        self, sql: str, params: list[Any], keys: list[str], mode: str, last_is_key: bool = False
    ) -> tuple[str, list[Any]]:
        """A key path's scalar value (``mode="value"``), JSON type (``"type"``) or JSON text (``"json"``).

        SQLite's path syntax cannot name a key containing '"', so such paths
        walk json_each() with each key bound as a plain parameter instead.
        """
        if not any('"' in key for key in keys):
            path = self.json_path_params(keys, last_is_key)
            template = {
                "value": "json_extract({}, %s)",
                "type": "json_type({}, %s)",
                "json": "({} -> %s)",
            }[mode]
            return template.format(sql), [*params, path]
        for key in keys[:-1]:
            sql, params = self._json_each(sql, params, key, "value")
        return self._json_each(sql, params, keys[-1], mode, last_is_key)

    @staticmethod
    def _json_each(
        sql: str, params: list[Any], key: str, mode: str, as_key: bool = False
    ) -> tuple[str, list[Any]]:
        # json_each() gives an array element an integer key and an object member
        # a text one, and they never compare equal: binding str finds only keys.
        column = {"value": "value", "type": "type", "json": _JSON_TEXT}[mode]
        bound: Any = int(key) if key.isascii() and key.isdigit() and not as_key else key
        return f"(SELECT {column} FROM json_each({sql}) WHERE key = %s)", [*params, bound]

    def json_scalar_param(self, value: Any) -> Any:
        # json_extract() reads a JSON integer beyond 64 bits as a REAL, and the
        # driver cannot bind such an int (OverflowError): compare it as a REAL.
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            return float(value) if abs(value) < 2**1024 else math.copysign(math.inf, value)
        return value

    def adapt_json_value(self, value: Any, encoder: type[json.JSONEncoder] | None) -> Any:
        return json.dumps(value, cls=encoder, allow_nan=False, ensure_ascii=False)
