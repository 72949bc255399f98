"""Operations on a real database (issue 13), forwards and backwards, SQLite and PostgreSQL.

Through ``Migration.apply`` / ``unapply`` in ``connection.schema_editor()``,
as the executor will run them: ``CreateModel`` / ``DeleteModel`` (with their
many-to-many tables), ``AddIndex`` / ``RemoveIndex``, ``RunSQL`` (several
statements in a string, lists, ``(sql, params)``, reverse SQL, a literal
``%``), ``SeparateDatabaseAndState``, irreversible migrations, atomic and
non-atomic migrations, and ``schema_editor(collect_sql=True)``.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import IrreversibleError, ProjectState
from tests.migrations.helpers import auto_id, replay

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "i13_db"


def make_migration(operations: list[migrations.Operation], name: str = "0001_test",
                   atomic: bool = True) -> migrations.Migration:
    klass = type("Migration", (migrations.Migration,), {"operations": operations, "atomic": atomic})
    return klass(name, APP)


def apply(migration: migrations.Migration, state: ProjectState | None = None) -> ProjectState:
    state = state if state is not None else ProjectState()
    with orm.connection.schema_editor(atomic=migration.atomic) as editor:
        return migration.apply(state, editor)


def unapply(migration: migrations.Migration, state: ProjectState) -> ProjectState:
    with orm.connection.schema_editor(atomic=migration.atomic) as editor:
        return migration.unapply(state, editor)


def tables() -> set[str]:
    return {name for name in orm.connection.introspection.table_names() if name.startswith(APP)}


def library_operations() -> list[migrations.Operation]:
    return [
        migrations.CreateModel("Author", [auto_id(), ("name", orm.CharField(max_length=50, unique=True))]),
        migrations.CreateModel("Tag", [auto_id(), ("name", orm.CharField(max_length=20))]),
        migrations.CreateModel("Book", [
            auto_id(),
            ("title", orm.CharField(max_length=100, db_index=True)),
            ("author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE, related_name="books")),
            ("tags", orm.ManyToManyField(f"{APP}.tag", related_name="books")),
        ], options={
            "indexes": [orm.Index(fields=["-title"], name="i13_db_book_title_desc")],
            "constraints": [orm.UniqueConstraint(fields=["author", "title"], name="i13_db_book_per_author")],
        }),
    ]


def test_create_model_forwards_and_backwards(backend: str) -> None:
    migration = make_migration(library_operations())
    state = apply(migration)
    assert tables() == {f"{APP}_author", f"{APP}_tag", f"{APP}_book", f"{APP}_book_tags"}
    constraints = orm.connection.introspection.get_constraints(f"{APP}_book")
    assert {"i13_db_book_title_desc", "i13_db_book_per_author"} <= set(constraints)
    assert orm.connection.introspection.get_relations(f"{APP}_book")["author_id"] == ("id", f"{APP}_author")
    book = state.apps.get_model(APP, "Book")
    ann = state.apps.get_model(APP, "Author").objects.create(name="Ann")
    book.objects.create(title="T", author=ann).tags.add(state.apps.get_model(APP, "Tag").objects.create(name="x"))
    with pytest.raises(orm.IntegrityError):
        book.objects.create(title="T", author=ann)
    unapply(migration, replay(APP, []))
    assert tables() == set()


def test_delete_model_forwards_and_backwards(backend: str) -> None:
    state = apply(make_migration(library_operations()))
    delete = make_migration([migrations.DeleteModel("Book")], "0002_delete")
    after = apply(delete, state.clone())
    assert tables() == {f"{APP}_author", f"{APP}_tag"}
    assert (APP, "book") not in after.models
    before = unapply(delete, state)
    assert tables() == {f"{APP}_author", f"{APP}_tag", f"{APP}_book", f"{APP}_book_tags"}
    assert "i13_db_book_per_author" in orm.connection.introspection.get_constraints(f"{APP}_book")
    # The state handed back renders the models of the state before the migration.
    ann = before.apps.get_model(APP, "Author").objects.create(name="Ann")
    assert before.apps.get_model(APP, "Book").objects.create(title="Back", author=ann).author == ann


def test_add_and_remove_index_forwards_and_backwards(backend: str) -> None:
    state = apply(make_migration(library_operations()))
    index = orm.Index(fields=["name"], name="i13_db_author_name_idx",
                      condition=orm.Q(name__gt="M"))
    add = make_migration([migrations.AddIndex("Author", index)], "0002_index")
    after = apply(add, state.clone())
    found = orm.connection.introspection.get_constraints(f"{APP}_author")["i13_db_author_name_idx"]
    assert found.columns == ["name"] and found.index
    remove = make_migration([migrations.RemoveIndex("Author", "i13_db_author_name_idx")], "0003_remove")
    apply(remove, after.clone())
    assert "i13_db_author_name_idx" not in orm.connection.introspection.get_constraints(f"{APP}_author")
    unapply(remove, after)
    assert "i13_db_author_name_idx" in orm.connection.introspection.get_constraints(f"{APP}_author")
    unapply(add, state)
    assert "i13_db_author_name_idx" not in orm.connection.introspection.get_constraints(f"{APP}_author")


def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def test_run_sql_script_list_params_and_reverse(backend: str) -> None:
    script = """
        -- a comment; with a semicolon
        CREATE TABLE i13_db_note (id INTEGER PRIMARY KEY, body VARCHAR(50));
        INSERT INTO i13_db_note (id, body) VALUES (1, 'semi;colon');
        /* block comment */
        INSERT INTO i13_db_note (id, body) VALUES (2, '100%s sure, 50% off');
    """
    migration = make_migration([
        migrations.RunSQL(script, reverse_sql="DROP TABLE i13_db_note"),
        migrations.RunSQL(
            [("INSERT INTO i13_db_note (id, body) VALUES (%s, %s)", [3, "it's 'quoted' %s"]),
             "INSERT INTO i13_db_note (id, body) VALUES (4, 'lit%')",
             ["UPDATE i13_db_note SET body = body || %s WHERE id = %s", ("!", 4)]],
            reverse_sql=[("DELETE FROM i13_db_note WHERE id >= %s", [3])],
        ),
    ])
    state = apply(migration)
    assert rows("SELECT id, body FROM i13_db_note ORDER BY id") == [
        (1, "semi;colon"), (2, "100%s sure, 50% off"), (3, "it's 'quoted' %s"), (4, "lit%!")]
    with orm.connection.schema_editor() as editor:
        migration.operations[1].database_backwards(APP, editor, state, state)
    assert rows("SELECT id FROM i13_db_note ORDER BY id") == [(1,), (2,)]
    unapply(make_migration([migration.operations[0]]), replay(APP, []))
    assert tables() == set()


def test_run_sql_noop_and_irreversible(backend: str) -> None:
    noop = make_migration([migrations.RunSQL("CREATE TABLE i13_db_t (id INTEGER)", migrations.RunSQL.noop)])
    apply(noop)
    unapply(noop, replay(APP, []))
    assert tables() == {"i13_db_t"}  # the reverse does nothing
    irreversible = make_migration([
        migrations.RunSQL("DROP TABLE i13_db_t", migrations.RunSQL.noop),
        migrations.RunSQL("CREATE TABLE i13_db_t (id INTEGER)"),
    ])
    with pytest.raises(IrreversibleError, match=r"RunSQL.*in i13_db.0001_test cannot be unapplied.*reverse_sql"):
        unapply(irreversible, replay(APP, []))
    assert tables() == {"i13_db_t"}  # refused before anything ran
    with orm.connection.schema_editor() as editor, pytest.raises(IrreversibleError, match="no reverse_sql"):
        irreversible.operations[1].database_backwards(APP, editor, ProjectState(), ProjectState())


def test_separate_database_and_state(backend: str) -> None:
    """The table is made by SQL while the state learns the model from CreateModel."""
    operation = migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunSQL(
            "CREATE TABLE i13_db_legacy (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL)",
            "DROP TABLE i13_db_legacy")],
        state_operations=[migrations.CreateModel(
            "Legacy", [("id", orm.IntegerField(primary_key=True)), ("code", orm.CharField(max_length=10))],
            options={"db_table": "i13_db_legacy"})],
    )
    migration = make_migration([operation])
    state = apply(migration)
    legacy = state.apps.get_model(APP, "Legacy")
    legacy.objects.create(id=7, code="x")
    assert list(legacy.objects.values_list("id", "code")) == [(7, "x")]
    unapply(migration, replay(APP, []))
    assert tables() == set()


def test_separate_database_and_state_runs_database_operations_on_their_own_states(backend: str) -> None:
    """Its database operations see the states they make, not the ones given to the state."""
    migration = make_migration([migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.CreateModel("Box", [auto_id()]),
            migrations.AddIndex("Box", orm.Index(fields=["id"], name="i13_db_box_id")),
        ],
    )])
    state = apply(migration)
    assert (APP, "box") not in state.models
    assert "i13_db_box_id" in orm.connection.introspection.get_constraints(f"{APP}_box")
    unapply(migration, replay(APP, []))
    assert tables() == set()


def test_an_atomic_migration_rolls_back_as_a_whole(backend: str) -> None:
    migration = make_migration([*library_operations(), migrations.RunSQL("SELECT * FROM i13_db_missing")])
    with pytest.raises(orm.DatabaseError):
        apply(migration)
    assert tables() == set()


def test_a_non_atomic_migration_keeps_the_operations_that_ran(backend: str) -> None:
    migration = make_migration(
        [library_operations()[0], migrations.RunSQL("SELECT * FROM i13_db_missing")], atomic=False)
    with pytest.raises(orm.DatabaseError):
        apply(migration)
    assert tables() == {f"{APP}_author"}


def test_schema_editor_collects_sql_without_running_it(backend: str) -> None:
    migration = make_migration([
        *library_operations(),
        migrations.RunSQL("UPDATE i13_db_author SET name = 'x' WHERE name LIKE 'a%'"),
        migrations.RunPython(migrations.RunPython.noop),
    ])
    with orm.connection.schema_editor(collect_sql=True) as editor:
        migration.apply(ProjectState(), editor, collect_sql=True)
    sql = "\n".join(editor.collected_sql)
    assert tables() == set()
    assert "-- Create model Book" in sql and 'CREATE TABLE "i13_db_book"' in sql
    assert "UPDATE i13_db_author SET name = 'x' WHERE name LIKE 'a%';" in sql
    assert "-- Raw Python operation\n--\n-- THIS OPERATION CANNOT BE WRITTEN AS SQL" in sql
