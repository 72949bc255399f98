"""``Model`` and its metaclass: fields, managers, relations and instance behaviour."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from orm.db import transaction
from orm.db.connections import DEFAULT_DB_ALIAS
from orm.db.routers import router
from orm.exceptions import (
    DatabaseError,
    FieldError,
    MultipleObjectsReturned,
    ObjectDoesNotExist,
    UnknownFieldError,
    ValidationError,
)
from orm.fields import BigAutoField, DatabaseDefault, Field
from orm.models import checks, inheritance, registry
from orm.models.manager import Manager, add_abstract_managers, install_managers
from orm.models.options import Options
from orm.models.relations import install_descriptors, relink_relation
from orm.models.state import DEFERRED, ModelState
from orm.query import writes
from orm.query.prefetch import prefetch_related_objects
from orm.signals import ModelSignal, class_prepared, post_init, post_save, pre_init, pre_save
from orm.utils.asyncio import check_async_unsafe, running_loop, to_async
from orm.utils.text import short_reprs

_M = TypeVar("_M", bound="Model")


if TYPE_CHECKING:
    from orm.query.queryset import QuerySet

    class _ObjectsDescriptor:
        """``Model.objects`` for type checkers: a ``Manager`` of the class it is read on."""

        # Read through the metaclass, the instance is the model class; mypy
        # passes None and the class as owner instead, hence both forms.
        @overload
        def __get__(self, instance: None, owner: type[_M]) -> Manager[_M]: ...
        @overload
        def __get__(self, instance: type[_M], owner: Any) -> Manager[_M]: ...
        def __get__(self, instance: Any, owner: Any) -> Any: ...


_new_state = object.__new__


class RelationInFieldsError(FieldError, ValueError):
    """``refresh_from_db(fields=["author__name"])``: a ``ValueError`` as in Django, and a
    ``FieldError`` like every other bad field path in `orm`."""


# orm.signals sits below this layer; it resolves "app_label.ModelName"
# senders in the global registry, which it learns here.
ModelSignal.default_apps = registry.apps


def _app_label(module: str) -> str:
    parts = module.split(".")
    if "models" in parts[1:]:
        return parts[parts.index("models", 1) - 1]
    if len(parts) > 1:
        return parts[-2]
    return parts[0]


class ModelBase(type):
    """Builds ``_meta``, adds the implicit ``id`` and ``objects``, wires up relations."""

    if TYPE_CHECKING:
        # The implicit default manager, typed with the model it is read on
        # (``Book.objects`` is a ``Manager[Book]``). It is declared here, on the
        # metaclass, not on Model: a model's own ``objects: ClassVar[BookManager]``
        # then overrides nothing (pyright refuses a changed type for a
        # mutable class variable), and an instance has no ``objects``, as at run time.
        objects = _ObjectsDescriptor()

    def __new__(
        mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any
    ) -> Any:  # noqa: N804
        parents = [b for b in bases if isinstance(b, ModelBase)]
        if not parents:
            return super().__new__(mcs, name, bases, attrs, **kwargs)
        meta = attrs.get("Meta")
        if getattr(meta, "proxy", False):
            return ModelBase._new_proxy(mcs, name, bases, attrs, parents, **kwargs)
        concrete = inheritance.concrete_parents(parents)
        module = attrs.get("__module__", "")
        meta = attrs.pop("Meta", None)
        # Only instances contribute: a Field *class* held as a plain attribute
        # (``field_class = orm.CharField``) has the method too, unbound.
        contributable = {
            k: v
            for k, v in attrs.items()
            if hasattr(v, "contribute_to_class") and not isinstance(v, type)
        }
        plain = {k: v for k, v in attrs.items() if k not in contributable}
        cls: Any = super().__new__(mcs, name, bases, plain, **kwargs)
        app_label = getattr(meta, "app_label", None) or _app_label(module)
        opts = Options(meta, app_label)
        cls._meta = opts
        opts.contribute_to_class(cls, name)
        inherited: dict[str, Any] = {}
        for parent in reversed(cls.__mro__[1:]):
            parent_meta = getattr(parent, "_meta", None)
            if parent_meta is not None and parent_meta.abstract:
                for field_name, field in parent_meta.abstract_fields.items():
                    inherited[field_name] = copy.deepcopy(field)
                if (
                    not opts.ordering
                    and parent_meta.ordering
                    and meta is not None
                    and not hasattr(meta, "ordering")
                ):
                    opts.ordering = list(parent_meta.ordering)
                elif not opts.ordering and parent_meta.ordering and meta is None:
                    opts.ordering = list(parent_meta.ordering)
                if opts.get_latest_by is None:
                    opts.get_latest_by = parent_meta.get_latest_by
        fields = {**inherited, **{k: v for k, v in contributable.items() if isinstance(v, Field)}}
        if opts.abstract:
            opts.abstract_fields = fields
            if meta is not None:
                # As Django: children may write `class Meta(Base.Meta)`, and
                # must not inherit abstract=True through it.
                meta.abstract = False
                cls.Meta = meta
            add_abstract_managers(cls, contributable)
            return cls
        if concrete:
            fields = inheritance.add_parent_links(opts, name, concrete, fields)
            inheritance.inherit_meta(opts, meta, concrete)
        checks.check_fields(cls, fields)
        mcs._add_exceptions(cls, name, module, parents)
        for field_name, field in sorted(fields.items(), key=lambda item: item[1].creation_counter):
            field.contribute_to_class(cls, field_name)
        if opts.pk is None:
            auto = BigAutoField(verbose_name="ID", primary_key=True, auto_created=True)
            auto.contribute_to_class(cls, "id")
        checks.check_columns(cls)
        checks.check_key_annotations(cls)
        for attr_name, value in contributable.items():
            if not isinstance(value, Field):
                value.contribute_to_class(cls, attr_name)
        install_managers(cls)
        install_descriptors(cls)
        opts.apps.register_model(opts.app_label, cls)
        class_prepared.send(sender=cls)
        return cls

    @staticmethod
    def _proxy_base(name: str, parents: list[Any]) -> Any:
        """The one non-abstract base of proxy model ``name``, checked as Django checks it."""
        base: Any = None
        for parent in parents:
            parent_meta = getattr(parent, "_meta", None)
            if parent_meta is None:
                continue
            if parent_meta.abstract:
                if parent_meta.abstract_fields:
                    raise TypeError(
                        f"Abstract base class containing model fields not permitted for proxy model '{name}'."
                    )
                continue
            if base is None:
                base = parent
            elif parent_meta.concrete_model is not base._meta.concrete_model:
                raise TypeError(
                    f"Proxy model '{name}' has more than one non-abstract model base class."
                )
        if base is None:
            raise TypeError(f"Proxy model '{name}' has no non-abstract model base class.")
        return base

    @staticmethod
    def _new_proxy(
        mcs: Any,
        name: str,
        bases: tuple[type, ...],
        attrs: dict[str, Any],
        parents: list[Any],
        **kwargs: Any,
    ) -> Any:
        """Build a proxy model: the base's table and fields, its own managers, Meta and methods.

        Nothing is added to the schema or to the relations of the concrete
        model: a proxy only changes the Python class rows are loaded as.
        """
        base = mcs._proxy_base(name, parents)
        module = attrs.get("__module__", "")
        meta = attrs.pop("Meta")
        if any(isinstance(v, Field) for v in attrs.values()):
            raise FieldError(f"Proxy model '{name}' contains model fields.")
        contributable = {
            k: v
            for k, v in attrs.items()
            if hasattr(v, "contribute_to_class") and not isinstance(v, type)
        }
        plain = {k: v for k, v in attrs.items() if k not in contributable}
        cls: Any = type.__new__(mcs, name, bases, plain, **kwargs)
        app_label = getattr(meta, "app_label", None) or _app_label(module)
        opts = Options(meta, app_label)
        cls._meta = opts
        opts.contribute_to_class(cls, name)
        opts.setup_proxy(base)
        base_meta = base._meta
        # As Django: ordering and get_latest_by of a non-abstract base carry
        # over unless this Meta names its own.
        if not hasattr(meta, "ordering"):
            opts.ordering = list(base_meta.ordering)
        if not hasattr(meta, "get_latest_by"):
            opts.get_latest_by = base_meta.get_latest_by
        mcs._add_exceptions(cls, name, module, parents)
        for attr_name, value in contributable.items():
            value.contribute_to_class(cls, attr_name)
        # The base's managers are inherited as copies bound to the proxy, so
        # their QuerySets load proxy instances.
        install_managers(cls)
        opts.apps.register_model(opts.app_label, cls)
        class_prepared.send(sender=cls)
        return cls

    @staticmethod
    def _add_exceptions(model: Any, name: str, module: str, parents: list[Any]) -> None:
        """Give the new ``model`` its ``DoesNotExist`` and ``MultipleObjectsReturned``.

        Each subclasses those of the concrete parents (or the generic ones),
        so ``except Parent.DoesNotExist`` also catches a child's.
        """
        for exc_name, base in (
            ("DoesNotExist", ObjectDoesNotExist),
            ("MultipleObjectsReturned", MultipleObjectsReturned),
        ):
            bases = tuple(
                getattr(p, exc_name)
                for p in parents
                if hasattr(p, exc_name)
                and getattr(p, "_meta", None) is not None
                and not p._meta.abstract
            ) or (base,)
            setattr(
                model,
                exc_name,
                type(exc_name, bases, {"__module__": module, "__qualname__": f"{name}.{exc_name}"}),
            )


class Model(metaclass=ModelBase):
    """Base class of every model: ``class Book(orm.Model): title = orm.CharField(...)``."""

    _meta: ClassVar[Options]
    _base_manager: ClassVar[Any]
    _default_manager: ClassVar[Any]
    DoesNotExist: ClassVar[type[ObjectDoesNotExist]]
    MultipleObjectsReturned: ClassVar[type[MultipleObjectsReturned]]
    #: What ``from_db`` builds, read by the fused row functions of
    #: ``orm.query.row_makers`` (a layer below, which cannot import it): they
    #: inline ``from_db`` only while a model's is this one, not an override.
    _state_class: ClassVar[type[ModelState]] = ModelState
    _plain_from_db: ClassVar[Any]

    # vars(self), not self.__dict__, throughout: the same dict, but pyright reads
    # __dict__ on an instance of a class with a metaclass as a read-only mappingproxy.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        if pre_init.receivers:
            pre_init.send(sender=cls, args=args, kwargs=kwargs)
        meta = self._meta
        self._state = ModelState()
        data = vars(self)
        plan = meta.init_plan
        if not args and kwargs.keys() <= plan.accepted:
            related = () if kwargs.keys() <= plan.direct else plan.pop_related(kwargs)
        else:
            related = None
        if related is not None:
            # Every keyword is a column's attname or a relation's name (the
            # usual call): defaults first, the given values over them, then
            # the related objects through their descriptors.
            data.update(plan.constant)
            for attname, field in plan.computed:
                if attname not in kwargs:
                    data[attname] = field.get_default()
            data.update(kwargs)
            for name, value in related:
                setattr(self, name, value)
            if post_init.receivers:
                post_init.send(sender=cls, instance=self)
            return
        fields = meta.concrete_fields
        if len(args) > len(fields):
            raise IndexError("Number of args exceeds number of fields")
        for field, value in zip(fields, args, strict=False):
            if value is not DEFERRED:
                data[field.attname] = value
        for field in fields[len(args) :]:
            if field.is_relation and field.name in kwargs:
                setattr(self, field.name, kwargs.pop(field.name))
                continue
            if field.attname in kwargs:
                data[field.attname] = kwargs.pop(field.attname)
            elif field.name in kwargs:
                data[field.attname] = kwargs.pop(field.name)
            else:
                data[field.attname] = field.get_default()
        if kwargs:
            m2m = [k for k in kwargs if any(f.name == k for f in meta.local_many_to_many)]
            if m2m:
                raise TypeError(
                    f"Direct assignment to the forward side of a many-to-many set is prohibited. "
                    f"Use {m2m[0]}.set() instead."
                )
            unexpected = []
            for key, value in kwargs.items():
                if isinstance(getattr(type(self), key, None), property):
                    setattr(self, key, value)
                else:
                    unexpected.append(key)
            if unexpected:
                raise UnknownFieldError(
                    f"{type(self).__name__}() got unexpected keyword arguments: "
                    f"{short_reprs(unexpected)}. "
                    f"Fields are: {', '.join(f.name for f in meta.concrete_fields)}"
                )
        if post_init.receivers:
            post_init.send(sender=cls, instance=self)

    @classmethod
    def from_db(cls: type[_M], db: str, field_names: list[str], values: Any) -> _M:
        """Build an instance from a database row without running ``__init__`` (fast path)."""
        obj = cls.__new__(cls)
        data = dict(zip(field_names, values))  # noqa: B905 - hot path; lengths match by construction
        # ModelState without __init__: this runs once per row.
        state = _new_state(ModelState)
        state.db = db
        state.adding = False
        data["_state"] = state
        # pyright types an instance's __dict__ of a class with a metaclass as the
        # metaclass's read-only mappingproxy; at run time it is the instance dict.
        obj.__dict__ = data  # pyright: ignore[reportAttributeAccessIssue]
        return obj

    # -- identity ------------------------------------------------------------------------
    @property
    def pk(self) -> Any:
        """The primary key value."""
        return getattr(self, self._meta.pk.attname)

    @pk.setter
    def pk(self, value: Any) -> None:
        if self._meta.parents:
            inheritance.parent_link_values(self, value)
        setattr(self, self._meta.pk.attname, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        if type(self)._meta.label != type(other)._meta.label:
            return False
        if self.pk is None:
            return self is other
        return bool(self.pk == other.pk)

    def __hash__(self) -> int:
        if self.pk is None:
            raise TypeError("Model instances without primary key value are unhashable")
        return hash((self._meta.label, self.pk))

    def __str__(self) -> str:
        return f"{type(self).__name__} object ({self.pk})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"

    def __reduce__(self) -> Any:
        data = {k: v for k, v in vars(self).items() if k != "_state"}
        return _unpickle, (self._meta.label,), (data, self._state.db, self._state.adding)

    def __setstate__(self, state: Any) -> None:
        data, db, adding = state
        vars(self).update(data)
        self._state = ModelState(db, adding)

    # -- persistence -----------------------------------------------------------------------
    def _prepare_related_fields_for_save(self, operation: str) -> None:
        relations = self._meta.save_plan.relations
        # Runs once per object of a bulk_create: no relation, or no related
        # object loaded, is the common case and costs two lookups.
        cache = self._state.fields_cache if relations else None
        if not cache:
            return
        for field in relations:
            obj = cache.get(field.name)
            if obj is None:
                continue
            if obj.pk is None:
                raise ValueError(
                    f"{operation}() prohibited to prevent data loss due to unsaved related object "
                    f"'{field.name}'."
                )
            if vars(self).get(field.attname) in (None, ""):
                vars(self)[field.attname] = getattr(obj, field.target_field.attname)

    def save(
        self,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        """INSERT a new row or UPDATE the existing one (by primary key).

        ``force_insert``/``force_update`` insist on one statement;
        ``update_fields`` writes only those fields (an empty one writes
        nothing). An instance loaded with deferred fields, saved to the
        database it came from, writes only its loaded fields (as Django).
        """
        if running_loop() is not None:
            check_async_unsafe("Model.save()", "asave()")
        self._prepare_related_fields_for_save("save")
        using = using or self._write_db()
        if force_insert and (force_update or update_fields):
            raise ValueError("Cannot force both insert and updating in model saving.")
        if update_fields is not None:
            # An empty update_fields skips the save, signals included.
            if not update_fields:
                return
            update_fields = self._checked_update_fields(update_fields)
        elif not force_insert and using == self._state.db:
            update_fields = self._loaded_field_names()
        self._save_base(
            using=using,
            force_insert=force_insert,
            force_update=force_update,
            update_fields=update_fields,
        )

    def _checked_update_fields(self, update_fields: Iterable[str]) -> frozenset[str]:
        if isinstance(update_fields, str):
            raise TypeError(
                f"update_fields must be a list of field names, not the string {update_fields!r}; "
                f"write update_fields=[{update_fields!r}]."
            )
        names = frozenset(update_fields)
        meta = self._meta
        valid = {n for f in meta.concrete_fields if not f.primary_key for n in (f.name, f.attname)}
        unknown = names - valid
        if unknown:
            raise ValueError(
                "The following fields do not exist in this model, are m2m fields, primary keys, or "
                f"are non-concrete fields: {', '.join(sorted(str(n) for n in unknown))}"
            )
        return names

    def _loaded_field_names(self) -> frozenset[str] | None:
        """The loaded non-pk fields when some are deferred, else None (save everything)."""
        data = vars(self)
        names = self._meta.save_plan.value_attnames
        if data.keys() >= names:
            return None
        return names.intersection(data) or None

    def _save_base(
        self,
        raw: bool = False,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: frozenset[str] | None = None,
    ) -> None:
        """Send ``pre_save``, write the row, send ``post_save`` (Django's ``save_base``).

        Both signals run in the calling thread, inside the caller's
        transaction if there is one; ``post_save`` after the row is written.
        Automatic many-to-many join models send neither.
        """
        using = using or self._state.db or DEFAULT_DB_ALIAS
        cls = type(self)
        meta = self._meta
        if not meta.auto_created and pre_save.receivers:
            pre_save.send(
                sender=cls, instance=self, raw=raw, using=using, update_fields=update_fields
            )
        # mark_for_rollback_on_error's work, written as a try (free unless it raises).
        try:
            if meta.parents:
                # Parents' rows first (each child row points at its parent's),
                # all in one transaction so a failure leaves no half-saved object.
                with transaction.atomic(using=using, savepoint=False):
                    inserted = inheritance.save_parents(
                        self, cls, using, update_fields, force_insert
                    )
                    updated = self._save_table(
                        raw, force_insert or inserted, force_update, using, update_fields, cls
                    )
            else:
                updated = self._save_table(raw, force_insert, force_update, using, update_fields)
        except BaseException as error:
            transaction.mark_rollback_after(error, using)
            raise
        self._state.db = using
        self._state.adding = False
        if not meta.auto_created and post_save.receivers:
            post_save.send(
                sender=cls,
                instance=self,
                created=not updated,
                update_fields=update_fields,
                raw=raw,
                using=using,
            )

    def _save_table(
        self,
        raw: bool,
        force_insert: bool,
        force_update: bool,
        using: str,
        update_fields: frozenset[str] | None,
        cls: type[Model] | None = None,
    ) -> bool:
        """UPDATE or INSERT the row of ``cls`` (default: this model) for this instance; True when an UPDATE matched it.

        With concrete parents only the model's own table's columns are written here.
        """
        cls = cls or type(self)
        meta = cls._meta
        fields: Sequence[Field[Any, Any]] | None = None  # the UPDATE's, built only when one may run
        if update_fields is not None:
            fields = [
                f
                for f in meta.local_concrete_fields
                if not f.primary_key and (f.name in update_fields or f.attname in update_fields)
            ]
            if not fields:
                return True  # a table none of whose fields are named is left alone, as Django
        pk_value = getattr(self, meta.pk.attname)
        if pk_value is None and (force_update or update_fields):
            raise ValueError("Cannot force an update in save() with no primary key.")
        if not force_update and self._state.adding and meta.pk.has_default():
            # A new instance whose pk came from a default has no row yet:
            # skip the UPDATE (as Django does).
            force_insert = True
        updated = False
        if pk_value is not None and not force_insert:
            if fields is None:
                fields = meta.save_plan.local_value_fields
            updated = writes.update_row(cls, self, fields, using)
            if force_update and not updated:
                raise DatabaseError("Forced update did not affect any rows.")
            if update_fields and not updated:
                raise DatabaseError("Save with update_fields did not affect any rows.")
        if not updated:
            writes.insert_one(cls, self, using, with_pk=pk_value is not None)
        return updated

    def _write_db(self) -> str:
        # Routers choose; without them (or when they abstain) the instance's own database.
        if router.routers:
            return router.db_for_write(type(self), instance=self)
        return self._state.db or DEFAULT_DB_ALIAS

    def delete(self, using: str | None = None) -> tuple[int, dict[str, int]]:
        """Delete this object and apply ``on_delete`` rules to what points at it."""
        check_async_unsafe("Model.delete()", "adelete()")
        if self.pk is None:
            raise ValueError(
                f"{type(self).__name__} object can't be deleted because its id is None."
            )
        collector = self._meta.new_collector(using or self._write_db())
        collector.origin = self
        collector.collect([self])
        return collector.delete()

    def get_deferred_fields(self) -> set[str]:
        """The attnames of the concrete fields not loaded on this instance (``only()``/``defer()``)."""
        data = vars(self)
        return {f.attname for f in self._meta.concrete_fields if f.attname not in data}

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: QuerySet[Any] | None = None,
    ) -> None:
        """Reload field values from the database (Django's ``refresh_from_db``).

        ``fields`` (names or attnames) reloads only those; a name of a
        prefetched relation drops that prefetch instead. Without ``fields``
        every loaded field is reloaded (deferred ones stay deferred) and all
        prefetched relations are dropped. Cached related objects of reloaded
        foreign keys, and cached reverse one-to-one objects, are dropped too.
        ``from_queryset`` is the QuerySet to read from (default: the base
        manager), e.g. ``Book.objects.select_related("author")`` or one with
        ``select_for_update()``.
        """
        check_async_unsafe("Model.refresh_from_db()", "arefresh_from_db()")
        if fields is None:
            vars(self).pop("_prefetched_objects_cache", None)
        else:
            fields = self._refresh_fields(fields)
            if not fields:
                return
        source: QuerySet[Any]
        if from_queryset is None:
            source = type(self)._base_manager.using(using or self._state.db or DEFAULT_DB_ALIAS)
        elif using is not None:
            source = from_queryset.using(using)
        else:
            source = from_queryset
        qs = source.filter(pk=self.pk)
        deferred = self.get_deferred_fields()
        if fields is not None:
            qs = qs.only(*fields)
        elif deferred:
            qs = qs.only(
                *[f.attname for f in self._meta.concrete_fields if f.attname not in deferred]
            )
        db_instance = qs.get()
        self._copy_refreshed(db_instance, fields)
        self._state.db = db_instance._state.db

    def _refresh_fields(self, fields: Iterable[str]) -> set[str]:
        if isinstance(fields, str):
            raise TypeError(
                f"refresh_from_db(fields=...) takes a list of field names, not the string {fields!r}; "
                f"write fields=[{fields!r}]."
            )
        names: set[str] = set(fields)
        prefetched = vars(self).get("_prefetched_objects_cache", {})
        for name in list(names):
            if name in prefetched:
                del prefetched[name]
                names.remove(name)
        if any("__" in name for name in names):
            raise RelationInFieldsError(
                'Found "__" in fields argument. Relations and transforms are not allowed in fields.'
            )
        for name in names:
            self._meta.get_field(
                name
            )  # an unknown name raises FieldDoesNotExist, naming the fields
        return names

    def _copy_refreshed(self, db_instance: Model, fields: set[str] | None) -> None:
        """Copy the loaded values of ``db_instance`` and drop stale cached relations."""
        meta = self._meta
        loaded = vars(db_instance)
        cache = self._state.fields_cache
        db_cache = db_instance._state.fields_cache
        for field in meta.concrete_fields:
            if field.attname not in loaded:
                continue
            vars(self)[field.attname] = loaded[field.attname]
            if field.is_relation:
                if field.name in db_cache:  # from_queryset used select_related
                    cache[field.name] = db_cache[field.name]
                else:
                    cache.pop(field.name, None)
        if fields is None:
            for rel in meta.related_objects:
                if rel.one_to_one and not rel.is_hidden():
                    cache.pop(rel.get_accessor_name(), None)

    def clean(self) -> None:
        """Hook for model-wide validation in ``full_clean()``."""

    def clean_fields(self, exclude: Iterable[str] | None = None) -> None:
        """Clean every field; raise ``ValidationError`` with a dict of messages."""
        exclude = set(exclude or ())
        errors: dict[str, list[str]] = {}
        for field in self._meta.concrete_fields:
            if field.name in exclude or (field.primary_key and field.auto_created):
                continue
            raw = getattr(self, field.attname)
            if (
                (field.blank and raw in field.empty_values)
                or isinstance(raw, DatabaseDefault)
                or field.generated
            ):
                continue  # as Django: blank, left to the database's default, or computed by it
            try:
                vars(self)[field.attname] = field.clean(raw, self)
            except ValidationError as error:
                errors[field.name] = error.messages
        if errors:
            raise ValidationError(errors)

    def validate_unique(self, exclude: Iterable[str] | None = None) -> None:
        """Check unique fields and ``unique_together`` against the database."""
        check_async_unsafe("Model.validate_unique()", "avalidate_unique()")
        exclude = set(exclude or ())
        meta = self._meta
        checks: list[tuple[str, ...]] = [
            (f.name,) for f in meta.concrete_fields if f.unique and not f.primary_key
        ]
        checks += [tuple(names) for names in meta.unique_together]
        errors: dict[str, list[str]] = {}
        for names in checks:
            if any(n in exclude for n in names):
                continue
            lookup = {}
            for name in names:
                field = meta.get_field(name)
                value = getattr(self, field.attname)
                if value is None:
                    break
                lookup[field.attname] = value
            else:
                qs = type(self)._default_manager.filter(**lookup)
                if self.pk is not None and not self._state.adding:
                    qs = qs.exclude(pk=self.pk)
                if qs.exists():
                    key = names[0] if len(names) == 1 else "__all__"
                    errors.setdefault(key, []).append(
                        f"{type(self).__name__} with this {' and '.join(names)} already exists."
                    )
        if errors:
            raise ValidationError(errors)

    def full_clean(
        self, exclude: Iterable[str] | None = None, validate_unique: bool = True
    ) -> None:
        """Run ``clean_fields``, ``clean`` and ``validate_unique``; collect every error."""
        check_async_unsafe("Model.full_clean()", "afull_clean()")
        errors: dict[str, list[str]] = {}
        steps: list[Any] = [lambda: self.clean_fields(exclude), self.clean]
        for step in steps:
            try:
                step()
            except ValidationError as error:
                for key, messages in (error.error_dict or {"__all__": error.messages}).items():
                    errors.setdefault(key, []).extend(messages)
        if validate_unique:
            try:
                self.validate_unique(set(exclude or ()) | set(errors))
            except ValidationError as error:
                for key, messages in (error.error_dict or {}).items():
                    errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def fetch_related(self, *names: str) -> None:
        """Load relations into the instance's cache (sync form of :meth:`afetch_related`)."""
        check_async_unsafe("Model.fetch_related()", "afetch_related()")
        prefetch_related_objects([self], *names)

    # -- async twins ----------------------------------------------------------------------
    async def asave(
        self,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        """Async twin of :meth:`save`."""
        return await to_async(self.save)(force_insert, force_update, using, update_fields)

    async def adelete(self, using: str | None = None) -> tuple[int, dict[str, int]]:
        """Async twin of :meth:`delete`."""
        return await to_async(self.delete)(using)

    async def arefresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: QuerySet[Any] | None = None,
    ) -> None:
        """Async twin of :meth:`refresh_from_db`."""
        return await to_async(self.refresh_from_db)(using, fields, from_queryset)

    async def afull_clean(
        self, exclude: Iterable[str] | None = None, validate_unique: bool = True
    ) -> None:
        """Async twin of :meth:`full_clean` (uniqueness checks query the database)."""
        return await to_async(self.full_clean)(exclude, validate_unique)

    async def avalidate_unique(self, exclude: Iterable[str] | None = None) -> None:
        """Async twin of :meth:`validate_unique`."""
        return await to_async(self.validate_unique)(exclude)

    async def afetch_related(self, *names: str) -> None:
        """Load relations (``"author"``, ``"books__tags"``) so async code can read them."""
        return await to_async(self.fetch_related)(*names)


Model._plain_from_db = Model.__dict__["from_db"].__func__


def _unpickle(label: str) -> Any:
    model = registry.get_model(label)
    return model.__new__(model)


# relink_relation is imported from here by orm.migrations.rendering; it lives in orm.models.relations.
__all__ = ["DEFERRED", "Model", "ModelBase", "ModelState", "FieldError", "relink_relation", "sys"]
