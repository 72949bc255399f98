"""Changing a key's type takes the foreign key columns pointing at it along (issue 13).

``AlterField`` on a primary key (or a ``to_field`` target) whose column type
changes must change the type of every column referencing it: foreign keys of
other tables, a self-referential foreign key and the column of an automatic
many-to-many join table. SQLite rebuilds the referencing tables; PostgreSQL
alters each referencing column with its constraint dropped and re-added. Each
case compares the introspected types with the ones ``create_tables`` makes
for the target models, checks that the rows survive and that the foreign keys
still reject orphans, then goes back.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from tests.migrations.helpers import auto_id, replay

APP = "pkref"


def migrate(state: ProjectState, *operations: migrations.Operation, backwards: bool = False) -> ProjectState:
    migration = type("Migration", (migrations.Migration,), {"operations": list(operations)})("0002", APP)
    with orm.connection.schema_editor() as editor:
        if backwards:
            return migration.unapply(state.clone(), editor)
        return migration.apply(state.clone(), editor)


def rows(sql: str) -> list[tuple[Any, ...]]:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


def column_types(tables: list[str]) -> dict[tuple[str, str], tuple[str, Any]]:
    """(table, column) -> (introspected type, max_length) of every column of ``tables``."""
    described = {}
    for table in tables:
        for info in orm.connection.introspection.get_table_description(table):
            described[table, info.name] = (str(info.data_type).lower(), info.max_length)
    return described


def created_types(state: ProjectState, tables: list[str]) -> dict[tuple[str, str], tuple[str, Any]]:
    """The column types ``create_tables`` makes for ``state``'s models (none of whose tables
    exist yet), read back from the database; the tables are dropped again."""
    orm.create_tables(*_models(state))
    try:
        return column_types(tables)
    finally:
        with orm.connection.schema_editor() as editor:
            for model in _models(state):
                editor.delete_model(model)


def _models(state: ProjectState) -> list[Any]:
    return [state.apps.get_model(APP, name) for name in ("Owner", "Pet", "Club")]


def assert_rejects_orphan(table: str, column: str, key: Any) -> None:
    """A row pointing at no owner (and valid otherwise) is refused."""
    other = {f"{APP}_owner": ("id", key), f"{APP}_pet": None, f"{APP}_club_members": ("club_id", 1)}[table]
    names, values = [column], ["987654" if isinstance(key, int) else "'zz'"]
    if other is not None:
        names.append(other[0])
        values.append(repr(other[1]))
    with pytest.raises(orm.IntegrityError, match=r"(?i)foreign key"), orm.transaction.atomic():
        rows(f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join(values)})')


def owner_state(owner_pk: orm.Field) -> ProjectState:
    """Owner (key ``owner_pk``, a self FK ``parent``) <- Pet.owner, Club.members -> Owner; with rows."""
    operations = [
        migrations.CreateModel("Owner", [
            ("id", owner_pk),
            ("parent", orm.ForeignKey(f"{APP}.owner", null=True, on_delete=orm.CASCADE)),
        ]),
        migrations.CreateModel("Pet", [
            auto_id(), ("owner", orm.ForeignKey(f"{APP}.owner", null=True, on_delete=orm.CASCADE))]),
        migrations.CreateModel("Club", [auto_id(), ("members", orm.ManyToManyField(f"{APP}.owner"))]),
    ]
    state = ProjectState()
    state = migrate(state, *operations)
    return state


TABLES = [f"{APP}_owner", f"{APP}_pet", f"{APP}_club_members"]
FK_COLUMNS = [(f"{APP}_owner", "parent_id"), (f"{APP}_pet", "owner_id"), (f"{APP}_club_members", "owner_id")]


def seed(state: ProjectState, keys: list[Any]) -> None:
    owner = state.apps.get_model(APP, "Owner")
    first = owner.objects.create(pk=keys[0])
    second = owner.objects.create(pk=keys[1], parent=first)
    state.apps.get_model(APP, "Pet").objects.create(owner=second)
    state.apps.get_model(APP, "Club").objects.create().members.add(first, second)


def snapshot() -> list[list[tuple[Any, ...]]]:
    return [
        rows(f"SELECT id, parent_id FROM {APP}_owner ORDER BY id"),
        rows(f"SELECT owner_id FROM {APP}_pet ORDER BY id"),
        rows(f"SELECT owner_id FROM {APP}_club_members ORDER BY owner_id"),
    ]


@pytest.mark.parametrize(("old", "new", "keys"), [
    (orm.IntegerField(primary_key=True), orm.BigAutoField(primary_key=True), [1, 2]),
    (orm.AutoField(primary_key=True), orm.BigIntegerField(primary_key=True), [1, 2]),
    (orm.AutoField(primary_key=True), orm.BigAutoField(primary_key=True), [1, 2]),
    (orm.CharField(max_length=10, primary_key=True), orm.CharField(max_length=40, primary_key=True), ["a", "b"]),
], ids=["int-to-bigauto", "auto-to-bigint", "auto-to-bigauto", "char10-to-char40"])
def test_key_type_change_reaches_referencing_columns(backend: str, old: Any, new: Any, keys: list[Any]) -> None:
    state = owner_state(old)
    seed(state, keys)
    before_types, before_rows = column_types(TABLES), snapshot()
    after = migrate(state, migrations.AlterField("Owner", "id", new))
    after_types = column_types(TABLES)
    for table, column in FK_COLUMNS:
        assert after_types[table, column] != before_types[table, column], (table, column)
        assert_rejects_orphan(table, column, 500 if isinstance(keys[0], int) else "x")
    assert snapshot() == before_rows
    if isinstance(new, orm.CharField):
        # The wider key, and a reference to it, take 40 characters now.
        owner = after.apps.get_model(APP, "Owner").objects.create(pk="k" * 40)
        after.apps.get_model(APP, "Pet").objects.create(owner=owner).delete()
        owner.delete()
    back = migrate(state, migrations.AlterField("Owner", "id", new), backwards=True)
    assert column_types(TABLES) == before_types
    assert snapshot() == before_rows
    for table, column in FK_COLUMNS:
        assert_rejects_orphan(table, column, 500 if isinstance(keys[0], int) else "x")
    if backend == "sqlite":
        assert rows("PRAGMA foreign_key_check") == []
        assert rows("PRAGMA integrity_check") == [("ok",)]
    # Both ways, the live schema was the one create_tables makes for the models.
    with orm.connection.schema_editor() as editor:
        for model in _models(back):
            editor.delete_model(model)
    assert created_types(back, TABLES) == before_types
    assert created_types(after, TABLES) == after_types


def collected(state: ProjectState, operation: migrations.Operation) -> list[str]:
    migration = type("Migration", (migrations.Migration,), {"operations": [operation]})("0002", APP)
    with orm.connection.schema_editor(collect_sql=True) as editor:
        migration.apply(state.clone(), editor)
    return editor.collected_sql


EXPECTED_SQL = {
    "sqlite": [
        'CREATE TABLE "new__pkref_owner" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT);',
        'INSERT INTO "new__pkref_owner" ("id") SELECT "id" FROM "pkref_owner";',
        'DROP TABLE "pkref_owner";',
        'ALTER TABLE "new__pkref_owner" RENAME TO "pkref_owner";',
        # The referencing table, rebuilt with a bigint column.
        'CREATE TABLE "new__pkref_pet" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "owner_id" bigint '
        'NOT NULL REFERENCES "pkref_owner" ("id") DEFERRABLE INITIALLY DEFERRED);',
        'INSERT INTO "new__pkref_pet" ("id", "owner_id") SELECT "id", "owner_id" FROM "pkref_pet";',
        'DROP TABLE "pkref_pet";',
        'ALTER TABLE "new__pkref_pet" RENAME TO "pkref_pet";',
        'CREATE INDEX "pkref_pet_owner_id_9dd532fa_idx" ON "pkref_pet" ("owner_id");',
    ],
    "postgresql": [
        "SET CONSTRAINTS ALL IMMEDIATE;",
        "SET CONSTRAINTS ALL DEFERRED;",
        'ALTER TABLE "pkref_pet" DROP CONSTRAINT "pkref_pet_owner_id_9dd532fa_fk";',
        'ALTER TABLE "pkref_owner" ALTER COLUMN "id" TYPE bigint USING "id"::bigint;',
        'ALTER TABLE "pkref_owner" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY;',
        """SELECT setval(pg_get_serial_sequence('"pkref_owner"', 'id'), COALESCE(MAX("id"), 0) + 1, false) """
        'FROM "pkref_owner";',
        'ALTER TABLE "pkref_pet" ALTER COLUMN "owner_id" TYPE bigint USING "owner_id"::bigint;',
        'ALTER TABLE "pkref_pet" ADD CONSTRAINT "pkref_pet_owner_id_9dd532fa_fk" FOREIGN KEY ("owner_id") '
        'REFERENCES "pkref_owner" ("id") DEFERRABLE INITIALLY DEFERRED;',
    ],
}


def test_collected_sql_of_a_key_type_change(backend: str) -> None:
    # While collecting, PostgreSQL reads no catalog for the foreign keys: the
    # models' relations name them (as sqlmigrate prints them).
    state = replay(APP, [
        migrations.CreateModel("Owner", [("id", orm.IntegerField(primary_key=True))]),
        migrations.CreateModel("Pet", [auto_id(), ("owner", orm.ForeignKey(f"{APP}.owner", on_delete=orm.CASCADE))]),
    ])
    orm.create_tables(*[state.apps.get_model(APP, name) for name in ("Owner", "Pet")])
    operation = migrations.AlterField("Owner", "id", orm.BigAutoField(primary_key=True))
    assert collected(state, operation) == EXPECTED_SQL[backend]


def test_unconstrained_and_to_field_references_follow_the_type(backend: str) -> None:
    state = migrate(ProjectState(), *[
        migrations.CreateModel("Owner", [auto_id(), ("code", orm.CharField(max_length=5, unique=True))]),
        migrations.CreateModel("Pet", [
            auto_id(),
            ("by_code", orm.ForeignKey(f"{APP}.owner", to_field="code", on_delete=orm.CASCADE, related_name="+")),
            ("loose", orm.ForeignKey(f"{APP}.owner", to_field="code", db_constraint=False, null=True,
                                     on_delete=orm.DO_NOTHING, related_name="+")),
        ]),
    ])
    owner = state.apps.get_model(APP, "Owner").objects.create(code="abc")
    state.apps.get_model(APP, "Pet").objects.create(by_code=owner, loose=owner)
    after = migrate(state, migrations.AlterField("Owner", "code", orm.CharField(max_length=30, unique=True)))
    described = column_types([f"{APP}_pet"])
    assert described[f"{APP}_pet", "by_code_id"][1] == 30
    assert described[f"{APP}_pet", "loose_id"][1] == 30
    assert rows(f"SELECT by_code_id, loose_id FROM {APP}_pet") == [("abc", "abc")]
    relations = orm.connection.introspection.get_relations(f"{APP}_pet")
    assert relations == {"by_code_id": ("code", f"{APP}_owner")}
    long = after.apps.get_model(APP, "Owner").objects.create(code="c" * 30)
    after.apps.get_model(APP, "Pet").objects.create(by_code=long, loose=long)
    with pytest.raises(orm.IntegrityError, match=r"(?i)foreign key"), orm.transaction.atomic():
        rows(f"INSERT INTO {APP}_pet (by_code_id) VALUES ('nobody')")
