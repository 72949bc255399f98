"""Related managers: ``author.books`` (``RelatedManager``) and ``book.tags`` / ``tag.books``
(``ManyRelatedManager``), which the descriptors of ``orm.models.related`` return.

Each is a manager whose QuerySets are filtered to the instance, plus the
methods that change the relation (``add``, ``remove``, ``set``, ``clear``,
``create``...) and their async twins. Rows a ``prefetch_related`` loaded are
used without a query until the QuerySet is filtered further.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from orm.db import transaction
from orm.db.connections import connections
from orm.db.routers import router
from orm.models.manager import Manager
from orm.query.q import Q
from orm.query.queryset import QuerySet
from orm.signals import m2m_changed
from orm.utils.asyncio import check_async_unsafe, to_async
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.fields.related import (
        ManyToManyRel,
        ManyToOneRel,
    )
    from orm.models.base import Model


def _default_db() -> str | None:
    # None lets the QuerySet ask the routers; without them, the default alias.
    return None if router.routers else "default"


def m2m_sides(rel: ManyToManyRel, reverse: bool) -> tuple[Any, Any, Any, str]:
    """(source foreign key, target foreign key, target model, cache name) of a many-to-many side."""
    field = rel.field
    through = rel.through
    source_name, target_name = field.m2m_field_names()
    source_fk = through._meta.get_field(source_name)
    target_fk = through._meta.get_field(target_name)
    if reverse:
        return target_fk, source_fk, field.model, rel.get_accessor_name()
    return source_fk, target_fk, field.remote_field.model, field.name


#: The model a related manager holds (``Book`` for ``author.books``).
_T = TypeVar("_T", bound="Model")


class RelatedManager(Manager[_T]):
    """The manager of ``author.books``: a QuerySet filtered to this author, plus add/remove/..."""

    def __init__(self, instance: Model, rel: ManyToOneRel) -> None:
        super().__init__()
        self.instance = instance
        self.rel = rel
        self.field = rel.field
        self.model = rel.related_model
        # With routers, None lets them choose (hint: the instance), as Django's managers.
        self._db = None if router.routers else instance._state.db
        self.cache_name = rel.get_accessor_name()

    @property
    def db(self) -> str:
        """The alias writes go to: ``db_manager()``'s, else the routers' (hint: the instance)."""
        return self._db or router.db_for_write(self.model, instance=self.instance)

    def _check_saved(self) -> None:
        # Even when the key is another field (to_field), an unsaved instance has
        # no row to point at, so nothing can be read or linked yet (as Django).
        if self.instance.pk is None:
            raise ValueError(
                f"{type(self.instance).__name__!r} instance needs to have a primary key value "
                "before this relationship can be used."
            )

    def _check_writable(self) -> None:
        """Refuse a write that would store NULL (or point at no row) in the foreign key."""
        attname = self.field.target_field.attname
        if getattr(self.instance, attname) is None:
            raise ValueError(
                f'"{self.instance!r}" needs to have a value for field "{attname}" before this '
                "relationship can be used."
            )
        self._check_saved()

    def _filtered(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        value = getattr(self.instance, self.field.target_field.attname)
        if value is None:
            # A NULL key relates to nothing: "car_id = NULL" would otherwise
            # become "car_id IS NULL" and match every unlinked object.
            return qs.none()
        return qs.filter(**{self.field.attname: value})

    def get_queryset(self) -> QuerySet[Any]:
        self._check_saved()
        qs, prefetched = _instance_qs(self)
        if prefetched:
            return qs
        qs = self._filtered(qs)
        qs._known_related_objects = ((self.field.name, self.instance),)
        return qs

    def _clear_cache(self) -> None:
        self.instance.__dict__.get("_prefetched_objects_cache", {}).pop(self.cache_name, None)

    def add(self, *objs: _T, bulk: bool = True) -> None:
        """Point each object at this instance (saving it)."""
        check_async_unsafe(f"{type(self).__name__}.add()", "aadd()")
        self._check_writable()
        self._clear_cache()
        with transaction.atomic(using=self.db, savepoint=False):
            for obj in objs:
                if not isinstance(obj, self.model):
                    raise TypeError(
                        f"'{self.model.__name__}' instance expected, got {short_repr(obj)}"
                    )
                setattr(obj, self.field.name, self.instance)
                obj.save(using=self.db)

    def create(self, **kwargs: Any) -> _T:
        """Create an object pointing at this instance."""
        return super().create(**self._pointing_here("create", kwargs))

    def get_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[_T, bool]:
        """get_or_create within this relation."""
        kwargs = self._pointing_here("get_or_create", kwargs)
        return self.get_queryset().get_or_create(defaults=defaults, **kwargs)

    def update_or_create(  # type: ignore[override]
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[_T, bool]:
        """update_or_create within this relation."""
        kwargs = self._pointing_here("update_or_create", kwargs)
        return self.get_queryset().update_or_create(defaults=defaults, **kwargs)

    def _pointing_here(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        # What every creating call does first: refuse the event loop and an
        # unsaved instance, drop the prefetched rows (about to be stale), and
        # point the new object at this instance.
        check_async_unsafe(f"{type(self).__name__}.{method}()", f"a{method}()")
        self._check_writable()
        self._clear_cache()
        kwargs[self.field.name] = self.instance
        return kwargs

    def remove(self, *objs: _T, bulk: bool = True) -> None:
        """Unlink objects (the foreign key must be nullable)."""
        check_async_unsafe(f"{type(self).__name__}.remove()", "aremove()")
        self._require_null("remove")
        self._check_writable()
        self._clear_cache()
        pks = [obj.pk for obj in objs]
        self.get_queryset().filter(pk__in=pks).update(**{self.field.name: None})
        for obj in objs:
            vars(obj)[self.field.attname] = None
            obj._state.fields_cache.pop(self.field.name, None)

    def clear(self, bulk: bool = True) -> None:
        """Unlink every object (the foreign key must be nullable)."""
        check_async_unsafe(f"{type(self).__name__}.clear()", "aclear()")
        self._require_null("clear")
        self._check_writable()
        self._clear_cache()
        self.get_queryset().update(**{self.field.name: None})

    def set(self, objs: Iterable[_T], bulk: bool = True, clear: bool = False) -> None:
        """Make exactly ``objs`` point here (unlinking others needs a nullable key)."""
        check_async_unsafe(f"{type(self).__name__}.set()", "aset()")
        self._check_writable()
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            if clear:
                self.clear()
                self.add(*objs)
                return
            if not self.field.null:
                # Objects cannot be unlinked from a non-nullable key: only add (as Django).
                self.add(*objs)
                return
            current = {o.pk: o for o in self.get_queryset()}
            keep = {o.pk for o in objs if o.pk in current}
            stale = [o for pk, o in current.items() if pk not in keep]
            if stale:
                self.remove(*stale)
            self.add(*[o for o in objs if o.pk not in keep])

    def _require_null(self, method: str) -> None:
        if not self.field.null:
            raise AttributeError(
                f"{method}() is only available when the ForeignKey {self.field} is nullable "
                "(null=True); delete the objects instead."
            )

    async def aadd(self, *objs: _T, bulk: bool = True) -> None:
        """Async twin of :meth:`add`."""
        return await to_async(self.add)(*objs, bulk=bulk)

    async def aremove(self, *objs: _T, bulk: bool = True) -> None:
        """Async twin of :meth:`remove`."""
        return await to_async(self.remove)(*objs, bulk=bulk)

    async def aclear(self, bulk: bool = True) -> None:
        """Async twin of :meth:`clear`."""
        return await to_async(self.clear)(bulk=bulk)

    async def aset(self, objs: Iterable[_T], bulk: bool = True, clear: bool = False) -> None:
        """Async twin of :meth:`set`."""
        return await to_async(self.set)(objs, bulk=bulk, clear=clear)


def _instance_qs(
    manager: RelatedManager[Any] | ManyRelatedManager[Any],
) -> tuple[QuerySet[Any], bool]:
    """(a QuerySet of the manager's model hinted with its instance, whether it holds the prefetched rows).

    Prefetched rows come back as a filtered QuerySet already (``_cached_qs``);
    otherwise the caller filters it to the relation.
    """
    cached = manager.instance.__dict__.get("_prefetched_objects_cache", {}).get(manager.cache_name)
    qs: QuerySet[Any] = QuerySet(manager.model, using=manager._db or _default_db())
    qs._hints = {"instance": manager.instance}
    if cached is None:
        return qs, False
    qs._result_cache = list(cached)
    return _cached_qs(qs, manager), True


def _cached_qs(
    qs: QuerySet[Any], manager: RelatedManager[Any] | ManyRelatedManager[Any]
) -> QuerySet[Any]:
    # A QuerySet pre-filled with the prefetched rows: iterating it runs no query,
    # but filtering it builds a real query for this relation.
    base: QuerySet[Any] = QuerySet(manager.model, using=manager._db or _default_db())
    base._hints = {"instance": manager.instance}
    filtered = manager._filtered(base)
    filtered._result_cache = qs._result_cache
    filtered._prefetch_done = True
    return filtered


class ManyRelatedManager(Manager[_T]):
    """The manager of ``book.tags`` / ``tag.books``: add/remove/set/clear through rows."""

    def __init__(self, instance: Model, rel: ManyToManyRel, reverse: bool) -> None:
        super().__init__()
        self.instance = instance
        self.rel = rel
        self.reverse_side = reverse
        self.through = rel.through
        self.source_fk, self.target_fk, self.model, self.cache_name = m2m_sides(rel, reverse)
        # ManyToManyField("self"): every link is stored both ways, as Django
        # does, so either person sees the other through the same accessor.
        self.symmetrical = bool(rel.symmetrical) and not reverse
        # With routers, None lets them choose (hint: the instance), as Django's managers.
        self._db = None if router.routers else instance._state.db
        # Refused as soon as the manager is made (``Book().tags``), as in Django:
        # join rows need the instance's key, and an unsaved instance has no row.
        self._source_value()

    @property
    def db(self) -> str:
        """The alias writes go to: ``db_manager()``'s, else the routers' (hint: the instance)."""
        return self._db or router.db_for_write(self.model, instance=self.instance)

    def _source_value(self) -> Any:
        target_field = self.source_fk.target_field
        value = getattr(self.instance, target_field.attname)
        if value is None:
            raise ValueError(
                f'"{self.instance!r}" needs to have a value for field "{target_field.name}" before '
                "this many-to-many relationship can be used."
            )
        if self.instance.pk is None:
            raise ValueError(
                f"{type(self.instance).__name__!r} instance needs to have a primary key value "
                "before a many-to-many relationship can be used."
            )
        return value

    def _filtered(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        related_query_name = (
            self.rel.get_query_name() if not self.reverse_side else self.rel.field.name
        )
        return qs.filter(**{related_query_name: self._source_value()})

    def get_queryset(self) -> QuerySet[Any]:
        qs, prefetched = _instance_qs(self)
        return qs if prefetched else self._filtered(qs)

    def _clear_cache(self) -> None:
        self.instance.__dict__.get("_prefetched_objects_cache", {}).pop(self.cache_name, None)

    def _check_db(self, obj: Any) -> None:
        """Refuse an object on another database than this instance's unless a router allows it (Django's)."""
        if not router.allow_relation(obj, self.instance):
            raise ValueError(
                f'Cannot add "{short_repr(obj)}": instance is on database "{self.instance._state.db}", '
                f'value is on database "{obj._state.db}"'
            )

    def _target_ids(self, objs: Iterable[object], check_db: bool = False) -> list[Any]:
        ids = []
        attr = self.target_fk.target_field.attname
        for obj in objs:
            if isinstance(obj, self.model):
                if check_db:
                    self._check_db(obj)
                if getattr(obj, attr) is None:
                    raise ValueError(
                        f'Cannot add "{short_repr(obj)}": the value for field "{attr}" is None'
                    )
                ids.append(getattr(obj, attr))
            elif hasattr(obj, "_meta"):
                raise TypeError(f"'{self.model.__name__}' instance expected, got {short_repr(obj)}")
            else:
                ids.append(self.target_fk.get_prep_value(obj))
        return ids

    def add(
        self, *objs: _T | int | str | uuid.UUID, through_defaults: dict[str, Any] | None = None
    ) -> None:
        """Link objects (instances or primary keys); existing links are kept once."""
        check_async_unsafe(f"{type(self).__name__}.add()", "aadd()")
        source = self._source_value()
        self._clear_cache()
        ids = list(dict.fromkeys(self._target_ids(objs, check_db=True)))
        if not ids:
            return
        with transaction.atomic(using=self.db, savepoint=False):
            self._lock_source()
            self._add_ids(source, ids, through_defaults)

    def _add_ids(
        self, source: object, ids: list[Any], through_defaults: dict[str, Any] | None
    ) -> None:
        """Link ``ids`` (inside the caller's atomic block), sending m2m_changed when it has receivers."""
        if not m2m_changed.has_listeners(self.through):
            self._insert_links(source, ids, through_defaults)
            self._insert_mirror(source, ids, through_defaults)
            return
        # As Django: receivers get only the ids not linked yet, which costs a
        # read that the signal-free path above does without.
        existing = set(
            self.through._base_manager.using(self.db)
            .filter(**{self.source_fk.attname: source, f"{self.target_fk.attname}__in": ids})
            .values_list(self.target_fk.attname, flat=True)
        )
        missing = [t for t in ids if t not in existing]
        self._send_changed("pre_add", set(missing))
        if missing:
            self._insert_links(source, missing, through_defaults)
            self._insert_mirror(source, missing, through_defaults)
        self._send_changed("post_add", set(missing))

    def _send_changed(self, action: str, pk_set: set[Any] | None) -> None:
        # Sent in the calling thread, inside the manager's atomic block: a
        # receiver that raises undoes the change.
        if m2m_changed.receivers:
            m2m_changed.send(
                sender=self.through,
                action=action,
                instance=self.instance,
                reverse=self.reverse_side,
                model=self.model,
                pk_set=pk_set,
                using=self.db,
            )

    def _insert_links(
        self, source: object, ids: list[Any], through_defaults: dict[str, Any] | None
    ) -> None:
        manager = self.through._base_manager.using(self.db)
        if self.through._meta.auto_created:
            # An automatic join table holds nothing but the unique (source, target)
            # pair, so a row that exists is the very link asked for. The lock on
            # the source does not cover a writer from the other side
            # (tag.books.add(book) locks the tag): let the database skip a row
            # such a writer added (ON CONFLICT DO NOTHING) instead of failing on
            # a duplicate key. One statement, no read first.
            manager.bulk_create(
                [self._join_row(source, t, through_defaults) for t in ids], ignore_conflicts=True
            )
            return
        # A custom through model may have other unique constraints whose
        # violations must not be skipped silently (as in Django): read, then insert.
        existing = set(
            manager.filter(
                **{self.source_fk.attname: source, f"{self.target_fk.attname}__in": ids}
            ).values_list(self.target_fk.attname, flat=True)
        )
        manager.bulk_create(
            [self._join_row(source, t, through_defaults) for t in ids if t not in existing]
        )

    def _insert_mirror(
        self, source: object, ids: list[Any], through_defaults: dict[str, Any] | None
    ) -> None:
        """The reverse rows of a symmetrical relation: each target links back to ``source``.

        As in Django, no m2m_changed is sent for them (the forward add already was).
        """
        if not self.symmetrical:
            return
        manager = self.through._base_manager.using(self.db)
        rows = [self._join_row(target, source, through_defaults) for target in ids]
        if self.through._meta.auto_created:
            manager.bulk_create(rows, ignore_conflicts=True)
            return
        existing = set(
            manager.filter(
                **{self.target_fk.attname: source, f"{self.source_fk.attname}__in": ids}
            ).values_list(self.source_fk.attname, flat=True)
        )
        manager.bulk_create(
            [row for row in rows if getattr(row, self.source_fk.attname) not in existing]
        )

    def _links(self, source: object, ids: list[Any] | None) -> Q:
        """The join rows of ``source`` (to ``ids`` only, if given), both ways when symmetrical."""
        forward: dict[str, Any] = {self.source_fk.attname: source}
        if ids is not None:
            forward[f"{self.target_fk.attname}__in"] = ids
        links = Q(**forward)
        if self.symmetrical:
            backward: dict[str, Any] = {self.target_fk.attname: source}
            if ids is not None:
                backward[f"{self.source_fk.attname}__in"] = ids
            links |= Q(**backward)
        return links

    def _join_row(
        self, source: object, target: object, through_defaults: dict[str, Any] | None
    ) -> Any:
        defaults = {k: (v() if callable(v) else v) for k, v in (through_defaults or {}).items()}
        return self.through(
            **{self.source_fk.attname: source, self.target_fk.attname: target, **defaults}
        )

    def remove(self, *objs: _T | int | str | uuid.UUID) -> None:
        """Unlink objects (instances or primary keys)."""
        check_async_unsafe(f"{type(self).__name__}.remove()", "aremove()")
        source = self._source_value()
        self._clear_cache()
        ids = self._target_ids(objs)
        if not ids:
            return
        with transaction.atomic(using=self.db, savepoint=False):
            self._send_changed("pre_remove", set(ids))
            self.through._base_manager.using(self.db).filter(self._links(source, ids)).delete()
            self._send_changed("post_remove", set(ids))

    def clear(self) -> None:
        """Unlink everything."""
        check_async_unsafe(f"{type(self).__name__}.clear()", "aclear()")
        source = self._source_value()
        self._clear_cache()
        with transaction.atomic(using=self.db, savepoint=False):
            self._send_changed("pre_clear", None)
            self.through._base_manager.using(self.db).filter(self._links(source, None)).delete()
            self._send_changed("post_clear", None)

    def set(
        self,
        objs: Iterable[_T | int | str | uuid.UUID],
        clear: bool = False,
        through_defaults: dict[str, Any] | None = None,
    ) -> None:
        """Link exactly ``objs``: concurrent calls on one object take turns, one set wins whole."""
        check_async_unsafe(f"{type(self).__name__}.set()", "aset()")
        source = self._source_value()
        objs = list(objs)
        wanted = list(dict.fromkeys(self._target_ids(objs)))
        self._clear_cache()
        with transaction.atomic(using=self.db, savepoint=False):
            self._lock_source()
            if clear:
                self.clear()
                current: set[Any] = set()
            else:
                current = set(
                    self.through._base_manager.using(self.db)
                    .filter(**{self.source_fk.attname: source})
                    .values_list(self.target_fk.attname, flat=True)
                )
                keep = set(wanted)
                stale = [t for t in current if t not in keep]
                if stale:
                    self.remove(*stale)
            missing = [t for t in wanted if t not in current]
            if missing:
                # As Django's set() -> add(): only the objects being added are checked.
                attr = self.target_fk.target_field.attname
                for obj in objs:
                    if isinstance(obj, self.model) and getattr(obj, attr) in missing:
                        self._check_db(obj)
                self._add_ids(source, missing, through_defaults)

    def _lock_source(self) -> None:
        # add() and set() of one object take turns: they lock the object's row
        # until commit. Without it, set() (read the links, remove the stale,
        # add the missing) interleaving with another set() leaves the union of
        # both sets (READ COMMITTED hides each one's uncommitted rows from the
        # other), and add() or set() waiting on each other's join rows in
        # opposite orders deadlock. NO KEY UPDATE, not UPDATE: inserting rows
        # that reference this one (join rows from the other side, any foreign
        # key) takes KEY SHARE, which this lock does not block.
        # SQLite needs nothing: atomic() already holds the database's write lock.
        if not connections[self.db].features.has_select_for_update:
            return
        source_model = type(self.instance)
        list(
            source_model._base_manager.using(self.db)
            .filter(pk=self.instance.pk)
            .select_for_update(no_key=True)
            .values_list("pk", flat=True)
        )

    def create(self, through_defaults: dict[str, Any] | None = None, **kwargs: Any) -> _T:
        """Create a target object and link it."""
        check_async_unsafe(f"{type(self).__name__}.create()", "acreate()")
        with transaction.atomic(using=self.db, savepoint=False):
            obj: _T = QuerySet(self.model, using=self.db).create(**kwargs)
            self.add(obj, through_defaults=through_defaults)
        return obj

    def get_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        through_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[_T, bool]:
        """get_or_create among linked objects; a created object is linked."""
        return self._linked("get_or_create", defaults, through_defaults, kwargs)

    def update_or_create(  # type: ignore[override]
        self,
        defaults: dict[str, Any] | None = None,
        through_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[_T, bool]:
        """update_or_create among linked objects; a created object is linked."""
        return self._linked("update_or_create", defaults, through_defaults, kwargs)

    def _linked(
        self,
        method: str,
        defaults: dict[str, Any] | None,
        through_defaults: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> tuple[_T, bool]:
        # get_or_create / update_or_create on the linked objects, and the new
        # object linked, in one transaction: a failed link leaves no orphan.
        check_async_unsafe(f"{type(self).__name__}.{method}()", f"a{method}()")
        with transaction.atomic(using=self.db, savepoint=False):
            run = getattr(self.get_queryset(), method)
            obj, created = run(defaults=defaults, **kwargs)
            if created:
                self.add(obj, through_defaults=through_defaults)
        return obj, created

    async def aadd(
        self, *objs: _T | int | str | uuid.UUID, through_defaults: dict[str, Any] | None = None
    ) -> None:
        """Async twin of :meth:`add`."""
        return await to_async(self.add)(*objs, through_defaults=through_defaults)

    async def aremove(self, *objs: _T | int | str | uuid.UUID) -> None:
        """Async twin of :meth:`remove`."""
        return await to_async(self.remove)(*objs)

    async def aclear(self) -> None:
        """Async twin of :meth:`clear`."""
        return await to_async(self.clear)()

    async def aset(
        self,
        objs: Iterable[_T | int | str | uuid.UUID],
        clear: bool = False,
        through_defaults: dict[str, Any] | None = None,
    ) -> None:
        """Async twin of :meth:`set`."""
        return await to_async(self.set)(objs, clear=clear, through_defaults=through_defaults)


__all__ = ["ManyRelatedManager", "RelatedManager", "m2m_sides"]
