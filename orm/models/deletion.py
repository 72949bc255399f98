"""``on_delete`` behaviours and the collector that applies them.

The collector fetches what depends on the objects being deleted, applies
each relation's rule (cascade, protect, restrict, set null/default, nothing)
and deletes everything inside one atomic block. Foreign keys are created
``DEFERRABLE INITIALLY DEFERRED``, so the order of statements inside the
block does not matter to the database.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from orm.abc import Connection
from orm.db import transaction
from orm.db.connections import connections
from orm.exceptions import ProtectedError, RestrictedError
from orm.signals import ModelSignal, post_delete, pre_delete

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.fields.related import ForeignKey
    from orm.models.base import Model
    from orm.query.queryset import QuerySet


def CASCADE(collector: Collector, field: Field, sub_objs: list[Any]) -> None:  # noqa: N802 - Django's names
    """Delete the objects that point at the deleted ones."""
    collector.collect(sub_objs)


def PROTECT(collector: Collector, field: Field, sub_objs: list[Any]) -> None:  # noqa: N802
    """Refuse the deletion while objects point at the deleted ones."""
    raise ProtectedError(
        f"Cannot delete some instances of model '{field.remote_field.model.__name__}' because they "
        f"are referenced through protected foreign key '{field.model.__name__}.{field.name}'",
        set(sub_objs),
    )


def RESTRICT(collector: Collector, field: Field, sub_objs: list[Any]) -> None:  # noqa: N802
    """Like PROTECT, unless the referencing objects are deleted by a CASCADE too."""
    collector.restricted.append((field, sub_objs))


def SET_NULL(collector: Collector, field: Field, sub_objs: list[Any]) -> None:  # noqa: N802
    """Set the foreign key to NULL (it must be nullable)."""
    collector.field_updates.append((field, None, sub_objs))


def SET_DEFAULT(collector: Collector, field: Field, sub_objs: list[Any]) -> None:  # noqa: N802
    """Set the foreign key to its default."""
    collector.field_updates.append((field, field.get_default(), sub_objs))


def DO_NOTHING(collector: Collector, field: Field, sub_objs: list[Any]) -> None:  # noqa: N802
    """Leave referencing rows alone (the database constraint decides)."""


class Collector:
    """Collects the objects a deletion affects, then deletes them in one transaction."""

    def __init__(self, using: str, origin: Model | QuerySet[Any] | None = None) -> None:
        self.using = using
        #: What the deletion started from (a model instance or a QuerySet),
        #: passed to pre_delete/post_delete receivers as ``origin``.
        self.origin = origin
        self.data: dict[Any, dict[Any, Any]] = defaultdict(dict)
        self.field_updates: list[tuple[Any, Any, list[Any]]] = []
        self.restricted: list[tuple[Any, list[Any]]] = []
        self.fast_deletes: list[Any] = []
        self.seen: set[tuple[Any, Any]] = set()

    def collect(self, objs: list[Any]) -> None:
        """Add ``objs`` and, recursively, whatever their relations' rules pull in."""
        if not objs:
            return
        model = type(objs[0])
        # Keyed by concrete model too: a proxy's row reached again as its
        # concrete model (through a parent link) is the same row.
        concrete = model._meta.concrete_model
        new = [obj for obj in objs if (concrete, obj.pk) not in self.seen]
        for obj in new:
            self.seen.add((concrete, obj.pk))
            self.data[model][obj.pk] = obj
        if not new:
            return
        meta = model._meta
        for parent, link in meta.parents.items():
            # Multi-table inheritance: the parents' rows go too (Django
            # collects them through the parent links), with what points at them.
            self.collect(
                list(
                    parent._base_manager.using(self.using).filter(
                        pk__in=[getattr(obj, link.attname) for obj in new]
                    )
                )
            )
        for rel in meta.related_objects:
            if rel.many_to_many:
                through = rel.through
                source_name, _ = rel.field.m2m_field_names()
                target_fk = [
                    f
                    for f in through._meta.concrete_fields
                    if f.is_relation and f.remote_field.model is model and f.name != source_name
                ]
                fk = target_fk[0] if target_fk else through._meta.get_field(source_name)
                self._add_join_rows(_join_rows(through, fk, new))
                continue
            field = rel.field
            related = rel.related_model
            if field.remote_field.on_delete is DO_NOTHING:
                continue
            sub_objs = list(
                related._base_manager.using(self.using).filter(
                    **{
                        f"{field.attname}__in": [
                            getattr(o, field.target_field.attname) for o in new
                        ]
                    }
                )
            )
            if sub_objs:
                field.remote_field.on_delete(self, field, sub_objs)
        for field in meta.local_many_to_many:
            through = field.remote_field.through
            source_name, _ = field.m2m_field_names()
            fk = through._meta.get_field(source_name)
            self._add_join_rows(_join_rows(through, fk, new))

    def can_fast_delete(self, model: type[Model]) -> bool:
        """Whether rows of ``model`` may go in one DELETE, unloaded: nobody listens to their deletion.

        Automatic join models never send delete signals (as Django), so their
        rows always go this way.
        """
        if model._meta.auto_created:
            return True
        return not (pre_delete.has_listeners(model) or post_delete.has_listeners(model))

    def _add_join_rows(self, rows: QuerySet[Any]) -> None:
        # Rows of a custom through model are loaded and deleted one by one
        # when delete signals have receivers for it, so each is sent.
        if self.can_fast_delete(rows.model):
            self.fast_deletes.append(rows)
        else:
            self.collect(list(rows.using(self.using)))

    def _check_restricted(self) -> None:
        for field, sub_objs in self.restricted:
            remaining = [o for o in sub_objs if o.pk not in self.data.get(type(o), {})]
            if remaining:
                raise RestrictedError(
                    f"Cannot delete some instances of model '{field.remote_field.model.__name__}' "
                    f"because they are referenced through restricted foreign key "
                    f"'{field.model.__name__}.{field.name}'.",
                    set(remaining),
                )

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete everything collected; returns (total, per-model counts)."""
        self._check_restricted()
        counts: dict[str, int] = defaultdict(int)
        connection = connections[self.using]
        with transaction.atomic(using=self.using, savepoint=False):
            # Inside the transaction, as Django: a receiver that raises
            # rolls the whole deletion back.
            self._send(pre_delete)
            for qs in self.fast_deletes:
                count = _delete_query(qs, connection)
                if count:
                    counts[qs.model._meta.label] += count
            for field, value, objs in self.field_updates:
                alive = [o.pk for o in objs if o.pk not in self.data.get(type(o), {})]
                if alive:
                    type(objs[0])._base_manager.using(self.using).filter(pk__in=alive).update(
                        **{field.name: value}
                    )
                for obj in objs:
                    setattr(obj, field.attname, value if not hasattr(value, "pk") else value.pk)
            for model, instances in self.data.items():
                pks = list(instances)
                if not pks:
                    continue
                count = 0
                step = 500
                for start in range(0, len(pks), step):
                    count += _delete_query(
                        model._base_manager.using(self.using).filter(
                            pk__in=pks[start : start + step]
                        ),
                        connection,
                    )
                counts[model._meta.label] += count
                if not model._meta.auto_created and post_delete.receivers:
                    for obj in instances.values():
                        post_delete.send(
                            sender=model, instance=obj, using=self.using, origin=self.origin
                        )
        for instances in self.data.values():
            for obj in instances.values():
                setattr(obj, type(obj)._meta.pk.attname, None)
        return sum(counts.values()), dict(counts)

    def _send(self, signal: ModelSignal) -> None:
        if not signal.receivers:
            return
        for model, instances in self.data.items():
            if model._meta.auto_created:
                continue
            for obj in instances.values():
                signal.send(sender=model, instance=obj, using=self.using, origin=self.origin)


def _join_rows(through: type[Model], fk: ForeignKey[Any, Any], objs: list[Any]) -> QuerySet[Any]:
    """The join rows whose ``fk`` points at ``objs``: by the key it stores (its to_field, or the pk)."""
    attname = fk.target_field.attname
    keys = [key for obj in objs if (key := getattr(obj, attname)) is not None]
    rows: QuerySet[Any] = through._base_manager.filter(**{f"{fk.attname}__in": keys})
    return rows


def _delete_query(qs: QuerySet[Any], connection: Connection) -> int:
    from orm.exceptions import EmptyResultSet
    from orm.sql.dml import SQLDeleteCompiler

    compiler = SQLDeleteCompiler(qs.query, connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
