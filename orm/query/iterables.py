"""How a QuerySet turns rows into results: models, dicts, tuples or single values."""

from __future__ import annotations

import gc
from collections import namedtuple
from collections.abc import Iterable, Iterator
from enum import Enum
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from orm.abc import ModelClass
from orm.query.row_makers import (
    Converters,
    RowFunctions,
    cached,
    model_factory,
    nodes,
    tuple_factory,
)
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

    def __init__(
        self,
        queryset: QuerySet[Any],
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
    ) -> None:
        self.queryset = queryset
        self.chunked_fetch = chunked_fetch
        self.chunk_size = chunk_size

    def rows(self) -> tuple[Any, Iterator[Any]]:
        """(compiler, converted rows); the statement has run when this returns."""
        qs = self.queryset
        compiler = qs._select_compiler(qs._terms_kind)
        return compiler, compiler.results_iter(self.chunked_fetch, self.chunk_size)

    def raw_rows(self) -> tuple[Any, Iterable[Any], Converters]:
        """(compiler, driver rows, the converters they need); the statement has run when this returns."""
        qs = self.queryset
        compiler = qs._select_compiler(qs._terms_kind)
        rows, converters = compiler.raw_results(self.chunked_fetch, self.chunk_size)
        return compiler, rows, converters

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


def _loader(model: ModelClass) -> tuple[Any, bool]:
    """(the loader of ``model``'s rows, whether it is the plain ``Model.from_db`` a row function inlines)."""
    loader = instance_loader(model)
    plain = getattr(model.from_db, "__func__", None) is getattr(model, "_plain_from_db", _NOT_PLAIN)
    # A loader other than from_db itself sends the init signals.
    return loader, plain and getattr(loader, "__func__", None) is not None


_NOT_PLAIN = object()


class ModelIterable(BaseIterable):
    """Yields model instances built as ``from_db`` builds them (no ``__init__`` validation).

    One fused row function per query shape (``orm.query.row_makers``) converts
    the columns and builds the instance and its ``select_related`` objects.
    """

    kind = ResultKind.MODELS

    def __iter__(self) -> Iterator[Any]:
        qs = self.queryset
        compiler, rows, converters = self.raw_rows()
        info: KlassInfo | None = compiler.klass_info
        if info is None:
            return iter(())
        statement = compiler._statement
        if statement is not None and not (pre_init.receivers or post_init.receivers):
            # No init signal anywhere: the loaders are the models' own from_db,
            # fixed per statement, so the row functions are made once and kept
            # with it (a receiver connected later takes the per-call branch
            # below, which checks each model's listeners).
            prepared = statement.row_code.get(PLAIN_MODELS)
            if prepared is None:
                prepared = statement.row_code[PLAIN_MODELS] = _prepare(info, converters, compiler)
        else:
            prepared = _prepare(info, converters, compiler)
        objs = build_models(prepared, compiler.connection, qs.db, rows)
        known = qs._known_related_objects
        if known:
            objs = _with_known(objs, known)
        return _closing(objs, rows) if self.chunked_fetch else objs


#: ``Statement.row_code`` key of a model statement's prepared row function while no init signal has receivers.
PLAIN_MODELS = ("models", "no init signals")


def build_models(
    prepared: RowFunctions, connection: Any, db: str, rows: Iterable[Any]
) -> Iterator[Any]:
    """The instances of ``rows`` built by a statement's row functions (``_prepare``'s pair)."""
    return _apply(prepared, rows, connection, db)


def _prepare(info: KlassInfo, converters: Converters, compiler: Any) -> RowFunctions:
    """The row functions for model rows laid out as ``info``, with the models' loaders now."""
    loaders = [_loader(node.model) for node in nodes(info)]
    plain = tuple(is_plain for _loader_, is_plain in loaders)
    annotations = tuple(compiler.annotation_col_map.items())

    def build() -> tuple[Any, list[Any]]:
        return model_factory(info, converters, annotations, plain)

    factory, constants = cached(compiler._statement, ("models", plain), build)
    made: RowFunctions = factory(
        constants,
        [loader for loader, _p in loaders],
        object.__new__,
        getattr(info.model, "_state_class", None),
    )
    return made


#: Fewer fetched rows than this are built with the cyclic collector left as it is.
GC_PAUSE_ROWS = 256


def _apply(made: RowFunctions, rows: Iterable[Any], connection: Any, db: Any) -> Iterator[Any]:
    """The results of ``rows``: built in one loop when fetched as a list, else lazily row by row."""
    make, make_all = made
    if type(rows) is not list:
        return map(make, rows, repeat(connection), repeat(db))
    if len(rows) < GC_PAUSE_ROWS or not gc.isenabled():
        return iter(make_all(rows, connection, db))
    # Each row allocates two or three objects the cyclic collector tracks
    # (an instance, its dict and ModelState; a tuple), none of them garbage.
    # Left on, the collector runs every 700 allocations and, as those
    # survivors reach the older generations, full collections walk every
    # live object of the process (a third of building a select_related row
    # of two models on SQLite, measured). Paused for the loop, the same
    # young objects are walked once by the next collection. Only the call
    # that paused it resumes it: a nested query (a from_db override) or
    # another thread that found it paused leaves it alone; a gc.disable()
    # made by another thread during this loop is undone by it.
    gc.disable()
    try:
        return iter(make_all(rows, connection, db))
    finally:
        gc.enable()


def _with_known(objs: Iterator[Any], known: tuple[tuple[str, Any], ...]) -> Iterator[Any]:
    for obj in objs:
        for field_name, value in known:
            obj._state.fields_cache[field_name] = value
        yield obj


def _closing(results: Iterator[Any], rows: Iterable[Any]) -> Iterator[Any]:
    """``results``, closing the streaming cursor under ``rows`` when they end or are abandoned.

    ``map()`` has no ``close()``: without this, a stream stopped early would
    close its (server-side) cursor only when the garbage collector got to it,
    not at once on the thread that owns the connection.
    """
    try:
        yield from results
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _names(compiler: SQLCompiler) -> list[str]:
    return [alias or "" for _expr, alias in compiler.select]


class _TupleIterable(BaseIterable):
    """Rows as tuples, dicts or single values: the driver's rows as-is when nothing needs converting."""

    shape: ClassVar[str]

    def _results(self, names: list[str] | None = None) -> Iterator[Any]:
        compiler, rows, converters = self.raw_rows()
        # Flat rows are the first column, whatever else a query selects.
        order = _value_order(self.queryset, compiler) if self.shape == "tuple" else None
        if self.shape == "dict":
            names = _names(compiler)
        width = len(compiler.select)
        if not converters and self.shape == "tuple" and order is None:
            # The driver's tuples are the rows (no per-row Python at all).
            return iter(rows)
        if not converters and self.shape == "flat":
            return map(_first, rows)

        def build() -> RowFunctions:
            factory, constants = tuple_factory(width, converters, order, self.shape, names or ())
            made: RowFunctions = factory(constants, None, None, None)
            return made

        key = (self.shape, None if order is None else tuple(order))
        results = _apply(cached(compiler._statement, key, build), rows, compiler.connection, None)
        return _closing(results, rows) if self.chunked_fetch else results


_first = itemgetter(0)


class ValuesIterable(_TupleIterable):
    """Yields a dict per row (``values()``)."""

    kind = ResultKind.VALUES
    shape = "dict"

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._results()


class ValuesListIterable(_TupleIterable):
    """Yields a tuple per row (``values_list()``)."""

    kind = ResultKind.VALUES_LIST
    shape = "tuple"

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self._results()


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
        return map(row_type._make, self._results())


class FlatValuesListIterable(_TupleIterable):
    """Yields the single selected value per row (``values_list(flat=True)``)."""

    kind = ResultKind.FLAT
    shape = "flat"

    def __iter__(self) -> Iterator[Any]:
        return self._results()


#: The iterable class of each result kind.
ITERABLES: dict[ResultKind, type[BaseIterable]] = {
    cls.kind: cls
    for cls in (
        ModelIterable,
        ValuesIterable,
        ValuesListIterable,
        NamedValuesListIterable,
        FlatValuesListIterable,
    )
}
