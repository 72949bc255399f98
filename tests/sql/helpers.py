"""``assert_sql``: the compile-only assertion (SQL text and parameters together).

Modelled on peewee's ``assertSQL(query, sql, params)``. Besides comparing both,
it checks two invariants that catch a value spliced into the SQL text or an
unbound expression passed as a value: the number of ``%s`` placeholders equals
the number of parameters, and every parameter is a plain driver value.
"""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"%%|%s")
_DRIVER_TYPES = (type(None), bool, int, float, str, bytes)


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


def assert_sql(qs_or_pair: Any, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """Assert the compiled SQL text and parameters of a QuerySet/Query/(sql, params)."""
    actual_sql, actual_params = compile_sql(qs_or_pair)
    assert actual_sql == sql
    assert actual_params == list(params)
    assert placeholder_count(actual_sql) == len(actual_params), "placeholders and params differ"
    for value in actual_params:
        assert isinstance(value, _DRIVER_TYPES), f"{value!r} is not a driver value"


def columns(table: str, *names: str) -> str:
    """``"table"."a", "table"."b"``: the default select list of a model, for brevity."""
    return ", ".join(f'"{table}"."{name}"' for name in names)


AUTHOR_COLS = columns("sqltests_author", "id", "name", "age", "hometown_id", "data")
BOOK_COLUMNS = (
    "id", "title", "author_id", "editor_id", "publisher_id", "pages", "price", "rating",
    "published", "created",
)
BOOK_COLS = columns("sqltests_book", *BOOK_COLUMNS)
CITY_COLS = columns("sqltests_city", "id", "name")
NUMBER_COLS = columns("sqltests_number", "id", "i", "big", "small", "positive")
PUBLISHER_COLS = columns("sqltests_publisher", "id", "name", "city_id")
TAG_COLS = columns("sqltests_tag", "id", "name")
