"""The vendor SQL of the JSON key and document lookups (called from their ``as_<vendor>`` methods).

A lookup node holds the tree (the JSON column, the key path, the value); the
functions here turn it into SQL for one backend, compiling the column through
the compiler they are handed. The backend's operations keep only text-level
helpers that never see a node: how a key path is bound (``json_path_params``),
how one key is read (``json_key_sql``, SQLite's ``json_expr``, PostgreSQL's
``json_key_path_sql``) and how a value is bound (``json_scalar_param``,
``in_array_sql``). Keys are always bound parameters, never SQL text.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from orm.abc import Compiler, Connection, SQLParams

if TYPE_CHECKING:
    from orm.backends.postgresql.operations import DatabaseOperations as PostgresOperations
    from orm.backends.sqlite.operations import DatabaseOperations as SQLiteOperations

# Above this many values a key's IN binds one JSON array (as the ``in`` lookup does).
_IN_ARRAY_THRESHOLD = 500
_JSON_COMPARE_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def sqlite_ops(connection: Connection) -> SQLiteOperations:
    """``connection.ops`` of a SQLite connection, with its ``json_expr`` (for ``as_sqlite``)."""
    # The protocol names what every backend offers; json_expr is SQLite's own,
    # and only an as_sqlite method (the vendor test) calls this, once per compile.
    return cast("SQLiteOperations", connection.ops)


def postgres_ops(connection: Connection) -> PostgresOperations:
    """``connection.ops`` of a PostgreSQL connection, with its ``json_key_path_sql``."""
    return cast("PostgresOperations", connection.ops)


# -- SQLite: json_extract()/json_type() over a bound path ---------------------------


def _sqlite_key_base(
    ops: SQLiteOperations, compiler: Compiler, key: Any
) -> tuple[str, list[Any], list[str]]:
    base, keys = key.key_path()
    sql, params = compiler.compile(base)
    return sql, list(params), keys


def _sqlite_false_on_json_null(
    ops: SQLiteOperations, sql: str, params: list[Any], base: tuple[str, list[Any], list[str]]
) -> SQLParams:
    # json_extract() gives SQL NULL for a key holding JSON null, so comparing
    # it is unknown and exclude() drops the row; PostgreSQL compares jsonb
    # 'null' and gets false. COALESCE makes a JSON null compare false here
    # too, while a missing key stays unknown on both backends.
    type_sql, type_params = ops.json_expr(base[0], base[1], base[2], "type")
    return f"COALESCE({sql}, {type_sql} <> 'null')", [*params, *type_params]


def _sqlite_value_sql(
    ops: SQLiteOperations, compiler: Compiler, base: tuple[str, list[Any], list[str]], value: Any
) -> SQLParams | None:
    """``key = value`` for a value json_extract() cannot be compared with, else None."""
    sql, params, keys = base
    if hasattr(value, "as_sql"):  # data__key=F("other"): compare scalar values
        value_sql, value_params = ops.json_expr(sql, params, keys, "value")
        rhs_sql, rhs_params = compiler.compile(value)
        return _sqlite_false_on_json_null(
            ops, f"{value_sql} = {rhs_sql}", [*value_params, *rhs_params], base
        )
    if value is None:
        type_sql, type_params = ops.json_expr(sql, params, keys, "type")
        return f"{type_sql} = 'null'", type_params
    if isinstance(value, bool):
        type_sql, type_params = ops.json_expr(sql, params, keys, "type")
        return f"{type_sql} = %s", [*type_params, "true" if value else "false"]
    if isinstance(value, dict | list | tuple):
        doc = json.dumps(value, ensure_ascii=False, allow_nan=False)
        json_sql, json_params = ops.json_expr(sql, params, keys, "json")
        return f"{json_sql} = json(%s)", [*json_params, doc]
    return None


def sqlite_key_exact(ops: SQLiteOperations, compiler: Compiler, key: Any, value: Any) -> SQLParams:
    base = _sqlite_key_base(ops, compiler, key)
    special = _sqlite_value_sql(ops, compiler, base, value)
    if special is not None:
        return special
    value_sql, value_params = ops.json_expr(*base, "value")
    sql, params = _sqlite_not_boolean(
        ops, f"{value_sql} = %s", [*value_params, ops.json_scalar_param(value)], base, [value]
    )
    return _sqlite_false_on_json_null(ops, sql, params, base)


def _sqlite_not_boolean(
    ops: SQLiteOperations,
    sql: str,
    params: list[Any],
    base: tuple[str, list[Any], list[str]],
    values: list[Any],
) -> SQLParams:
    # json_extract() reads JSON true/false as 1/0, so a number would equal a
    # boolean; PostgreSQL's jsonb (and Django) keep them apart. Only when a
    # number is compared: text never equals an integer in SQLite.
    if not any(isinstance(v, int | float) for v in values):
        return sql, params
    type_sql, type_params = ops.json_expr(*base, "type")
    return f"({sql} AND {type_sql} NOT IN ('true', 'false'))", [*params, *type_params]


def sqlite_key_in(
    ops: SQLiteOperations, compiler: Compiler, key: Any, values: list[Any]
) -> SQLParams:
    # Strings and numbers compare with json_extract() in one IN; null, booleans
    # and documents need their own test each, as in sqlite_key_exact().
    base = _sqlite_key_base(ops, compiler, key)
    parts: list[str] = []
    params: list[Any] = []
    scalars: list[Any] = []
    for value in values:
        special = _sqlite_value_sql(ops, compiler, base, value)
        if special is None:
            scalars.append(value)
        else:
            parts.append(special[0])
            params += special[1]
    if scalars:
        value_sql, value_params = ops.json_expr(*base, "value")
        bound = [ops.json_scalar_param(v) for v in scalars]
        in_sql, in_params = (
            ops.in_array_sql(bound)
            if len(bound) > _IN_ARRAY_THRESHOLD
            else ("(" + ", ".join(["%s"] * len(bound)) + ")", bound)
        )
        in_sql, in_params = _sqlite_not_boolean(
            ops, f"{value_sql} IN {in_sql}", [*value_params, *in_params], base, scalars
        )
        parts.insert(0, in_sql)
        params[:0] = in_params
    return _sqlite_false_on_json_null(ops, "(" + " OR ".join(parts) + ")", params, base)


def sqlite_key_isnull(
    ops: SQLiteOperations, compiler: Compiler, key: Any, isnull: bool
) -> SQLParams:
    sql, params, keys = _sqlite_key_base(ops, compiler, key)
    type_sql, type_params = ops.json_expr(sql, params, keys, "type")
    return f"{type_sql} IS {'' if isnull else 'NOT '}NULL", type_params


def sqlite_has_keys(
    ops: SQLiteOperations, compiler: Compiler, lhs: Any, keys: list[str], require_all: bool
) -> SQLParams:
    if hasattr(lhs, "key_path"):
        sql, params, path = _sqlite_key_base(ops, compiler, lhs)
    else:
        sql, params = compiler.compile(lhs)
        params, path = list(params), []
    parts: list[str] = []
    all_params: list[Any] = []
    for key in keys:
        type_sql, type_params = ops.json_expr(sql, params, [*path, key], "type", last_is_key=True)
        parts.append(f"{type_sql} IS NOT NULL")
        all_params += type_params
    if len(parts) == 1:
        return parts[0], all_params
    return "(" + (" AND " if require_all else " OR ").join(parts) + ")", all_params


# -- PostgreSQL: jsonb operators ----------------------------------------------------


def _pg_key_base(ops: PostgresOperations, compiler: Compiler, key: Any) -> SQLParams:
    # The key's jsonb value (``->`` all the way) and its parameters.
    base, keys = key.key_path()
    sql, params = compiler.compile(base)
    return ops.json_key_path_sql(sql, list(keys)), [*params, *ops.json_path_params(list(keys))]


def pg_key_exact(ops: PostgresOperations, compiler: Compiler, key: Any, value: Any) -> SQLParams:
    sql, params = _pg_key_base(ops, compiler, key)
    if hasattr(value, "as_sql"):
        rhs_sql, rhs_params = compiler.compile(value)
        return f"{sql} = to_jsonb({rhs_sql})", [*params, *rhs_params]
    document = json.dumps(value, allow_nan=False, ensure_ascii=False)
    return f"{sql} = %s::jsonb", [*params, document]


def pg_key_isnull(ops: PostgresOperations, compiler: Compiler, key: Any, isnull: bool) -> SQLParams:
    # An absent key gives SQL NULL; a key holding JSON null is present ('null'::jsonb).
    sql, params = _pg_key_base(ops, compiler, key)
    return f"{sql} {'IS NULL' if isnull else 'IS NOT NULL'}", params


def pg_has_keys(
    ops: PostgresOperations, compiler: Compiler, lhs: Any, keys: list[str], require_all: bool
) -> SQLParams:
    # Not the ?, ?& and ?| operators: they also match a string element of an
    # array and a string scalar ('["a"]' ? 'a'), and give NULL rather than
    # false for a missing parent key; "-> text" finds object keys only and
    # IS NOT NULL is never unknown, as on SQLite. A key containing NUL
    # cannot exist in jsonb (nor be sent as text), so it is bound as NULL.
    if hasattr(lhs, "key_path"):
        sql, params = _pg_key_base(ops, compiler, lhs)
    else:
        sql, params = compiler.compile(lhs)
    parts: list[str] = []
    all_params: list[Any] = []
    for key in keys:
        parts.append(f"({sql} -> %s::text) IS NOT NULL")
        all_params += [*params, None if "\x00" in key else key]
    if len(parts) == 1:
        return parts[0], all_params
    return "(" + (" AND " if require_all else " OR ").join(parts) + ")", all_params


def pg_containment(
    ops: PostgresOperations, compiler: Compiler, lhs: Any, value: Any, contained_by: bool
) -> SQLParams:
    if hasattr(lhs, "key_path"):
        sql, params = _pg_key_base(ops, compiler, lhs)
    else:
        sql, params = compiler.compile(lhs)
    operator = "<@" if contained_by else "@>"
    if hasattr(value, "as_sql"):
        rhs_sql, rhs_params = compiler.compile(value)
        return f"({sql} {operator} {rhs_sql})", [*params, *rhs_params]
    document = json.dumps(value, allow_nan=False, ensure_ascii=False)
    return f"({sql} {operator} %s::jsonb)", [*params, document]


# Comparing a key with gt/gte/lt/lte/in needs the value as jsonb, because
# the scalar text form (->>) cannot be compared with a number parameter.
def pg_key_compare(
    ops: PostgresOperations, compiler: Compiler, key: Any, lookup_name: str, value: Any
) -> SQLParams:
    """``key <op> value`` comparing jsonb values (numbers numerically)."""
    operator = _JSON_COMPARE_OPERATORS[lookup_name]
    sql, params = _pg_key_base(ops, compiler, key)
    document = json.dumps(value, allow_nan=False, ensure_ascii=False)
    return f"{sql} {operator} %s::jsonb", [*params, document]


def pg_key_in(
    ops: PostgresOperations, compiler: Compiler, key: Any, values: list[Any]
) -> SQLParams:
    """``key IN (values)`` comparing jsonb values, bound as one jsonb[] parameter."""
    sql, params = _pg_key_base(ops, compiler, key)
    documents = [json.dumps(v, allow_nan=False, ensure_ascii=False) for v in values]
    return f"{sql} = ANY(%s::jsonb[])", [*params, documents]


__all__ = [
    "pg_containment",
    "pg_has_keys",
    "pg_key_compare",
    "pg_key_exact",
    "pg_key_in",
    "pg_key_isnull",
    "postgres_ops",
    "sqlite_has_keys",
    "sqlite_key_exact",
    "sqlite_key_in",
    "sqlite_key_isnull",
    "sqlite_ops",
]
