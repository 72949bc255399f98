"""``Model.objects.get(pk=...)`` from the statement cache, without the layers between.

A manager's ``get(**plain values)`` is the most frequent query there is, and
its SQL, converters and row function are all known after the first call of
each shape (``orm.query.terms`` keys it, ``STATEMENTS`` keeps it). The
ordinary path still clones the QuerySet, makes a compiler and an iterable and
walks through them each time: about a quarter of the call's time on SQLite
(``Book.objects.get(pk=)`` in a loop, 21-23 us before this path, 15-19 us with it).

:func:`fetch` serves the call straight from the cached statement when the
QuerySet is exactly a manager's (no filter, ordering, deferral, prefetch,
annotation or custom evaluation yet) and no init signal has receivers;
anything else, and the first call of a shape, returns None and takes the
ordinary path, which compiles and caches the statement. Routing, the
connection's cursor wrapper (error translation, SQL logging, the async
guard, thread checks) and the row functions are the ordinary ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm.db.connections import connections
from orm.query import terms
from orm.query.iterables import PLAIN_MODELS, ModelIterable, build_models
from orm.signals import post_init, pre_init
from orm.sql.compiler import STATEMENTS, full_key

if TYPE_CHECKING:
    from orm.query.queryset import QuerySet

#: QuerySet classes whose get() may take this path: those that do not
#: override how a QuerySet is filtered or evaluated.
_SAFE: dict[type, bool] = {}


def _safe(cls: type, base: type) -> bool:
    found = _SAFE.get(cls)
    if found is None:
        found = _SAFE[cls] = all(
            getattr(cls, name) is getattr(base, name)
            for name in ("filter", "_filter_or_exclude", "_chain", "_fetch_all", "iterator")
        )
    return found


def fetch(qs: QuerySet[Any], base: type, kwargs: dict[str, Any]) -> list[Any] | None:
    """The instances ``qs.get(**kwargs)`` finds, or None when the ordinary path must run.

    ``base`` is the ``QuerySet`` class (this module cannot import it).
    """
    if (
        qs._query is not None
        or qs._terms is not None
        or qs._result_cache is not None
        or qs._iterable_class is not ModelIterable
        or qs._prefetch_related_lookups
        or qs._known_related_objects
        or pre_init.receivers
        or post_init.receivers
        or not _safe(type(qs), base)
    ):
        return None
    model = qs.model
    # Validates each value as filter() does: a bad one raises the same error here.
    pending = terms.build_terms(model, kwargs)
    if pending is None:
        return None
    db = qs.db
    connection = connections[db]
    key, params = terms.PendingQuery(model, pending, terms.GET).statement_key(connection)
    statement = STATEMENTS.get(full_key(connection, True, key))
    if statement is None or statement.klass_info is None:
        return None
    prepared = statement.row_code.get(PLAIN_MODELS)
    if prepared is None:
        return None
    # As SQLCompiler.execute_sql() runs a cached statement.
    cursor = connection.cursor()
    cursor.session_safe = True
    try:
        cursor.execute(statement.sql, [*statement.head, *params, *statement.tail])
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return list(build_models(prepared, connection, db, rows))


__all__ = ["fetch"]
