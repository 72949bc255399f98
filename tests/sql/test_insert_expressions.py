"""Compile-only SQL of an INSERT whose values include expressions (issue 16 item 9), per dialect."""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import Lower, Value
from orm.query.query import Query
from orm.sql.dml import insert_expressions_sql
from tests.sql.models import Tag


def _compiled(connection: Any) -> tuple[str, list[Any]]:
    query = Query(Tag)
    expression = Lower(Value("ABC")).resolve_expression(query, allow_joins=False, for_save=True)
    return query.get_compiler(connection=connection).compile(expression)  # type: ignore[no-any-return]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_insert_with_an_expression_value_returns_pk_and_computed_column(
    dialect: str, pg: Any
) -> None:
    connection = orm.connections["default"] if dialect == "sqlite" else pg
    value_sql, value_params = _compiled(connection)
    assert (value_sql, value_params) == ("LOWER(%s)", ["ABC"])
    sql, params = insert_expressions_sql(
        connection, "shared_tag", ["name"], [value_sql], value_params, ["id", "name"]
    )
    assert sql == 'INSERT INTO "shared_tag" ("name") VALUES (LOWER(%s)) RETURNING "id", "name"'
    assert params == ["ABC"]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_insert_with_an_expression_ignoring_conflicts(dialect: str, pg: Any) -> None:
    connection = orm.connections["default"] if dialect == "sqlite" else pg
    sql, params = insert_expressions_sql(
        connection,
        "shared_tag",
        ["id", "name"],
        ["%s", "LOWER(%s)"],
        [5, "X"],
        [],
        ignore_conflicts=True,
    )
    assert (
        sql
        == 'INSERT INTO "shared_tag" ("id", "name") VALUES (%s, LOWER(%s)) ON CONFLICT DO NOTHING'
    )
    assert params == [5, "X"]


def test_create_with_an_expression_runs_one_insert_with_it(captured_sql: Any) -> None:
    # The capturing cursor returns no row; what matters is the statement sent.
    Tag.objects.create(name=Lower(Value("ABC")))
    assert captured_sql == [
        ('INSERT INTO "shared_tag" ("name") VALUES (LOWER(%s)) RETURNING "id", "name"', ["ABC"]),
    ]
