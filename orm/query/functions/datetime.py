"""Date and time functions: Now, Extract and Extract<Part>, Trunc and Trunc<Part>, TruncDate/TruncTime.

The date-part transforms (``__year``, ``__iso_week_day``, ``__quarter``,
``__date``, ``__time``, ...) are registered on the date, datetime and time
fields here. ``orm`` stores and compares datetimes in UTC, so without
``tzinfo=`` a datetime is split and truncated in UTC; with a ``ZoneInfo`` it is
read in that zone first. The zone name always travels as a bound parameter.
SQL comes from the backend's operations (``date_extract_sql``,
``date_trunc_sql``, ...); on SQLite what strftime cannot do (ISO weeks, zones,
weeks and quarters) is a Python function (orm/backends/sqlite/functions.py).
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.query.expressions import Func, SQLParams
from orm.query.lookups import Transform
from orm.utils.text import short_repr

_TIME_PARTS = ("hour", "minute", "second")
_DATE_KINDS = ("year", "quarter", "month", "week", "day", "date")
# DateTimeField is not a DateField subclass in orm (unlike Django): name all three.
_TEMPORAL = (f.DateField, f.DateTimeField, f.TimeField)


def tzname_of(tzinfo: datetime.tzinfo | None) -> str | None:
    """The IANA name of ``tzinfo`` (a ``ZoneInfo`` or ``datetime.UTC``); None for None."""
    if tzinfo is None:
        return None
    if isinstance(tzinfo, zoneinfo.ZoneInfo):
        return tzinfo.key
    if tzinfo is datetime.UTC:
        return "UTC"
    raise ValueError(
        f"tzinfo must be a zoneinfo.ZoneInfo (or datetime.UTC), got {short_repr(tzinfo)}: "
        "use zoneinfo.ZoneInfo('Europe/Paris') rather than a fixed offset."
    )


def _field_of(expr: object) -> Any:
    return getattr(expr, "output_field", None)


class TimezoneMixin:
    """``tzinfo=``: the zone a datetime is read in (UTC when None)."""

    tzinfo: Any = None

    def get_tzname(self) -> str | None:
        """The zone name sent to the database, or None for UTC."""
        return tzname_of(self.tzinfo)


class Now(Func):
    """The current date and time (the statement's start on PostgreSQL)."""

    template = "STATEMENT_TIMESTAMP()"
    arity = 0
    _output_field = f.DateTimeField()

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        # 'now' is fixed for the statement; padded to orm's microsecond text format.
        return "strftime('%%Y-%%m-%%d %%H:%%M:%%f000', 'now')", []

    def get_group_by_cols(self) -> list[Any]:
        return []


class Extract(TimezoneMixin, Transform):
    """A date part as an integer: ``Extract("created", "year")`` or ``ExtractYear("created")``."""

    lookup_name = ""
    _output_field = f.IntegerField()

    def __init__(
        self,
        expression: Any,
        lookup_name: str | None = None,
        tzinfo: datetime.tzinfo | None = None,
        **extra: Any,
    ) -> None:
        if lookup_name is not None:
            if not isinstance(lookup_name, str) or not lookup_name.isidentifier():
                raise ValueError(f"Invalid date part {short_repr(lookup_name)}.")
            self.lookup_name = lookup_name
        if not self.lookup_name:
            raise ValueError("lookup_name must be provided, e.g. Extract('created', 'year').")
        tzname_of(tzinfo)  # fail now on a tzinfo that has no name
        self.tzinfo = tzinfo
        super().__init__(expression, **extra)

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        """Resolve, then check the source is a date, datetime or time with that part."""
        clone = super().resolve_expression(*args, **kwargs)
        field = _field_of(clone.lhs)
        if field is None:
            return clone
        if not isinstance(field, _TEMPORAL):
            raise ValueError(
                "Extract input expression must be DateField, DateTimeField, or TimeField."
            )
        name = getattr(field, "name", None) or type(field).__name__
        if type(field) is f.DateField and clone.lookup_name in _TIME_PARTS:
            raise ValueError(
                f"Cannot extract time component '{clone.lookup_name}' from DateField '{name}'."
            )
        if isinstance(field, f.TimeField) and clone.lookup_name not in _TIME_PARTS:
            raise ValueError(
                f"Cannot extract component '{clone.lookup_name}' from TimeField '{name}'."
            )
        return clone

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        sql, params = compiler.compile(self.lhs)
        tzname = self.get_tzname()
        if tzname is not None and not isinstance(_field_of(self.lhs), f.DateTimeField):
            raise ValueError("tzinfo can only be used with DateTimeField.")
        return connection.ops.date_extract_sql(self.lookup_name, sql, list(params), tzname)


def _extract(class_name: str, part: str, doc: str) -> type[Extract]:
    return type(
        class_name, (Extract,), {"lookup_name": part, "__doc__": doc, "__module__": __name__}
    )


ExtractYear = _extract("ExtractYear", "year", "The year.")
ExtractIsoYear = _extract("ExtractIsoYear", "iso_year", "The ISO 8601 week-numbering year.")
ExtractMonth = _extract("ExtractMonth", "month", "The month, 1-12.")
ExtractDay = _extract("ExtractDay", "day", "The day of the month.")
ExtractWeekDay = _extract(
    "ExtractWeekDay", "week_day", "The day of the week, 1 = Sunday ... 7 = Saturday."
)
ExtractIsoWeekDay = _extract(
    "ExtractIsoWeekDay", "iso_week_day", "The ISO day of the week, 1 = Monday ... 7 = Sunday."
)
ExtractWeek = _extract("ExtractWeek", "week", "The ISO 8601 week number, 1-53.")
ExtractQuarter = _extract("ExtractQuarter", "quarter", "The quarter of the year, 1-4.")
ExtractHour = _extract("ExtractHour", "hour", "The hour, 0-23.")
ExtractMinute = _extract("ExtractMinute", "minute", "The minute, 0-59.")
ExtractSecond = _extract("ExtractSecond", "second", "The whole second, 0-59.")


class TruncBase(TimezoneMixin, Transform):
    """Truncation to ``kind``; the result type is the source's unless ``output_field`` says otherwise."""

    kind = ""

    def __init__(
        self,
        expression: Any,
        output_field: f.Field | None = None,
        tzinfo: datetime.tzinfo | None = None,
        **extra: Any,
    ) -> None:
        tzname_of(tzinfo)
        self.tzinfo = tzinfo
        super().__init__(expression, output_field=output_field, **extra)

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        """Resolve, then refuse truncations that mean nothing (a date to an hour)."""
        clone = super().resolve_expression(*args, **kwargs)
        field = _field_of(clone.lhs)
        if not isinstance(field, _TEMPORAL):
            raise TypeError(
                f"{getattr(field, 'name', field)!r} isn't a DateField, TimeField, or DateTimeField."
            )
        output = clone.output_field
        if not isinstance(output, _TEMPORAL):
            raise ValueError("output_field must be either DateField, TimeField, or DateTimeField")
        target = type(output).__name__ if type(output) is not type(field) else "DateTimeField"
        name = getattr(field, "name", None) or type(field).__name__
        if type(field) is f.DateField and (
            isinstance(output, f.DateTimeField) or clone.kind in (*_TIME_PARTS, "time")
        ):
            raise ValueError(f"Cannot truncate DateField '{name}' to {target}.")
        if isinstance(field, f.TimeField) and (
            isinstance(output, f.DateTimeField) or clone.kind in _DATE_KINDS
        ):
            raise ValueError(f"Cannot truncate TimeField '{name}' to {target}.")
        return clone

    def get_db_converters(self, connection: Connection) -> list[Any]:
        """The output field's converters, then (with ``tzinfo=``) the move into that zone."""
        converters = super().get_db_converters(connection)
        if self.tzinfo is not None and isinstance(self.output_field, f.DateTimeField):
            converters = [*converters, _in_own_zone]
        return converters

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        sql, params = compiler.compile(self.lhs)
        source, output = _field_of(self.lhs), self.output_field
        tzname = self.get_tzname()
        if tzname is not None and not isinstance(source, f.DateTimeField):
            raise ValueError("tzinfo can only be used with DateTimeField.")
        ops = connection.ops
        if isinstance(output, f.DateTimeField):
            return ops.date_trunc_sql(self.kind, sql, list(params), True, tzname)
        if isinstance(output, f.DateField):
            if isinstance(source, f.DateTimeField):  # the datetime's date (in the zone) first
                sql, params = ops.datetime_cast_date_sql(sql, list(params), tzname)
            return ops.date_trunc_sql(self.kind, sql, list(params), False)
        if isinstance(source, f.DateTimeField):
            sql, params = ops.datetime_cast_time_sql(sql, list(params), tzname)
        return ops.time_trunc_sql(self.kind, sql, list(params))


def _in_own_zone(value: Any, expression: Any, connection: Any) -> Any:
    # As Django: midnight in Paris comes back as 00:00+01:00, not 23:00 UTC (the
    # same instant). A naive value (use_tz=False) has no zone to move from.
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(expression.tzinfo)
    return value


class Trunc(TruncBase):
    """``Trunc("created", "month")``: truncate to year, quarter, month, week, day, hour, minute or second."""

    KINDS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")

    def __init__(
        self,
        expression: Any,
        kind: str,
        output_field: f.Field | None = None,
        tzinfo: datetime.tzinfo | None = None,
        **extra: Any,
    ) -> None:
        if kind not in self.KINDS:
            raise ValueError(
                f"Invalid truncation kind {short_repr(kind)}; choose from: {', '.join(self.KINDS)}."
            )
        self.kind = kind
        super().__init__(expression, output_field=output_field, tzinfo=tzinfo, **extra)


def _trunc(class_name: str, kind: str, doc: str) -> type[TruncBase]:
    return type(class_name, (TruncBase,), {"kind": kind, "__doc__": doc, "__module__": __name__})


TruncYear = _trunc("TruncYear", "year", "Truncated to the first day of the year.")
TruncQuarter = _trunc("TruncQuarter", "quarter", "Truncated to the first day of the quarter.")
TruncMonth = _trunc("TruncMonth", "month", "Truncated to the first day of the month.")
TruncWeek = _trunc("TruncWeek", "week", "Truncated to the Monday of the week.")
TruncDay = _trunc("TruncDay", "day", "Truncated to midnight.")
TruncHour = _trunc("TruncHour", "hour", "Truncated to the hour.")
TruncMinute = _trunc("TruncMinute", "minute", "Truncated to the minute.")
TruncSecond = _trunc("TruncSecond", "second", "Truncated to the second.")


class TruncDate(TruncBase):
    """The date of a datetime (in ``tzinfo``, UTC by default); the ``__date`` transform."""

    kind = "date"
    lookup_name = "date"
    _output_field = f.DateField()

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        sql, params = compiler.compile(self.lhs)
        return connection.ops.datetime_cast_date_sql(sql, list(params), self.get_tzname())


class TruncTime(TruncBase):
    """The time of day of a datetime (in ``tzinfo``, UTC by default); the ``__time`` transform."""

    kind = "time"
    lookup_name = "time"
    _output_field = f.TimeField()

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        sql, params = compiler.compile(self.lhs)
        return connection.ops.datetime_cast_time_sql(sql, list(params), self.get_tzname())


def _register() -> None:
    for transform in (
        ExtractYear,
        ExtractIsoYear,
        ExtractMonth,
        ExtractDay,
        ExtractWeekDay,
        ExtractIsoWeekDay,
        ExtractWeek,
        ExtractQuarter,
    ):
        f.DateField.register_lookup(transform)
        f.DateTimeField.register_lookup(transform)
    for transform in (ExtractHour, ExtractMinute, ExtractSecond):
        f.DateTimeField.register_lookup(transform)
        f.TimeField.register_lookup(transform)
    f.DateTimeField.register_lookup(TruncDate)
    f.DateTimeField.register_lookup(TruncTime)


_register()

__all__ = [
    "Extract",
    "ExtractDay",
    "ExtractHour",
    "ExtractIsoWeekDay",
    "ExtractIsoYear",
    "ExtractMinute",
    "ExtractMonth",
    "ExtractQuarter",
    "ExtractSecond",
    "ExtractWeek",
    "ExtractWeekDay",
    "ExtractYear",
    "Now",
    "Trunc",
    "TruncBase",
    "TruncDate",
    "TruncDay",
    "TruncHour",
    "TruncMinute",
    "TruncMonth",
    "TruncQuarter",
    "TruncSecond",
    "TruncTime",
    "TruncWeek",
    "TruncYear",
]
