"""``QuerySet``: lazy, chainable, cached; sync methods plus their ``a``-prefixed twins.

Every method that touches the database is synchronous and guarded against
running on an event loop's thread; its twin is one line through
``orm.utils.asyncio.to_async``, so both paths share all logic. The chainable
builders (``filter()``, ``order_by()``, ``values()``...) and the QuerySet's
state live in ``orm.query.builders.BaseQuerySet``, which this class extends
with evaluation: iteration, the result cache and every database access.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast, overload

from orm.db import transaction
from orm.exceptions import FieldError, TransactionManagementError
from orm.query import point, streaming, terms, writes
from orm.query.aggregates import Count
from orm.query.builders import BaseQuerySet
from orm.query.prefetch import prefetch_related_objects
from orm.query.query import MAX_SLICE
from orm.query.summary import count_with, get_aggregation
from orm.utils.asyncio import check_async_unsafe, running_loop, to_async
from orm.utils.identifiers import check_alias
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.query.raw import RawQuerySet

M = TypeVar("M")
REPR_OUTPUT_SIZE = 20
ITERATOR_CHUNK_SIZE = 2000
# Set by orm.models.manager (a layer above, which this one may not import):
# builds the manager QuerySet.as_manager() returns.
AS_MANAGER_HOOK: Callable[[type[Any]], Any] | None = None


def _guard(call: str, twin: str | None) -> None:
    # The names are formatted only on an event loop's thread, where the call may be refused.
    if running_loop() is not None:
        check_async_unsafe(f"QuerySet.{call}()", f"{twin}()" if twin else None)


# What to write instead, per way of evaluating a QuerySet in async code.
_ITERATE_FIX = (
    "`async for obj in qs` (`[obj async for obj in qs]` for a list, "
    "`qs.aiterator()` to stream a large result)"
)
_LEN_FIX = "`await qs.acount()` (or `len([obj async for obj in qs])` if you need the rows too)"
_BOOL_FIX = "`await qs.aexists()` (or `async for obj in qs` if you need the rows too)"


def _index_fix(k: int) -> str:
    if k == 0:
        return "`await qs.afirst()` (or `await qs.aget(...)` for the one row matching a filter)"
    return (
        f"`[obj async for obj in qs[{k}:{k + 1}]]` (or `await qs.aget(...)` for the one row "
        "matching a filter)"
    )


class QuerySet(BaseQuerySet[M]):
    """A lazy database query for a model; evaluated on iteration, ``len()``, ``list()``..."""

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_for_update()
            self._result_cache = list(self._iterable_class(self))
        if self._prefetch_related_lookups and not self._prefetch_done:
            prefetch_related_objects(self._result_cache, *self._prefetch_related_lookups)
            self._prefetch_done = True

    def _evaluate(self, call: str, fix: str) -> list[Any]:
        if self._result_cache is None or (
            self._prefetch_related_lookups and not self._prefetch_done
        ):
            check_async_unsafe(call, fix)
            self._fetch_all()
        assert self._result_cache is not None
        return self._result_cache

    def __iter__(self) -> Iterator[M]:
        return iter(self._evaluate("iterating a QuerySet", _ITERATE_FIX))

    def __aiter__(self) -> AsyncIterator[M]:
        # One thread hop fetches every row (and runs prefetches); use
        # aiterator() to stream a large result in chunks instead.
        async def generator() -> AsyncIterator[M]:
            if self._result_cache is None or (
                self._prefetch_related_lookups and not self._prefetch_done
            ):
                await to_async(self._fetch_all)()
            for item in self._result_cache or ():
                yield item

        return generator()

    def __len__(self) -> int:
        return len(self._evaluate("len() of a QuerySet", _LEN_FIX))

    def __bool__(self) -> bool:
        return bool(self._evaluate("bool() of a QuerySet", _BOOL_FIX))

    def __repr__(self) -> str:
        data: list[object] = list(self[: REPR_OUTPUT_SIZE + 1])
        if len(data) > REPR_OUTPUT_SIZE:
            data[-1] = "...(remaining elements truncated)..."
        return f"<{type(self).__name__} {data!r}>"

    # An index gives one object; a slice a new QuerySet (a list when this one
    # was already evaluated, which no type can tell), a slice with a step a list.
    @overload
    def __getitem__(self, k: int) -> M: ...
    @overload
    def __getitem__(self, k: slice[Any, Any, None]) -> Self: ...
    @overload
    def __getitem__(self, k: slice[Any, Any, int]) -> list[M]: ...
    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, bool) or not isinstance(k, int | slice):
            raise TypeError(f"QuerySet indices must be integers or slices, not {type(k).__name__}.")
        if isinstance(k, int):
            if k < 0:
                raise ValueError("Negative indexing is not supported.")
            if k >= MAX_SLICE:
                raise ValueError(f"QuerySet index {k} is larger than the maximum {MAX_SLICE}.")
        else:
            for bound in (k.start, k.stop):
                if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
                    raise TypeError("QuerySet slice bounds must be integers.")
                if bound is not None and bound < 0:
                    raise ValueError("Negative indexing is not supported.")
                if bound is not None and bound > MAX_SLICE:
                    raise ValueError(
                        f"QuerySet slice bound {bound} is larger than the maximum {MAX_SLICE}."
                    )
            if k.step is not None and (isinstance(k.step, bool) or not isinstance(k.step, int)):
                raise TypeError("QuerySet slice step must be an integer.")
            if k.step is not None and k.step <= 0:
                raise ValueError("QuerySet slice step must be a positive integer.")
        if self._result_cache is not None:
            return self._result_cache[k]
        if isinstance(k, slice):
            qs = self._chain()
            qs.query.set_limits(k.start, k.stop)
            return list(qs)[:: k.step] if k.step else qs
        check_async_unsafe(f"QuerySet[{k}]", _index_fix(k))
        qs = self._chain()
        qs.query.set_limits(k, k + 1)
        qs._fetch_all()
        assert qs._result_cache is not None
        if not qs._result_cache:
            raise IndexError("QuerySet index out of range")
        return qs._result_cache[0]

    # -- chainable (the others are in BaseQuerySet) -----------------------------------
    @classmethod
    def as_manager(cls) -> Self:
        """A manager whose QuerySets are this class (``Manager.from_queryset(cls)()``).

        Type checkers see it as an instance of this QuerySet class (as they
        see every ``Manager`` as a ``QuerySet``), so its own methods are typed.
        """
        if AS_MANAGER_HOOK is None:  # pragma: no cover - orm.models always loads with orm
            raise RuntimeError("QuerySet.as_manager() needs orm.models to be imported first.")
        return cast(Self, AS_MANAGER_HOOK(cls))

    as_manager.__func__.queryset_only = True  # type: ignore[attr-defined]

    def _check_for_update(self) -> None:
        query = self._query if self._terms is not None else self.query  # pending terms: no lock
        if query is not None and query.select_for_update and transaction.get_autocommit(self.db):
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )

    # -- database access -------------------------------------------------------------
    def iterator(self, chunk_size: int | None = None) -> Iterator[M]:
        """Stream results without caching them (server-side cursor on PostgreSQL)."""
        _check_chunk_size(chunk_size)
        return self._iterator(chunk_size)

    def _iterator(self, chunk_size: int | None) -> Iterator[M]:
        _guard("iterator", "aiterator")
        if self._prefetch_related_lookups and chunk_size is None:
            raise ValueError(
                "chunk_size must be provided when using QuerySet.iterator() after prefetch_related()."
            )
        self._check_for_update()
        size = chunk_size or ITERATOR_CHUNK_SIZE
        iterable = self._iterable_class(self, chunked_fetch=True, chunk_size=size)
        if not self._prefetch_related_lookups:
            yield from iterable
            return
        iterator = iter(iterable)
        while batch := list(islice(iterator, size)):
            prefetch_related_objects(batch, *self._prefetch_related_lookups)
            yield from batch

    async def aiterator(self, chunk_size: int = ITERATOR_CHUNK_SIZE) -> AsyncGenerator[M, None]:
        """Stream results in chunks: one thread hop per chunk, memory bounded by it.

        An abandoned stream is closed on its sync thread: at once by
        ``aclose()``, or when the loop finalizes the generator, and at the
        latest when ``asyncio.run()`` shuts the loop down (see ``streaming``).
        """
        # iterator() only validates and builds the generator; its body (and
        # the guard) runs on the sync thread, one chunk per hop.
        sync_iterator: Any = self.iterator(chunk_size)
        fetch = to_async(_next_chunk)
        await streaming.watch_loop()
        try:
            while True:
                chunk = await fetch(sync_iterator, chunk_size)
                for item in chunk:
                    yield item
                if len(chunk) < chunk_size:
                    # A short chunk means the sync generator has finished,
                    # which closed its cursor: no closing hop is needed.
                    return
        except asyncio.CancelledError:
            # Do not make the cancelled caller wait for the close, which is
            # queued on the sync thread behind the fetch still running there.
            streaming.close_soon(sync_iterator)
            raise
        except BaseException:  # GeneratorExit (aclose, finalizer, loop shutdown) or an error
            await streaming.close(sync_iterator)
            raise

    def count(self) -> int:
        """Number of rows (``len()`` of the cache when already fetched)."""
        if self._result_cache is not None:
            return len(self._result_cache)
        _guard("count", "acount")
        if self._query is None:
            # Keyed by the filter call (orm.query.terms), or by no call for a
            # manager's plain count(): no Query is built on a hit.
            return count_with(self._select_compiler(terms.COUNT))
        return int(get_aggregation(self.query, self.db, {"__count": Count("*")})["__count"])

    def exists(self) -> bool:
        """Whether any row matches (``SELECT 1 ... LIMIT 1``)."""
        if self._result_cache is not None:
            return bool(self._result_cache)
        _guard("exists", "aexists")
        if self._query is None:
            return bool(self._select_compiler(terms.EXISTS).has_results())
        return bool(self.query.exists_query().get_compiler(using=self.db).has_results())

    def contains(self, obj: Any) -> bool:
        """Whether ``obj`` (a saved instance of this model) is in the QuerySet."""
        self._not_support_combined_queries("contains()")
        if self._fields is not None:
            raise TypeError("Cannot call QuerySet.contains() after .values() or .values_list().")
        if not isinstance(obj, self.model):
            raise TypeError(f"'obj' must be a {self.model.__name__} instance.")
        if obj.pk is None:
            raise ValueError("QuerySet.contains() cannot be used on unsaved objects.")
        if self._result_cache is not None:
            return obj in self._result_cache
        _guard("contains", "acontains")
        return self.filter(pk=obj.pk).exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Compute aggregates over the whole QuerySet: ``aggregate(total=Sum("price"))``."""
        _guard("aggregate", "aaggregate")
        for arg in args:
            try:
                kwargs[arg.default_alias] = arg
            except (AttributeError, TypeError):
                raise TypeError("Complex aggregates require an alias.") from None
        for alias, expression in kwargs.items():
            check_alias(alias)
            if not getattr(expression, "contains_aggregate", False):
                raise TypeError(f"{alias} is not an aggregate expression.")
        return get_aggregation(self.query, self.db, kwargs)

    def get(self, *args: Any, **kwargs: Any) -> M:
        """The one object matching; ``DoesNotExist`` or ``MultipleObjectsReturned`` otherwise."""
        if self._query is not None and self._query.combinator and (args or kwargs):
            self._not_support_combined_queries("get(...) with filters")
        _guard("get", "aget")
        # A manager's get(pk=...) of a shape already compiled: from the statement cache.
        results = point.fetch(self, QuerySet, kwargs) if kwargs and not args else None
        if results is None:
            clone = self.filter(*args, **kwargs) if (args or kwargs) else self._chain()
            if clone._query is None and clone._terms is not None:
                clone._terms_kind = terms.GET  # the compiler's source adds the limit
            elif not clone.query.is_sliced:
                clone.query.clear_ordering()
                clone.query.set_limits(high=21)
            clone._fetch_all()
            results = clone._result_cache or []
        if len(results) == 1:
            found: M = results[0]
            return found
        if not results:
            raise self.model.DoesNotExist(f"{self.model.__name__} matching query does not exist.")
        more = "more than 20" if len(results) > 20 else str(len(results))
        raise self.model.MultipleObjectsReturned(
            f"get() returned more than one {self.model.__name__} -- it returned {more}!"
        )

    def create(self, **kwargs: Any) -> M:
        """Create, save and return an object."""
        _guard("create", "acreate")
        self._for_write = True  # routers pick db_for_write (as Django)
        obj = self.model(**kwargs)
        obj.save(force_insert=True, using=self.db)
        created: M = obj  # an instance of the model this QuerySet is typed for
        return created

    def get_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[M, bool]:
        """(object, created): look it up, or create it from kwargs + defaults."""
        _guard("get_or_create", "aget_or_create")
        self._for_write = True  # routers pick db_for_write (as Django)
        self._check_field_names(defaults)
        try:
            return self.get(**kwargs), False
        except self.model.DoesNotExist:
            params = self._create_params(kwargs, defaults)
            from orm.exceptions import IntegrityError

            try:
                with transaction.atomic(using=self.db):
                    return self.create(**params), True
            except IntegrityError:
                try:
                    return self.get(**kwargs), False
                except self.model.DoesNotExist:
                    pass
                raise

    def update_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        create_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[M, bool]:
        """(object, created): update the match with ``defaults`` or create it."""
        _guard("update_or_create", "aupdate_or_create")
        self._for_write = True  # routers pick db_for_write (as Django)
        self._check_field_names(defaults)
        self._check_field_names(create_defaults)
        defaults = defaults or {}
        with transaction.atomic(using=self.db):
            obj, created = self.select_for_update().get_or_create(
                defaults=create_defaults if create_defaults is not None else defaults, **kwargs
            )
            if created:
                return obj, created
            for key, value in defaults.items():
                setattr(obj, key, value() if callable(value) else value)
            obj.save(using=self.db)  # type: ignore[attr-defined]
        return obj, False

    def _check_field_names(self, values: dict[str, Any] | None) -> None:
        """Refuse ``defaults`` keys that are not fields (or settable properties), before SQL."""
        meta = self.model._meta
        for key in values or ():
            field = meta.get_field_or_none(key) if isinstance(key, str) else None
            if field is not None and (field.concrete or field.many_to_many is False):
                continue
            if isinstance(key, str) and isinstance(getattr(self.model, key, None), property):
                continue
            raise FieldError(
                f"Invalid field name {short_repr(key)} in defaults for model {self.model.__name__}. "
                f"Choices are: {', '.join(f.name for f in meta.concrete_fields)}"
            )

    def _create_params(
        self, lookup: dict[str, Any], defaults: dict[str, Any] | None
    ) -> dict[str, Any]:
        params = {k: v for k, v in lookup.items() if "__" not in k}
        for key, value in (defaults or {}).items():
            params[key] = value() if callable(value) else value
        meta = self.model._meta
        for key in params:
            if meta.get_field_or_none(key) is None and not hasattr(self.model, key):
                raise FieldError(
                    f"Invalid field name(s) for model {self.model.__name__}: {short_repr(key)}. "
                    f"Choices are: {', '.join(meta.query_names())}"
                )
        return params

    def bulk_create(
        self,
        objs: Sequence[M],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Sequence[str] | None = None,
        unique_fields: Sequence[str] | None = None,
    ) -> list[M]:
        """Insert many objects in few statements; primary keys are filled in.

        ``update_conflicts=True`` upserts: a row whose ``unique_fields`` match a
        stored row updates that row's ``update_fields`` instead of failing.
        """
        _guard("bulk_create", "abulk_create")
        self._for_write = True  # routers pick db_for_write (as Django)
        objs = list(objs)
        if batch_size is not None and batch_size <= 0:
            raise ValueError("Batch size must be a positive integer.")
        meta = self.model._meta
        if any(
            parent._meta.concrete_model is not meta.concrete_model
            for parent in meta.get_parent_list()
        ):
            # As Django: one INSERT per table and row would be needed, and the
            # parents' keys are not returned by every backend's bulk insert.
            raise ValueError("Can't bulk create a multi-table inherited model")
        writes.bulk_insert(
            self.model,
            objs,
            self.db,
            batch_size,
            ignore_conflicts,
            update_conflicts,
            update_fields,
            unique_fields,
        )
        return objs

    def bulk_update(
        self, objs: Sequence[M], fields: Sequence[str], batch_size: int | None = None
    ) -> int:
        """Update ``fields`` of many saved objects (one CASE statement per batch)."""
        _guard("bulk_update", "abulk_update")
        self._for_write = True  # routers pick db_for_write (as Django)
        return writes.bulk_update(self, list(objs), list(fields), batch_size)

    def update(self, **kwargs: Any) -> int:
        """UPDATE every matching row; returns the number of rows changed."""
        self._not_support_combined_queries("update()")
        _guard("update", "aupdate")
        self._for_write = True  # routers pick db_for_write (as Django)
        # self._query is None: no Query built yet (a manager's filter call), so no slice either.
        if self._query is not None and self._query.is_sliced:
            raise TypeError("Cannot update a query once a slice has been taken.")
        return writes.update(self, kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete the matching rows, applying ``on_delete`` rules; returns counts."""
        self._not_support_combined_queries("delete()")
        _guard("delete", "adelete")
        self._for_write = True  # routers pick db_for_write (as Django)
        if self.query.is_sliced:
            raise TypeError("Cannot use 'limit' or 'offset' with delete().")
        if self._fields is not None:
            raise TypeError("Cannot call delete() after .values() or .values_list()")
        collector = self.model._meta.new_collector(self.db)
        collector.origin = self  # handed to pre_delete/post_delete receivers
        del_query = self._chain()
        del_query.query.select_related = False
        del_query.query.clear_ordering()
        del_query._prefetch_related_lookups = ()
        collector.collect(list(del_query))
        deleted: tuple[int, dict[str, int]] = collector.delete()
        self._result_cache = None
        return deleted

    def first(self) -> M | None:
        """The first object by ordering (by pk when unordered), or None."""
        _guard("first", "afirst")
        qs = self if self.ordered else self.order_by("pk")
        obj: M
        for obj in qs[:1]:
            return obj
        return None

    def last(self) -> M | None:
        """The last object by ordering (by pk when unordered), or None."""
        _guard("last", "alast")
        qs = self.reverse() if self.ordered else self.order_by("-pk")
        obj: M
        for obj in qs[:1]:
            return obj
        return None

    @property
    def ordered(self) -> bool:
        """Whether the rows come back in a defined order, as Django's ``QuerySet.ordered``.

        True after ``order_by()`` with terms, or when the model's
        ``Meta.ordering`` applies (not after ``order_by()`` with none, nor on
        a grouped or combined query, where the compiler drops it); ``none()``
        counts as ordered. ``Paginator`` warns about unordered QuerySets.
        """
        q = self.query
        if q.is_empty_query or q.order_by:
            return True
        return bool(
            q.default_ordering
            and self.model._meta.ordering
            and not q.combinator
            and q.group_by is None
        )

    def latest(self, *fields: str) -> M:
        """The newest object by ``fields`` (default ``Meta.get_latest_by``)."""
        _guard("latest", "alatest")
        return self._earliest_or_latest(fields, reverse=True)

    def earliest(self, *fields: str) -> M:
        """The oldest object by ``fields`` (default ``Meta.get_latest_by``)."""
        _guard("earliest", "aearliest")
        return self._earliest_or_latest(fields, reverse=False)

    def _earliest_or_latest(self, fields: Sequence[str], reverse: bool) -> M:
        if not fields:
            latest_by = self.model._meta.get_latest_by
            if not latest_by:
                raise ValueError(
                    "earliest() and latest() require either fields as positional "
                    "arguments or 'get_latest_by' in the model's Meta."
                )
            fields = (latest_by,) if isinstance(latest_by, str) else tuple(latest_by)
        if self.query.is_sliced:
            raise TypeError("Cannot change a query once a slice has been taken.")
        qs = self._chain()
        qs.query.set_limits(high=1)
        qs.query.clear_ordering(force=True)
        qs.query.add_ordering(*fields)
        if reverse:
            qs.query.standard_ordering = not qs.query.standard_ordering
        return qs.get()

    def in_bulk(
        self, id_list: Sequence[Any] | None = None, *, field_name: str = "pk"
    ) -> dict[Any, M]:
        """Map ``field_name`` values to objects (``field_name`` must be unique)."""
        _guard("in_bulk", "ain_bulk")
        meta = self.model._meta
        field = meta.pk if field_name == "pk" else meta.get_field_or_none(field_name)
        if field is None or not (field.unique or field.primary_key):
            raise ValueError(
                f"in_bulk()'s field_name must be a unique field but {short_repr(field_name)} isn't."
            )
        attr = field.attname
        if id_list is not None:
            if not id_list:
                return {}
            qs = self.filter(**{f"{field_name}__in": list(id_list)})
        else:
            qs = self._chain()
        return {getattr(obj, attr): obj for obj in qs}

    def explain(self, format: str | None = None, **options: Any) -> str:
        """The database's query plan as text."""
        _guard("explain", "aexplain")
        return writes.explain(self, format, options)

    def raw(
        self,
        raw_query: str,
        params: Sequence[Any] = (),
        translations: dict[str, str] | None = None,
    ) -> RawQuerySet[M]:
        """Run trusted raw SQL (``%s`` placeholders, values as ``params``) returning models."""
        from orm.query.raw import RawQuerySet

        return RawQuerySet(raw_query, self.model, params, translations, using=self.db)

    # -- async twins (one line each; all logic is in the sync methods) ------------------
    async def aget(self, *args: Any, **kwargs: Any) -> M:
        """Async twin of :meth:`get`."""
        return await to_async(self.get)(*args, **kwargs)

    async def acreate(self, **kwargs: Any) -> M:
        """Async twin of :meth:`create`."""
        return await to_async(self.create)(**kwargs)

    async def aget_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[M, bool]:
        """Async twin of :meth:`get_or_create`."""
        return await to_async(self.get_or_create)(defaults, **kwargs)

    async def aupdate_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        create_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[M, bool]:
        """Async twin of :meth:`update_or_create`."""
        return await to_async(self.update_or_create)(defaults, create_defaults, **kwargs)

    async def abulk_create(
        self,
        objs: Sequence[M],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Sequence[str] | None = None,
        unique_fields: Sequence[str] | None = None,
    ) -> list[M]:
        """Async twin of :meth:`bulk_create`."""
        return await to_async(self.bulk_create)(
            objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
        )

    async def abulk_update(
        self, objs: Sequence[M], fields: Sequence[str], batch_size: int | None = None
    ) -> int:
        """Async twin of :meth:`bulk_update`."""
        return await to_async(self.bulk_update)(objs, fields, batch_size)

    async def acount(self) -> int:
        """Async twin of :meth:`count`."""
        return await to_async(self.count)()

    async def aexists(self) -> bool:
        """Async twin of :meth:`exists`."""
        return await to_async(self.exists)()

    async def acontains(self, obj: Any) -> bool:
        """Async twin of :meth:`contains`."""
        return await to_async(self.contains)(obj)

    async def afirst(self) -> M | None:
        """Async twin of :meth:`first`."""
        return await to_async(self.first)()

    async def alast(self) -> M | None:
        """Async twin of :meth:`last`."""
        return await to_async(self.last)()

    async def alatest(self, *fields: str) -> M:
        """Async twin of :meth:`latest`."""
        return await to_async(self.latest)(*fields)

    async def aearliest(self, *fields: str) -> M:
        """Async twin of :meth:`earliest`."""
        return await to_async(self.earliest)(*fields)

    async def ain_bulk(
        self, id_list: Sequence[Any] | None = None, *, field_name: str = "pk"
    ) -> dict[Any, M]:
        """Async twin of :meth:`in_bulk`."""
        return await to_async(self.in_bulk)(id_list, field_name=field_name)

    async def aaggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Async twin of :meth:`aggregate`."""
        return await to_async(self.aggregate)(*args, **kwargs)

    async def aupdate(self, **kwargs: Any) -> int:
        """Async twin of :meth:`update`."""
        return await to_async(self.update)(**kwargs)

    async def adelete(self) -> tuple[int, dict[str, int]]:
        """Async twin of :meth:`delete`."""
        return await to_async(self.delete)()

    async def aexplain(self, format: str | None = None, **options: Any) -> str:
        """Async twin of :meth:`explain`."""
        return await to_async(self.explain)(format, **options)


def _check_chunk_size(chunk_size: Any) -> None:
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0
    ):
        raise ValueError(f"Chunk size must be strictly positive, got {short_repr(chunk_size)}.")


def _next_chunk(iterator: Iterator[Any], size: int) -> list[Any]:
    return list(islice(iterator, size))


__all__ = ["QuerySet"]
