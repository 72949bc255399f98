"""Fused row functions: one generated function per query shape turns a driver row into its result.

A row used to pass through three layers of Python per row: a loop over the
column converters building a list, ``from_db`` zipping names to values, then
a loop over the ``select_related`` populators and the annotations. Here each
query shape (its columns, converters, models and relations) is written once
as Python source and compiled: the function it defines reads every column by
its constant position, calls a column's converters inline, and builds each
instance's ``__dict__`` as one dict display. Nothing in it loops or branches
on the shape per row; the only tests left are the ones the data needs (a NULL
value skips its converter, a NULL primary key of a nullable join gives None).

The compiled code is structural: the objects it names (model classes,
converters, loaders) arrive as arguments of the factory it defines, and the
connection and database alias of each execution as arguments of the row
functions it returns. So the same source text compiles once per process
(:func:`_compiled`), and a statement's row functions are made once and kept
with it (``Statement.row_code`` in the compiler's cache): a query that reuses
its statement makes no function (making the two closures cost about 0.5 us,
a twentieth of a ``get(pk=)`` on SQLite's sync thread).

A model that overrides ``from_db``, or has ``pre_init``/``post_init``
receivers, is built by its loader (``instance_loader``) with the converted
values, exactly as before; only the plain ``Model.from_db`` is inlined.

The factory gives the row function twice: ``_row`` for one row (a stream
maps it over its chunks) and ``_rows``, the same body inlined in a loop over
a whole fetched list, which saves a Python call per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from typing import Any

from orm.backends.base.operations import INLINE
from orm.sql.klass_info import KlassInfo

#: The function building one result from one driver row: ``_row(row, connection, db)``.
RowFunction = Callable[[Any, Any, Any], Any]
#: What a factory returns: the row function, and the same body looped over a
#: fetched list of rows (``_rows(rows, connection, db)``).
RowFunctions = tuple[RowFunction, Callable[[list[Any], Any, Any], list[Any]]]
#: ``(position, converters, expression)`` of each converted column, as the compiler chose them.
Converters = Sequence[tuple[int, Sequence[Any], Any]]

_MISSING = object()


@lru_cache(maxsize=512)
def _compiled(source: str) -> Callable[..., RowFunctions]:
    """The ``_factory`` the source defines; the same shape compiles once per process."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<orm row function>", "exec"), namespace)  # noqa: S102 - our own generated text
    factory: Callable[..., RowFunctions] = namespace["_factory"]
    return factory


class _Writer:
    """Builds the source of one row function and the constant objects it names."""

    def __init__(self, converters: Converters) -> None:
        self.body: list[str] = []
        # Constants travel in one list, unpacked by name at the top of the factory.
        self.constants: list[Any] = []
        self.names: list[str] = []
        self.converters = {position: (funcs, expr) for position, funcs, expr in converters}

    def constant(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names.append(name)
        self.constants.append(value)
        return name

    def column(self, position: int) -> str:
        """An expression giving the converted value of ``row[position]``."""
        found = self.converters.get(position)
        if found is None:
            return f"r[{position}]"
        funcs, expr = found
        e = self.constant("e", expr)
        if len(funcs) == 1:
            # As convert_rows did: a single converter maps None to None, so skip it.
            c = self.constant("c", funcs[0])
            call = f"{c}(v, {e}, _conn)"
            found_inline = getattr(funcs[0], INLINE, None)
            if found_inline is not None:
                # The converter's own expression for its usual input type, inline.
                kind, template, helpers = found_inline
                names = {name: self.constant("h", helper) for name, helper in helpers.items()}
                for name, bound in names.items():
                    template = re.sub(rf"\b{name}\b", bound, template)
                call = f"({template} if v.__class__ is {self.constant('t', kind)} else {call})"
            return f"(None if (v := r[{position}]) is None else {call})"
        value = f"r[{position}]"
        for func in funcs:
            value = f"{self.constant('c', func)}({value}, {e}, _conn)"
        return value

    def source(self, result: str) -> str:
        lines = ["def _factory(_constants, _loaders, _new, _state):"]
        if self.names:
            lines.append(f"    ({', '.join(self.names)},) = _constants")
        lines.append("    def _row(r, _conn, _db):")
        lines.extend("        " + line for line in self.body)
        lines.append(f"        return {result}")
        # The same body inlined in a loop over a whole fetched list: no
        # Python call per row (about 60 ns of a row's 0.5 us on CPython 3.11).
        lines.append("    def _rows(rows, _conn, _db):")
        if self.body:
            lines.append("        out = []")
            lines.append("        append = out.append")
            lines.append("        for r in rows:")
            lines.extend("            " + line for line in self.body)
            lines.append(f"            append({result})")
            lines.append("        return out")
        else:
            lines.append(f"        return [{result} for r in rows]")
        lines.append("    return _row, _rows")
        return "\n".join(lines) + "\n"


def _needs_setattr(model: Any, name: str) -> bool:
    # An annotation named like a class attribute (a property, a descriptor)
    # is assigned through setattr as before; any other is a plain instance
    # attribute and goes straight into the instance dict.
    return getattr(model, name, _MISSING) is not _MISSING


class _ModelShape:
    """Writes the statements building every model of a row (the queried one and its relations)."""

    def __init__(self, writer: _Writer, plain: Sequence[bool]) -> None:
        self.writer = writer
        self.plain = plain
        self.count = 0

    def node(self, info: KlassInfo, extra: Sequence[tuple[str, int]] = ()) -> tuple[str, list[str]]:
        """Write the building of ``info``'s instance; (its variable, lines setting its caches)."""
        index = self.count
        self.count += 1
        w = self.writer
        obj = f"o{index}"
        values = [w.column(info.start + i) for i in range(len(info.attnames))]
        later: list[str] = []
        if self.plain[index]:
            klass = w.constant("k", info.model)
            items = [
                f"{name!r}: {value}" for name, value in zip(info.attnames, values, strict=True)
            ]
            items.append(f"'_state': s{index}")
            for name, position in extra:
                if _needs_setattr(info.model, name):
                    later.append(f"setattr({obj}, {name!r}, {w.column(position)})")
                else:
                    items.append(f"{name!r}: {w.column(position)}")
            w.body.append(f"s{index} = _new(_state); s{index}.db = _db; s{index}.adding = False")
            w.body.append(f"{obj} = _new({klass}); {obj}.__dict__ = {{{', '.join(items)}}}")
        else:
            names = w.constant("n", list(info.attnames))
            w.body.append(f"{obj} = _loaders[{index}](_db, {names}, [{', '.join(values)}])")
            later.extend(
                f"setattr({obj}, {name!r}, {w.column(position)})" for name, position in extra
            )
        w.body.extend(later)
        return obj, self.relations(info, obj)

    def relations(self, info: KlassInfo, parent: str) -> list[str]:
        """Write the related objects of ``parent``; the cache entries it gets, in populating order."""
        cache: list[str] = []
        for related in info.related:
            cache.extend(self.related(related, parent))
        return cache

    def related(self, info: KlassInfo, parent: str) -> list[str]:
        """Write one related object (None when its primary key is NULL); the parent's cache entry for it."""
        w = self.writer
        pk = w.column(info.start + info.pk_position)
        # The body of the "primary key is not NULL" branch is written aside.
        outer = w.body
        w.body = []
        obj, cache = self.node(info)
        back = _back_name(info)
        if back is not None:
            cache.append(f"{back!r}: {parent}")
        self.set_cache(obj, cache)
        inner, w.body = w.body, outer
        w.body.append(f"if {pk} is None:")
        w.body.append(f"    {obj} = None")
        w.body.append("else:")
        w.body.extend("    " + line for line in inner)
        if info.attr_name is not None:
            # A FilteredRelation: the object is an attribute, the relation's cache stays as it is.
            w.body.append(f"setattr({parent}, {info.attr_name!r}, {obj})")
            return []
        return [f"{_cache_name(info)!r}: {obj}"]

    def set_cache(self, obj: str, entries: list[str]) -> None:
        """Write the setting of ``obj``'s relation cache entries (``'name': variable`` items)."""
        if not entries:
            return
        index = int(obj[1:])
        if self.plain[index]:
            # A fresh state has no fields_cache yet (it is made on first use).
            self.writer.body.append(f"s{index}.fields_cache = {{{', '.join(entries)}}}")
        else:
            self.writer.body.append(f"{obj}._state.fields_cache.update({{{', '.join(entries)}}})")


def _cache_name(info: KlassInfo) -> str:
    relation = info.relation
    if info.reverse:
        # Reverse one-to-one: the parent holds it under the accessor name.
        return str(relation.get_accessor_name())
    return str(relation.name)


def _back_name(info: KlassInfo) -> str | None:
    if info.attr_name is not None:
        return None
    relation = info.relation
    if info.reverse:
        # It points back to the parent through its own forward field.
        return str(relation.field.name)
    if relation.one_to_one:
        return str(relation.remote_field.get_accessor_name())
    return None


def nodes(info: KlassInfo) -> list[KlassInfo]:
    """The models of a row in building order (depth first, as the factory numbers them)."""
    found = [info]
    for related in info.related:
        found.extend(nodes(related))
    return found


def model_factory(
    info: KlassInfo,
    converters: Converters,
    annotations: Sequence[tuple[str, int]],
    plain: Sequence[bool],
) -> tuple[Callable[..., RowFunctions], list[Any]]:
    """The compiled factory and its constants for rows of models laid out as ``info``.

    ``plain[i]`` says whether the i-th model of :func:`nodes` is built inline
    (``Model.from_db`` and no init signal) or through its loader.
    """
    writer = _Writer(converters)
    shape = _ModelShape(writer, plain)
    obj, cache = shape.node(info, annotations)
    shape.set_cache(obj, cache)
    return _compiled(writer.source(obj)), writer.constants


def tuple_factory(
    width: int,
    converters: Converters,
    order: Sequence[int] | None,
    kind: str,
    names: Sequence[str] = (),
) -> tuple[Callable[..., RowFunctions], list[Any]]:
    """The compiled factory for ``values()`` (``kind`` "dict"), ``values_list()`` ("tuple") or flat rows."""
    writer = _Writer(converters)
    positions = list(order) if order is not None else list(range(width))
    columns = [writer.column(p) for p in positions]
    if kind == "dict":
        result = (
            "{"
            + ", ".join(f"{name!r}: {col}" for name, col in zip(names, columns, strict=True))
            + "}"
        )
    elif kind == "flat":
        result = columns[0]
    else:
        result = "(" + "".join(f"{col}, " for col in columns) + ")"
    return _compiled(writer.source(result)), writer.constants


def cached(statement: Any, key: Hashable, build: Callable[[], Any]) -> Any:
    """``build()`` once per compiled statement and ``key`` (every call when the query has no statement)."""
    if statement is None:
        return build()
    codes: dict[Hashable, Any] = statement.row_code
    found = codes.get(key)
    if found is None:
        found = codes[key] = build()
    return found


__all__ = ["RowFunction", "RowFunctions", "cached", "model_factory", "nodes", "tuple_factory"]
