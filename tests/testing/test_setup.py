"""Test database set-up: created once per session, --orm-reuse-db, pytest-xdist, no leftovers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import admin_connect
from tests.testing.conftest import Project, make_project

# Each test runs pytest in a subprocess, more than once for some: slower than
# the suite's per-test timeout on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _pg_databases(project: Project, pattern: str) -> tuple[list[str], int]:
    """PostgreSQL databases named like ``pattern`` and the sessions connected to them."""
    assert project.url is not None
    with admin_connect(project.url) as admin:
        names = [
            row[0]
            for row in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", [pattern]
            ).fetchall()
        ]
        sessions = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE %s", [pattern]
        ).fetchone()
    assert sessions is not None
    return names, int(sessions[0])


def _drop_pg(project: Project, *names: str) -> None:
    assert project.url is not None
    with admin_connect(project.url) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


NOT_USED = """
def test_plain():
    assert 1 + 1 == 2
"""


def test_a_project_that_uses_no_fixture_is_not_affected(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database URL that cannot work: nothing may try to connect to it.
    monkeypatch.setenv("ORM_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    pytester.makepyfile(test_plain=NOT_USED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "orm" in str(result.stdout)  # the plugin was loaded (listed in "plugins:")


WHERE = """
import os

import orm
from orm.db.connections import connections


def database_name():
    settings = connections["default"].settings
    return settings.name


def test_where(orm_db):
    name = database_name()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    assert worker in name
    if connections["default"].vendor == "postgresql":
        assert name.startswith("test_")
        with orm.connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            assert cursor.fetchone()[0] == name
"""

XDIST = WHERE + "".join(
    f'''

def test_isolated_{n}(orm_transactional_db):
    from shop.models import Item

    assert Item.objects.count() == 0
    Item.objects.create(name="{n}")
'''
    for n in range(6)
)


def test_xdist_gives_each_worker_its_own_database(project: Project) -> None:
    project.write(test_xdist=XDIST)
    result = project.run("-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=7)
    if project.vendor == "postgresql":
        names, sessions = _pg_databases(project, f"{project.test_database}%")
        assert (names, sessions) == ([], 0)


REUSE_FIRST = """
import orm


def test_mark_the_database(orm_transactional_db):
    with orm.connection.cursor() as cursor:
        cursor.execute("CREATE TABLE reuse_marker (id integer)")
"""

REUSE_SECOND = """
import orm
from shop.models import Item


def test_marker_table(orm_db):
    assert Item.objects.count() == 0
    tables = orm.connection.introspection.table_names()
    assert ("reuse_marker" in tables) is {expected}
"""


def test_reuse_db_keeps_the_database_between_runs(project: Project) -> None:
    try:
        project.write(test_reuse=REUSE_FIRST)
        project.run("--orm-reuse-db").assert_outcomes(passed=1)
        if project.vendor == "postgresql":
            assert project.test_database is not None
            assert _pg_databases(project, project.test_database) == ([project.test_database], 0)
        else:
            assert (project.pytester.path / ".orm_test.sqlite3").exists()
        project.write(test_reuse=REUSE_SECOND.format(expected=True))
        project.run("--orm-reuse-db").assert_outcomes(passed=1)
        # Without the option the database is made afresh (and dropped at the end).
        project.write(test_reuse=REUSE_SECOND.format(expected=False))
        project.run().assert_outcomes(passed=1)
        if project.vendor == "postgresql":
            assert project.test_database is not None
            assert _pg_databases(project, project.test_database) == ([], 0)
    finally:
        if project.vendor == "postgresql" and project.test_database:
            _drop_pg(project, project.test_database)


DEFAULT_FROM_ENV = """
import orm


def test_where(orm_db):
    assert orm.connection.vendor == "{vendor}"
"""


def test_orm_database_url_is_the_default_without_tool_orm(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    project_db = tmp_path / "app.sqlite3"
    monkeypatch.setenv("ORM_DATABASE_URL", f"sqlite:///{project_db}")
    pytester.makepyfile(test_env=DEFAULT_FROM_ENV.format(vendor="sqlite"))
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not project_db.exists()  # the tests ran on a test copy, not on the project's file


OVERRIDE = """
import pytest

import orm


@pytest.fixture(scope="session")
def orm_database_urls(tmp_path_factory):
    return {{
        "default": "sqlite:///:memory:",
        "other": "sqlite:///" + str(tmp_path_factory.mktemp("x") / "other.sqlite3"),
    }}


@pytest.mark.orm_db(databases=["default", "other"])
def test_both(orm_db):
    from shop.models import Item

    Item.objects.using("other").create(name="o")
    assert Item.objects.using("other").count() == 1
    assert Item.objects.count() == 0


def test_other_rolled_back(orm_db):
    from shop.models import Item

    assert Item.objects.using("other").count() == 0
"""


def test_orm_database_urls_fixture_chooses_the_databases(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORM_DATABASE_URL", raising=False)
    project = make_project(pytester, "sqlite")
    project.write(test_override=OVERRIDE.format())
    project.run().assert_outcomes(passed=2)


FORBIDDEN = """
import pytest

import orm
from orm.exceptions import DatabaseOperationForbidden


@pytest.fixture(scope="session")
def orm_database_urls(tmp_path_factory):
    return {{
        "default": "sqlite:///:memory:",
        "other": "sqlite:///" + str(tmp_path_factory.mktemp("x") / "other.sqlite3"),
    }}


MESSAGE = (
    "Database queries to 'other' are not allowed in this test. Add 'other' to "
    "@pytest.mark.orm_db(databases=[...]) of test_forbidden.py::{{name}} to ensure proper "
    "test isolation and silence this failure."
)


@pytest.mark.orm_db(databases=["default"])
def test_sync_query_on_an_unlisted_alias():
    from shop.models import Item

    Item.objects.create(name="d")
    str(Item.objects.using("other").filter(name="x").query)  # compiling needs no query
    with pytest.raises(DatabaseOperationForbidden) as info:
        Item.objects.using("other").create(name="o")
    assert str(info.value) == MESSAGE.format(name="test_sync_query_on_an_unlisted_alias")
    with pytest.raises(DatabaseOperationForbidden):
        with orm.transaction.atomic(using="other"):
            pass


@pytest.mark.orm_db(databases=["default"])
async def test_async_query_on_an_unlisted_alias():
    from shop.models import Item

    await Item.objects.acreate(name="d")
    with pytest.raises(DatabaseOperationForbidden, match="Database queries to 'other'"):
        await Item.objects.using("other").acount()


@pytest.mark.orm_db(transaction=True, databases=["default"])
def test_transactional_db_refuses_it_too():
    from shop.models import Item

    with pytest.raises(DatabaseOperationForbidden, match="Add 'other' to"):
        Item.objects.using("other").exists()


def test_not_listed_means_every_alias(orm_db):
    from shop.models import Item

    Item.objects.using("other").create(name="o")
    assert Item.objects.using("other").count() == 1
    assert Item.objects.count() == 0  # the writes of the tests above were rolled back
"""


def test_an_alias_missing_from_databases_is_refused(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORM_DATABASE_URL", raising=False)
    project = make_project(pytester, "sqlite")
    project.write(test_forbidden=FORBIDDEN.format())
    project.run().assert_outcomes(passed=4)


MIGRATION = """
import orm
from orm import migrations


def seed(apps, schema_editor):
    Shelf = apps.get_model("shop", "Shelf")
    Shelf.objects.create(label="from the migration")


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel("Shelf", [
            ("id", orm.BigAutoField(auto_created=True, primary_key=True, verbose_name="ID")),
            ("label", orm.CharField(max_length=50)),
        ]),
        migrations.CreateModel("Item", [
            ("id", orm.BigAutoField(auto_created=True, primary_key=True, verbose_name="ID")),
            ("name", orm.CharField(max_length=50)),
            ("shelf", orm.ForeignKey("shop.shelf", on_delete=orm.CASCADE, null=True)),
        ]),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
"""

SEEDED = """
from shop.models import Shelf


def test_the_schema_comes_from_the_migrations(orm_db):
    # create_tables would give an empty table; the migration's RunPython seeded one row.
    assert list(Shelf.objects.values_list("label", flat=True)) == ["from the migration"]
"""


def test_apps_with_migrations_get_their_schema_by_migrating(project: Project) -> None:
    migrations_dir = project.pytester.mkpydir("shop/migrations")
    (migrations_dir / "0001_initial.py").write_text(MIGRATION)
    project.write(test_seeded=SEEDED)
    result = project.run()
    result.assert_outcomes(passed=1)


NAIVE = """
from orm.utils import timezone


def test_the_project_use_tz_applies(orm_db):
    assert timezone.use_tz() is False
"""


def test_tool_orm_use_tz_applies_to_the_test_databases(project: Project) -> None:
    pyproject = project.pytester.path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "\nuse_tz = false\n"
    )  # [tool.orm] is the last table
    project.write(test_naive=NAIVE)
    project.run().assert_outcomes(passed=1)
