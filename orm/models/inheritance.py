"""Multi-table inheritance: the parent links of a concrete model subclassing concrete models.

As Django's ``ModelBase.__new__``: each concrete parent gets a
``OneToOneField(parent_link=True)`` on the child, ``<parent>_ptr`` unless the
class declares its own; the first link becomes the primary key when the
child declares none. The child's table holds only its own fields; the
parents' fields stay in the parents' tables and queries join them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm.exceptions import FieldError
from orm.fields import Field, OneToOneField
from orm.models.deletion import CASCADE

if TYPE_CHECKING:
    from orm.models.base import Model
    from orm.models.options import Options


def concrete_parents(parents: list[Any]) -> list[Any]:
    """The concrete models among ``parents`` (a proxy stands for its concrete model)."""
    found: list[Any] = []
    for parent in parents:
        meta = getattr(parent, "_meta", None)
        if meta is None or meta.abstract:
            continue
        if meta.concrete_model not in found:
            found.append(meta.concrete_model)
    return found


def _declared_link(field: Field, parent: type[Model]) -> bool:
    """Whether ``field`` is a ``parent_link=True`` one-to-one declared towards ``parent``."""
    if not isinstance(field, OneToOneField) or not field.remote_field.parent_link:
        return False
    target = field.remote_field.model
    if isinstance(target, str):
        label = target.split(".")[-1].lower()
        return bool(label == parent._meta.model_name)
    return bool(target._meta.concrete_model is parent)


def check_clashes(name: str, parents: list[Any], fields: dict[str, Field]) -> None:
    """Refuse a field declared again under a name a concrete parent already uses (as Django)."""
    for parent in parents:
        for field_name in fields:
            inherited = parent._meta.get_field_or_none(field_name)
            if inherited is not None and getattr(inherited, "concrete", False):
                raise FieldError(
                    f"Local field {field_name!r} in class {name!r} clashes with field of the same name "
                    f"from base class {parent.__name__!r}."
                )


def add_parent_links(
    opts: Options, name: str, parents: list[Any], fields: dict[str, Field]
) -> dict[str, Field]:
    """Fill ``opts.parents`` and return ``fields`` with an implicit link for each concrete parent.

    A declared ``OneToOneField(Parent, parent_link=True)`` is used as the
    link; otherwise ``<parent>_ptr`` is added (auto-created, CASCADE). The
    first link is the primary key unless a field declares one.
    """
    check_clashes(name, parents, fields)
    fields = dict(fields)
    for parent in parents:
        link = next((f for f in fields.values() if _declared_link(f, parent)), None)
        if link is None:
            attr_name = f"{parent._meta.model_name}_ptr"
            if attr_name in fields:
                raise FieldError(
                    f"Auto-generated field {attr_name!r} in class {name!r} for parent_link to base class "
                    f"{parent.__name__!r} clashes with declared field of the same name."
                )
            link = OneToOneField(parent, on_delete=CASCADE, auto_created=True, parent_link=True)
            fields[attr_name] = link
        opts.parents[parent] = link
    if not any(f.primary_key for f in fields.values()):
        first = next(iter(opts.parents.values()))
        first.primary_key = True
    return fields


def inherit_meta(opts: Options, meta: type | None, parents: list[Any]) -> None:
    """``ordering`` and ``get_latest_by`` carry over from the first concrete parent unless ``Meta`` sets them."""
    base = parents[0]._meta
    if not opts.ordering and not hasattr(meta, "ordering"):
        opts.ordering = list(base.ordering)
    if opts.get_latest_by is None and not hasattr(meta, "get_latest_by"):
        opts.get_latest_by = base.get_latest_by


def parent_link_values(obj: Model, value: Any) -> None:
    """Set the primary key of every ancestor part of ``obj`` to ``value`` (Django's ``_set_pk_val``)."""
    meta = obj._meta
    for link in meta.parents.values():
        if link is not None and link is not meta.pk:
            setattr(obj, link.target_field.attname, value)


def save_parents(
    obj: Model,
    cls: type[Model],
    using: str,
    update_fields: frozenset[str] | None,
    force_insert: bool,
) -> bool:
    """Save the rows of ``cls``'s concrete parents for ``obj``, farthest first; True if one was inserted.

    As Django's ``Model._save_parents``: the link and the parent's primary
    key are kept in sync both ways, so a child saved with only its link set
    updates the existing parent row.
    """
    inserted = False
    for parent, link in cls._meta.parents.items():
        parent_pk = parent._meta.pk.attname
        if getattr(obj, parent_pk) is None and getattr(obj, link.attname) is not None:
            setattr(obj, parent_pk, getattr(obj, link.attname))
        parent_inserted = save_parents(obj, parent, using, update_fields, force_insert)
        updated = obj._save_table(
            False, force_insert or parent_inserted, False, using, update_fields, parent
        )
        inserted = inserted or not updated
        setattr(obj, link.attname, getattr(obj, parent_pk))
        obj._state.fields_cache.pop(link.name, None)
    return inserted
