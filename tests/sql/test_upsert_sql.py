"""``bulk_create(update_conflicts=True, ...)``: the upsert statement on both dialects.

Compile-only: ``captured_sql`` records what SQLite would run; the PostgreSQL
statements are built on an unconnected wrapper.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm.conf import parse_url
from orm.db.connections import ConnectionHandler
from orm.query.writes import upsert_clause
from orm.sql.dml import insert_sql
from tests.sql.models import Book, Tag


def _pg() -> Any:
    backend = ConnectionHandler.load_backend("postgresql")
    return backend.DatabaseWrapper(parse_url("postgresql://u@127.0.0.1:5432/db"), "pg")


def test_sqlite_upsert_statement(captured_sql: Any) -> None:
    Tag.objects.bulk_create(
        [Tag(name="a"), Tag(name="b")],
        update_conflicts=True,
        unique_fields=["pk"],
        update_fields=["name"],
    )
    assert captured_sql == [
        (
            'INSERT INTO "shared_tag" ("name") VALUES (%s), (%s) '
            'ON CONFLICT("id") DO UPDATE SET "name" = EXCLUDED."name" RETURNING "id"',
            ["a", "b"],
        )
    ]


def test_sqlite_upsert_with_explicit_pks_returns_nothing_extra(captured_sql: Any) -> None:
    Tag.objects.bulk_create(
        [Tag(id=3, name="a")], update_conflicts=True, unique_fields=["id"], update_fields=["name"]
    )
    assert captured_sql == [
        (
            'INSERT INTO "shared_tag" ("id", "name") VALUES (%s, %s) '
            'ON CONFLICT("id") DO UPDATE SET "name" = EXCLUDED."name"',
            [3, "a"],
        )
    ]


def test_postgresql_upsert_statement_uses_column_names() -> None:
    pg = _pg()
    clause = upsert_clause(Book, pg, False, True, ["pages", "author"], ["title"])
    assert clause == (
        'ON CONFLICT("title") DO UPDATE SET "pages" = EXCLUDED."pages", "author_id" = EXCLUDED."author_id"'
    )
    [(sql, params)] = insert_sql(
        pg,
        "shared_book",
        ["title", "pages"],
        [["t", 1], ["u", 2]],
        ["id"],
        column_types=["varchar(100)", "integer"],
        on_conflict=clause,
    )
    assert sql == (
        'INSERT INTO "shared_book" ("title", "pages") SELECT * FROM UNNEST(%s::varchar(100)[], %s::integer[]) '
        'ON CONFLICT("title") DO UPDATE SET "pages" = EXCLUDED."pages", "author_id" = EXCLUDED."author_id" '
        'RETURNING "id"'
    )
    assert params == [["t", "u"], [1, 2]]
    assert pg.connection is None  # compiling opened nothing


def test_postgresql_single_row_upsert_uses_values() -> None:
    pg = _pg()
    clause = upsert_clause(Tag, pg, False, True, ["name"], ["pk"])
    assert insert_sql(
        pg,
        "shared_tag",
        ["name"],
        [["a"]],
        ["id"],
        column_types=["varchar(30)"],
        on_conflict=clause,
    ) == [
        (
            'INSERT INTO "shared_tag" ("name") VALUES (%s) '
            'ON CONFLICT("id") DO UPDATE SET "name" = EXCLUDED."name" RETURNING "id"',
            ["a"],
        )
    ]


def test_no_upsert_means_no_clause() -> None:
    assert upsert_clause(Tag, orm.connections["default"], False, False, ["name"], ["pk"]) == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ignore_conflicts": True, "update_conflicts": True}, ValueError, "mutually exclusive"),
        (
            {"update_conflicts": True, "unique_fields": ["id"]},
            ValueError,
            "Fields that will be updated",
        ),
        (
            {"update_conflicts": True, "update_fields": ["name"]},
            ValueError,
            "Unique fields that can trigger",
        ),
        (
            {"update_conflicts": True, "update_fields": ["id"], "unique_fields": ["name"]},
            ValueError,
            "primary keys in update_fields",
        ),
        (
            {"update_conflicts": True, "update_fields": ["nope"], "unique_fields": ["name"]},
            orm.FieldDoesNotExist,
            "nope",
        ),
        (
            {"update_conflicts": True, "update_fields": "name", "unique_fields": ["id"]},
            TypeError,
            "not a string",
        ),
    ],
)
def test_bad_upsert_arguments_are_refused_before_any_statement(
    captured_sql: Any,
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        Tag.objects.bulk_create([Tag(name="a")], **kwargs)
    assert captured_sql == []


def test_relation_fields_of_a_many_to_many_are_refused(captured_sql: Any) -> None:
    with pytest.raises(ValueError, match="concrete fields in update_fields"):
        Book.objects.bulk_create(
            [Book(title="t")],
            update_conflicts=True,
            update_fields=["tags"],
            unique_fields=["title"],
        )
    assert captured_sql == []
