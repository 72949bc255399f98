"""Configuration: URLs, ``databases={...}``, ``ORM_DATABASE_URL``, connections and raw cursors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import orm
from tests.models import Author

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the tests configure orm and compare real connections.
pytestmark = pytest.mark.transactional

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def reconfigure() -> Iterator[None]:
    """For tests that call ``orm.configure`` themselves: close everything afterwards."""
    try:
        yield
    finally:
        orm.connections.close_all()


def run_python(code: str, env_url: str | None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (orm never configured) with/without ORM_DATABASE_URL."""
    env = {k: v for k, v in os.environ.items() if k != "ORM_DATABASE_URL"}
    if env_url is not None:
        env["ORM_DATABASE_URL"] = env_url
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=30,
    )


# ------------------------------------------------------------------ configure()


def test_configure_with_url_creates_a_working_sqlite_database(
    tmp_path: Path, reconfigure: None
) -> None:
    path = tmp_path / "app.sqlite3"
    orm.configure(f"sqlite:///{path}")
    orm.create_tables(Author)
    Author.objects.create(name="Ann", email="ann@example.com")
    assert path.exists()
    assert Author.objects.count() == 1
    assert orm.connection.vendor == "sqlite"
    assert orm.connection.alias == "default"


def test_configure_with_databases_dict_routes_using(tmp_path: Path, reconfigure: None) -> None:
    orm.configure(
        databases={
            "default": f"sqlite:///{tmp_path / 'default.sqlite3'}",
            "reports": f"sqlite:///{tmp_path / 'reports.sqlite3'}",
        }
    )
    orm.create_tables(Author)
    orm.create_tables(Author, using="reports")
    Author.objects.create(name="Default", email="d@example.com")
    Author.objects.using("reports").create(name="Report", email="r@example.com")
    Author.objects.using("reports").create(name="Report 2", email="r2@example.com")

    assert list(Author.objects.values_list("name", flat=True)) == ["Default"]
    assert list(Author.objects.using("reports").values_list("name", flat=True)) == [
        "Report",
        "Report 2",
    ]
    # An instance remembers the database it came from.
    report = Author.objects.using("reports").get(name="Report")
    report.name = "Renamed"
    report.save()
    assert Author.objects.using("reports").filter(name="Renamed").exists()
    assert not Author.objects.filter(name="Renamed").exists()
    assert orm.connections["reports"].alias == "reports"
    assert orm.connections["reports"] is not orm.connections["default"]


def test_configure_memory_database(reconfigure: None) -> None:
    orm.configure("sqlite:///:memory:")
    orm.create_tables(Author)
    Author.objects.create(name="Mem", email="mem@example.com")
    assert Author.objects.get().name == "Mem"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"url": "mysql://user@host/db"}, "Unsupported database scheme"),
        ({"url": "not a url"}, "not a URL"),
        ({"url": "sqlite://relative.db"}, "three slashes"),
        ({"url": "sqlite:///app.db?bogus=1"}, "bogus"),
        ({"url": "postgresql://user@host:5432/"}, "names no database"),
        ({"databases": {"reports": "sqlite:///:memory:"}}, "'default'"),
        ({"databases": {}}, "configure() needs a URL"),
        ({"url": "sqlite:///:memory:", "databases": {"default": "sqlite:///:memory:"}}, "not both"),
    ],
)
def test_configure_refuses_bad_settings_with_a_clear_message(
    kwargs: dict[str, object], fragment: str, reconfigure: None
) -> None:
    url = kwargs.get("url")
    databases = kwargs.get("databases")
    with pytest.raises(orm.ImproperlyConfigured) as excinfo:
        orm.configure(url, databases=databases)  # type: ignore[arg-type]
    assert fragment in str(excinfo.value)


def test_failed_configure_keeps_the_previous_settings(db: str) -> None:
    Author.objects.create(name="Kept", email="kept@example.com")
    with pytest.raises(orm.ImproperlyConfigured):
        orm.configure("mysql://nope/db")
    assert Author.objects.get().name == "Kept"


def test_unknown_alias_raises_improperly_configured_listing_aliases(db: str) -> None:
    with pytest.raises(orm.ImproperlyConfigured) as excinfo:
        orm.connections["nope"]
    assert "'nope'" in str(excinfo.value)
    assert "default" in str(excinfo.value)
    with pytest.raises(orm.ImproperlyConfigured):
        Author.objects.using("nope").count()


def test_reconfigure_closes_open_connections(tmp_path: Path, reconfigure: None) -> None:
    orm.configure(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    orm.create_tables(Author)
    Author.objects.create(name="One", email="one@example.com")
    old_wrapper = orm.connections["default"]
    raw = old_wrapper.connection
    assert raw is not None

    orm.configure(f"sqlite:///{tmp_path / 'two.sqlite3'}")

    assert old_wrapper.connection is None
    with pytest.raises(sqlite3.ProgrammingError):
        raw.execute("SELECT 1")  # the driver connection really is closed
    new_wrapper = orm.connections["default"]
    assert new_wrapper is not old_wrapper
    # The new database is empty: the table only exists in the first one.
    with pytest.raises(orm.DatabaseError):
        Author.objects.count()
    orm.create_tables(Author)
    assert Author.objects.count() == 0


def test_reconfigure_closes_connections_of_other_threads(tmp_path: Path, reconfigure: None) -> None:
    orm.configure(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    orm.create_tables(Author)
    opened: list[object] = []

    def worker() -> None:
        Author.objects.count()
        opened.append(orm.connections["default"])

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    wrapper = opened[0]
    assert wrapper.connection is not None  # type: ignore[attr-defined]
    raw = wrapper.connection  # type: ignore[attr-defined]
    orm.configure(f"sqlite:///{tmp_path / 'two.sqlite3'}")
    assert wrapper.connection is None  # type: ignore[attr-defined]
    with pytest.raises(sqlite3.ProgrammingError):
        raw.execute("SELECT 1")


def test_connection_proxy_is_the_default_alias_of_this_thread(db: str) -> None:
    assert orm.connection == orm.connections["default"]
    assert orm.connection.alias == "default"
    assert orm.connection.vendor == db
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(orm.connections["default"]))
    thread.start()
    thread.join()
    assert other[0] is not orm.connections["default"]  # one wrapper per thread


def test_connection_used_from_another_thread_raises_database_error(db: str) -> None:
    wrapper = orm.connections["default"]
    wrapper.ensure_connection()
    errors: list[BaseException] = []

    def use_it() -> None:
        try:
            wrapper.cursor()
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    thread = threading.Thread(target=use_it, name="intruder")
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert isinstance(errors[0], orm.DatabaseError)
    message = str(errors[0])
    assert "intruder" in message
    assert threading.current_thread().name in message


# ------------------------------------------------------------ ORM_DATABASE_URL


def test_orm_database_url_is_used_when_not_configured(tmp_path: Path) -> None:
    path = tmp_path / "env.sqlite3"
    result = run_python(
        """
        import orm
        from tests.models import Author
        orm.create_tables(Author)
        Author.objects.create(name="Env", email="env@example.com")
        print(Author.objects.get().name, orm.connection.vendor)
        orm.connections.close_all()
        """,
        env_url=f"sqlite:///{path}",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Env", "sqlite"]
    assert path.exists()


def test_not_configured_raises_improperly_configured_on_first_access() -> None:
    result = run_python(
        """
        import orm
        from tests.models import Author
        qs = Author.objects.filter(name="x")  # lazy: no database access yet
        try:
            qs.count()
        except orm.ImproperlyConfigured as error:
            print("IMPROPERLY:", error)
        """,
        env_url=None,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("IMPROPERLY:")
    assert "orm.configure(" in result.stdout
    assert "ORM_DATABASE_URL" in result.stdout


# ---------------------------------------------------------------- raw cursors


def test_raw_cursor_uses_percent_s_placeholders(db: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT %s + %s, %s", [1, 2, "text"])
        assert tuple(cursor.fetchone()) == (3, "text")


def test_raw_cursor_literal_percent_without_params(db: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT '100%'")
        assert cursor.fetchone()[0] == "100%"
        cursor.execute("SELECT 'a %s b'")
        assert cursor.fetchone()[0] == "a %s b"


def test_raw_cursor_doubled_percent_with_params(db: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT '100%%', %s", ["x"])
        assert tuple(cursor.fetchone()) == ("100%", "x")


def test_raw_cursor_hostile_parameter_is_data(db: str) -> None:
    Author.objects.create(name="Safe", email="safe@example.com")
    hostile = "x'); DROP TABLE tests_author; --"
    table = Author._meta.db_table
    with orm.connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" (name, email, created) VALUES (%s, %s, %s)',
            [hostile, "h@example.com", "2024-01-01 00:00:00.000000"],
        )
        cursor.execute(f'SELECT name FROM "{table}" WHERE email = %s', ["h@example.com"])
        assert cursor.fetchone()[0] == hostile
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        assert cursor.fetchone()[0] == 2


def test_raw_cursor_fetchmany_fetchall_description_rowcount(db: str) -> None:
    for i in range(5):
        Author.objects.create(name=f"A{i}", email=f"a{i}@example.com")
    table = Author._meta.db_table
    with orm.connection.cursor() as cursor:
        cursor.execute(f'SELECT name, email FROM "{table}" ORDER BY name')
        assert [d[0] for d in cursor.description] == ["name", "email"]
        assert [tuple(r) for r in cursor.fetchmany(2)] == [
            ("A0", "a0@example.com"),
            ("A1", "a1@example.com"),
        ]
        assert len(cursor.fetchall()) == 3
        cursor.execute(f'UPDATE "{table}" SET name = %s WHERE name <> %s', ["B", "A0"])
        assert cursor.rowcount == 4


def test_raw_cursor_errors_are_orm_errors_with_driver_cause(db: str) -> None:
    with orm.connection.cursor() as cursor, pytest.raises(orm.DatabaseError) as excinfo:
        cursor.execute("SELECT * FROM no_such_table")
    assert isinstance(excinfo.value, orm.OperationalError | orm.ProgrammingError)
    assert excinfo.value.__cause__ is not None
    assert type(excinfo.value.__cause__).__module__.split(".")[0] in ("sqlite3", "psycopg")


def test_execute_wrappers_see_sql_and_params(db: str) -> None:
    seen: list[tuple[str, object, bool]] = []

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append((sql, params, many))
        return execute(sql, params, many, context)

    wrappers = orm.connections["default"].execute_wrappers
    wrappers.append(wrapper)
    try:
        Author.objects.filter(name="Zed").count()
    finally:
        wrappers.remove(wrapper)
    assert len(seen) == 1
    sql, params, many = seen[0]
    assert "COUNT" in sql.upper()
    assert "Zed" in list(params)  # type: ignore[arg-type]
    assert "Zed" not in sql  # values travel as parameters
    assert many is False
    Author.objects.count()
    assert len(seen) == 1  # uninstalled
