"""``orm checkmigrations`` (issue 21): each of the four checks fails with its own exit code, on both backends.

Leaves 4, missing migrations 8, drift 16, round trip 32; the status is the
sum of the failed checks' codes.
"""

from __future__ import annotations

import pytest

import orm
from orm.cli import main
from orm.migrations.checks import normalize_type
from tests.migrations.project import Project, create_model, migration, project_fixture  # noqa: F401

MODELS = """
class Book(orm.Model):
    title = orm.CharField(max_length=100)

    class Meta:
        indexes = [orm.Index(fields=["title"], name="book_title_idx")]
"""
INITIAL = migration(create_model("Book", "('title', orm.CharField(max_length=100, null=True)),"))
TIGHTEN = migration(
    "migrations.AlterField('book', 'title', orm.CharField(max_length=100)),"
    "migrations.AddIndex('book', orm.Index(fields=['title'], name='book_title_idx')),",
    "('shop', '0001_initial')",
)


def shop(project: Project, **extra: str) -> None:
    project.app("shop", MODELS, {"0001_initial": INITIAL, "0002_tighten": TIGHTEN, **extra})
    project.settings(["shop"])


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["checkmigrations", *args])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def execute(sql: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, [])


def test_all_checks_pass(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert check(capsys) == (0, "leaves: OK\nmissing: OK\ndrift: OK\nroundtrip: OK\n")
    # The round trip ran elsewhere: the live database is as it was.
    assert main(["showmigrations"]) == 0
    assert capsys.readouterr().out == "shop\n [X] 0001_initial\n [X] 0002_tighten\n"


def test_two_leaves_exit_4_and_skip_the_database_checks(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, **{"0002_other": migration("", "('shop', '0001_initial')")})
    status, out = check(capsys)
    assert status == 4
    assert "leaves: FAILED (exit code 4)\n  app 'shop' has 2 leaf migrations (0002_other, 0002_tighten)" in out
    assert "drift: skipped (two leaves in an app: nothing can migrate)\n" in out


def test_missing_migration_exits_8(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    project.write("shop/models.py", "import orm\n" + MODELS + "    isbn = orm.CharField(max_length=13, default='')\n")
    status, out = check(capsys, "--skip", "drift", "--skip", "roundtrip")
    assert status == 8
    assert "missing: FAILED (exit code 8)\n  app 'shop' has model changes without a migration: " in out
    assert "Add field isbn to book (run 'orm makemigrations')" in out


def test_drift_exits_16(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    assert main(["migrate"]) == 0
    execute('ALTER TABLE "shop_book" ADD COLUMN "extra" integer NULL')
    execute('DROP INDEX "book_title_idx"')
    status, out = check(capsys, "--skip", "roundtrip")
    assert status == 16
    assert (
        "drift: FAILED (exit code 16)\n"
        "  shop_book: column extra is not in the migrations\n"
        "  shop_book: index or constraint book_title_idx is missing\n"
    ) in out


def test_drift_sees_nullability_types_and_missing_tables(
    project: Project, backend: str, capsys: pytest.CaptureFixture[str],
) -> None:
    shop(project)
    assert main(["migrate", "shop", "0001"]) == 0  # title still NULL-able at 0001
    execute('DROP TABLE "shop_book"')
    key = "integer" if backend == "sqlite" else "bigint"  # what BigAutoField makes on each
    execute(f'CREATE TABLE "shop_book" ("id" {key} NOT NULL PRIMARY KEY, "title" varchar(50) NOT NULL)')
    status, out = check(capsys, "--skip", "roundtrip")
    assert status == 16
    found = "varchar(50)" if backend == "sqlite" else "character varying(50)"
    assert out.endswith(
        "drift: FAILED (exit code 16)\n"
        "  shop_book: column title is NOT NULL, the migrations make it NULL\n"
        f"  shop_book: column title is {found}, the migrations make it varchar(100)\n"
        "roundtrip: skipped\n"
    )
    execute('DROP TABLE "shop_book"')
    assert "drift: FAILED (exit code 16)\n  table shop_book (shop.Book) is missing\n" in check(capsys, "--skip", "roundtrip")[1]


LEAKY = migration(
    "migrations.RunSQL('CREATE TABLE shop_leak (id integer)', migrations.RunSQL.noop),", "('shop', '0002_tighten')",
)
IRREVERSIBLE = migration("migrations.RunSQL('SELECT 1'),", "('shop', '0002_tighten')")


def test_round_trip_exits_32(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, **{"0003_leak": LEAKY})
    status, out = check(capsys, "--skip", "drift")
    assert status == 32
    assert "roundtrip: FAILED (exit code 32)\n  table shop_leak is left after unapplying every migration\n" in out
    assert "  applying the migrations again failed: " in out  # CREATE TABLE shop_leak, again
    assert "shop_leak" not in orm.connection.introspection.table_names()  # the live database is untouched


def test_round_trip_of_an_irreversible_migration_exits_32(
    project: Project, capsys: pytest.CaptureFixture[str],
) -> None:
    shop(project, **{"0003_leak": IRREVERSIBLE})
    status, out = check(capsys, "--skip", "drift")
    assert status == 32
    assert "  unapplying the migrations failed: Unapplying shop.0003_leak" in out and "cannot be unapplied" in out


def test_statuses_add_up(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, **{"0003_leak": LEAKY})
    project.write("shop/models.py", "import orm\n" + MODELS + "    isbn = orm.CharField(max_length=13, default='')\n")
    assert main(["migrate"]) == 0
    execute('ALTER TABLE "shop_book" ADD COLUMN "extra" integer NULL')
    status, _ = check(capsys)
    assert status == 8 + 16 + 32


@pytest.mark.parametrize(("found", "made", "same"), [
    ("character varying(100)", "varchar(100)", True),
    ("timestamp with time zone", "timestamp with time zone", True),
    ("numeric(7,2)", "numeric(7, 2)", True),
    ("INTEGER", "integer", True),
    ("time without time zone", "time", True),
    ("character varying(50)", "varchar(100)", False),
    ("integer", "bigint", False),
])
def test_type_spellings(found: str, made: str, same: bool) -> None:
    assert (normalize_type(found) == normalize_type(made)) is same
