"""Values as Python source for migration files: ``serialize(value) -> (node, imports)``.

A value becomes a small layout tree (:class:`Atom` or :class:`Group`) that
:func:`render` prints on one line when it fits, one item per line when it
does not; ``imports`` are the import lines the text needs. Output is
deterministic: sets and dict keys are sorted, keyword arguments too.

What can be written: ``None``, booleans, numbers (``Decimal``, NaN and
infinities included), strings and bytes, ``datetime``/``date``/``time``/
``timedelta`` (aware datetimes converted to UTC), ``UUID``, enum members,
lists, tuples, sets, frozensets, dicts, ranges, compiled regexes,
``functools.partial``, module-level functions and classes (and methods of
module-level classes), anything with ``deconstruct()`` (fields, indexes,
constraints, ``Q``, operations), ``F`` and managers. Anything else -- a
lambda, a function defined inside another, an arbitrary object -- raises
:class:`SerializationError` saying what to do instead.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import importlib
import inspect
import math
import re
import sys
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orm.fields import Field
from orm.migrations.operations.base import Operation
from orm.models.manager import BaseManager
from orm.query.expressions import F

__all__ = ["SerializationError"]

Imports = set[str]


class SerializationError(ValueError):
    """A value that a migration file cannot hold; the message says how to make it one that can."""


@dataclass
class Atom:
    """Text that is never split."""

    text: str

    def flat(self) -> str:
        """The one-line form."""
        return self.text


@dataclass
class Group:
    """``prefix`` + ``open`` + items + ``close``; each item is ``(label, node)``
    (label ``"name="`` for a keyword argument, ``'"key": '`` in a dict)."""

    prefix: str
    open: str
    close: str
    items: list[tuple[str, Atom | Group]] = field(default_factory=list)
    #: Always one item per line (operations, ``fields=`` lists).
    force_break: bool = False
    #: A one-item tuple needs its comma even on one line.
    one_tuple: bool = False

    #: The one-line form, once computed (render() asks each level of a tree for it).
    _flat: str | None = field(default=None, init=False, repr=False, compare=False)

    def flat(self) -> str:
        """The one-line form (computed once: a group is complete when first rendered)."""
        if self._flat is None:
            inner = ", ".join(label + node.flat() for label, node in self.items)
            if self.one_tuple:
                inner += ","
            self._flat = f"{self.prefix}{self.open}{inner}{self.close}"
        return self._flat


Node = Atom | Group


def render(node: Node, indent: int = 0, used: int = 0, width: int = 100) -> str:
    """``node`` as source starting ``used`` columns into a line indented by ``indent``."""
    if isinstance(node, Atom):
        return node.text
    flat = node.flat()
    if not node.items or (not node.force_break and indent + used + len(flat) + 1 <= width):
        return flat
    inner = indent + 4
    lines = [f"{node.prefix}{node.open}"]
    for label, child in node.items:
        lines.append(" " * inner + label + render(child, inner, len(label), width) + ",")
    lines.append(" " * indent + node.close)
    return "\n".join(lines)


def _quote(text: str) -> str:
    """A string literal, in double quotes whenever that needs no escape."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        # No quote of either kind inside (repr would have used double quotes).
        literal = '"' + literal[1:-1] + '"'
    return literal


def _resolve(root: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part, None)
        if root is None:
            return None
    return root


def object_path(obj: Any, what: str) -> tuple[str, Imports]:
    """How a migration file names a module-level function or class: ``orm.X`` or
    ``migrations.X`` for the public names of ``orm``, else ``module.qualname``."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    name = getattr(obj, "__name__", "")
    if name == "<lambda>":
        raise SerializationError(
            f"Cannot serialize the lambda {obj!r} into a migration file: a file can only refer to "
            f"a {what} by its import path. Define it as a module-level function (def ...) and use that."
        )
    if "<locals>" in qualname or module is None:
        raise SerializationError(
            f"Cannot serialize the {what} {qualname or obj!r}: it is defined inside a function, so a "
            "migration file cannot import it. Move it to module level and use it from there."
        )
    if module == "__main__":
        raise SerializationError(
            f"Cannot serialize the {what} {qualname}: it is defined in __main__, which a migration "
            "file cannot import. Move it into a module of your project."
        )
    if module == "builtins":
        return qualname, set()
    if module == "orm" or module.startswith("orm."):
        for alias, package, line in (("orm", "orm", "import orm"),
                                     ("migrations", "orm.migrations", "from orm import migrations")):
            if _resolve(importlib.import_module(package), qualname) is obj:
                return f"{alias}.{qualname}", {line}
    return f"{module}.{qualname}", {f"import {module}"}


def path_reference(path: str) -> tuple[str, Imports]:
    """How a file names the dotted ``path`` a ``deconstruct()`` returned."""
    module, _, name = path.rpartition(".")
    if module == "orm":
        return path, {"import orm"}
    if not module:
        raise SerializationError(f"deconstruct() returned the path {path!r}, which names no module.")
    return path, {f"import {module}"}


def _call(func: str, args: list[Any], kwargs: dict[str, Any], imports: Imports,
          sort: bool = True) -> Group:
    group = Group(func, "(", ")")
    for arg in args:
        group.items.append(("", _serialize(arg, imports)))
    for key in (sorted(kwargs) if sort else kwargs):
        group.items.append((f"{key}=", _serialize(kwargs[key], imports)))
    return group


def serialize(value: Any) -> tuple[Node, Imports]:
    """``value`` as a layout tree plus the import lines it needs."""
    imports: Imports = set()
    return _serialize(value, imports), imports


def serialize_string(value: Any) -> tuple[str, Imports]:
    """``value`` as one line of source plus its imports (Django's ``serialize()``)."""
    node, imports = serialize(value)
    return node.flat(), imports


def _serialize(value: Any, imports: Imports) -> Node:
    for kinds, handler in _HANDLERS:
        if isinstance(value, kinds):
            return handler(value, imports)
    if isinstance(value, type):
        return _serialize_type(value, imports)
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType | types.MethodType):
        return _serialize_function(value, imports)
    if callable(getattr(value, "deconstruct", None)):
        return _serialize_deconstructible(value, imports)
    raise SerializationError(
        f"Cannot serialize {value!r} (of type {type(value).__qualname__}) into a migration file. "
        "A file can hold literals, dates and times, Decimal, UUID, enum members, containers of "
        "those, module-level functions and classes, and objects with a deconstruct() method "
        "returning (import path, args, kwargs): give its class one, or use a supported value."
    )


def _serialize_scalar(value: Any, imports: Imports) -> Node:
    if isinstance(value, float) and not math.isfinite(value):
        return Atom(f'float("{value}")')
    if isinstance(value, str):
        return Atom(_quote(value))
    if isinstance(value, bytes):
        literal = repr(value)
        if literal.startswith("b'") and b'"' not in value:
            literal = 'b"' + literal[2:-1] + '"'
        return Atom(literal)
    return Atom(repr(value))


def _serialize_enum(value: enum.Enum, imports: Imports) -> Node:
    path, needed = object_path(type(value), "enum")
    imports |= needed
    if isinstance(value, enum.Flag) and (value.name is None or "|" in value.name):
        # A combination of flags (re.I | re.M) has no member name of its own.
        members = [member for member in type(value) if member in value]
        if not members:
            return Atom(f"{path}({value.value!r})")
        return Atom(" | ".join(f"{path}[{_quote(str(member.name))}]" for member in members))
    return Atom(f"{path}[{_quote(str(value.name))}]")


def _serialize_decimal(value: decimal.Decimal, imports: Imports) -> Node:
    imports.add("import decimal")
    return Atom(f'decimal.Decimal("{value}")')


def _serialize_temporal(value: Any, imports: Imports) -> Node:
    imports.add("import datetime")
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    tzinfo = getattr(value, "tzinfo", None)
    if tzinfo is not None and not isinstance(tzinfo, datetime.timezone):
        raise SerializationError(
            f"Cannot serialize {value!r}: a time with the zone {tzinfo!r} depends on the date; "
            "use a fixed offset (datetime.timezone) or a naive time."
        )
    text = repr(value).replace("datetime.timezone.utc", "datetime.UTC")
    return Atom(text)


def _serialize_uuid(value: uuid.UUID, imports: Imports) -> Node:
    imports.add("import uuid")
    return Atom(f'uuid.UUID("{value}")')


def _serialize_partial(value: Any, imports: Imports) -> Node:
    imports.add("import functools")
    name = "functools.partialmethod" if isinstance(value, functools.partialmethod) else "functools.partial"
    return _call(name, [value.func, *value.args], dict(value.keywords), imports)


def _serialize_sequence(value: Any, imports: Imports) -> Node:
    if isinstance(value, list):
        return Group("", "[", "]", [("", _serialize(item, imports)) for item in value])
    if isinstance(value, tuple):
        return Group("", "(", ")", [("", _serialize(item, imports)) for item in value],
                     one_tuple=len(value) == 1)
    items = sorted((_serialize(item, imports) for item in value), key=lambda node: node.flat())
    if isinstance(value, frozenset):
        return Group("frozenset", "(", ")", [("", Group("", "{", "}", [("", n) for n in items]))] if items else [])
    if not items:
        return Atom("set()")
    return Group("", "{", "}", [("", node) for node in items])


def _serialize_dict(value: dict[Any, Any], imports: Imports) -> Node:
    items = [(_serialize(key, imports).flat(), _serialize(item, imports)) for key, item in value.items()]
    return Group("", "{", "}", [(f"{key}: ", node) for key, node in sorted(items, key=lambda kv: kv[0])])


def _serialize_range(value: range, imports: Imports) -> Node:
    return Atom(repr(value))


def _serialize_pattern(value: re.Pattern[Any], imports: Imports) -> Node:
    imports.add("import re")
    # Flags given to compile() only: a str pattern always has re.UNICODE.
    flags = value.flags & ~(re.UNICODE if isinstance(value.pattern, str) else 0)
    args: list[Any] = [value.pattern] + ([re.RegexFlag(flags)] if flags else [])
    return _call("re.compile", args, {}, imports)


def _serialize_f(value: F, imports: Imports) -> Node:
    path, needed = object_path(type(value), "expression")
    imports |= needed
    return _call(path, [value.name], {}, imports)


def _serialize_manager(value: BaseManager[Any], imports: Imports) -> Node:
    # A manager in a migration only provides its queryset methods to RunPython
    # code; it is rebuilt with no arguments, as its class declares it.
    path, needed = object_path(type(value), "manager class")
    imports |= needed
    return Group(path, "(", ")")


def _serialize_type(value: type, imports: Imports) -> Node:
    if value is type(None):
        return Atom("type(None)")
    path, needed = object_path(value, "class")
    imports |= needed
    return Atom(path)


def _serialize_function(value: Any, imports: Imports) -> Node:
    owner = getattr(value, "__self__", None)
    if isinstance(owner, type):
        # A classmethod (datetime.date.today too): its class's path, then the method's name.
        path, needed = object_path(owner, "class")
        imports |= needed
        return Atom(f"{path}.{value.__name__}")
    if isinstance(value, types.MethodType) or (
            isinstance(value, types.BuiltinFunctionType) and owner is not None
            and not isinstance(owner, types.ModuleType)):
        raise SerializationError(
            f"Cannot serialize the bound method {value!r}: it belongs to one object, which a "
            "migration file cannot rebuild. Use a module-level function instead."
        )
    path, needed = object_path(value, "function")
    imports |= needed
    return Atom(path)


def _serialize_deconstructible(value: Any, imports: Imports) -> Node:
    parts = value.deconstruct()
    if isinstance(value, Field):
        parts = parts[1:]
    path, args, kwargs = parts
    if isinstance(value, Operation):
        return _serialize_operation(value, list(args), dict(kwargs), imports)
    reference, needed = path_reference(path)
    imports |= needed
    return _call(reference, list(args), dict(kwargs), imports)


def _serialize_operation(value: Operation, args: list[Any], kwargs: dict[str, Any], imports: Imports) -> Node:
    """``migrations.<Name>(...)`` with every argument named, in the order of the
    constructor's signature, one per line; ``CreateModel`` lists a field a line."""
    reference, needed = object_path(type(value), "operation class")
    imports |= needed
    parameters = [name for name, parameter in inspect.signature(type(value).__init__).parameters.items()
                  if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)][1:]
    if len(args) <= len(parameters):
        kwargs = {**dict(zip(parameters, args, strict=False)), **kwargs}
        args = []
    order = {name: index for index, name in enumerate(parameters)}
    ordered = dict(sorted(kwargs.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    group = _call(reference, args, ordered, imports, sort=False)
    group.force_break = True
    for label, node in group.items:
        if label == "fields=" and isinstance(node, Group):
            node.force_break = True
    return group


_HANDLERS: list[tuple[type | tuple[type, ...], Callable[[Any, Imports], Node]]] = [
    (enum.Enum, _serialize_enum),
    ((type(None), bool, int, float, str, bytes), _serialize_scalar),
    (decimal.Decimal, _serialize_decimal),
    ((datetime.datetime, datetime.date, datetime.time, datetime.timedelta), _serialize_temporal),
    (uuid.UUID, _serialize_uuid),
    ((functools.partial, functools.partialmethod), _serialize_partial),
    ((list, tuple, set, frozenset), _serialize_sequence),
    (dict, _serialize_dict),
    (range, _serialize_range),
    (re.Pattern, _serialize_pattern),
    (F, _serialize_f),
    (BaseManager, _serialize_manager),
]


def is_stdlib(module: str) -> bool:
    """Whether ``module`` belongs to the standard library (its imports go first)."""
    return module.split(".")[0] in sys.stdlib_module_names
