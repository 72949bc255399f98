"""``assert_sql``: the compile-only assertion (SQL text and parameters together).

Modelled on peewee's ``assertSQL(query, sql, params)``. Besides comparing both,
it checks two invariants that catch a value spliced into the SQL text or an
unbound expression passed as a value: the number of ``%s`` placeholders equals
the number of parameters, and every parameter is a plain driver value.

Every QuerySet or Query is compiled for both dialects: SQLite (the configured
in-memory database) and PostgreSQL (an unconnected wrapper, so no server is
needed). By default both must give the same text and parameters; where they
differ the test passes ``postgresql=(sql, params)``, or ``postgresql=ASSERTED_SEPARATELY``
when the test (or its ``..._postgresql`` sibling) pins the PostgreSQL text
itself, in which case only the invariants are checked on it here.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from functools import cache
from typing import Any, Final, Literal

from psycopg.types.json import Jsonb

_PLACEHOLDER = re.compile(r"%%|%s")
_DRIVER_TYPES: tuple[type, ...] = (type(None), bool, int, float, str, bytes)
# psycopg adapts these itself (orm hands them over as they are); lists become arrays.
_PG_DRIVER_TYPES = (
    *_DRIVER_TYPES,
    decimal.Decimal,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    Jsonb,
)


def compile_sql(qs_or_pair: Any) -> tuple[str, list[Any]]:
    """(sql, params) of a QuerySet, a Query, or an already compiled pair."""
    if isinstance(qs_or_pair, tuple):
        sql, params = qs_or_pair
        return sql, list(params)
    query = getattr(qs_or_pair, "query", qs_or_pair)
    sql, params = query.sql_with_params()
    return sql, list(params)


def placeholder_count(sql: str) -> int:
    """Number of ``%s`` placeholders (``%%`` is a literal percent sign)."""
    return sum(1 for match in _PLACEHOLDER.finditer(sql) if match.group() == "%s")


#: ``assert_sql(..., postgresql=ASSERTED_SEPARATELY)``: the test pins the PostgreSQL text itself.
ASSERTED_SEPARATELY: Final = "asserted separately"
Expected = tuple[str, list[Any] | tuple[Any, ...]]


@cache
def postgresql_compiler_connection() -> Any:
    """The unconnected PostgreSQL wrapper every compile-only test compiles with."""
    from orm.db.connections import ConnectionHandler

    return ConnectionHandler.unconnected("postgresql", "compile-only")


def compile_postgresql(qs_or_query: Any) -> tuple[str, list[Any]]:
    """(sql, params) of a QuerySet or Query compiled for PostgreSQL, without a server."""
    query = getattr(qs_or_query, "query", qs_or_query)
    sql, params = query.get_compiler(connection=postgresql_compiler_connection()).as_sql()
    return sql, list(params)


def check_invariants(sql: str, params: list[Any], vendor: str = "sqlite") -> None:
    """One parameter per placeholder, and only values the driver adapts as parameters."""
    assert placeholder_count(sql) == len(params), "placeholders and params differ"
    allowed = _DRIVER_TYPES if vendor == "sqlite" else _PG_DRIVER_TYPES
    for value in params:
        items = value if vendor == "postgresql" and isinstance(value, list) else [value]
        for item in items:
            assert isinstance(item, allowed), f"{item!r} is not a {vendor} driver value"


def assert_sql(
    qs_or_pair: Any,
    sql: str,
    params: list[Any] | tuple[Any, ...] = (),
    *,
    postgresql: Expected | Literal["asserted separately"] | None = None,
) -> None:
    """Assert the compiled SQL text and parameters of a QuerySet/Query/(sql, params).

    A QuerySet or Query is compiled for SQLite and for PostgreSQL: ``postgresql``
    gives the PostgreSQL text and parameters when they differ from SQLite's
    (``None``: the same). An already compiled pair is checked as it is.
    """
    actual_sql, actual_params = compile_sql(qs_or_pair)
    assert actual_sql == sql
    assert actual_params == list(params)
    check_invariants(actual_sql, actual_params)
    if isinstance(qs_or_pair, tuple):
        return
    pg_sql, pg_params = compile_postgresql(qs_or_pair)
    check_invariants(pg_sql, pg_params, "postgresql")
    if postgresql == ASSERTED_SEPARATELY:
        return
    expected_sql, expected_params = (sql, params) if postgresql is None else postgresql
    assert pg_sql == expected_sql, "on PostgreSQL"
    assert _comparable(pg_params) == _comparable(list(expected_params)), "on PostgreSQL"


def _comparable(params: list[Any]) -> list[Any]:
    # psycopg's Jsonb wrapper has no __eq__: compare what it wraps.
    return [("Jsonb", value.obj) if isinstance(value, Jsonb) else value for value in params]


def columns(table: str, *names: str) -> str:
    """``"table"."a", "table"."b"``: the default select list of a model, for brevity."""
    return ", ".join(f'"{table}"."{name}"' for name in names)


AUTHOR_COLS = columns("shared_author", "id", "name", "age", "hometown_id", "data")
BOOK_COLUMNS = (
    "id",
    "title",
    "author_id",
    "editor_id",
    "publisher_id",
    "pages",
    "price",
    "rating",
    "published",
    "created",
)
BOOK_COLS = columns("shared_book", *BOOK_COLUMNS)
CITY_COLS = columns("shared_city", "id", "name")
NUMBER_COLS = columns("sqltests_number", "id", "i", "big", "small", "positive")
PUBLISHER_COLS = columns("shared_publisher", "id", "name", "city_id")
TAG_COLS = columns("shared_tag", "id", "name")
