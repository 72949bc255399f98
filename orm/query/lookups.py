"""Lookups (``field__gt=5``) and transforms (``date__year``), registered on field classes.

Each lookup compiles to ``lhs <operator> %s`` with the value as a parameter;
LIKE wildcards in values are escaped; ``in`` with many values binds one JSON
array (SQLite) or one array (PostgreSQL) so no statement exceeds the
driver's parameter limit.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import DataError, EmptyResultSet, FullResultSet, NotSupportedError
from orm.fields.lookup_registry import RegisterLookupMixin
from orm.query.expressions import Col, Expression, F, Func, SQLParams, Value, internal_type
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.query.query import Query

# Above this many values, ``__in`` binds one array parameter instead of one each.
IN_LIST_ARRAY_THRESHOLD = 500


class Lookup(Expression):
    """``lhs <lookup> rhs``; ``rhs`` is prepared by the lhs field unless it is an expression."""

    lookup_name = ""
    is_lookup = True
    is_transform = False
    prepare_rhs = True
    conditional = True

    def __init__(self, lhs: Expression, rhs: Any) -> None:
        # The output field is the class's shared BooleanField (set below the
        # class): a field per lookup cost more than the rest of building it.
        super().__init__()
        self.lhs = lhs
        self.rhs = rhs
        self.rhs = self.get_prep_lookup()
        get_bilateral = getattr(lhs, "get_bilateral_transforms", None)
        self.bilateral_transforms: list[Any] = get_bilateral() if get_bilateral is not None else []
        if self.bilateral_transforms:
            self._check_bilateral(rhs)

    def _check_bilateral(self, rhs: Any) -> None:
        # Refuse rather than silently compare an untransformed value.
        if type(self).process_rhs is not Lookup.process_rhs:
            raise NotSupportedError(
                f"Bilateral transforms are not supported with the {self.lookup_name!r} lookup; "
                "use exact/iexact/gt/gte/lt/lte or a lookup that keeps Lookup.process_rhs()."
            )
        if hasattr(rhs, "_iterable_class") or getattr(rhs, "query", None) is not None:
            raise NotImplementedError(
                "Bilateral transformations on nested querysets are not implemented."
            )

    def apply_bilateral_transforms(self, value: Any) -> Any:
        """``value`` wrapped in each bilateral transform of the lhs, innermost first."""
        for transform in self.bilateral_transforms:
            value = transform(value)
        return value

    def get_source_expressions(self) -> list[Any]:
        if self.rhs_is_direct_value():
            return [self.lhs]
        return [self.lhs, self.rhs]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        if len(exprs) == 1:
            (self.lhs,) = exprs
        else:
            self.lhs, self.rhs = exprs

    @property
    def contains_aggregate(self) -> bool:  # type: ignore[override]
        return bool(
            getattr(self.lhs, "contains_aggregate", False)
            or getattr(self.rhs, "contains_aggregate", False)
        )

    def rhs_is_direct_value(self) -> bool:
        """True when the right-hand side is a plain value (not an expression)."""
        return not hasattr(self.rhs, "as_sql")

    @property
    def lhs_field(self) -> f.Field:
        """The output field of the left-hand side."""
        return self.lhs.output_field

    # A condition that can match nothing, selected (annotate(b=GreaterThan(...))), is false.
    select_empty_sql = "(1 = 0)"

    def get_prep_lookup(self) -> Any:
        """Coerce a plain rhs with the lhs field (``pk='abc'`` fails here, clearly).

        A lookup built directly on an unresolved expression (``GreaterThan(F("pages"),
        1)`` in ``filter()``) knows its field only once resolved: it prepares then.
        """
        if not self.prepare_rhs or hasattr(self.rhs, "resolve_expression"):
            return self.rhs
        if _unresolved(self.lhs):
            return self.rhs
        return self.lhs_field.get_prep_value(self.rhs)

    def resolve_expression(
        self,
        query: Query | None = None,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        """Resolve both sides; a plain rhs is prepared now if the lhs was unresolved."""
        unresolved = _unresolved(self.lhs)
        clone = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        if unresolved:
            clone.rhs = clone.get_prep_lookup()
        return clone

    def get_db_prep_lookup(self, value: object, connection: Connection) -> Any:
        """Adapt a prepared value for the driver."""
        return self.lhs_field.get_db_prep_value(value, connection, prepared=True)

    def process_lhs(self, compiler: Compiler, connection: Connection) -> SQLParams:
        """Compile the left-hand side, wrapped by the backend's cast for this lookup."""
        sql, params = compiler.compile(self.lhs)
        internal = self.lhs_field.get_internal_type()
        if not isinstance(self.lhs, Col):
            sql = connection.ops.computed_lookup_cast(internal) % sql
        return connection.ops.lookup_cast(self.lookup_name, internal) % sql, list(params)

    def compile_values(
        self, compiler: Compiler, connection: Connection, values: Any
    ) -> tuple[list[str], list[Any]]:
        """SQL for each value: an expression compiles itself, a plain value is ``%s``."""
        parts: list[str] = []
        params: list[Any] = []
        for value in values:
            if hasattr(value, "as_sql"):
                sql, value_params = compiler.compile(value)
                parts.append(sql)
                params.extend(value_params)
            else:
                parts.append("%s")
                params.append(self.get_db_prep_lookup(value, connection))
        return parts, params

    def process_rhs(self, compiler: Compiler, connection: Connection) -> SQLParams:
        """Compile the right-hand side: ``%s`` plus its parameter, or an expression.

        With bilateral transforms on the lhs, the value is wrapped in them too
        (still a parameter: ``UPPER(%s)``).
        """
        if self.bilateral_transforms:
            value = self.rhs
            if self.rhs_is_direct_value():
                value = Value(self.get_db_prep_lookup(value, connection), self.lhs_field)
            value = self.apply_bilateral_transforms(value).resolve_expression(compiler.query)
            sql, params = compiler.compile(value)
            return sql, list(params)
        if not self.rhs_is_direct_value():
            sql, params = compiler.compile(self.rhs)
            if getattr(self.rhs, "query", None) is not None and not sql.startswith("("):
                sql = f"({sql})"
            return sql, list(params)
        return "%s", [self.get_db_prep_lookup(self.rhs, connection)]

    def get_rhs_op(self, connection: Connection, rhs: str) -> str:
        """``<operator> rhs`` from the backend's operator table."""
        return connection.operators[self.lookup_name] % rhs

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        if not self.rhs_is_direct_value():
            # Two expressions (a plain value is already prepared by the lhs field):
            # a date against a datetime needs aligning on some backends.
            lhs_sql, rhs_sql = connection.ops.temporal_comparison_sql(
                internal_type(self.lhs), lhs_sql, internal_type(self.rhs), rhs_sql
            )
        return f"{lhs_sql} {self.get_rhs_op(connection, rhs_sql)}", lhs_params + rhs_params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.lhs!r}, {self.rhs!r})"


#: What every lookup returns; never mutated, so one instance serves them all.
Lookup._output_field = f.BooleanField()


def _unresolved(expr: object) -> bool:
    """True for an expression tree still holding field names (``F``) to resolve."""
    if type(expr) is Col:
        return False  # the lhs of nearly every filter: no need to walk it
    flatten = getattr(expr, "flatten", None)
    nodes = flatten() if flatten is not None else [expr]
    return any(isinstance(node, F) for node in nodes)


class Transform(RegisterLookupMixin, Func):
    """A function applied to the left-hand side, chainable: ``created__date__year``.

    ``bilateral = True`` applies it to the right-hand side too (Django's
    bilateral transforms). Lookups and transforms may be registered on a
    transform class; names not found there come from its output field.
    """

    is_lookup = False
    is_transform = True
    lookup_name = ""
    arity = 1
    bilateral = False

    def get_bilateral_transforms(self) -> list[Any]:
        """The bilateral transform classes from the innermost lhs out to this one."""
        inner = getattr(self.lhs, "get_bilateral_transforms", None)
        transforms: list[Any] = inner() if inner is not None else []
        if self.bilateral:
            transforms.append(type(self))
        return transforms

    @property
    def lhs(self) -> Any:
        """The transformed expression."""
        return self.source_expressions[0]

    @classmethod
    def get_lookup_for(cls, name: str, output_field: f.Field) -> Any:
        """Lookups on a transform come from its output field."""
        return output_field.get_lookup(name)


def storable_range(field: f.Field, value: Any) -> tuple[Any, Any] | None:
    """(min, max) a column of ``field`` holds when ``value`` is of its kind, else None.

    Integers and durations have a range the column cannot exceed; a value
    outside it cannot be stored, so a comparison with it needs no database.
    """
    if isinstance(value, int) and isinstance(field, f.IntegerField):
        return field.range
    if isinstance(value, datetime.timedelta) and isinstance(field, f.DurationField):
        return field.range
    return None


class _IntegerRangeMixin(Lookup):
    """Integer and duration lookups whose value cannot fit the column match nothing
    (or everything).

    Mixed in before ``Lookup``; a ``Lookup`` itself so it is typed as one,
    which leaves every lookup's MRO as it was.
    """

    below_means_full = False  # True for gt/gte: a value below the range matches every row
    above_means_full = False  # True for lt/lte: a value above the range matches every row

    def get_prep_lookup(self) -> Any:
        value = super().get_prep_lookup()
        if _unresolved(self.lhs):
            return value  # checked again once resolved
        bounds = storable_range(self.lhs_field.storage_field(), value)
        if bounds is not None:
            low, high = bounds
            if value > high:
                self._constant = FullResultSet if self.above_means_full else EmptyResultSet
            elif value < low:
                self._constant = FullResultSet if self.below_means_full else EmptyResultSet
        return value

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        constant = getattr(self, "_constant", None)
        lhs: Any = getattr(self, "lhs", None)
        if constant is FullResultSet and getattr(getattr(lhs, "target", None), "null", False):
            # Every stored value matches, but NULL matches no comparison.
            sql, params = compiler.compile(self.lhs)
            return f"{sql} IS NOT NULL", params
        if constant is not None:
            raise constant
        return super().as_sql(compiler, connection)


class Exact(_IntegerRangeMixin, Lookup):
    """``= value`` (``exact=None`` means ``IS NULL``)."""

    lookup_name = "exact"

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if self.rhs is None:
            sql, params = compiler.compile(self.lhs)
            return f"{sql} IS NULL", params
        return super().as_sql(compiler, connection)


class IExact(Lookup):
    """Case-insensitive equality."""

    lookup_name = "iexact"


class GreaterThan(_IntegerRangeMixin, Lookup):
    """``> value``."""

    lookup_name = "gt"
    below_means_full = True


class GreaterThanOrEqual(_IntegerRangeMixin, Lookup):
    """``>= value``."""

    lookup_name = "gte"
    below_means_full = True


class LessThan(_IntegerRangeMixin, Lookup):
    """``< value``."""

    lookup_name = "lt"
    above_means_full = True


class LessThanOrEqual(_IntegerRangeMixin, Lookup):
    """``<= value``."""

    lookup_name = "lte"
    above_means_full = True


class PatternLookup(Lookup):
    """LIKE-based lookups; the value's ``%``, ``_`` and ``\\`` are escaped."""

    prefix = "%"
    suffix = "%"

    def get_prep_lookup(self) -> Any:
        if hasattr(self.rhs, "resolve_expression"):
            return self.rhs
        field = self.lhs_field
        if isinstance(field, f.TextField):
            # TypeError for non-str, DataError for text that is not valid Unicode.
            return field.get_prep_value(self.rhs)
        value = self.rhs if isinstance(self.rhs, str) else str(self.rhs)
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                # The driver would raise its own UnicodeEncodeError, naming nothing.
                raise DataError(
                    f"The {self.lookup_name} lookup on {field.name!r} got text that is not valid "
                    f"Unicode ({error.reason} at position {error.start}); lone surrogates cannot "
                    "be stored or compared."
                ) from None
        return value

    def get_db_prep_lookup(self, value: object, connection: Connection) -> Any:
        return value

    def process_rhs(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if not self.rhs_is_direct_value():
            sql, params = compiler.compile(self.rhs)
            # Escape wildcards inside the other column's value too.
            escaped = f"REPLACE(REPLACE(REPLACE({sql}, '\\', '\\\\'), '%%', '\\%%'), '_', '\\_')"
            return f"(%s || {escaped} || %s)", [self.prefix, *params, self.suffix]
        escaped = connection.ops.prep_for_like_query(self.rhs)
        return "%s", [f"{self.prefix}{escaped}{self.suffix}"]


class Contains(PatternLookup):
    """Case-sensitive substring match."""

    lookup_name = "contains"


class IContains(PatternLookup):
    """Case-insensitive substring match."""

    lookup_name = "icontains"


class StartsWith(PatternLookup):
    """Case-sensitive prefix match."""

    lookup_name = "startswith"
    prefix = ""


class IStartsWith(StartsWith):
    """Case-insensitive prefix match."""

    lookup_name = "istartswith"


class EndsWith(PatternLookup):
    """Case-sensitive suffix match."""

    lookup_name = "endswith"
    suffix = ""


class IEndsWith(EndsWith):
    """Case-insensitive suffix match."""

    lookup_name = "iendswith"


class In(Lookup):
    """``IN (...)``: a list, tuple, set, range or a QuerySet; empty matches nothing."""

    lookup_name = "in"

    def get_prep_lookup(self) -> Any:
        rhs = self.rhs
        query = getattr(rhs, "query", None)
        if (
            query is not None
            and not query.default_cols
            and len(query.select) + len(query.annotation_select) > 1
        ):
            raise TypeError(
                "The QuerySet value for an 'in' lookup must select exactly one column "
                "(use values('field') or values_list('field', flat=True))."
            )
        if hasattr(rhs, "resolve_expression") or hasattr(rhs, "query"):
            return rhs
        if isinstance(rhs, str | bytes) or not hasattr(rhs, "__iter__"):
            raise TypeError(f"The 'in' lookup needs an iterable of values, got {short_repr(rhs)}.")
        field = self.lhs_field
        values = []
        for value in rhs:
            if value is None:
                continue  # NULL never matches IN
            if hasattr(value, "as_sql"):
                values.append(value)  # an expression (already resolved)
                continue
            prepared = field.get_prep_value(value)
            bounds = storable_range(field.storage_field(), prepared)
            if bounds is not None and not bounds[0] <= prepared <= bounds[1]:
                continue  # cannot be stored, so cannot match
            values.append(prepared)
        return list(dict.fromkeys(values)) if _hashable(values) else values

    def process_rhs(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if hasattr(self.rhs, "query") and not hasattr(self.rhs, "as_sql"):
            query = self.rhs.query
            sql, params = compiler.compile_subquery(query, single_column=True)
            return f"({sql})", list(params)
        if not self.rhs_is_direct_value():
            return super().process_rhs(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        if any(hasattr(v, "as_sql") for v in self.rhs):
            parts, params = self.compile_values(compiler, connection, self.rhs)
            return "(" + ", ".join(parts) + ")", params
        prepared = [self.get_db_prep_lookup(v, connection) for v in self.rhs]
        if len(prepared) > IN_LIST_ARRAY_THRESHOLD:
            return connection.ops.in_array_sql(prepared)
        return "(" + ", ".join(["%s"] * len(prepared)) + ")", prepared

    def get_rhs_op(self, connection: Connection, rhs: str) -> str:
        return f"IN {rhs}"


def _hashable(values: list[Any]) -> bool:
    try:
        for value in values:
            hash(value)
    except TypeError:
        return False
    return True


class Range(Lookup):
    """``BETWEEN low AND high`` (inclusive)."""

    lookup_name = "range"

    def get_prep_lookup(self) -> Any:
        if not isinstance(self.rhs, list | tuple) or len(self.rhs) != 2:
            raise ValueError("The 'range' lookup needs a (low, high) pair.")
        field = self.lhs_field
        low, high = [
            v if hasattr(v, "resolve_expression") else field.get_prep_value(v) for v in self.rhs
        ]
        target = field.storage_field()
        low_bounds, high_bounds = storable_range(target, low), storable_range(target, high)
        if low_bounds is not None and high_bounds is not None:
            minimum, maximum = low_bounds
            if low > maximum or high < minimum or low > high:
                self._empty = True
        if low_bounds is not None:
            low = max(low, low_bounds[0])
        if high_bounds is not None:
            high = min(high, high_bounds[1])
        return [low, high]

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if getattr(self, "_empty", False):
            raise EmptyResultSet
        return super().as_sql(compiler, connection)

    def process_rhs(self, compiler: Compiler, connection: Connection) -> SQLParams:
        parts, params = self.compile_values(compiler, connection, self.rhs)
        return f"{parts[0]} AND {parts[1]}", params

    def rhs_is_direct_value(self) -> bool:
        return True

    def get_rhs_op(self, connection: Connection, rhs: str) -> str:
        return f"BETWEEN {rhs}"


class IsNull(Lookup):
    """``IS NULL`` / ``IS NOT NULL``; the value must be a bool."""

    lookup_name = "isnull"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        if not isinstance(self.rhs, bool):
            raise ValueError("The QuerySet value for an isnull lookup must be True or False.")
        return self.rhs

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        sql, params = compiler.compile(self.lhs)
        return f"{sql} {'IS NULL' if self.rhs else 'IS NOT NULL'}", params


class Regex(Lookup):
    """Regular-expression match (Python ``re`` on SQLite, POSIX on PostgreSQL)."""

    lookup_name = "regex"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        if not isinstance(self.rhs, str) and not hasattr(self.rhs, "resolve_expression"):
            raise TypeError(
                f"The {self.lookup_name} lookup needs a str pattern, got {short_repr(self.rhs)}."
            )
        return self.rhs

    def get_db_prep_lookup(self, value: object, connection: Connection) -> Any:
        return value

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if self.rhs_is_direct_value():
            # A pattern the backend's engine rejects is a DataError before any
            # SQL, as PostgreSQL reports it (SQLite would say only that a
            # user-defined function raised).
            connection.ops.check_regex(self.rhs, self.lookup_name)
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        template = connection.ops.regex_lookup(self.lookup_name)
        return template % (lhs_sql, rhs_sql), lhs_params + rhs_params


class IRegex(Regex):
    """Case-insensitive regular-expression match."""

    lookup_name = "iregex"


# -- UUID text lookups -------------------------------------------------------------


class _UUIDHex(Func):
    """A value compared with a UUID's text: as text, hyphens removed."""

    template = "REPLACE(CAST(%(expressions)s AS text), '-', '')"
    arity = 1
    _output_field = f.TextField()


class _UUIDTextMixin(Lookup):
    """Text lookups on a UUIDField compare the 32 hex digits, hyphens removed on both
    sides, so ``"550e8400-e29b"`` and ``"550e8400e29b"`` find the same rows on every
    backend (the backend's ``lookup_cast`` strips the column's hyphens).

    Mixed in before a lookup class (``_uuid_lookup``); a ``Lookup`` itself so it
    is typed as one, which leaves the MRO as it was (``Lookup`` comes last).
    """

    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        rhs = self.rhs
        if hasattr(rhs, "resolve_expression"):
            return _UUIDHex(rhs)
        if isinstance(rhs, uuid.UUID):
            return rhs.hex
        if not isinstance(rhs, str):
            raise TypeError(
                f"The {self.lookup_name} lookup on UUIDField {self.lhs_field.name!r} needs a "
                f"str or UUID, got {type(rhs).__name__} {rhs!r}."
            )
        return rhs.replace("-", "")

    def get_db_prep_lookup(self, value: object, connection: Connection) -> Any:
        return value


def _uuid_lookup(base: type[Lookup]) -> type[Lookup]:
    return type(f"UUID{base.__name__}", (_UUIDTextMixin, base), {"__doc__": base.__doc__})


UUIDIExact = _uuid_lookup(IExact)
UUIDContains = _uuid_lookup(Contains)
UUIDIContains = _uuid_lookup(IContains)
UUIDStartsWith = _uuid_lookup(StartsWith)
UUIDIStartsWith = _uuid_lookup(IStartsWith)
UUIDEndsWith = _uuid_lookup(EndsWith)
UUIDIEndsWith = _uuid_lookup(IEndsWith)


def _register() -> None:
    for lookup in (
        Exact,
        IExact,
        GreaterThan,
        GreaterThanOrEqual,
        LessThan,
        LessThanOrEqual,
        Contains,
        IContains,
        StartsWith,
        IStartsWith,
        EndsWith,
        IEndsWith,
        In,
        Range,
        IsNull,
        Regex,
        IRegex,
    ):
        f.Field.register_lookup(lookup)
    for uuid_lookup in (
        UUIDIExact,
        UUIDContains,
        UUIDIContains,
        UUIDStartsWith,
        UUIDIStartsWith,
        UUIDEndsWith,
        UUIDIEndsWith,
    ):
        f.UUIDField.register_lookup(uuid_lookup)


_register()

# The date/time transforms (__year, __date, ...) live in orm.query.functions.datetime
# and register themselves there; ``import orm`` always imports that module.


def __getattr__(name: str) -> Any:
    """``Extract``, ``Trunc``, ``ExtractYear``... under their old home, for existing imports.

    Resolved lazily: orm.query.functions.datetime imports this module first.
    """
    from orm.query.functions import datetime as temporal_functions

    if name in temporal_functions.__all__:
        return getattr(temporal_functions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Lookup", "Transform", "Value"]
