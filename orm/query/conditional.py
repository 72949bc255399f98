"""Conditional expressions: ``When`` and ``Case`` (Django's ``django.db.models.expressions``).

A ``When`` holds a condition (a ``Q``, lookups as keyword arguments, or a
boolean expression) and a result; ``Case`` tries its ``When`` terms in order
and falls back to ``default``. A term whose condition can match nothing is
left out of the SQL; one that matches everything ends the ``CASE`` there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import EmptyResultSet, FullResultSet
from orm.query.expressions import Expression, Func, SQLParams, no_query

if TYPE_CHECKING:
    from orm.query.query import Query

__all__ = ["Case", "When"]


class When(Expression):
    """``WHEN condition THEN result`` inside ``Case``; condition is a Q or lookups."""

    def __init__(self, condition: Any = None, then: Any = None, **lookups: Any) -> None:
        from orm.query.q import Q

        if lookups:
            condition = Q(**lookups) if condition is None else condition & Q(**lookups)
        if condition is None or not (
            isinstance(condition, Q) or getattr(condition, "conditional", False)
        ):
            raise TypeError(
                "When() needs a Q object, a boolean expression or lookups as keyword arguments."
            )
        super().__init__()
        # A Q or boolean expression until resolved, then a WHERE node or that expression.
        self.condition: Any = condition
        self.result: Expression = Func._parse(then)

    def get_source_expressions(self) -> list[Any]:
        return [self.condition, self.result]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        self.condition, self.result = exprs

    def _resolve_output_field(self) -> f.Field | None:
        return self.result.output_field

    def resolve_expression(
        self,
        query: Query | None = None,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        if query is None:
            raise no_query(self)
        clone = self.copy()
        clone.condition = (
            query.build_where(self.condition, allow_joins)
            if hasattr(self.condition, "children")
            else self.condition.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        )
        clone.result = self.result.resolve_expression(
            query, allow_joins, reuse, summarize, for_save
        )
        return clone

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        csql, cparams = compiler.compile(self.condition)
        rsql, rparams = compiler.compile(self.result)
        return f"WHEN {csql} THEN {rsql}", cparams + rparams


class Case(Expression):
    """``CASE WHEN ... THEN ... ELSE default END``."""

    def __init__(
        self, *cases: When, default: Any = None, output_field: f.Field | None = None
    ) -> None:
        if not all(isinstance(case, When) for case in cases):
            raise TypeError("Positional arguments to Case() must be When() objects.")
        super().__init__(output_field)
        self.cases = list(cases)
        self.default = Func._parse(default)

    def get_source_expressions(self) -> list[Any]:
        return [*self.cases, self.default]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        *self.cases, self.default = exprs

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        parts, params = [], []
        for case in self.cases:
            try:
                sql, p = compiler.compile(case)
            except EmptyResultSet:
                continue
            except FullResultSet:
                return compiler.compile(case.result)
            parts.append(sql)
            params.extend(p)
        dsql, dparams = compiler.compile(self.default)
        if not parts:
            return dsql, dparams
        return f"CASE {' '.join(parts)} ELSE {dsql} END", params + dparams
