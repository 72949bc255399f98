"""Django's system checks for common model mistakes, run when a model class is created.

Django reports these through ``manage.py check``; a standalone ORM has no
such step, so the mistakes are refused at class creation, with Django's
check id, message and hint, as ``orm.ImproperlyConfigured``. A model that
passes is the model Django would accept.
"""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any

from orm.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from orm.fields.related import ForeignObjectRel
    from orm.models.base import Model


def _refuse(check_id: str, message: str, hint: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{check_id}: {message} HINT: {hint}")


def check_fields(cls: Any, declared: dict[str, Any]) -> None:
    """Field names and columns of a model being created (before anything is installed).

    ``declared`` are the fields of the class body and its abstract parents.
    """
    label = f"{cls._meta.app_label}.{cls.__name__}"
    for name, field in declared.items():
        where = f"{label}.{name}"
        if name.endswith("_"):
            raise _refuse(
                "fields.E001",
                f"Field names must not end with an underscore ({where}).",
                f"Rename the field, e.g. to {name.rstrip('_')!r}.",
            )
        if "__" in name:
            raise _refuse(
                "fields.E002",
                f'Field names must not contain "__" ({where}).',
                "Rename the field: '__' separates lookups in queries.",
            )
        if name == "pk":
            raise _refuse(
                "fields.E003",
                f"'pk' is a reserved word that cannot be used as a field name ({where}).",
                "Rename the field; 'pk' always means the primary key.",
            )
        related_name = getattr(getattr(field, "remote_field", None), "related_name", None)
        if (
            related_name
            and not related_name.endswith("+")
            and (not related_name.isidentifier() or keyword.iskeyword(related_name))
        ):
            raise _refuse(
                "fields.E306",
                f"The name '{related_name}' is invalid related_name for field {where}.",
                "Related name must be a valid Python identifier or end with a '+'.",
            )
    if (
        "id" in declared
        and not declared["id"].primary_key
        and not any(f.primary_key for f in declared.values())
    ):
        raise _refuse(
            "models.E004",
            f"'id' can only be used as a field name if the field also sets 'primary_key=True' "
            f"({label}).",
            "Add primary_key=True to it, rename it, or declare another primary key.",
        )


def check_key_annotations(cls: Any) -> None:
    """A bare ``<name>_id`` annotation must be a foreign key's column attribute.

    A type checker cannot see the ``author_id`` attribute the metaclass adds
    for ``author = ForeignKey(...)``, so a model declares it (``author_id:
    int``) to have it typed; a misspelt or stale one would type an attribute
    that does not exist, so it is refused here. Annotations of the class and
    of its abstract parents are checked; other annotations are left alone.
    """
    forward = cls._meta._forward
    keys = {f.attname for f in forward.values() if f.many_to_one or f.one_to_one}
    for klass in cls.__mro__:
        own = vars(klass)
        for name, annotation in own.get("__annotations__", {}).items():
            # A field named like a key (``external_id = CharField()``) is a field, not a key.
            if not name.endswith("_id") or name in own or name in keys or name in forward:
                continue
            if "ClassVar" in str(annotation):
                continue
            known = ", ".join(sorted(keys)) or "none"
            raise _refuse(
                "orm.E001",
                f"{cls._meta.label}.{name} is annotated, but no ForeignKey or OneToOneField of "
                f"{cls.__name__} stores its key in '{name}' (its key attributes: {known}).",
                f"Annotate the key attribute of a relation ('{name.removesuffix('_id')}_id' for "
                f"{name.removesuffix('_id')} = orm.ForeignKey(...)), or remove the annotation.",
            )


def check_columns(cls: Any) -> None:
    """Two concrete fields of one model may not share a column (models.E007).

    Not in a registry of historical models (see :func:`check_reverse_relation`):
    migrations render what the files say, as Django checks only real models.
    """
    if not cls._meta.apps.check_conflicts:
        return
    seen: dict[str, str] = {}
    # Only this table's columns: a parent's live in the parent's table.
    for field in cls._meta.local_concrete_fields:
        column = field.column
        if column in seen:
            raise _refuse(
                "models.E007",
                f"Field '{field.name}' of {cls._meta.label} has column name '{column}' that is used by "
                f"another field ('{seen[column]}').",
                "Specify a 'db_column' for the field.",
            )
        seen[column] = field.name


def _same_field(rel: ForeignObjectRel, other: ForeignObjectRel) -> bool:
    # The same field of a model class defined again (a test, a reloaded
    # module): its stale relation is replaced, not a clash.
    return bool(
        rel.field.name == other.field.name
        and rel.field.model._meta.label == other.field.model._meta.label
    )


def check_reverse_relation(target: type[Model], rel: ForeignObjectRel) -> None:
    """Before ``rel`` is added to ``target``: its accessor and query name must be free.

    Django's fields.E302-E305. Only in registries that refuse conflicting
    models (the global one): a registry of historical models re-renders and
    relinks classes, and Django checks only real models too.
    """
    if not target._meta.apps.check_conflicts or (rel.is_hidden() and not rel.many_to_many):
        return
    field = rel.field
    field_name = f"{field.model._meta.label}.{field.name}"
    accessor = None if rel.is_hidden() else rel.get_accessor_name()
    query_name = rel.get_query_name()
    hint = f"Rename field '{{}}', or add/change a related_name argument to the definition for field '{field_name}'."
    for clash in [*target._meta.local_fields, *target._meta.local_many_to_many]:
        clash_name = f"{target._meta.label}.{clash.name}"
        if accessor is not None and clash.name == accessor:
            raise _refuse(
                "fields.E302",
                f"Reverse accessor '{target.__name__}.{accessor}' for '{field_name}' "
                f"clashes with field name '{clash_name}'.",
                hint.format(clash_name),
            )
        if clash.name == query_name:
            raise _refuse(
                "fields.E303",
                f"Reverse query name for '{field_name}' clashes with field name '{clash_name}'.",
                hint.format(clash_name),
            )
    for other in target._meta.related_objects:
        if (
            other is rel
            or _same_field(rel, other)
            or (other.is_hidden() and not other.many_to_many)
        ):
            continue
        other_name = f"{other.field.model._meta.label}.{other.field.name}"
        both = f"Add or change a related_name argument to the definition for '{field_name}' or '{other_name}'."
        if accessor is not None and not other.is_hidden() and other.get_accessor_name() == accessor:
            raise _refuse(
                "fields.E304",
                f"Reverse accessor '{target.__name__}.{accessor}' for '{field_name}' "
                f"clashes with reverse accessor for '{other_name}'.",
                both,
            )
        if other.get_query_name() == query_name:
            raise _refuse(
                "fields.E305",
                f"Reverse query name for '{field_name}' clashes with reverse query "
                f"name for '{other_name}'.",
                both,
            )
