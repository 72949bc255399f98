"""Combined queries: ``union()``, ``intersection()`` and ``difference()``.

A combined QuerySet keeps a clone of its first query as its own ``Query``
(so names, annotations and ``values()`` of the first query stay known) and the
combined queries in ``Query.combined_queries``. Only what SQL can apply to the
whole result is allowed afterwards, as in Django: slicing, ``order_by()`` by
selected columns, ``values()``/``values_list()``, ``count()``, ``exists()``,
``get()`` without filters and iteration. ``QuerySet`` refuses the rest with
``NotSupportedError``.

This module decides *what* the combined statement selects and orders by; the
compiler (``orm.sql.compiler``) renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from orm.abc import Compiler, Connection
from orm.exceptions import DatabaseError, FieldError, NotSupportedError
from orm.query import select as select_mod
from orm.query.expressions import Col, Expression, F, OrderBy, Ref
from orm.sql.klass_info import KlassInfo

if TYPE_CHECKING:
    from orm import fields as f
    from orm.query.builders import BaseQuerySet
    from orm.query.query import Query
    from orm.query.queryset import QuerySet

# Django's wording, so code that matches on it keeps working.
ORDER_NOT_SELECTED = "ORDER BY term does not match any column in the result set."
HIDDEN_PREFIX = "__orderbycol"


class Position(Expression):
    """A column of a compound statement by its 1-based position (``ORDER BY 2``)."""

    def __init__(self, position: int) -> None:
        super().__init__()
        self.position = position

    def as_sql(self, compiler: Compiler, connection: Connection) -> tuple[str, list[Any]]:
        return str(self.position), []


@dataclass
class CombinedPlan:
    """What the compiler needs to render a combined query.

    ``parts`` are the combined queries ready to compile (the combination's
    ``values()`` applied, hidden ordering columns appended); ``select``,
    ``klass_info`` and ``annotation_col_map`` describe the visible columns
    (those of the first query); ``hidden`` is how many columns follow them
    only so that ORDER BY can refer to them.
    """

    parts: list[Any]
    order: list[OrderBy]
    select: list[tuple[Any, str | None]]
    klass_info: KlassInfo | None
    annotation_col_map: dict[str, int]
    hidden: int


_QS = TypeVar("_QS", bound="BaseQuerySet[Any]")

# -- building ------------------------------------------------------------------------------


def combine(queryset: _QS, combinator: str, others: Sequence[object], all: bool = False) -> _QS:
    """``queryset.<combinator>(*others)`` with Django's handling of empty QuerySets.

    ``union()`` leaves out ``none()`` QuerySets (one that remains is returned
    as it is), ``intersection()`` with a ``none()`` QuerySet is that empty
    QuerySet, and ``difference()`` from an empty QuerySet is empty.
    """
    from orm.query.queryset import QuerySet

    members: list[QuerySet[Any]] = []
    for other in others:
        if not isinstance(other, QuerySet):
            raise TypeError(f"{combinator}() takes QuerySets, got {type(other).__name__}.")
        members.append(other)
    # An other QuerySet that stands in for this one has the same model (as Django).
    if combinator == "union":
        if is_empty(queryset):
            rest = [qs for qs in members if not is_empty(qs)]
            if len(rest) <= 1:
                return cast(_QS, rest[0]._chain()) if rest else queryset._chain()
            queryset, members = cast(_QS, rest[0]), rest[1:]
        elif not members:
            return queryset._chain()
    elif is_empty(queryset):
        return queryset._chain()
    elif combinator == "intersection":
        for other in members:
            if is_empty(other):
                return cast(_QS, other._chain())
    clone = queryset._chain()
    clone.query = combined_query(queryset.query, [qs.query for qs in members], combinator, all)
    return clone


def is_empty(queryset: BaseQuerySet[Any]) -> bool:
    """Whether the QuerySet is ``none()`` (or an empty slice): Django's ``EmptyQuerySet``."""
    query = queryset._query
    return query is not None and bool(query.is_empty_query)


def combined_query(first: Any, others: Sequence[Any], combinator: str, all: bool) -> Any:
    """The ``Query`` of ``first`` combined with ``others``."""
    query = first.clone()
    # Ordering and limits apply to the combination only if given after it.
    query.clear_ordering(force=True)
    query.clear_limits()
    members = []
    for member in (first, *others):
        member = member.clone()
        if not member.is_sliced:  # a slice needs its ordering to pick its rows
            member.clear_ordering()
        members.append(member)
    query.combined_queries = tuple(members)
    query.combinator = combinator
    query.combinator_all = all
    return query


def check_values(query: Query, names: Sequence[str]) -> None:
    """Refuse ``values(*names)`` on a combination whose first query selects other columns.

    A combined query that has its own ``values()`` keeps its columns, and the
    combination's names label them by position; naming other columns would
    put one column's values under another's name.
    """
    own = query.combined_queries[0].values_select
    if own and tuple(names) != tuple(own):
        raise FieldError(
            f"Cannot select {tuple(names)!r} after {query.combinator}(): its first QuerySet "
            f"selects {tuple(own)!r} with values()/values_list(). Name those columns, in "
            "that order, or call values() on each QuerySet before combining them."
        )


# -- planning the statement --------------------------------------------------------------


def plan(query: Query) -> CombinedPlan:
    """The parts, visible columns and ORDER BY positions of a combined query."""
    parts = [_with_values(query, member) for member in query.combined_queries]
    select, klass_info, annotation_col_map = describe(parts[0])
    order: list[OrderBy] = []
    hidden: list[Any] = []
    for term in query.order_by:
        descending, nulls_first, nulls_last, ref = _split_term(term)
        position = _position(query, select, ref)
        if position is None:
            hidden.append(ref)
            position = len(select) + len(hidden)
        order_by = OrderBy(Position(position), descending, nulls_first, nulls_last)
        order.append(order_by if query.standard_ordering else order_by.reverse_ordering())
    if hidden:
        if any(member.values_select or member.combinator for member in query.combined_queries):
            # Each query chose its own columns; adding one would change what it selects.
            raise DatabaseError(ORDER_NOT_SELECTED)
        parts = [_with_hidden(part, hidden, len(select)) for part in parts]
    return CombinedPlan(parts, order, select, klass_info, annotation_col_map, len(hidden))


def describe(query: Query) -> tuple[list[tuple[Any, str | None]], KlassInfo | None, dict[str, int]]:
    """The select list of a query as a combination sees it (the first query's, if combined)."""
    if query.combinator:
        return describe(_with_values(query, query.combined_queries[0]))
    return select_mod.get_select(query.clone())


def _with_values(query: Query, member: Any) -> Any:
    # The combination's values() applies to every query without values() of its own.
    if query.values_select and not member.values_select:
        member = member.clone()
        member.set_values(query.values_select)
    return _in_values_order(member)


def _in_values_order(member: Any) -> Any:
    """``member`` selecting its ``values()`` columns in the order they were named.

    A query selects fields before annotations and ``values_list()`` puts
    them back in order in Python; combined queries are matched column by
    column in SQL, so there the order must be the named one.
    """
    names = member.values_select
    if member.combinator or not any(name in member.annotation_select for name in names):
        return member
    member = member.clone()
    fields = dict(member.select)
    member.select = tuple((name, fields.get(name, member.annotations.get(name))) for name in names)
    member.annotation_select_mask = set()
    return member


def _split_term(term: Any) -> tuple[bool, bool | None, bool | None, Any]:
    """(descending, nulls_first, nulls_last, name or expression) of an ordering term."""
    if isinstance(term, str):
        if term == "?":
            raise NotSupportedError("Random ordering ('?') of combined queries is not supported.")
        return term.startswith("-"), None, None, term.lstrip("-")
    if isinstance(term, OrderBy):
        inner = term.expression
        ref = inner.name if type(inner) is F else inner
        return term.descending, term.nulls_first, term.nulls_last, ref
    return False, None, None, term.name if type(term) is F else term


def _position(query: Query, select: list[tuple[Any, str | None]], ref: Any) -> int | None:
    """1-based position of the selected column ``ref`` names, or None if it is not selected."""
    if not isinstance(ref, str):
        return None
    for position, (_expr, alias) in enumerate(select, start=1):
        if alias == ref:
            return position
    head, *transforms = ref.split("__")
    opts = query.model._meta
    field = opts.pk if head == "pk" else opts.get_field_or_none(head)
    if transforms:
        if head in query.annotations or any(alias == head for _expr, alias in select):
            raise NotImplementedError("Ordering combined queries by transforms is not implemented.")
        if field is not None and not field.is_relation:
            raise FieldError(
                f"Cannot resolve keyword {transforms[0]!r} into field. Join on {head!r} not permitted."
            )
        return None
    return None if field is None else _field_position(select, field)


def _field_position(select: list[tuple[Any, str | None]], field: f.Field) -> int | None:
    # The first match is the model's own column: select_related columns follow it.
    for position, (expr, alias) in enumerate(select, start=1):
        if (
            isinstance(expr, Col)
            and expr.target is field
            and alias in (None, field.name, field.attname)
        ):
            return position
    return None


def output_position(query: Query, select: list[tuple[Any, str | None]], expr: Any) -> int | None:
    """1-based position of a resolved column (``Col``) or annotation (``Ref``) in ``select``."""
    if isinstance(expr, Ref):
        return next(
            (pos for pos, (_e, alias) in enumerate(select, start=1) if alias == expr.refs), None
        )
    if expr.alias is not None and expr.alias != query.get_initial_alias():
        return None  # a column of a joined table, not one the combination returns
    return _field_position(select, expr.target)


def _with_hidden(part: Any, hidden: list[Any], visible: int) -> Any:
    """``part`` selecting the hidden ordering columns after its own (as Django's ``__orderbycol``)."""
    part = part.clone()
    for offset, ref in enumerate(hidden, start=1):
        if isinstance(ref, str) and ref in part.annotations:
            expr = part.annotations[ref]
        elif isinstance(ref, str):
            # Joined like any ordering (LEFT OUTER when nullable): it must not remove rows.
            _field, target, alias, rest, _ = part.setup_joins(ref.split("__"), nullable=True)
            expr = part.apply_transforms(Col(alias, target), rest, ref)
        else:
            expr = ref.resolve_expression(part, allow_joins=True)
        # Annotations come last in the select list, so these follow the visible columns.
        name = f"{HIDDEN_PREFIX}{visible + offset}"
        part.annotations[name] = expr
        if part.annotation_select_mask is not None:
            part.annotation_select_mask.add(name)
    return part


def exists_query(query: Query) -> Query:
    """``query`` (combined) reduced for ``exists()``: at most one row, no ordering."""
    q = query.clone()
    if q.is_sliced:
        return q  # the slice (with its ordering) decides which rows count
    q.set_limits(0, 1)
    q.clear_ordering()
    if q.combinator == "union" and not any(
        m.combinator or (m.distinct and m.is_sliced) for m in q.combined_queries
    ):
        # The union has a row iff some query has one: each may stop at its
        # first row and select a constant instead of its columns.
        q.combined_queries = tuple(m.exists_query() for m in q.combined_queries)
        q.values_select = ()
    return q


def resolve_outer_refs(query: Query, outer: Any) -> None:
    """Resolve ``OuterRef`` in every combined query (they are compiled as subqueries too)."""
    members = []
    for member in query.combined_queries:
        member = member.clone()
        member.resolve_outer_refs(outer)
        members.append(member)
    query.combined_queries = tuple(members)


__all__ = [
    "CombinedPlan",
    "Position",
    "check_values",
    "combine",
    "combined_query",
    "exists_query",
    "output_position",
    "plan",
    "resolve_outer_refs",
]
