"""Relation descriptors: ``book.author``, ``author.books``, ``book.tags`` (managers in ``related_managers``).

Reading a relation that is not loaded runs a query; in async code that would
block the event loop, so it raises ``SynchronousOnlyOperation`` naming the
field and the fix (``select_related``, ``prefetch_related`` or
``await obj.afetch_related(...)``) instead.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from orm.db.connections import DEFAULT_DB_ALIAS
from orm.db.routers import router
from orm.exceptions import ObjectDoesNotExist, SynchronousOnlyOperation
from orm.models.related_managers import ManyRelatedManager, RelatedManager, m2m_sides
from orm.query.expressions import F
from orm.query.prefetch import PrefetchResult, filter_prefetch_queryset
from orm.query.queryset import QuerySet
from orm.utils.asyncio import ALLOW_ENV, in_event_loop_thread
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.fields.related import (
        ForeignKey,
        ManyToManyRel,
        ManyToOneRel,
    )
    from orm.models.base import Model


def _check_lazy_load(instance: Model, name: str) -> None:
    if in_event_loop_thread() and not os.environ.get(ALLOW_ENV):
        model = type(instance).__name__
        raise SynchronousOnlyOperation(
            f"{model}.{name} is not loaded, and loading it now would run a query on the event "
            f"loop. Load it with the query: .select_related({name!r}) or "
            f".prefetch_related({name!r}), or fetch it first with "
            f"`await obj.afetch_related({name!r})`."
        )


def _routed_qs(model: type[Model], instance: Model) -> QuerySet[Any]:
    """The base QuerySet for reading ``model`` related to ``instance`` (Django's ``instance`` hint)."""
    if not router.routers:
        routed: QuerySet[Any] = model._base_manager.using(instance._state.db or "default")
        return routed
    qs: QuerySet[Any] = model._base_manager.all()
    qs._hints = {"instance": instance}
    return qs


def _check_relation(instance: Model, value: Model) -> None:
    """Refuse relating objects of two databases unless a router's ``allow_relation`` allows it."""
    state, other = instance._state, value._state
    if not router.routers:
        # What the router answers without routers, inline (every
        # create(author=a) passes here): a new object takes the other's database.
        if state.db is None:
            state.db = other.db or DEFAULT_DB_ALIAS
        if other.db is None:
            other.db = state.db or DEFAULT_DB_ALIAS
        allowed = state.db == other.db
    else:
        if state.db is None:
            state.db = router.db_for_write(type(instance), instance=value)
        if other.db is None:
            other.db = router.db_for_write(type(value), instance=instance)
        allowed = router.allow_relation(value, instance)
    if not allowed:
        raise ValueError(
            f'Cannot assign "{short_repr(value)}": the current database router prevents this '
            f"relation ({type(value).__name__} is on {value._state.db!r}, "
            f"{type(instance).__name__} on {instance._state.db!r})."
        )


class DeferredAttribute:
    """A concrete field's attribute; loads a deferred (``only``/``defer``) value on access."""

    def __init__(self, field: Field) -> None:
        self.field = field

    def __get__(self, instance: Model | None, owner: type[Model] | None = None) -> Any:
        if instance is None:
            return self
        data = instance.__dict__
        name = self.field.attname
        if name not in data:
            if in_event_loop_thread() and not os.environ.get(ALLOW_ENV):
                raise SynchronousOnlyOperation(
                    f"{type(instance).__name__}.{self.field.name} was deferred (only()/defer()) "
                    "and loading it now would run a query on the event loop. Include it in "
                    f"only(...), or load it first with `await obj.arefresh_from_db(fields="
                    f"[{self.field.name!r}])`."
                )
            instance.refresh_from_db(fields=[name])
        return data[name]


class ForwardManyToOneDescriptor:
    """``book.author``: the related object, cached after the first load."""

    def __init__(self, field: ForeignKey[Any, Any]) -> None:
        self.field = field

    @property
    def cache_name(self) -> str:
        return str(self.field.name)

    def __get__(self, instance: Model | None, owner: type[Model] | None = None) -> Any:
        if instance is None:
            return self
        field = self.field
        value = instance.__dict__.get(field.attname)
        cache = instance._state.fields_cache
        if field.name in cache:
            cached = cache[field.name]
            if cached is None and value is None:
                return None
            if cached is not None and getattr(cached, field.target_field.attname) == value:
                return cached
        if value is None:
            return None
        _check_lazy_load(instance, field.name)
        model = field.remote_field.model
        rel_obj = _routed_qs(model, instance).get(**{field.target_field.attname: value})
        cache[field.name] = rel_obj
        return rel_obj

    def __set__(self, instance: Model, value: Any) -> None:
        field = self.field
        model = field.remote_field.model
        # As Django: a relation to a proxy accepts any instance of the concrete
        # model (the row is the same), and a proxy instance where the concrete one is named.
        if value is not None and not isinstance(value, model._meta.concrete_model):
            raise ValueError(
                f'Cannot assign "{short_repr(value)}": "{type(instance).__name__}.{field.name}" must be a '
                f'"{model.__name__}" instance.'
            )
        if value is not None:
            _check_relation(instance, value)
        vars(instance)[field.attname] = (
            None if value is None else getattr(value, field.target_field.attname)
        )
        instance._state.fields_cache[field.name] = value
        if value is not None and field.one_to_one:
            value._state.fields_cache[field.remote_field.get_accessor_name()] = instance

    def prefetch(
        self, instances: list[Any], queryset: QuerySet[Any] | None = None
    ) -> PrefetchResult:
        """Load the targets of every instance with one query."""
        field = self.field
        target = field.target_field.attname
        values = {inst.__dict__.get(field.attname) for inst in instances} - {None}
        qs = queryset if queryset is not None else field.remote_field.model._base_manager.all()
        groups: dict[Any, list[Any]] = defaultdict(list)
        if values:
            for obj in qs.filter(**{f"{target}__in": list(values)}):
                groups[getattr(obj, target)].append(obj)
        return PrefetchResult(
            groups, lambda inst: inst.__dict__.get(field.attname), True, field.name
        )


class ForwardOneToOneDescriptor(ForwardManyToOneDescriptor):
    """``restaurant.place``."""


class ReverseOneToOneDescriptor:
    """``place.restaurant``: the one object pointing here, or ``RelatedObjectDoesNotExist``."""

    def __init__(self, rel: ManyToOneRel) -> None:
        self.rel = rel
        self.RelatedObjectDoesNotExist = type(
            "RelatedObjectDoesNotExist",
            (rel.related_model.DoesNotExist, AttributeError),
            {"__module__": rel.related_model.__module__},
        )

    def __get__(self, instance: Model | None, owner: type[Model] | None = None) -> Any:
        if instance is None:
            return self
        name = self.rel.get_accessor_name()
        cache = instance._state.fields_cache
        if name in cache:
            rel_obj = cache[name]
        else:
            _check_lazy_load(instance, name)
            field = self.rel.field
            try:
                rel_obj = _routed_qs(self.rel.related_model, instance).get(
                    **{field.name: getattr(instance, field.target_field.attname)}
                )
            except self.rel.related_model.DoesNotExist:
                rel_obj = None
            cache[name] = rel_obj
        if rel_obj is None:
            raise self.RelatedObjectDoesNotExist(f"{type(instance).__name__} has no {name}.")
        return rel_obj

    def __set__(self, instance: Model, value: Any) -> None:
        if value is not None:
            setattr(value, self.rel.field.name, instance)
        instance._state.fields_cache[self.rel.get_accessor_name()] = value

    def prefetch(
        self, instances: list[Any], queryset: QuerySet[Any] | None = None
    ) -> PrefetchResult:
        field = self.rel.field
        target = field.target_field.attname
        qs = queryset if queryset is not None else self.rel.related_model._base_manager.all()
        keys = [getattr(inst, target) for inst in instances]
        groups: dict[Any, list[Any]] = defaultdict(list)
        for obj in qs.filter(**{f"{field.name}__in": keys}):
            groups[obj.__dict__[field.attname]].append(obj)
        return PrefetchResult(
            groups, lambda inst: getattr(inst, target), True, self.rel.get_accessor_name()
        )


class ReverseManyToOneDescriptor:
    """``author.books``: a related manager over the objects pointing here."""

    def __init__(self, rel: ManyToOneRel) -> None:
        self.rel = rel

    def __get__(self, instance: Model | None, owner: type[Model] | None = None) -> Any:
        if instance is None:
            return self
        return RelatedManager(instance, self.rel)

    def __set__(self, instance: Model, value: Any) -> None:
        raise TypeError(
            f"Direct assignment to the reverse side of a related set is prohibited. "
            f"Use {self.rel.get_accessor_name()}.set() instead."
        )

    def prefetch(
        self, instances: list[Any], queryset: QuerySet[Any] | None = None
    ) -> PrefetchResult:
        field = self.rel.field
        target = field.target_field.attname
        qs = queryset if queryset is not None else self.rel.related_model._base_manager.all()
        # A NULL key relates to nothing (not to the objects whose key is NULL).
        by_key = {key: inst for inst in instances if (key := getattr(inst, target)) is not None}
        groups: dict[Any, list[Any]] = defaultdict(list)
        rows = (
            filter_prefetch_queryset(qs, f"{field.name}__in", list(by_key), field.name)
            if by_key
            else ()
        )
        for obj in rows:
            key = obj.__dict__[field.attname]
            groups[key].append(obj)
            obj._state.fields_cache[field.name] = by_key.get(key)
        return PrefetchResult(
            groups, lambda inst: getattr(inst, target), False, self.rel.get_accessor_name()
        )


class ManyToManyDescriptor:
    """``book.tags`` (forward) or ``tag.books`` (reverse): a many-related manager."""

    def __init__(self, rel: ManyToManyRel, reverse: bool) -> None:
        self.rel = rel
        self.reverse = reverse

    @property
    def through(self) -> Any:
        """The join model (``Book.tags.through``)."""
        return self.rel.through

    def __get__(self, instance: Model | None, owner: type[Model] | None = None) -> Any:
        if instance is None:
            return self
        return ManyRelatedManager(instance, self.rel, self.reverse)

    def __set__(self, instance: Model, value: Any) -> None:
        name = self.rel.get_accessor_name() if self.reverse else self.rel.field.name
        raise TypeError(
            f"Direct assignment to the {'reverse' if self.reverse else 'forward'} side of a "
            f"many-to-many set is prohibited. Use {name}.set() instead."
        )

    def prefetch(
        self, instances: list[Any], queryset: QuerySet[Any] | None = None
    ) -> PrefetchResult:
        source_fk, _target_fk, target_model, cache_name = m2m_sides(self.rel, self.reverse)
        source_attr = source_fk.target_field.attname
        keys = [getattr(inst, source_attr) for inst in instances]
        # One query: the targets joined through the link table, each row tagged
        # with the source key it belongs to.
        back = self.rel.field.name if self.reverse else self.rel.get_query_name()
        qs = queryset if queryset is not None else target_model._base_manager.all()
        source = f"{back}__{source_fk.target_field.name}"
        qs = filter_prefetch_queryset(qs, f"{back}__in", keys, source).annotate(
            _prefetch_source=F(source)
        )
        groups: dict[Any, list[Any]] = defaultdict(list)
        for obj in qs:
            groups[obj.__dict__.pop("_prefetch_source")].append(obj)
        return PrefetchResult(groups, lambda inst: getattr(inst, source_attr), False, cache_name)


__all__ = [
    "DeferredAttribute",
    "ForwardManyToOneDescriptor",
    "ManyRelatedManager",
    "ManyToManyDescriptor",
    "ObjectDoesNotExist",
    "RelatedManager",
    "ReverseManyToOneDescriptor",
    "ReverseOneToOneDescriptor",
]
