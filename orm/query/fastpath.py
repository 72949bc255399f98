"""Compiled statements for the commonest QuerySet: ``Model.objects.filter(a=1, b__lt=2)``.

A point query spends most of its time building a ``Q``, a WHERE tree and
lookups, then compiling them, although the SQL text is the same every time
for the same model, filter keys and value types; only the parameters change.
So a QuerySet straight from its manager records ``filter(**kwargs)`` as
*pending terms* (each term's lookup is still built at once, so a bad name or
value fails in ``filter()`` as before), and ``get()``, iteration, ``count()``
and ``exists()`` look the statement up here by its shape:

    (kind, model, alias, vendor, ((key, type(value)), ...))

The first call of a shape builds the ordinary ``Query``, compiles it with the
ordinary compiler and keeps the text only if the parameters it produced equal
the ones the terms produce on their own; every later call binds the terms'
parameters to that text. Anything else (joins, transforms, expressions,
``None``, lists, a value outside an integer column's range) takes the
ordinary path. Touching ``qs.query`` turns pending terms into the ordinary
WHERE tree first, so nothing else ever sees them.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, NamedTuple

from orm import fields as f
from orm.exceptions import EmptyResultSet, FieldError, FullResultSet
from orm.query.aggregates import Count
from orm.query.expressions import Col
from orm.query.q import Q
from orm.query.query import Query
from orm.query.summary import aggregation_query
from orm.sql.compiler import SQLCompiler
from orm.utils import timezone
from orm.utils.caches import BoundedCache

# Lookups whose SQL is ``<column> <operator> %s`` for every plain value.
SIMPLE_LOOKUPS = frozenset({
    "exact", "iexact", "gt", "gte", "lt", "lte",
    "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
})
# Exact types only: a subclass (an enum, a custom str) may prepare differently.
SCALAR_TYPES = frozenset({
    int, str, float, bool, bytes, decimal.Decimal, uuid.UUID,
    datetime.date, datetime.datetime, datetime.time, datetime.timedelta,
})
FETCH, GET, COUNT, EXISTS = "fetch", "get", "count", "exists"
# Both caches hold one entry per model and filter shape written in the code,
# so they stay small; the bound only stops a pathological caller (and
# historical models rendered by migrations). configure() empties them.
MAX_ENTRIES = 2048

#: (model, key) -> (lookup class, column) or None when the key is not simple.
_TERMS: BoundedCache[tuple[Any, str], tuple[Any, Col] | None] = BoundedCache("fast path terms", MAX_ENTRIES)
#: shape -> Plan, or None when that shape must take the ordinary path.
_PLANS: BoundedCache[tuple[Any, ...], Plan | None] = BoundedCache("fast path plans", MAX_ENTRIES)
_MISSING = object()
# A plan holds the row converters chosen when it was built, and those depend
# on use_tz (naive or aware datetimes): switching it forgets every plan.
timezone.on_change(_PLANS.clear)


class Term(NamedTuple):
    """One ``key=value`` filter argument with its lookup already built."""

    key: str
    value: Any
    lookup: Any


class Plan(NamedTuple):
    """A compiled statement for one shape, and how to turn its rows into results."""

    sql: str
    rhs_sql: tuple[str, ...]
    converters: list[tuple[int, list[Any], Any]]
    attnames: list[str]


def build_terms(model: Any, kwargs: dict[str, Any]) -> tuple[Term, ...] | None:
    """Pending terms for ``filter(**kwargs)``, or None when any argument is not simple.

    Builds each lookup exactly as ``Query.build_filter`` would (so a value the
    field rejects raises here, in ``filter()``); keys are sorted as ``Q`` sorts them.
    """
    terms = []
    for key in sorted(kwargs):
        value = kwargs[key]
        if type(value) not in SCALAR_TYPES:
            return None
        resolved = _resolve(model, key)
        if resolved is None:
            return None
        lookup_class, col = resolved
        lookup = lookup_class(col, value)
        if getattr(lookup, "_constant", None) is not None:
            return None  # out of the column's range: the ordinary path folds it
        terms.append(Term(key, value, lookup))
    return tuple(terms)


def _resolve(model: Any, key: str) -> tuple[Any, Col] | None:
    cache_key = (model, key)
    found = _TERMS.get(cache_key, _MISSING)
    if found is _MISSING:
        found = _resolve_uncached(model, key)
        _TERMS.put(cache_key, found)
    return found  # type: ignore[return-value]


def _resolve_uncached(model: Any, key: str) -> tuple[Any, Col] | None:
    query = Query(model)
    try:
        field, target, alias, rest, multivalued = query.setup_joins(key.split("__"), nullable=False)
    except FieldError:
        return None  # the ordinary path raises the full error
    if len(query.alias_map) != 1 or multivalued or len(rest) > 1:
        return None
    if field.many_to_many or isinstance(target, f.JSONField):
        return None
    col = Col(alias, target)
    lookup_class = target.get_lookup(rest[0] if rest else "exact")
    if lookup_class is None or lookup_class.lookup_name not in SIMPLE_LOOKUPS:
        return None
    return lookup_class, col


def _rhs(terms: tuple[Term, ...], connection: Any) -> tuple[list[str], list[Any]]:
    sqls: list[str] = []
    params: list[Any] = []
    for term in terms:
        # No compiler: a plain value never needs one (an expression would).
        sql, rhs_params = term.lookup.process_rhs(None, connection)
        sqls.append(sql)
        params.extend(rhs_params)
    return sqls, params


def shape_query(model: Any, terms: tuple[Term, ...], kind: str) -> Query:
    """The ordinary ``Query`` a shape stands for (used to compile its plan)."""
    query = Query(model)
    add_filter(query, Q(*[(t.key, t.value) for t in terms]))
    if kind == GET:
        query.clear_ordering()
        query.set_limits(high=21)
    elif kind == EXISTS:
        query = query.exists_query()
    return query


def add_filter(query: Query, q: Any) -> None:
    """AND ``q`` into ``query`` as one ``filter()`` call (the ordinary path)."""
    query.filter_calls += 1
    query.filter_call = query.filter_calls
    try:
        query.add_q(q)
    finally:
        query.filter_call = None


def _compile(model: Any, terms: tuple[Term, ...], kind: str, connection: Any) -> SQLCompiler:
    query = shape_query(model, terms, kind)
    if kind == COUNT:
        query = aggregation_query(query, {"__count": Count("*")})
    compiler: SQLCompiler = query.get_compiler(connection=connection)
    return compiler


def _build_plan(model: Any, terms: tuple[Term, ...], kind: str, connection: Any) -> Plan | None:
    compiler = _compile(model, terms, kind, connection)
    try:
        sql, params = compiler.as_sql()
        rhs_sql, own_params = _rhs(terms, connection)
    except (EmptyResultSet, FullResultSet):
        return None
    if own_params != params:
        # Something else in the statement takes parameters, or a term's
        # value is not bound as itself: the text cannot be reused.
        return None
    attnames: list[str] = []
    if kind in (FETCH, GET):
        info = compiler.klass_info
        if info is None or not info.is_plain or compiler.annotation_col_map or info.model is not model:
            return None
        attnames = list(info.attnames)
    return Plan(sql, tuple(rhs_sql), compiler.get_converters(), attnames)


def plan_for(qs: Any, kind: str, connection: Any) -> Plan | None:
    """The cached plan for ``qs``'s shape, building it on first use."""
    terms = qs._terms
    shape = (kind, qs.model, qs.db, connection.vendor, tuple((t.key, type(t.value)) for t in terms))
    plan = _PLANS.get(shape, _MISSING)
    if plan is _MISSING:
        plan = _build_plan(qs.model, terms, kind, connection)
        _PLANS.put(shape, plan)
    return plan  # type: ignore[return-value]


def params_for(plan: Plan, terms: tuple[Term, ...], connection: Any) -> list[Any] | None:
    """This call's parameters, or None when a term no longer fits the plan's text."""
    rhs_sql, params = _rhs(terms, connection)
    if tuple(rhs_sql) != plan.rhs_sql:
        return None
    return params


def run(plan: Plan, params: list[Any], connection: Any, kind: str) -> Any:
    """Execute a plan: rows for FETCH/GET, the number for COUNT, a bool for EXISTS."""
    # The wrapper's cursor keeps every check of the ordinary path: the
    # owning thread, the async guard, a broken transaction, error translation.
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        if kind == EXISTS:
            return cursor.fetchone() is not None
        if kind == COUNT:
            row = cursor.fetchone()
            if row is None:  # as the ordinary path: no row counts nothing
                return 0
            value = row[0]
            for func in plan.converters[0][1] if plan.converters else ():
                value = func(value, plan.converters[0][2], connection)
            return int(value)
        return cursor.fetchall()


__all__ = ["Plan", "Term", "build_terms", "params_for", "plan_for", "run", "shape_query"]
