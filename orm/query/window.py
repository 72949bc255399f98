"""Window expressions: ``Window(expr, partition_by=, order_by=, frame=)``, frames and window functions.

A window expression compiles to ``<expr> OVER (PARTITION BY ... ORDER BY ... <frame>)``
on both backends (SQLite has had window functions since 3.25). Frame bounds are
integers checked here, never user text, so the frame clause carries no parameters.
"""

from __future__ import annotations

import enum
from typing import Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.query.expressions import Expression, F, Func, OrderBy, SQLParams

_PRECEDING, _FOLLOWING, _CURRENT = "PRECEDING", "FOLLOWING", "CURRENT ROW"


def _order_term(term: Any) -> Any:
    """An ORDER BY term of a window: ``"-name"`` is descending, an expression stays as given."""
    if isinstance(term, str):
        if term.startswith("-"):
            return OrderBy(F(term[1:]), descending=True)
        return OrderBy(F(term))
    if isinstance(term, Expression) or hasattr(term, "resolve_expression"):
        return term
    raise ValueError(
        "Window.order_by must be either a string reference to a field, an expression, "
        "or a list or tuple of them."
    )


class Window(Expression):
    """``expression OVER (PARTITION BY ... ORDER BY ... frame)``.

    ``contains_aggregate`` stays False even over an aggregate: a window computes per
    row and must not add a GROUP BY to the query.
    """

    contains_over_clause = True

    def __init__(
        self,
        expression: Expression,
        partition_by: Any = None,
        order_by: Any = None,
        frame: WindowFrame | None = None,
        output_field: f.Field | None = None,
    ) -> None:
        if not getattr(expression, "window_compatible", False):
            raise ValueError(
                f"Expression '{type(expression).__name__}' isn't compatible with OVER clauses."
            )
        if partition_by is not None and not isinstance(partition_by, (list, tuple)):
            partition_by = (partition_by,)
        if order_by is not None and not isinstance(order_by, (list, tuple)):
            order_by = (order_by,)
        if frame is not None and not isinstance(frame, WindowFrame):
            raise TypeError("Window.frame must be a RowRange or ValueRange instance.")
        super().__init__(output_field)
        self.source_expression: Expression = expression
        self.partition_by = [Func._parse(e) for e in partition_by or ()]
        self.order_by = [_order_term(e) for e in order_by or ()]
        self.frame = frame

    def get_source_expressions(self) -> list[Any]:
        return [self.source_expression, *self.partition_by, *self.order_by]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        n_part = len(self.partition_by)
        self.source_expression = exprs[0]
        self.partition_by = list(exprs[1 : 1 + n_part])
        self.order_by = list(exprs[1 + n_part :])

    def _resolve_output_field(self) -> f.Field | None:
        return self.source_expression.output_field

    def get_db_converters(self, connection: Connection) -> list[Any]:
        # The wrapped function knows how its result comes back (Count's int, Avg's float).
        if self._output_field is None and hasattr(self.source_expression, "get_db_converters"):
            return self.source_expression.get_db_converters(connection)
        return super().get_db_converters(connection)

    def get_group_by_cols(self) -> list[Any]:
        cols: list[Any] = []
        for expr in [*self.partition_by, *self.order_by]:
            if hasattr(expr, "get_group_by_cols"):
                cols.extend(expr.get_group_by_cols())
        return cols

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        expr_sql, params = compiler.compile(self.source_expression)
        window: list[str] = []
        if self.partition_by:
            parts = []
            for expr in self.partition_by:
                sql, p = compiler.compile(expr)
                parts.append(sql)
                params.extend(p)
            window.append("PARTITION BY " + ", ".join(parts))
        if self.order_by:
            parts = []
            for expr in self.order_by:
                sql, p = compiler.compile(expr)
                parts.append(sql)
                params.extend(p)
            window.append("ORDER BY " + ", ".join(parts))
        if self.frame is not None:
            window.append(self.frame.as_sql(compiler, connection)[0])
        return f"{expr_sql} OVER ({' '.join(window)})", list(params)

    def __repr__(self) -> str:
        return (
            f"<Window: {self.source_expression!r} partition_by={self.partition_by!r} "
            f"order_by={self.order_by!r} frame={self.frame!r}>"
        )


class WindowFrameExclusion(enum.Enum):
    """What a frame leaves out: ``EXCLUDE CURRENT ROW | GROUP | TIES | NO OTHERS``."""

    CURRENT_ROW = "CURRENT ROW"
    GROUP = "GROUP"
    TIES = "TIES"
    NO_OTHERS = "NO OTHERS"


def _bound(value: int | None, unbounded: str) -> str:
    if value is None:
        return unbounded
    if value == 0:
        return _CURRENT
    if value < 0:
        return f"{abs(value)} {_PRECEDING}"
    return f"{value} {_FOLLOWING}"


class WindowFrame(Expression):
    """``<frame_type> BETWEEN <start> AND <end>``: None is unbounded, 0 the current row,
    a negative number that many rows/values before, a positive one after."""

    frame_type = ""

    def __init__(
        self,
        start: int | None = None,
        end: int | None = None,
        exclusion: WindowFrameExclusion | None = None,
    ) -> None:
        if exclusion is not None and not isinstance(exclusion, WindowFrameExclusion):
            raise TypeError(
                f"{type(self).__qualname__}.exclusion must be a WindowFrameExclusion instance."
            )
        self._check(start, end)
        super().__init__()
        self.start = start
        self.end = end
        self.exclusion = exclusion

    def _check(self, start: Any, end: Any) -> None:
        raise NotImplementedError

    def get_group_by_cols(self) -> list[Any]:
        return []

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        start = _bound(self.start, f"UNBOUNDED {_PRECEDING}")
        end = _bound(self.end, f"UNBOUNDED {_FOLLOWING}")
        exclude = f" EXCLUDE {self.exclusion.value}" if self.exclusion is not None else ""
        return f"{self.frame_type} BETWEEN {start} AND {end}{exclude}", []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(start={self.start!r}, end={self.end!r}, exclusion={self.exclusion!r})"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class RowRange(WindowFrame):
    """``ROWS BETWEEN ...``: bounds count rows."""

    frame_type = "ROWS"

    def _check(self, start: Any, end: Any) -> None:
        if start is not None and not _is_int(start):
            raise ValueError(
                f"start argument must be an integer, zero, or None, but got '{start}'."
            )
        if end is not None and not _is_int(end):
            raise ValueError(f"end argument must be an integer, zero, or None, but got '{end}'.")
        if start is not None and end is not None and start > end:
            raise ValueError("start cannot be greater than end.")


class ValueRange(WindowFrame):
    """``RANGE BETWEEN ...``: bounds are distances in the (single) ORDER BY value."""

    frame_type = "RANGE"

    def _check(self, start: Any, end: Any) -> None:
        if start is not None and (not _is_int(start) or start > 0):
            raise ValueError(
                f"start argument must be a negative integer, zero, or None, but got '{start}'."
            )
        if end is not None and (not _is_int(end) or end < 0):
            raise ValueError(
                f"end argument must be a positive integer, zero, or None, but got '{end}'."
            )


# -- window functions ---------------------------------------------------------------


class _WindowFunc(Func):
    window_compatible = True


class RowNumber(_WindowFunc):
    """ROW_NUMBER(): 1, 2, 3... in window order."""

    function = "ROW_NUMBER"
    arity = 0
    _output_field = f.IntegerField()


class Rank(_WindowFunc):
    """RANK(): ties share a rank, leaving gaps after them."""

    function = "RANK"
    arity = 0
    _output_field = f.IntegerField()


class DenseRank(_WindowFunc):
    """DENSE_RANK(): ties share a rank, without gaps."""

    function = "DENSE_RANK"
    arity = 0
    _output_field = f.IntegerField()


class PercentRank(_WindowFunc):
    """PERCENT_RANK(): (rank - 1) / (rows - 1), a float in [0, 1]."""

    function = "PERCENT_RANK"
    arity = 0
    _output_field = f.FloatField()


class CumeDist(_WindowFunc):
    """CUME_DIST(): the fraction of rows up to and including this one's peers."""

    function = "CUME_DIST"
    arity = 0
    _output_field = f.FloatField()


class Ntile(_WindowFunc):
    """NTILE(num_buckets): the bucket number, 1..num_buckets (Django's spelling; ``NTile`` is an alias)."""

    function = "NTILE"
    _output_field = f.IntegerField()

    def __init__(self, num_buckets: int = 1, **extra: Any) -> None:
        if num_buckets <= 0:
            raise ValueError("num_buckets must be greater than 0.")
        super().__init__(num_buckets, **extra)


class _LagLead(_WindowFunc):
    def __init__(self, expression: Any, offset: int = 1, default: Any = None, **extra: Any) -> None:
        if offset is None or offset <= 0:
            raise ValueError(f"{type(self).__name__} requires a positive integer for the offset.")
        args = [expression, offset]
        if default is not None:
            args.append(default)
        super().__init__(*args, **extra)

    def _resolve_output_field(self) -> f.Field | None:
        source: Expression = self.source_expressions[0]
        return source.output_field


class Lag(_LagLead):
    """LAG(expression, offset, default): the value ``offset`` rows before."""

    function = "LAG"


class Lead(_LagLead):
    """LEAD(expression, offset, default): the value ``offset`` rows after."""

    function = "LEAD"


class FirstValue(_WindowFunc):
    """FIRST_VALUE(expression): the value at the frame's first row."""

    function = "FIRST_VALUE"
    arity = 1


class LastValue(_WindowFunc):
    """LAST_VALUE(expression): the value at the frame's last row (mind the default frame)."""

    function = "LAST_VALUE"
    arity = 1


class NthValue(_WindowFunc):
    """NTH_VALUE(expression, nth): the value at the frame's ``nth`` row (1-based)."""

    function = "NTH_VALUE"

    def __init__(self, expression: Any, nth: int = 1, **extra: Any) -> None:
        if nth is None or nth <= 0:
            raise ValueError(f"{type(self).__name__} requires a positive integer as for nth.")
        super().__init__(expression, nth, **extra)

    def _resolve_output_field(self) -> f.Field | None:
        source: Expression = self.source_expressions[0]
        return source.output_field


# orm spelt it NTile before following Django's name; kept so existing code runs.
NTile = Ntile
