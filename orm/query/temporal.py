"""Date, time and duration arithmetic: ``F("start") + F("estimated")``, ``F("end") - F("start")``.

A ``CombinedExpression`` with a date, datetime or time operand comes here when
it resolves. The result types are Django's (date/datetime +/- duration is a
datetime, time +/- duration a time, a difference a duration); the SQL comes
from the backend's ``temporal_arithmetic_sql``, because SQLite stores dates as
ISO text and durations as integer microseconds, which its operators cannot add.
"""

from __future__ import annotations

from typing import Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import FieldError
from orm.query.expressions import TEMPORAL_TYPES, CombinedExpression, SQLParams

_DATES = ("DateField", "DateTimeField")
#: (lhs type, connector, rhs type) -> result type, as Django types them.
TEMPORAL_RESULTS: dict[tuple[str | None, str, str | None], str] = {
    **{
        (t, op, "DurationField"): "TimeField" if t == "TimeField" else "DateTimeField"
        for t in TEMPORAL_TYPES
        for op in ("+", "-")
    },
    **{
        ("DurationField", "+", t): "TimeField" if t == "TimeField" else "DateTimeField"
        for t in TEMPORAL_TYPES
    },
    **{(a, "-", b): "DurationField" for a in _DATES for b in _DATES},
    ("TimeField", "-", "TimeField"): "DurationField",
}
_FIELDS: dict[str, type[f.Field]] = {
    "DateTimeField": f.DateTimeField,
    "TimeField": f.TimeField,
    "DurationField": f.DurationField,
}


def typed_for_temporal(
    expr: CombinedExpression, lhs_type: str | None, rhs_type: str | None
) -> CombinedExpression:
    """``expr`` (resolved, with a date/time operand) as ``TemporalArithmetic``.

    Raises ``FieldError`` for a combination that means nothing (a datetime
    times 2, a duration minus a date) unless ``expr`` has an explicit output
    field; an operand of unknown type (a bare NULL) keeps plain arithmetic.
    """
    result = TEMPORAL_RESULTS.get((lhs_type, expr.connector, rhs_type))
    if result is None or lhs_type is None or rhs_type is None:
        if expr._output_field is not None or lhs_type is None or rhs_type is None:
            return expr
        raise FieldError(
            f"Cannot compute {lhs_type} {expr.connector.replace('%%', '%')} {rhs_type}: "
            "shift a date, datetime or time by a DurationField (a timedelta), or subtract "
            "two of them to get a duration. For other database arithmetic, wrap it in "
            "ExpressionWrapper(..., output_field=...)."
        )
    lhs, rhs = expr.lhs, expr.rhs
    if lhs_type == "DurationField":  # duration + date: addition commutes
        lhs, rhs, lhs_type, rhs_type = rhs, lhs, rhs_type, lhs_type
    output = expr._output_field or _FIELDS[result]()
    return TemporalArithmetic(lhs, expr.connector, rhs, lhs_type, rhs_type, output)


class TemporalArithmetic(CombinedExpression):
    """``date/datetime/time +/- duration`` or ``date/datetime/time - date/datetime/time``.

    The temporal operand is always on the left (``duration + date`` is
    stored as ``date + duration``), so backends see four shapes only.
    """

    def __init__(
        self,
        lhs: Any,
        connector: str,
        rhs: Any,
        lhs_type: str,
        rhs_type: str,
        output_field: f.Field,
    ) -> None:
        super().__init__(lhs, connector, rhs, output_field)
        self.lhs_type = lhs_type
        self.rhs_type = rhs_type

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        lsql, lparams = compiler.compile(self.lhs)
        rsql, rparams = compiler.compile(self.rhs)
        sql = connection.ops.temporal_arithmetic_sql(
            self.lhs_type, self.connector, self.rhs_type, lsql, rsql
        )
        return sql, lparams + rparams
