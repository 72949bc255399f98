"""``migrate`` honours routers' ``allow_migrate`` (Django's ``allowed_to_migrate``), on both backends."""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm.migrations.recorder import MigrationRecorder
from tests.migrations.project import Project, project_fixture  # noqa: F401
from tests.migrations.test_executor import shop, tables

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional


class OnlyBooks:
    """Lets only the ``book`` model of ``shop`` migrate (no RunPython/RunSQL either)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        self.calls.append((db, app_label, model_name))
        if app_label != "shop":
            return None
        return model_name == "book"


def test_migrate_skips_operations_a_router_excludes(project: Project) -> None:
    shop(project)
    url = orm.connections.settings["default"].url
    only_books = OnlyBooks()
    orm.configure(url, routers=[only_books])
    try:
        assert orm.migrate() == ["shop.0001_initial", "shop.0002_author"]
        names = tables()
        assert "shop_book" in names
        assert "shop_author" not in names  # CreateModel skipped; RunPython too (it would need it)
        assert ("default", "shop", "author") in only_books.calls
        # The recorder still records both migrations.
        assert sorted(MigrationRecorder(orm.connection).applied_migrations()) == [
            ("shop", "0001_initial"), ("shop", "0002_author")]
    finally:
        orm.configure(url)
    assert orm.migrate() == []


class OnlyAuthors:
    """Lets only ``author`` (by model hint or ``model_name``) migrate in app ``i16_route``."""

    def __init__(self) -> None:
        self.hints: list[dict[str, Any]] = []

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        self.hints.append({"model_name": model_name, **hints})
        return model_name == "author"


def _migration(operations: list[Any]) -> Any:
    from orm import migrations

    klass = type("Migration", (migrations.Migration,), {"operations": operations})
    return klass("0001_initial", "i16_route")


def _route_tables() -> set[str]:
    return {t for t in orm.connection.introspection.table_names() if t.startswith("i16_route")}


def test_each_operation_asks_allow_migrate_inside_its_database_methods(backend: str) -> None:
    from orm import migrations
    from orm.migrations import ProjectState
    from tests.migrations.helpers import auto_id

    url = orm.connections.settings["default"].url
    only = OnlyAuthors()
    orm.configure(url, routers=[only])
    try:
        create_both = migrations.SeparateDatabaseAndState(database_operations=[
            migrations.CreateModel("Author", [auto_id(), ("name", orm.CharField(max_length=20))]),
            migrations.CreateModel("Book", [auto_id()]),
        ], state_operations=[
            migrations.CreateModel("Author", [auto_id(), ("name", orm.CharField(max_length=20))]),
            migrations.CreateModel("Book", [auto_id()]),
        ])
        sql_for_author = migrations.RunSQL("INSERT INTO i16_route_author (name) VALUES ('ann')",
                                           "DELETE FROM i16_route_author", hints={"model_name": "author"})
        sql_for_book = migrations.RunSQL("INSERT INTO i16_route_book (id) VALUES (1)", migrations.RunSQL.noop,
                                         hints={"model_name": "book"})
        add_field = migrations.AddField("Book", "title", orm.CharField(max_length=5, default=""))
        migration = _migration([create_both, sql_for_author, sql_for_book, add_field])
        with orm.connection.schema_editor() as editor:
            migration.apply(ProjectState(), editor)
        # Inside SeparateDatabaseAndState each operation decided for itself.
        assert _route_tables() == {"i16_route_author"}
        with orm.connection.cursor() as cursor:
            cursor.execute("SELECT name FROM i16_route_author")
            assert cursor.fetchall() == [("ann",)]
        model_hints = [h for h in only.hints if "model" in h]
        assert {h["model_name"] for h in model_hints} == {"author", "book"}
        assert all(h["model"]._meta.model_name == h["model_name"] for h in model_hints)
        # Backwards asks too: the author table is dropped, nothing is tried on the missing book table.
        with orm.connection.schema_editor() as editor:
            migration.unapply(ProjectState(), editor)
        assert _route_tables() == set()
    finally:
        orm.configure(url)
