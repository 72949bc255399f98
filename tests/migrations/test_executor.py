"""The executor and ``orm.migrate()`` / ``orm.amigrate()`` (issue 14), on both backends.

Forwards, backwards and ``zero`` with rows kept, ``fake``, ``fake_initial``
after ``create_tables``, a failing migration (atomic: rolled back; not
atomic: the message lists what ran), squashed migrations, and two migrate
runs started at once in two threads.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

import orm
from orm.migrations.executor import MigrationExecutor, MigrationFailedError
from orm.migrations.loader import AmbiguityError, ConflictingMigrationsError, MigrationNotFoundError
from orm.migrations.recorder import MigrationRecorder
from tests.migrations.project import (  # noqa: F401
    SHOP_INITIAL,
    SHOP_MODELS,
    Project,
    create_model,
    migration,
    project_fixture,
)

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

MODELS, INITIAL = SHOP_MODELS, SHOP_INITIAL
# The schema editor of this branch creates and drops tables and indexes; the
# second migration adds a table, an index and a data migration.
AUTHOR = migration(
    create_model("Author", "('name', orm.CharField(max_length=100)),")
    + "migrations.AddIndex('book', orm.Index(fields=['title'], name='shop_book_title')),\n"
    "migrations.RunPython(backfill, migrations.RunPython.noop),",
    "('shop', '0001_initial')",
    prelude="""
    def backfill(apps, schema_editor):
        Author = apps.get_model("shop", "Author")
        for book in apps.get_model("shop", "Book").objects.order_by("id"):
            Author.objects.create(name=f"author of {book.title}")
    """,
)
BROKEN = (
    create_model("Author", "('name', orm.CharField(max_length=100)),")
    + "migrations.RunSQL('INSERT INTO no_such_table VALUES (1)'),"
)


def shop(project: Project, **extra: str) -> None:
    project.app("shop", MODELS, {"0001_initial": INITIAL, "0002_author": AUTHOR, **extra})
    project.settings(["shop"])


def tables() -> set[str]:
    return set(orm.connection.introspection.table_names())


def columns(table: str) -> set[str]:
    return {c.name for c in orm.connection.introspection.get_table_description(table)}


def applied() -> list[tuple[str, str]]:
    return sorted(MigrationRecorder(orm.connection).applied_migrations())


def rows(sql: str) -> list[Any]:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, [])
        return list(cursor.fetchall())


def test_forwards_backwards_zero_forwards_keeps_rows(project: Project) -> None:
    shop(project)
    assert orm.migrate() == ["shop.0001_initial", "shop.0002_author"]
    assert {"shop_book", "shop_author", "orm_migrations"} <= tables()
    assert "shop_book_title" in orm.connection.introspection.get_constraints("shop_book")
    assert applied() == [("shop", "0001_initial"), ("shop", "0002_author")]
    with orm.connection.cursor() as cursor:
        cursor.execute("INSERT INTO shop_book (title) VALUES (%s), (%s)", ["Dune", "Emma"])
    assert orm.migrate("shop", "0001") == ["shop.0002_author"]
    assert "shop_author" not in tables()
    assert "shop_book_title" not in orm.connection.introspection.get_constraints("shop_book")
    assert rows("SELECT title FROM shop_book ORDER BY id") == [("Dune",), ("Emma",)]
    assert applied() == [("shop", "0001_initial")]
    assert orm.migrate() == ["shop.0002_author"]
    # The data migration ran on the way forwards, over the rows that were kept.
    assert rows("SELECT name FROM shop_author ORDER BY id") == [("author of Dune",), ("author of Emma",)]
    assert orm.migrate() == []
    assert orm.migrate("shop", "zero") == ["shop.0002_author", "shop.0001_initial"]
    assert not {"shop_book", "shop_author"} & tables() and applied() == []
    assert orm.migrate("shop") == ["shop.0001_initial", "shop.0002_author"]
    assert {"shop_book", "shop_author"} <= tables()


async def test_amigrate_runs_on_the_sync_thread(project: Project) -> None:
    shop(project)
    assert await orm.amigrate() == ["shop.0001_initial", "shop.0002_author"]
    assert await orm.amigrate("shop", "zero") == ["shop.0002_author", "shop.0001_initial"]


async def test_amigrate_in_an_asgi_lifespan_startup(project: Project) -> None:
    from orm.asgi import ConnectionScopeMiddleware

    shop(project)
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                events.extend(await orm.amigrate())
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await ConnectionScopeMiddleware(app)({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["shop.0001_initial", "shop.0002_author"]
    assert await orm.sync_to_async(applied)() == [("shop", "0001_initial"), ("shop", "0002_author")]


def test_fake_records_without_running(project: Project, caplog: pytest.LogCaptureFixture) -> None:
    shop(project)
    with caplog.at_level(logging.INFO, logger="orm.migrations"):
        orm.migrate(fake=True)
    assert caplog.messages == ["Applied shop.0001_initial (fake)", "Applied shop.0002_author (fake)"]
    assert applied() == [("shop", "0001_initial"), ("shop", "0002_author")]
    assert "shop_book" not in tables()
    orm.migrate("shop", "zero", fake=True)
    assert applied() == []


def test_fake_initial_takes_over_create_tables(project: Project) -> None:
    shop(project)
    from shop.models import Book  # type: ignore[import-not-found]

    orm.create_tables(Book)
    Book.objects.create(title="Kept")
    with pytest.raises(MigrationFailedError, match="Applying shop.0001_initial failed"):
        orm.migrate()  # without fake_initial the table is in the way
    assert applied() == []
    assert orm.migrate(fake_initial=True) == ["shop.0001_initial", "shop.0002_author"]
    assert applied() == [("shop", "0001_initial"), ("shop", "0002_author")]
    # 0001 was only recorded; 0002 (not initial) really ran, backfill included.
    assert rows("SELECT name FROM shop_author") == [("author of Kept",)]


def test_fake_initial_needs_every_table(project: Project) -> None:
    initial = migration(
        create_model("Book", "('title', orm.CharField(max_length=100)),")
        + create_model("Author", "('name', orm.CharField(max_length=100)),")
    )
    project.app("shop", MODELS, {"0001_initial": initial})
    project.settings(["shop"])
    from shop.models import Book

    orm.create_tables(Book)
    with pytest.raises(MigrationFailedError):
        orm.migrate(fake_initial=True)  # shop_author is missing: not soft-applied
    assert applied() == []


def test_failing_atomic_migration_is_rolled_back(project: Project) -> None:
    broken = migration(BROKEN, "('shop', '0001_initial')")
    project.app("shop", MODELS, {"0001_initial": INITIAL, "0002_broken": broken})
    project.settings(["shop"])
    with pytest.raises(MigrationFailedError) as info:
        orm.migrate()
    message = str(info.value)
    assert "Applying shop.0002_broken failed at operation 2 of 2 (Raw SQL operation)" in message
    assert "rolled back: the database is as it was before" in message
    assert info.value.ran == [info.value.migration.operations[0]]
    assert isinstance(info.value.__cause__, orm.DatabaseError)
    assert "shop_author" not in tables()
    assert applied() == [("shop", "0001_initial")]


def test_failing_non_atomic_migration_says_what_ran(project: Project) -> None:
    broken = migration(BROKEN, "('shop', '0001_initial')", extra="atomic = False\n")
    project.app("shop", MODELS, {"0001_initial": INITIAL, "0002_broken": broken})
    project.settings(["shop"])
    with pytest.raises(MigrationFailedError) as info:
        orm.migrate()
    message = str(info.value)
    assert "atomic = False, so what ran stays: operations completed: 1. Create model Author." in message
    assert "not recorded as applied" in message
    assert "shop_author" in tables()
    assert applied() == [("shop", "0001_initial")]


def test_two_leaves_refused_and_nothing_changed(project: Project) -> None:
    shop(project, **{"0002_other": migration(dependencies="('shop', '0001_initial')")})
    with pytest.raises(ConflictingMigrationsError, match="0002_author.py and shop/migrations/0002_other.py"):
        orm.migrate()
    assert "orm_migrations" not in tables() and "shop_book" not in tables()


def test_unknown_and_ambiguous_targets_change_nothing(project: Project) -> None:
    shop(project, **{"0002_authors_more": migration(dependencies="('shop', '0002_author')")})
    with pytest.raises(AmbiguityError, match="0002_author, 0002_authors_more"):
        orm.migrate("shop", "0002")
    with pytest.raises(MigrationNotFoundError, match="no migration named '0009'"):
        orm.migrate("shop", "0009")
    with pytest.raises(LookupError, match="No app with label 'nope'; the apps are: shop"):
        orm.migrate("nope")
    with pytest.raises(ValueError, match="needs app_label"):
        orm.migrate(target="0001")
    assert "orm_migrations" not in tables() and "shop_book" not in tables()
    assert orm.migrate("shop", "0002_author") == ["shop.0001_initial", "shop.0002_author"]


def test_squashed_migration_records_what_it_replaces(project: Project) -> None:
    squashed = migration(
        create_model("Book", "('title', orm.CharField(max_length=100)),")
        + create_model("Author", "('name', orm.CharField(max_length=100)),"),
        extra="replaces = ['0001_initial', '0002_author']\n",
    )
    shop(project, **{"0001_squashed_0002": squashed})
    assert orm.migrate() == ["shop.0001_squashed_0002"]
    assert applied() == [("shop", "0001_initial"), ("shop", "0001_squashed_0002"), ("shop", "0002_author")]
    assert orm.migrate("shop", "zero") == ["shop.0001_squashed_0002"]
    assert applied() == [("shop", "0001_squashed_0002")] or applied() == []


def test_plan_and_state(project: Project) -> None:
    shop(project)
    executor = MigrationExecutor(orm.connection)
    plan = executor.migration_plan(executor.leaf_targets())
    assert [(str(m), back) for m, back in plan] == [("shop.0001_initial", False), ("shop.0002_author", False)]
    state = executor.migrate()
    assert set(state.get_model_state("shop", "author").fields) == {"id", "name"}
    executor.loader.build_graph()  # the loader read what was applied before migrate
    assert executor.migration_plan(executor.leaf_targets()) == []


@pytest.mark.timeout(60)
def test_two_migrate_runs_at_once_apply_each_migration_once(project: Project) -> None:
    counted = migration(
        create_model("Book", "('title', orm.CharField(max_length=100)),")
        + "migrations.RunPython(count),",
        prelude="""
        import time

        def count(apps, schema_editor):
            Book = apps.get_model("shop", "Book")
            Book.objects.create(title="applied once")
            time.sleep(0.3)  # long enough for the other run to arrive and wait
        """,
    )
    more = migration(
        "migrations.RunPython(count),", "('shop', '0001_initial')",
        prelude="""
        def count(apps, schema_editor):
            apps.get_model("shop", "Book").objects.create(title="second")
        """,
    )
    project.app("shop", MODELS, {"0001_initial": counted, "0002_more": more})
    project.settings(["shop"])
    start = threading.Barrier(2)
    results: list[Any] = []

    def run() -> None:
        try:
            start.wait()
            results.append(orm.migrate())
        except BaseException as error:  # reported below, in the test's thread
            results.append(error)
        finally:
            orm.connections.close_current()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(name for result in results for name in result) == ["shop.0001_initial", "shop.0002_more"]
    assert sorted(rows("SELECT title FROM shop_book")) == [("applied once",), ("second",)]
    assert applied() == [("shop", "0001_initial"), ("shop", "0002_more")]


@pytest.mark.timeout(60)
def test_migrate_waits_for_the_lock_before_making_its_table(project: Project, backend: str) -> None:
    """A run that finds no ``orm_migrations`` yet waits while another holds the write lock.

    Two ``migrate`` processes started at once: the first makes the table and
    holds SQLite's lock through a long first migration; the second, which had
    seen no table, must wait for the lock past its busy timeout (then find the
    table made), not fail with "database is locked". Here a raw connection
    plays the first run.
    """
    if backend != "sqlite":
        pytest.skip("SQLite's busy timeout; PostgreSQL waits on its advisory lock")
    import sqlite3

    project.app("shop", MODELS, {"0001_initial": migration(create_model("Book", "('title', orm.CharField(max_length=100)),"))})
    project.settings(["shop"])
    orm.configure(project.url + "?timeout=0.2")  # a busy timeout far shorter than the hold
    path = orm.connections.settings["default"].name
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode = wal")  # as the first run's connection left it
    holder.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(2.0, lambda: holder.execute("COMMIT"))
    releaser.start()
    try:
        assert orm.migrate() == ["shop.0001_initial"]
    finally:
        releaser.join()
        holder.close()
    assert applied() == [("shop", "0001_initial")]
