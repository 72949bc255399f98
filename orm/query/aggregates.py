"""Aggregates: Count, Sum, Avg, Min, Max (with ``distinct=`` and ``filter=``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import FieldError
from orm.query.conditional import Case, When
from orm.query.expressions import Coalesce, Func, Ref, SQLParams, Star, Value, no_query

if TYPE_CHECKING:
    from orm.query.query import Query


class Aggregate(Func):
    """Base of aggregates; subclass it with ``function``, ``template``, ``allow_distinct``
    and ``empty_result_set_value`` (what ``aggregate()`` answers over no row), as in
    Django. ``filter=`` becomes a CASE inside the call (portable), ``default=`` a COALESCE."""

    # Func asks its arguments through a property; an aggregate always aggregates,
    # and a class attribute answers that without a call on every check.
    contains_aggregate = True  # pyright: ignore[reportAssignmentType]
    window_compatible = True
    template = "%(function)s(%(distinct)s%(expressions)s)"
    allow_distinct = False
    empty_result: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Django's name for what aggregate() answers over no row; a user's
        # subclass may set either spelling.
        if "empty_result_set_value" in cls.__dict__:
            cls.empty_result = cls.__dict__["empty_result_set_value"]
        elif "empty_result" in cls.__dict__:
            cls.empty_result_set_value = cls.__dict__["empty_result"]

    empty_result_set_value: Any = None

    def __init__(
        self,
        *expressions: Any,
        distinct: bool = False,
        filter: Any = None,
        default: Any = None,
        **extra: Any,
    ) -> None:
        if distinct and not self.allow_distinct:
            raise TypeError(f"{type(self).__name__} does not allow distinct.")
        if default is not None and self.empty_result is not None:
            raise TypeError(f"{type(self).__name__} does not allow default.")
        super().__init__(*expressions, **extra)
        self.distinct = distinct
        self.filter = filter
        self.default = default
        if default is not None and not hasattr(default, "resolve_expression"):
            # aggregate() over a query that matches no row answers this without SQL.
            self.empty_result = default

    @property
    def default_alias(self) -> str:
        """``<field>__<name>`` for ``aggregate(Sum("price"))`` without an alias."""
        source = self.source_expressions[0] if self.source_expressions else None
        name = getattr(source, "name", None)
        if name is None:
            raise TypeError("Complex aggregates require an alias.")
        return f"{name}__{type(self).__name__.lower()}"

    def get_group_by_cols(self) -> list[Any]:
        return []

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
        clone = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        if self.filter is not None:
            clone.filter = query.build_where(self.filter)
        for expr in clone.source_expressions:
            if getattr(expr, "contains_aggregate", False) and not isinstance(expr, Ref):
                raise ValueError(
                    f"Cannot compute {type(self).__name__}(...): it contains an aggregate."
                )
        if self.default is None:
            return clone
        return _with_default(clone, query, allow_joins, reuse, summarize)

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        distinct = "DISTINCT " if self.distinct else ""
        if self.filter is not None:
            source = self.source_expressions[0]
            if isinstance(source, Star):
                source = Value(1)
            wrapped = Case(When(self.filter, then=source), default=None)
            wrapped.cases[0].condition = self.filter  # already resolved
            sql, params = compiler.compile(wrapped)
            return self.template % {
                "function": self.function,
                "distinct": distinct,
                "expressions": sql,
            }, params
        return super().as_sql(compiler, connection, distinct=distinct, **extra)


def _with_default(
    aggregate: Aggregate, query: Query, allow_joins: bool, reuse: set[str] | None, summarize: bool
) -> Any:
    """``COALESCE(aggregate, default)``, as Django's ``default=`` (the aggregate itself keeps no default)."""
    default = aggregate.default
    aggregate.default = None
    try:
        field = aggregate.output_field
    except FieldError:
        field = None
    # A plain default is a value, never a field name (Coalesce would read "" as F("")).
    fallback = default if hasattr(default, "resolve_expression") else Value(default, field)
    wrapped = Coalesce(aggregate, fallback, output_field=field)
    wrapped.source_expressions[1] = wrapped.source_expressions[1].resolve_expression(
        query, allow_joins, reuse, summarize
    )
    # What aggregate() answers for a query that can match no row (none(), an empty IN).
    wrapped.empty_result = None if hasattr(default, "resolve_expression") else default  # type: ignore[attr-defined]
    return wrapped


class Count(Aggregate):
    """COUNT(expr) or COUNT(*) with ``"*"``; never NULL."""

    function = "COUNT"
    allow_distinct = True
    _output_field = f.BigIntegerField()
    empty_result = 0

    def __init__(self, expression: Any = "*", **extra: Any) -> None:
        if expression == "*":
            expression = Star()
        super().__init__(expression, **extra)

    def get_db_converters(self, connection: Connection) -> list[Any]:
        return [lambda value, expression, conn: 0 if value is None else int(value)]


class Sum(Aggregate):
    """SUM(expr)."""

    function = "SUM"
    allow_distinct = True


class Avg(Aggregate):
    """AVG(expr) as a float (a Decimal for DecimalField input, a timedelta for DurationField)."""

    function = "AVG"
    allow_distinct = True

    def _resolve_output_field(self) -> f.Field | None:
        source = super()._resolve_output_field()
        if isinstance(source, f.DecimalField):
            return f.DecimalField(max_digits=65, decimal_places=max(source.decimal_places, 6))
        if isinstance(source, f.DurationField):
            # As Django: the average of durations is a duration (PostgreSQL's
            # AVG(interval); on SQLite the average of the microseconds column).
            return f.DurationField()
        return f.FloatField()


class Min(Aggregate):
    """MIN(expr)."""

    function = "MIN"


class Max(Aggregate):
    """MAX(expr)."""

    function = "MAX"


class _Spread(Aggregate):
    """Population (default) or sample (``sample=True``) spread of the values, a float."""

    _output_field = f.FloatField()
    pop_function = ""
    samp_function = ""

    def __init__(self, expression: Any, sample: bool = False, **extra: Any) -> None:
        self.function = self.samp_function if sample else self.pop_function
        super().__init__(expression, **extra)

    def _resolve_output_field(self) -> f.Field | None:
        return f.FloatField()

    def as_postgresql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        # numeric input gives numeric out; cast so both backends answer a float.
        sql, params = self.as_sql(compiler, connection, **extra)
        return f"CAST({sql} AS double precision)", params


class StdDev(_Spread):
    """STDDEV_POP(expr), or STDDEV_SAMP with ``sample=True`` (Python on SQLite)."""

    pop_function = "STDDEV_POP"
    samp_function = "STDDEV_SAMP"


class Variance(_Spread):
    """VAR_POP(expr), or VAR_SAMP with ``sample=True`` (Python on SQLite)."""

    pop_function = "VAR_POP"
    samp_function = "VAR_SAMP"
