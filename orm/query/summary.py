"""``aggregate()`` and ``count()``: one row of aggregates over a query.

A plain filtered query is aggregated directly. A sliced, distinct, grouped or
combined one is wrapped: ``SELECT agg(...) FROM (<query>) subquery``, with
the columns the aggregates need selected inside under generated names.
"""

from __future__ import annotations

from typing import Any

from orm.abc import Compiler, Connection
from orm.db.connections import connections
from orm.exceptions import EmptyResultSet, FieldError
from orm.query import combinators
from orm.query.expressions import Col, Expression, Ref
from orm.query.query import Query
from orm.sql.compiler import SINGLE, SQLCompiler


class InnerCol(Expression):
    """A column of the wrapped subquery, by its generated name."""

    def __init__(self, name: str, output_field: Any) -> None:
        super().__init__(output_field)
        self.name = name

    def as_sql(self, compiler: Compiler, connection: Connection) -> tuple[str, list[Any]]:
        return compiler.quote_name(self.name), []


def _needs_subquery(query: Query) -> bool:
    return bool(
        query.is_sliced
        or query.distinct
        or query.combinator
        or query.group_by is not None
        or any(getattr(a, "contains_aggregate", False) for a in query.annotations.values())
        # A filter on a window runs outside the query that computes the window.
        or (query.annotations and query.where.contains_over_clause())
    )


def get_aggregation(query: Query, using: str, aggregates: dict[str, Any]) -> dict[str, Any]:
    """Evaluate ``aggregates`` (alias -> expression) over ``query``; one dict back."""
    if not aggregates:
        return {}
    connection = connections[using]
    if _needs_subquery(query):
        return _aggregate_subquery(query, connection, aggregates)
    return aggregate_with(
        aggregation_query(query, aggregates).get_compiler(connection=connection), aggregates
    )


def aggregate_with(compiler: SQLCompiler, aggregates: dict[str, Any]) -> dict[str, Any]:
    """Run ``compiler``'s aggregation SELECT (of ``aggregates``); one dict back."""
    row = compiler.execute_sql(SINGLE)
    return _convert(compiler, row, aggregates, compiler.connection)


def count_with(compiler: SQLCompiler) -> int:
    """Run a pending ``count()``'s SELECT (one ``COUNT(*)`` column); the number back.

    The count is the only column and an integer on both drivers, so the row
    needs none of ``_convert``'s work (and no ``Count`` is built on a cache hit).
    """
    row = compiler.execute_sql(SINGLE)
    return 0 if row is None else int(row[0])


def aggregation_query(query: Query, aggregates: dict[str, Any]) -> Query:
    """``query`` selecting only ``aggregates`` (for a query that needs no subquery)."""
    q = query.clone()
    q.select_related = False
    q.default_cols = False
    q.select = ()
    q.values_select = ()
    q.clear_ordering()
    for alias, aggregate in aggregates.items():
        # summarize=False: a reference to a plain annotation inlines its
        # expression (it is not selected here under its alias).
        q.annotations[alias] = aggregate.resolve_expression(q, summarize=False)
    q.annotation_select_mask = set(aggregates)
    return q


def _convert(
    compiler: SQLCompiler, row: Any, aggregates: dict[str, Any], connection: Connection
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if row is None:
        for alias, aggregate in aggregates.items():
            result[alias] = getattr(aggregate, "empty_result", None)
        return result
    values = list(row)
    for position, funcs, expr in compiler.get_converters():
        value = values[position]
        for func in funcs:
            value = func(value, expr, connection)
        values[position] = value
    names = [alias for _expr, alias in compiler.select]
    return {alias: values[names.index(alias)] for alias in aggregates}


def _aggregate_subquery(
    query: Query, connection: Connection, aggregates: dict[str, Any]
) -> dict[str, Any]:
    inner = query.clone()
    inner.select_related = False
    if not inner.is_sliced:
        inner.clear_ordering()
    keep_selection = bool(inner.distinct or inner.group_by is not None or inner.combinator)
    extra: list[tuple[str, Any]] = []
    outer: dict[str, Any] = {}
    for alias, aggregate in aggregates.items():
        resolved = aggregate.resolve_expression(inner, summarize=True)
        outer[alias] = _swap_cols(resolved, extra, inner)
    if inner.combinator and (extra or any(isinstance(e, Ref) for e in _walk(list(outer.values())))):
        return _aggregate_combined(inner, connection, aggregates)
    if not keep_selection:
        inner.default_cols = False
        inner.annotation_select_mask = {
            expr.refs for expr in _walk(list(outer.values())) if isinstance(expr, Ref)
        }
        inner.select = (
            tuple(extra)
            if extra
            else (("__pk", Col(inner.get_initial_alias(), inner.model._meta.pk)),)
        )
    elif extra and not inner.combinator:
        inner.select = tuple(inner.select) + tuple(extra)
    try:
        inner_sql, params = inner.get_compiler(connection=connection).as_sql()
    except EmptyResultSet:
        return {alias: getattr(a, "empty_result", None) for alias, a in aggregates.items()}
    return _run_outer(
        query, connection, outer, aggregates, f"({inner_sql}) subquery", "", list(params)
    )


def _aggregate_combined(
    inner: Query, connection: Connection, aggregates: dict[str, Any]
) -> dict[str, Any]:
    """Aggregates over the rows of a union()/intersection()/difference().

    The combined statement's columns are named by position in a CTE
    (``WITH subquery (__col1, ...) AS (...)``): its own column names are
    whatever the first query's happen to be, and may repeat.
    """
    compiler = inner.get_compiler(connection=connection)
    try:
        inner_sql, params = compiler.as_sql()
    except EmptyResultSet:
        return {alias: getattr(a, "empty_result", None) for alias, a in aggregates.items()}
    outer = {
        alias: _positional_cols(
            aggregate.resolve_expression(inner, summarize=True), compiler.select, inner
        )
        for alias, aggregate in aggregates.items()
    }
    names = ", ".join(compiler.quote_name(f"__col{n}") for n in range(1, compiler.width() + 1))
    prefix = f"WITH subquery ({names}) AS ({inner_sql}) "
    return _run_outer(inner, connection, outer, aggregates, "subquery", prefix, list(params))


def _positional_cols(expr: Any, select: list[tuple[Any, str | None]], inner: Query) -> Any:
    # A column or annotation of the combination becomes its positional CTE column.
    if isinstance(expr, Col | Ref):
        position = combinators.output_position(inner, select, expr)
        if position is None:
            name = expr.refs if isinstance(expr, Ref) else expr.target.name
            raise FieldError(
                f"aggregate() after {inner.combinator}() can use only the columns the combined "
                f"queries select; {name!r} is not one of them."
            )
        return InnerCol(f"__col{position}", expr.output_field)
    sources = expr.get_source_expressions() if hasattr(expr, "get_source_expressions") else []
    condition = getattr(expr, "filter", None)
    if not sources and condition is None:
        return expr
    clone = expr.copy()
    if sources:
        clone.set_source_expressions([_positional_cols(s, select, inner) for s in sources])
    if condition is not None and hasattr(condition, "get_source_expressions"):
        clone.filter = _positional_cols(condition, select, inner)
    return clone


def _run_outer(
    query: Query,
    connection: Connection,
    outer: dict[str, Any],
    aggregates: dict[str, Any],
    from_sql: str,
    prefix: str,
    params: list[Any],
) -> dict[str, Any]:
    """Run ``SELECT <outer aggregates> FROM <from_sql>`` (after ``prefix``) and convert the row."""
    compiler = SQLCompiler(Query(query.model), connection)
    cols, outer_params = [], []
    for alias, expr in outer.items():
        sql, p = compiler.compile(expr)
        cols.append(f"{sql} AS {compiler.quote_name(alias)}")
        outer_params.extend(p)
    sql = f"{prefix}SELECT {', '.join(cols)} FROM {from_sql}"
    # The CTE prefix comes first in the text, so do its parameters.
    all_params = params + outer_params if prefix else outer_params + params
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        row = cursor.fetchone()
    compiler.select = [(expr, alias) for alias, expr in outer.items()]
    return _convert(compiler, row, aggregates, connection)


def _walk(exprs: list[Any]) -> list[Any]:
    found = []
    stack = list(exprs)
    while stack:
        expr = stack.pop()
        found.append(expr)
        if hasattr(expr, "get_source_expressions"):
            stack.extend(expr.get_source_expressions())
    return found


def _swap_cols(expr: Any, extra: list[tuple[str, Any]], inner: Query) -> Any:
    if isinstance(expr, Col):
        name = f"__col{len(extra) + 1}"
        extra.append((name, expr))
        return InnerCol(name, expr.output_field)
    if isinstance(expr, Ref):
        return expr
    if not hasattr(expr, "get_source_expressions"):
        return expr
    sources = expr.get_source_expressions()
    condition = getattr(expr, "filter", None)
    if not sources and condition is None:
        return expr
    clone = expr.copy()
    if sources:
        clone.set_source_expressions([_swap_cols(s, extra, inner) for s in sources])
    if condition is not None and hasattr(condition, "get_source_expressions"):
        clone.filter = _swap_cols(condition, extra, inner)
    return clone
