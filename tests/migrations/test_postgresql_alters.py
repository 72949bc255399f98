"""PostgreSQL alters (issue 13): statement text, identity on key changes, '_like' indexes.

Statement text is checked with ``collect_sql`` (nothing runs); the others run
against the server: a key that becomes ``BigAutoField`` keeps its identity and
takes the foreign key columns pointing at it along, an integer key that
becomes ``AutoField`` gets an identity starting after the rows, and a failing
migration leaves the schema untouched (transactional DDL).
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from tests.migrations.helpers import auto_id, replay

APP = "pg"
# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = [pytest.mark.parametrize("backend", ["postgresql"], indirect=True), pytest.mark.transactional]


def make_migration(operations: list[migrations.Operation]) -> migrations.Migration:
    return type("Migration", (migrations.Migration,), {"operations": operations})("0002", APP)


def apply(state: ProjectState, *operations: migrations.Operation) -> ProjectState:
    with orm.connection.schema_editor() as editor:
        return make_migration(list(operations)).apply(state.clone(), editor)


def collected(state: ProjectState, operation: migrations.Operation) -> list[str]:
    with orm.connection.schema_editor(collect_sql=True) as editor:
        make_migration([operation]).apply(state.clone(), editor)
    return editor.collected_sql


def sql(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with orm.connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


def create(*operations: migrations.Operation) -> ProjectState:
    state = replay(APP, operations)
    orm.create_tables(*[state.apps.get_model(APP, key[1]) for key in state.models])
    return state


def test_add_field_and_alter_type_statements(backend: str) -> None:
    state = create(migrations.CreateModel("Item", [auto_id(), ("qty", orm.IntegerField())]))
    assert collected(state, migrations.AddField("Item", "code", orm.CharField(max_length=8, default="n/a"))) == [
        "SET CONSTRAINTS ALL IMMEDIATE;",
        "SET CONSTRAINTS ALL DEFERRED;",
        """ALTER TABLE "pg_item" ADD COLUMN "code" varchar(8) DEFAULT 'n/a' NOT NULL;""",
        'ALTER TABLE "pg_item" ALTER COLUMN "code" DROP DEFAULT;',
    ]
    assert collected(state, migrations.AlterField("Item", "qty", orm.BigIntegerField())) == [
        "SET CONSTRAINTS ALL IMMEDIATE;",
        "SET CONSTRAINTS ALL DEFERRED;",
        'ALTER TABLE "pg_item" ALTER COLUMN "qty" TYPE bigint USING "qty"::bigint;',
    ]
    assert collected(state, migrations.RenameField("Item", "qty", "amount"))[-1] == (
        'ALTER TABLE "pg_item" RENAME COLUMN "qty" TO "amount";')


def test_big_auto_field_keeps_identity_and_moves_foreign_keys(backend: str) -> None:
    state = create(
        migrations.CreateModel("Owner", [("id", orm.AutoField(primary_key=True))]),
        migrations.CreateModel("Pet", [auto_id(), ("owner", orm.ForeignKey(f"{APP}.owner", on_delete=orm.CASCADE))]),
    )
    owner = state.apps.get_model(APP, "Owner")
    first = owner.objects.create()
    state.apps.get_model(APP, "Pet").objects.create(owner=first)
    after = apply(state, migrations.AlterField("Owner", "id", orm.BigAutoField(primary_key=True)))
    described = {c.name: c for c in orm.connection.introspection.get_table_description("pg_pet")}
    assert described["owner_id"].data_type == "bigint"
    assert orm.connection.introspection.get_relations("pg_pet") == {"owner_id": ("id", "pg_owner")}
    assert after.apps.get_model(APP, "Owner").objects.create().pk == first.pk + 1
    with pytest.raises(orm.IntegrityError), orm.transaction.atomic():
        sql("INSERT INTO pg_pet (owner_id) VALUES (99)")
    apply(after, migrations.AlterField("Owner", "id", orm.AutoField(primary_key=True)))
    described = {c.name: c for c in orm.connection.introspection.get_table_description("pg_pet")}
    assert described["owner_id"].data_type == "integer"


def test_integer_key_becoming_auto_field_gets_an_identity_after_the_rows(backend: str) -> None:
    state = create(migrations.CreateModel("Code", [("id", orm.IntegerField(primary_key=True))]))
    sql("INSERT INTO pg_code (id) VALUES (1), (41)")
    after = apply(state, migrations.AlterField("Code", "id", orm.AutoField(primary_key=True)))
    assert after.apps.get_model(APP, "Code").objects.create().pk == 42
    back = apply(after, migrations.AlterField("Code", "id", orm.IntegerField(primary_key=True)))
    assert orm.connection.introspection.get_sequences("pg_code") == []
    with pytest.raises(orm.IntegrityError), orm.transaction.atomic():
        back.apps.get_model(APP, "Code").objects.create()  # no identity: the key is NULL


def test_like_index_follows_db_index(backend: str) -> None:
    state = create(migrations.CreateModel("Tag", [auto_id(), ("name", orm.CharField(max_length=20))]))
    after = apply(state, migrations.AlterField("Tag", "name", orm.CharField(max_length=20, db_index=True)))
    definitions = [c.definition for c in orm.connection.introspection.get_constraints("pg_tag").values()
                   if c.index and c.columns == ["name"]]
    assert len(definitions) == 2 and any("varchar_pattern_ops" in str(d) for d in definitions)
    text = apply(after, migrations.AlterField("Tag", "name", orm.TextField(db_index=True)))
    definitions = [str(c.definition) for c in orm.connection.introspection.get_constraints("pg_tag").values()
                   if c.index and c.columns == ["name"]]
    assert len(definitions) == 2 and any("text_pattern_ops" in d for d in definitions)
    apply(text, migrations.AlterField("Tag", "name", orm.TextField()))
    assert [c for c in orm.connection.introspection.get_constraints("pg_tag").values() if c.index] == []


def test_a_failing_migration_leaves_the_schema_as_it_was(backend: str) -> None:
    state = create(migrations.CreateModel("Item", [auto_id(), ("qty", orm.IntegerField())]))
    sql("INSERT INTO pg_item (qty) VALUES (1)")
    with pytest.raises(orm.DatabaseError):
        apply(state,
              migrations.AddField("Item", "code", orm.CharField(max_length=8, default="x")),
              migrations.AlterField("Item", "qty", orm.BigIntegerField()),
              migrations.RunSQL("SELECT * FROM pg_missing"))
    described = {c.name: c.data_type for c in orm.connection.introspection.get_table_description("pg_item")}
    assert described == {"id": "bigint", "qty": "integer"}


def test_a_default_with_no_literal_form_is_filled_through_a_parameter(
        backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    state = create(migrations.CreateModel("Item", [auto_id(), ("qty", orm.IntegerField())]))
    sql("INSERT INTO pg_item (qty) VALUES (1), (2)")

    def no_literal(self: Any, value: Any) -> str:
        raise TypeError("no literal")

    editor_class = type(orm.connection.schema_editor())
    monkeypatch.setattr(editor_class, "quote_value", no_literal)
    apply(state, migrations.AddField("Item", "code", orm.CharField(max_length=8, default="n/a")))
    monkeypatch.undo()
    assert sql("SELECT qty, code FROM pg_item ORDER BY qty") == [(1, "n/a"), (2, "n/a")]
    described = {c.name: c for c in orm.connection.introspection.get_table_description("pg_item")}
    assert described["code"].null_ok is False and described["code"].default is None


def test_rows_written_earlier_in_the_migration_do_not_block_the_alter(backend: str) -> None:
    """Deferred foreign key checks of rows a RunPython wrote run before ALTER TABLE."""
    state = create(
        migrations.CreateModel("Owner", [auto_id()]),
        migrations.CreateModel("Pet", [auto_id(), ("owner", orm.ForeignKey(f"{APP}.owner", on_delete=orm.CASCADE))]),
    )

    def add_pets(apps: Any, schema_editor: Any) -> None:
        owner = apps.get_model(APP, "Owner").objects.create()
        apps.get_model(APP, "Pet").objects.create(owner=owner)

    apply(state,
          migrations.RunPython(add_pets),
          migrations.AddField("Pet", "name", orm.CharField(max_length=10, default="rex")),
          migrations.AlterField("Pet", "name", orm.CharField(max_length=20, default="rex")),
          migrations.RemoveField("Pet", "name"))
    assert sql("SELECT count(*) FROM pg_pet") == [(1,)]
