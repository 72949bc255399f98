"""How a QuerySet turns rows into results: models, dicts, tuples or single values."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from orm.abc import ModelClass
from orm.signals import post_init, pre_init
from orm.sql.compiler import GET_ITERATOR_CHUNK_SIZE, SQLCompiler
from orm.sql.klass_info import KlassInfo

if TYPE_CHECKING:
    from orm.query.queryset import QuerySet


class ResultKind(Enum):
    """What a QuerySet yields per row; each kind has one iterable class below."""

    MODELS = "models"
    VALUES = "values"
    VALUES_LIST = "values_list"
    FLAT = "flat"
    NAMED = "named"


def instance_loader(model: ModelClass) -> Any:
    """``model.from_db``, or a wrapper sending ``pre_init``/``post_init`` while they have receivers.

    Chosen once per query, not per row: with no receiver the rows are built
    by ``from_db`` alone, as fast as before signals existed.
    """
    from_db = model.from_db
    if not (pre_init.receivers or post_init.receivers):
        return from_db
    if not (pre_init.has_listeners(model) or post_init.has_listeners(model)):
        return from_db

    def load(db: str, field_names: list[str], values: Any) -> Any:
        # As Django, whose from_db() runs __init__: pre_init gets the row's
        # values as args, post_init the built instance.
        pre_init.send(sender=model, args=tuple(values), kwargs={})
        obj = from_db(db, field_names, values)
        post_init.send(sender=model, instance=obj)
        return obj

    return load


class BaseIterable:
    """Iterates a QuerySet's rows once (optionally streaming in chunks)."""

    kind: ClassVar[ResultKind]

    def __init__(self, queryset: QuerySet[Any], chunked_fetch: bool = False,
                 chunk_size: int = GET_ITERATOR_CHUNK_SIZE) -> None:
        self.queryset = queryset
        self.chunked_fetch = chunked_fetch
        self.chunk_size = chunk_size

    def rows(self) -> tuple[Any, Iterator[Any]]:
        """(compiler, converted rows); the statement has run when this returns."""
        qs = self.queryset
        compiler = qs._select_compiler(qs._terms_kind)
        return compiler, compiler.results_iter(self.chunked_fetch, self.chunk_size)

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class ModelIterable(BaseIterable):
    """Yields model instances built with ``from_db`` (no ``__init__`` validation)."""

    kind = ResultKind.MODELS

    def __iter__(self) -> Iterator[Any]:
        qs = self.queryset
        db = qs.db
        compiler, rows = self.rows()
        info: KlassInfo | None = compiler.klass_info
        if info is None:
            return
        attnames = info.attnames
        start, end = info.start, info.end
        populators = [RelatedPopulator(related, db) for related in info.related]
        annotations = list(compiler.annotation_col_map.items())
        from_db = instance_loader(info.model)
        known = qs._known_related_objects
        if not populators and not annotations and not known and start == 0:
            # The common case: a row is exactly the model's columns.
            for row in rows:
                yield from_db(db, attnames, row)
            return
        for row in rows:
            obj = from_db(db, attnames, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations:
                setattr(obj, name, row[position])
            for field_name, value in known:
                obj._state.fields_cache[field_name] = value
            yield obj


class RelatedPopulator:
    """Builds one ``select_related`` object from its slice of a row and caches it on the parent.

    Made once per query (as Django's ``RelatedPopulator``): the cache names on
    both sides are looked up here, not per row.
    """

    def __init__(self, info: KlassInfo, db: str) -> None:
        self.db = db
        self.start, self.end = info.start, info.end
        self.attnames = info.attnames
        self.pk_position = info.pk_position
        self.from_db = instance_loader(info.model)
        relation = info.relation
        self.back_name: str | None
        self.attr_name = info.attr_name
        if info.attr_name is not None:
            self.cache_name, self.back_name = info.attr_name, None
        elif info.reverse:
            # Reverse one-to-one: the parent holds it under the accessor name,
            # and it points back through its own forward field.
            self.cache_name = relation.get_accessor_name()
            self.back_name = relation.field.name
        else:
            self.cache_name = relation.name
            self.back_name = relation.remote_field.get_accessor_name() if relation.one_to_one else None
        self.populators = [RelatedPopulator(related, db) for related in info.related]

    def populate(self, row: Any, parent: Any) -> None:
        """Set the related object (or None when its primary key is NULL) on ``parent``."""
        values = row[self.start:self.end]
        if values[self.pk_position] is None:
            obj = None
        else:
            obj = self.from_db(self.db, self.attnames, values)
            for populator in self.populators:
                populator.populate(row, obj)
        if self.attr_name is not None:
            # A FilteredRelation: the relation itself may hold another object.
            setattr(parent, self.attr_name, obj)
            return
        parent._state.fields_cache[self.cache_name] = obj
        if obj is None:
            return
        if self.back_name is not None:
            obj._state.fields_cache[self.back_name] = parent


def _names(compiler: SQLCompiler) -> list[str]:
    return [alias or "" for _expr, alias in compiler.select]


class ValuesIterable(BaseIterable):
    """Yields a dict per row (``values()``)."""

    kind = ResultKind.VALUES

    def __iter__(self) -> Iterator[dict[str, Any]]:
        compiler, rows = self.rows()
        names = _names(compiler)
        for row in rows:
            yield dict(zip(names, row, strict=True))


class ValuesListIterable(BaseIterable):
    """Yields a tuple per row (``values_list()``)."""

    kind = ResultKind.VALUES_LIST

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        compiler, rows = self.rows()
        order = _value_order(self.queryset, compiler)
        if order is None:
            for row in rows:
                yield row if type(row) is tuple else tuple(row)
        else:
            for row in rows:
                yield tuple(row[i] for i in order)


def _value_order(queryset: QuerySet[Any], compiler: SQLCompiler) -> list[int] | None:
    # values_list("a", "ann", "b") selects fields before annotations; put the
    # columns back in the order the caller named them.
    fields = queryset._fields
    names = _names(compiler)
    if not fields or list(fields) == names:
        return None
    return [names.index(name) for name in fields]


class NamedValuesListIterable(ValuesListIterable):
    """Yields a named tuple per row (``values_list(named=True)``)."""

    kind = ResultKind.NAMED

    def __iter__(self) -> Iterator[Any]:
        queryset = self.queryset
        names = list(queryset._fields or ()) or [
            alias for _e, alias in queryset.query.get_compiler(using=queryset.db).query.select
        ]
        row_type = namedtuple("Row", names, rename=True)  # type: ignore[misc]
        for row in super().__iter__():
            yield row_type(*row)


class FlatValuesListIterable(BaseIterable):
    """Yields the single selected value per row (``values_list(flat=True)``)."""

    kind = ResultKind.FLAT

    def __iter__(self) -> Iterator[Any]:
        compiler, rows = self.rows()
        for row in rows:
            yield row[0]


#: The iterable class of each result kind.
ITERABLES: dict[ResultKind, type[BaseIterable]] = {
    cls.kind: cls
    for cls in (ModelIterable, ValuesIterable, ValuesListIterable, NamedValuesListIterable, FlatValuesListIterable)
}
