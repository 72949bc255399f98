"""Wiring a model's relations when its class is created.

``ModelBase`` calls :func:`install_descriptors` once per concrete model: each
local field gets its attribute descriptor, and each relation is resolved
against the model's registry (now, or when its target is registered later),
which installs the reverse accessor on the target and, for a
``ManyToManyField`` without ``through=``, builds the automatic join model.
:func:`relink_relation` is the same last step for migrations, which re-render
historical models as new classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from orm.fields import Field, ForeignKey, ManyToManyField
from orm.fields.related import RECURSIVE_RELATIONSHIP_CONSTANT
from orm.models import checks
from orm.models.deletion import CASCADE
from orm.models.related import (
    DeferredAttribute,
    ForwardManyToOneDescriptor,
    ManyToManyDescriptor,
    ReverseManyToOneDescriptor,
    ReverseOneToOneDescriptor,
)

if TYPE_CHECKING:
    from orm.fields.related import ForeignObjectRel, ManyToManyRel, ManyToOneRel
    from orm.models.base import Model


def install_descriptors(model: type[Model]) -> None:
    """Give ``model`` a descriptor per local field and wire up its relations."""
    opts = model._meta
    for field in opts.local_fields:
        if isinstance(field, ForeignKey):
            setattr(model, field.name, ForwardManyToOneDescriptor(field))
            setattr(model, field.attname, DeferredAttribute(field))
            _relate(model, field)
        else:
            setattr(model, field.attname, DeferredAttribute(field))
    for field in opts.local_many_to_many:
        _relate(model, field)


def _relate(cls: type[Model], field: Field[Any, Any]) -> None:
    """Resolve the target (maybe later) and install the reverse accessor on it.

    Targets are looked up in the registry of ``cls`` (``Meta.apps``), so a
    historical model points at historical models only. A target class of
    another registry stands for the model of the same label in this one, as
    in Django; until that one is registered the relation holds the label.
    """
    rel = field.remote_field
    if rel.model == RECURSIVE_RELATIONSHIP_CONSTANT:
        rel.model = cls
    if rel.through is not None and not _in_registry(rel.through, cls):
        rel.through = rel.through._meta.label

    def resolve(model: type[Model]) -> None:
        rel.model = model
        if field.many_to_many:
            setattr(cls, field.name, ManyToManyDescriptor(rel, reverse=False))
            if rel.through is None:
                rel.through = _auto_through(cls, cast(ManyToManyField, field), model)
                _finish_m2m(model, rel)
            else:
                _when_registered(
                    cls, rel.through, lambda through: _set_through(model, rel, through)
                )
            return
        _install_reverse(model, rel)

    if not _in_registry(rel.model, cls):
        rel.model = rel.model._meta.label
    _when_registered(cls, rel.model, resolve)


def _in_registry(reference: str | type[Model], cls: type[Model]) -> bool:
    """True for a string reference or a model class of the registry of ``cls``."""
    return isinstance(reference, str) or reference._meta.apps is cls._meta.apps


def _when_registered(
    cls: type[Model],
    reference: str | type[Model],
    operation: Callable[[type[Model]], None],
) -> None:
    """Run ``operation(model)`` once ``reference`` names a model of ``cls``'s registry."""
    if not isinstance(reference, str):
        operation(reference)
        return
    apps = cls._meta.apps
    apps.lazy_model_operation(operation, apps.reference_key(reference, cls._meta.app_label))


def _install_reverse(model: type[Model], rel: ManyToOneRel) -> None:
    """Register a foreign key's reverse relation on its target and add the accessor."""
    checks.check_reverse_relation(model, rel)
    model._meta.add_related_object(rel)
    if not rel.is_hidden():
        accessor = rel.get_accessor_name()
        if rel.one_to_one:
            setattr(model, accessor, ReverseOneToOneDescriptor(rel))
        else:
            setattr(model, accessor, ReverseManyToOneDescriptor(rel))


def relink_relation(rel: ForeignObjectRel, target: type[Model]) -> None:
    """Point an already resolved relation at ``target``, another class of the same model.

    Migrations re-render a historical model as a new class; the models that
    point at it and were not re-rendered keep their fields and are relinked
    here instead: the relation's ``model`` becomes ``target``, which gets the
    reverse relation and its accessor. The previous target class is left as
    it was (an older state may still be reading it).
    """
    rel.model = target
    if rel.many_to_many:
        _finish_m2m(target, cast("ManyToManyRel", rel))
    else:
        _install_reverse(target, cast("ManyToOneRel", rel))


def _set_through(model: type[Model], rel: ManyToManyRel, through: type[Model]) -> None:
    rel.through = through
    _finish_m2m(model, rel)


def _finish_m2m(model: type[Model], rel: ManyToManyRel) -> None:
    checks.check_reverse_relation(model, rel)
    model._meta.add_related_object(rel)
    if not rel.is_hidden():
        setattr(model, rel.get_accessor_name(), ManyToManyDescriptor(rel, reverse=True))


def _auto_through(cls: type[Model], field: ManyToManyField, to: type[Model]) -> type[Model]:
    """The automatic join model of a ManyToManyField without ``through=``."""
    from_name = cls._meta.model_name
    to_name = to._meta.model_name
    if from_name == to_name:
        from_name, to_name = f"from_{from_name}", f"to_{to_name}"
    name = f"{cls.__name__}_{field.name}"
    meta = type(
        "Meta",
        (),
        {
            "db_table": field.db_table or f"{cls._meta.db_table}_{field.name}",
            "app_label": cls._meta.app_label,
            "auto_created": True,
            "unique_together": ((from_name, to_name),),
            "apps": cls._meta.apps,
        },
    )
    # Imported here, not at the top: orm.models.base imports this module. This
    # runs once per automatic join model, when its model class is created.
    from orm.models.base import Model, ModelBase

    through: type[Model] = ModelBase(
        name,
        (Model,),
        {
            "Meta": meta,
            "__module__": cls.__module__,
            from_name: ForeignKey(cls, on_delete=CASCADE, related_name=f"{name}+"),
            to_name: ForeignKey(to, on_delete=CASCADE, related_name=f"{name}+"),
        },
    )
    return through
