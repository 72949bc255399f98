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
