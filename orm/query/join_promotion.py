"""Join demotion: LEFT OUTER joins that a condition makes INNER (Django's ``JoinPromoter``).

Reverse one-to-one, parent-link and ``FilteredRelation`` joins start LEFT
OUTER (``Join.demotable``). A condition ANDed at the top of the WHERE clause
that reads a column of such a join keeps only the rows that have the joined
row, so joining INNER gives the same rows and lets the database plan better:
``filter(restaurant__x=1)`` keeps only places with a restaurant. A condition
under OR or NOT, or ``isnull=True``, may match without the row, so its joins
stay LEFT OUTER.
"""

from __future__ import annotations

from typing import Any

from orm.query.expressions import Col
from orm.query.joins import LOUTER, BaseTable, Join
from orm.query.lookups import Lookup, Transform
from orm.query.where import WhereNode

__all__ = ["demote_required_joins"]


def demote_required_joins(alias_map: dict[str, BaseTable | Join], node: Any) -> None:
    """Make INNER, in ``alias_map``, the demotable joins that ``node`` (ANDed at the top) requires."""
    if isinstance(node, WhereNode):
        if not node.negated and (node.connector == "AND" or len(node.children) == 1):
            for child in node.children:
                demote_required_joins(alias_map, child)
        return
    if not isinstance(node, Lookup) or (node.lookup_name == "isnull" and node.rhs is True):
        return
    lhs = node.lhs
    while isinstance(lhs, Transform):
        lhs = lhs.lhs
    if isinstance(lhs, Col) and lhs.alias is not None:
        _demote_chain(alias_map, lhs.alias)


def _demote_chain(alias_map: dict[str, BaseTable | Join], alias: str) -> None:
    chain: list[tuple[str, Join]] = []
    step: str | None = alias
    while step is not None:
        link = alias_map.get(step)
        if not isinstance(link, Join):
            break
        chain.append((step, link))
        step = link.parent_alias
    # From the base table down; each step reads its parent after the parent's demotion.
    for step, join in reversed(chain):
        if join.join_type != LOUTER:
            continue
        if not join.demotable or alias_map[join.parent_alias].join_type == LOUTER:
            return  # an outer join above (a nullable foreign key) keeps what follows outer
        # Replace, never mutate: clones share Join objects.
        alias_map[step] = join.demoted()
