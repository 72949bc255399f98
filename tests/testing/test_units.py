"""The plugin's pure parts, without a database: test URLs, settings, flush SQL per dialect."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import orm
from orm.db import wrapper as wrapper_module
from orm.db.connections import connections
from orm.exceptions import DatabaseError, ImproperlyConfigured
from orm.testing.databases import derive_test_url, project_database_urls
from orm.testing.isolation import flush_statements, model_tables
from tests.async_.models import Book


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- test database URLs ----------------------------------------------------------------


def test_postgresql_test_database_is_prefixed_and_keeps_the_options(tmp_path: Path) -> None:
    url = "postgresql://app:s3cret@db.local:5433/shop?sslmode=disable&pool_max_size=5"
    assert derive_test_url(url, alias="default", suffix="", tmp_dir=tmp_path, reuse=False) == (
        "postgresql://app:s3cret@db.local:5433/test_shop?sslmode=disable&pool_max_size=5"
    )
    assert derive_test_url(url, alias="default", suffix="_gw1", tmp_dir=tmp_path, reuse=True) == (
        "postgresql://app:s3cret@db.local:5433/test_shop_gw1?sslmode=disable&pool_max_size=5"
    )


def test_sqlite_test_files(tmp_path: Path) -> None:
    project = tmp_path / "data" / "app.sqlite3"
    url = f"sqlite:///{project}?timeout=3"
    # Without reuse: a file per alias and worker in the session's temporary directory.
    assert derive_test_url(url, alias="default", suffix="", tmp_dir=tmp_path, reuse=False) == (
        f"sqlite:///{tmp_path / 'test.sqlite3'}?timeout=3"
    )
    assert (
        derive_test_url(
            "sqlite:///:memory:", alias="reports", suffix="_gw0", tmp_dir=tmp_path, reuse=False
        )
        == f"sqlite:///{tmp_path / 'test_reports_gw0.sqlite3'}"
    )
    # With reuse: test_<name> next to the project's file, never the file itself.
    assert derive_test_url(url, alias="default", suffix="_gw0", tmp_dir=tmp_path, reuse=True) == (
        f"sqlite:///{project.with_name('test_app_gw0.sqlite3')}?timeout=3"
    )


# -- where the project's databases come from --------------------------------------------


def _pyproject(path: Path, text: str) -> Path:
    (path / "pyproject.toml").write_text(text)
    sub = path / "tests"
    sub.mkdir()
    return sub


def test_tool_orm_database_and_databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read as the commands read them: relative SQLite paths from the pyproject's
    # directory, and ORM_DATABASE_URL winning over [tool.orm] for "default".
    monkeypatch.delenv("ORM_DATABASE_URL", raising=False)
    one = tmp_path / "one"
    one.mkdir()
    start = _pyproject(one, '[tool.orm]\ndatabase = "sqlite:///a.db"\n')
    assert project_database_urls(start) == {"default": f"sqlite:///{one.resolve() / 'a.db'}"}
    two = tmp_path / "two"
    two.mkdir()
    start = _pyproject(
        two, '[tool.orm]\ndatabases = { default = "sqlite:///a.db", r = "sqlite:///r.db" }\n'
    )
    assert project_database_urls(start) == {
        "default": f"sqlite:///{two.resolve() / 'a.db'}",
        "r": f"sqlite:///{two.resolve() / 'r.db'}",
    }
    monkeypatch.setenv("ORM_DATABASE_URL", "sqlite:///env.sqlite3")
    assert project_database_urls(start) == {
        "default": "sqlite:///env.sqlite3",
        "r": f"sqlite:///{two.resolve() / 'r.db'}",
    }
    three = tmp_path / "three"
    three.mkdir()
    start = _pyproject(three, "[tool.other]\nx = 1\n")
    assert project_database_urls(start) == {"default": "sqlite:///env.sqlite3"}
    monkeypatch.delenv("ORM_DATABASE_URL")
    assert project_database_urls(start) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tool.orm]\ndatabases = ['sqlite:///a.db']\n",
            "'databases' must be a table of alias = URL",
        ),
        ("[tool.orm]\ndatabase = 5\n", "the database URL of 'default' must be a string, not int"),
    ],
)
def test_bad_tool_orm_settings_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        project_database_urls(_pyproject(tmp_path, text))


# -- emptying tables: compile-only, per dialect ------------------------------------------


def test_model_tables_include_automatic_join_tables() -> None:
    assert model_tables([Book, Book]) == ["shared_book", "shared_book_tags"]


def test_flush_sql_postgresql() -> None:
    assert flush_statements("postgresql", _quote, ["shop_item", 'we"ird']) == [
        ('TRUNCATE "shop_item", "we""ird" RESTART IDENTITY CASCADE', []),
    ]


def test_flush_sql_sqlite() -> None:
    assert flush_statements("sqlite", _quote, ["shop_item", 'we"ird']) == [
        ("PRAGMA foreign_keys = OFF", []),
        ('DELETE FROM "shop_item"', []),
        ('DELETE FROM "we""ird"', []),
        ("DELETE FROM sqlite_sequence WHERE name IN (%s, %s)", ["shop_item", 'we"ird']),
        ("PRAGMA foreign_keys = ON", []),
    ]


def test_nothing_to_flush() -> None:
    assert flush_statements("sqlite", _quote, []) == []
    assert flush_statements("postgresql", _quote, []) == []


# -- a thread that waits too long for the shared connection -------------------------------


@pytest.mark.transactional  # it pins the connection itself
def test_waiting_too_long_for_the_pinned_connection_is_an_error(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wrapper_module, "SHARED_WAIT", 0.2)
    pinned: Any = connections.pin("default")
    try:
        held, done = threading.Event(), threading.Event()

        def hold() -> None:
            with orm.transaction.atomic():
                held.set()
                done.wait(10)

        def query() -> None:
            held.wait(10)
            with orm.connection.cursor() as cursor:
                cursor.execute("SELECT 1")

        with ThreadPoolExecutor(max_workers=2) as pool:
            holder = pool.submit(hold)
            waiter = pool.submit(query)
            started = time.monotonic()
            with pytest.raises(DatabaseError, match="waited 0.2 s for the test's connection"):
                waiter.result(timeout=10)
            assert time.monotonic() - started < 5
            done.set()
            holder.result(timeout=10)
        assert pinned.transaction_state.in_atomic_block is False
    finally:
        connections.unpin("default")
