"""Temporary projects for the loader, executor and command tests.

A project is a directory with a ``pyproject.toml`` (``[tool.orm]``) and app
packages whose models and migration files a test writes by hand. The
``project`` fixture (see ``conftest.py``) makes it the working directory,
puts it on ``sys.path`` and, afterwards, forgets the app modules and their
models, so the next test can reuse the same package names.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from orm.models import registry

HEADER = "import orm\nfrom orm import migrations\n\n"


def migration(operations: str = "", dependencies: str = "", extra: str = "", prelude: str = "") -> str:
    """The text of a migration file: ``operations`` and ``dependencies`` are list bodies."""
    return (
        HEADER + textwrap.dedent(prelude) + "\n\nclass Migration(migrations.Migration):\n"
        f"    dependencies = [{dependencies}]\n"
        f"    operations = [{textwrap.dedent(operations)}]\n" + textwrap.indent(textwrap.dedent(extra), "    ")
    )


def create_model(name: str, fields: str = "") -> str:
    """A ``CreateModel`` operation with the implicit id and ``fields`` (a list body)."""
    return (
        f"migrations.CreateModel({name!r}, [\n"
        "    ('id', orm.BigAutoField(auto_created=True, primary_key=True, verbose_name='ID')),\n"
        f"    {fields}\n]),\n"
    )


class Project:
    """Writes a project under ``root`` whose database is ``url``."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self.packages: list[str] = []

    def write(self, relative: str, text: str) -> Path:
        """Write ``text`` to ``root/relative`` (directories made as needed)."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def settings(self, apps: list[str], database: str | None = None, extra: str = "") -> None:
        """Write ``pyproject.toml`` with ``[tool.orm]`` naming ``apps`` and the database."""
        url = self.url if database is None else database
        listed = ", ".join(f'"{app}"' for app in apps)
        self.write("pyproject.toml", f'[project]\nname = "demo"\n\n[tool.orm]\ndatabase = "{url}"\napps = [{listed}]\n{extra}')

    def app(self, package: str, models: str = "", migrations: dict[str, str] | None = None) -> None:
        """An app package with ``models.py`` and, when given, ``migrations/<name>.py`` files."""
        folder = package.replace(".", "/")
        parts = package.split(".")
        for depth in range(1, len(parts) + 1):
            init = self.root / "/".join(parts[:depth]) / "__init__.py"
            if not init.exists():
                self.write(str(init.relative_to(self.root)), "")
        self.write(f"{folder}/models.py", "import orm\n\n" + textwrap.dedent(models))
        if migrations is not None:
            self.write(f"{folder}/migrations/__init__.py", "")
            for name, text in migrations.items():
                self.write(f"{folder}/migrations/{name}.py", text)
        if parts[0] not in self.packages:
            self.packages.append(parts[0])

    def forget(self) -> None:
        """Drop the project's modules from ``sys.modules`` and its models from the registry."""
        for name in list(sys.modules):
            if name.split(".")[0] in self.packages:
                module = sys.modules.pop(name)
                for value in vars(module).values():
                    meta = getattr(value, "_meta", None)
                    if isinstance(value, type) and meta is not None and value.__module__ == name:
                        registry.apps.all_models.get(meta.app_label, {}).pop(meta.model_name, None)
        for label in list(registry.apps.all_models):
            models = registry.apps.all_models[label]
            for model_name, model in list(models.items()):
                if model.__module__.split(".")[0] in self.packages:
                    del models[model_name]


@pytest.fixture(name="project")
def project_fixture(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """An empty project on the ``backend`` database, as the working directory.

    Test modules import this fixture (no shared conftest, so the migration
    test modules of other work can add theirs without a clash).
    """
    import orm

    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("ORM_DATABASE_URL", raising=False)
    built = Project(root, orm.connections.settings["default"].url)
    try:
        yield built
    finally:
        built.forget()
        orm.connections.close_all()


#: A two-model book shop and its first two migrations (the second one adds the
#: Author table and fills it), shared by the command tests.
SHOP_MODELS = """
class Book(orm.Model):
    title = orm.CharField(max_length=100)


class Author(orm.Model):
    name = orm.CharField(max_length=100)
"""
SHOP_INITIAL = migration(create_model("Book", "('title', orm.CharField(max_length=100)),"))
SHOP_AUTHOR = migration(
    create_model("Author", "('name', orm.CharField(max_length=100)),")
    + "migrations.RunPython(backfill, migrations.RunPython.noop),",
    "('shop', '0001_initial')",
    prelude='''
    def backfill(apps, schema_editor):
        """Give every book an author."""
        Author = apps.get_model("shop", "Author")
        for book in apps.get_model("shop", "Book").objects.order_by("id"):
            Author.objects.create(name=f"author of {book.title}")
    ''',
)
