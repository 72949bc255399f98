"""The project-wide ``use_tz`` switch (Django's ``USE_TZ``), read by fields and backends.

With ``use_tz`` on (the default) datetimes are aware in and out and stored in
UTC; off, they are naive in and out and stored as given. ``orm.configure(...,
use_tz=False)`` sets it; it sits in this leaf module so that the fields and
backend layers can read it without importing the connection layer.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

_state = {"use_tz": True}
# Called when the setting changes: caches that hold converters chosen under
# the old setting (the compiler's statement cache) forget them. A hook, not a
# check on every query, so the hot path pays nothing.
_on_change: list[Callable[[], None]] = []


def on_change(callback: Callable[[], None]) -> None:
    """Call ``callback()`` whenever :func:`set_use_tz` changes the setting."""
    _on_change.append(callback)


def use_tz() -> bool:
    """True when datetimes are aware (the default), False in a project without time zones."""
    return _state["use_tz"]


def set_use_tz(value: bool) -> None:
    """Switch time-zone support (``orm.configure`` calls this; not meant to change mid-run)."""
    if not isinstance(value, bool):
        raise TypeError(f"use_tz must be True or False, not {value!r}.")
    if _state["use_tz"] is value:
        return
    _state["use_tz"] = value
    for callback in _on_change:
        callback()


def now() -> datetime.datetime:
    """The current time: aware in UTC with ``use_tz``, else naive local time (as Django)."""
    if _state["use_tz"]:
        return datetime.datetime.now(datetime.UTC)
    return datetime.datetime.now()
