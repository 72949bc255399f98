"""Vendor SQL fragments and value adaptation, documented once here.

Vendor subclasses override what differs and carry no docstrings of their own
(Django's convention): the contract lives in this file.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from orm.abc import Connection
from orm.backends.base.shapes import Selected
from orm.exceptions import NotSupportedError
from orm.utils.identifiers import check_explain_option, quote_name
from orm.utils.text import short_repr

Converter = Callable[[Any, Any, Any], Any]

#: The attribute a converter may carry for the fused row functions
#: (``orm.query.row_makers``): ``(T, template, helpers)`` says that for a value
#: whose exact type is ``T`` the Python expression ``template`` (over ``v``
#: and the ``helpers`` names) gives what the converter returns. The row
#: function then evaluates it inline instead of calling the converter with
#: its three arguments; any other value still goes through the call.
INLINE = "row_inline"


def inline(converter: Converter, kind: type, template: str, **helpers: Any) -> Converter:
    """Give ``converter`` its inline form for values of exact type ``kind`` (see :data:`INLINE`)."""
    setattr(converter, INLINE, (kind, template, helpers))
    return converter


class BaseDatabaseOperations:
    """SQL fragments and value conversions that differ between backends."""

    #: SQLSTATE-like names of the date parts ``Extract``/``__year`` may use.
    extract_kinds = frozenset({"year", "month", "day", "hour", "minute", "second", "week_day"})
    #: What ``Trunc`` accepts, in Django's order.
    trunc_kinds: tuple[str, ...] = (
        "year",
        "quarter",
        "month",
        "week",
        "day",
        "hour",
        "minute",
        "second",
    )
    #: LIKE patterns per lookup; ``%s`` is the already-escaped, bound value.
    explain_prefix = "EXPLAIN"

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- identifiers and placeholders --------------------------------------
    def quote_name(self, name: str) -> str:
        """Quote a table/column/alias name (the identifier chokepoint)."""
        return quote_name(name)

    def convert_query(self, sql: str, has_params: bool) -> str:
        """Turn ``%s`` placeholders into the driver's style (identity by default)."""
        return sql

    def max_name_length(self) -> int:
        """Longest identifier the backend keeps (longer names are hashed)."""
        return 63

    # -- values -------------------------------------------------------------
    def adapt_datetimefield_value(self, value: datetime.datetime | None) -> Any:
        """Aware datetime -> driver value (stored as UTC)."""
        return value

    def adapt_datefield_value(self, value: datetime.date | None) -> Any:
        """date -> driver value."""
        return value

    def adapt_timefield_value(self, value: datetime.time | None) -> Any:
        """time -> driver value."""
        return value

    def adapt_decimalfield_value(
        self, value: decimal.Decimal | None, max_digits: int | None, decimal_places: int | None
    ) -> Any:
        """Decimal -> driver value."""
        return value

    def adapt_uuidfield_value(self, value: uuid.UUID | None) -> Any:
        """UUID -> driver value."""
        return value

    def adapt_durationfield_value(self, value: datetime.timedelta | None) -> Any:
        """timedelta -> driver value."""
        return value

    def adapt_json_value(self, value: Any, encoder: type[json.JSONEncoder] | None) -> Any:
        """Python JSON value -> driver value (NaN refused)."""
        return json.dumps(value, cls=encoder, allow_nan=False)

    def adapt_binaryfield_value(self, value: bytes | None) -> Any:
        """bytes -> driver value."""
        return value

    @staticmethod
    def converter_type(expression: Selected) -> str:
        """Internal type deciding conversion (a foreign key converts like its target)."""
        return str(expression.output_field.storage_field().get_internal_type())

    def get_db_converters(self, expression: Selected) -> list[Converter]:
        """Backend converters for a selected expression (before the field's own)."""
        return []

    # -- statements -----------------------------------------------------------
    def limit_offset_sql(self, low: int, high: int | None) -> str:
        """LIMIT/OFFSET clause for slice ``[low:high]`` (the numbers are validated ints)."""
        parts = []
        if high is not None:
            parts.append(f"LIMIT {int(high) - int(low)}")
        elif low:
            parts.append(f"LIMIT {self.no_limit_value()}")
        if low:
            parts.append(f"OFFSET {int(low)}")
        return " ".join(parts)

    def no_limit_value(self) -> int | None:
        """The LIMIT to use when only OFFSET is wanted (None: omit LIMIT)."""
        return None

    def for_update_sql(
        self,
        nowait: bool = False,
        skip_locked: bool = False,
        of: Sequence[str] = (),
        no_key: bool = False,
    ) -> str:
        """FOR [NO KEY] UPDATE clause (``of`` holds already-quoted table aliases)."""
        sql = "FOR NO KEY UPDATE" if no_key else "FOR UPDATE"
        if of:
            sql += " OF " + ", ".join(of)
        if nowait:
            sql += " NOWAIT"
        elif skip_locked:
            sql += " SKIP LOCKED"
        return sql

    def distinct_sql(self, fields: list[str]) -> str:
        """DISTINCT or DISTINCT ON (...) prefix."""
        if fields:
            raise NotSupportedError("DISTINCT ON fields is not supported by this database backend.")
        return "DISTINCT"

    def insert_statement(self, on_conflict_ignore: bool = False) -> str:
        """The INSERT verb."""
        return "INSERT INTO"

    def on_conflict_suffix_sql(self, unique_columns: list[str], update_columns: list[str]) -> str:
        """``ON CONFLICT(...) DO UPDATE SET col = EXCLUDED.col`` for an upsert.

        Both SQLite (3.24+) and PostgreSQL spell it this way. Only column names
        (quoted here) enter the SQL; the inserted values stay parameters.
        """
        qn = self.quote_name
        sets = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in update_columns)
        return f"ON CONFLICT({', '.join(qn(c) for c in unique_columns)}) DO UPDATE SET {sets}"

    def return_insert_columns(self, columns: list[str]) -> str:
        """RETURNING clause for generated columns (empty when unsupported)."""
        if not columns:
            return ""
        return "RETURNING " + ", ".join(columns)

    def pk_default_value(self) -> str:
        """SQL for 'use the default' of a primary key in an INSERT values list."""
        return "DEFAULT"

    def bulk_insert_column(self, values: list[Any]) -> Any:
        """One column of a bulk INSERT as its array parameter (backends with ``can_bulk_insert_unnest``)."""
        return values

    def bulk_batch_size(self, num_fields: int, num_objs: int) -> int:
        """How many rows one INSERT may carry without exceeding the parameter limit."""
        limit = self.connection.features.max_query_params
        if limit is None or num_fields == 0:
            return num_objs
        return max(1, int(limit) // num_fields)

    def prep_for_like_query(self, value: str) -> str:
        r"""Escape LIKE wildcards in a value (``\`` is the escape character)."""
        return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    def lookup_cast(self, lookup_type: str, internal_type: str | None = None) -> str:
        """How to wrap the left-hand side for a lookup (``%s`` = the column SQL)."""
        if lookup_type in ("iexact", "icontains", "istartswith", "iendswith"):
            return "UPPER(%s)"
        return "%s"

    def computed_lookup_cast(self, internal_type: str) -> str:
        """How to wrap a computed left-hand side (not a column) of a lookup (``%s`` = its SQL).

        A column compares by its declared type; an expression of the same
        type may need a cast to compare the same way with a bound value.
        """
        return "%s"

    def date_extract_sql(
        self,
        kind: str,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        """SQL extracting ``kind`` (validated against ``extract_kinds``) from a date, time or datetime.

        A datetime is read in the zone ``tzname`` (an IANA name) when given, else in UTC.
        """
        raise NotImplementedError

    def datetime_cast_date_sql(
        self,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        """SQL casting a datetime to its date in ``tzname`` (UTC when None)."""
        raise NotImplementedError

    def datetime_cast_time_sql(
        self,
        sql: str,
        params: list[Any],
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        """SQL casting a datetime to its time of day in ``tzname`` (UTC when None)."""
        raise NotImplementedError

    def date_trunc_sql(
        self,
        kind: str,
        sql: str,
        params: list[Any],
        is_datetime: bool,
        tzname: str | None = None,
    ) -> tuple[str, list[Any]]:
        """SQL truncating a date/datetime to ``kind`` (one of ``trunc_kinds``).

        A datetime is truncated in ``tzname`` (UTC when None) and stays a datetime.
        """
        raise NotImplementedError

    def time_trunc_sql(self, kind: str, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
        """SQL truncating a time to ``kind`` (hour, minute or second)."""
        raise NotImplementedError

    def regex_lookup(self, lookup_type: str) -> str:
        """Pattern for ``regex``/``iregex``: ``%s`` placeholders for lhs and pattern."""
        raise NotImplementedError

    def temporal_arithmetic_sql(
        self,
        lhs_type: str,
        connector: str,
        rhs_type: str,
        lhs_sql: str,
        rhs_sql: str,
    ) -> str:
        """Date/time arithmetic of two compiled operands, in their order.

        Called for ``X +/- DurationField`` (X a DateField, DateTimeField or
        TimeField) and for ``X - Y`` of two dates/datetimes or two times;
        ``connector`` is ``"+"`` or ``"-"``. The result must be what the
        backend returns for a column of the result type: a datetime for
        date/datetime +/- duration, a time for time +/- duration, a duration
        for a difference. Native operators by default.
        """
        return f"({lhs_sql} {connector} {rhs_sql})"

    def temporal_comparison_sql(
        self,
        lhs_type: str | None,
        lhs_sql: str,
        rhs_type: str | None,
        rhs_sql: str,
    ) -> tuple[str, str]:
        """Both sides of a comparison between two expressions, made comparable.

        A date compared with a datetime means its midnight (UTC); backends that
        compare them natively return the SQL unchanged, as here.
        """
        return lhs_sql, rhs_sql

    def check_regex(self, pattern: object, lookup_type: str) -> None:
        """Raise ``DataError`` for a pattern the backend's regex engine rejects.

        Called before SQL for patterns given as values. The default checks
        nothing: the database itself reports an invalid pattern as DataError.
        """

    def check_extract_kind(self, kind: object) -> str:
        """Return ``kind`` if it is on the allow-list, else raise ``ValueError``."""
        if not isinstance(kind, str) or kind not in self.extract_kinds:
            raise ValueError(
                f"Invalid date part {short_repr(kind)}; choose from: {', '.join(sorted(self.extract_kinds))}."
            )
        return kind

    def explain_query_prefix(self, format: str | None = None, **options: Any) -> str:
        """EXPLAIN prefix; ``format`` and option names are checked against allow-lists.

        Django's rules and messages: an unknown format raises ``ValueError: X is
        not a recognized format.`` naming the allowed ones, unknown options
        ``ValueError: Unknown options: ...``. Boolean options render as
        ``NAME true|false``; ``serialize`` (PostgreSQL 17+) takes ``"TEXT"`` or
        ``"BINARY"``. Only allow-listed, upper-cased names reach the SQL text.
        """
        features = self.connection.features
        extras: list[str] = []
        serialize = (
            options.pop("serialize", None)
            if "SERIALIZE" in features.supported_explain_options
            else None
        )
        unknown = [
            name
            for name in options
            if not isinstance(name, str) or name.upper() not in features.supported_explain_options
        ]
        if format is not None:
            formats = features.supported_explain_formats
            if not isinstance(format, str) or format.upper() not in formats:
                shown = format.upper() if isinstance(format, str) else short_repr(format)
                allowed = (
                    f"Allowed formats: {', '.join(sorted(formats))}"
                    if formats
                    else f"{self.connection.display_name} does not support any formats."
                )
                raise ValueError(f"{shown[:60]} is not a recognized format. {allowed}")
        if unknown:
            raise ValueError(f"Unknown options: {', '.join(sorted(str(n)[:60] for n in unknown))}")
        if serialize is not None:
            if not isinstance(serialize, str) or serialize.upper() not in ("TEXT", "BINARY"):
                raise ValueError(
                    f"explain(serialize=...) takes 'TEXT' or 'BINARY', got {short_repr(serialize)}."
                )
            extras.append(f"SERIALIZE {serialize.upper()}")
        # Django's order: SERIALIZE, the boolean options alphabetically, FORMAT.
        for name, value in sorted(options.items(), key=lambda item: item[0].upper()):
            extras.append(
                f"{check_explain_option(name, features.supported_explain_options)} "
                f"{'true' if value else 'false'}"
            )
        if format is not None:
            extras.append(f"FORMAT {format.upper()}")
        if extras:
            return f"{self.explain_prefix} ({', '.join(extras)})"
        return self.explain_prefix

    # -- large IN lists and JSON -------------------------------------------------
    def in_array_sql(self, values: list[Any]) -> tuple[str, list[Any]]:
        """``(...)`` right-hand side of ``IN`` binding many values as few parameters."""
        return "(" + ", ".join(["%s"] * len(values)) + ")", list(values)

    def json_path_params(self, keys: list[str]) -> Any:
        """The bound parameter naming a JSON key path."""
        raise NotSupportedError("JSON key lookups are not supported on this backend.")

    def json_key_sql(
        self, sql: str, params: list[Any], keys: list[str], as_json: bool
    ) -> tuple[str, list[Any]]:
        """A JSON key of ``sql``: its scalar value, or (``as_json``) its JSON text."""
        raise NotSupportedError("JSON key lookups are not supported on this backend.")

    def json_key_order_sql(
        self, sql: str, params: list[Any], keys: list[str]
    ) -> tuple[str, list[Any]]:
        """A JSON key of ``sql`` as ``ORDER BY`` compares it: numbers as numbers, as Django.

        The scalar value by default (SQLite's ``json_extract`` keeps JSON types).
        """
        return self.json_key_sql(sql, params, keys, as_json=False)

    def json_scalar_param(self, value: Any) -> Any:
        """``value`` (compared with a JSON key's scalar) as the driver can bind it."""
        return value
