"""Expression nodes. Each compiles itself: ``as_sql(compiler, connection) -> (sql, params)``.

Function names and operators are fixed per class (never user input); values
always become ``%s`` parameters; column and alias names go through the
identifier chokepoint via ``compiler.quote_name``. The subquery family
(``Subquery``, ``Exists``, ``OuterRef``) lives in ``orm.query.subqueries`` and
is re-exported at the end of this module.
"""

from __future__ import annotations

import datetime
import decimal
import sys
import uuid
import weakref
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Self

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import EmptyResultSet, FieldError
from orm.query.combinable import Combinable
from orm.utils import timezone
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.query.query import Query

# Fields holding converters cached by Col.get_db_converters. The backends pick
# datetime converters by use_tz, so switching it drops those caches (a hook at
# the switch, not a check on every query).
_FIELDS_WITH_CONVERTERS: weakref.WeakSet[Any] = weakref.WeakSet()


def _forget_converters() -> None:
    for field in list(_FIELDS_WITH_CONVERTERS):
        field.__dict__.pop("_db_converters", None)
    _FIELDS_WITH_CONVERTERS.clear()


timezone.on_change(_forget_converters)

SQLParams = tuple[str, list[Any]]


class Expression(Combinable):
    """Base of every node that compiles to SQL with parameters."""

    contains_aggregate = False
    contains_over_clause = False
    conditional = False
    is_summary = False
    _output_field: f.Field | None = None

    def __init__(self, output_field: f.Field | None = None) -> None:
        if output_field is not None:
            self._output_field = output_field

    # -- tree ----------------------------------------------------------------
    def get_source_expressions(self) -> list[Any]:
        """Child expressions (in compile order)."""
        return []

    def set_source_expressions(self, exprs: list[Any]) -> None:
        """Replace the children (used when resolving)."""
        assert not exprs

    def flatten(self) -> Iterator[Any]:
        """This node and every descendant."""
        yield self
        for expr in self.get_source_expressions():
            if hasattr(expr, "flatten"):
                yield from expr.flatten()

    def copy(self) -> Self:
        """A shallow copy safe to resolve."""
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__ = self.__dict__.copy()
        return clone

    def _deconstruct_path(self) -> str:
        """``orm.Name`` when `orm` exports the class (as migration files spell it), else its module path."""
        cls = type(self)
        public = sys.modules.get("orm")  # read, not imported: orm sits above this layer
        if public is not None and getattr(public, cls.__name__, None) is cls:
            return f"orm.{cls.__name__}"
        return f"{cls.__module__}.{cls.__qualname__}"

    def _output_field_kwargs(self) -> dict[str, Any]:
        return {} if self._output_field is None else {"output_field": self._output_field}

    def resolve_expression(
        self,
        query: Query | None = None,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        """Return a copy whose children are resolved against ``query``."""
        clone = self.copy()
        clone.set_source_expressions(
            [
                expr.resolve_expression(query, allow_joins, reuse, summarize, for_save)
                if hasattr(expr, "resolve_expression")
                else expr
                for expr in self.get_source_expressions()
            ]
        )
        return clone

    # -- output --------------------------------------------------------------
    @property
    def output_field(self) -> f.Field:
        """The field type of the result (drives value conversion)."""
        field = self._output_field or self._resolve_output_field()
        if field is None:
            raise FieldError(
                f"Cannot determine the output type of {short_repr(self)}; pass output_field=..."
            )
        return field

    def _resolve_output_field(self) -> f.Field | None:
        sources: list[f.Field] = [
            s.output_field
            for s in self.get_source_expressions()
            if s is not None
            and not isinstance(s, Star)
            and not (isinstance(s, Value) and s.value is None and s._output_field is None)
            and hasattr(s, "output_field")
        ]
        if not sources:
            return None
        first = sources[0]
        for other in sources[1:]:
            if type(other) is not type(first):
                if isinstance(other, f.DecimalField) or isinstance(first, f.DecimalField):
                    return first if isinstance(first, f.DecimalField) else other
                if isinstance(other, f.FloatField) or isinstance(first, f.FloatField):
                    return f.FloatField()
        return first

    def get_db_converters(self, connection: Connection) -> list[Any]:
        """Backend converters, then the output field's own."""
        field = self.output_field
        converters: list[Any] = connection.ops.get_db_converters(self)
        return converters + field.get_db_converters(connection)

    def get_group_by_cols(self) -> list[Any]:
        """What GROUP BY needs: the expression itself, or its columns when it binds values."""
        if self.contains_aggregate:
            return []
        if not any(isinstance(node, Value) for node in self.flatten()):
            return [self]
        cols: list[Any] = []
        for source in self.get_source_expressions():
            if hasattr(source, "get_group_by_cols"):
                cols.extend(source.get_group_by_cols())
        return cols

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        """Compile to ``(sql, params)``."""
        raise NotImplementedError(f"{type(self).__name__} cannot be compiled.")

    def select_format(self, compiler: Compiler, sql: str, params: list[Any]) -> SQLParams:
        """How this expression appears in a SELECT list."""
        return sql, params

    # -- operators -------------------------------------------------------------
    def _combine(self, other: object, connector: str, reversed_: bool) -> CombinedExpression:
        if not hasattr(other, "resolve_expression"):
            other = Value(other)
        if reversed_:
            return CombinedExpression(other, connector, self)
        return CombinedExpression(self, connector, other)

    def __add__(self, other: object) -> CombinedExpression:
        return self._combine(other, "+", False)

    def __sub__(self, other: object) -> CombinedExpression:
        return self._combine(other, "-", False)

    def __mul__(self, other: object) -> CombinedExpression:
        return self._combine(other, "*", False)

    def __truediv__(self, other: object) -> CombinedExpression:
        return self._combine(other, "/", False)

    def __mod__(self, other: object) -> CombinedExpression:
        return self._combine(other, "%%", False)

    def __radd__(self, other: object) -> CombinedExpression:
        return self._combine(other, "+", True)

    def __rsub__(self, other: object) -> CombinedExpression:
        return self._combine(other, "-", True)

    def __rmul__(self, other: object) -> CombinedExpression:
        return self._combine(other, "*", True)

    def __rtruediv__(self, other: object) -> CombinedExpression:
        return self._combine(other, "/", True)

    def __neg__(self) -> CombinedExpression:
        return CombinedExpression(Value(0), "-", self)

    def __invert__(self) -> Any:
        from orm.query.operators import NegatedExpression  # builds on this module

        return NegatedExpression(self)

    def asc(self, **kwargs: Any) -> OrderBy:
        """Ascending ordering term (``nulls_first``/``nulls_last`` optional)."""
        return OrderBy(self, descending=False, **kwargs)

    def desc(self, **kwargs: Any) -> OrderBy:
        """Descending ordering term (``nulls_first``/``nulls_last`` optional)."""
        return OrderBy(self, descending=True, **kwargs)

    def __repr__(self) -> str:
        args = ", ".join(repr(s) for s in self.get_source_expressions())
        return f"{type(self).__name__}({args})"


def internal_type(expr: Expression) -> str | None:
    """The internal type name of an expression's result, or None when it has none."""
    try:
        field: f.Field = expr.output_field
    except FieldError:
        return None
    return field.storage_field().get_internal_type()


def no_query(node: object) -> TypeError:
    """The error of resolving ``node`` with no query (``resolve_expression()`` without one)."""
    return TypeError(
        f"{type(node).__name__} resolves against a query: resolve_expression() got None."
    )


class F(Expression):
    """A reference to a field (or annotation) of the query's model: ``F("price") * 2``."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"F() expects a field name, got {short_repr(name)}.")
        self.name = name

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
        return query.resolve_ref(self.name, allow_joins, reuse, summarize)

    def __repr__(self) -> str:
        return f"F({self.name})"

    def __getitem__(self, subscript: Any) -> Any:
        """``F("name")[:3]``: a slice of a text field (``Substr``), as in Django."""
        from orm.query.sliced import Sliced  # sliced.py builds on F and Substr

        return Sliced(self, subscript)

    def __contains__(self, other: object) -> bool:
        # __getitem__ would otherwise make ``x in F(...)`` loop over indexes forever.
        raise TypeError(f"argument of type '{type(self).__name__}' is not iterable")

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``(path, args, kwargs)`` rebuilding this reference (migrations write it to files)."""
        return self._deconstruct_path(), (self.name,), {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.name == self.name

    def __hash__(self) -> int:
        return hash((type(self), self.name))


def infer_field(value: Any) -> f.Field | None:
    """The natural field type for a Python value in ``Value()``."""
    if isinstance(value, bool):
        return f.BooleanField()
    if isinstance(value, int):
        return f.BigIntegerField()
    if isinstance(value, float):
        return f.FloatField()
    if isinstance(value, decimal.Decimal):
        return f.DecimalField(max_digits=65, decimal_places=max(0, -int(value.as_tuple().exponent)))
    if isinstance(value, str):
        return f.TextField()
    if isinstance(value, datetime.datetime):
        return f.DateTimeField()
    if isinstance(value, datetime.date):
        return f.DateField()
    if isinstance(value, datetime.time):
        return f.TimeField()
    if isinstance(value, datetime.timedelta):
        return f.DurationField()
    if isinstance(value, uuid.UUID):
        return f.UUIDField()
    if isinstance(value, bytes):
        return f.BinaryField()
    return None


class Value(Expression):
    """A literal value, always sent as a bound parameter."""

    def __init__(self, value: Any, output_field: f.Field | None = None) -> None:
        super().__init__(output_field)
        self.value = value

    def _resolve_output_field(self) -> f.Field | None:
        return infer_field(self.value)

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        value = self.value
        field = self._output_field or infer_field(value)
        if value is None:
            if isinstance(field, f.JSONField):
                # Value(None, JSONField()) is the JSON null, not SQL NULL (Django's rule).
                return "%s", [connection.ops.adapt_json_value(None, field.encoder)]
            return "NULL", []
        if field is not None:
            value = field.get_db_prep_value(value, connection)
        return "%s", [value]

    def get_group_by_cols(self) -> list[Any]:
        return []

    def __repr__(self) -> str:
        return f"Value({self.value!r})"

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``(path, args, kwargs)`` rebuilding this value (migrations write it to files)."""
        return self._deconstruct_path(), (self.value,), self._output_field_kwargs()


class Star(Expression):
    """``*`` in ``COUNT(*)``."""

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return "*", []


class Col(Expression):
    """A column of a table alias in the query."""

    def __init__(
        self, alias: str | None, target: f.Field, output_field: f.Field | None = None
    ) -> None:
        super().__init__(output_field or target)
        self.alias = alias
        self.target = target

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        column = compiler.quote_name(self.target.column)
        if self.alias is None:
            return column, []
        ref = compiler.alias_ref(self.alias)
        return (f"{ref}.{column}" if ref else column), []

    def get_group_by_cols(self) -> list[Any]:
        return [self]

    def relabeled_clone(self, change_map: dict[str, str]) -> Col:
        """Same column under a renamed table alias."""
        return Col(
            change_map.get(self.alias, self.alias) if self.alias else None,
            self.target,
            self._output_field,
        )

    def get_db_converters(self, connection: Connection) -> list[Any]:
        # Converters depend only on the column's field and the backend: pick
        # them once per field and vendor instead of once per query.
        if self._output_field is not self.target:
            return super().get_db_converters(connection)
        cache = self.target.__dict__.get("_db_converters")
        if cache is None:
            cache = self.target.__dict__["_db_converters"] = {}
            _FIELDS_WITH_CONVERTERS.add(self.target)
        converters = cache.get(connection.vendor)
        if converters is None:
            converters = cache[connection.vendor] = super().get_db_converters(connection)
        return converters

    def __repr__(self) -> str:
        return f"Col({self.alias}, {self.target})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Col) and (other.alias, other.target) == (self.alias, self.target)

    def __hash__(self) -> int:
        return hash((self.alias, id(self.target)))


class Ref(Expression):
    """A reference to an annotation already selected under ``refs``."""

    def __init__(self, refs: str, source: Expression) -> None:
        super().__init__()
        self.refs = refs
        self.source = source

    def get_source_expressions(self) -> list[Any]:
        return [self.source]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.source,) = exprs

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        return self

    @property
    def contains_aggregate(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.source, "contains_aggregate", False))

    @property
    def output_field(self) -> f.Field:
        return self.source.output_field

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return compiler.quote_name(self.refs), []

    def get_group_by_cols(self) -> list[Any]:
        return [self]


def _decimal_field(expr: Expression) -> f.DecimalField | None:
    try:
        field = expr.output_field.storage_field()
    except FieldError:
        return None
    return field if isinstance(field, f.DecimalField) else None


class CombinedExpression(Expression):
    """``lhs <op> rhs`` for the arithmetic operators.

    Resolving one with a date, datetime or time operand gives a
    ``temporal.TemporalArithmetic`` instead (typed as in Django), or raises
    ``FieldError`` when the combination means nothing.
    """

    CONNECTORS = frozenset({"+", "-", "*", "/", "%%", "^", "&", "|", "<<", ">>", "#"})

    def __init__(
        self, lhs: Any, connector: str, rhs: Any, output_field: f.Field | None = None
    ) -> None:
        if connector not in self.CONNECTORS:
            raise ValueError(f"Invalid arithmetic connector {short_repr(connector)}.")
        super().__init__(output_field)
        self.lhs = lhs
        self.connector = connector
        self.rhs = rhs

    def get_source_expressions(self) -> list[Any]:
        return [self.lhs, self.rhs]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        self.lhs, self.rhs = exprs

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``(path, args, kwargs)`` rebuilding ``lhs <op> rhs`` (migrations write it to files)."""
        return (
            self._deconstruct_path(),
            (self.lhs, self.connector, self.rhs),
            self._output_field_kwargs(),
        )

    @property
    def contains_aggregate(self) -> bool:  # type: ignore[override]
        return any(getattr(e, "contains_aggregate", False) for e in (self.lhs, self.rhs))

    def _resolve_output_field(self) -> f.Field | None:
        lhs, rhs = _decimal_field(self.lhs), _decimal_field(self.rhs)
        if lhs is not None and rhs is not None and self.connector in ("+", "-", "*"):
            # The exact result's places (results are rounded to the output's
            # places): 50 - 12.50 is 37.50, not 38; 12.50 * 1.11 is 13.8750.
            lp, rp = lhs.decimal_places, rhs.decimal_places
            places = lp + rp if self.connector == "*" else max(lp, rp)
            return f.DecimalField(max_digits=max(65, places), decimal_places=places)
        if self.connector == "^" and lhs is None and rhs is None:
            return f.FloatField()  # POWER() gives a double on both backends
        return super()._resolve_output_field()

    def resolve_expression(
        self,
        query: Query | None = None,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        clone = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        # Once the operands are resolved their types are known: date and time
        # arithmetic needs its own SQL on SQLite and its own result type.
        lhs_type, rhs_type = internal_type(clone.lhs), internal_type(clone.rhs)
        if lhs_type in TEMPORAL_TYPES or rhs_type in TEMPORAL_TYPES:
            from orm.query.temporal import typed_for_temporal  # builds on this module

            return typed_for_temporal(clone, lhs_type, rhs_type)
        return clone

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        lsql, lparams = compiler.compile(self.lhs)
        rsql, rparams = compiler.compile(self.rhs)
        if self.connector == "^":
            return f"POWER({lsql}, {rsql})", lparams + rparams
        return f"({lsql} {self.connector} {rsql})", lparams + rparams

    def as_sqlite(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if self.connector == "#":
            # SQLite has no XOR operator: a ^ b == (a | b) - (a & b) for integers.
            lsql, lparams = compiler.compile(self.lhs)
            rsql, rparams = compiler.compile(self.rhs)
            return f"(({lsql} | {rsql}) - ({lsql} & {rsql}))", lparams + rparams + lparams + rparams
        if self.connector != "/" or internal_type(self) != "DecimalField":
            return self.as_sql(compiler, connection)
        # Decimals holding whole numbers are stored as integers on SQLite, and
        # integer / integer truncates: divide as reals, as PostgreSQL's numeric
        # division keeps the fraction.
        lsql, lparams = compiler.compile(self.lhs)
        rsql, rparams = compiler.compile(self.rhs)
        return f"(CAST({lsql} AS REAL) / {rsql})", lparams + rparams


#: Operand types that make a CombinedExpression date/time arithmetic (see temporal.py).
TEMPORAL_TYPES = frozenset({"DateField", "DateTimeField", "TimeField"})


class ExpressionWrapper(Expression):
    """Wrap an expression to give it an explicit ``output_field``."""

    def __init__(self, expression: Any, output_field: f.Field) -> None:
        super().__init__(output_field)
        self.expression = expression

    def resolve_expression(
        self,
        query: Query | None = None,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        # The wrapper's type also types a bare arithmetic inside it, so
        # ExpressionWrapper(F("day") + 1, output_field=DateField()) is the
        # caller's explicit choice rather than a refused combination.
        inner = self.expression
        output_field = self._output_field  # always set: __init__ requires it
        if (
            isinstance(inner, CombinedExpression)
            and inner._output_field is None
            and output_field is not None
        ):
            inner = inner.copy()
            inner._output_field = output_field
            wrapper: ExpressionWrapper = self.copy()
            wrapper.expression = inner
            return Expression.resolve_expression(
                wrapper, query, allow_joins, reuse, summarize, for_save
            )
        return super().resolve_expression(query, allow_joins, reuse, summarize, for_save)

    def get_source_expressions(self) -> list[Any]:
        return [self.expression]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.expression,) = exprs

    @property
    def contains_aggregate(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.expression, "contains_aggregate", False))

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return compiler.compile(self.expression)


class Func(Expression):
    """A SQL function call; ``function`` and ``template`` are fixed per subclass."""

    function = ""
    template = "%(function)s(%(expressions)s)"
    arg_joiner = ", "
    arity: int | None = None
    # A subclass whose __init__ does not call this one's has no extra.
    extra: Mapping[str, Any] = MappingProxyType({})

    def __init__(
        self, *expressions: Any, output_field: f.Field | None = None, **extra: Any
    ) -> None:
        if self.arity is not None and len(expressions) != self.arity:
            raise TypeError(f"{type(self).__name__} takes exactly {self.arity} argument(s).")
        super().__init__(output_field)
        self.source_expressions = [self._parse(e) for e in expressions]
        #: Django's ``**extra``: ``function=``, ``template=``, ``arg_joiner=`` or
        #: any other key of the template, fixed for this call (code, like the
        #: class attributes they override: never put user input here).
        self.extra = extra

    @staticmethod
    def _parse(expr: Any) -> Any:
        if isinstance(expr, str):
            return F(expr)
        if hasattr(expr, "resolve_expression"):
            return expr
        return Value(expr)

    def get_source_expressions(self) -> list[Any]:
        return list(self.source_expressions)

    def set_source_expressions(self, exprs: list[Any]) -> None:
        self.source_expressions = list(exprs)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``(path, args, kwargs)``: the call rebuilt from its expressions and output field.

        Right for a function whose constructor is ``(*expressions,
        output_field=None)``; a subclass taking other arguments overrides it.
        """
        init = type(self).__init__
        if init is not Func.__init__ and "deconstruct" not in type(self).__dict__:
            raise ValueError(
                f"{type(self).__name__} cannot be rebuilt from its expressions alone (its "
                "constructor takes other arguments), so it cannot be written to a migration "
                "file; give it a deconstruct() method."
            )
        kwargs = {**self.extra, **self._output_field_kwargs()}
        return self._deconstruct_path(), tuple(self.source_expressions), kwargs

    @property
    def contains_aggregate(self) -> bool:  # type: ignore[override]
        return any(getattr(e, "contains_aggregate", False) for e in self.source_expressions)

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        """``template % {function, expressions, **extra}``; an ``as_<vendor>`` may pass its own
        ``function=``/``template=``/``arg_joiner=``, as Django's ``Func.as_sql``."""
        parts, params = [], []
        for expr in self.source_expressions:
            try:
                sql, p = compiler.compile(expr)
            except EmptyResultSet:
                # An argument that can match nothing (a subquery over none()) stands
                # for its empty_result_set_value when it has one, as in Django.
                empty = getattr(expr, "empty_result_set_value", NotImplemented)
                if empty is NotImplemented:
                    raise
                sql, p = compiler.compile(Value(empty))
            parts.append(sql)
            params.extend(p)
        # As Django: the call's own extra (Func(..., function="f")), then what
        # an as_<vendor> passes, over the class attributes.
        context = {"function": self.function, **self.extra, **extra}
        template = context.pop("template", None) or self.template
        joiner = context.pop("arg_joiner", None)
        context["expressions"] = (self.arg_joiner if joiner is None else joiner).join(parts)
        return template % context, params


class Cast(Func):
    """CAST(expression AS <the output field's column type>)."""

    arity = 1

    def __init__(self, expression: Any, output_field: f.Field) -> None:
        super().__init__(expression, output_field=output_field)

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        sql, params = compiler.compile(self.source_expressions[0])
        db_type = self.output_field.db_type(connection)
        if db_type is None:
            raise ValueError(f"Cannot cast to {self.output_field!r}: it has no column type.")
        return f"CAST({sql} AS {db_type})", params


class Coalesce(Func):
    """The first non-NULL argument."""

    function = "COALESCE"

    def __init__(self, *expressions: Any, output_field: f.Field | None = None) -> None:
        if len(expressions) < 2:
            raise ValueError("Coalesce must take at least two expressions.")
        super().__init__(*expressions, output_field=output_field)


class Lower(Func):
    """LOWER(text)."""

    function = "LOWER"
    arity = 1


class Upper(Func):
    """UPPER(text)."""

    function = "UPPER"
    arity = 1


class Length(Func):
    """Number of characters of a text value."""

    function = "LENGTH"
    arity = 1
    _output_field = f.IntegerField()


class OrderBy(Expression):
    """An ORDER BY term: ``OrderBy(F("x"), descending=True, nulls_last=True)``, or
    ``F("x").desc(nulls_last=True)``; usable in ``order_by()``, ``Meta.ordering``,
    ``Window(order_by=)`` and the ``order_by=`` of collecting aggregates."""

    def __init__(
        self,
        expression: Any,
        descending: bool = False,
        nulls_first: bool | None = None,
        nulls_last: bool | None = None,
    ) -> None:
        if nulls_first and nulls_last:
            raise ValueError("nulls_first and nulls_last are mutually exclusive.")
        if nulls_first is False or nulls_last is False:
            # Django 5.x: False once meant "the database's default", now spelt None.
            raise ValueError("nulls_first and nulls_last values must be True or None.")
        if not hasattr(expression, "resolve_expression"):
            raise ValueError(
                f"OrderBy() takes an expression, got {short_repr(expression)}; use F({expression!r}) "
                "or order_by('-name')."
            )
        super().__init__()
        self.expression = expression
        self.descending = descending
        self.nulls_first = nulls_first
        self.nulls_last = nulls_last

    def get_source_expressions(self) -> list[Any]:
        return [self.expression]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.expression,) = exprs

    def reverse_ordering(self) -> OrderBy:
        """The opposite direction (used by ``reverse()`` and ``last()``)."""
        clone: OrderBy = self.copy()
        clone.descending = not self.descending
        if self.nulls_first or self.nulls_last:
            clone.nulls_first, clone.nulls_last = self.nulls_last, self.nulls_first
        return clone

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        # A node may order differently from how it compares (a JSON key: by its value).
        as_order_by = getattr(self.expression, "as_order_by", None)
        if as_order_by is not None:
            sql, params = as_order_by(compiler, connection)
        else:
            sql, params = compiler.compile(self.expression)
        sql += " DESC" if self.descending else " ASC"
        if self.nulls_first:
            sql += " NULLS FIRST"
        elif self.nulls_last:
            sql += " NULLS LAST"
        return sql, params


class RawSQL(Expression):
    """Raw SQL text with its parameters: the text must be trusted developer input."""

    def __init__(
        self, sql: str, params: list[Any] | tuple[Any, ...], output_field: f.Field | None = None
    ) -> None:
        super().__init__(output_field)
        self.sql = sql
        self.params = list(params)

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return f"({self.sql})", list(self.params)

    def get_group_by_cols(self) -> list[Any]:
        return [self]
