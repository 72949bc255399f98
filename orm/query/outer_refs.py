"""``OuterRef`` binding: a subquery's references to the query around it become its columns.

``OuterRef("name")`` resolves to a ``ResolvedOuterRef`` placeholder while the
subquery is built; once it is placed in an outer query, ``resolve_outer_refs``
replaces each placeholder by an ``OuterCol`` for that query's column, and
``OuterRef(OuterRef(...))`` is passed one level further out. ``OuterCol``
compiles with the compiler of the query it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.query import combinators
from orm.query.expressions import Expression
from orm.query.lookups import Lookup
from orm.query.subqueries import ResolvedOuterRef, Subquery
from orm.query.where import WhereNode

if TYPE_CHECKING:
    from orm.query.query import Query

__all__ = ["OuterCol", "resolve_outer_refs"]


def _deeper_subquery(node: Subquery, outer: Query, depth: int) -> Subquery:
    """A subquery nested in a subquery: its ``OuterRef(OuterRef(...))`` names ``outer``, ``depth + 1`` out."""
    clone = node.copy()
    clone.query = node.query.clone()
    clone.query.resolve_outer_refs(outer, depth + 1)
    return clone


class OuterCol(Expression):
    """A column of the query ``depth`` levels out, compiled with that query's compiler."""

    def __init__(self, expr: Expression, depth: int = 1) -> None:
        super().__init__()
        self.expr = expr
        self.depth = depth

    @property
    def output_field(self) -> f.Field:
        return self.expr.output_field

    def get_group_by_cols(self) -> list[Any]:
        return []

    def as_sql(self, compiler: Compiler, connection: Connection) -> tuple[str, list[Any]]:
        target = compiler
        for _ in range(self.depth):
            outer = target.outer
            if outer is None:
                raise ValueError("An OuterRef was used outside of a subquery.")
            target = outer
        return target.compile(self.expr)


def resolve_outer_refs(query: Query, outer: Any, depth: int = 1) -> None:
    """Replace the ``OuterRef`` placeholders of ``query`` by columns of ``outer``, ``depth`` out."""

    def replace(node: Any) -> Any:
        if isinstance(node, ResolvedOuterRef):
            if node.levels > 1:
                # OuterRef(OuterRef(x)): the next query out resolves it.
                return ResolvedOuterRef(node.name, node.levels - 1)
            return OuterCol(outer.resolve_ref(node.name), depth)
        if isinstance(node, Subquery):
            return _deeper_subquery(node, outer, depth)
        if isinstance(node, WhereNode):
            node.children = [replace(c) for c in node.children]
            return node
        if isinstance(node, Lookup):
            node.lhs = replace(node.lhs)
            if hasattr(node.rhs, "resolve_expression") or isinstance(node.rhs, ResolvedOuterRef):
                node.rhs = replace(node.rhs)
            return node
        if isinstance(node, Expression) and not isinstance(node, OuterCol):
            sources = node.get_source_expressions()
            if sources:
                node = node.copy()
                node.set_source_expressions([replace(s) for s in sources])
            return node
        return node

    if outer is None:
        return
    if query.combinator:
        combinators.resolve_outer_refs(query, outer)
    query.where = replace(query.where.clone())
    query.annotations = {k: replace(v) for k, v in query.annotations.items()}
    query.select = tuple((name, replace(expr)) for name, expr in query.select)
