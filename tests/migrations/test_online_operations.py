"""AddIndexConcurrently, RemoveIndexConcurrently, AddConstraintNotValid, ValidateConstraint (issue 21).

Run through ``orm migrate`` in temporary projects on both backends; on
SQLite they do what the plain operations do.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm.cli import main
from orm.migrations import (
    AddConstraintNotValid,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    ValidateConstraint,
)
from orm.migrations.writer import MigrationWriter
from tests.migrations.project import Project, create_model, migration, project_fixture  # noqa: F401

INITIAL = migration(create_model("Book", "('title', orm.CharField(max_length=100)), ('pages', orm.IntegerField()),"))
INDEX = "migrations.AddIndexConcurrently('book', orm.Index(fields=['title'], name='book_title_idx')),"
NON_ATOMIC = "atomic = False\n"
CHECK = "orm.CheckConstraint(condition=orm.Q(pages__gt=0), name='pages_positive')"


def execute(sql: str, params: list[Any] | None = None) -> Any:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall() if cursor.description else None


def indexes() -> set[str]:
    return set(orm.connection.introspection.get_constraints("shop_book"))


def shop(project: Project, **files: str) -> None:
    project.app("shop", "", {"0001_initial": INITIAL, **files})
    project.settings(["shop"])


def test_add_and_remove_index_concurrently(project: Project, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, **{
        "0002_index": migration(INDEX, "('shop', '0001_initial')", NON_ATOMIC),
        "0003_drop": migration("migrations.RemoveIndexConcurrently('book', 'book_title_idx'),",
                               "('shop', '0002_index')", NON_ATOMIC),
    })
    assert main(["migrate", "shop", "0002"]) == 0
    assert "book_title_idx" in indexes()
    assert main(["sqlmigrate", "shop", "0003"]) == 0
    out = capsys.readouterr().out
    if backend == "postgresql":
        assert 'DROP INDEX CONCURRENTLY IF EXISTS "book_title_idx";' in out
        assert '-- cost: SHARE UPDATE EXCLUSIVE on "shop_book"' in out
        assert "BEGIN;" not in out
    assert main(["migrate"]) == 0
    assert "book_title_idx" not in indexes()
    assert main(["migrate", "shop", "0002"]) == 0  # backwards: built again
    assert "book_title_idx" in indexes()
    assert main(["migrate", "shop", "0001"]) == 0
    assert "book_title_idx" not in indexes()


def test_concurrently_refuses_an_atomic_migration(
    project: Project, backend: str, capsys: pytest.CaptureFixture[str],
) -> None:
    shop(project, **{"0002_index": migration(INDEX, "('shop', '0001_initial')")})
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert ("The AddIndexConcurrently operation cannot be executed inside a transaction "
            "(set atomic = False on the migration).") in err
    assert "book_title_idx" not in indexes()
    assert main(["sqlmigrate", "shop", "0002"]) == 1
    assert "cannot be executed inside a transaction" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # INVALID indexes are PostgreSQL's
def test_an_invalid_index_left_by_a_failed_build_is_rebuilt(project: Project, backend: str) -> None:
    shop(project, **{"0002_index": migration(INDEX, "('shop', '0001_initial')", NON_ATOMIC)})
    assert main(["migrate", "shop", "0001"]) == 0
    execute("INSERT INTO shop_book (title, pages) VALUES ('a', 1), ('a', 2)")
    # A concurrent unique build over duplicates fails and leaves the index INVALID.
    with pytest.raises(orm.IntegrityError):
        execute('CREATE UNIQUE INDEX CONCURRENTLY "book_title_idx" ON "shop_book" ("title")')
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'book_title_idx'::regclass"
    assert execute(valid) == [(False,)]
    assert main(["migrate"]) == 0
    assert execute(valid) == [(True,)]


def test_add_constraint_not_valid_then_validate(project: Project, backend: str) -> None:
    shop(project, **{
        "0002_check": migration(f"migrations.AddConstraintNotValid('book', {CHECK}),", "('shop', '0001_initial')"),
        "0003_validate": migration("migrations.ValidateConstraint('book', 'pages_positive'),", "('shop', '0002_check')"),
    })
    assert main(["migrate", "shop", "0001"]) == 0
    execute("INSERT INTO shop_book (title, pages) VALUES ('a', 0)")
    if backend == "sqlite":
        # No NOT VALID on SQLite: the constraint is checked when added, as AddConstraint.
        assert main(["migrate", "shop", "0002"]) == 1
        execute("UPDATE shop_book SET pages = 1")
        assert main(["migrate"]) == 0
    else:
        assert main(["migrate", "shop", "0002"]) == 0  # the old row is not checked yet
        with pytest.raises(orm.IntegrityError):
            execute("INSERT INTO shop_book (title, pages) VALUES ('b', 0)")  # new rows are
        assert main(["migrate"]) == 1  # VALIDATE finds the old row
        execute("UPDATE shop_book SET pages = 1")
        assert main(["migrate"]) == 0
        assert execute("SELECT convalidated FROM pg_constraint WHERE conname = 'pages_positive'") == [(True,)]
    with pytest.raises(orm.IntegrityError):
        execute("INSERT INTO shop_book (title, pages) VALUES ('c', -1)")
    assert main(["migrate", "shop", "0001"]) == 0
    assert "pages_positive" not in indexes()


def test_operations_deconstruct_describe_and_check_arguments() -> None:
    index = orm.Index(fields=["title"], name="book_title_idx")
    assert AddIndexConcurrently("book", index).describe() == (
        "Concurrently create index book_title_idx on field(s) title of model book"
    )
    assert RemoveIndexConcurrently("book", "book_title_idx").describe() == (
        "Concurrently remove index book_title_idx from book"
    )
    check = orm.CheckConstraint(condition=orm.Q(pages__gt=0), name="pages_positive")
    assert AddConstraintNotValid("book", check).describe() == "Create not valid constraint pages_positive on model book"
    assert AddConstraintNotValid("book", check).migration_name_fragment == "book_pages_positive_not_valid"
    assert ValidateConstraint("book", "pages_positive").describe() == "Validate constraint pages_positive on model book"
    assert ValidateConstraint("book", "pages_positive").deconstruct() == (
        "ValidateConstraint", ["book", "pages_positive"], {},
    )
    with pytest.raises(TypeError, match="AddConstraintNotValid.constraint must be a check constraint."):
        AddConstraintNotValid("book", orm.UniqueConstraint(fields=["title"], name="u"))
    subclass = type("Migration", (orm.migrations.Migration,), {
        "operations": [AddIndexConcurrently("book", index), ValidateConstraint("book", "pages_positive")],
        "atomic": False,
    })
    text = MigrationWriter(subclass("0002_x", "shop")).as_string()
    assert "migrations.AddIndexConcurrently(" in text and "migrations.ValidateConstraint(" in text


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # relfilenode is PostgreSQL's
def test_not_null_column_with_a_constant_default_does_not_rewrite(project: Project, backend: str) -> None:
    shop(project, **{"0002_stock": migration(
        "migrations.AddField('book', 'stock', orm.IntegerField(default=7)),", "('shop', '0001_initial')",
    )})
    assert main(["migrate", "shop", "0001"]) == 0
    execute("INSERT INTO shop_book (title, pages) SELECT 't', g FROM generate_series(1, 100) g")
    file = "SELECT relfilenode FROM pg_class WHERE oid = 'shop_book'::regclass"
    before = execute(file)
    assert main(["migrate"]) == 0
    # A rewrite gives the table a new file; ADD COLUMN ... DEFAULT <constant> only writes the catalog.
    assert execute(file) == before
    assert execute("SELECT count(*) FROM shop_book WHERE stock = 7") == [(100,)]
    assert execute(
        "SELECT is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = 'shop_book' AND column_name = 'stock'"
    ) == [("NO", None)]  # the default stays in Python, as Django
