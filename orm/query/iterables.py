"""How a QuerySet turns rows into results: models, dicts, tuples or single values."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from typing import Any

from orm.signals import post_init, pre_init
from orm.sql.compiler import GET_ITERATOR_CHUNK_SIZE


def instance_loader(model: Any) -> Any:
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

    def __init__(self, queryset: Any, chunked_fetch: bool = False,
                 chunk_size: int = GET_ITERATOR_CHUNK_SIZE) -> None:
        self.queryset = queryset
        self.chunked_fetch = chunked_fetch
        self.chunk_size = chunk_size

    def rows(self) -> tuple[Any, Iterator[Any]]:
        """(compiler, converted rows); the statement has run when this returns."""
        qs = self.queryset
        compiler = qs.query.get_compiler(using=qs.db)
        return compiler, compiler.results_iter(self.chunked_fetch, self.chunk_size)

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class ModelIterable(BaseIterable):
    """Yields model instances built with ``from_db`` (no ``__init__`` validation)."""

    def __iter__(self) -> Iterator[Any]:
        qs = self.queryset
        db = qs.db
        compiler, rows = self.rows()
        info = compiler.klass_info
        if info is None:
            return
        model = info["model"]
        attnames = [fld.attname for fld in info["fields"]]
        start, end = info["start"], info["end"]
        related = info["related"]
        annotations = list(compiler.annotation_col_map.items())
        from_db = instance_loader(model)
        known = qs._known_related_objects
        if not related and not annotations and not known and start == 0:
            # The common case: a row is exactly the model's columns.
            for row in rows:
                yield from_db(db, attnames, row)
            return
        for row in rows:
            obj = from_db(db, attnames, row[start:end])
            if related:
                _populate_related(obj, row, related, db)
            for name, position in annotations:
                setattr(obj, name, row[position])
            for field_name, value in known:
                obj._state.fields_cache[field_name] = value
            yield obj


def _populate_related(obj: Any, row: Any, infos: list[dict[str, Any]], db: str) -> None:
    for info in infos:
        model = info["model"]
        values = row[info["start"]:info["end"]]
        layout = info.get("layout")
        if layout is None:  # computed once per query, not per row
            layout = info["layout"] = (
                info["fields"].index(model._meta.pk), [fld.attname for fld in info["fields"]])
        pk_position, attnames = layout
        field = info["field"]
        if values[pk_position] is None:
            rel_obj = None
        else:
            rel_obj = instance_loader(model)(db, attnames, values)
            _populate_related(rel_obj, row, info["related"], db)
        if info["reverse"]:
            obj._state.fields_cache[field.get_accessor_name()] = rel_obj
            if rel_obj is not None:
                rel_obj._state.fields_cache[field.field.name] = obj
        else:
            obj._state.fields_cache[field.name] = rel_obj
            if rel_obj is not None and field.one_to_one:
                rel_obj._state.fields_cache[field.remote_field.get_accessor_name()] = obj


def _names(compiler: Any) -> list[str]:
    return [alias or "" for _expr, alias in compiler.select]


class ValuesIterable(BaseIterable):
    """Yields a dict per row (``values()``)."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        compiler, rows = self.rows()
        names = _names(compiler)
        for row in rows:
            yield dict(zip(names, row, strict=True))


class ValuesListIterable(BaseIterable):
    """Yields a tuple per row (``values_list()``)."""

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        compiler, rows = self.rows()
        order = _value_order(self.queryset, compiler)
        if order is None:
            for row in rows:
                yield row if type(row) is tuple else tuple(row)
        else:
            for row in rows:
                yield tuple(row[i] for i in order)


def _value_order(queryset: Any, compiler: Any) -> list[int] | None:
    # values_list("a", "ann", "b") selects fields before annotations; put the
    # columns back in the order the caller named them.
    fields = queryset._fields
    names = _names(compiler)
    if not fields or list(fields) == names:
        return None
    return [names.index(name) for name in fields]


class NamedValuesListIterable(ValuesListIterable):
    """Yields a named tuple per row (``values_list(named=True)``)."""

    def __iter__(self) -> Iterator[Any]:
        queryset = self.queryset
        names = list(queryset._fields) or [
            alias for _e, alias in queryset.query.get_compiler(using=queryset.db).query.select
        ]
        row_type = namedtuple("Row", names, rename=True)  # type: ignore[misc]
        for row in super().__iter__():
            yield row_type(*row)


class FlatValuesListIterable(BaseIterable):
    """Yields the single selected value per row (``values_list(flat=True)``)."""

    def __iter__(self) -> Iterator[Any]:
        compiler, rows = self.rows()
        for row in rows:
            yield row[0]
