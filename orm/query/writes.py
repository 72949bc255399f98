"""Writes shared by QuerySet and Model: INSERT (one or many), UPDATE, bulk UPDATE, EXPLAIN.

Every value passes its field's ``get_db_prep_save`` first, which checks it
(length, range, digits, NUL, NaN, naive datetimes) so both backends refuse
the same inputs before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orm.db import transaction
from orm.db.connections import connections
from orm.exceptions import DataError, FieldError
from orm.query.expressions import Case, Cast, Value, When, internal_type
from orm.query.functions.datetime import TruncDate
from orm.query.q import Q
from orm.sql.dml import SQLUpdateCompiler, exists_by_pk_sql, insert_sql, update_by_pk_sql
from orm.utils.text import short_repr, short_str


def _insert_fields(model: Any, with_pk: bool) -> list[Any]:
    meta = model._meta
    return [f for f in meta.concrete_fields if with_pk or f is not meta.pk]


def _insert_value(field: Any, obj: Any, connection: Any) -> Any:
    value = field.pre_save(obj, True)
    if value is None:
        field.check_not_null(value)
    return field.get_db_prep_save(value, connection)


def insert_rows(model: Any, objs: Sequence[Any], using: str, with_pk: bool,
                batch_size: int | None = None, ignore_conflicts: bool = False) -> None:
    """INSERT ``objs``; without a pk, generated primary keys are set on the objects.

    With ``ignore_conflicts`` rows that violate a constraint are skipped and
    primary keys are not set (which rows were inserted is unknown).
    """
    connection = connections[using]
    meta = model._meta
    fields = _insert_fields(model, with_pk)
    rows = [[_insert_value(f, obj, connection) for f in fields] for obj in objs]
    returning = [] if with_pk or ignore_conflicts else [meta.pk.column]
    columns = [f.column for f in fields]
    types = [f.db_type(connection) for f in fields] if connection.features.can_bulk_insert_unnest else None
    statements = []
    step = batch_size or len(rows)
    for start in range(0, len(rows), step):
        statements += insert_sql(connection, meta.db_table, columns, rows[start:start + step],
                                 returning, ignore_conflicts, types)
    converters = meta.pk.get_db_converters(connection)
    position = 0
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if returning:
                for (value,) in cursor.fetchall():
                    for converter in converters:
                        value = converter(value, meta.pk, connection)
                    setattr(objs[position], meta.pk.attname, value)
                    position += 1
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


def update_row(model: Any, obj: Any, fields: list[Any], using: str) -> bool:
    """UPDATE one saved instance by primary key; True when a row matched."""
    connection = connections[using]
    meta = model._meta
    raw = [f.pre_save(obj, False) for f in fields]
    if any(hasattr(value, "resolve_expression") for value in raw):
        # book.pages = F("pages") + 1: let the database compute it (as Django).
        manager = model._base_manager.using(using)
        matched = manager.filter(pk=obj.pk).update(**{f.attname: v for f, v in zip(fields, raw, strict=True)})
        return bool(matched)
    values = [f.get_db_prep_save(value, connection) for f, value in zip(fields, raw, strict=True)]
    pk_value = meta.pk.get_db_prep_value(obj.pk, connection)
    with connection.cursor() as cursor:
        if not fields:
            cursor.execute(exists_by_pk_sql(connection, meta.db_table, meta.pk.column), [pk_value])
            return cursor.fetchone() is not None
        sql = update_by_pk_sql(connection, meta.db_table, [f.column for f in fields], meta.pk.column)
        cursor.execute(sql, [*values, pk_value])
        return cursor.rowcount > 0


def bulk_insert(model: Any, objs: list[Any], using: str, batch_size: int | None,
                ignore_conflicts: bool = False) -> None:
    """``bulk_create``: all-or-nothing inside one atomic block."""
    if not objs:
        return
    for obj in objs:
        if not isinstance(obj, model):
            raise TypeError(f"bulk_create() expects {model.__name__} instances, got {type(obj).__name__}.")
        obj._prepare_related_fields_for_save("bulk_create")
    pk_attname = model._meta.pk.attname
    with_pk = [o for o in objs if getattr(o, pk_attname) is not None]
    without_pk = [o for o in objs if getattr(o, pk_attname) is None]
    with transaction.atomic(using=using, savepoint=False):
        if with_pk:
            insert_rows(model, with_pk, using, True, batch_size, ignore_conflicts)
        if without_pk:
            insert_rows(model, without_pk, using, False, batch_size, ignore_conflicts)


def update_values(query: Any, kwargs: dict[str, Any], connection: Any) -> list[tuple[Any, Any]]:
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
        if hasattr(value, "resolve_expression"):
            value = value.resolve_expression(query, allow_joins=False, for_save=True)
            _check_expression_values(field, value)
            if field.storage_field().get_internal_type() == "DateField" and internal_type(value) == "DateTimeField":
                # due=F("due") + timedelta(days=7) computes a datetime; a date
                # column keeps its (UTC) date, stored in the date format.
                value = TruncDate(value)
        else:
            if field.is_relation and hasattr(value, "_meta"):
                value = field.get_prep_value(value)
            value = field.get_db_prep_save(value, connection)
        values.append((field, value))
    return values


def _check_expression_values(field: Any, expression: Any) -> None:
    """Refuse integer literals inside an update expression that no column could bind."""
    for node in getattr(expression, "flatten", lambda: [])():
        value = getattr(node, "value", None)
        if isinstance(node, Value) and isinstance(value, int) and not isinstance(value, bool):
            if not -(2**63) <= value < 2**63:
                raise DataError(
                    f"Value {short_str(value)} in the expression for field {field.name!r} is out of the "
                    "64-bit integer range."
                )


def update(queryset: Any, kwargs: dict[str, Any]) -> int:
    """``QuerySet.update``: one UPDATE statement, returns the affected row count."""
    if not kwargs:
        raise TypeError("update() needs at least one field=value argument.")
    connection = connections[queryset.db]
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
    with transaction.mark_for_rollback_on_error(queryset.db), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
    queryset._result_cache = None
    return rows


def bulk_update(queryset: Any, objs: list[Any], fields: list[str], batch_size: int | None) -> int:
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
            raise FieldError(f"bulk_update() can only be used with concrete fields; {short_repr(name)} is not one.")
        if field.primary_key:
            raise ValueError("bulk_update() cannot be used with primary key fields.")
        resolved.append(field)
    if any(obj.pk is None for obj in objs):
        raise ValueError("All bulk_update() objects must have a primary key set.")
    if not objs:
        return 0
    connection = connections[queryset.db]
    size = batch_size or max(1, connection.ops.bulk_batch_size(len(resolved) * 2 + 1, len(objs)) // 2)
    updated = 0
    with transaction.atomic(using=queryset.db, savepoint=False):
        for start in range(0, len(objs), size):
            batch = objs[start:start + size]
            kwargs = {}
            for field in resolved:
                whens = [When(Q(pk=obj.pk), then=Value(getattr(obj, field.attname), output_field=field))
                         for obj in batch]
                case: Any = Case(*whens, output_field=field)
                if connection.features.requires_casted_case_in_updates:
                    case = Cast(case, field)
                kwargs[field.attname if field.is_relation else field.name] = case
            for obj in batch:
                for field in resolved:
                    field.get_db_prep_save(getattr(obj, field.attname), connection)
            updated += queryset.filter(pk__in=[obj.pk for obj in batch]).update(**kwargs)
    return updated


def explain(queryset: Any, format: str | None, options: dict[str, Any]) -> str:
    """Run EXPLAIN on the query; format and options are allow-listed by the backend."""
    connection = connections[queryset.db]
    prefix = connection.ops.explain_query_prefix(format, **options)
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params)
        rows = cursor.fetchall()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)
