"""``qs1 | qs2``, ``qs1 & qs2`` and ``qs1 ^ qs2``: one query whose WHERE joins both trees.

As Django's ``Query.combine``: the right-hand query's joins are added to the
left-hand one (an OR reuses an identical join, an AND adds its own, since
``books__a=1 & books__b=2`` may match two different books), its WHERE tree
is relabeled to the aliases it got and connected to the left-hand tree.
Under OR and XOR a join that only one side needs becomes LEFT OUTER, so it
cannot remove the rows the other side matches.

The result is a clone of the left-hand QuerySet, so it keeps its database
alias, ordering, ``select_related`` and result kind. Two shapes cannot be
merged that way and become ``pk IN (...) <op> pk IN (...)`` on the left-hand
alias instead: a side whose WHERE or annotations aggregate (the condition
belongs to HAVING, per group), and a right-hand tree holding a subquery when
its aliases must be renamed (a subquery may refer to the outer aliases).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from orm.query.combinators import is_empty
from orm.query.expressions import Col
from orm.query.joins import INNER, LOUTER, Join
from orm.query.q import Q
from orm.query.where import WhereNode

if TYPE_CHECKING:
    from orm.query.builders import BaseQuerySet
    from orm.query.query import Query

AND, OR, XOR = "AND", "OR", "XOR"
_QS = TypeVar("_QS", bound="BaseQuerySet[Any]")


def merge(queryset: _QS, other: object, connector: str, symbol: str) -> _QS:
    """``queryset <symbol> other`` as one QuerySet on ``queryset``'s database."""
    from orm.query.queryset import QuerySet

    if not isinstance(other, QuerySet):
        raise TypeError(f"Cannot use {symbol} with {type(other).__name__}: both operands must be QuerySets.")
    queryset._check_operator_queryset(other, symbol)
    _check_same_values(queryset, other)
    empty, other_empty = is_empty(queryset), is_empty(other)
    if empty or other_empty:
        # As Django: AND with an empty QuerySet is empty, OR/XOR is the other one.
        # The other QuerySet (of the same model, checked above) stands in for this one.
        if connector == AND:
            return queryset._chain() if empty else cast(_QS, other._chain())
        return cast(_QS, other._chain()) if empty else queryset._chain()
    check_combinable(queryset.query, other.query)
    if connector == AND and queryset.query.is_sliced:
        raise TypeError("Cannot combine queries once a slice has been taken.")
    combined = queryset._chain()
    if not try_combine(combined.query, other.query, connector):
        combined = type(queryset)(queryset.model, using=queryset._db)
        combined.query.add_q(semijoin(queryset.query, other.query, connector))
    combined._known_related_objects = queryset._known_related_objects + tuple(
        item for item in other._known_related_objects if item not in queryset._known_related_objects)
    return combined


def _check_same_values(queryset: BaseQuerySet[Any], other: Any) -> None:
    if queryset._fields is not None and (
        set(queryset.query.values_select) != set(other.query.values_select)
        or set(queryset.query.annotation_select) != set(other.query.annotation_select)
    ):
        raise TypeError(f"Merging '{type(queryset).__name__}' classes must involve the same values in each case.")


def check_combinable(lhs: Query, rhs: Query) -> None:
    """Refuse two queries that cannot become one WHERE tree (Django's errors)."""
    if lhs.model is not rhs.model:
        raise TypeError("Cannot combine queries on two different base models.")
    if lhs.distinct != rhs.distinct:
        raise TypeError("Cannot combine a unique query with a non-unique query.")
    if lhs.distinct_fields != rhs.distinct_fields:
        raise TypeError("Cannot combine queries with different distinct fields.")


def mergeable(lhs: Query, rhs: Query) -> bool:
    """Whether ``rhs`` can be merged into ``lhs`` as a WHERE tree (else: pk IN semijoins)."""
    for query in (lhs, rhs):
        if query.is_sliced or query.group_by is not None or query.where.contains_aggregates():
            return False
        if any(getattr(a, "contains_aggregate", False) for a in query.annotations.values()):
            return False
    # A filtered relation's ON condition would need relabeling with its join.
    return not any(getattr(join, "filtered_relation", None) for join in rhs.alias_map.values())


def semijoin(lhs: Query, rhs: Query, connector: str) -> Q:
    """``pk IN (lhs) <connector> pk IN (rhs)``: for queries whose trees cannot be merged."""
    left, right = _pk_query(lhs), _pk_query(rhs)
    left_q, right_q = Q(pk__in=left), Q(pk__in=right)
    if connector == AND:
        return left_q & right_q
    return left_q | right_q if connector == OR else left_q ^ right_q


def _pk_query(query: Query) -> Any:
    from orm.query.query import _QueryValue

    inner = query.clone()
    inner.select_related = False
    inner.annotation_select_mask = set()
    inner.set_values(["pk"])
    if not inner.is_sliced:
        inner.clear_ordering()
    return _QueryValue(inner)


def combine(lhs: Query, rhs: Query, connector: str) -> None:
    """Merge ``rhs``'s joins and WHERE tree into ``lhs`` (changed in place; ``rhs`` is not)."""
    base = lhs.get_initial_alias()
    reuse = connector != AND
    change_map: dict[str, str] = {}
    rhs_inner: set[str] = set()
    used: set[str] = set()
    call_offset = lhs.filter_calls
    rhs_aliases = list(rhs.alias_map)  # empty while rhs has neither a join nor a column
    if rhs_aliases:
        change_map[rhs_aliases[0]] = base
    for alias in rhs_aliases[1:]:
        step = rhs.alias_map[alias]
        if not isinstance(step, Join):  # only the first alias is a base table
            raise _Unmergeable
        join = step.relabeled(change_map)
        new_alias = _find_join(lhs, join, used) if reuse else None
        if new_alias is None:
            new_alias = _add_join(lhs, join, call_offset, step.filter_call)
        used.add(new_alias)
        if join.join_type == INNER:
            rhs_inner.add(new_alias)
        change_map[alias] = new_alias
    lhs.filter_calls += rhs.filter_calls
    if connector != AND:
        _promote(lhs, rhs_inner)
    renamed = {old: new for old, new in change_map.items() if old != new}
    where = rhs.where.clone()
    if renamed:
        if _has_subquery(where):
            raise _Unmergeable
        where = _relabeled(where, renamed)
    lhs.where = WhereNode([lhs.where, where], connector)
    if rhs.order_by:
        lhs.order_by = rhs.order_by  # the right-hand ordering wins, as in Django


class _Unmergeable(Exception):
    """Raised before anything is changed when the right-hand tree needs renaming it cannot get."""


def try_combine(lhs: Query, rhs: Query, connector: str) -> bool:
    """``combine()`` on a clone of ``lhs``'s state; False (``lhs`` unchanged) when it cannot."""
    if not mergeable(lhs, rhs):
        return False
    work = lhs.clone()
    try:
        combine(work, rhs, connector)
    except _Unmergeable:
        return False
    lhs.__dict__.update(work.__dict__)
    return True


def _find_join(query: Query, join: Join, used: set[str]) -> str | None:
    identity = join.identity()
    for alias, existing in query.alias_map.items():
        if alias not in used and isinstance(existing, Join) and existing.identity() == identity:
            return alias
    return None


def _add_join(query: Query, join: Join, call_offset: int, filter_call: int | None) -> str:
    alias = join.table_name if join.table_name not in query.alias_map else None
    number = len(query.alias_map) + 1
    while alias is None or alias in query.alias_map:
        alias, number = f"T{number}", number + 1
    new = Join(join.table_name, join.parent_alias, alias, join.join_type,
               join.lhs_col, join.rhs_col, join.nullable)
    # The right-hand filter() calls are numbered after the left-hand ones, so a
    # later filter() never mistakes one of them for its own multi-valued join.
    new.filter_call = None if filter_call is None else filter_call + call_offset
    query.alias_map[alias] = new
    return alias


def _promote(query: Query, rhs_inner: set[str]) -> None:
    # A join stays INNER only when both sides require it (Django's JoinPromoter
    # for OR); the others, and every join under a LEFT OUTER one, become LEFT OUTER.
    lhs_inner = {a for a, j in query.alias_map.items() if isinstance(j, Join) and j.join_type == INNER}
    outer: set[str] = set()
    for alias, join in list(query.alias_map.items()):
        if not isinstance(join, Join):
            continue
        required = alias in lhs_inner and alias in rhs_inner
        if join.join_type == INNER and (not required or join.parent_alias in outer):
            query.alias_map[alias] = join = join.promoted()
        if join.join_type == LOUTER:
            outer.add(alias)


def _has_subquery(node: WhereNode) -> bool:
    for child in node.flatten():
        if hasattr(child, "query") or hasattr(getattr(child, "rhs", None), "query"):
            return True
    return False


def _relabeled(node: Any, change_map: dict[str, str]) -> Any:
    """A copy of ``node`` with every column's table alias renamed by ``change_map``."""
    if isinstance(node, Col):
        return node.relabeled_clone(change_map)
    if not hasattr(node, "get_source_expressions"):
        return node
    sources = node.get_source_expressions()
    if not sources:
        return node
    clone = node.copy()
    clone.set_source_expressions([_relabeled(source, change_map) for source in sources])
    return clone


__all__ = ["check_combinable", "combine", "merge", "mergeable", "semijoin", "try_combine"]
