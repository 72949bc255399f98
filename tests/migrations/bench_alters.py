"""Time alters of a 100 000-row table on SQLite and PostgreSQL (figures in docs/migrations.md).

Not a test: ``python -m tests.migrations.bench_alters [postgresql-url]``
(with ``ORM_TEST_POSTGRES_URL`` or a URL given, the PostgreSQL database's
``public`` schema is dropped and recreated first).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import orm
from orm import migrations
from tests.migrations.helpers import auto_id, replay

ROWS = 100_000
APP = "bench"


def operations() -> list[tuple[str, migrations.Operation]]:
    return [
        ("add a nullable column", migrations.AddField("Item", "extra", orm.IntegerField(null=True))),
        ("add a NOT NULL column with a default", migrations.AddField("Item", "flag", orm.IntegerField(default=1))),
        ("rename a column", migrations.RenameField("Item", "note", "memo")),
        ("add db_index", migrations.AlterField("Item", "qty", orm.IntegerField(db_index=True))),
        ("char(50) -> char(200)", migrations.AlterField("Item", "name", orm.CharField(max_length=200))),
        ("int -> bigint (indexed)", migrations.AlterField("Item", "qty", orm.BigIntegerField(db_index=True))),
        ("add unique", migrations.AlterField("Item", "name", orm.CharField(max_length=200, unique=True))),
        ("drop a column", migrations.RemoveField("Item", "extra")),
    ]


def run(url: str, label: str) -> None:
    orm.configure(url)
    if orm.connection.vendor == "postgresql":
        with orm.connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    state = replay(APP, [
        migrations.CreateModel("Item", [auto_id(), ("name", orm.CharField(max_length=50)),
                                        ("qty", orm.IntegerField()), ("note", orm.TextField(null=True))]),
        migrations.CreateModel("Ref", [auto_id(), ("item", orm.ForeignKey(f"{APP}.item", on_delete=orm.CASCADE))]),
    ])
    item, ref = state.apps.get_model(APP, "Item"), state.apps.get_model(APP, "Ref")
    orm.create_tables(item, ref)
    with orm.transaction.atomic():
        item.objects.bulk_create([item(name=f"n{i}", qty=i) for i in range(ROWS)], batch_size=5000)
        ref.objects.bulk_create([ref(item_id=i + 1) for i in range(0, ROWS, 10)], batch_size=5000)
    for name, operation in operations():
        migration = type("Migration", (migrations.Migration,), {"operations": [operation]})("0002", APP)
        start = time.perf_counter()
        with orm.connection.schema_editor() as editor:
            state = migration.apply(state, editor)
        print(f"{label:10} {name:38} {time.perf_counter() - start:7.3f} s")
    orm.connections.close_all()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        run(f"sqlite:///{directory}/bench.sqlite3", "sqlite")
    postgres = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ORM_TEST_POSTGRES_URL")
    if postgres:
        run(postgres, "postgresql")
