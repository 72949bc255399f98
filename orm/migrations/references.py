"""Which model a relation names, and whether a field refers to a model or field.

Fields inside migration states name their targets with strings
(``"shop.author"``, ``"Author"``, ``"self"``); these helpers turn them into
``(app_label, model_name)`` keys, the way Django's ``migrations.utils`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from orm.fields.related import RECURSIVE_RELATIONSHIP_CONSTANT

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.migrations.state import ModelState, ProjectState
    from orm.models.base import Model

ModelKey = tuple[str, str]


def resolve_relation(reference: str | type[Model], app_label: str, model_name: str) -> ModelKey:
    """The ``(app_label, model_name)`` a relation target means, seen from model ``app_label.model_name``.

    ``reference`` is ``"self"``, ``"Model"`` (same app), ``"app.Model"`` or a
    model class. Model names are lower-cased, as everywhere in a state.
    """
    if isinstance(reference, str):
        if reference == RECURSIVE_RELATIONSHIP_CONSTANT:
            return app_label, model_name.lower()
        if "." in reference:
            label, name = reference.split(".", 1)
            return label, name.lower()
        return app_label, reference.lower()
    meta = reference._meta
    return meta.app_label, meta.model_name


class FieldReference(NamedTuple):
    """How a field refers to a model: as its target (``to``), as its join model (``through``)."""

    to: bool
    through: bool


def field_references(
    model_key: ModelKey, field: Field, reference_key: ModelKey, reference_field_name: str | None = None,
) -> FieldReference | None:
    """How ``field`` (on model ``model_key``) refers to model ``reference_key``, or None.

    With ``reference_field_name``, a foreign key counts only when it may point
    at that field: its ``to_field`` is that name, or unset (the target's
    primary key, which may be that field; a false positive only makes the
    optimizer more careful).
    """
    rel = getattr(field, "remote_field", None)
    if rel is None:
        return None
    to = False
    if resolve_relation(rel.model, *model_key) == reference_key:
        to_field = getattr(field, "to_field", None)
        to = reference_field_name is None or to_field is None or to_field == reference_field_name
    through_ref = getattr(rel, "through", None)
    through = through_ref is not None and resolve_relation(through_ref, *model_key) == reference_key
    if to or through:
        return FieldReference(to, through)
    return None


def relation_keys(model_key: ModelKey, fields: Iterable[Field]) -> set[ModelKey]:
    """Every model the relation ``fields`` (an iterable of fields) point at, ``through`` included."""
    keys: set[ModelKey] = set()
    for field in fields:
        rel = getattr(field, "remote_field", None)
        if rel is None:
            continue
        keys.add(resolve_relation(rel.model, *model_key))
        through = getattr(rel, "through", None)
        if through is not None:
            keys.add(resolve_relation(through, *model_key))
    return keys


def get_references(
    state: ProjectState, reference_key: ModelKey, field_name: str | None = None,
) -> Iterator[tuple[ModelState, str, Any, FieldReference]]:
    """Every ``(model_state, name, field, reference)`` of ``state`` that refers to a model (or its field)."""
    for key, model_state in state.models.items():
        for name, field in model_state.fields.items():
            reference = field_references(key, field, reference_key, field_name)
            if reference is not None:
                yield model_state, name, field, reference
