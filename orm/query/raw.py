"""``Model.objects.raw()``: trusted SQL with bound parameters, rows as model instances."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from orm.db.connections import connections
from orm.query.iterables import instance_loader
from orm.query.prefetch import check_prefetch_path, prefetch_related_objects, to_attr_paths
from orm.utils.asyncio import check_async_unsafe, to_async

if TYPE_CHECKING:
    from orm.fields import Field

#: The model whose instances the rows become (``Book.objects.raw(...)``: ``Book``).
M = TypeVar("M")


class RawQuerySet(Generic[M]):
    """Iterate a raw SELECT as model instances; columns map to fields by name.

    The query runs on first use (iteration, ``len()``, ``bool()``, indexing or
    ``async for``); its instances are then kept, as a QuerySet keeps its rows.

    The SQL text must be developer-written; every value belongs in ``params``
    (``%s`` placeholders on every backend), never formatted into the text.
    """

    def __init__(
        self,
        raw_query: str,
        model: Any,
        params: Sequence[Any] = (),
        translations: dict[str, str] | None = None,
        using: str | None = None,
    ) -> None:
        if not isinstance(raw_query, str):
            raise TypeError("raw() needs the SQL as a str.")
        self.raw_query = raw_query
        self.model = model
        self.params = list(params)
        self.translations = translations or {}
        self.db = using or "default"
        self._result_cache: list[Any] | None = None
        self._prefetch_related_lookups: tuple[Any, ...] = ()

    def _clone(self) -> RawQuerySet[M]:
        clone: RawQuerySet[M] = RawQuerySet(
            self.raw_query, self.model, self.params, self.translations, self.db
        )
        clone._prefetch_related_lookups = self._prefetch_related_lookups
        return clone

    def prefetch_related(self, *lookups: Any) -> RawQuerySet[M]:
        """A copy that loads these relations after its rows, one query per level (``None`` clears)."""
        clone = self._clone()
        if lookups == (None,):
            clone._prefetch_related_lookups = ()
            return clone
        known = list(clone._prefetch_related_lookups)
        for lookup in lookups:
            check_prefetch_path(self.model, lookup, to_attr_paths(known))
            known.append(lookup)
        clone._prefetch_related_lookups = tuple(known)
        return clone

    def using(self, alias: str) -> RawQuerySet[M]:
        """The same raw query on another database alias."""
        clone = self._clone()
        clone.db = alias
        return clone

    def iterator(self) -> Iterator[M]:
        """The instances without keeping them (the result cache stays empty).

        The rows are fetched at once, as ``raw()`` always does; only the
        instances are not cached. Prefetched relations still load, for all rows.
        """
        check_async_unsafe("RawQuerySet.iterator()", "`async for obj in raw_qs`")
        objs = self._rows()
        if self._prefetch_related_lookups:
            prefetch_related_objects(objs, *self._prefetch_related_lookups)
        return iter(objs)

    def _rows(self) -> list[Any]:
        connection = connections[self.db]
        meta = self.model._meta
        with connection.cursor() as cursor:
            cursor.execute(self.raw_query, self.params)
            columns: list[str] = [d[0] for d in cursor.description]  # DB-API: the name first
            names = [self.translations.get(column, column) for column in columns]
            rows = cursor.fetchall()
        by_column = {f.column: f for f in meta.concrete_fields}
        by_column.update({f.attname: f for f in meta.concrete_fields})
        fields = [by_column.get(name) for name in names]
        if meta.pk not in fields:
            raise ValueError("Raw query must include the primary key.")
        converters = [
            (i, connection.ops.get_db_converters(_Expr(f)) + f.get_db_converters(connection), f)
            for i, f in enumerate(fields)
            if f is not None
        ]
        result = []
        from_db = instance_loader(self.model)
        for row in rows:
            values = list(row)
            for i, funcs, f in converters:
                for func in funcs:
                    values[i] = func(values[i], f, connection)
            attnames = [f.attname for f in fields if f is not None]
            obj = from_db(
                self.db, attnames, [v for v, f in zip(values, fields, strict=True) if f is not None]
            )
            for name, f, value in zip(names, fields, values, strict=True):
                if f is None:
                    setattr(obj, name, value)
            result.append(obj)
        return result

    def _fetch_all(self) -> list[Any]:
        """Run the query once; later iteration, ``len()`` and ``bool()`` reuse the rows."""
        if self._result_cache is None:
            objs = self._rows()
            if self._prefetch_related_lookups:
                prefetch_related_objects(objs, *self._prefetch_related_lookups)
            self._result_cache = objs
        return self._result_cache

    def _evaluate(self, call: str) -> list[Any]:
        if self._result_cache is None:
            check_async_unsafe(f"{call} a RawQuerySet", "`async for obj in raw_qs`")
        return self._fetch_all()

    def __iter__(self) -> Iterator[M]:
        return iter(self._evaluate("iterating"))

    def __len__(self) -> int:
        return len(self._evaluate("len() of"))

    def __bool__(self) -> bool:
        return bool(self._evaluate("bool() of"))

    @overload
    def __getitem__(self, k: int) -> M: ...
    @overload
    def __getitem__(self, k: slice) -> list[M]: ...
    def __getitem__(self, k: Any) -> Any:
        return self._evaluate("indexing")[k]

    def __aiter__(self) -> AsyncIterator[M]:
        async def generator() -> AsyncIterator[M]:
            for obj in await to_async(self._fetch_all)():
                yield obj

        return generator()

    def __repr__(self) -> str:
        return f"<RawQuerySet: {self.raw_query}>"


class _Expr:
    def __init__(self, field: Field) -> None:
        self.output_field = field
