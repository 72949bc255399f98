"""The ``orm`` commands (issue 14): ``migrate``, ``showmigrations``, ``sqlmigrate``, on both backends.

Driven through ``orm.cli.main([...])`` in temporary projects, and through
real ``python -m orm`` processes (two of them at once for the lock).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import orm
from orm.cli import main
from orm.migrations.commands.sqlmigrate import format_sql
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

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

MODELS, INITIAL, AUTHOR = SHOP_MODELS, SHOP_INITIAL, SHOP_AUTHOR
REPO = Path(__file__).resolve().parents[2]


def shop(project: Project, **extra: str) -> None:
    project.app("shop", MODELS, {"0001_initial": INITIAL, "0002_author": AUTHOR, **extra})
    project.settings(["shop"])


def applied() -> list[tuple[str, str]]:
    return sorted(MigrationRecorder(orm.connection).applied_migrations())


def tables() -> set[str]:
    return set(orm.connection.introspection.table_names())


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_migrate_prints_progress_and_round_trips(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    status, out, _ = cli(capsys, "migrate")
    assert status == 0
    assert re.fullmatch(
        r"Operations to perform:\n  Apply all migrations: shop\nRunning migrations:\n"
        r"  Applying shop\.0001_initial\.\.\. OK \(\d+\.\d{3}s\)\n"
        r"  Applying shop\.0002_author\.\.\. OK \(\d+\.\d{3}s\)\n", out,
    ), out
    with orm.connection.cursor() as cursor:
        cursor.execute("INSERT INTO shop_book (title) VALUES (%s)", ["Dune"])
    status, out, _ = cli(capsys, "migrate", "shop", "0001")
    assert status == 0
    assert "  Target specific migration: 0001_initial, from shop\n" in out
    assert re.search(r"  Unapplying shop\.0002_author\.\.\. OK \(\d+\.\d{3}s\)\n", out)
    assert cli(capsys, "migrate")[0] == 0
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT name FROM shop_author", [])
        assert cursor.fetchall() == [("author of Dune",)]
    status, out, _ = cli(capsys, "migrate")
    assert out.endswith("Running migrations:\n  No migrations to apply.\n")
    status, out, _ = cli(capsys, "migrate", "shop", "zero")
    assert "  Unapply all migrations: shop\n" in out and status == 0
    assert applied() == [] and "shop_book" not in tables()


def test_showmigrations_lists_applied_and_not(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    project.app("blog", "")
    project.settings(["shop", "blog"])
    assert cli(capsys, "showmigrations") == (0, "shop\n [ ] 0001_initial\n [ ] 0002_author\n", "")
    assert "orm_migrations" not in tables()  # reading creates nothing
    main(["migrate", "shop", "0001"])
    capsys.readouterr()
    assert cli(capsys, "showmigrations", "shop", "blog") == (
        0, "shop\n [X] 0001_initial\n [ ] 0002_author\nblog\n (no migrations)\n", "",
    )
    status, _, err = cli(capsys, "showmigrations", "nope")
    assert status == 1 and "No app with label 'nope'; the apps are: shop, blog" in err


def test_plan_lists_operations_and_runs_nothing(
    project: Project, backend: str, capsys: pytest.CaptureFixture[str],
) -> None:
    shop(project)
    assert cli(capsys, "migrate", "--plan") == (0, (
        "Planned operations:\n"
        "shop.0001_initial\n    Create model Book\n"
        "shop.0002_author\n    Create model Author\n    Raw Python operation -> Give every book an author.\n"
    ), "")
    assert "orm_migrations" not in tables()
    main(["migrate"])
    capsys.readouterr()
    status, out, err = cli(capsys, "migrate", "shop", "zero", "--plan")
    assert status == 0
    # Dropping a table takes ACCESS EXCLUSIVE on PostgreSQL (the lock-aware plan, issue 21).
    def drop(table: str) -> str:
        return f'        cost: ACCESS EXCLUSIVE on "{table}" (rows unknown: never analyzed)\n' if backend == "postgresql" else ""

    assert out == (
        "Planned operations:\n"
        "shop.0002_author (unapply)\n    Raw Python operation\n    Undo Create model Author\n"
        f"{drop('shop_author')}shop.0001_initial (unapply)\n    Undo Create model Book\n{drop('shop_book')}"
    )
    assert applied() == [("shop", "0001_initial"), ("shop", "0002_author")]


def test_check_exits_1_while_unapplied(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    assert cli(capsys, "migrate", "--check") == (
        1, "Unapplied migrations:\n  apply shop.0001_initial\n  apply shop.0002_author\n", "",
    )
    assert "orm_migrations" not in tables()
    main(["migrate"])
    capsys.readouterr()
    assert cli(capsys, "migrate", "--check") == (0, "No unapplied migrations.\n", "")


def test_fake_and_fake_initial(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    status, out, _ = cli(capsys, "migrate", "shop", "0001", "--fake")
    assert status == 0 and re.search(r"Applying shop\.0001_initial\.\.\. FAKED", out)
    assert applied() == [("shop", "0001_initial")] and "shop_book" not in tables()
    main(["migrate", "shop", "zero", "--fake"])
    from shop.models import Book  # type: ignore[import-not-found]

    orm.create_tables(Book)
    status, out, _ = cli(capsys, "migrate", "--fake-initial")
    assert status == 0, out
    assert re.search(r"Applying shop\.0001_initial\.\.\. FAKED .*\n  Applying shop\.0002_author\.\.\. OK", out)
    assert applied() == [("shop", "0001_initial"), ("shop", "0002_author")]


def test_unknown_ambiguous_and_two_leaves_fail_with_candidates(
    project: Project, capsys: pytest.CaptureFixture[str],
) -> None:
    shop(project, **{"0002_authors_more": migration(dependencies="('shop', '0002_author')")})
    status, out, err = cli(capsys, "migrate", "shop", "0002")
    assert (status, out) == (1, "")
    assert "More than one migration of app 'shop' starts with '0002': 0002_author, 0002_authors_more" in err
    status, _, err = cli(capsys, "migrate", "shop", "0005")
    assert status == 1
    assert "Its migrations: 0001_initial, 0002_author, 0002_authors_more." in err
    status, _, err = cli(capsys, "sqlmigrate", "shop", "0002")
    assert status == 1 and "0002_author, 0002_authors_more" in err
    status, _, err = cli(capsys, "sqlmigrate", "shop", "zero")
    assert status == 1 and "'zero' is not a migration" in err
    status, _, err = cli(capsys, "sqlmigrate", "blog", "0001")
    assert status == 1 and "No app with label 'blog'; the apps are: shop" in err
    project.write("shop/migrations/0003_left.py", migration(dependencies="('shop', '0002_authors_more')"))
    project.write("shop/migrations/0003_right.py", migration(dependencies="('shop', '0002_authors_more')"))
    status, _, err = cli(capsys, "migrate")
    assert status == 1
    assert "shop/migrations/0003_left.py and shop/migrations/0003_right.py" in err
    assert "orm makemigrations --merge" in err
    assert "orm_migrations" not in tables() and "shop_book" not in tables()


def test_failed_migration_exits_1_and_rolls_back(
    project: Project, backend: str, capsys: pytest.CaptureFixture[str],
) -> None:
    broken = migration(
        create_model("Author", "('name', orm.CharField(max_length=100)),")
        + "migrations.RunSQL('INSERT INTO no_such_table VALUES (1)'),",
        "('shop', '0001_initial')",
    )
    project.app("shop", MODELS, {"0001_initial": INITIAL, "0002_broken": broken})
    project.settings(["shop"])
    status, out, err = cli(capsys, "migrate")
    assert status == 1
    assert re.search(r"Applying shop\.0001_initial\.\.\. OK .*\n  Applying shop\.0002_broken\.\.\. FAILED\n$", out)
    assert "failed at operation 2 of 2 (Raw SQL operation)" in err and "rolled back" in err
    if backend == "sqlite":  # the example of docs/migrations.md "Transactions"
        assert err == (
            "orm migrate: error: Applying shop.0002_broken failed at operation 2 of 2 (Raw SQL operation): "
            "OperationalError: no such table: no_such_table\nIt ran in one transaction, which was rolled "
            "back: the database is as it was before, and shop.0002_broken is not applied.\n"
        )
    assert applied() == [("shop", "0001_initial")] and "shop_author" not in tables()


@pytest.mark.parametrize(("pyproject", "expected"), [
    (None, "No database is configured."),
    ("[tool.orm\n", "Cannot read"),
    ('[tool.orm]\ndatabase = "sqlite:///x.db"\napps = [1]\n', "'apps' must be a list of package names"),
    ('[tool.orm]\ndatabase = "sqlite:///x.db"\napps = ["missing_app"]\n', "App 'missing_app'"),
])
def test_broken_settings_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    pyproject: str | None, expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORM_DATABASE_URL", raising=False)
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    for command in (["migrate"], ["showmigrations"], ["sqlmigrate", "shop", "0001"]):
        status, out, err = cli(capsys, *command)
        assert (status, out) == (2, ""), err
        assert expected in err
        if "App 'missing_app'" not in expected:
            assert "Settings are read from [tool.orm] in the nearest pyproject.toml" in err
    assert list(tmp_path.iterdir()) == ([] if pyproject is None else [tmp_path / "pyproject.toml"])


def test_database_flag_wins(project: Project, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shop(project)
    project.settings(["shop"], database="sqlite:///elsewhere.sqlite3")
    other = tmp_path / "flag.sqlite3"
    status, _, err = cli(capsys, "migrate", "--database", f"sqlite:///{other}")
    assert status == 0, err
    assert other.exists() and not (project.root / "elsewhere.sqlite3").exists()


EXPECTED_SQL = {
    "sqlite": (
        'BEGIN;\n--\n-- Create model Book\n--\nCREATE TABLE "shop_book" (\n'
        '    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,\n    "title" varchar(100) NOT NULL\n);\nCOMMIT;\n'
    ),
    "postgresql": (
        'BEGIN;\n--\n-- Create model Book\n--\nCREATE TABLE "shop_book" (\n'
        '    "id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,\n'
        '    "title" varchar(100) NOT NULL\n);\nCOMMIT;\n'
    ),
}


def test_sqlmigrate_prints_the_backend_sql(project: Project, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    assert cli(capsys, "sqlmigrate", "shop", "0001") == (0, EXPECTED_SQL[backend], "")
    status, out, _ = cli(capsys, "sqlmigrate", "shop", "0002_author", "--backwards")
    assert status == 0
    cascade = " CASCADE" if backend == "postgresql" else ""
    # The lock-aware annotation (issue 21): dropping a table takes ACCESS EXCLUSIVE on PostgreSQL.
    cost = '-- cost: ACCESS EXCLUSIVE on "shop_author"\n' if backend == "postgresql" else ""
    assert out == (
        'BEGIN;\n--\n-- Raw Python operation\n--\n-- THIS OPERATION CANNOT BE WRITTEN AS SQL\n'
        f'--\n-- Create model Author\n--\n{cost}DROP TABLE "shop_author"{cascade};\nCOMMIT;\n'
    )
    assert "orm_migrations" not in tables() and "shop_book" not in tables()


def test_format_sql_keeps_quoted_commas_and_parentheses() -> None:
    sql = 'CREATE TABLE "a,(b" ("x" varchar(10) NOT NULL, "y""," numeric(5, 2) NULL, CHECK ("x" <> \'a,)\'));'
    assert format_sql(sql) == (
        'CREATE TABLE "a,(b" (\n    "x" varchar(10) NOT NULL,\n    "y""," numeric(5, 2) NULL,\n'
        '    CHECK ("x" <> \'a,)\')\n);'
    )
    assert format_sql("-- a comment") == "-- a comment"
    assert format_sql('UPDATE "t" SET "x" = 1 WHERE "y" = 2;') == 'UPDATE "t"\nSET "x" = 1\nWHERE "y" = 2;'


def run_cli(project: Project, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ORM_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "orm", *args], cwd=project.root, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.timeout(120)
def test_two_processes_migrate_at_once(project: Project, backend: str) -> None:
    slow = migration(
        create_model("Book", "('title', orm.CharField(max_length=100)),") + "migrations.RunPython(mark),",
        prelude="""
        import time

        def mark(apps, schema_editor):
            apps.get_model("shop", "Book").objects.create(title="once")
            time.sleep(1.0)  # the other process arrives meanwhile and must wait
        """,
    )
    project.app("shop", MODELS, {"0001_initial": slow, "0002_author": AUTHOR})
    # On SQLite, a busy timeout shorter than the migration: the waiting run
    # must wait for the lock again, not fail with "database is locked".
    project.settings(["shop"], database=project.url + ("?timeout=0.2" if backend == "sqlite" else ""))
    processes = [run_cli(project, "migrate") for _ in range(2)]
    results = [process.communicate(timeout=100) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], results
    outputs = "".join(out for out, _ in results)
    assert outputs.count("Applying shop.0001_initial...") >= 1
    assert len(re.findall(r"Applying shop\.0001_initial\.\.\. OK", outputs)) == 1
    assert len(re.findall(r"Applying shop\.0002_author\.\.\. OK", outputs)) == 1
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT title FROM shop_book", [])
        assert cursor.fetchall() == [("once",)]
        cursor.execute("SELECT name FROM shop_author", [])
        assert cursor.fetchall() == [("author of once",)]
    assert applied() == [("shop", "0001_initial"), ("shop", "0002_author")]
    process = run_cli(project, "showmigrations")
    assert process.communicate(timeout=60) == ("shop\n [X] 0001_initial\n [X] 0002_author\n", "")


def test_help_and_version_load_no_command_module() -> None:
    code = (
        "import sys\n"
        "from orm.cli import main\n"
        "for argv in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "print(sorted(name for name in sys.modules if name.startswith('orm.migrations')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=60, check=True,
    )
    # One line per command, summaries aligned in a column.
    for name, summary in [("migrate", "apply (or unapply) migrations to the database"),
                          ("makemigrations", "write migration files for model changes"),
                          ("squashmigrations", "squash a run of an app's migrations into one"),
                          ("lintmigrations", "report migration operations"),
                          ("checkmigrations", "check migrations for CI")]:
        assert re.search(rf"\n  {name} +{re.escape(summary)}", result.stdout), name
    assert "orm 0.1.0" in result.stdout
    assert result.stdout.rstrip().endswith("[]")  # no migration module was imported


def test_makemigrations_bad_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["makemigrations", "--no-such-flag"])
    assert info.value.code == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_unknown_command_and_bad_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["migrat"])
    assert info.value.code == 2
    assert "invalid choice: 'migrat'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["migrate", "--plann"])
    assert info.value.code == 2
    assert "unrecognized arguments: --plann" in capsys.readouterr().err


def test_orm_migrate_in_a_fresh_process_configures_from_tool_orm(project: Project) -> None:
    shop(project)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ORM_DATABASE_URL", None)
    code = "import orm\nprint(orm.migrate())\n"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root / "shop", env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['shop.0001_initial', 'shop.0002_author']\n"
    assert applied() == [("shop", "0001_initial"), ("shop", "0002_author")]


def run_into_closed_pipe(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m orm ARGS | head -0``: the reader has gone before the first write.

    The read end is closed before the process starts, so every write fails
    with EPIPE however fast or slow the machine is.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ORM_DATABASE_URL", None)
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "orm", *args], cwd=cwd, env=env,
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=100, check=False,
        )
    finally:
        os.close(write)


@pytest.mark.timeout(120)
def test_a_closed_stdout_ends_a_command_quietly(project: Project) -> None:
    shop(project)
    for args in (["showmigrations"], ["migrate", "--plan"]):
        result = run_into_closed_pipe(project.root, *args)
        assert (result.returncode, result.stderr) == (1, ""), args

