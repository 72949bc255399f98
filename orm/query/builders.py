"""``BaseQuerySet``: how a QuerySet is built: construction, routing and the chainable builders.

Every method here returns a new QuerySet and none of them touches the
database. They return ``Self``, so a custom QuerySet's own methods stay
available after ``filter()``; ``Manager`` redeclares them for type checkers as
returning ``QuerySet``, so ``Model.objects.filter()`` is a QuerySet rather
than the manager. Evaluation
(iteration, the result cache, ``count()``/``get()``/``create()``... and the
``a``-prefixed async twins) lives in ``orm.query.queryset.QuerySet``, which
subclasses this: the seam is the one Django's docs draw between "methods that
return new QuerySets" and "methods that do not return QuerySets". Users import
``QuerySet`` (``orm.QuerySet``); this base is an implementation detail.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar, cast, overload

from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.db.routers import router
from orm.exceptions import FieldError, NotSupportedError
from orm.fields import DateField, DateTimeField
from orm.query import combinators, merging, terms
from orm.query.expressions import F
from orm.query.filtered_relation import FilteredRelation
from orm.query.functions.datetime import Trunc
from orm.query.iterables import (
    BaseIterable,
    FlatValuesListIterable,
    ModelIterable,
    NamedValuesListIterable,
    ValuesIterable,
    ValuesListIterable,
)
from orm.query.prefetch import check_prefetch_path, to_attr_paths
from orm.query.q import Q
from orm.query.query import Query
from orm.query.rows import Row
from orm.query.select import deferred_path
from orm.sql.compiler import SQLCompiler
from orm.utils.identifiers import check_alias
from orm.utils.text import short_repr
from orm.utils.timezone import use_tz

if TYPE_CHECKING:
    # Builders return the evaluating subclass, which is the only one ever
    # instantiated; the import is for annotations only (it would be circular).
    from orm.query.queryset import QuerySet

M = TypeVar("M")
# Evaluations whose statement over the whole table the pending-terms key describes too.
_WHOLE_TABLE_KINDS = frozenset({terms.COUNT, terms.EXISTS})


class BaseQuerySet(Generic[M]):
    """The building half of ``QuerySet``: state, routing and the methods returning new QuerySets."""

    #: What an evaluation adds to pending filter terms (``get()`` sets GET on its clone).
    _terms_kind = terms.FETCH

    def __init__(
        self, model: Any = None, query: Query | None = None, using: str | None = None
    ) -> None:
        self.model = model
        self._db = using
        # None until first needed: a manager's QuerySet that is never used
        # (or only chained) does not build a Query.
        self._query = query
        #: ``filter(**plain values)`` on a QuerySet with no Query yet, recorded
        #: for the statement cache's call key (``orm.query.terms``).
        self._terms: tuple[terms.Term, ...] | None = None
        self._result_cache: list[Any] | None = None
        self._prefetch_related_lookups: tuple[Any, ...] = ()
        self._prefetch_done = False
        self._iterable_class: type[BaseIterable] = ModelIterable
        self._fields: tuple[str, ...] | None = None
        self._known_related_objects: tuple[tuple[str, Any], ...] = ()
        self._for_write = False
        #: Routing hints (Django's ``_hints``): ``instance`` for related managers' QuerySets.
        self._hints: dict[str, Any] = {}

    # -- plumbing ------------------------------------------------------------------
    @property
    def db(self) -> str:
        """The database alias this QuerySet runs on: ``using()``'s, else the routers' choice."""
        db = self._db
        if not db:
            if not router.routers:
                # Hot path: with no routers the answer is the default alias (never a replica).
                return DEFAULT_DB_ALIAS
            if self._for_write:
                return router.db_for_write(self.model, **self._hints)
            db = router.db_for_read(self.model, **self._hints)
        if connections.replicas and not self._for_write:
            return connections.read_alias(db)
        return db

    @property
    def query(self) -> Query:
        """The query tree (built on first access)."""
        query = self._query
        if query is None:
            query = self._query = Query(self.model)
            pending, self._terms = self._terms, None
            if pending is not None:
                query.add_filter(Q(*[(t.key, t.value) for t in pending]))
        return query

    @query.setter
    def query(self, value: Query) -> None:
        self._query = value
        self._terms = None

    def _select_compiler(self, kind: str = terms.FETCH) -> Any:
        """The compiler of this QuerySet's SELECT (``kind``: what the evaluation adds).

        With pending filter terms its source is a ``PendingQuery``, which
        keys the statement cache by the call; the caller then adds nothing
        itself (``kind`` says what). Otherwise it is ``self.query``'s compiler,
        and the caller adds what ``kind`` would have.
        """
        if self._query is None and (self._terms is not None or kind in _WHOLE_TABLE_KINDS):
            # A manager's count()/exists() with no filter at all is keyed the same way, by no terms.
            return SQLCompiler(
                terms.PendingQuery(self.model, self._terms or (), kind), connections[self.db]
            )
        return self.query.get_compiler(using=self.db)

    def _chain(self) -> Self:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        if self._query is not None:
            clone._query = self._query.chain()
        clone._result_cache = None
        clone._prefetch_done = False
        return clone

    def __class_getitem__(cls, item: Any) -> Any:  # noqa: D105 - typing support
        return super().__class_getitem__(item)  # type: ignore[misc]

    def _not_support_combined_queries(self, call: str) -> None:
        """Refuse ``call`` on a union()/intersection()/difference(), as Django does."""
        query = self._query
        if query is not None and query.combinator:
            raise NotSupportedError(
                f"Calling QuerySet.{call} after {query.combinator}() is not supported."
            )

    def _check_operator_queryset(self, other: QuerySet[Any], operator: str) -> None:
        if any(qs._query is not None and qs._query.combinator for qs in (self, other)):
            raise TypeError(f"Cannot use {operator} operator with combined queryset.")

    def __and__(self, other: QuerySet[M]) -> Self:
        return merging.merge(self, other, merging.AND, "&")

    def __or__(self, other: QuerySet[M]) -> Self:
        return merging.merge(self, other, merging.OR, "|")

    def __xor__(self, other: QuerySet[M]) -> Self:
        return merging.merge(self, other, merging.XOR, "^")

    # -- chainable -------------------------------------------------------------------
    def all(self) -> Self:
        """A copy of this QuerySet."""
        return self._chain()

    def filter(self, *args: Any, **kwargs: Any) -> Self:
        """Rows matching every condition (``Q`` objects and ``field__lookup=value``)."""
        return self._filter_or_exclude(False, args, kwargs)

    def exclude(self, *args: Any, **kwargs: Any) -> Self:
        """Rows not matching the conditions."""
        return self._filter_or_exclude(True, args, kwargs)

    def complex_filter(self, filter_obj: Q | Mapping[str, Any]) -> Self:
        """``filter()`` with one ``Q`` object or a dict of ``field__lookup`` keys.

        Django keeps it for framework code that receives a condition in either
        form (``limit_choices_to``); application code reads better with
        ``filter()``. Anything else raises ``TypeError``, as Django's ``**``
        unpacking of a non-mapping does.
        """
        if isinstance(filter_obj, Q):
            return self._filter_or_exclude(False, (filter_obj,), {})
        if not isinstance(filter_obj, Mapping):
            raise TypeError(
                f"complex_filter() takes a Q object or a dict of lookups, not {short_repr(filter_obj)}: "
                "e.g. complex_filter(Q(name='x')) or complex_filter({'name': 'x'})."
            )
        return self._filter_or_exclude(False, (), dict(filter_obj))

    def _filter_or_exclude(self, negate: bool, args: Any, kwargs: Any) -> Self:
        for key in ("_connector", "_negated"):
            if key in kwargs:
                raise TypeError(
                    f"{short_repr(key)} is not a valid keyword for filter()/exclude()/get()."
                )
        # A manager's QuerySet has no Query yet: the clone builds a fresh one
        # instead of building one here only to copy it.
        query = self._query
        if query is None and self._terms is None and kwargs and not (args or negate):
            pending = terms.build_terms(self.model, kwargs)
            if pending is not None:
                clone = self._chain()
                clone._terms = pending
                return clone
        if query is not None and query.combinator:
            self._not_support_combined_queries("exclude()" if negate else "filter()")
        if query is not None and query.is_sliced and (args or kwargs):
            raise TypeError("Cannot filter a query once a slice has been taken.")
        clone = self._chain()
        q = Q(*args, **kwargs)
        if negate:
            q = ~q
        if q:
            clone.query.add_filter(q)
        return clone

    def order_by(self, *field_names: Any) -> Self:
        """Replace the ordering (``"-name"``, ``"author__name"``, ``"?"``, expressions)."""
        if self.query.is_sliced:
            raise TypeError("Cannot reorder a query once a slice has been taken.")
        clone = self._chain()
        clone.query.clear_ordering(force=not field_names)
        clone.query.add_ordering(*field_names)
        return clone

    def reverse(self) -> Self:
        """Reverse the ordering."""
        clone = self._chain()
        clone.query.standard_ordering = not clone.query.standard_ordering
        return clone

    def distinct(self, *field_names: str) -> Self:
        """SELECT DISTINCT (``DISTINCT ON`` fields on PostgreSQL)."""
        self._not_support_combined_queries("distinct()")
        for name in field_names:
            self.query.resolve_ref(name)
        clone = self._chain()
        clone.query.distinct = True
        clone.query.distinct_fields = tuple(field_names)
        return clone

    def values(self, *fields: str, **expressions: Any) -> QuerySet[Any]:
        """Rows as dicts of the named fields (all concrete fields by default)."""
        clone = self._values(fields, expressions)
        clone._iterable_class = ValuesIterable
        return clone

    def _values(self, fields: Sequence[str], expressions: dict[str, Any]) -> QuerySet[Any]:
        clone = self._chain()
        for alias, expression in expressions.items():
            clone.query.add_annotation(
                F(expression) if isinstance(expression, str) else expression, alias
            )
        names = list(fields) + [name for name in expressions if name not in fields]
        if not fields and not expressions:
            names = [fld.attname for fld in self.model._meta.concrete_fields]
            names += list(clone.query.annotation_select)
        clone._fields = tuple(names)
        clone.query.set_values(names)
        # Only QuerySet (or a subclass of it) is ever instantiated, so the copy is one.
        return cast("QuerySet[Any]", clone)

    # Rows are tuples; flat=True (one field at most) gives bare values, typed
    # Any since the field's type is not known from its name; named=True gives
    # Row, a tuple with attributes. A bool only known at run time gets Any.
    @overload
    def values_list(
        self,
        *fields: str,
        flat: Literal[False] = False,
        named: Literal[False] = False,
    ) -> QuerySet[tuple[Any, ...]]: ...
    @overload
    def values_list(
        self,
        field: str = ...,
        /,
        *,
        flat: Literal[True],
        named: Literal[False] = False,
    ) -> QuerySet[Any]: ...
    @overload
    def values_list(
        self,
        *fields: str,
        flat: Literal[False] = False,
        named: Literal[True],
    ) -> QuerySet[Row]: ...
    @overload
    def values_list(
        self, *fields: str, flat: bool = False, named: bool = False
    ) -> QuerySet[Any]: ...
    def values_list(self, *fields: str, flat: bool = False, named: bool = False) -> QuerySet[Any]:
        """Rows as tuples (``flat=True``: single values; ``named=True``: named tuples)."""
        if flat and named:
            raise TypeError("'flat' and 'named' can't be used together.")
        if flat and len(fields) > 1:
            raise TypeError(
                "'flat' is not valid when values_list is called with more than one field."
            )
        names, expressions = _values_list_names(fields)
        clone = self._values(names, expressions)
        if flat:
            clone._iterable_class = FlatValuesListIterable
        elif named:
            clone._iterable_class = NamedValuesListIterable
        else:
            clone._iterable_class = ValuesListIterable
        return clone

    def only(self, *fields: str) -> Self:
        """Load only these fields now; the others load on first access."""
        self._not_support_combined_queries("only()")
        if any(
            isinstance(name, str) and name.split("__", 1)[0] in self.query.filtered_relations
            for name in fields
        ):
            raise ValueError("only() is not supported with FilteredRelation.")
        return self._deferred(fields, defer=False)

    def defer(self, *fields: str) -> Self:
        """Load these fields only on first access."""
        self._not_support_combined_queries("defer()")
        return self._deferred(fields, defer=True)

    def _deferred(self, fields: Sequence[str], defer: bool) -> Self:
        call = "defer()" if defer else "only()"
        if self._fields is not None:
            raise TypeError(f"Cannot call {call} after .values() or .values_list()")
        if fields == (None,):  # type: ignore[comparison-overlap]
            if not defer:
                raise TypeError("Cannot pass None as an argument to only().")
            clone = self._chain()
            clone.query.deferred_loading = (frozenset(), True)  # defer(None) clears, as Django
            return clone
        names = frozenset(deferred_path(self.model, name) for name in fields)
        clone = self._chain()
        current, current_defer = clone.query.deferred_loading
        if defer:
            names = (current | names) if current_defer else (current - names)
            clone.query.deferred_loading = (names, current_defer if current else True)
        else:
            clone.query.deferred_loading = (names, False)
        return clone

    def select_related(self, *fields: str) -> Self:
        """Join and load these forward relations in the same query."""
        self._not_support_combined_queries("select_related()")
        clone = self._chain()
        if fields == (None,):  # type: ignore[comparison-overlap]
            clone.query.select_related = False
            return clone
        if not fields:
            clone.query.select_related = True
            return clone
        tree = clone.query.select_related if isinstance(clone.query.select_related, dict) else {}
        for name in fields:
            node = tree
            for part in name.split("__"):
                node = node.setdefault(part, {})
        clone.query.select_related = tree
        return clone

    def prefetch_related(self, *lookups: Any) -> Self:
        """Load these relations with one extra query each after the main one."""
        self._not_support_combined_queries("prefetch_related()")
        clone = self._chain()
        if lookups == (None,):
            clone._prefetch_related_lookups = ()
        else:
            known = list(clone._prefetch_related_lookups)
            for lookup in lookups:
                path = getattr(lookup, "prefetch_through", lookup)
                if (
                    isinstance(path, str)
                    and path.split("__", 1)[0] in self.query.filtered_relations
                ):
                    raise ValueError("prefetch_related() is not supported with FilteredRelation.")
                check_prefetch_path(self.model, lookup, to_attr_paths(known))
                known.append(lookup)
            clone._prefetch_related_lookups += lookups
        return clone

    def annotate(self, *args: Any, **kwargs: Any) -> Self:
        """Add computed columns (aggregates group by the selected rows)."""
        self._not_support_combined_queries("annotate()")
        return self._annotate(args, kwargs, select=True)

    def alias(self, *args: Any, **kwargs: Any) -> Self:
        """Like annotate() but not selected: usable in filter/order_by only."""
        self._not_support_combined_queries("alias()")
        return self._annotate(args, kwargs, select=False)

    def _annotate(self, args: Any, kwargs: dict[str, Any], select: bool) -> Self:
        for arg in args:
            kwargs.setdefault(arg.default_alias, arg)
        for alias in kwargs:
            check_alias(alias)
        clone = self._chain()
        for alias, expression in kwargs.items():
            if isinstance(expression, FilteredRelation):
                clone.query.add_filtered_relation(expression, alias)
            else:
                clone.query.add_annotation(expression, alias, select=select)
        if select and clone._fields is not None:
            # After values()/values_list() an annotation is one more column of
            # each row (after the named ones), as in Django.
            clone._fields += tuple(
                alias
                for alias, expression in kwargs.items()
                if alias not in clone._fields and not isinstance(expression, FilteredRelation)
            )
        return clone

    def dates(self, field_name: str, kind: str, order: str = "ASC") -> QuerySet[Any]:
        """The distinct dates of ``field_name`` truncated to ``kind`` (year, month, week, day), as ``date``s."""
        if kind not in ("year", "month", "week", "day"):
            raise ValueError("'kind' must be one of 'year', 'month', 'week', or 'day'.")
        return self._truncated_values(field_name, kind, order, "datefield", DateField(), None)

    def datetimes(
        self, field_name: str, kind: str, order: str = "ASC", tzinfo: datetime.tzinfo | None = None
    ) -> QuerySet[Any]:
        """Distinct datetimes of ``field_name`` truncated to ``kind`` in ``tzinfo``, returned in it.

        Without ``tzinfo`` the truncation happens in UTC (the time zone datetimes
        are stored in); with ``use_tz=False`` a ``tzinfo`` is ignored, as Django.
        """
        if kind not in ("year", "month", "week", "day", "hour", "minute", "second"):
            raise ValueError(
                "'kind' must be one of 'year', 'month', 'week', 'day', 'hour', 'minute', or 'second'."
            )
        return self._truncated_values(
            field_name, kind, order, "datetimefield", DateTimeField(), tzinfo if use_tz() else None
        )

    def _truncated_values(
        self,
        field_name: str,
        kind: str,
        order: str,
        alias: str,
        output: Any,
        tzinfo: datetime.tzinfo | None,
    ) -> QuerySet[Any]:
        if order not in ("ASC", "DESC"):
            raise ValueError("'order' must be either 'ASC' or 'DESC'.")
        self._not_support_combined_queries(f"{alias.replace('field', '')}s()")
        return (
            self.annotate(
                **{alias: Trunc(field_name, kind, output_field=output, tzinfo=tzinfo)},
                plain_field=F(field_name),
            )
            .values_list(alias, flat=True)
            .distinct()
            .filter(plain_field__isnull=False)
            .order_by(("-" if order == "DESC" else "") + alias)
        )

    def none(self) -> Self:
        """A QuerySet that matches nothing and runs no query."""
        clone = self._chain()
        clone.query.set_empty()
        return clone

    def union(self, *other_qs: QuerySet[Any], all: bool = False) -> Self:
        """SQL UNION (``all=True`` keeps duplicates); see docs/queries.md for what may follow."""
        return combinators.combine(self, "union", other_qs, all)

    def intersection(self, *other_qs: QuerySet[Any]) -> Self:
        """SQL INTERSECT: the rows every QuerySet returns."""
        return combinators.combine(self, "intersection", other_qs)

    def difference(self, *other_qs: QuerySet[Any]) -> Self:
        """SQL EXCEPT: this QuerySet's rows that none of the others returns."""
        return combinators.combine(self, "difference", other_qs)

    def using(self, alias: str) -> Self:
        """Run on another configured database alias."""
        clone = self._chain()
        clone._db = alias
        return clone

    def select_for_update(
        self,
        nowait: bool = False,
        skip_locked: bool = False,
        of: Sequence[str] = (),
        no_key: bool = False,
    ) -> Self:
        """Lock the selected rows until the end of the transaction (inside atomic only).

        ``no_key=True`` takes PostgreSQL's weaker ``FOR NO KEY UPDATE`` lock, which
        does not block other transactions inserting rows that reference the locked ones.
        """
        if nowait and skip_locked:
            raise ValueError("The nowait option cannot be used with skip_locked.")
        clone = self._chain()
        for name in of:
            if name != "self":
                field, _target, _alias, rest, _ = clone.query.setup_joins(
                    str(name).split("__"), trim_last_fk=False
                )
                if rest or not field.is_relation:
                    raise FieldError(
                        f"select_for_update(of=...) takes 'self' or relation names; "
                        f"{short_repr(name)} is not one."
                    )
        clone._for_write = True
        clone.query.select_for_update = True
        clone.query.select_for_update_nowait = nowait
        clone.query.select_for_update_skip_locked = skip_locked
        clone.query.select_for_update_of = tuple(of)
        clone.query.select_for_update_no_key = no_key
        return clone


def _values_list_names(fields: Sequence[Any]) -> tuple[list[str], dict[str, Any]]:
    """Column names for ``values_list(*fields)``, as Django names them.

    An expression is named after its ``default_alias`` (or its class, lower-case)
    plus a counter (``Lower("name")`` is ``lower1``); a field named twice is
    selected again as ``<name>1``, ...
    """
    seen: dict[str, bool] = {f: False for f in fields if isinstance(f, str)}
    names: list[str] = []
    expressions: dict[str, Any] = {}
    counter = 1
    for field in fields:
        expression = None
        if hasattr(field, "resolve_expression"):
            try:
                name = field.default_alias
            except (AttributeError, TypeError):
                name = type(field).__name__.lower()
            expression, repeated = field, True
        else:
            name = field
            repeated = seen.get(name, False)
            if repeated:
                expression = F(name)
        if repeated:
            prefix = name
            while (name := f"{prefix}{counter}") in seen:
                counter += 1
        if expression is not None:
            expressions[name] = expression
        seen[name] = True
        names.append(name)
    return names, expressions


__all__ = ["BaseQuerySet"]
