"""Where a model's columns sit in a compiled SELECT row (the compiler's row layout).

The query layer builds one ``KlassInfo`` per model a row carries (the queried
model, then one per ``select_related`` relation, nested as the relations
are); the compiler keeps it beside the select list it rendered, and the
iterables read it to build instances. It is never changed once the query is
compiled: the compiler shares it between every execution of the same plain
SELECT, so per-query derived data (attribute names, the primary key's
position) is computed here, once, instead of being cached into it later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class KlassInfo:
    """One model's slice ``row[start:end]`` of a SELECT row, and the relations nested in it.

    ``relation`` is the field followed from the parent (a forward foreign key
    or one-to-one, or the reverse one-to-one relation when ``reverse``);
    ``None`` for the queried model itself. ``attr_name`` names the attribute
    a ``FilteredRelation``'s object is set as (its relation's cache stays untouched).
    """

    model: Any
    fields: tuple[Any, ...]
    start: int
    end: int
    related: tuple[KlassInfo, ...] = ()
    relation: Any = None
    reverse: bool = False
    #: Set for a ``FilteredRelation`` alias: the object becomes that attribute of the parent.
    attr_name: str | None = None
    attnames: tuple[str, ...] = field(init=False)
    pk_position: int = field(init=False)

    def __post_init__(self) -> None:
        # Derived once per compiled query, never per row.
        object.__setattr__(self, "attnames", tuple(fld.attname for fld in self.fields))
        pk = self.model._meta.pk
        position = next((i for i, fld in enumerate(self.fields) if fld is pk), -1)
        object.__setattr__(self, "pk_position", position)

    @property
    def is_plain(self) -> bool:
        """Whether a row is exactly this model's columns (no relation follows, none before)."""
        return self.start == 0 and not self.related


__all__ = ["KlassInfo"]
