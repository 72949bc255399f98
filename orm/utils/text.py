"""Quoting user values in messages: recognisable, and short whatever their size.

Error messages quote the value or name that was refused, so the user can find
it. A value can be a megabyte of request data, though, and a message that
repeats it fills logs and error trackers (and slows every handler that formats
it). :func:`short_repr` is the one way `orm` quotes a user value: ``repr()``
cut to :data:`MAX_SHOWN` characters, followed by the original size.
"""

from __future__ import annotations

import decimal
import math
import reprlib
import sys
from collections.abc import Iterable

__all__ = ["MAX_SHOWN", "short_repr", "short_reprs", "short_str"]

#: Characters of a value's repr shown in a message before it is cut.
MAX_SHOWN = 100
_MAX_ITEMS = 20

# Bounds the work for containers: only their first items are formatted, and
# strings inside them are shortened. Other objects are formatted in full and
# cut by short_repr(), so that the cut always says how long the original was.
_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _MAX_ITEMS
_REPR.maxdeque = _REPR.maxarray = _MAX_ITEMS
_REPR.maxdict = _MAX_ITEMS // 2
_REPR.maxstring = MAX_SHOWN
_REPR.maxlong = _REPR.maxother = sys.maxsize


def short_repr(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr(value)``, or its first ``limit`` characters, ``...`` and the value's size.

    ``short_repr("x" * 2**20)`` is ``'xxx...x... (1048576 characters)`` with
    ``limit`` characters of the repr. Strings and bytes are cut before
    ``repr()`` runs and containers show their first items only, so the cost
    does not grow with the value. A value whose ``repr()`` fails (or, for an
    int, would exceed Python's digit limit) is described by its type.
    """
    if isinstance(value, str):
        return _cut(repr(value[:limit]), len(value) > limit, f"{len(value)} characters", limit)
    if isinstance(value, bytes | bytearray | memoryview):
        length = value.nbytes if isinstance(value, memoryview) else len(value)
        return _cut(repr(bytes(value[:limit])), length > limit, f"{length} bytes", limit)
    if isinstance(value, int) and not isinstance(value, bool):
        digits = math.floor(value.bit_length() * math.log10(2)) + 1
        if digits > limit:
            # repr() of a huge int is slow, and above 4300 digits it raises.
            return f"<int of about {digits} digits>"
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
        return f"<{type(value).__name__} object>"
    if isinstance(value, list | tuple | set | frozenset | dict):
        items = len(value)
        shown = _REPR.maxdict if isinstance(value, dict) else _MAX_ITEMS
        size = "1 item" if items == 1 else f"{items} items"
        return _cut(text, len(text) > limit or items > shown, size, limit)
    return _cut(text, len(text) > limit, f"{len(text)} characters", limit)


def short_reprs(values: Iterable[object], most: int = 10) -> str:
    """Comma-separated :func:`short_repr` of the first ``most`` values, then how many more.

    For messages that list what was refused (unknown keyword arguments, field
    names): ``'a', 'b', ... and 990 more``.
    """
    items = list(values)
    shown = ", ".join(short_repr(item) for item in items[:most])
    if len(items) > most:
        shown += f", ... and {len(items) - most} more"
    return shown


def short_str(value: object, limit: int = MAX_SHOWN) -> str:
    """Like :func:`short_repr` with ``str()``: for numbers shown as written (``1000000``)."""
    if isinstance(value, str) or not isinstance(value, int | float | decimal.Decimal):
        return short_repr(value, limit)
    if isinstance(value, int) and not isinstance(value, bool):
        return short_repr(value, limit)  # the same as str() for an int
    text = str(value)
    return _cut(text, len(text) > limit, f"{len(text)} characters", limit)


def _cut(text: str, cut: bool, size: str, limit: int) -> str:
    if not cut:
        return text
    return f"{text[:limit]}... ({size})"
