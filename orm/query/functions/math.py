"""Math functions: Django's ``django.db.models.functions.math`` for SQLite and PostgreSQL.

SQLite builds differ in which math functions they have, so orm registers a
NULL-safe Python implementation of each under PostgreSQL's name on every
connection (orm/backends/sqlite/functions.py); the SQL is then the same on
both backends. PostgreSQL has no ``LOG``/``MOD``/``ROUND(x, n)`` over double
precision, so float arguments of those are cast to numeric there (as Django's
``FixDecimalInputMixin``).
"""

from __future__ import annotations

import decimal
import sys
from typing import Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import FieldError
from orm.query.expressions import Cast, Expression, Func, SQLParams, Value
from orm.query.lookups import Transform


def _source_fields(expr: Expression) -> list[f.Field]:
    fields = []
    for source in expr.get_source_expressions():
        try:
            fields.append(source.output_field)
        except (FieldError, AttributeError):
            continue
    return fields


def _as_int(value: Any, expression: object, connection: Connection) -> Any:
    # PostgreSQL's SIGN/CEIL/FLOOR of an integer run over double precision.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _as_float(value: Any, expression: object, connection: Connection) -> Any:
    # SQLite's CEIL/FLOOR/SIGN give integers, PostgreSQL's MOD(int, int) too.
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _as_decimal(places: int) -> Any:
    quantum = decimal.Decimal(1).scaleb(-places)

    def convert(value: Any, expression: object, connection: Connection) -> Any:
        # PostgreSQL has no numeric COS, ATAN2, DEGREES...: it computes them
        # over double precision. Read the float as SQLite's converter does.
        if not isinstance(value, float):
            return value
        result = decimal.Decimal(repr(value))
        try:
            return result.quantize(quantum)
        except decimal.InvalidOperation:  # more digits than the context holds
            return result

    return convert


class DeclaredTypeMixin(Func):
    """Values in the Python type of the output field, the same on both backends.

    The engines disagree on the type of some results (``SIGN(7)`` is ``1.0``
    on PostgreSQL and ``1`` on SQLite): equal numbers, but ``repr``, JSON and
    ``isinstance`` checks would differ. Only math functions carry this
    converter, so plain columns pay nothing for it.
    """

    def get_db_converters(self, connection: Connection) -> list[Any]:
        converters = super().get_db_converters(connection)
        output = self.output_field
        if isinstance(output, f.FloatField):
            return [*converters, _as_float]
        if isinstance(output, f.IntegerField):
            return [*converters, _as_int]
        if isinstance(output, f.DecimalField):
            return [*converters, _as_decimal(output.decimal_places)]
        return converters


def _decimal_result() -> f.DecimalField[Any, Any]:
    """The output of a function over decimals that has no places of its own.

    A square root or a logarithm has as many places as the precision gives:
    read them at float precision on both backends (SQLite computes in REAL;
    PostgreSQL's exact numeric, rounded to the same places, compares equal).
    """
    return f.DecimalField(max_digits=1000, decimal_places=sys.float_info.dig)


class NumericOutputFieldMixin(DeclaredTypeMixin, Func):
    """Decimal in, decimal out; integers in, float out (as Django's mixin).

    Mixed in before ``Func`` (or a subclass); a ``Func`` itself so it is typed
    as one, which leaves every function's MRO as it was.
    """

    def _resolve_output_field(self) -> f.Field | None:
        fields = _source_fields(self)
        if any(isinstance(s, f.DecimalField) for s in fields):
            return _decimal_result()
        if any(isinstance(s, f.IntegerField) for s in fields):
            return f.FloatField()
        return super()._resolve_output_field() if fields else f.FloatField()


class FixDecimalInputMixin(Func):
    """On PostgreSQL, float arguments are cast to numeric (no LOG/MOD/ROUND(n) over double).

    A ``Func`` itself, mixed in first: typed as one, every MRO as it was.
    """

    def as_postgresql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        numeric = f.DecimalField(max_digits=1000, decimal_places=sys.float_info.dig)
        clone = self.copy()
        clone.set_source_expressions(
            [
                Cast(expr, numeric)
                if isinstance(getattr(expr, "output_field", None), f.FloatField)
                else expr
                for expr in self.get_source_expressions()
            ]
        )
        return clone.as_sql(compiler, connection, **extra)


def _numeric(name: str, function: str, doc: str, arity: int = 1) -> type[Func]:
    base: type[Func] = Transform if arity == 1 else Func
    attrs = {"function": function, "arity": arity, "__doc__": doc, "__module__": __name__}
    if arity == 1:
        attrs["lookup_name"] = name.lower()
    return type(name, (NumericOutputFieldMixin, base), attrs)


class Abs(DeclaredTypeMixin, Transform):
    """Absolute value."""

    function = "ABS"
    lookup_name = "abs"


class Ceil(DeclaredTypeMixin, Transform):
    """Smallest integer not below the value."""

    function = "CEILING"
    lookup_name = "ceil"


class Floor(DeclaredTypeMixin, Transform):
    """Largest integer not above the value."""

    function = "FLOOR"
    lookup_name = "floor"


class Sign(DeclaredTypeMixin, Transform):
    """-1, 0 or 1 by the sign of the value."""

    function = "SIGN"
    lookup_name = "sign"


ACos = _numeric("ACos", "ACOS", "Arccosine (radians).")
ASin = _numeric("ASin", "ASIN", "Arcsine (radians).")
ATan = _numeric("ATan", "ATAN", "Arctangent (radians).")
ATan2 = _numeric("ATan2", "ATAN2", "Arctangent of y / x, by quadrant: ``ATan2(y, x)``.", 2)
Cos = _numeric("Cos", "COS", "Cosine of radians.")
Cot = _numeric("Cot", "COT", "Cotangent of radians.")
Degrees = _numeric("Degrees", "DEGREES", "Radians converted to degrees.")
Exp = _numeric("Exp", "EXP", "e to the power of the value.")
Ln = _numeric("Ln", "LN", "Natural logarithm.")
Power = _numeric("Power", "POWER", "``Power(x, y)``: x to the power y.", 2)
Radians = _numeric("Radians", "RADIANS", "Degrees converted to radians.")
Sin = _numeric("Sin", "SIN", "Sine of radians.")
Sqrt = _numeric("Sqrt", "SQRT", "Square root.")
Tan = _numeric("Tan", "TAN", "Tangent of radians.")


class Log(FixDecimalInputMixin, NumericOutputFieldMixin, Func):
    """``Log(base, x)``: the logarithm of x to the given base."""

    function = "LOG"
    arity = 2


class Mod(FixDecimalInputMixin, NumericOutputFieldMixin, Func):
    """``Mod(x, y)``: the remainder of x / y, with the sign of x."""

    function = "MOD"
    arity = 2


class Pi(Func):
    """The constant pi."""

    function = "PI"
    arity = 0
    _output_field = f.FloatField()


class Random(Func):
    """A random float in [0, 1), new on every row."""

    function = "RANDOM"
    arity = 0
    _output_field = f.FloatField()

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        # SQLite's own RANDOM() is a 64-bit integer; RAND is registered by orm.
        return self.as_sql(compiler, connection, function="RAND")

    def get_group_by_cols(self) -> list[Any]:
        return []


class Round(FixDecimalInputMixin, DeclaredTypeMixin, Transform):
    """The value rounded to ``precision`` decimal places (half away from zero)."""

    function = "ROUND"
    lookup_name = "round"
    arity = None  # type: ignore[assignment]  # ROUND(x) or ROUND(x, precision)

    def __init__(self, expression: Any, precision: Any = 0, **extra: Any) -> None:
        super().__init__(expression, precision, **extra)

    def _resolve_output_field(self) -> f.Field | None:
        source: Expression = self.source_expressions[0]
        return source.output_field

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        precision = self.source_expressions[1]
        if (
            isinstance(precision, Value)
            and isinstance(precision.value, int)
            and precision.value < 0
        ):
            raise ValueError("SQLite does not support negative precision.")
        return self.as_sql(compiler, connection, **extra)


__all__ = [
    "ACos",
    "ASin",
    "ATan",
    "ATan2",
    "Abs",
    "Ceil",
    "Cos",
    "Cot",
    "Degrees",
    "Exp",
    "Floor",
    "Ln",
    "Log",
    "Mod",
    "Pi",
    "Power",
    "Radians",
    "Random",
    "Round",
    "Sign",
    "Sin",
    "Sqrt",
    "Tan",
]
