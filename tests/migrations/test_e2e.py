"""End to end on both backends: a temporary project evolved through a dozen model changes.

Each step rewrites the models, runs ``orm makemigrations --no-input`` (or
answers the rename questions as a person would) and ``orm migrate`` through
:func:`orm.cli.main`, and checks that the rows that must survive did. One
step runs the real ``python -m orm`` in a subprocess.
"""

from __future__ import annotations

import builtins
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import orm
from orm.cli import main
from tests.migrations.project import Project, project_fixture  # noqa: F401

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

REPO = Path(__file__).resolve().parents[2]

V0 = """
class Author(orm.Model):
    name = orm.CharField(max_length=100)
    nickname = orm.CharField(max_length=30, default="")


class Book(orm.Model):
    title = orm.CharField(max_length=100)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE)
"""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def rows(sql: str) -> list[tuple[Any, ...]]:
    with orm.connections["default"].cursor() as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]


def execute(sql: str) -> None:
    with orm.connections["default"].cursor() as cursor:
        cursor.execute(sql)


def files(project: Project) -> list[str]:
    return sorted(p.name for p in (project.root / "shop/migrations").glob("0*.py"))


class Steps:
    """Rewrites the models of app ``shop`` and runs the commands."""

    def __init__(self, project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.project, self.capsys, self.monkeypatch = project, capsys, monkeypatch

    def models(self, text: str) -> None:
        self.project.forget()
        self.project.app("shop", text)
        self.project.settings(["shop"])

    def make(self, text: str, expect: str, answers: list[str] | None = None) -> str:
        """New models, ``makemigrations`` (answering ``answers`` at a terminal) and ``migrate``."""
        self.models(text)
        if answers is None:
            status, out, err = cli(self.capsys, "makemigrations", "--no-input")
        else:
            given = iter(answers)
            self.monkeypatch.setattr(sys, "stdin", _Terminal())
            self.monkeypatch.setattr(builtins, "input", lambda prompt="": next(given))
            status, out, err = cli(self.capsys, "makemigrations")
            self.monkeypatch.undo()
            self.monkeypatch.chdir(self.project.root)
            self.monkeypatch.syspath_prepend(str(self.project.root))
            self.monkeypatch.delenv("ORM_DATABASE_URL", raising=False)
        assert status == 0, err
        assert expect in out, out
        status, out, err = cli(self.capsys, "migrate")
        assert status == 0, err
        assert cli(self.capsys, "makemigrations", "--check")[0] == 0
        return out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_dozen_changes_keep_the_data(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = Steps(project, capsys, monkeypatch)
    steps.make(V0, "+ Create model Author")
    execute("INSERT INTO shop_author (name, nickname) VALUES ('Ada', 'ada')")
    execute("INSERT INTO shop_book (title, author_id) VALUES ('Notes', 1)")

    # --fake-initial: the tables exist, so 0001 is only recorded.
    execute("DELETE FROM orm_migrations WHERE app = 'shop'")
    status, out, _ = cli(capsys, "migrate", "--fake-initial")
    assert status == 0 and "0001_initial... FAKED" in out

    v1 = V0.replace('    author = orm.ForeignKey', '    pages = orm.IntegerField(default=0)\n    author = orm.ForeignKey')
    steps.make(v1, "+ Add field pages to book")                                   # 1 add field
    v2 = v1.replace("title = orm.CharField(max_length=100)", "title = orm.CharField(max_length=200)")
    steps.make(v2, "~ Alter field title on book")                                 # 2 alter field
    assert rows("SELECT title, pages FROM shop_book") == [("Notes", 0)]
    v3 = v2 + '\n\nclass Tag(orm.Model):\n    name = orm.CharField(max_length=20)\n'
    v3 = v3.replace("    pages = orm", "    tags = orm.ManyToManyField('Tag')\n    pages = orm")
    steps.make(v3, "+ Create model Tag")                                          # 3 model + M2M
    execute("INSERT INTO shop_tag (name) VALUES ('maths')")
    execute("INSERT INTO shop_book_tags (book_id, tag_id) VALUES (1, 1)")
    v4 = v3.replace("    pages = orm", "    page_count = orm")
    steps.make(v4, "~ Rename field pages on book to page_count", answers=["y"])   # 4 rename field
    v5 = v4.replace("class Author(", "class Writer(").replace("ForeignKey(Author", "ForeignKey(Writer")
    v5 = v5.replace("    author = orm", "    writer = orm")
    steps.make(v5, "~ Rename model Author to Writer", answers=["y", "y"])          # 5 rename model + FK
    assert rows("SELECT name, nickname FROM shop_writer") == [("Ada", "ada")]
    assert rows("SELECT title, writer_id FROM shop_book") == [("Notes", 1)]
    meta = (
        "\n    class Meta:\n        indexes = [orm.Index(fields=['title'], name='book_title_idx')]\n"
    )
    v6 = v5.replace("\n\nclass Tag(", meta + "\n\nclass Tag(")
    steps.make(v6, "+ Create index book_title_idx")                               # 6 index
    v7 = v6.replace(
        "name='book_title_idx')]\n",
        "name='book_title_idx')]\n        constraints = [orm.CheckConstraint("
        "condition=orm.Q(page_count__gte=0), name='pages_not_negative')]\n",
    )
    steps.make(v7, "+ Create constraint pages_not_negative")                      # 7 constraint
    v8 = v7.replace("    page_count = orm", "    isbn = orm.CharField(max_length=13, null=True)\n    page_count = orm")
    steps.make(v8, "+ Add field isbn to book")                                    # 8 nullable field
    # 9 a data migration, written with --empty and filled in by hand.
    status, out, _ = cli(capsys, "makemigrations", "shop", "--empty", "--name", "fill_isbn")
    assert status == 0
    path = project.root / "shop/migrations" / next(n for n in files(project) if n.endswith("fill_isbn.py"))
    path.write_text(path.read_text().replace("    operations = []", (
        "    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]"
    )).replace("class Migration", (
        "def fill(apps, schema_editor):\n"
        "    Book = apps.get_model('shop', 'Book')\n"
        "    Book.objects.filter(isbn=None).update(isbn='0000000000')\n\n\nclass Migration"
    )))
    steps.models(v8)
    assert cli(capsys, "migrate")[0] == 0
    assert rows("SELECT isbn FROM shop_book") == [("0000000000",)]
    v10 = v8.replace("max_length=13, null=True)", "max_length=13)")
    steps.make(v10, "~ Alter field isbn on book")                                 # 10 NOT NULL
    v11 = v10.replace('    nickname = orm.CharField(max_length=30, default="")\n', "")
    steps.make(v11, "- Remove field nickname from writer")                        # 11 remove field
    v12 = v11.replace("on_delete=orm.CASCADE)", "on_delete=orm.PROTECT, null=True)")
    steps.make(v12, "~ Alter field writer on book")                               # 12 alter FK
    v13 = v12.replace("    tags = orm.ManyToManyField('Tag')\n", "").split("\n\nclass Tag(")[0] + "\n"
    steps.make(v13, "- Delete model Tag")                                         # 13 remove M2M + model
    assert rows("SELECT b.title, b.page_count, b.isbn, w.name FROM shop_book b JOIN shop_writer w "
                "ON w.id = b.writer_id") == [("Notes", 0, "0000000000", "Ada")]

    # Reading commands.
    status, out, _ = cli(capsys, "showmigrations", "shop")
    assert status == 0 and out.count("[X]") == len(files(project)) >= 13
    status, out, _ = cli(capsys, "sqlmigrate", "shop", "0002")
    assert status == 0 and "page" in out.lower()
    status, out, _ = cli(capsys, "migrate", "shop", "0012", "--plan")
    assert status == 0 and "0013" in out

    # Bad input changes nothing.
    before = rows("SELECT app, name FROM orm_migrations ORDER BY id")
    status, _, err = cli(capsys, "migrate", "shop", "0999")
    assert status == 1 and "0999" in err
    steps.models(v13.replace("    isbn =", "    rank = orm.IntegerField()\n    isbn ="))
    status, _, err = cli(capsys, "makemigrations", "--no-input")
    assert status == 3 and "rank" in err
    assert rows("SELECT app, name FROM orm_migrations ORDER BY id") == before
    steps.models(v13)

    # zero and forwards again (the data is gone with the tables, the schema comes back).
    assert cli(capsys, "migrate", "shop", "zero")[0] == 0
    assert "shop_book" not in orm.connections["default"].introspection.table_names()
    assert cli(capsys, "migrate")[0] == 0
    assert rows("SELECT count(*) FROM shop_book") == [(0,)]


def test_subprocess_and_two_leaves(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.app("shop", V0)
    project.settings(["shop"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ORM_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "orm", "makemigrations"], cwd=project.root, env=env,
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "shop/migrations/0001_initial.py" in done.stdout
    assert cli(capsys, "migrate")[0] == 0
    # A second branch from 0001: migrate and makemigrations refuse, --merge fixes it.
    for name in ("0002_a", "0002_b"):
        (project.root / f"shop/migrations/{name}.py").write_text(
            "from orm import migrations\n\n\nclass Migration(migrations.Migration):\n"
            "    dependencies = [('shop', '0001_initial')]\n    operations = []\n"
        )
    project.forget()
    before = rows("SELECT app, name FROM orm_migrations ORDER BY id")
    status, _, err = cli(capsys, "migrate")
    assert status == 1 and "orm makemigrations --merge" in err
    assert rows("SELECT app, name FROM orm_migrations ORDER BY id") == before
    project.forget()
    done = subprocess.run(
        [sys.executable, "-m", "orm", "makemigrations", "--merge"], cwd=project.root, env=env,
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "0003_merge_0002_a_0002_b.py" in done.stdout
    project.forget()
    status, out, _ = cli(capsys, "migrate")
    assert status == 0 and "0003_merge" in out
