"""``~F("flag")``: NOT of a boolean expression (Django's ``NegatedExpression``).

Kept apart from expressions.py so that module stays under its size budget;
``Expression.__invert__`` imports this lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import FieldError
from orm.query.expressions import Expression, SQLParams

if TYPE_CHECKING:
    from orm.query.query import Query


class NegatedExpression(Expression):
    """``NOT <expression>`` for a boolean expression; ``~~x`` gives ``x`` back."""

    conditional = True

    def __init__(self, expression: Any) -> None:
        super().__init__(f.BooleanField())
        self.expression = expression

    def __invert__(self) -> Any:
        return self.expression

    def get_source_expressions(self) -> list[Any]:
        return [self.expression]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.expression,) = exprs

    def resolve_expression(
        self,
        query: Query | None = None,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        resolved = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        inner = resolved.expression
        try:
            field = inner.output_field
        except FieldError:
            field = None
        if not getattr(inner, "conditional", False) and not isinstance(field, f.BooleanField):
            raise TypeError("Cannot negate non-conditional expressions.")
        return resolved

    @property
    def contains_aggregate(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.expression, "contains_aggregate", False))

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        sql, params = compiler.compile(self.expression)
        return f"NOT {sql}", list(params)
