"""The driver values of a bulk INSERT, prepared column by column.

``bulk_create`` used to prepare each value through the whole field chain
(``pre_save``, an expression test, ``get_db_prep_save`` with its
``get_prep_value``, ``check_write`` and ``get_db_prep_value``): about ten
Python calls per value, most of them deciding again what the field already
knew. Here each column picks, once, how to read its value (an
``attrgetter`` unless the field computes it, as ``auto_now`` does) and, for
the one value type a built-in field sees almost always (``str`` for text,
``int`` for integers and foreign keys to them, ``date``, ``Decimal``), a
short check that gives exactly what the chain gives. Any other value, and
any value the short check does not accept as it is, goes through the field's
own chain, which returns the same value or raises the same error.

A field subclass that overrides one of the chain's methods gets no shortcut
(:func:`_fast` compares the methods with the built-in ones), so a custom
field's preparation always runs.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from orm.abc import Connection
from orm.fields.base import Field
from orm.fields.numeric import DecimalField, IntegerField
from orm.fields.related import ForeignKey
from orm.fields.temporal import DateField, _AutoNowMixin
from orm.fields.text import TextField


class HasExpression(Exception):
    """A value to insert is an expression: its row takes the one-statement-per-row path."""


Prepare = Callable[[Any], Any]

# Types that are never expressions: their values skip the resolve_expression test.
_PLAIN_TYPES = frozenset(
    {
        str,
        int,
        float,
        bool,
        decimal.Decimal,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        bytes,
        type(None),
    }
)


def _same(field: Field, base: type, *names: str) -> bool:
    # The field's class uses the base class's own methods for the whole chain.
    cls = type(field)
    return all(getattr(cls, name) is getattr(base, name) for name in names)


def _integer_check(field: Field, slow: Callable[[Any], Any]) -> tuple[type, Prepare] | None:
    if not (
        isinstance(field, IntegerField)
        and _same(
            field,
            IntegerField,
            "get_prep_value",
            "check_write",
            "get_db_prep_save",
            "get_db_prep_value",
        )
    ):
        return None
    low, high = field.range

    def prepare(value: int) -> Any:
        # In range: the chain returns the int itself; out of range it raises.
        return value if low <= value <= high else slow(value)

    return int, prepare


def _fast(field: Field, connection: Connection) -> tuple[type, Prepare] | None:
    """(the value type the shortcut takes, the shortcut), or None when the field's chain always runs."""
    slow = _slow(field, connection)
    if isinstance(field, ForeignKey):
        if not _same(
            field,
            ForeignKey,
            "get_prep_value",
            "check_write",
            "get_db_prep_save",
            "get_db_prep_value",
        ):
            return None
        # A key is prepared as its target field prepares it (after the model-instance test an int skips).
        target = _integer_check(field.target_field, slow)
        return target
    if isinstance(field, TextField):
        if not _same(
            field,
            TextField,
            "get_prep_value",
            "check_write",
            "get_db_prep_save",
            "get_db_prep_value",
        ):
            return None
        max_length = field.max_length

        def text(value: str) -> Any:
            # ASCII without NUL within max_length: the chain returns the str itself.
            if (
                value.isascii()
                and "\x00" not in value
                and (max_length is None or len(value) <= max_length)
            ):
                return value
            return slow(value)

        return str, text
    if isinstance(field, IntegerField):
        return _integer_check(field, slow)
    if isinstance(field, DateField):
        if not _same(
            field,
            DateField,
            "get_prep_value",
            "get_db_prep_save",
            "get_db_prep_value",
            "check_write",
        ):
            return None
        # A date (not a datetime: exact type) is never aware; the chain only adapts it.
        return datetime.date, connection.ops.adapt_datefield_value
    if isinstance(field, DecimalField):
        if not _same(
            field, DecimalField, "get_prep_value", "get_db_prep_save", "get_db_prep_value"
        ):
            return None
        places, digits = field.decimal_places, field.max_digits
        quantum, whole_digits = field.quantum, digits - places
        adapt = connection.ops.adapt_decimalfield_value

        def number(value: decimal.Decimal) -> Any:
            # DecimalField._quantize_checked inlined: the value rounded to the
            # declared places, and any failure left to the chain to raise.
            if value.is_finite():
                try:
                    quantized = value.quantize(quantum, rounding=decimal.ROUND_HALF_EVEN)
                except decimal.InvalidOperation:
                    return slow(value)
                if not quantized or quantized.adjusted() < whole_digits:
                    return adapt(quantized, digits, places)
            return slow(value)  # raises the chain's error

        return decimal.Decimal, number
    return None


def _slow(field: Field, connection: Connection) -> Prepare:
    prep = field.get_db_prep_save

    def prepare(value: Any) -> Any:
        return prep(value, connection)

    return prepare


def _reader(field: Field) -> Callable[[Any], Any]:
    pre_save = type(field).pre_save
    if pre_save is Field.pre_save or (
        pre_save is _AutoNowMixin.pre_save and not (field.auto_now or field.auto_now_add)  # type: ignore[attr-defined]
    ):
        return attrgetter(field.attname)  # what Field.pre_save reads

    def read(obj: Any) -> Any:
        return field.pre_save(obj, True)

    return read


def column(field: Field, objs: Sequence[Any], connection: Connection) -> list[Any]:
    """The driver values of ``field`` for ``objs``; raises ``HasExpression`` at an expression value."""
    read = _reader(field)
    fast_type, shortcut = _fast(field, connection) or (None, None)
    slow = field.get_db_prep_save
    check_not_null = field.check_not_null
    # The loop of preparer() below, written out: this runs once per value of a bulk INSERT.
    values: list[Any] = []
    append = values.append
    for value in map(read, objs):
        if value.__class__ is fast_type:
            append(shortcut(value))  # type: ignore[misc]
            continue
        if value.__class__ not in _PLAIN_TYPES and hasattr(value, "resolve_expression"):
            raise HasExpression
        if value is None:
            check_not_null(value)
        append(slow(value, connection))
    return values


def preparer(field: Field, connection: Connection) -> Callable[[Any, Connection], Any]:
    """``column()`` for one object: ``prepare(obj, connection)`` gives its driver value of ``field``.

    Made once per model and database alias (``save()``'s INSERT plan), so it
    may run on another thread than the one whose connection built it: the
    shortcut binds only what every connection of the alias has alike (the
    backend's adapt functions, a built-in field's chain, which reads the
    backend's operations and features), and the general chain, where a custom
    field may use its connection, gets the connection of the call.
    """
    read = _reader(field)
    fast_type, shortcut = _fast(field, connection) or (None, None)
    slow = field.get_db_prep_save
    check_not_null = field.check_not_null

    def prepare(obj: Any, connection: Connection) -> Any:
        value = read(obj)
        if value.__class__ is fast_type:
            return shortcut(value)  # type: ignore[misc]
        if value.__class__ not in _PLAIN_TYPES and hasattr(value, "resolve_expression"):
            raise HasExpression
        if value is None:
            check_not_null(value)
        return slow(value, connection)

    return prepare


def rows(
    fields: Sequence[Field], objs: Sequence[Any], connection: Connection
) -> list[Sequence[Any]]:
    """Each object's driver values in ``fields`` order (raises ``HasExpression`` as :func:`column`)."""
    columns = [column(field, objs, connection) for field in fields]
    found: list[Sequence[Any]] = (
        [() for _obj in objs] if not columns else list(zip(*columns, strict=True))
    )
    return found


__all__ = ["HasExpression", "column", "preparer", "rows"]
