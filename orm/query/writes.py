"""Writes shared by QuerySet and Model: INSERT (one or many), UPDATE, bulk UPDATE, EXPLAIN.

Every value passes its field's ``get_db_prep_save`` first, which checks it
(length, range, digits, NUL, NaN, naive datetimes) so both backends refuse
the same inputs before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from orm.abc import Connection, ModelClass
from orm.db import transaction
from orm.db.connections import connections
from orm.exceptions import DataError, FieldError
from orm.fields import NOT_PROVIDED, DatabaseDefault
from orm.query import insert_values, terms
from orm.query.cache_key import expression_key
from orm.query.conditional import Case, When
from orm.query.expressions import Cast, Col, Value, internal_type
from orm.query.functions.datetime import TruncDate
from orm.query.q import Q
from orm.query.query import Query
from orm.sql.dml import (
    SQLUpdateCompiler,
    exists_by_pk_sql,
    insert_expressions_sql,
    insert_sql,
    update_by_pk_sql,
)
from orm.utils.caches import BoundedCache
from orm.utils.text import short_repr, short_str

if TYPE_CHECKING:
    from orm import fields as f
    from orm.query.queryset import QuerySet


def _insert_fields(model: ModelClass, with_pk: bool) -> list[Any]:
    meta = model._meta
    # The model's own table only: a parent's columns are written to the parent's row.
    return [
        f for f in meta.local_concrete_fields if (with_pk or f is not meta.pk) and not f.generated
    ]


def _insert_value(field: f.Field, obj: Any, connection: Connection) -> Any:
    value = field.pre_save(obj, True)
    if hasattr(value, "resolve_expression"):
        raise _HasExpression
    if value is None:
        field.check_not_null(value)
    return field.get_db_prep_save(value, connection)


class _HasExpression(Exception):
    """A value to insert is an expression: that row takes the one-statement-per-row path."""


class _Output:
    # What connection.ops.get_db_converters() reads: the output field.
    def __init__(self, field: f.Field) -> None:
        self.output_field = field


def _converters(field: f.Field, connection: Connection) -> list[Any]:
    return [*connection.ops.get_db_converters(_Output(field)), *field.get_db_converters(connection)]


def insert_rows(
    model: ModelClass,
    objs: Sequence[Any],
    using: str,
    with_pk: bool,
    batch_size: int | None = None,
    ignore_conflicts: bool = False,
    on_conflict: str = "",
) -> None:
    """INSERT ``objs``; without a pk, generated primary keys are set on the objects.

    ``on_conflict`` is an upsert clause (see :func:`upsert_clause`): rows whose
    unique fields match a stored row update it instead, and the stored row's
    primary key is set on the object, as Django 5.0+ does.

    With ``ignore_conflicts`` rows that violate a constraint are skipped and
    primary keys are not set (which rows were inserted is unknown). Columns
    left to their ``db_default`` are not sent; their stored values come back
    through RETURNING, as Django 5.0 does. An object with an expression as a
    field value (``Lower(Value("X"))``) is inserted by a statement of its own,
    which returns the computed values.
    """
    connection = connections[using]
    fields = _insert_fields(model, with_pk)
    # Generated columns are computed by the database and read back, as db_default ones.
    generated = tuple(f for f in model._meta.local_concrete_fields if f.generated)
    for omitted, group in _group_by_database_defaults(fields, objs):
        kept = [f for f in fields if f not in omitted]
        _insert_group(
            model,
            group,
            kept,
            omitted + generated,
            connection,
            with_pk,
            batch_size,
            ignore_conflicts,
            on_conflict,
        )


def _group_by_database_defaults(
    fields: list[Any], objs: Sequence[Any]
) -> list[tuple[tuple[Any, ...], list[Any]]]:
    """``objs`` grouped by which fields they leave to ``db_default`` (usually one group)."""
    defaulted = [f for f in fields if f.db_default is not NOT_PROVIDED]
    if not defaulted:
        return [((), list(objs))]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for obj in objs:
        key = tuple(
            f for f in defaulted if isinstance(obj.__dict__.get(f.attname), DatabaseDefault)
        )
        groups.setdefault(key, []).append(obj)
    return list(groups.items())


def _insert_group(
    model: ModelClass,
    objs: list[Any],
    fields: list[Any],
    omitted: tuple[Any, ...],
    connection: Connection,
    with_pk: bool,
    batch_size: int | None,
    ignore_conflicts: bool,
    on_conflict: str = "",
) -> None:
    meta = model._meta
    rows: list[Sequence[Any]]
    try:
        # Column by column (orm.query.insert_values); any expression or invalid
        # value sends the whole group through the row-by-row loop below, which
        # raises the first error in row order, as always.
        rows, plain = insert_values.rows(fields, objs, connection), objs
    except Exception:
        rows, plain = [], []
        for obj in objs:
            try:
                rows.append([_insert_value(f, obj, connection) for f in fields])
            except _HasExpression:
                _insert_expression_row(
                    model, obj, fields, connection, with_pk, ignore_conflicts, omitted, on_conflict
                )
                continue
            plain.append(obj)
    returned: list[Any] = [] if ignore_conflicts else [*([] if with_pk else [meta.pk]), *omitted]
    returning = [f.column for f in returned]
    columns = [f.column for f in fields]
    types = (
        [f.db_type(connection) for f in fields]
        if connection.features.can_bulk_insert_unnest
        else None
    )
    statements = []
    step = batch_size or len(rows) or 1
    for start in range(0, len(rows), step):
        statements += insert_sql(
            connection,
            meta.db_table,
            columns,
            rows[start : start + step],
            returning,
            ignore_conflicts,
            types,
            on_conflict,
        )
    converters = [(f, f.get_db_converters(connection)) for f in returned]
    found: list[Any] = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if returning:
                found += cursor.fetchall()
    _set_returned(plain, found, converters, connection)


def _set_returned(
    objs: list[Any],
    rows: list[Any],
    converters: list[tuple[Any, list[Any]]],
    connection: Connection,
) -> None:
    """Store each returned row on its object (in insert order) and mark every object saved."""
    alias = connection.alias
    if len(converters) == 1 and not converters[0][1]:
        # Only the primary key, which needs no converter (bulk_create's usual
        # case): one loop over the objects instead of one per value.
        attname = converters[0][0].attname
        for obj, (value,) in zip(objs, rows):  # noqa: B905 - one row per object, as inserted
            setattr(obj, attname, value)
    elif converters:
        for obj, row in zip(objs, rows):  # noqa: B905 - as above
            for value, (field, field_converters) in zip(row, converters, strict=True):
                for converter in field_converters:
                    value = converter(value, field, connection)
                setattr(obj, field.attname, value)
    for obj in objs:
        state = obj._state
        state.adding = False
        state.db = alias


class _InsertPlan(NamedTuple):
    """What is static in saving one new instance of a model: the statement and what it returns."""

    fields: list[Any]
    sql: str
    #: (field, converters) of each RETURNING column, in order.
    returned: list[tuple[Any, list[Any]]]
    #: ``prepare(obj, connection)`` of each field: its driver value (insert_values.preparer).
    prepare: tuple[Any, ...]


#: (model, alias, vendor, with_pk) -> the plan, or None for a model whose rows
#: need the general path (``db_default`` or generated columns: the statement
#: depends on the instance). Emptied by ``configure()`` (orm.utils.caches).
_INSERT_PLANS: BoundedCache[tuple[Any, str, str, bool], _InsertPlan | None] = BoundedCache(
    "insert plans", 2048
)
_MISSING_PLAN: Any = object()


def _insert_plan(model: ModelClass, connection: Connection, with_pk: bool) -> _InsertPlan | None:
    meta = model._meta
    if any(f.generated or f.db_default is not NOT_PROVIDED for f in meta.local_concrete_fields):
        return None
    fields = _insert_fields(model, with_pk)
    if not fields:
        return None  # DEFAULT VALUES: rare, left to insert_sql
    returned = [] if with_pk else [meta.pk]
    [(sql, _params)] = insert_sql(
        connection,
        meta.db_table,
        [f.column for f in fields],
        [[None] * len(fields)],
        [f.column for f in returned],
    )
    return _InsertPlan(
        fields,
        sql,
        [(f, f.get_db_converters(connection)) for f in returned],
        tuple(insert_values.preparer(f, connection) for f in fields),
    )


def insert_one(model: ModelClass, obj: Any, using: str, with_pk: bool) -> None:
    """INSERT one instance (``save()``, ``create()``): ``insert_rows`` for one object, its statement cached.

    The INSERT text, column list, RETURNING converters and each field's
    value preparation depend only on the model and the connection, so they
    are made once; every value is still read (``pre_save``) and prepared on
    each call, with the checks and errors of ``get_db_prep_save``.
    """
    connection = connections[using]
    key = (model, using, connection.vendor, with_pk)
    plan = _INSERT_PLANS.get(key, _MISSING_PLAN)
    if plan is _MISSING_PLAN:
        plan = _insert_plan(model, connection, with_pk)
        _INSERT_PLANS.put(key, plan)
    if plan is None:
        insert_rows(model, [obj], using, with_pk)
        return
    assert isinstance(plan, _InsertPlan)
    try:
        values = [prepare(obj, connection) for prepare in plan.prepare]
    except insert_values.HasExpression:
        _insert_expression_row(model, obj, plan.fields, connection, with_pk, False)
        return
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, values)
        if plan.returned:
            # fetchall(), as insert_rows: SQLite finishes the statement only when its rows are read.
            for row in cursor.fetchall():
                for value, (field, field_converters) in zip(row, plan.returned, strict=True):
                    for converter in field_converters:
                        value = converter(value, field, connection)
                    setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = connection.alias


def _insert_expression_row(
    model: ModelClass,
    obj: Any,
    fields: list[Any],
    connection: Connection,
    with_pk: bool,
    ignore_conflicts: bool,
    omitted: tuple[Any, ...] = (),
    on_conflict: str = "",
) -> None:
    """INSERT one object whose values include expressions; set the values the database computed.

    As Django: an expression may not read a column (there is no row yet).
    The computed values come back through RETURNING, so the instance holds
    what was stored rather than the expression.
    """
    query = Query(model)
    compiler = query.get_compiler(connection=connection)
    values_sql: list[str] = []
    params: list[Any] = []
    computed = []
    for field in fields:
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            sql, value_params = compiler.compile(_insertable(field, value, query))
            computed.append(field)
        else:
            if value is None:
                field.check_not_null(value)
            sql, value_params = "%s", [field.get_db_prep_save(value, connection)]
        values_sql.append(sql)
        params.extend(value_params)
    # ``omitted``: db_default and generated columns, computed by the database too.
    returning = (
        [] if ignore_conflicts else [*([] if with_pk else [model._meta.pk]), *computed, *omitted]
    )
    sql, params = insert_expressions_sql(
        connection,
        model._meta.db_table,
        [f.column for f in fields],
        values_sql,
        params,
        [f.column for f in returning],
        ignore_conflicts,
        on_conflict,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone() if returning else None
    if row is not None:
        for field, value in zip(returning, row, strict=True):
            for converter in _converters(field, connection):
                value = converter(value, field, connection)
            obj.__dict__[field.attname] = value
    else:
        for field in computed:  # skipped or unknown: load from the row on first access
            obj.__dict__.pop(field.attname, None)
    obj._state.adding = False
    obj._state.db = connection.alias


def _insertable(field: f.Field, value: Any, query: Query) -> Any:
    """Resolve an expression to insert, refusing what cannot be computed without a row."""
    resolved = value.resolve_expression(query, allow_joins=False, for_save=True)
    if any(isinstance(node, Col) for node in resolved.flatten()):
        raise ValueError(
            f'Failed to insert expression "{value!r}" on {field.model._meta.label}.{field.name}. '
            "F() expressions can only be used to update, not to insert."
        )
    if resolved.contains_aggregate:
        raise FieldError(
            f"Aggregate functions are not allowed in this query ({field.name}={value!r})."
        )
    return resolved


#: save()'s ``UPDATE table SET ... WHERE pk = %s`` per (vendor, table, pk column, columns...).
_UPDATES_BY_PK: BoundedCache[tuple[str, ...], str] = BoundedCache("update-by-pk statements", 2048)


def update_row(model: ModelClass, obj: Any, fields: Sequence[Any], using: str) -> bool:
    """UPDATE one saved instance by primary key; True when a row matched."""
    connection = connections[using]
    meta = model._meta
    written = []  # computed (generated) fields are the database's, never written
    raw = []
    expressions = False
    for f in fields:
        if f.generated:
            continue
        value = f.pre_save(obj, False)
        if isinstance(value, DatabaseDefault):
            # A field still left to its db_default is set to it, as Django's UPDATE ... SET col = DEFAULT.
            value = value.expression
        if hasattr(value, "resolve_expression"):
            expressions = True
        written.append(f)
        raw.append(value)
    # Of ``model``'s row: a parent's when saving a child's parent part.
    pk = getattr(obj, meta.pk.attname)
    if expressions:
        return _update_with_expressions(model, obj, pk, written, raw, using)
    values = [f.get_db_prep_save(value, connection) for f, value in zip(written, raw, strict=True)]
    pk_value = meta.pk.get_db_prep_value(pk, connection)
    with connection.cursor() as cursor:
        if not written:
            cursor.execute(exists_by_pk_sql(connection, meta.db_table, meta.pk.column), [pk_value])
            return cursor.fetchone() is not None
        key = (connection.vendor, meta.db_table, meta.pk.column, *[f.column for f in written])
        sql = _UPDATES_BY_PK.get(key)
        if sql is None:
            sql = update_by_pk_sql(
                connection, meta.db_table, [f.column for f in written], meta.pk.column
            )
            _UPDATES_BY_PK.put(key, sql)
        # Table and column names and parameters only: it cannot change the session.
        cursor.session_safe = True
        cursor.execute(sql, [*values, pk_value])
        return cursor.rowcount > 0


def _update_with_expressions(
    model: ModelClass, obj: Any, pk: Any, fields: list[Any], raw: list[Any], using: str
) -> bool:
    # book.pages = F("pages") + 1: let the database compute it (as Django).
    manager = model._base_manager.using(using)
    matched = manager.filter(pk=pk).update(
        **{f.attname: v for f, v in zip(fields, raw, strict=True)}
    )
    if matched:
        computed = [f for f, v in zip(fields, raw, strict=True) if hasattr(v, "resolve_expression")]
        _reload_computed(manager, obj, pk, computed)
    return bool(matched)


def _reload_computed(manager: Any, obj: Any, pk: Any, fields: list[Any]) -> None:
    """Replace expressions on ``obj`` by the values the database stored for them.

    A SELECT right after the UPDATE, on the same connection (and in the
    caller's transaction, if any): outside a transaction another writer's
    change made in between would be read too, as with ``refresh_from_db()``.
    """
    row = manager.filter(pk=pk).values_list(*[f.attname for f in fields]).first()
    for field, value in zip(fields, row or (), strict=False):
        obj.__dict__[field.attname] = value
        if field.is_relation:
            obj._state.fields_cache.pop(field.name, None)


def upsert_clause(
    model: ModelClass,
    connection: Connection,
    ignore_conflicts: bool,
    update_conflicts: bool,
    update_fields: Sequence[str] | None,
    unique_fields: Sequence[str] | None,
) -> str:
    """The ``ON CONFLICT ... DO UPDATE`` clause of ``bulk_create(update_conflicts=True)``.

    Checked as Django's ``_check_bulk_create_options`` checks, before any
    statement runs, so bad arguments change nothing stored. Empty when no
    upsert was asked for.
    """
    if ignore_conflicts and update_conflicts:
        raise ValueError("ignore_conflicts and update_conflicts are mutually exclusive.")
    if not update_conflicts:
        return ""  # Django ignores update_fields/unique_fields here too
    meta = model._meta
    if not update_fields:
        raise ValueError(
            "Fields that will be updated when a row insertion fails on conflicts must be provided."
        )
    if not unique_fields:
        raise ValueError("Unique fields that can trigger the upsert must be provided.")
    if isinstance(update_fields, str) or isinstance(unique_fields, str):
        raise TypeError(
            "update_fields and unique_fields must be lists of field names, not a string."
        )
    updates = [meta.get_field(name) for name in update_fields]
    # "pk" names the primary key among the unique fields, as in Django.
    uniques = [meta.get_field(meta.pk.name if name == "pk" else name) for name in unique_fields]
    if any(not f.concrete or f.many_to_many for f in updates):
        raise ValueError("bulk_create() can only be used with concrete fields in update_fields.")
    if any(f.primary_key for f in updates):
        raise ValueError("bulk_create() cannot be used with primary keys in update_fields.")
    if any(not f.concrete or f.many_to_many for f in uniques):
        raise ValueError("bulk_create() can only be used with concrete fields in unique_fields.")
    return str(
        connection.ops.on_conflict_suffix_sql(
            [f.column for f in uniques], [f.column for f in updates]
        )
    )


def bulk_insert(
    model: ModelClass,
    objs: list[Any],
    using: str,
    batch_size: int | None,
    ignore_conflicts: bool = False,
    update_conflicts: bool = False,
    update_fields: Sequence[str] | None = None,
    unique_fields: Sequence[str] | None = None,
) -> None:
    """``bulk_create``: all-or-nothing inside one atomic block."""
    on_conflict = upsert_clause(
        model, connections[using], ignore_conflicts, update_conflicts, update_fields, unique_fields
    )
    if not objs:
        return
    for obj in objs:
        if not isinstance(obj, model):
            raise TypeError(
                f"bulk_create() expects {model.__name__} instances, got {type(obj).__name__}."
            )
        obj._prepare_related_fields_for_save("bulk_create")
    pk_attname = model._meta.pk.attname
    with_pk = [o for o in objs if getattr(o, pk_attname) is not None]
    without_pk = [o for o in objs if getattr(o, pk_attname) is None]
    with transaction.atomic(using=using, savepoint=False):
        if with_pk:
            insert_rows(model, with_pk, using, True, batch_size, ignore_conflicts, on_conflict)
        if without_pk:
            insert_rows(model, without_pk, using, False, batch_size, ignore_conflicts, on_conflict)


def update_values(
    query: Query, kwargs: dict[str, Any], connection: Connection
) -> list[tuple[Any, Any]]:
    """(field, value) pairs for UPDATE; names and values are checked here."""
    meta = query.model._meta
    values = []
    for name, value in kwargs.items():
        field = meta.get_field_or_none(name)
        if field is None or not field.concrete or field.many_to_many:
            raise FieldError(
                f"Cannot update model field {short_repr(name)} (only concrete fields are permitted). "
                f"Choices are: {', '.join(f.name for f in meta.concrete_fields)}"
            )
        if field.generated:
            raise FieldError(
                f"Cannot update the generated field {short_repr(name)}: the database computes it."
            )
        if hasattr(value, "resolve_expression"):
            value = value.resolve_expression(query, allow_joins=False, for_save=True)
            _check_expression_values(field, value)
            if (
                field.storage_field().get_internal_type() == "DateField"
                and internal_type(value) == "DateTimeField"
            ):
                # due=F("due") + timedelta(days=7) computes a datetime; a date
                # column keeps its (UTC) date, stored in the date format.
                value = TruncDate(value)
        else:
            if field.is_relation and hasattr(value, "_meta"):
                value = field.get_prep_value(value)
            value = field.get_db_prep_save(value, connection)
        values.append((field, value))
    return values


def _check_expression_values(field: f.Field, expression: Any) -> None:
    """Refuse integer literals inside an update expression that no column could bind."""
    for node in getattr(expression, "flatten", lambda: [])():
        value = getattr(node, "value", None)
        if isinstance(node, Value) and isinstance(value, int) and not isinstance(value, bool):
            if not -(2**63) <= value < 2**63:
                raise DataError(
                    f"Value {short_str(value)} in the expression for field {field.name!r} is out of the "
                    "64-bit integer range."
                )


def update(queryset: QuerySet[Any], kwargs: dict[str, Any]) -> int:
    """``QuerySet.update``: one UPDATE statement, returns the affected row count."""
    if not kwargs:
        raise TypeError("update() needs at least one field=value argument.")
    if queryset.model._meta.parents:
        local, inherited = _split_by_table(queryset.model._meta, kwargs)
        if inherited:
            return _update_with_parents(queryset, local, inherited)
    connection = connections[queryset.db]
    shape = _update_shape(queryset, kwargs, connection)
    if shape is not None:
        entry = _UPDATES.get(shape[0])
        if entry is not None:
            return _run_update(
                queryset, connection, entry.sql, _update_params(entry, kwargs, connection, shape[1])
            )
    if queryset.query.annotations and queryset.query.where.contains_over_clause():
        # The rows a window filter keeps are known only once the window has
        # run, which UPDATE's WHERE cannot wait for: update them by primary key.
        queryset = type(queryset)(queryset.model, using=queryset.db).filter(
            pk__in=queryset.values("pk")
        )
    query = queryset.query.chain()
    query.clear_ordering()
    query.annotations = {}
    values = update_values(query, kwargs, connection)
    compiler = SQLUpdateCompiler(query, connection, values)
    from orm.exceptions import EmptyResultSet

    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return 0
    if shape is not None:
        _remember_update(shape, compiler, values, sql, params)
    return _run_update(queryset, connection, sql, params)


def _run_update(
    queryset: QuerySet[Any], connection: Connection, sql: str, params: list[Any]
) -> int:
    with transaction.mark_for_rollback_on_error(queryset.db), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
    queryset._result_cache = None
    return int(rows)


class _UpdateStatement(NamedTuple):
    """A compiled ``filter(**plain values).update(**kwargs)``, reusable for every call of its shape."""

    sql: str
    #: Per SET column, in kwargs order: (field, None) for a plain value
    #: (prepared on each call), (field, parameters) for an expression (constants of the key).
    sets: list[tuple[Any, list[Any] | None]]


#: The UPDATE statement of each shape: the model, the filter's pending terms
#: (``orm.query.terms``) and, per updated name, a plain value or the key of
#: its expression (``cache_key.expression_key``). Emptied by ``configure()``.
_UPDATES: BoundedCache[Hashable, _UpdateStatement] = BoundedCache("update statements", 2048)


def _update_shape(
    queryset: QuerySet[Any], kwargs: dict[str, Any], connection: Connection
) -> tuple[Hashable, list[Any]] | None:
    """(cache key, WHERE parameters) of this update, or None when it is not a cacheable shape.

    Only a QuerySet straight from its manager, filtered (if at all) by plain
    values still pending as terms: its WHERE clause is known from the terms,
    and it has no slice, ordering, annotation or join.
    """
    if queryset._query is not None:
        return None
    values: list[Hashable] = []
    for name, value in kwargs.items():
        if hasattr(value, "resolve_expression"):
            key = expression_key(value)
            if key is None:
                return None
            values.append((name, key))
        else:
            values.append(name)
    pending = queryset._terms
    if pending:
        where_key, where_params = terms.PendingQuery(
            queryset.model, pending, terms.FETCH
        ).statement_key(connection)
    else:
        where_key, where_params = None, []
    return (
        "update",
        connection.alias,
        connection.vendor,
        queryset.model,
        where_key,
        tuple(values),
    ), where_params


def _remember_update(
    shape: tuple[Hashable, list[Any]],
    compiler: SQLUpdateCompiler,
    values: list[tuple[Any, Any]],
    sql: str,
    params: list[Any],
) -> None:
    """Cache a freshly compiled UPDATE when its parameters are exactly the SET values then the terms'."""
    sets: list[tuple[Any, list[Any] | None]] = []
    expected: list[Any] = []
    for field, value in values:
        if hasattr(value, "as_sql"):
            value_params = list(compiler.compile(value)[1])
            sets.append((field, value_params))
            expected += value_params
        else:
            sets.append((field, None))
            expected.append(value)
    if params == [*expected, *shape[1]]:
        _UPDATES.put(shape[0], _UpdateStatement(sql, sets))


def _update_params(
    entry: _UpdateStatement, kwargs: dict[str, Any], connection: Connection, where_params: list[Any]
) -> list[Any]:
    """This call's parameters for a cached UPDATE: each plain value prepared (and checked) by its field."""
    params: list[Any] = []
    for value, (field, constants) in zip(kwargs.values(), entry.sets, strict=True):
        if constants is None:
            if field.is_relation and hasattr(value, "_meta"):
                value = field.get_prep_value(value)
            params.append(field.get_db_prep_save(value, connection))
        else:
            params += constants
    return params + where_params


def _split_by_table(
    meta: Any, kwargs: dict[str, Any]
) -> tuple[dict[str, Any], dict[Any, dict[str, Any]]]:
    """``kwargs`` of a child model's update: (its own table's, {ancestor: that table's})."""
    local: dict[str, Any] = {}
    inherited: dict[Any, dict[str, Any]] = {}
    for name, value in kwargs.items():
        field = meta.get_field_or_none(name)
        owner = (
            meta.owner_of(field) if field is not None and field.concrete else meta.concrete_model
        )
        if owner is meta.concrete_model:
            local[name] = value
        else:
            inherited.setdefault(owner, {})[name] = value
    return local, inherited


def _update_with_parents(
    queryset: QuerySet[Any], local: dict[str, Any], inherited: dict[Any, dict[str, Any]]
) -> int:
    """UPDATE a child model's rows whose values live in several tables (Django's related updates).

    The matching rows' ancestor keys are read first (the updates may change
    what the filter matches), then each table gets its own UPDATE, all in one
    transaction. The count is the child table's, or the first parent's when
    only inherited fields change, as Django.
    """
    db = queryset.db
    with transaction.atomic(using=db, savepoint=False):
        keys = {
            owner: list(queryset.values_list(owner._meta.pk.name, flat=True)) for owner in inherited
        }
        rows = update(queryset, local) if local else None
        for owner, values in inherited.items():
            count = int(owner._base_manager.using(db).filter(pk__in=keys[owner]).update(**values))
            rows = count if rows is None else rows
    queryset._result_cache = None
    return rows or 0


def bulk_update(
    queryset: QuerySet[Any], objs: list[Any], fields: list[str], batch_size: int | None
) -> int:
    """``QuerySet.bulk_update``: per batch one UPDATE with CASE WHEN pk = ... THEN ..."""
    if batch_size is not None and batch_size <= 0:
        raise ValueError("Batch size must be a positive integer.")
    if not fields:
        raise ValueError("Field names must be given to bulk_update().")
    meta = queryset.model._meta
    resolved = []
    for name in fields:
        field = meta.get_field_or_none(name)
        if field is None or not field.concrete or field.many_to_many:
            raise FieldError(
                f"bulk_update() can only be used with concrete fields; {short_repr(name)} is not one."
            )
        if field.generated:
            raise FieldError(
                f"bulk_update() cannot be used with the generated field {short_repr(name)}."
            )
        if field.primary_key:
            raise ValueError("bulk_update() cannot be used with primary key fields.")
        resolved.append(field)
    if any(obj.pk is None for obj in objs):
        raise ValueError("All bulk_update() objects must have a primary key set.")
    if not objs:
        return 0
    connection = connections[queryset.db]
    size = batch_size or max(
        1, connection.ops.bulk_batch_size(len(resolved) * 2 + 1, len(objs)) // 2
    )
    updated = 0
    with transaction.atomic(using=queryset.db, savepoint=False):
        for start in range(0, len(objs), size):
            batch = objs[start : start + size]
            kwargs = {}
            for field in resolved:
                whens = [
                    When(Q(pk=obj.pk), then=Value(getattr(obj, field.attname), output_field=field))
                    for obj in batch
                ]
                case: Any = Case(*whens, output_field=field)
                if connection.features.requires_casted_case_in_updates:
                    case = Cast(case, field)
                kwargs[field.attname if field.is_relation else field.name] = case
            for obj in batch:
                for field in resolved:
                    field.get_db_prep_save(getattr(obj, field.attname), connection)
            updated += queryset.filter(pk__in=[obj.pk for obj in batch]).update(**kwargs)
    return updated


def explain(queryset: QuerySet[Any], format: str | None, options: dict[str, Any]) -> str:
    """Run EXPLAIN on the query; format and options are allow-listed by the backend."""
    connection = connections[queryset.db]
    prefix = connection.ops.explain_query_prefix(format, **options)
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params)
        rows = cursor.fetchall()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)
