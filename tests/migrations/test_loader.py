"""Settings, the migration graph, the loader and the recorder (issue 14), on both backends.

Projects are written by hand in ``tmp_path`` (see ``tests/migrations/project.py``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

import orm
from orm.conf import load_project_settings
from orm.migrations.graph import CircularDependencyError, MigrationGraph, NodeNotFoundError
from orm.migrations.loader import (
    AmbiguityError,
    InconsistentMigrationHistory,
    MigrationLoader,
    MigrationNotFoundError,
)
from orm.migrations.recorder import MigrationRecorder
from tests.migrations.project import Project, create_model, migration, project_fixture  # noqa: F401

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

SHOP_MODELS = """
class Book(orm.Model):
    title = orm.CharField(max_length=100)
"""


def shop_initial() -> str:
    return migration(create_model("Book", "('title', orm.CharField(max_length=100)),"), extra="initial = True\n")


def add_isbn() -> str:
    return migration(
        "migrations.AddField('book', 'isbn', orm.CharField(max_length=13, default='')),",
        "('shop', '0001_initial')",
    )


# ------------------------------------------------------------------ settings


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_settings_found_upward_and_overridden_in_order(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.orm]\ndatabase = "sqlite:///a.db"\napps = ["shop"]\n')
    below = tmp_path / "src" / "deep"
    below.mkdir(parents=True)
    settings = load_project_settings(start=below, environ={})
    # A relative SQLite path is relative to the pyproject, not to the working directory.
    assert settings.databases == {"default": f"sqlite:///{tmp_path}/a.db"}
    assert settings.apps == ["shop"]
    assert settings.pyproject == tmp_path / "pyproject.toml"
    env = {"ORM_DATABASE_URL": "sqlite:///b.db"}
    assert load_project_settings(start=below, environ=env).databases["default"] == "sqlite:///b.db"
    flag = load_project_settings("sqlite:///c.db", start=below, environ=env)
    assert flag.databases["default"] == "sqlite:///c.db"  # relative to the working directory, as any flag


def test_settings_skip_a_pyproject_without_tool_orm(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.orm]\ndatabases = {default = "sqlite:///a.db", r = "sqlite:///r.db"}\n')
    write(tmp_path / "lib" / "pyproject.toml", '[project]\nname = "lib"\n')
    settings = load_project_settings(start=tmp_path / "lib", environ={})
    assert settings.databases == {"default": f"sqlite:///{tmp_path}/a.db", "r": f"sqlite:///{tmp_path}/r.db"}
    assert settings.apps == []


def test_use_tz_from_tool_orm_configures_the_commands(tmp_path: Path) -> None:
    from orm.migrations.commands.base import setup
    from orm.utils import timezone

    write(tmp_path / "pyproject.toml", f'[tool.orm]\ndatabase = "sqlite:///{tmp_path}/a.db"\nuse_tz = false\n')
    assert load_project_settings(start=tmp_path, environ={}).use_tz is False
    assert load_project_settings(start=tmp_path.parent, environ={}, require_database=False).use_tz is True
    old_cwd = Path.cwd()
    try:
        os.chdir(tmp_path)
        setup(argparse.Namespace(database=None))
        assert timezone.use_tz() is False
    finally:
        os.chdir(old_cwd)
        orm.configure("sqlite:///:memory:")  # back to the default, use_tz=True
    assert timezone.use_tz() is True


@pytest.mark.parametrize(("text", "expected"), [
    ("[tool.orm\n", "Cannot read"),
    ('[tool.orm]\ndatabase_url = "sqlite:///a.db"\n', "Unknown key(s) 'database_url'"),
    ('[tool.orm]\ndatabase = "mysql://x/y"\n', "Unsupported database scheme"),
    ('[tool.orm]\ndatabase = "sqlite:///a.db"\nuse_tz = "no"\n', "'use_tz' must be true or false, not 'no'"),
    ('[tool.orm]\ndatabase = 3\n', "must be a string"),
    ('[tool.orm]\ndatabase = "sqlite:///a.db"\ndatabases = {}\n', "both 'database' and 'databases'"),
    ('[tool.orm]\ndatabases = {r = "sqlite:///a.db"}\n', "no 'default' alias"),
    ('[tool.orm]\ndatabase = "sqlite:///a.db"\napps = "shop"\n', "'apps' must be a list of package names"),
    ('[tool.orm]\ndatabase = "sqlite:///a.db"\napps = ["shop-app"]\n', "'apps' must be a list"),
    ('[tool.orm]\napps = ["shop"]\n', "No database is configured"),
])
def test_broken_settings_say_what_and_where(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path / "pyproject.toml", text)
    with pytest.raises(orm.ImproperlyConfigured) as info:
        load_project_settings(start=tmp_path, environ={})
    assert expected in str(info.value)
    assert "Settings are read from [tool.orm] in the nearest pyproject.toml" in str(info.value)


def test_broken_environment_url_is_named(tmp_path: Path) -> None:
    with pytest.raises(orm.ImproperlyConfigured, match="ORM_DATABASE_URL is invalid"):
        load_project_settings(start=tmp_path, environ={"ORM_DATABASE_URL": "nope"})
    with pytest.raises(orm.ImproperlyConfigured, match="--database is invalid"):
        load_project_settings("sqlite://x.db", start=tmp_path, environ={})


# --------------------------------------------------------------------- graph


def graph_of(edges: dict[tuple[str, str], list[tuple[str, str]]]) -> MigrationGraph:
    graph = MigrationGraph()
    for key in edges:
        graph.add_node(key, None)
    for key, parents in edges.items():
        for parent in parents:
            graph.add_dependency(f"{key[0]}.{key[1]}", key, parent, skip_validation=True)
    return graph


def test_graph_plans_roots_and_leaves() -> None:
    graph = graph_of({
        ("a", "1"): [], ("a", "2"): [("a", "1"), ("b", "1")], ("a", "3"): [("a", "2")],
        ("b", "1"): [], ("b", "2"): [("b", "1")],
    })
    graph.validate_consistency()
    graph.ensure_not_cyclic()
    # Django's order: parents (children) pushed sorted, so the last sorted is walked first.
    assert graph.forwards_plan(("a", "3")) == [("b", "1"), ("a", "1"), ("a", "2"), ("a", "3")]
    assert graph.backwards_plan(("b", "1")) == [("b", "2"), ("a", "3"), ("a", "2"), ("b", "1")]
    assert graph.root_nodes() == [("a", "1"), ("b", "1")]
    assert graph.leaf_nodes("a") == [("a", "3")]
    with pytest.raises(NodeNotFoundError, match="not a valid node"):
        graph.forwards_plan(("a", "9"))


def test_graph_reports_a_cycle_by_name() -> None:
    graph = graph_of({("a", "1"): [("a", "3")], ("a", "2"): [("a", "1")], ("a", "3"): [("a", "2")]})
    with pytest.raises(CircularDependencyError) as info:
        graph.ensure_not_cyclic()
    message = str(info.value)
    for name in ("a.1", "a.2", "a.3"):
        assert name in message


def test_graph_reports_a_missing_dependency_by_name() -> None:
    graph = graph_of({("a", "2"): [("a", "1")]})
    with pytest.raises(NodeNotFoundError, match=r"a\.2 dependencies reference nonexistent parent node \('a', '1'\)"):
        graph.validate_consistency()


# -------------------------------------------------------------------- loader


def test_loader_reads_files_and_builds_the_state(project: Project) -> None:
    project.app("shop", SHOP_MODELS, {"0001_initial": shop_initial(), "0002_book_isbn": add_isbn()})
    project.app("blog", "class Post(orm.Model):\n    class Meta:\n        app_label = 'journal'\n")
    project.settings(["shop", "blog"])
    loader = MigrationLoader(orm.connection)
    assert loader.app_labels == ["shop", "journal"]
    assert loader.migrated_apps == {"shop"} and loader.unmigrated_apps == {"journal"}
    assert set(loader.disk_migrations) == {("shop", "0001_initial"), ("shop", "0002_book_isbn")}
    assert loader.graph.leaf_nodes("shop") == [("shop", "0002_book_isbn")]
    assert loader.applied_migrations == {}
    state = loader.project_state()
    assert set(state.get_model_state("shop", "book").fields) == {"id", "title", "isbn"}
    before = loader.project_state(("shop", "0002_book_isbn"), at_end=False)
    assert set(before.get_model_state("shop", "book").fields) == {"id", "title"}
    assert loader.get_migration_by_prefix("shop", "0002").name == "0002_book_isbn"


def test_loader_prefix_errors_list_candidates(project: Project) -> None:
    project.app("shop", SHOP_MODELS, {
        "0001_initial": shop_initial(), "0002_book_isbn": add_isbn(),
        "0003_one": migration(dependencies="('shop', '0002_book_isbn')"),
        "0003_two": migration(dependencies="('shop', '0003_one')"),
    })
    project.settings(["shop"])
    loader = MigrationLoader(None)
    with pytest.raises(AmbiguityError, match="0003_one, 0003_two"):
        loader.get_migration_by_prefix("shop", "0003")
    with pytest.raises(MigrationNotFoundError, match="Its migrations: 0001_initial, 0002_book_isbn"):
        loader.get_migration_by_prefix("shop", "0009")


def test_two_leaves_are_named_with_their_files(project: Project) -> None:
    project.app("shop", SHOP_MODELS, {
        "0001_initial": shop_initial(), "0002_book_isbn": add_isbn(),
        "0002_other": migration(dependencies="('shop', '0001_initial')"),
    })
    project.settings(["shop"])
    loader = MigrationLoader(None)
    conflicts = loader.detect_conflicts()
    assert conflicts == {"shop": ["0002_book_isbn", "0002_other"]}
    message = loader.conflict_message(conflicts)
    assert "shop/migrations/0002_book_isbn.py and shop/migrations/0002_other.py" in message
    assert "orm makemigrations --merge" in message


def test_cycle_and_missing_dependency_in_files(project: Project) -> None:
    project.app("shop", SHOP_MODELS, {
        "0001_initial": migration(dependencies="('shop', '0002_b')"),
        "0002_b": migration(dependencies="('shop', '0001_initial')"),
    })
    project.settings(["shop"])
    with pytest.raises(CircularDependencyError, match="shop.0001_initial -> shop.0002_b -> shop.0001_initial"):
        MigrationLoader(None)
    project.forget()
    project.write("shop/migrations/0001_initial.py", migration(dependencies="('shop', '0000_gone')"))
    with pytest.raises(NodeNotFoundError, match="shop.0001_initial dependencies reference nonexistent parent"):
        MigrationLoader(None)


def test_cross_app_first_and_unmigrated_dependencies(project: Project) -> None:
    project.app("shop", SHOP_MODELS, {"0001_initial": shop_initial(), "0002_book_isbn": add_isbn()})
    project.app("blog", "", {"0001_initial": migration(dependencies="('shop', '__first__'), ('plain', '__first__')")})
    project.app("plain", "")
    project.settings(["shop", "blog", "plain"])
    loader = MigrationLoader(None)
    assert loader.graph.forwards_plan(("blog", "0001_initial")) == [("shop", "0001_initial"), ("blog", "0001_initial")]


def squash_project(project: Project) -> None:
    squashed = migration(
        create_model("Book", "('title', orm.CharField(max_length=100)), ('isbn', orm.CharField(max_length=13, default='')),"),
        extra="initial = True\nreplaces = [('shop', '0001_initial'), '0002_book_isbn']\n",
    )
    project.app("shop", SHOP_MODELS, {
        "0001_initial": shop_initial(), "0002_book_isbn": add_isbn(),
        "0001_squashed_0002": squashed,
        "0003_after": migration(dependencies="('shop', '0002_book_isbn')"),
    })
    project.settings(["shop"])


@pytest.mark.parametrize(("applied", "plan", "applied_after"), [
    ([], ["0001_squashed_0002", "0003_after"], set()),
    (["0001_initial", "0002_book_isbn"], ["0001_squashed_0002", "0003_after"],
     {"0001_initial", "0002_book_isbn", "0001_squashed_0002"}),
    (["0001_initial"], ["0001_initial", "0002_book_isbn", "0003_after"], {"0001_initial"}),
])
def test_replaces_decided_by_what_is_applied(
    project: Project, applied: list[str], plan: list[str], applied_after: set[str],
) -> None:
    squash_project(project)
    recorder = MigrationRecorder(orm.connection)
    for name in applied:
        recorder.record_applied("shop", name)
    loader = MigrationLoader(orm.connection)
    assert [name for _, name in loader.graph.forwards_plan(("shop", "0003_after"))] == plan
    assert {name for _, name in loader.applied_migrations} == applied_after
    loader.check_consistent_history()


def test_inconsistent_history_is_reported(project: Project) -> None:
    project.app("shop", SHOP_MODELS, {"0001_initial": shop_initial(), "0002_book_isbn": add_isbn()})
    project.settings(["shop"])
    MigrationRecorder(orm.connection).record_applied("shop", "0002_book_isbn")
    loader = MigrationLoader(orm.connection)
    with pytest.raises(InconsistentMigrationHistory, match="shop.0002_book_isbn is applied before its dependency shop.0001_initial"):
        loader.check_consistent_history()


def test_a_file_without_migration_class_is_refused(project: Project) -> None:
    project.app("shop", SHOP_MODELS, {"0001_initial": "X = 1\n"})
    project.settings(["shop"])
    with pytest.raises(Exception, match="0001_initial.py .app 'shop'. has no class Migration"):
        MigrationLoader(None)


def test_unknown_app_package_is_refused(project: Project) -> None:
    project.settings(["nowhere"])
    with pytest.raises(orm.ImproperlyConfigured, match="App 'nowhere' .* cannot be imported"):
        MigrationLoader(None)


# ------------------------------------------------------------------ recorder


def test_recorder_creates_its_table_on_first_use(backend: str) -> None:
    recorder = MigrationRecorder(orm.connection)
    assert not recorder.has_table()
    assert recorder.applied_migrations() == {}
    recorder.record_applied("shop", "0001_initial")
    assert recorder.has_table()
    recorder.record_applied("shop", "0002_book_isbn")
    applied = recorder.applied_migrations()
    assert list(applied) == [("shop", "0001_initial"), ("shop", "0002_book_isbn")]
    assert applied["shop", "0001_initial"].applied.tzinfo is not None
    columns = {c.name for c in orm.connection.introspection.get_table_description("orm_migrations")}
    assert columns == {"id", "app", "name", "applied"}
    recorder.record_unapplied("shop", "0002_book_isbn")
    assert list(recorder.applied_migrations()) == [("shop", "0001_initial")]
    recorder.flush()
    assert recorder.applied_migrations() == {}
