"""Generated migrations run (issue 14), on SQLite and PostgreSQL.

Initial migrations of two apps, detected from model declarations, written
to text, loaded back from that text and applied in dependency order,
create tables that enforce what the models say (foreign keys across apps,
many-to-many, a unique constraint, an index); unapplied in reverse order,
they leave nothing behind.
"""

from __future__ import annotations

import types

import pytest

import orm
from orm.migrations import Migration, MigrationAutodetector, MigrationWriter, ProjectState
from tests.migrations.autodetector_support import char, fk, model, ordered, state

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

SHOP, PRESS = "i14_shop", "i14_press"


def written_initial_migrations() -> list[Migration]:
    """The initial migrations of SHOP and PRESS, each written and executed back from its text."""
    after = state(
        model(f"{PRESS}.Publisher", {"name": char(unique=True)}),
        model(f"{SHOP}.Tag", {"name": char(20)}),
        model(f"{SHOP}.Book", {
            "title": char(100), "press": fk(f"{PRESS}.Publisher", related_name="books"),
            "tags": orm.ManyToManyField(f"{SHOP}.Tag", related_name="books"),
        }, indexes=[orm.Index(fields=["-title"], name="i14_book_title")],
            constraints=[orm.UniqueConstraint(fields=["press", "title"], name="i14_book_per_press")]),
    )
    loaded = []
    for migration in ordered(MigrationAutodetector(ProjectState(), after).changes()):
        module = types.ModuleType(migration.name)
        exec(compile(MigrationWriter(migration).as_string(), migration.name, "exec"), module.__dict__)
        loaded.append(module.Migration(migration.name, migration.app_label))
    return loaded


def tables() -> set[str]:
    return {name for name in orm.connection.introspection.table_names() if name.startswith("i14_")}


def test_generated_initial_migrations_apply_and_unapply(backend: str) -> None:
    migrations = written_initial_migrations()
    assert [(m.app_label, m.name) for m in migrations] == [(PRESS, "0001_initial"), (SHOP, "0001_initial")]
    states = [ProjectState()]
    for migration in migrations:
        with orm.connection.schema_editor() as editor:
            states.append(migration.apply(states[-1].clone(), editor))
    assert tables() == {f"{PRESS}_publisher", f"{SHOP}_tag", f"{SHOP}_book", f"{SHOP}_book_tags"}
    apps = states[-1].apps
    publisher = apps.get_model(PRESS, "Publisher").objects.create(name="Acme")
    book = apps.get_model(SHOP, "Book").objects.create(title="T", press=publisher)
    book.tags.add(apps.get_model(SHOP, "Tag").objects.create(name="x"))
    assert list(apps.get_model(SHOP, "Book").objects.filter(tags__name="x").values_list("title", flat=True)) == ["T"]
    with pytest.raises(orm.IntegrityError):
        apps.get_model(SHOP, "Book").objects.create(title="T", press=publisher)
    assert "i14_book_title" in orm.connection.introspection.get_constraints(f"{SHOP}_book")
    for migration, before in reversed(list(zip(migrations, states, strict=False))):
        with orm.connection.schema_editor() as editor:
            migration.unapply(before.clone(), editor)
    assert tables() == set()
