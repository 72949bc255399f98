"""Aggregates that collect a group's values: ``StringAgg``, ``ArrayAgg``, ``JSONBAgg``.

Django 5.2 has them in ``django.contrib.postgres.aggregates`` (PostgreSQL only)
and Django 6.0 adds a general ``StringAgg``. Here all three run on both
backends: ``STRING_AGG``/``ARRAY_AGG``/``JSONB_AGG`` on PostgreSQL,
``GROUP_CONCAT``/``JSON_GROUP_ARRAY`` on SQLite. ``order_by=`` (Django 6.0's
name; 5.2's ``ordering=`` is accepted too) becomes ``ORDER BY`` inside the
call, ``filter=`` becomes ``FILTER (WHERE ...)``.
"""

from __future__ import annotations

import json
from typing import Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import EmptyResultSet, FullResultSet, NotSupportedError
from orm.query.aggregates import Aggregate
from orm.query.expressions import F, Func, OrderBy, SQLParams, Value


def _order_term(term: Any) -> Any:
    """``"-name"`` -> ``OrderBy(F("name"), descending=True)``; expressions pass through."""
    if isinstance(term, str):
        if term.startswith("-"):
            return OrderBy(F(term[1:]), descending=True)
        return OrderBy(F(term))
    if hasattr(term, "resolve_expression"):
        return term
    raise TypeError(
        f"order_by= takes field names ('-name') or expressions (F('name').desc()), got {term!r}."
    )


class OrderableAggregate(Aggregate):
    """An aggregate with ``order_by=`` inside its call and ``filter=`` as ``FILTER (WHERE)``.

    ``FILTER`` rather than the base class's ``CASE``: these aggregates keep
    NULL values (an array of them), so a row the filter rejects must not
    become one.
    """

    allow_distinct = True

    def __init__(
        self, *expressions: Any, order_by: Any = (), ordering: Any = None, **extra: Any
    ) -> None:
        if ordering is not None:
            if order_by:
                raise TypeError(
                    "Pass order_by= (Django 6.0's name) or ordering= (5.2's), not both."
                )
            order_by = ordering
        super().__init__(*expressions, **extra)
        terms = order_by if isinstance(order_by, list | tuple) else [order_by]
        self.order_by = [_order_term(term) for term in terms]

    def get_source_expressions(self) -> list[Any]:
        # The ordering terms resolve with the arguments (joins, OuterRef).
        return [*self.source_expressions, *self.order_by]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        count = len(self.source_expressions)
        self.source_expressions, self.order_by = list(exprs[:count]), list(exprs[count:])

    def _resolve_output_field(self) -> f.Field | None:
        sources = self.source_expressions[:1]
        return sources[0].output_field if sources else None

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        function = extra.get("function", self.function)
        arguments = extra.get("arguments", self.source_expressions)
        features = connection.features
        if (
            self.distinct
            and len(arguments) > 1
            and not features.supports_aggregate_distinct_multiple_argument
        ):
            raise NotSupportedError(
                f"{type(self).__name__}(distinct=True) with a delimiter other than ',' is not "
                f"supported on {connection.vendor}; drop distinct= or use delimiter=','."
            )
        parts, params = [], []
        for expr in arguments:
            sql, p = compiler.compile(expr)
            parts.append(sql)
            params.extend(p)
        sql = f"{function}({'DISTINCT ' if self.distinct else ''}{', '.join(parts)}"
        if self.order_by:
            if not features.supports_aggregate_order_by_clause:
                raise NotSupportedError(
                    f"{type(self).__name__}(order_by=...) needs ORDER BY inside an aggregate, which "
                    f"this {connection.vendor} version lacks (SQLite 3.44+); drop order_by=."
                )
            terms = [compiler.compile(term) for term in self.order_by]
            sql += " ORDER BY " + ", ".join(t for t, _ in terms)
            params.extend(p for _, tp in terms for p in tp)
        sql += ")"
        filter_sql, filter_params = self._filter_sql(compiler)
        return sql + filter_sql, params + filter_params

    def _filter_sql(self, compiler: Compiler) -> SQLParams:
        if self.filter is None:
            return "", []
        try:
            sql, params = compiler.compile(self.filter)
        except FullResultSet:
            return "", []
        except EmptyResultSet:
            return " FILTER (WHERE 1 = 0)", []
        return f" FILTER (WHERE {sql})", list(params)


class StringAgg(OrderableAggregate):
    """The group's non-NULL values joined by ``delimiter``: ``StringAgg("name", ", ")``.

    The expression must be text on PostgreSQL (wrap others in
    ``Cast(..., TextField())``); SQLite converts. With ``distinct=True``
    SQLite accepts only ``delimiter=","``.
    """

    function = "STRING_AGG"
    _output_field = f.TextField()

    def __init__(self, expression: Any, delimiter: Any, **extra: Any) -> None:
        if isinstance(delimiter, str):
            delimiter = Value(delimiter)
        elif not hasattr(delimiter, "resolve_expression"):
            raise TypeError(
                f"StringAgg delimiter must be a str or an expression, got {delimiter!r}."
            )
        super().__init__(expression, delimiter, **extra)

    def _resolve_output_field(self) -> f.Field | None:
        return f.TextField()

    @property
    def default_alias(self) -> str:
        name = getattr(self.source_expressions[0], "name", None)
        if name is None:
            raise TypeError("Complex aggregates require an alias.")
        return f"{name}__stringagg"

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        arguments = self.source_expressions
        delimiter = arguments[1]
        if self.distinct and isinstance(delimiter, Value) and delimiter.value == ",":
            # group_concat(DISTINCT x) takes no separator; its own is ",".
            arguments = arguments[:1]
        return self.as_sql(compiler, connection, function="GROUP_CONCAT", arguments=arguments)


class _ListAggregate(OrderableAggregate):
    """An aggregate whose value is a list: a JSON array on SQLite, decoded here."""

    sqlite_function = "JSON_GROUP_ARRAY"
    _output_field = f.JSONField()

    def _resolve_output_field(self) -> f.Field | None:
        return f.JSONField()

    def get_db_converters(self, connection: Connection) -> list[Any]:
        element = self._element_converters(connection)
        source = self.source_expressions[0]
        # SQLite answers JSON text; psycopg answers a list already (an array), or
        # the jsonb text JSONField decodes. Either way each element then gets the
        # column's own converters (a jsonb element arrives as text on PostgreSQL).
        decode_text = connection.vendor == "sqlite"
        base = [] if decode_text else super().get_db_converters(connection)

        def decode(value: Any, expression: Any, conn: Any) -> Any:
            if value is None:
                return None
            items = json.loads(value) if decode_text else value
            for converter in element:
                items = [item if item is None else converter(item, source, conn) for item in items]
            return items

        return [*base, decode] if element or decode_text else base

    def _element_converters(self, connection: Connection) -> list[Any]:
        return []

    def _sqlite_sql(
        self, compiler: Compiler, connection: Connection, arguments: list[Any]
    ) -> SQLParams:
        sql, params = self.as_sql(
            compiler, connection, function=self.sqlite_function, arguments=arguments
        )
        # JSON_GROUP_ARRAY over no row is '[]' where ARRAY_AGG is NULL; a row always
        # adds an element (NULL ones too), so '[]' means exactly "no row".
        return f"NULLIF({sql}, '[]')", params


class ArrayAgg(_ListAggregate):
    """The group's values as a list (NULLs included): ``ArrayAgg("title", order_by="-pages")``.

    PostgreSQL's ``ARRAY_AGG`` (a ``list`` via psycopg); SQLite's
    ``JSON_GROUP_ARRAY``, each element converted back by the column's type
    (dates, decimals, booleans).
    """

    function = "ARRAY_AGG"

    def _element_converters(self, connection: Connection) -> list[Any]:
        source = self.source_expressions[0]
        try:
            return list(source.get_db_converters(connection))
        except Exception:  # noqa: BLE001 - a source of unknown type keeps JSON's values
            return []

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return self._sqlite_sql(compiler, connection, self.source_expressions)


class JSONBAgg(_ListAggregate):
    """The group's values as a JSON array: ``JSONBAgg("data")`` (a list in Python).

    A JSONField's documents stay documents on SQLite (not strings of JSON).
    """

    function = "JSONB_AGG"

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        source = self.source_expressions[0]
        arguments = self.source_expressions
        try:
            is_json = isinstance(source.output_field, f.JSONField)
        except Exception:  # noqa: BLE001 - no known type: a plain value
            is_json = False
        if is_json:
            arguments = [_JSONText(source)]
        return self._sqlite_sql(compiler, connection, arguments)


class _JSONText(Func):
    """``JSON(x)``: a stored JSON text read as a document (SQLite only)."""

    function = "JSON"


__all__ = ["ArrayAgg", "JSONBAgg", "OrderableAggregate", "StringAgg"]
