"""``orm lintmigrations`` (issue 21): each rule fires on its case and stays quiet on the safe one.

The rules run on ``Migration`` objects and the state before them, on both
backends (M003 compares the backend's column types); the command is driven
through ``orm.cli.main`` in a temporary project for the output formats, the
ignores and the exit statuses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import orm
from orm import migrations
from orm.cli import main
from orm.migrations import Migration, Operation, ProjectState
from orm.migrations.lint import RULES, LintOptions, lint_migration
from tests.migrations.helpers import auto_id, replay
from tests.migrations.project import Project, create_model, migration, project_fixture  # noqa: F401


def backfill(apps: Any, schema_editor: Any) -> None:
    """A data migration (never run here)."""


def book_state() -> ProjectState:
    return replay("shop", [
        migrations.CreateModel("Author", [auto_id()]),
        migrations.CreateModel("Book", [
            auto_id(), ("title", orm.CharField(max_length=100)), ("note", orm.CharField(max_length=10, null=True)),
            ("pages", orm.IntegerField(default=0)),
        ]),
    ])


def codes(*operations: Operation, atomic: bool = True, state: ProjectState | None = None,
          options: LintOptions | None = None, **attrs: Any) -> list[str]:
    """The rule codes ``operations`` break, in a migration of app ``shop`` after ``book_state()``."""
    subclass = type("Migration", (Migration,), {"operations": list(operations), "atomic": atomic, **attrs})
    found = lint_migration(subclass("0002_change", "shop"), state or book_state(), orm.connection, options)
    return [finding.code for finding in found]


def fk() -> Any:
    return orm.ForeignKey("shop.Author", orm.CASCADE, null=True)


# (rule, the operations that break it, the safe operations that do not)
CASES: list[tuple[str, list[Operation], list[Operation]]] = [
    ("M001", [migrations.AddField("book", "isbn", orm.CharField(max_length=13, default=""))],
     [migrations.AddField("book", "isbn", orm.CharField(max_length=13, db_default="")),
      migrations.AddField("book", "isbn2", orm.CharField(max_length=13, null=True))]),
    ("M002", [migrations.AddIndex("book", orm.Index(fields=["title"], name="book_title_idx"))],
     [migrations.AddIndexConcurrently("book", orm.Index(fields=["title"], name="book_title_idx"))]),
    ("M002", [migrations.AddField("book", "code", orm.CharField(max_length=13, null=True, db_index=True))],
     [migrations.AddField("book", "isbn", orm.CharField(max_length=13, null=True))]),
    ("M003", [migrations.AlterField("book", "pages", orm.CharField(max_length=10, default="0"))],
     [migrations.AlterField("book", "title", orm.CharField(max_length=200)),
      migrations.AlterField("book", "title", orm.TextField())]),
    ("M004", [migrations.RemoveField("book", "note")],
     [migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("book", "note")])]),
    ("M004", [migrations.RenameField("book", "note", "memo")], []),
    ("M004", [migrations.DeleteModel("Book")], [migrations.CreateModel("Shelf", [auto_id()]),
                                                migrations.DeleteModel("Shelf")]),
    ("M005", [migrations.AddConstraint("book", orm.CheckConstraint(condition=orm.Q(pages__gte=0), name="pages_ok"))],
     [migrations.AddConstraintNotValid("book", orm.CheckConstraint(condition=orm.Q(pages__gte=0), name="pages_ok")),
      migrations.ValidateConstraint("book", "pages_ok"),
      migrations.CreateModel("Shelf", [auto_id(), ("size", orm.IntegerField())]),
      migrations.AddConstraint("shelf", orm.CheckConstraint(condition=orm.Q(size__gte=0), name="size_ok"))]),
    ("M005", [migrations.AddField("book", "author", fk())],
     [migrations.AddField("book", "author", orm.ForeignKey("shop.Author", orm.CASCADE, null=True,
                                                           db_constraint=False, db_index=False))]),
    ("M006", [migrations.RunPython(backfill, migrations.RunPython.noop)],
     [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]),
    ("M007", [migrations.RunSQL("UPDATE shop_book SET pages = 1")],
     [migrations.RunSQL("UPDATE shop_book SET pages = 1", migrations.RunSQL.noop)]),
]


@pytest.mark.parametrize(("code", "bad", "good"), CASES, ids=[f"{case[0]}-{n}" for n, case in enumerate(CASES)])
def test_rule_triggers_and_safe_form_does_not(backend: str, code: str, bad: list[Operation],
                                              good: list[Operation]) -> None:
    assert code in codes(*bad)
    assert code not in codes(*good)


def test_concurrently_needs_a_non_atomic_migration(backend: str) -> None:
    add = migrations.AddIndexConcurrently("book", orm.Index(fields=["title"], name="book_title_idx"))
    drop = migrations.RemoveIndexConcurrently("book", "book_title_idx")
    assert codes(add, drop) == ["M008", "M008"]
    assert codes(add, drop, atomic=False) == []


def test_runpython_outside_a_transaction_and_ignores(backend: str) -> None:
    run = migrations.RunPython(backfill, migrations.RunPython.noop)
    assert codes(run, atomic=False) == []
    assert codes(migrations.RunPython(backfill, atomic=False)) == []
    drop = migrations.RemoveField("book", "note")
    assert codes(drop, run) == ["M004", "M006"]
    assert codes(drop, run, lint_ignore=["M006"]) == ["M004"]
    assert codes(drop, run, lint_ignore=["*"]) == []
    assert codes(drop, run, options=LintOptions(ignore={"M004"})) == ["M006"]
    assert codes(drop, run, options=LintOptions(ignore_migrations={"shop.0002_change"})) == []


def test_every_rule_is_tested_and_explained() -> None:
    assert {case[0] for case in CASES} | {"M008"} == set(RULES)  # M008: its own test above
    for rule in RULES.values():
        assert rule.explanation.endswith(".") and rule.alternative.endswith(".")


# --------------------------------------------------------------------- command

INITIAL = migration(create_model("Book", "('title', orm.CharField(max_length=100)),"))
RENAME = migration("migrations.RenameField('book', 'title', 'name'),", "('shop', '0001_initial')")
SQL = migration("migrations.RunSQL('SELECT 1'),", "('shop', '0002_rename')")
MODELS = "class Book(orm.Model):\n    name = orm.CharField(max_length=100)\n"


def shop(project: Project, extra: str = "") -> None:
    project.app("shop", MODELS, {"0001_initial": INITIAL, "0002_rename": RENAME, "0003_sql": SQL})
    project.settings(["shop"], extra=extra)


def test_command_text_json_and_exit_status(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    assert main(["lintmigrations"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "shop.0002_rename: M004 [rename-or-drop] Rename field title on book to name: "
        "the old column disappears while running code still uses it"
    )
    assert f"    safe: {RULES['M007'].alternative}\n" in out
    assert out.endswith("Found 2 problem(s) in 2 migration(s) (silence one with --ignore CODE or "
                        "lint_ignore on the Migration).\n")
    assert main(["lintmigrations", "shop", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(f["code"], f["migration"], f["operation_index"]) for f in report["findings"]] == [
        ("M004", "shop.0002_rename", 0), ("M007", "shop.0003_sql", 0),
    ]
    assert report["migrations"] == 3
    assert main(["lintmigrations", "--ignore", "M004,M007"]) == 0
    assert capsys.readouterr().out == "No problems found in 3 migration(s).\n"


def test_command_ignores_from_pyproject_and_bad_codes(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, '\n[tool.orm.lintmigrations]\nignore = ["M007"]\nignore_migrations = ["shop.0002_rename"]\n')
    assert main(["lintmigrations"]) == 0
    capsys.readouterr()
    assert main(["lintmigrations", "--ignore", "M999"]) == 2
    assert "Unknown rule code(s) M999; the rules are M001, M002" in capsys.readouterr().err
    assert main(["lintmigrations", "nope"]) == 2
    assert "No app with label 'nope'" in capsys.readouterr().err
    shop(project, '\n[tool.orm.lintmigrations]\nignore = "M007"\n')
    assert main(["lintmigrations"]) == 2
    assert "'ignore' must be a list of strings" in capsys.readouterr().err
    shop(project, '\n[tool.orm.lintmigrations]\nignores = ["M007"]\n')
    assert main(["lintmigrations"]) == 2
    assert "Unknown key(s) 'ignores' in [tool.orm.lintmigrations]" in capsys.readouterr().err


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lintmigrations", "--list-rules"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines() if not line.startswith(" ")] == list(RULES)
