"""Python functions registered on every SQLite connection, for what its SQL lacks.

Date and time arithmetic: `orm` stores a datetime as UTC text
``YYYY-MM-DD HH:MM:SS.ffffff``, a date as ``YYYY-MM-DD``, a time as
``HH:MM:SS.ffffff`` and a duration as integer microseconds. SQLite's own date
functions work in milliseconds at best (``julianday`` is a float), so shifting
or subtracting would lose microseconds; these functions are exact, take and
return the storage formats (so results compare and store like columns), and
map NULL to NULL. A result outside the representable range raises, which
SQLite reports as an error, as PostgreSQL does.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import operator
import random
import sqlite3
import zoneinfo
from collections.abc import Callable
from typing import Any, TypeAlias

#: A value SQLite hands a Python function: one of its storage classes, or NULL.
SQLiteValue: TypeAlias = str | bytes | int | float | None

_DAY_US = 86_400_000_000
_ONE_US = datetime.timedelta(microseconds=1)


def _timestamp(value: SQLiteValue) -> datetime.datetime:
    # A date is its midnight; an aware value (written by other tools) is made UTC.
    parsed = datetime.datetime.fromisoformat(str(value))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def _time_us(value: SQLiteValue) -> int:
    t = datetime.time.fromisoformat(str(value))
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def datetime_add(value: SQLiteValue, microseconds: SQLiteValue) -> str | None:
    """A date or datetime shifted by a duration, as datetime storage text."""
    if value is None or microseconds is None:
        return None
    shifted = _timestamp(value) + datetime.timedelta(microseconds=int(microseconds))
    return shifted.isoformat(" ", "microseconds")


def time_add(value: SQLiteValue, microseconds: SQLiteValue) -> str | None:
    """A time shifted by a duration, wrapping around midnight (as PostgreSQL's time + interval)."""
    if value is None or microseconds is None:
        return None
    total = (_time_us(value) + int(microseconds)) % _DAY_US
    seconds, micro = divmod(total, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return datetime.time(hour, minute, second, micro).isoformat("microseconds")


def timestamp_diff(lhs: SQLiteValue, rhs: SQLiteValue) -> int | None:
    """``lhs - rhs`` of two dates or datetimes, in microseconds."""
    if lhs is None or rhs is None:
        return None
    return (_timestamp(lhs) - _timestamp(rhs)) // _ONE_US


def time_diff(lhs: SQLiteValue, rhs: SQLiteValue) -> int | None:
    """``lhs - rhs`` of two times, in microseconds (negative when ``rhs`` is later)."""
    if lhs is None or rhs is None:
        return None
    return _time_us(lhs) - _time_us(rhs)


# -- date/time parts and truncation (Extract, Trunc, __date, __time) -------------------


def _local(
    value: SQLiteValue, tzname: str | None
) -> datetime.datetime | datetime.date | datetime.time:
    """A stored date, time or (UTC) datetime; a datetime is moved to ``tzname`` when given."""
    text = str(value)
    if len(text) == 10:
        return datetime.date.fromisoformat(text)
    if ":" in text[:3]:
        return datetime.time.fromisoformat(text)
    parsed = _timestamp(text).replace(tzinfo=datetime.UTC)
    if tzname:
        parsed = parsed.astimezone(zoneinfo.ZoneInfo(str(tzname)))
    return parsed


def _part(kind: str, value: Any) -> int:
    if kind in ("hour", "minute", "second"):
        return int(getattr(value, kind))
    if kind == "quarter":
        return int((value.month + 2) // 3)
    if kind == "week":
        return int(value.isocalendar().week)
    if kind == "iso_year":
        return int(value.isocalendar().year)
    if kind == "iso_week_day":
        return int(value.isoweekday())
    if kind == "week_day":  # Django's numbering: 1 = Sunday ... 7 = Saturday
        return int(value.isoweekday()) % 7 + 1
    return int(getattr(value, kind))


def datetime_extract(kind: SQLiteValue, value: SQLiteValue, tzname: str | None) -> int | None:
    """A part of a date, time or datetime (read in ``tzname``), as PostgreSQL's EXTRACT gives it."""
    if value is None:
        return None
    return int(_part(str(kind), _local(value, tzname)))


def _trunc_date(kind: str, value: datetime.date) -> datetime.date:
    if kind == "year":
        return value.replace(month=1, day=1)
    if kind == "quarter":
        return value.replace(month=(value.month - 1) // 3 * 3 + 1, day=1)
    if kind == "month":
        return value.replace(day=1)
    if kind == "week":  # weeks start on Monday, as ISO 8601 and PostgreSQL's date_trunc
        return value - datetime.timedelta(days=value.weekday())
    return value


def _trunc_time(kind: str, value: Any) -> Any:
    fields = ("hour", "minute", "second", "microsecond")
    keep = {"hour": 1, "minute": 2, "second": 3}.get(kind, 0)
    return value.replace(**{name: 0 for name in fields[keep:]})


def datetime_trunc(kind: SQLiteValue, value: SQLiteValue, tzname: str | None) -> str | None:
    """A date, time or datetime truncated to ``kind``, in its storage format.

    A datetime is truncated in ``tzname`` (UTC when None) and returned as UTC
    storage text, as PostgreSQL's ``date_trunc(kind, ts, zone)`` gives a
    timestamptz.
    """
    if value is None:
        return None
    kind, local = str(kind), _local(value, tzname)
    if isinstance(local, datetime.datetime):
        day = _trunc_date(kind, local.date()) if kind in _DATE_KINDS else local.date()
        clock = (
            _trunc_time(kind, local.timetz())
            if kind not in _DATE_KINDS
            else datetime.time(tzinfo=local.tzinfo)
        )
        moment = datetime.datetime.combine(day, clock.replace(tzinfo=None))
        if local.tzinfo is not None:
            moment = (
                moment.replace(tzinfo=local.tzinfo).astimezone(datetime.UTC).replace(tzinfo=None)
            )
        return moment.isoformat(" ", "microseconds")
    if isinstance(local, datetime.date):
        return _trunc_date(kind, local).isoformat()
    return str(_trunc_time(kind, local).isoformat("microseconds"))


_DATE_KINDS = frozenset({"year", "quarter", "month", "week", "day"})


def datetime_cast_date(value: SQLiteValue, tzname: str | None) -> str | None:
    """The date of a datetime read in ``tzname`` (``__date``, ``TruncDate``)."""
    if value is None:
        return None
    local = _local(value, tzname)
    return (local.date() if isinstance(local, datetime.datetime) else local).isoformat()


def datetime_cast(value: SQLiteValue) -> str | None:
    """A date or datetime as a stored (UTC) datetime, microseconds kept (``Cast`` to a datetime).

    SQLite's ``strftime('%f')`` has milliseconds only, so the cast is done here.
    """
    if value is None:
        return None
    return _timestamp(value).isoformat(" ", "microseconds")


def datetime_cast_time(value: SQLiteValue, tzname: str | None) -> str | None:
    """The time of day of a datetime read in ``tzname`` (``__time``, ``TruncTime``)."""
    if value is None:
        return None
    local = _local(value, tzname)
    clock = local.time() if isinstance(local, datetime.datetime) else local
    assert isinstance(clock, datetime.time), "a date has no time of day"
    return clock.isoformat("microseconds")


# -- math and text functions SQLite may lack (as Django registers them) -----------


def _nullsafe(function: Callable[..., Any]) -> Callable[..., Any]:
    # SQL functions map a NULL argument to NULL, as PostgreSQL's strict functions do.
    def call(*args: Any) -> Any:
        if any(arg is None for arg in args):
            return None
        return function(*args)

    return call


def _lpad(text: str, length: int, fill: str) -> str:
    delta = length - len(text)
    if delta <= 0:
        return text[:length]
    return (fill * length)[:delta] + text


def _rpad(text: str, length: int, fill: str) -> str:
    return (text + fill * length)[:length]


def _hash(name: str) -> Callable[[SQLiteValue], str]:
    def digest(text: SQLiteValue) -> str:
        return hashlib.new(name, str(text).encode(), usedforsecurity=False).hexdigest()

    return digest


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _ceiling(x: float) -> int | float:
    return x if isinstance(x, int) else math.ceil(x)


def _floor(x: float) -> int | float:
    return x if isinstance(x, int) else math.floor(x)


#: (SQL name, argument count, Python function): the math and text functions
#: orm.functions compiles to on SQLite, each NULL-safe.
_PORTABLE: tuple[tuple[str, int, Callable[..., Any]], ...] = (
    ("ACOS", 1, math.acos),
    ("ASIN", 1, math.asin),
    ("ATAN", 1, math.atan),
    ("ATAN2", 2, math.atan2),
    ("CEILING", 1, _ceiling),
    ("COS", 1, math.cos),
    ("COT", 1, lambda x: 1 / math.tan(x)),
    ("DEGREES", 1, math.degrees),
    ("EXP", 1, math.exp),
    ("FLOOR", 1, _floor),
    ("LN", 1, math.log),
    ("LOG", 2, lambda base, x: math.log(x, base)),
    ("MOD", 2, math.fmod),
    ("POWER", 2, math.pow),
    ("RADIANS", 1, math.radians),
    ("SIGN", 1, _sign),
    ("SIN", 1, math.sin),
    ("SQRT", 1, math.sqrt),
    ("TAN", 1, math.tan),
    ("LPAD", 3, _lpad),
    ("RPAD", 3, _rpad),
    ("REPEAT", 2, operator.mul),
    ("REVERSE", 1, lambda text: text[::-1]),
    ("MD5", 1, _hash("md5")),
    ("SHA1", 1, _hash("sha1")),
    ("SHA224", 1, _hash("sha224")),
    ("SHA256", 1, _hash("sha256")),
    ("SHA384", 1, _hash("sha384")),
    ("SHA512", 1, _hash("sha512")),
)
# Wrapped once at import, not on every connection.
_PORTABLE_NULLSAFE = tuple(
    (name, nargs, _nullsafe(function)) for name, nargs, function in _PORTABLE
)

#: The date/time functions: NULL as the zone means UTC, so they handle NULLs themselves.
_TEMPORAL: tuple[tuple[str, int, Callable[..., Any]], ...] = (
    ("orm_datetime_extract", 3, datetime_extract),
    ("orm_datetime_trunc", 3, datetime_trunc),
    ("orm_datetime_cast_date", 2, datetime_cast_date),
    ("orm_datetime_cast_time", 2, datetime_cast_time),
    ("orm_datetime_cast", 1, datetime_cast),
)


class _Spread:
    """STDDEV_POP/STDDEV_SAMP/VAR_POP/VAR_SAMP, which SQLite lacks (as Django registers).

    Welford's running mean: one pass, no list of values, numerically stable.
    NULLs are skipped; too few values give NULL, as on PostgreSQL.
    """

    sample = False
    root = False

    def __init__(self) -> None:
        self.count, self.mean, self.squares = 0, 0.0, 0.0

    def step(self, value: SQLiteValue) -> None:
        if value is None:
            return
        self.count += 1
        delta = float(value) - self.mean
        self.mean += delta / self.count
        self.squares += delta * (float(value) - self.mean)

    def finalize(self) -> float | None:
        divisor = self.count - 1 if self.sample else self.count
        if divisor <= 0:
            return None
        variance = self.squares / divisor
        return math.sqrt(variance) if self.root else variance


_SPREADS = {
    name: type(name, (_Spread,), {"sample": sample, "root": root})
    for name, sample, root in (
        ("STDDEV_POP", False, True),
        ("STDDEV_SAMP", True, True),
        ("VAR_POP", False, False),
        ("VAR_SAMP", True, False),
    )
}


def register(connection: sqlite3.Connection) -> None:
    """Make the functions above callable from SQL on ``connection``."""
    # deterministic: the result depends on the arguments only, so SQLite may
    # use them in indexes and factor repeated calls.
    for name, function in (
        ("orm_datetime_add", datetime_add),
        ("orm_time_add", time_add),
        ("orm_timestamp_diff", timestamp_diff),
        ("orm_time_diff", time_diff),
    ):
        connection.create_function(name, 2, function, deterministic=True)
    for name, nargs, function in _PORTABLE_NULLSAFE:
        connection.create_function(name, nargs, function, deterministic=True)
    for name, nargs, function in _TEMPORAL:
        connection.create_function(name, nargs, function, deterministic=True)
    # Not deterministic: a new value on every call, like PostgreSQL's random().
    connection.create_function("PI", 0, lambda: math.pi, deterministic=True)
    connection.create_function("RAND", 0, random.random)
    for name, aggregate in _SPREADS.items():
        # typeshed says finalize() returns int; SQLite takes any SQL value (a float
        # or NULL here), so the stub, not the class, is wrong.
        connection.create_aggregate(name, 1, aggregate)  # pyright: ignore[reportArgumentType]
