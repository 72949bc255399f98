"""Expressions that reach across queries: ``Subquery``, ``Exists`` and ``OuterRef``.

A ``Subquery`` embeds another QuerySet's query as a value and ``Exists`` as a
condition; ``OuterRef`` names a column of the enclosing query from inside one,
and resolves to ``ResolvedOuterRef`` until ``Query.resolve_outer_refs`` binds
it to the outer query's column. They are one family (an ``OuterRef`` means
nothing outside a subquery) and apart from the core nodes of
``orm.query.expressions`` they need only its public base classes, which is
why they live in their own module. ``orm.query.expressions`` re-exports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import EmptyResultSet, FullResultSet
from orm.query.expressions import Expression, F, SQLParams

if TYPE_CHECKING:
    from orm.query.query import Query
    from orm.query.queryset import QuerySet
    from orm.sql.compiler import SQLCompiler


class OuterRef(F):
    """A field of the *outer* query inside ``Subquery``/``Exists``; ``OuterRef(OuterRef(x))`` is two levels out."""

    def __init__(self, name: Any) -> None:
        levels = 1
        while isinstance(name, OuterRef):
            name, levels = name.name, levels + getattr(name, "levels", 1)
        super().__init__(name)
        self.levels = levels

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        return ResolvedOuterRef(self.name, self.levels)


class ResolvedOuterRef(F):
    """An OuterRef waiting for the query ``levels`` out to resolve it."""

    contains_aggregate = False

    def __init__(self, name: str, levels: int = 1) -> None:
        super().__init__(name)
        self.levels = levels

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        raise ValueError(
            "This queryset contains a reference to an outer query and may only be used in a subquery."
        )


class Subquery(Expression):
    """A QuerySet used as a value: ``Subquery(qs.values("x")[:1])``."""

    template = "(%(subquery)s)"

    def __init__(
        self, queryset: QuerySet[Any] | Query, output_field: f.Field | None = None
    ) -> None:
        super().__init__(output_field)
        # A QuerySet's query, or a Query as it is (getattr types both as Any).
        self.query: Query = cast("Query", getattr(queryset, "query", queryset)).clone()
        self.query.subquery = True

    def get_source_expressions(self) -> list[Any]:
        return []

    def resolve_expression(
        self,
        query: Query | None = None,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        clone = self.copy()
        clone.query = self.query.clone()
        clone.query.resolve_outer_refs(query)
        return clone

    def _resolve_output_field(self) -> f.Field | None:
        return self.query.output_field

    def get_group_by_cols(self) -> list[Any]:
        return []

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        try:
            # The protocol does not say which class a compiler nests under; the
            # one compiling this node is an SQLCompiler (once per compile, not per row).
            outer = cast("SQLCompiler", compiler)
            sql, params = self.query.get_compiler(connection=connection, outer=outer).as_sql()
        except EmptyResultSet:
            return self.empty_sql()
        return self.template % {"subquery": sql}, list(params)

    def empty_sql(self) -> SQLParams:
        """What the subquery means when it can match nothing: NULL."""
        return "NULL", []


class Exists(Subquery):
    """``EXISTS (subquery)``: a boolean condition, usable in ``filter()``."""

    template = "EXISTS (%(subquery)s)"
    conditional = True
    _output_field = f.BooleanField()

    def __init__(self, queryset: QuerySet[Any], negated: bool = False) -> None:
        super().__init__(queryset)
        self.query = self.query.exists_query()
        self.negated = negated

    def __invert__(self) -> Exists:
        clone: Exists = self.copy()
        clone.negated = not self.negated
        return clone

    def empty_sql(self) -> SQLParams:
        # Raise so a WHERE clause can fold the constant (no query at all);
        # a SELECT list catches it and uses select_empty_sql.
        if self.negated:
            raise FullResultSet
        raise EmptyResultSet

    @property
    def select_empty_sql(self) -> str:
        """The constant this column becomes when the subquery can match nothing."""
        return "(1 = 1)" if self.negated else "(1 = 0)"

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        sql, params = super().as_sql(compiler, connection)
        if self.negated:
            sql = f"NOT {sql}"
        return sql, params
