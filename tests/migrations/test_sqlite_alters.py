"""SQLite alters (issue 13): native ALTER TABLE where it can, the 12-step rebuild otherwise.

The rebuild keeps triggers, views, user-made indexes and the AUTOINCREMENT
counter, leaves foreign keys into the table enforced, and refuses (changing
nothing) when ``PRAGMA foreign_key_check`` finds orphans. Statement text is
checked with ``collect_sql`` (no database change); LIKE conditions of
partial indexes are written with ``substr``/``instr``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from tests.migrations.helpers import auto_id, replay

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "sq"


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[None]:
    orm.configure(f"sqlite:///{tmp_path / 'alters.sqlite3'}")
    try:
        yield
    finally:
        orm.connections.close_all()


def make_migration(operations: list[migrations.Operation]) -> migrations.Migration:
    return type("Migration", (migrations.Migration,), {"operations": operations})("0002", APP)


def initial() -> list[migrations.Operation]:
    return [
        migrations.CreateModel("Author", [auto_id(), ("name", orm.CharField(max_length=50)),
                                          ("age", orm.IntegerField(null=True))]),
        migrations.CreateModel("Book", [auto_id(), ("title", orm.CharField(max_length=50)), (
            "author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE, db_constraint=False))]),
    ]


def setup_state() -> ProjectState:
    state = replay(APP, initial())
    author = state.apps.get_model(APP, "Author")
    orm.create_tables(author, state.apps.get_model(APP, "Book"))
    for name in ("Ann", "Bob", "Cy"):
        author.objects.create(name=name, age=len(name))
    return state


def sql(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with orm.connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [tuple(row) for row in cursor.fetchall()]


def collected(state: ProjectState, operation: migrations.Operation) -> list[str]:
    with orm.connection.schema_editor(collect_sql=True) as editor:
        make_migration([operation]).apply(state.clone(), editor)
    return editor.collected_sql


def test_native_alter_table_statements(sqlite_db: None) -> None:
    state = setup_state()
    assert collected(state, migrations.AddField("Author", "bio", orm.TextField(null=True))) == [
        'ALTER TABLE "sq_author" ADD COLUMN "bio" text NULL;']
    assert collected(state, migrations.RenameField("Author", "age", "years")) == [
        'ALTER TABLE "sq_author" RENAME COLUMN "age" TO "years";']
    assert collected(state, migrations.RemoveField("Author", "age")) == [
        'ALTER TABLE "sq_author" DROP COLUMN "age";']
    assert collected(state, migrations.AlterField("Author", "age", orm.IntegerField(null=True, db_index=True))) == [
        'CREATE INDEX "sq_author_age_a18ab39b_idx" ON "sq_author" ("age");']
    assert collected(state, migrations.AlterModelTable("Author", "people")) == [
        'ALTER TABLE "sq_author" RENAME TO "people";']


def test_rebuild_statements(sqlite_db: None) -> None:
    state = setup_state()
    assert collected(state, migrations.AddField("Author", "rank", orm.IntegerField(default=5))) == [
        'CREATE TABLE "new__sq_author" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
        '"name" varchar(50) NOT NULL, "age" integer NULL, "rank" integer NOT NULL);',
        'INSERT INTO "new__sq_author" ("id", "name", "age", "rank") SELECT "id", "name", "age", 5 FROM "sq_author";',
        'DROP TABLE "sq_author";',
        'ALTER TABLE "new__sq_author" RENAME TO "sq_author";',
    ]
    assert collected(state, migrations.AlterField("Author", "age", orm.IntegerField(default=0)))[1] == (
        'INSERT INTO "new__sq_author" ("id", "name", "age") SELECT "id", "name", coalesce("age", 0) FROM "sq_author";')


def test_rebuild_keeps_triggers_views_indexes_and_the_id_counter(sqlite_db: None) -> None:
    state = setup_state()
    sql('CREATE TABLE sq_log (msg text)')
    sql('CREATE TRIGGER sq_author_ins AFTER INSERT ON sq_author BEGIN INSERT INTO sq_log VALUES (new.name); END')
    sql("CREATE VIEW sq_names AS SELECT name FROM sq_author WHERE name <> 'Ann'")
    sql('CREATE INDEX sq_by_hand ON sq_author (name, age)')
    sql('DELETE FROM sq_author WHERE name = %s', ["Cy"])  # id 3 must not come back
    migration = make_migration([migrations.AlterField("Author", "name", orm.TextField())])
    with orm.connection.schema_editor() as editor:
        after = migration.apply(state.clone(), editor)
    assert orm.connection.introspection.get_table_description("sq_author")[1].data_type.lower() == "text"
    assert sql("SELECT name FROM sq_names ORDER BY name") == [("Bob",)]
    assert "sq_by_hand" in orm.connection.introspection.get_constraints("sq_author")
    created = after.apps.get_model(APP, "Author").objects.create(name="Dee")
    assert created.pk == 4
    assert sql("SELECT msg FROM sq_log") == [("Dee",)]
    assert sql("PRAGMA foreign_keys") == [(1,)]  # switched back on after the editor


def test_foreign_keys_into_a_rebuilt_table_are_enforced(sqlite_db: None) -> None:
    state = replay(APP, initial()[:1] + [migrations.CreateModel("Book", [auto_id(), (
        "author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE))])])
    orm.create_tables(state.apps.get_model(APP, "Author"), state.apps.get_model(APP, "Book"))
    ann = state.apps.get_model(APP, "Author").objects.create(name="Ann")
    state.apps.get_model(APP, "Book").objects.create(author=ann)
    with orm.connection.schema_editor() as editor:
        make_migration([migrations.AlterField("Author", "name", orm.CharField(max_length=90, unique=True))]).apply(
            state.clone(), editor)
    with pytest.raises(orm.IntegrityError):
        sql("INSERT INTO sq_book (author_id) VALUES (99)")
    with pytest.raises(orm.IntegrityError):
        sql("DELETE FROM sq_author")  # CASCADE is Python-side; the database refuses the orphan


def test_rebuild_finding_orphans_is_refused_and_changes_nothing(sqlite_db: None) -> None:
    state = setup_state()
    sql("INSERT INTO sq_book (title, author_id) VALUES ('orphan', 99)")
    migration = make_migration([migrations.AlterField(
        "Book", "author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE))])
    with pytest.raises(orm.IntegrityError, match=r"foreign key points at no row.*sq_book"):
        with orm.connection.schema_editor() as editor:
            migration.apply(state.clone(), editor)
    assert orm.connection.introspection.get_relations("sq_book") == {}
    assert sql("SELECT title, author_id FROM sq_book") == [("orphan", 99)]
    assert sql("PRAGMA foreign_keys") == [(1,)]


def test_removing_a_column_a_view_reads_is_refused(sqlite_db: None) -> None:
    state = setup_state()
    sql("CREATE VIEW sq_ages AS SELECT age FROM sq_author")
    with pytest.raises(orm.OperationalError, match="age"):
        with orm.connection.schema_editor() as editor:
            make_migration([migrations.RemoveField("Author", "age")]).apply(state.clone(), editor)
    assert sql("SELECT count(*) FROM sq_ages") == [(3,)]


@pytest.mark.parametrize(("lookup", "value", "sql_text"), [
    ("startswith", "B%", """substr("name", 1, 2) = 'B%'"""),
    ("endswith", "b_", """(length("name") >= 2 AND substr("name", -2) = 'b_')"""),
    ("contains", "o'", """instr("name", 'o''') > 0"""),
    ("istartswith", "b", """substr(UPPER("name"), 1, 1) = UPPER('b')"""),
])
def test_like_conditions_of_partial_indexes_are_written_deterministically(
        sqlite_db: None, lookup: str, value: str, sql_text: str) -> None:
    state = setup_state()
    constraint = orm.UniqueConstraint(fields=["age"], name="sq_age_uniq", condition=orm.Q(**{f"name__{lookup}": value}))
    operation = migrations.AddConstraint("Author", constraint)
    assert collected(state, operation) == [
        f'CREATE UNIQUE INDEX "sq_age_uniq" ON "sq_author" ("age") WHERE {sql_text};']
    with orm.connection.schema_editor() as editor:
        make_migration([operation]).apply(state.clone(), editor)
    author = state.apps.get_model(APP, "Author")
    matching = {"startswith": "B%x", "endswith": "xb_", "contains": "Do'", "istartswith": "bee"}[lookup]
    author.objects.create(name=matching, age=40)
    author.objects.create(name="zzz", age=40)  # outside the condition: no conflict
    with pytest.raises(orm.IntegrityError):
        author.objects.create(name=matching, age=40)


def test_integer_key_becoming_auto_field_is_rebuilt_with_autoincrement(sqlite_db: None) -> None:
    state = replay(APP, [migrations.CreateModel("Code", [("id", orm.IntegerField(primary_key=True))])])
    orm.create_tables(state.apps.get_model(APP, "Code"))
    sql("INSERT INTO sq_code (id) VALUES (1), (41)")
    with orm.connection.schema_editor() as editor:
        after = make_migration([migrations.AlterField("Code", "id", orm.AutoField(primary_key=True))]).apply(
            state.clone(), editor)
    assert "AUTOINCREMENT" in sql("SELECT sql FROM sqlite_master WHERE name = 'sq_code'")[0][0]
    assert after.apps.get_model(APP, "Code").objects.create().pk == 42
