"""The cache key of a query: its tree with the parameter values pulled out.

Modelled on SQLAlchemy's ``sql/cache_key.py``: one walk over the tree gives
a hashable *key*, equal for two queries exactly when they compile to the same
SQL text, and the list of *parameters* of its filters, in the order the
compiler emits them. ``Model.objects.filter(pk=1)`` and ``filter(pk=2)`` share
a key; a different lookup, negation, ordering, slice, ``select_related``,
``values()`` list or anything else that changes the text gives another key.

The walk is an allow-list, so that a new attribute or node type can never
silently share a key with a different statement:

* every attribute of the ``Query`` is part of the key (its ``__dict__`` is
  walked as it is, so a new attribute joins the key without a change here);
* a value is keyed only when its type is known: plain scalars, model classes,
  fields, containers of those, and the node classes in ``NODES`` (keyed by all
  of their attributes, recursively);
* a filter (a ``Lookup`` of ``LOOKUPS`` on a plain column with plain values) is
  keyed by its class, its column and the SQL of its right-hand side, which the
  lookup renders itself (``process_rhs``): ``%s``, ``(%s, %s)`` for two values,
  or the vendor's array form for a long ``__in`` list. So a value that changes
  the text (``None`` for ``IS NULL``, an integer out of the column's range,
  the length of an ``__in`` list) changes the key, and only the parameters
  that text binds are pulled out.

Anything else makes the query uncacheable (``statement_key`` returns None) and
it compiles as it always did: a miss costs a compilation, a wrong hit would
cost wrong SQL.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from orm import fields as f
from orm.abc import Connection
from orm.exceptions import EmptyResultSet
from orm.query import lookups as lk
from orm.query.aggregates import Count
from orm.query.expressions import Col, CombinedExpression, F, OrderBy, Ref, Star, Value
from orm.query.joins import BaseTable, Join
from orm.query.where import NothingNode, WhereNode

if TYPE_CHECKING:
    from orm.query.query import Query

__all__ = ["LOOKUPS", "NODES", "expression_key", "statement_key"]

# Exact types only: a subclass (an enum, a custom str) may render differently.
SCALARS = frozenset(
    {
        int,
        str,
        float,
        bool,
        bytes,
        decimal.Decimal,
        uuid.UUID,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
    }
)
#: Filters whose SQL is ``<column> <operator> <rhs SQL>`` for plain values
#: (``Exact`` with None and ``IsNull`` are keyed by their constant text).
LOOKUPS = frozenset(
    {
        lk.Exact,
        lk.IExact,
        lk.GreaterThan,
        lk.GreaterThanOrEqual,
        lk.LessThan,
        lk.LessThanOrEqual,
        lk.Contains,
        lk.IContains,
        lk.StartsWith,
        lk.IStartsWith,
        lk.EndsWith,
        lk.IEndsWith,
        lk.In,
        lk.Range,
        lk.IsNull,
        lk.UUIDIExact,
        lk.UUIDContains,
        lk.UUIDIContains,
        lk.UUIDStartsWith,
        lk.UUIDIStartsWith,
        lk.UUIDEndsWith,
        lk.UUIDIEndsWith,
    }
)
#: Nodes whose SQL depends only on their attributes (all of them enter the key).
NODES = frozenset({Col, Value, Star, Count, OrderBy, Ref, BaseTable, Join})
_MULTI_VALUE = frozenset({lk.In, lk.Range})
_RAW = frozenset({str, int, bool, type(None)})
_STR = frozenset({str})
# Inside a node or a container one position may hold a bool or an int
# (``Value(True)``, ``Value(1)``: equal keys), so ints are keyed with their
# type there and only names, flags and None go in as they are.
_NODE_RAW = frozenset({str, bool, type(None)})


class _Empty:
    """The key of an empty container of one type: equal only to itself."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<empty {self.name}>"


_EMPTY = {kind: _Empty(kind.__name__) for kind in (tuple, list, dict, set, frozenset)}
_COL_STATE = frozenset({"_output_field", "alias", "target"})
# The empty tuple, which most tuple attributes of a Query hold: it equals
# only itself, so it goes into the key as it is (checked by identity, the
# one empty tuple of CPython; another empty tuple takes the longer way).
_NO_VALUES: tuple[()] = ()


class Uncacheable(Exception):
    """Raised inside the walk: this query has a part the key cannot describe."""


def statement_key(query: Query, connection: Connection) -> tuple[Hashable, list[Any]] | None:
    """(key, filter parameters) for ``query`` on ``connection``, or None if it has no key.

    Runs for every statement, so the common values (flags, marks, names)
    go in as they are; the key ends with the attribute names, which fix
    what each position means.
    """
    state = query.__dict__
    params: list[Any] = []
    try:
        # No attribute of a Query holds both a bool and an int, so True and 1
        # (equal keys) never meet at one position: plain values go in as they are.
        key = [
            value if type(value) in _RAW or value is _NO_VALUES else _key(value, connection, params)
            for value in state.values()
        ]
    except Uncacheable:
        return None
    key.append(tuple(state))
    return tuple(key), params


def _key(value: Any, connection: Connection, params: list[Any]) -> Hashable:
    kind = type(value)
    if kind is str or value is None:
        hashable: str | None = value
        return hashable
    if kind in _EMPTY and not value:
        return _EMPTY[kind]
    if kind in SCALARS:
        # A constant of the statement (filter values are not keyed: they are
        # pulled out). Equal values may be bound differently: 1, 1.0 and
        # True; Decimal("1.0") and Decimal("1.00"); one instant in two time
        # zones. So the type and the repr() are the key.
        return (kind, repr(value))
    walk = _WALKERS.get(kind)
    if walk is not None:
        return walk(value, connection, params)
    if kind in NODES:
        state = value.__dict__
        if _NODE_RAW.issuperset(map(type, state.values())):
            return (kind, tuple(state.items()))  # names and flags only (a table)
        return (
            kind,
            tuple(
                [
                    (name, v if type(v) in _NODE_RAW else _key(v, connection, params))
                    for name, v in state.items()
                ]
            ),
        )
    if kind in LOOKUPS:
        return _lookup_key(value, connection, params)
    if isinstance(value, type) or isinstance(value, f.Field):
        # A model class or a field: identity (fields compare by creation order and model).
        return (kind, value)
    raise Uncacheable


def _sequence(value: Any, connection: Connection, params: list[Any]) -> Hashable:
    # Names and flags as they are; a number with its type (1 == True).
    return (
        type(value),
        tuple([v if type(v) in _NODE_RAW else _key(v, connection, params) for v in value]),
    )


def _mapping(value: dict[Any, Any], connection: Connection, params: list[Any]) -> Hashable:
    # Keys are names (aliases, annotation names) in every dict of a Query.
    return (
        dict,
        tuple(
            [
                (k if type(k) is str else _key(k, connection, params), _key(v, connection, params))
                for k, v in value.items()
            ]
        ),
    )


def _set(value: Any, connection: Connection, params: list[Any]) -> Hashable:
    if not _STR.issuperset(map(type, value)):
        raise Uncacheable
    return (frozenset, frozenset(value))


def _col(node: Col, connection: Connection, params: list[Any]) -> Hashable:
    # The commonest node, keyed directly; a Col with any other attribute is
    # walked as a generic node instead.
    state = node.__dict__
    if state.keys() == _COL_STATE:
        return (Col, node.alias, node.target, node._output_field)
    return (Col, tuple([(name, _key(v, connection, params)) for name, v in state.items()]))


def _where(node: WhereNode, connection: Connection, params: list[Any]) -> Hashable:
    # Children compile in order, so their parameters are collected in order.
    return (
        WhereNode,
        node.connector,
        node.negated,
        tuple([_key(child, connection, params) for child in node.children]),
    )


def _nothing(node: NothingNode, connection: Connection, params: list[Any]) -> Hashable:
    return NothingNode


def _lookup_key(node: Any, connection: Connection, params: list[Any]) -> Hashable:
    kind = type(node)
    if node.bilateral_transforms or type(node.lhs) is not Col:
        raise Uncacheable
    lhs = _key(node.lhs, connection, params)
    state = node.__dict__
    constant, empty = state.get("_constant"), state.get("_empty", False)
    if constant is not None or empty:
        # Compiles to a constant (or to nothing): no parameter is bound.
        return (kind, lhs, "constant", constant, empty)
    rhs = node.rhs
    if kind is lk.IsNull:
        return (kind, lhs, bool(rhs))
    if kind is lk.Exact and rhs is None:
        return (kind, lhs, None)
    values = rhs if kind in _MULTI_VALUE else (rhs,)
    if type(values) not in (list, tuple) or any(type(v) not in SCALARS for v in values):
        raise Uncacheable
    try:
        # A plain value needs no compiler (only an expression would).
        sql, rhs_params = node.process_rhs(None, connection)
    except EmptyResultSet:
        raise Uncacheable from None
    params.extend(rhs_params)
    return (kind, lhs, sql)


_WALKERS: dict[type, Callable[[Any, Any, list[Any]], Hashable]] = {
    tuple: _sequence,
    list: _sequence,
    dict: _mapping,
    set: _set,
    frozenset: _set,
    WhereNode: _where,
    NothingNode: _nothing,
    Col: _col,
}


# The unresolved expressions an UPDATE's values are keyed by, with the
# attributes each may hold (an output_field given inline would be a new
# Field per call, so a node with one is not keyed).
_UPDATE_NODES: dict[type, frozenset[str]] = {
    F: frozenset({"name"}),
    Value: frozenset({"value"}),
    CombinedExpression: frozenset({"lhs", "connector", "rhs"}),
}


def expression_key(node: Any) -> Hashable | None:
    """The key of an unresolved value expression (``F("pages") + 1``), or None.

    Used for ``update(pages=F("pages") + 1)``: the key holds every constant
    with its type and repr (``Value(1)`` and ``Value(True)`` differ), so two
    expressions with one key compile to the same SQL and the same parameters.
    """
    kind = type(node)
    allowed = _UPDATE_NODES.get(kind)
    state = getattr(node, "__dict__", None)
    if allowed is None or state is None or not allowed.issuperset(state):
        return None
    key: list[Any] = [kind]
    for name, value in state.items():
        if type(value) in _UPDATE_NODES:
            part = expression_key(value)
            if part is None:
                return None
        elif type(value) in SCALARS or value is None:
            try:
                part = (type(value), repr(value))
            except ValueError:
                # An int too long for repr (sys.get_int_max_str_digits): let the
                # ordinary path compile it and report it.
                return None
        else:
            return None
        key.append((name, part))
    return tuple(key)
