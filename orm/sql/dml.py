"""INSERT, UPDATE and DELETE statements.

Values arrive already prepared and checked by their fields; here they only
become ``%s`` parameters. Column and table names go through ``quote_name``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orm.abc import Connection
from orm.exceptions import FullResultSet
from orm.sql.compiler import SQLCompiler


def insert_sql(
    connection: Connection,
    table: str,
    columns: list[str],
    rows: Sequence[Sequence[Any]],
    returning: list[str],
    ignore_conflicts: bool = False,
    column_types: list[str | None] | None = None,
    on_conflict: str = "",
) -> list[tuple[str, list[Any]]]:
    """Batched ``INSERT ... VALUES (...), (...) [ON CONFLICT ...] [RETURNING ...]``.

    ``on_conflict`` is an upsert clause built by ``ops.on_conflict_suffix_sql``.
    """
    ops = connection.ops
    qn = ops.quote_name
    returning_sql = ops.return_insert_columns([qn(c) for c in returning]) if returning else ""
    suffix = _conflict_suffix(ignore_conflicts, on_conflict) + (
        f" {returning_sql}" if returning_sql else ""
    )
    if not columns:
        # Only generated columns: one DEFAULT VALUES statement per row.
        return [(f"INSERT INTO {qn(table)} DEFAULT VALUES{suffix}", []) for _ in rows]
    head = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
    if (
        column_types
        and len(rows) > 1
        and all(column_types)
        and connection.features.can_bulk_insert_unnest
    ):
        # One array parameter per column: the statement does not grow with the
        # row count, so PostgreSQL parses and plans one small statement. The
        # types come from the fields (developer-defined), never from values.
        arrays = ", ".join(f"%s::{column_type}[]" for column_type in column_types)
        params = [ops.bulk_insert_column(list(column)) for column in zip(*rows, strict=True)]
        return [(f"{head}SELECT * FROM UNNEST({arrays}){suffix}", params)]
    head += "VALUES "
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    batch = ops.bulk_batch_size(len(columns), len(rows))
    statements = []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        params = [value for row in chunk for value in row]
        statements.append((head + ", ".join([placeholders] * len(chunk)) + suffix, params))
    return statements


def _conflict_suffix(ignore_conflicts: bool, on_conflict: str) -> str:
    if ignore_conflicts:
        return " ON CONFLICT DO NOTHING"
    return f" {on_conflict}" if on_conflict else ""


class SQLUpdateCompiler(SQLCompiler):
    """``UPDATE table SET col = value, ... WHERE ...``.

    ``values`` is a list of (field, value-or-expression). When the filter
    needs joins, the rows are selected by primary key in a subquery, because
    neither backend joins in UPDATE the same way.
    """

    def __init__(self, query: Any, connection: Connection, values: list[tuple[Any, Any]]) -> None:
        super().__init__(query, connection)
        self.values = values

    def alias_ref(self, alias: str) -> str:
        return self.quote_name(self.query.model._meta.db_table)

    def as_sql(self, with_limits: bool = True) -> tuple[str, list[Any]]:
        qn = self.quote_name
        sets, params = [], []
        for field, value in self.values:
            if hasattr(value, "as_sql"):
                sql, value_params = self.compile(value)
            else:
                sql, value_params = "%s", [value]
            sets.append(f"{qn(field.column)} = {sql}")
            params.extend(value_params)
        table = qn(self.query.model._meta.db_table)
        where_sql, where_params = _where_by_pk(self)
        sql = f"UPDATE {table} SET {', '.join(sets)}"
        if where_sql:
            sql += f" WHERE {where_sql}"
        return sql, params + where_params


class SQLDeleteCompiler(SQLCompiler):
    """``DELETE FROM table WHERE ...`` (by pk subquery when joins are needed)."""

    def alias_ref(self, alias: str) -> str:
        return self.quote_name(self.query.model._meta.db_table)

    def as_sql(self, with_limits: bool = True) -> tuple[str, list[Any]]:
        table = self.quote_name(self.query.model._meta.db_table)
        where_sql, params = _where_by_pk(self)
        return (
            f"DELETE FROM {table} WHERE {where_sql}" if where_sql else f"DELETE FROM {table}"
        ), params


def _where_by_pk(compiler: SQLCompiler) -> tuple[str, list[Any]]:
    query = compiler.query
    query.get_initial_alias()
    if len(query.alias_map) == 1 and not query.is_sliced:
        try:
            return compiler.compile(query.where)
        except FullResultSet:
            return "", []
    # Joins (or a slice) are involved: select the primary keys in a subquery,
    # which both backends accept where UPDATE/DELETE ... JOIN syntax differs.
    pk = query.model._meta.pk
    inner = query.clone()
    inner.default_cols = True
    inner.deferred_loading = (frozenset({pk.name}), False)
    inner.select_related = False
    inner.annotation_select_mask = set()
    if not inner.is_sliced:
        inner.clear_ordering()
    sql, params = SQLCompiler(inner, compiler.connection, outer=compiler).as_sql()
    return f"{compiler.quote_name(pk.column)} IN ({sql})", params


def update_by_pk_sql(connection: Connection, table: str, columns: list[str], pk_column: str) -> str:
    """``UPDATE table SET a = %s, ... WHERE pk = %s`` for saving one instance."""
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(column)} = %s" for column in columns)
    return f"UPDATE {qn(table)} SET {sets} WHERE {qn(pk_column)} = %s"


def exists_by_pk_sql(connection: Connection, table: str, pk_column: str) -> str:
    """``SELECT 1 FROM table WHERE pk = %s``."""
    qn = connection.ops.quote_name
    return f"SELECT 1 FROM {qn(table)} WHERE {qn(pk_column)} = %s"


def insert_expressions_sql(
    connection: Connection,
    table: str,
    columns: list[str],
    values_sql: list[str],
    params: list[Any],
    returning: list[str],
    ignore_conflicts: bool = False,
    on_conflict: str = "",
) -> tuple[str, list[Any]]:
    """``INSERT INTO table (cols) VALUES (<sql>, ...) [RETURNING ...]`` for one row.

    ``values_sql`` holds, per column, ``%s`` or the compiled SQL of an
    expression (``Lower(Value("X"))``), whose parameters are in ``params``.
    """
    ops = connection.ops
    qn = ops.quote_name
    returning_sql = ops.return_insert_columns([qn(c) for c in returning]) if returning else ""
    suffix = _conflict_suffix(ignore_conflicts, on_conflict)
    suffix += f" {returning_sql}" if returning_sql else ""
    head = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)})"
    return f"{head} VALUES ({', '.join(values_sql)}){suffix}", list(params)
