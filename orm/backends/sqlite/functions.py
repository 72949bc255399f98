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
import sqlite3
from typing import Any

_DAY_US = 86_400_000_000
_ONE_US = datetime.timedelta(microseconds=1)


def _timestamp(value: Any) -> datetime.datetime:
    # A date is its midnight; an aware value (written by other tools) is made UTC.
    parsed = datetime.datetime.fromisoformat(str(value))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def _time_us(value: Any) -> int:
    t = datetime.time.fromisoformat(str(value))
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def datetime_add(value: Any, microseconds: Any) -> str | None:
    """A date or datetime shifted by a duration, as datetime storage text."""
    if value is None or microseconds is None:
        return None
    shifted = _timestamp(value) + datetime.timedelta(microseconds=int(microseconds))
    return shifted.isoformat(" ", "microseconds")


def time_add(value: Any, microseconds: Any) -> str | None:
    """A time shifted by a duration, wrapping around midnight (as PostgreSQL's time + interval)."""
    if value is None or microseconds is None:
        return None
    total = (_time_us(value) + int(microseconds)) % _DAY_US
    seconds, micro = divmod(total, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return datetime.time(hour, minute, second, micro).isoformat("microseconds")


def timestamp_diff(lhs: Any, rhs: Any) -> int | None:
    """``lhs - rhs`` of two dates or datetimes, in microseconds."""
    if lhs is None or rhs is None:
        return None
    return (_timestamp(lhs) - _timestamp(rhs)) // _ONE_US


def time_diff(lhs: Any, rhs: Any) -> int | None:
    """``lhs - rhs`` of two times, in microseconds (negative when ``rhs`` is later)."""
    if lhs is None or rhs is None:
        return None
    return _time_us(lhs) - _time_us(rhs)


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
