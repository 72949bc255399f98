"""``FilteredRelation``: a relation joined with an extra condition in its ON clause.

``Author.objects.annotate(py=FilteredRelation("books", condition=Q(books__title__contains="Py")))``
names a join of ``books`` whose ``ON`` also holds the condition, so
``filter(py__isnull=True)`` means "no matching book" and ``values("py__title")``
lists only matching books, as Django's ``FilteredRelation`` does. The join is made
the first time a path uses the alias; an alias no path uses adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from orm.query.expressions import F
from orm.query.q import Q
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.query.query import Query


class FilteredRelation:
    """Specify custom filtering in the ON clause of a relation's join."""

    def __init__(self, relation_name: str, *, condition: Q = Q()) -> None:  # noqa: B008 - Q() is immutable here
        if not relation_name:
            raise ValueError("relation_name cannot be empty.")
        if not isinstance(relation_name, str):
            raise TypeError(f"relation_name must be a str, got {short_repr(relation_name)}.")
        if not isinstance(condition, Q):
            raise ValueError("condition argument must be a Q() instance.")
        self.relation_name = relation_name
        self.alias: str | None = None
        self.condition = condition

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FilteredRelation):
            return NotImplemented
        return (self.relation_name, self.alias, self.condition) == (
            other.relation_name,
            other.alias,
            other.condition,
        )

    def __hash__(self) -> int:
        return hash((self.relation_name, self.alias))

    def __repr__(self) -> str:
        return f"FilteredRelation({self.relation_name!r}, condition={self.condition!r})"

    def clone(self) -> FilteredRelation:
        """A copy with the same alias."""
        clone = FilteredRelation(self.relation_name, condition=self.condition)
        clone.alias = self.alias
        return clone

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: a FilteredRelation is only valid as an annotate()/alias() value."""
        raise ValueError(
            "FilteredRelation is only valid in QuerySet.annotate() or alias(), "
            "e.g. annotate(name=FilteredRelation('relation', condition=Q(...)))."
        )


def condition_paths(q: Q) -> Iterator[str]:
    """Every field path the condition names: filter keys and ``F()`` names in values."""
    for child in q.children:
        if isinstance(child, Q):
            yield from condition_paths(child)
        elif isinstance(child, tuple):
            yield child[0]
            yield from _expression_paths(child[1])
        else:
            yield from _expression_paths(child)


def _expression_paths(value: Any) -> Iterator[str]:
    if isinstance(value, F):
        yield value.name
    elif isinstance(value, Q):
        yield from condition_paths(value)
    elif hasattr(value, "_iterable_class") or hasattr(value, "query") and hasattr(value, "model"):
        # A QuerySet could carry OuterRef()s that would need repointing to the
        # filtered alias and would open a second join: refuse, as Django does.
        raise ValueError("Passing a QuerySet within a FilteredRelation is not supported.")
    elif hasattr(value, "get_source_expressions"):
        for source in value.get_source_expressions():
            yield from _expression_paths(source)


def rename_prefix(prefix: str, replacement: str, q: Q) -> Q:
    """``q`` with paths starting ``prefix__`` rewritten to start ``replacement__``."""
    clone = Q(_connector=q.connector, _negated=q.negated)
    clone.children = [_renamed(prefix, replacement, child) for child in q.children]
    return clone


def _renamed(prefix: str, replacement: str, child: Any) -> Any:
    if isinstance(child, Q):
        return rename_prefix(prefix, replacement, child)
    if isinstance(child, tuple):
        key, value = child
        if key.startswith(prefix + "__"):
            key = replacement + key[len(prefix) :]
        return key, _renamed(prefix, replacement, value)
    if isinstance(child, F):
        if child.name.startswith(prefix + "__"):
            return F(replacement + child.name[len(prefix) :])
        return child
    if hasattr(child, "get_source_expressions") and hasattr(child, "copy"):
        sources = child.get_source_expressions()
        if sources:
            child = child.copy()
            child.set_source_expressions([_renamed(prefix, replacement, s) for s in sources])
    return child


def check_filtered_relation(
    query: Query, relation: FilteredRelation, alias: str
) -> FilteredRelation:
    """Validate ``relation`` for ``query`` and return it bound to ``alias`` (Django's rules).

    The relation name must be a path of relations only; the condition may name
    fields of the relation (or of the relations on its path) but nothing deeper.
    """
    if "." in alias:
        raise ValueError(f"FilteredRelation doesn't support aliases with periods (got {alias!r}).")
    relation_fields, relation_lookups = query.solve_lookup_type(relation.relation_name)
    if relation_lookups:
        raise ValueError(
            f"FilteredRelation's relation_name cannot contain lookups (got {relation.relation_name!r})."
        )
    for path in condition_paths(relation.condition):
        fields, lookups = query.solve_lookup_type(path)
        shift = 1 if lookups else 2
        for idx, part in enumerate(fields[:-shift]):
            if len(relation_fields) > idx and relation_fields[idx] != part:
                raise ValueError(
                    "FilteredRelation's condition doesn't support relations outside the "
                    f"{relation.relation_name!r} (got {path!r})."
                )
        if len(fields) > len(relation_fields) + 1:
            raise ValueError(
                "FilteredRelation's condition doesn't support nested relations deeper than the "
                f"relation_name (got {path!r} for {relation.relation_name!r})."
            )
    bound = relation.clone()
    bound.alias = alias
    bound.condition = rename_prefix(relation.relation_name, alias, relation.condition)
    return bound


__all__ = ["FilteredRelation", "check_filtered_relation"]
