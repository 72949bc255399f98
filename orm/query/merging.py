"""``qs1 | qs2``, ``qs1 & qs2`` and ``qs1 ^ qs2``: one query whose WHERE joins both trees.

As Django's ``Query.combine``: the right-hand query's joins are added to the
left-hand one (an OR reuses an identical join, an AND adds its own, since
``books__a=1 & books__b=2`` may match two different books), its WHERE tree
is relabeled to the aliases it got and connected to the left-hand tree.
Under OR and XOR a join that only one side needs becomes LEFT OUTER, so it
cannot remove the rows the other side matches. A ``FilteredRelation`` join
comes along with its condition relabeled, and keeps its one join per name.

The result is a clone of the left-hand QuerySet, so it keeps its database
alias, ordering, ``select_related`` and result kind. Two shapes cannot be
merged that way and become ``pk IN (...) <op> pk IN (...)`` on the left-hand
alias instead: a side whose WHERE or annotations aggregate (the condition
belongs to HAVING, per group), and a right-hand tree holding a subquery when
its aliases must be renamed (a subquery may refer to the outer aliases), and
a right-hand ``FilteredRelation`` whose name means something else on the left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from orm.query.combinators import is_empty
from orm.query.joins import INNER, LOUTER, Join, relabeled_node
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
        raise TypeError(
            f"Cannot use {symbol} with {type(other).__name__}: both operands must be QuerySets."
        )
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
        item for item in other._known_related_objects if item not in queryset._known_related_objects
    )
    return combined


def _check_same_values(queryset: BaseQuerySet[Any], other: Any) -> None:
    if queryset._fields is not None and (
        set(queryset.query.values_select) != set(other.query.values_select)
        or set(queryset.query.annotation_select) != set(other.query.annotation_select)
    ):
        raise TypeError(
            f"Merging '{type(queryset).__name__}' classes must involve the same values in each case."
        )


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
    return not _conflicting_filtered_relations(lhs, rhs)


def _conflicting_filtered_relations(lhs: Query, rhs: Query) -> bool:
    # One name must mean one relation and condition in the merged query: a
    # right-hand FilteredRelation whose name the left-hand side uses for
    # something else cannot join under that name (Django builds broken SQL).
    for name, relation in rhs.filtered_relations.items():
        if name in lhs.annotations:
            return True
        if name in lhs.filtered_relations and lhs.filtered_relations[name] != relation:
            return True
    return False


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
    # Taken before the right-hand joins arrive: a join only the right-hand
    # side requires is not required by the left-hand one.
    lhs_inner = {
        a for a, j in lhs.alias_map.items() if isinstance(j, Join) and j.join_type == INNER
    }
    used: set[str] = set()
    call_offset = lhs.filter_calls
    rhs_aliases = list(rhs.alias_map)  # empty while rhs has neither a join nor a column
    if rhs_aliases:
        change_map[rhs_aliases[0]] = base
    for alias in rhs_aliases[1:]:
        source = rhs.alias_map[alias]
        if not isinstance(source, Join):  # only the first alias is a base table
            raise _Unmergeable
        join = source.relabeled(change_map)
        # A FilteredRelation has one join per query, whatever the connector
        # (as filter().filter() through its name reuses it).
        found = reuse or join.filtered_relation is not None
        new_alias = _find_join(lhs, join, used) if found else None
        if new_alias is None:
            new_alias = _add_join(lhs, source, change_map, call_offset)
        used.add(new_alias)
        if join.join_type == INNER:
            rhs_inner.add(new_alias)
        change_map[alias] = new_alias
    lhs.filter_calls += rhs.filter_calls
    lhs.filtered_relations = {**rhs.filtered_relations, **lhs.filtered_relations}
    if connector != AND:
        _promote(lhs, lhs_inner, rhs_inner)
    renamed = {old: new for old, new in change_map.items() if old != new}
    where = rhs.where.clone()
    if renamed:
        if _has_subquery(where):
            raise _Unmergeable
        where = relabeled_node(where, renamed)
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


def _add_join(query: Query, source: Join, change_map: dict[str, str], call_offset: int) -> str:
    """Add right-hand join ``source`` to ``query`` under a free alias; return that alias."""
    # A FilteredRelation's join keeps its name as alias when it is free.
    name = source.filtered_relation or source.table_name
    alias = name if name not in query.alias_map else None
    number = len(query.alias_map) + 1
    while alias is None or alias in query.alias_map:
        alias, number = f"T{number}", number + 1
    # The condition of a FilteredRelation names the join's own alias too.
    new = source.relabeled({**change_map, source.table_alias: alias})
    # The right-hand filter() calls are numbered after the left-hand ones, so a
    # later filter() never mistakes one of them for its own multi-valued join.
    new.filter_call = None if source.filter_call is None else source.filter_call + call_offset
    query.alias_map[alias] = new
    return alias


def _promote(query: Query, lhs_inner: set[str], rhs_inner: set[str]) -> None:
    # A join stays INNER only when both sides require it (Django's JoinPromoter
    # for OR); the others, and every join under a LEFT OUTER one, become LEFT
    # OUTER. A join that can never miss its row (a non-null foreign key, not
    # one made INNER by a filter) stays INNER: it removes no row either way.
    outer: set[str] = set()
    for alias, join in list(query.alias_map.items()):
        if not isinstance(join, Join):
            continue
        always = not (join.nullable or join.demotable)
        required = always or (alias in lhs_inner and alias in rhs_inner)
        if join.join_type == INNER and (not required or join.parent_alias in outer):
            query.alias_map[alias] = join = join.promoted()
        if join.join_type == LOUTER:
            outer.add(alias)


def _has_subquery(node: WhereNode) -> bool:
    for child in node.flatten():
        if hasattr(child, "query") or hasattr(getattr(child, "rhs", None), "query"):
            return True
    return False


__all__ = ["check_combinable", "combine", "merge", "mergeable", "semijoin", "try_combine"]
