"""The default ``lock_timeout`` of migration DDL on PostgreSQL, its retries and its failure (issue 21).

A second session holds a lock on the table the migration alters; the
migration's ``ALTER TABLE`` gives up after ``lock_timeout`` instead of
queueing behind it, is tried again, and either gets through once the lock
is gone or fails leaving nothing applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import orm
from orm.cli import main
from orm.migrations.executor import MigrationExecutor
from orm.migrations.recorder import MigrationRecorder
from tests.conftest import libpq_url, postgres_url
from tests.migrations.project import Project, create_model, migration, project_fixture  # noqa: F401

INITIAL = migration(create_model("Book", "('title', orm.CharField(max_length=100)),"))
ISBN = migration("migrations.AddField('book', 'isbn', orm.CharField(max_length=13, null=True)),",
                 "('shop', '0001_initial')")
ONLY_POSTGRES = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def shop(project: Project) -> None:
    project.app("shop", "", {"0001_initial": INITIAL, "0002_isbn": ISBN})
    project.settings(["shop"])


def columns() -> set[str]:
    return {info.name for info in orm.connection.introspection.get_table_description("shop_book")}


@pytest.fixture
def holder() -> Iterator[psycopg.Connection[Any]]:
    """A session of its own whose open transaction will hold a lock on ``shop_book``."""
    url = postgres_url()
    assert url is not None
    with psycopg.connect(libpq_url(url)) as conn:
        yield conn
        conn.rollback()


@pytest.mark.postgres
@ONLY_POSTGRES
def test_retries_until_the_lock_is_free_and_sets_it_locally(
    project: Project, backend: str, holder: psycopg.Connection[Any],
) -> None:
    shop(project)
    assert main(["migrate", "shop", "0001"]) == 0
    holder.execute("SELECT * FROM shop_book")  # ACCESS SHARE until the rollback: ALTER TABLE must wait
    actions: list[str] = []

    def progress(action: str, migration: Any, fake: bool) -> None:
        actions.append(action)
        if action == "lock_retry":
            holder.rollback()  # the other transaction ends: the next try gets the lock

    executor = MigrationExecutor(orm.connection, progress, apps=["shop"], lock_timeout="100ms",
                                 lock_retries=3, retry_delay=0.01)
    executor.migrate()
    assert actions == ["apply_start", "lock_retry", "apply_success"]
    assert "isbn" in columns()
    with orm.connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout", [])
        assert cursor.fetchone() == ("0",)  # SET LOCAL: gone with the migration's transaction


@pytest.mark.postgres
@ONLY_POSTGRES
def test_gives_up_after_the_retries_leaving_nothing_applied(
    project: Project, backend: str, holder: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str],
) -> None:
    shop(project)
    assert main(["migrate", "shop", "0001"]) == 0
    holder.execute("SELECT * FROM shop_book")
    capsys.readouterr()
    assert main(["migrate", "--lock-timeout", "50ms", "--lock-retries", "1"]) == 1
    out, err = capsys.readouterr()
    assert "  Applying shop.0002_isbn... lock wait timed out, trying again... FAILED\n" in out
    assert "canceling statement due to lock timeout" in err
    assert "the database is as it was before, and shop.0002_isbn is not applied." in err
    assert "Every one of 2 tries waited longer than lock_timeout (50ms) for a table lock" in err
    assert "orm migrate --lock-timeout 30s" in err
    assert "isbn" not in columns()
    assert ("shop", "0002_isbn") not in MigrationRecorder(orm.connection).applied_migrations()


def test_bad_lock_settings_are_refused(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    shop(project)
    assert main(["migrate", "--lock-timeout", "5 seconds"]) == 1
    assert ("lock_timeout '5 seconds' is not a duration PostgreSQL understands: give milliseconds or a number "
            "with a unit, e.g. '500ms', '5s', '1min'") in capsys.readouterr().err
    with pytest.raises(ValueError, match="lock_retries must be an integer >= 0, not -1."):
        MigrationExecutor(orm.connection, lock_retries=-1)
    # "0" means no timeout, as in PostgreSQL; SQLite ignores it (its busy timeout applies).
    assert MigrationExecutor(orm.connection, lock_timeout="0").lock_timeout is None
    assert main(["migrate", "--lock-timeout", "0"]) == 0
