"""Compile-only EXPLAIN prefixes per backend (issue 17 item 7): Django's options, order and errors.

SQLite has ``EXPLAIN QUERY PLAN`` with no format or option; PostgreSQL takes a
format and Django's option list. Only allow-listed, upper-cased names reach SQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm.db.connections import connections


@pytest.mark.parametrize(
    ("options", "prefix"),
    [
        ({}, "EXPLAIN"),
        ({"format": "json"}, "EXPLAIN (FORMAT JSON)"),
        ({"verbose": True, "analyze": False}, "EXPLAIN (ANALYZE false, VERBOSE true)"),
        (
            {
                "format": "yaml",
                "wal": 1,
                "serialize": "binary",
                "generic_plan": True,
                "memory": True,
            },
            "EXPLAIN (SERIALIZE BINARY, GENERIC_PLAN true, MEMORY true, WAL true, FORMAT YAML)",
        ),
        (
            {"BUFFERS": True, "costs": False, "settings": True, "summary": True, "timing": False},
            "EXPLAIN (BUFFERS true, COSTS false, SETTINGS true, SUMMARY true, TIMING false)",
        ),
    ],
)
def test_postgresql_prefixes(pg: Any, options: dict[str, Any], prefix: str) -> None:
    assert pg.ops.explain_query_prefix(**options) == prefix


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"format": "html"},
            "HTML is not a recognized format. Allowed formats: JSON, TEXT, XML, YAML",
        ),
        ({"foo": True, "bar": 1}, "Unknown options: bar, foo"),
        ({"serialize": "none"}, "explain(serialize=...) takes 'TEXT' or 'BINARY', got 'none'."),
        ({"ANALYZE true) SELECT 1; --": True}, "Unknown options: ANALYZE true) SELECT 1; --"),
    ],
)
def test_postgresql_errors(pg: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        pg.ops.explain_query_prefix(**options)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"format": "json"},
            "JSON is not a recognized format. SQLite does not support any formats.",
        ),
        ({"analyze": True}, "Unknown options: analyze"),
        ({"serialize": "text"}, "Unknown options: serialize"),
    ],
)
def test_sqlite_takes_no_format_or_option(options: dict[str, Any], message: str) -> None:
    ops = connections["default"].ops
    assert ops.explain_query_prefix() == "EXPLAIN QUERY PLAN"
    with pytest.raises(ValueError) as info:
        ops.explain_query_prefix(**options)
    assert str(info.value) == message
