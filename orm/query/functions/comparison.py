"""Comparison and conversion functions: Cast, Coalesce, Greatest, Least, NullIf, JSONObject."""

from __future__ import annotations

from typing import Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.query import expressions
from orm.query.expressions import Coalesce, Func, SQLParams, Value


class Cast(expressions.Cast):
    """``CAST(expression AS <the column type of output_field>)`` on either backend.

    On SQLite a cast to a date, datetime or time would read the text as a
    number (``CAST('2024-05-01' AS date)`` is 2024), so those become
    ``date()`` or orm's registered functions, in orm's storage formats with
    microseconds kept, and a cast to text
    is to TEXT (SQLite ignores ``varchar(n)`` lengths anyway).
    """

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        sql, params = compiler.compile(self.source_expressions[0])
        internal = self.output_field.storage_field().get_internal_type()
        if internal == "DateField":
            return f"date({sql})", params
        # Not strftime(): its %f keeps milliseconds only. These registered
        # functions (backends/sqlite/functions.py) keep microseconds, as
        # PostgreSQL's CAST and TruncTime do.
        if internal == "DateTimeField":
            return f"orm_datetime_cast({sql})", params
        if internal == "TimeField":
            return f"orm_datetime_cast_time({sql}, NULL)", params
        if internal in ("CharField", "TextField", "JSONField", "UUIDField"):
            return f"CAST({sql} AS text)", params
        return super().as_sql(compiler, connection, **extra)


class _MinArgs(Func):
    def __init__(self, *expressions: Any, output_field: f.Field | None = None) -> None:
        if len(expressions) < 2:
            raise ValueError(f"{type(self).__name__} must take at least two expressions")
        super().__init__(*expressions, output_field=output_field)


class Greatest(_MinArgs):
    """The largest argument.

    NULL differs by backend, as in Django: PostgreSQL ignores NULL arguments,
    SQLite (``MAX(a, b, ...)``) returns NULL if any argument is NULL.
    """

    function = "GREATEST"

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return self.as_sql(compiler, connection, function="MAX")


class Least(_MinArgs):
    """The smallest argument (NULL handling differs by backend; see ``Greatest``)."""

    function = "LEAST"

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return self.as_sql(compiler, connection, function="MIN")


class NullIf(Func):
    """NULL when both arguments are equal, else the first."""

    function = "NULLIF"
    arity = 2


class JSONObject(Func):
    """A JSON object of the keyword arguments: ``JSONObject(name="name", n=Length("name"))``."""

    function = "JSON_OBJECT"
    _output_field = f.JSONField()

    def __init__(self, **fields: Any) -> None:
        expressions: list[Any] = []
        for key, value in fields.items():
            expressions.extend((Value(key), value))
        super().__init__(*expressions)

    def as_postgresql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        # Keys and values may be bound parameters, whose type PostgreSQL cannot
        # infer inside JSONB_BUILD_OBJECT("any" ...): state it.
        parts, params = [], []
        for index, expr in enumerate(self.source_expressions):
            sql, p = compiler.compile(expr if index % 2 == 0 else typed_for_postgresql(expr))
            parts.append(f"({sql})::text" if index % 2 == 0 else sql)
            params.extend(p)
        return f"JSONB_BUILD_OBJECT({', '.join(parts)})", params


def typed_for_postgresql(expr: Any) -> Any:
    """``expr``, cast to its own type when it is a bound value (for PostgreSQL's "any" arguments)."""
    if isinstance(expr, Value) and expr.value is not None:
        return Cast(expr, expr.output_field)
    return expr


class JSONArray(Func):
    """A JSON array of the arguments (SQL NULL becomes JSON null): ``JSONArray("name", Lower("name"))``."""

    function = "JSON_ARRAY"
    _output_field = f.JSONField()

    def as_postgresql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        parts, params = [], []
        for expr in self.source_expressions:
            sql, p = compiler.compile(typed_for_postgresql(expr))
            parts.append(sql)
            params.extend(p)
        return f"JSONB_BUILD_ARRAY({', '.join(parts)})", params


__all__ = ["Cast", "Coalesce", "Greatest", "JSONArray", "JSONObject", "Least", "NullIf"]
