"""``orm squashmigrations`` (issue 21): the squash applies to a fresh database and to a partly migrated one.

Both backends; the app's migrations hold a ``RunPython`` defined in its
file (copied into the squash), a kept ``RunSQL`` and an elidable one.
"""

from __future__ import annotations

import pytest

import orm
from orm.cli import main
from orm.migrations.recorder import MigrationRecorder
from tests.migrations.project import (  # noqa: F401
    SHOP_AUTHOR,
    SHOP_INITIAL,
    SHOP_MODELS,
    Project,
    create_model,
    migration,
    project_fixture,
)

MODELS, INITIAL, AUTHOR = SHOP_MODELS, SHOP_INITIAL, SHOP_AUTHOR
MORE = migration(
    "migrations.RunSQL('UPDATE shop_book SET title = title', elidable=True),"
    "migrations.AddField('book', 'isbn', orm.CharField(max_length=13, null=True)),"
    "migrations.RemoveField('book', 'isbn'),"
    "migrations.RunSQL(\"UPDATE shop_book SET title = title || '!'\", migrations.RunSQL.noop),",
    "('shop', '0002_author')",
)
SQUASH = "shop/migrations/0001_squashed_0003_more.py"


def shop(project: Project) -> None:
    project.app("shop", MODELS, {"0001_initial": INITIAL, "0002_author": AUTHOR, "0003_more": MORE})
    project.settings(["shop"])


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def recorded() -> list[tuple[str, str]]:
    return sorted(MigrationRecorder(orm.connection).applied_migrations())


def query(sql: str) -> list[tuple[object, ...]]:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, [])
        return list(cursor.fetchall()) if cursor.description else []


def test_squash_writes_an_optimized_migration(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    status, out, _ = run(capsys, "squashmigrations", "shop", "0003")
    assert status == 0
    assert out.startswith(
        "Will squash the following migrations:\n - 0001_initial\n - 0002_author\n - 0003_more\n"
        "Optimizing...\n  Optimized from 7 operations to 4 operations.\n"
        f"Created new squashed migration {SQUASH}\n"
    )
    assert out.endswith("Functions copied from the squashed files (copy what they use from there by hand): backfill\n")
    text = (project.root / SQUASH).read_text()
    assert 'def backfill(apps, schema_editor):\n    """Give every book an author."""' in text
    assert "code=backfill," in text and "0002_author" in text.split("replaces = [")[1].split("]")[0]
    assert "replaces = [\n        (\"shop\", \"0001_initial\"),\n        (\"shop\", \"0002_author\"),\n" in text
    assert "initial = True" in text
    assert "elidable" not in text and "title || '!'" in text  # the elidable RunSQL went, the other stayed
    assert "isbn" not in text  # AddField then RemoveField is nothing


def test_squash_applies_to_a_fresh_database(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    assert main(["squashmigrations", "shop", "0003"]) == 0
    capsys.readouterr()
    status, out, _ = run(capsys, "migrate")
    assert status == 0
    assert "  Applying shop.0001_squashed_0003_more... OK" in out and "0002_author" not in out
    # The replaced migrations are recorded, then the squash itself (as Django).
    assert recorded() == [("shop", "0001_initial"), ("shop", "0001_squashed_0003_more"), ("shop", "0002_author"),
                          ("shop", "0003_more")]
    assert run(capsys, "showmigrations")[1] == "shop\n [X] 0001_squashed_0003_more (3 squashed migrations)\n"
    assert main(["migrate", "shop", "zero"]) == 0
    assert recorded() == []


def test_squash_applies_to_a_partly_migrated_database(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    assert main(["migrate", "shop", "0001"]) == 0
    query("INSERT INTO shop_book (title) VALUES ('Dune')")
    assert main(["squashmigrations", "shop", "0003"]) == 0
    capsys.readouterr()
    assert run(capsys, "showmigrations")[1] == "shop\n [X] 0001_initial\n [ ] 0002_author\n [ ] 0003_more\n"
    status, out, _ = run(capsys, "migrate")
    assert status == 0
    assert "  Applying shop.0002_author... OK" in out and "  Applying shop.0003_more... OK" in out
    assert query("SELECT name FROM shop_author") == [("author of Dune",)]
    assert query("SELECT title FROM shop_book") == [("Dune!",)]
    assert run(capsys, "showmigrations")[1] == "shop\n [X] 0001_squashed_0003_more (3 squashed migrations)\n"
    assert ("shop", "0001_squashed_0003_more") in recorded()


def test_squash_from_a_start_and_with_a_name(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    status, out, _ = run(capsys, "squashmigrations", "shop", "0002", "0003", "--squashed-name", "authors")
    assert status == 0 and " - 0001_initial" not in out
    text = (project.root / "shop/migrations/0002_authors.py").read_text()
    assert "initial = True" not in text
    assert 'dependencies = [\n        ("shop", "0001_initial"),\n    ]' in text
    assert main(["migrate"]) == 0
    assert recorded() == [("shop", "0001_initial"), ("shop", "0002_author"), ("shop", "0002_authors"),
                          ("shop", "0003_more")]


def test_squash_errors(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    status, _, err = run(capsys, "squashmigrations", "shop", "0003", "0002")
    assert status == 1
    assert "The migration 'shop.0003_more' cannot be found. Maybe it comes after the migration 'shop.0002_author'?" in err
    assert run(capsys, "squashmigrations", "nope", "0001")[0] == 2
    status, _, err = run(capsys, "squashmigrations", "shop", "0002", "0003", "--squashed-name", "author")
    assert status == 1 and "Migration 0002_author already exists. Use a different name." in err
    assert main(["squashmigrations", "shop", "0003"]) == 0
    project.forget()  # the loader reads the new file
    status, _, err = run(capsys, "squashmigrations", "shop", "0003")
    assert status == 1 and "is replaced by a squashed migration already" in err
    status, _, err = run(capsys, "squashmigrations", "shop", "0001_squashed")
    assert status == 1 and "You cannot squash squashed migrations!" in err
