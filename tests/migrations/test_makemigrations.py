"""``orm makemigrations`` on both backends: writing, --check, --dry-run, --empty, --merge, bad input."""

from __future__ import annotations

import pytest

from orm.cli import main
from tests.migrations.project import Project, project_fixture  # noqa: F401

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

BOOK = """
class Book(orm.Model):
    title = orm.CharField(max_length=100)
"""
BOOK_ISBN = BOOK + "    isbn = orm.CharField(max_length=13, default='')\n"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def shop(project: Project, models: str) -> None:
    project.forget()
    project.app("shop", models)
    project.settings(["shop"])


def test_initial_then_added_field_written_and_migrated(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, BOOK)
    status, out, _ = cli(capsys, "makemigrations", "--no-input")
    assert status == 0
    assert out == "Migrations for 'shop':\n  shop/migrations/0001_initial.py\n    + Create model Book\n"
    assert (project.root / "shop/migrations/__init__.py").exists()
    assert cli(capsys, "makemigrations", "--no-input")[1] == "No changes detected\n"
    shop(project, BOOK_ISBN)
    status, out, _ = cli(capsys, "makemigrations", "shop", "--no-input")
    assert status == 0
    assert out == "Migrations for 'shop':\n  shop/migrations/0002_book_isbn.py\n    + Add field isbn to book\n"
    assert cli(capsys, "migrate")[0] == 0
    from shop.models import Book  # type: ignore[import-not-found]

    Book.objects.create(title="Dune", isbn="123")
    assert list(Book.objects.values_list("title", "isbn")) == [("Dune", "123")]
    assert cli(capsys, "makemigrations", "shop", "--no-input")[1] == "No changes detected in app 'shop'\n"


def test_check_and_dry_run_write_nothing(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, BOOK)
    status, out, _ = cli(capsys, "makemigrations", "--check")
    assert status == 1
    assert "0001_initial.py" in out
    assert not (project.root / "shop/migrations").exists()
    status, out, _ = cli(capsys, "makemigrations", "--dry-run")
    assert status == 0
    assert "+ Create model Book" in out
    assert not (project.root / "shop/migrations").exists()
    assert cli(capsys, "makemigrations", "--no-input")[0] == 0
    assert cli(capsys, "makemigrations", "--check")[0] == 0


def test_empty_named_and_merge(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, BOOK)
    assert cli(capsys, "makemigrations", "--no-input")[0] == 0
    status, out, _ = cli(capsys, "makemigrations", "shop", "--empty", "--name", "backfill")
    assert status == 0
    assert "shop/migrations/0002_backfill.py" in out
    text = (project.root / "shop/migrations/0002_backfill.py").read_text()
    assert '("shop", "0001_initial")' in text
    # A second branch from 0001: two leaves.
    (project.root / "shop/migrations/0002_other.py").write_text(
        text.replace("0002_backfill", "0002_other"))
    shop(project, BOOK)
    status, _, err = cli(capsys, "makemigrations", "--no-input")
    assert status == 1
    assert "orm makemigrations --merge" in err
    assert sorted(p.name for p in (project.root / "shop/migrations").glob("0*.py")) == [
        "0001_initial.py", "0002_backfill.py", "0002_other.py"]
    status, out, _ = cli(capsys, "makemigrations", "--merge")
    assert status == 0
    assert "shop/migrations/0003_merge_0002_backfill_0002_other.py" in out
    shop(project, BOOK)
    assert cli(capsys, "makemigrations", "--merge")[1] == "No conflicts detected to merge.\n"
    assert cli(capsys, "migrate")[0] == 0


def test_unknown_app_and_empty_without_app(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project, BOOK)
    status, _, err = cli(capsys, "makemigrations", "nope")
    assert status == 2
    assert "No app with label 'nope'" in err and "shop" in err
    status, _, err = cli(capsys, "makemigrations", "--empty")
    assert status == 1
    assert "--empty needs at least one app label" in err
    assert not (project.root / "shop/migrations").exists()


def test_not_null_field_without_default_under_no_input_writes_nothing(
    project: Project, capsys: pytest.CaptureFixture[str],
) -> None:
    shop(project, BOOK)
    assert cli(capsys, "makemigrations", "--no-input")[0] == 0
    shop(project, BOOK + "    pages = orm.IntegerField()\n")
    status, _, err = cli(capsys, "makemigrations", "--no-input")
    assert status == 3
    assert "pages" in err
    assert sorted(p.name for p in (project.root / "shop/migrations").glob("0*.py")) == ["0001_initial.py"]
