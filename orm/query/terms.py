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
from orm.query.lookups import Exact
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


class _Resolved(NamedTuple):
    """What a filter key names: its lookup class and column, and the range of a plain integer one."""

    lookup_class: Any
    col: Col
    #: (min, max) when an int is its own SQL parameter: ``exact`` on an
    #: integer column whose field prepares values as ``IntegerField`` does.
    int_range: tuple[int, int] | None


#: (model, key) -> what the key names, or None when the key is not simple.
_RESOLVED: BoundedCache[tuple[Any, str], _Resolved | None] = BoundedCache("filter terms", 2048)
_MISSING = object()


class Term(NamedTuple):
    """One ``key=value`` filter argument with its lookup already built.

    ``lookup`` is None for an int on a plain integer column (``pk=5``): its
    right-hand side is ``%s`` with the int itself, so the lookup, which only
    would have checked the range again, is not built.
    """

    key: str
    value: Any
    lookup: Any
    lookup_class: Any


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
        lookup_class, col, int_range = found
        if int_range is not None and type(value) is int and int_range[0] <= value <= int_range[1]:
            terms.append(Term(key, value, None, lookup_class))
            continue
        lookup = lookup_class(col, value)
        if getattr(lookup, "_constant", None) is not None or getattr(lookup, "_empty", False):
            return None  # folded to a constant (out of the column's range): the tree handles it
        terms.append(Term(key, value, lookup, lookup_class))
    return tuple(terms)


def _resolve(model: ModelClass, key: str) -> _Resolved | None:
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
    return _Resolved(lookup_class, Col(alias, target), _int_range(target, lookup_class))


def _int_range(target: f.Field, lookup_class: Any) -> tuple[int, int] | None:
    # What Exact(col, an int) would do, known without building it: the
    # field's prep leaves an int as it is, and a value in the column's range
    # is not folded to a constant. Any override (a custom integer field, a
    # lookup of its own) builds the lookup as before.
    kind = type(target)
    if lookup_class is Exact and isinstance(target, f.ForeignKey):
        # author_id=5: the target's prep (and range), unless the relation overrides it.
        if (
            kind.get_prep_value is not f.ForeignKey.get_prep_value
            or kind.get_db_prep_value is not f.ForeignKey.get_db_prep_value
            or kind.storage_field is not f.ForeignKey.storage_field
        ):
            return None
        return _int_range(target.target_field, Exact)
    if (
        lookup_class is not Exact
        or not isinstance(target, f.IntegerField)
        or kind.get_prep_value is not f.IntegerField.get_prep_value
        or kind.get_db_prep_value is not f.Field.get_db_prep_value
        or kind.storage_field is not f.Field.storage_field
    ):
        return None
    return target.range


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
            if lookup is None:  # an int on a plain integer column
                shape.append((term.key, int, term.lookup_class, "%s"))
                params.append(term.value)
                continue
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
