"""Follow a field rename through a model's options: ``unique_together``, indexes, constraints.

Indexes and constraints name fields in ``fields`` (``"-created"`` for a
descending index) and in ``Q`` conditions (``Q(price__gte=0)``,
``Q(end__gt=F("start"))``). After ``RenameField`` they must name the new
field, or rendering the historical model (and rebuilding its table on
SQLite) would look for a field that no longer exists.
"""

from __future__ import annotations

from typing import Any

from orm.query.expressions import F
from orm.query.q import Q


def _rename_path(path: str, old: str, new: str) -> str:
    """``old__year__gte`` -> ``new__year__gte``; other paths unchanged."""
    head, sep, rest = path.partition("__")
    return f"{new}{sep}{rest}" if head == old else path


def rename_in_q(condition: Any, old: str, new: str) -> Any:
    """A copy of a ``Q`` tree (or ``F``) with references to field ``old`` renamed."""
    if isinstance(condition, F):
        return F(_rename_path(condition.name, old, new))
    if not isinstance(condition, Q):
        return condition
    renamed = Q(_connector=condition.connector, _negated=condition.negated)
    children: list[Any] = []
    for child in condition.children:
        if isinstance(child, tuple) and len(child) == 2 and isinstance(child[0], str):
            children.append((_rename_path(child[0], old, new), rename_in_q(child[1], old, new)))
        else:
            children.append(rename_in_q(child, old, new))
    renamed.children = children
    return renamed


def _rename_in_object(obj: Any, old: str, new: str) -> Any:
    """An index or constraint rebuilt with ``fields`` and ``condition`` renamed."""
    path, args, kwargs = obj.deconstruct()
    changed = False
    if "fields" in kwargs:
        fields = [
            ("-" if name.startswith("-") else "") + (new if name.lstrip("-") == old else name.lstrip("-"))
            for name in kwargs["fields"]
        ]
        changed = fields != list(kwargs["fields"])
        kwargs["fields"] = fields
    if kwargs.get("condition") is not None:
        condition = rename_in_q(kwargs["condition"], old, new)
        changed = changed or condition != kwargs["condition"]
        kwargs["condition"] = condition
    return type(obj)(*args, **kwargs) if changed else obj


def rename_field_in_options(options: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """New options with field ``old`` called ``new`` wherever they name it."""
    updated = dict(options)
    if updated.get("unique_together"):
        updated["unique_together"] = {
            tuple(new if name == old else name for name in group) for group in updated["unique_together"]
        }
    for key in ("indexes", "constraints"):
        updated[key] = [_rename_in_object(item, old, new) for item in updated.get(key, [])]
    return updated
