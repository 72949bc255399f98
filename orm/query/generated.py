"""Compiles ``GeneratedField`` expressions for the schema editor (installed at import).

The field lives in ``orm.fields``, below this layer, so it cannot build a
query itself; this module gives it the one function it needs, as
``orm.query.lookups`` registers lookups onto field classes.
"""

from __future__ import annotations

from typing import Any

from orm.abc import Connection
from orm.fields.generated import GeneratedField
from orm.query.query import Query
from orm.sql.compiler import SQLCompiler


class _UnqualifiedCompiler(SQLCompiler):
    """Columns without their table: a generated column's expression names its own row."""

    def alias_ref(self, alias: str) -> str:
        return ""


def compile_generated(field: GeneratedField, connection: Connection) -> tuple[str, list[Any]]:
    """``field.expression`` as ``(sql, params)`` over the columns of ``field.model``.

    Relations cannot be followed (``allow_joins=False``): a generated column
    sees only its own row.
    """
    query = Query(field.model)
    resolved = field.expression.resolve_expression(query, allow_joins=False)
    sql, params = _UnqualifiedCompiler(query, connection).compile(resolved)
    return sql, list(params)


GeneratedField.expression_compiler = compile_generated
