"""The statement-cache key of ``Model.objects.filter(a=1, b__lt=2)`` taken from the call.

A point query (``get(pk=)``, ``filter(x=).count()``, ``exists()``) would
spend as long building its ``Query`` and walking it for the cache key
(``orm/query/cache_key.py``) as running it. So, as SQLAlchemy's lambda
statements do, a QuerySet straight from its manager that is filtered once by
plain values records the call instead, as *pending terms*, and its key is
taken from them:

    ("terms", kind, model, ((key, type(value), lookup class, rhs SQL), ...))

(the compiler adds the connection's alias and vendor and whether limits are
rendered). ``kind`` says what the evaluation adds to the filter: nothing
(iteration), ``get()``'s limit, ``count()``'s aggregate or ``exists()``'s
reduction. The right-hand side SQL is what each lookup renders for this
value, so a value that changes the text changes the key, as in the tree walk.

Evaluation still goes through the ordinary compiler, iterables and the one
statement cache (``orm.sql.compiler.STATEMENTS``): the compiler's source is a
:class:`PendingQuery`, which gives the key and the parameters; on a miss it
builds the ordinary ``Query`` (:meth:`PendingQuery.build`) and the compiler
compiles that, keeping the text only when its WHERE parameters are exactly
the ones the terms give. Anything that is not a plain value on a column of
the model (joins, transforms, expressions, ``None``, lists, a value outside
an integer column's range) is not recorded, and touching ``qs.query``
builds the ordinary WHERE tree from the terms first, so nothing else ever
sees them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, NamedTuple

from orm import fields as f
from orm.abc import Connection, ModelClass
from orm.exceptions import FieldError
from orm.query.aggregates import Count
from orm.query.cache_key import SCALARS
from orm.query.expressions import Col
from orm.query.q import Q
from orm.query.query import Query
from orm.query.summary import aggregation_query
from orm.utils.caches import BoundedCache

__all__ = [
    "COUNT",
    "EXISTS",
    "FETCH",
    "GET",
    "PendingQuery",
    "Term",
    "build_terms",
    "count_aggregates",
]

# Lookups whose SQL is ``<column> <operator> <rhs>`` for every plain value.
SIMPLE_LOOKUPS = frozenset(
    {
        "exact",
        "iexact",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
    }
)
# Exact types only (the statement cache keys the same ones): a subclass (an
# enum, a custom str) may prepare differently.
SCALAR_TYPES = SCALARS
#: What the evaluation adds to the filtered query.
FETCH, GET, COUNT, EXISTS = "fetch", "get", "count", "exists"

#: (model, key) -> (lookup class, column) or None when the key is not simple.
_RESOLVED: BoundedCache[tuple[Any, str], tuple[Any, Col] | None] = BoundedCache(
    "filter terms", 2048
)
_MISSING = object()


class Term(NamedTuple):
    """One ``key=value`` filter argument with its lookup already built."""

    key: str
    value: Any
    lookup: Any


def build_terms(model: ModelClass, kwargs: dict[str, Any]) -> tuple[Term, ...] | None:
    """Pending terms for ``filter(**kwargs)``, or None when any argument is not simple.

    Builds each lookup exactly as ``Query.build_filter`` would (so a value the
    field rejects raises here, in ``filter()``); keys are sorted as ``Q`` sorts them.
    """
    terms = []
    for key in sorted(kwargs):
        value = kwargs[key]
        if type(value) not in SCALAR_TYPES:
            return None
        found: Any = _RESOLVED.get((model, key), _MISSING)
        if found is _MISSING:
            found = _resolve(model, key)
            _RESOLVED.put((model, key), found)
        if found is None:
            return None
        lookup_class, col = found
        lookup = lookup_class(col, value)
        if getattr(lookup, "_constant", None) is not None or getattr(lookup, "_empty", False):
            return None  # folded to a constant (out of the column's range): the tree handles it
        terms.append(Term(key, value, lookup))
    return tuple(terms)


def _resolve(model: ModelClass, key: str) -> tuple[Any, Col] | None:
    query = Query(model)
    try:
        field, target, alias, rest, multivalued = query.setup_joins(key.split("__"), nullable=False)
    except FieldError:
        return None  # the ordinary path raises the full error
    if (
        len(query.alias_map) != 1
        or multivalued
        or len(rest) > 1
        or field.is_relation
        and target is not field
    ):
        return None
    if field.many_to_many or isinstance(target, f.JSONField):
        return None
    lookup_class = target.get_lookup(rest[0] if rest else "exact")
    if lookup_class is None or lookup_class.lookup_name not in SIMPLE_LOOKUPS:
        return None
    return lookup_class, Col(alias, target)


class PendingQuery:
    """The compiler's source for a QuerySet whose one filter is still pending terms.

    It has a cache key and parameters (``statement_key``); anything else the
    compiler needs comes from the ordinary ``Query`` it builds (``build``).
    """

    combinator = None
    #: The compiler replaces a pending source by ``build()`` before compiling.
    pending = True

    __slots__ = ("kind", "model", "terms")

    def __init__(self, model: Any, terms: tuple[Term, ...], kind: str) -> None:
        self.model = model
        self.terms = terms
        self.kind = kind

    def statement_key(self, connection: Connection) -> tuple[Hashable, list[Any]]:
        """(key, parameters): the shape of the call and each value's right-hand side."""
        params: list[Any] = []
        shape = []
        for term in self.terms:
            lookup = term.lookup
            # No compiler: a plain value never needs one (an expression would).
            sql, rhs_params = lookup.process_rhs(None, connection)
            shape.append((term.key, type(term.value), type(lookup), sql))
            params.extend(rhs_params)
        return ("terms", self.kind, self.model, tuple(shape)), params

    def build(self) -> Query:
        """The ordinary ``Query`` this stands for: the filter, then what ``kind`` adds."""
        query = filtered_query(self.model, self.terms)
        kind = self.kind
        if kind == GET:
            query.clear_ordering()
            query.set_limits(high=21)
        elif kind == COUNT:
            query = aggregation_query(query, count_aggregates())
        elif kind == EXISTS:
            query = query.exists_query()
        return query


def count_aggregates() -> dict[str, Any]:
    """What ``count()`` aggregates (a fresh expression per call, as ``count()`` makes)."""
    return {"__count": Count("*")}


def filtered_query(model: ModelClass, terms: tuple[Term, ...]) -> Query:
    """A fresh ``Query`` with ``terms`` added as one ``filter()`` call (the ordinary way)."""
    query = Query(model)
    query.add_filter(Q(*[(t.key, t.value) for t in terms]))
    return query
