"""The lock-aware plan (issue 21): statement costs, checked against ``pg_locks`` from a second session.

The compile-only tests read the classifier's answer for each statement
kind; the PostgreSQL tests run each statement in an open transaction (or,
for ``CONCURRENTLY``, while another transaction makes it wait) and compare
the locks ``pg_locks`` shows for that backend with the classifier's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import orm
from orm.cli import main
from orm.migrations.locks import (
    LOCK_MODES,
    Estimates,
    OperationCost,
    StatementCost,
    binary_compatible,
    classify_postgresql,
    classify_sqlite,
    costs_by_operation,
    describe_cost,
    refine,
)
from tests.conftest import admin_connect, libpq_url, postgres_unavailable, postgres_url
from tests.migrations.project import Project, create_model, migration, project_fixture  # noqa: F401

AE, SUE, SRE = "ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE ROW EXCLUSIVE"

# (statement, locks, rewrites, scans); "child_note" is an index of "child".
CASES: list[tuple[str, dict[str, str], tuple[str, ...], tuple[str, ...]]] = [
    ('ALTER TABLE "child" ADD COLUMN "x" integer NULL', {"child": AE}, (), ()),
    ('ALTER TABLE "child" ADD COLUMN "x" integer DEFAULT 0 NOT NULL', {"child": AE}, (), ()),
    ('ALTER TABLE "child" ADD COLUMN "x" double precision DEFAULT random() NOT NULL', {"child": AE}, ("child",), ()),
    ('ALTER TABLE "child" DROP COLUMN "note" CASCADE', {"child": AE}, (), ()),
    ('ALTER TABLE "child" ALTER COLUMN "n" TYPE bigint USING "n"::bigint', {"child": AE}, ("child",), ()),
    ('ALTER TABLE "child" ALTER COLUMN "n" SET NOT NULL', {"child": AE}, (), ("child",)),
    ('ALTER TABLE "child" ALTER COLUMN "n" DROP NOT NULL', {"child": AE}, (), ()),
    ('ALTER TABLE "child" ALTER COLUMN "n" SET DEFAULT 1', {"child": AE}, (), ()),
    ('ALTER TABLE "child" ADD CONSTRAINT "c_n" CHECK ("n" > 0)', {"child": AE}, (), ("child",)),
    ('ALTER TABLE "child" ADD CONSTRAINT "c_n" CHECK ("n" > 0) NOT VALID', {"child": AE}, (), ()),
    ('ALTER TABLE "child" VALIDATE CONSTRAINT "child_n_check"', {"child": SUE}, (), ("child",)),
    ('ALTER TABLE "child" ADD CONSTRAINT "c_u" UNIQUE ("note")', {"child": AE}, (), ("child",)),
    ('ALTER TABLE "child" ADD CONSTRAINT "c_fk" FOREIGN KEY ("parent_id") REFERENCES "parent" ("id")',
     {"child": SRE, "parent": SRE}, (), ("child",)),
    ('ALTER TABLE "child" ADD CONSTRAINT "c_fk" FOREIGN KEY ("parent_id") REFERENCES "parent" ("id") NOT VALID',
     {"child": SRE, "parent": SRE}, (), ()),
    ('ALTER TABLE "child" DROP CONSTRAINT "child_n_check"', {"child": AE}, (), ()),
    ('ALTER TABLE "child" RENAME COLUMN "note" TO "memo"', {"child": AE}, (), ()),
    ('ALTER TABLE "child" RENAME TO "kid"', {"child": AE}, (), ()),
    ('CREATE INDEX "c_x" ON "child" ("n")', {"child": "SHARE"}, (), ("child",)),
    ('CREATE UNIQUE INDEX "c_x" ON "child" ("id", "n")', {"child": "SHARE"}, (), ("child",)),
    ('DROP TABLE "child" CASCADE', {"child": AE}, (), ()),
    ('UPDATE "child" SET "n" = 1', {"child": "ROW EXCLUSIVE"}, (), ("child",)),
    ('UPDATE "child" SET "n" = 1 WHERE "id" = 1', {"child": "ROW EXCLUSIVE"}, (), ()),
    ('TRUNCATE "child"', {"child": AE}, (), ()),
    ('COMMENT ON TABLE "child" IS \'kids\'', {"child": SUE}, (), ()),
]
# Statements naming an index: the lock falls on the index's table.
INDEX_CASES = [
    ('DROP INDEX "child_note"', {"child_note": AE}),
    ('DROP INDEX IF EXISTS "child_note"', {"child_note": AE}),
]
# Renaming an index locks the index alone, not its table.
RENAME_INDEX = 'ALTER INDEX "child_note" RENAME TO "child_memo"'
CONCURRENT_CASES = [
    ('CREATE INDEX CONCURRENTLY "c_x" ON "child" ("n")', "child", SUE),
    ('DROP INDEX CONCURRENTLY "child_note"', "child", SUE),
]


@pytest.mark.parametrize(("sql", "locks", "rewrites", "scans"), CASES)
def test_classify_postgresql(sql: str, locks: dict[str, str], rewrites: tuple[str, ...], scans: tuple[str, ...]) -> None:
    cost = classify_postgresql(sql)
    assert (cost.locks, cost.rewrites, cost.scans) == (locks, rewrites, scans)


@pytest.mark.parametrize(("sql", "index_locks"), INDEX_CASES)
def test_classify_postgresql_index_statements(sql: str, index_locks: dict[str, str]) -> None:
    assert classify_postgresql(sql).index_locks == index_locks
    assert classify_postgresql(sql).locks == {}


def test_classify_rename_index_locks_the_index_only() -> None:
    assert classify_postgresql(RENAME_INDEX).locks == {"child_note": SUE}


def test_classify_postgresql_concurrently_and_unknown() -> None:
    assert classify_postgresql(CONCURRENT_CASES[0][0]).locks == {"child": SUE}
    assert classify_postgresql(CONCURRENT_CASES[1][0]).index_locks == {"child_note": SUE}
    unknown = classify_postgresql("SELECT pg_sleep(1)")
    assert not unknown.costly
    # Several actions: the strongest lock, every scan.
    both = classify_postgresql('ALTER TABLE "t" VALIDATE CONSTRAINT "a", ALTER COLUMN "b" SET NOT NULL')
    assert (both.locks, both.scans) == ({"t": AE}, ("t",))
    assert classify_postgresql('CREATE TABLE "new" ("p" bigint REFERENCES "old" ("id"))').locks == {"old": SRE}


def test_classify_sqlite_finds_rebuilds() -> None:
    assert classify_sqlite('CREATE TABLE "new__shop_book" ("id" integer)').rebuilds == ("shop_book",)
    created = classify_sqlite('CREATE TABLE "shop_book" ("id" integer)')
    assert (created.rebuilds, created.creates, created.costly) == ((), ("shop_book",), False)
    assert not classify_sqlite('ALTER TABLE "shop_book" ADD COLUMN "x" integer NULL').costly


def test_costs_group_by_operation_and_merge() -> None:
    collected = [
        "--", "-- Create model Author", "--", 'CREATE TABLE "author" ("id" bigint)',
        "--", "-- Add field author to book", "--", 'ALTER TABLE "book" ADD COLUMN "a" bigint NULL',
        'ALTER TABLE "book" ADD CONSTRAINT "fk" FOREIGN KEY ("a") REFERENCES "author" ("id")',
        "--", "-- Raw Python operation", "--", "-- THIS OPERATION CANNOT BE WRITTEN AS SQL",
    ]
    costs = costs_by_operation("postgresql", collected)
    assert [cost.description for cost in costs] == ["Create model Author", "Add field author to book",
                                                     "Raw Python operation"]
    merged = costs[1].merged()
    assert (merged.locks, merged.scans) == ({"book": AE, "author": SRE}, ("book",))
    # A table made by the same operation is new: its lock blocks nobody.
    together = OperationCost("x", costs[0].statements + costs[1].statements).merged()
    assert together.locks == {"book": AE}
    assert costs[2].statements == []


def test_describe_cost_text() -> None:
    cost = StatementCost("", locks={"book": AE, "author": SRE}, rewrites=("book",), scans=("book",))
    assert describe_cost("postgresql", cost, Estimates({"book": 1200, "author": None})) == (
        'ACCESS EXCLUSIVE on "book" (~1200 rows); SHARE ROW EXCLUSIVE on "author" '
        '(rows unknown: never analyzed); rewrites "book"; scans "book"'
    )
    dropped = StatementCost("", index_locks={"i": AE})
    assert describe_cost("postgresql", dropped, Estimates()) == 'ACCESS EXCLUSIVE on the table of index "i"'
    assert describe_cost("postgresql", dropped, Estimates({"t": 3}, {"i": "t"})) == 'ACCESS EXCLUSIVE on "t" (~3 rows)'
    assert describe_cost("sqlite", StatementCost("", rebuilds=("book",)), Estimates({"book": 12})) == (
        'rebuilds "book" (12 rows)'
    )
    assert describe_cost("sqlite", StatementCost(""), Estimates()) == ""


# ------------------------------------------------------------ against pg_locks

SCHEMA = "orm_locks_test"
SETUP = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
SET search_path = {SCHEMA};
CREATE TABLE parent (id bigint PRIMARY KEY);
CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint, note varchar(10), n integer);
CREATE INDEX child_note ON child (note);
ALTER TABLE child ADD CONSTRAINT child_n_check CHECK (n > 0) NOT VALID;
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (1, 1, 'a', 1);
"""
LOCK_NAMES = {mode.title().replace(" ", "") + "Lock": mode for mode in LOCK_MODES}


@pytest.fixture
def pg() -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """The admin connection with the test schema set up, and a libpq URL whose sessions use it."""
    url = postgres_url()
    if url is None:
        postgres_unavailable("ORM_TEST_POSTGRES_URL is not set")
    admin = admin_connect(url)
    try:
        admin.execute(SETUP.replace("\n", " "))
        yield admin, libpq_url(url)
    finally:
        admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        admin.close()


def session(url: str, autocommit: bool = False) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=autocommit, options=f"-c search_path={SCHEMA}")


def held_locks(admin: psycopg.Connection[Any], pid: int, kind: str = "r", schema: str = SCHEMA) -> dict[str, str]:
    """The strongest granted lock ``pid`` holds on each relation of ``kind`` (table, index) in the test schema."""
    rows = admin.execute(
        "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE l.pid = %s AND l.granted AND l.locktype = 'relation' AND c.relkind = %s AND n.nspname = %s",
        [pid, kind, schema],
    ).fetchall()
    strongest: dict[str, str] = {}
    for table, lock in rows:
        mode = LOCK_NAMES[lock]
        if table not in strongest or LOCK_MODES.index(mode) > LOCK_MODES.index(strongest[table]):
            strongest[table] = mode
    return strongest


def _expected(sql: str) -> dict[str, str]:
    cost = classify_postgresql(sql)
    locks = dict(cost.locks)
    for index, mode in cost.index_locks.items():
        assert index == "child_note"
        locks["child"] = mode
    return locks


@pytest.mark.postgres
@pytest.mark.parametrize("sql", [case[0] for case in CASES] + [case[0] for case in INDEX_CASES])
def test_lock_levels_match_pg_locks(pg: tuple[psycopg.Connection[Any], str], sql: str) -> None:
    admin, url = pg
    with session(url) as worker:
        worker.execute(sql)  # the transaction stays open: its locks are held until the rollback
        observed = held_locks(admin, worker.info.backend_pid)
        worker.rollback()
    assert observed == _expected(sql)


@pytest.mark.postgres
def test_rename_index_lock_matches_pg_locks(pg: tuple[psycopg.Connection[Any], str]) -> None:
    admin, url = pg
    with session(url) as worker:
        worker.execute(RENAME_INDEX)
        tables, indexes = held_locks(admin, worker.info.backend_pid), held_locks(admin, worker.info.backend_pid, "i")
        worker.rollback()
    assert (tables, indexes) == ({}, classify_postgresql(RENAME_INDEX).locks)


@pytest.mark.postgres
@pytest.mark.parametrize(("sql", "table", "mode"), CONCURRENT_CASES)
def test_concurrent_lock_levels_match_pg_locks(
    pg: tuple[psycopg.Connection[Any], str], sql: str, table: str, mode: str,
) -> None:
    admin, url = pg
    assert _expected(sql) == {table: mode}
    # An open writer makes the CONCURRENTLY statement wait, holding its lock, long enough to look.
    with session(url) as writer, session(url, autocommit=True) as worker:
        writer.execute("INSERT INTO child VALUES (2, 1, 'b', 2)")
        pid = worker.info.backend_pid
        errors: list[BaseException] = []

        def run() -> None:
            try:
                worker.execute(sql)
            except BaseException as error:  # reported by the test thread
                errors.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        observed: dict[str, str] = {}
        deadline = time.monotonic() + 10
        while not observed and time.monotonic() < deadline:
            observed = held_locks(admin, pid)
            time.sleep(0.02)
        writer.rollback()
        thread.join(20)
    assert not errors
    assert observed == {table: mode}


# ------------------------------------------------------- migrate --plan, sqlmigrate

BOOK = migration(create_model("Book", "('title', orm.CharField(max_length=100, null=True)),"))
TIGHTEN = migration(
    "migrations.AlterField('book', 'title', orm.CharField(max_length=100)),"
    "migrations.AddIndex('book', orm.Index(fields=['title'], name='book_title_idx')),",
    "('shop', '0001_initial')",
)


def test_plan_and_sqlmigrate_show_costs(project: Project, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    project.app("shop", "", {"0001_initial": BOOK, "0002_tighten": TIGHTEN})
    project.settings(["shop"])
    # Nothing applied yet: 0002 alters a table this plan creates, which blocks nobody.
    assert main(["migrate", "--plan"]) == 0
    assert capsys.readouterr().out == (
        "Planned operations:\nshop.0001_initial\n    Create model Book\nshop.0002_tighten\n"
        "    Alter field title on book\n"
        + ('        cost: rebuilds "shop_book"\n' if backend == "sqlite" else "")
        + "    Create index book_title_idx on field(s) title of model book\n"
    )
    assert main(["migrate", "shop", "0001"]) == 0
    with orm.connection.cursor() as cursor:
        cursor.execute("INSERT INTO shop_book (title) VALUES (%s), (%s)", ["a", "b"])
        if backend == "postgresql":
            cursor.execute("ANALYZE shop_book", [])  # so pg_class.reltuples has an estimate
    capsys.readouterr()
    assert main(["migrate", "--plan"]) == 0
    out = capsys.readouterr().out
    if backend == "postgresql":
        assert out == (
            "Planned operations:\nshop.0002_tighten\n    Alter field title on book\n"
            '        cost: ACCESS EXCLUSIVE on "shop_book" (~2 rows); scans "shop_book"\n'
            "    Create index book_title_idx on field(s) title of model book\n"
            '        cost: SHARE on "shop_book" (~2 rows); scans "shop_book"\n'
        )
    else:
        assert out == (
            "Planned operations:\nshop.0002_tighten\n    Alter field title on book\n"
            '        cost: rebuilds "shop_book" (2 rows)\n'
            "    Create index book_title_idx on field(s) title of model book\n"
        )
    assert main(["sqlmigrate", "shop", "0002"]) == 0
    out = capsys.readouterr().out
    if backend == "postgresql":
        assert '-- cost: ACCESS EXCLUSIVE on "shop_book" (~2 rows); scans "shop_book"\nALTER TABLE "shop_book"\n' in out
        assert '-- cost: SHARE on "shop_book" (~2 rows); scans "shop_book"\nCREATE INDEX "book_title_idx"' in out
    else:
        assert '-- cost: rebuilds "shop_book" (2 rows)\nCREATE TABLE "new__shop_book" (\n' in out
        assert out.count("-- cost:") == 1


@pytest.mark.parametrize(("old", "new", "compatible"), [
    ("character varying(100)", "varchar(200)", True),
    ("character varying(100)", "varchar(100)", True),
    ("character varying(100)", "varchar(50)", False),
    ("character varying(100)", "text", True),
    ("text", "varchar", True),
    ("text", "varchar(10)", False),
    ("numeric(10,2)", "numeric(12, 2)", True),
    ("numeric(10,2)", "numeric(12, 3)", False),
    ("numeric(10,2)", "numeric", True),
    ("integer", "bigint", False),
    ("integer", "integer", True),
])
def test_binary_compatible_types(old: str, new: str, compatible: bool) -> None:
    assert binary_compatible(old, new) is compatible


def test_type_changes_are_refined_with_the_current_types() -> None:
    cost = classify_postgresql('ALTER TABLE "t" ALTER COLUMN "a" TYPE varchar(200) USING "a"::varchar(200), '
                               'ALTER COLUMN "b" TYPE bigint USING "b"::bigint')
    assert cost.type_changes == (("t", "a", "varchar(200)"), ("t", "b", "bigint"))
    assert cost.rewrites == ("t",)
    # Without the current types nothing is known: the rewrite stays.
    assert refine(cost, Estimates()).rewrites == ("t",)
    widen = classify_postgresql('ALTER TABLE "t" ALTER COLUMN "a" TYPE varchar(200) USING "a"::varchar(200)')
    known = Estimates(column_types={("t", "a"): "character varying(100)", ("t", "b"): "integer"})
    assert refine(widen, known).rewrites == ()
    assert refine(cost, known).rewrites == ("t",)  # b still rewrites
    assert describe_cost("postgresql", widen, known) == 'ACCESS EXCLUSIVE on "t"'


WIDEN = migration("migrations.AlterField('book', 'title', orm.CharField(max_length=200, null=True)),",
                  "('shop', '0001_initial')")
BIGGER = migration("migrations.AlterField('book', 'pages', orm.BigIntegerField()),", "('shop', '0002_widen')")
PAGES = migration(create_model("Book", "('title', orm.CharField(max_length=100, null=True)), "
                                       "('pages', orm.IntegerField()),"))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # relfilenode is PostgreSQL's
def test_rewrites_match_what_postgresql_does(
    project: Project, backend: str, capsys: pytest.CaptureFixture[str],
) -> None:
    project.app("shop", "", {"0001_initial": PAGES, "0002_widen": WIDEN, "0003_bigger": BIGGER})
    project.settings(["shop"])
    assert main(["migrate", "shop", "0001"]) == 0
    capsys.readouterr()
    assert main(["migrate", "--plan"]) == 0
    out = capsys.readouterr().out
    assert "    Alter field title on book\n        cost: ACCESS EXCLUSIVE on \"shop_book\" (rows unknown" in out
    assert 'rewrites' not in out.split("Alter field title")[1].split("\n")[1]
    file = "SELECT relfilenode FROM pg_class WHERE oid = 'shop_book'::regclass"
    with orm.connection.cursor() as cursor:
        cursor.execute(file, [])
        before = cursor.fetchone()
    assert main(["migrate", "shop", "0002"]) == 0
    with orm.connection.cursor() as cursor:
        cursor.execute(file, [])
        assert cursor.fetchone() == before  # no rewrite, as the plan said
    capsys.readouterr()
    assert main(["migrate", "--plan"]) == 0
    assert 'rewrites "shop_book"' in capsys.readouterr().out  # integer -> bigint
    assert main(["migrate"]) == 0
    with orm.connection.cursor() as cursor:
        cursor.execute(file, [])
        assert cursor.fetchone() != before  # rewritten, as the plan said


TWO = migration(
    create_model("Author", "('name', orm.CharField(max_length=100)),")
    + create_model("Book", "('title', orm.CharField(max_length=100, null=True)), ('pages', orm.IntegerField()),")
)
EVERYTHING = migration(
    "migrations.AddField('book', 'isbn', orm.CharField(max_length=13, null=True)),"
    "migrations.AddField('book', 'stock', orm.IntegerField(default=0)),"
    "migrations.AlterField('book', 'title', orm.CharField(max_length=100)),"
    "migrations.AlterField('book', 'pages', orm.BigIntegerField()),"
    "migrations.AddField('book', 'author', orm.ForeignKey('shop.Author', orm.CASCADE, null=True)),"
    "migrations.AddIndex('book', orm.Index(fields=['isbn'], name='book_isbn_idx')),"
    "migrations.AddConstraint('book', orm.CheckConstraint(condition=orm.Q(pages__gt=0), name='pages_ok')),"
    "migrations.AddConstraint('book', orm.UniqueConstraint(fields=['isbn'], name='isbn_unique')),"
    "migrations.RenameIndex('book', 'book_isbn_index', 'book_isbn_idx'),"
    "migrations.RemoveIndex('book', 'book_isbn_index'),"
    "migrations.RenameField('book', 'stock', 'quantity'),"
    "migrations.RemoveField('book', 'quantity'),"
    "migrations.AlterModelTable('book', 'shop_volume'),",
    "('shop', '0001_initial')",
)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # pg_locks is PostgreSQL's
def test_the_sql_migrations_write_takes_the_locks_the_plan_says(project: Project, backend: str) -> None:
    """Each statement of a migration's collected SQL, run in a transaction of its own, against pg_locks."""
    project.app("shop", "", {"0001_initial": TWO, "0002_everything": EVERYTHING})
    project.settings(["shop"])
    assert main(["migrate", "shop", "0001"]) == 0
    with orm.connection.cursor() as cursor:
        cursor.execute("INSERT INTO shop_book (title, pages) VALUES ('a', 1)", [])
    from orm.migrations.loader import MigrationLoader

    loader = MigrationLoader(orm.connection, apps=["shop"])
    statements = [sql for sql in loader.collect_sql([(loader.get_migration("shop", "0002_everything"), False)])
                  if not sql.startswith("--")]
    url = postgres_url()
    assert url is not None and len(statements) > 12
    admin = admin_connect(url)
    checked = 0
    try:
        with psycopg.connect(libpq_url(url)) as worker:
            for sql in statements:
                cost = classify_postgresql(sql)
                expected = dict(cost.locks)
                for index, mode in cost.index_locks.items():
                    row = admin.execute("SELECT indrelid::regclass::text FROM pg_index "
                                        "WHERE indexrelid = to_regclass(%s)", [index]).fetchone()
                    expected[row[0]] = mode
                indexes = _relations(admin, "i")  # ALTER INDEX locks the index alone, not a table
                worker.execute(sql)
                observed = held_locks(admin, worker.info.backend_pid, schema="public")
                assert observed == {name: mode for name, mode in expected.items() if name not in indexes}, sql
                checked += bool(expected)
                worker.commit()  # the next statement starts from this one's result
    finally:
        admin.close()
    assert checked > 10


def _relations(admin: psycopg.Connection[Any], kind: str) -> set[str]:
    rows = admin.execute("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE n.nspname = 'public' AND c.relkind = %s", [kind]).fetchall()
    return {row[0] for row in rows}
