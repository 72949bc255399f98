"""Multi-table inheritance in migrations (issue 16 item 1): states, the autodetector, the writer,
and the operations applied on SQLite and PostgreSQL with the data surviving."""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from orm.migrations.autodetector import MigrationAutodetector
from orm.migrations.exceptions import InvalidStateError
from orm.migrations.questioner import MigrationQuestioner
from orm.migrations.state import ModelState
from orm.migrations.writer import MigrationWriter
from orm.models.registry import Apps
from tests.migrations.autodetector_support import detect, ops
from tests.migrations.helpers import auto_id, meta

APP = "mtimig"


def _project(apps: Apps, extra_field: bool = False) -> ProjectState:
    class Place(orm.Model):
        name = orm.CharField(max_length=50)
        Meta = meta(APP, apps)

    class Restaurant(Place):
        serves_pizza = orm.BooleanField(default=False)
        Meta = meta(APP, apps)

    body: dict[str, Any] = {"__module__": __name__, "Meta": meta(APP, apps)}
    if extra_field:
        body["stars"] = orm.IntegerField(default=0)
    type("Italian", (Restaurant,), body)
    return ProjectState.from_apps(apps)


def _ptr(parent: str) -> orm.OneToOneField:
    return orm.OneToOneField(f"{APP}.{parent}", on_delete=orm.CASCADE, parent_link=True, auto_created=True,
                             primary_key=True)


def operations() -> list[migrations.Operation]:
    return [
        migrations.CreateModel("Place", [auto_id(), ("name", orm.CharField(max_length=50))]),
        migrations.CreateModel("Restaurant", [("place_ptr", _ptr("place")),
                                              ("serves_pizza", orm.BooleanField(default=False))],
                               bases=(f"{APP}.place",)),
    ]


def test_state_names_a_concrete_parent_by_label_and_renders_the_subclass() -> None:
    state = _project(Apps())
    restaurant = state.models[(APP, "restaurant")]
    assert restaurant.bases == (f"{APP}.place",)
    assert list(restaurant.fields) == ["place_ptr", "serves_pizza"]
    assert restaurant.fields["place_ptr"].deconstruct()[3] == {
        "auto_created": True, "on_delete": orm.CASCADE, "parent_link": True, "primary_key": True,
        "to": f"{APP}.place"}
    italian = state.apps.get_model(APP, "italian")
    place = state.apps.get_model(APP, "place")
    assert italian._meta.get_parent_list() == [state.apps.get_model(APP, "restaurant"), place]
    assert [f.name for f in italian._meta.concrete_fields] == [
        "id", "name", "place_ptr", "serves_pizza", "restaurant_ptr"]


def test_state_refuses_a_model_class_or_unqualified_name_as_a_base() -> None:
    place = _project(Apps()).apps.get_model(APP, "place")
    with pytest.raises(InvalidStateError, match=r"bases=\('mtimig.place',\)"):
        ModelState(APP, "X", [auto_id()], bases=(place,))
    with pytest.raises(InvalidStateError, match="'app_label.modelname'"):
        ModelState(APP, "X", [auto_id()], bases=("place",))
    with pytest.raises(InvalidStateError, match="not in the migration state"):
        orphan = ProjectState({(APP, "x"): ModelState(APP, "X", [("place_ptr", _ptr("place"))],
                                                      bases=(f"{APP}.place",))})
        assert orphan.apps is None


def test_autodetector_creates_parents_first_with_bases_and_the_writer_keeps_them() -> None:
    changes = detect(ProjectState(), _project(Apps()))
    assert ops(changes, APP) == ["CreateModel", "CreateModel", "CreateModel"]
    created = changes[APP][0].operations
    assert [op.name for op in created] == ["Place", "Restaurant", "Italian"]  # type: ignore[attr-defined]
    assert created[1].bases == (f"{APP}.place",)  # type: ignore[attr-defined]
    text = MigrationWriter(changes[APP][0]).as_string()
    assert 'bases=("mtimig.place",),' in text
    assert "parent_link=True," in text


def test_autodetector_adds_a_field_to_a_child_only() -> None:
    changes = detect(_project(Apps()), _project(Apps(), extra_field=True))
    assert ops(changes, APP) == ["AddField"]
    assert changes[APP][0].operations[0].model_name.lower() == "italian"  # type: ignore[attr-defined]
    assert MigrationAutodetector(_project(Apps()), _project(Apps())).changes() == {}


def test_migrate_creates_both_tables_and_the_data_survives(backend: str) -> None:
    klass = type("Migration", (migrations.Migration,), {"operations": operations()})
    migration = klass("0001_initial", APP)
    with orm.connection.schema_editor() as editor:
        state = migration.apply(ProjectState(), editor)
    assert {t for t in orm.connection.introspection.table_names() if t.startswith(APP)} == {
        f"{APP}_place", f"{APP}_restaurant"}
    assert orm.connection.introspection.get_relations(f"{APP}_restaurant")["place_ptr_id"] == (
        "id", f"{APP}_place")
    restaurant = state.apps.get_model(APP, "restaurant")
    restaurant.objects.create(name="Pizzeria", serves_pizza=True)
    add = type("Migration", (migrations.Migration,), {"operations": [
        migrations.AddField("Restaurant", "stars", orm.IntegerField(default=3))]})("0002_stars", APP)
    with orm.connection.schema_editor() as editor:
        after = add.apply(state.clone(), editor)
    got = after.apps.get_model(APP, "restaurant").objects.get()
    assert (got.name, got.serves_pizza, got.stars) == ("Pizzeria", True, 3)
    assert after.apps.get_model(APP, "place").objects.get().name == "Pizzeria"
    with orm.connection.schema_editor() as editor:
        add.unapply(state.clone(), editor)
    with orm.connection.schema_editor() as editor:
        migration.unapply(ProjectState(), editor)
    assert not {t for t in orm.connection.introspection.table_names() if t.startswith(APP)}


def _renamed_project(parent: str) -> ProjectState:
    apps = Apps()
    base = type(parent, (orm.Model,), {"__module__": __name__, "name": orm.CharField(max_length=50),
                                       "Meta": meta(APP, apps)})
    type("Restaurant", (base,), {"__module__": __name__, "serves_pizza": orm.BooleanField(default=False),
                                 "Meta": meta(APP, apps)})
    return ProjectState.from_apps(apps)


class _Renames(MigrationQuestioner):
    def ask_rename_model(self, old_model_state: Any, new_model_state: Any) -> bool:
        return True

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field_instance: Any) -> bool:
        return True


def test_rename_model_of_a_parent_rewrites_the_childrens_bases() -> None:
    state = _project(Apps())
    migrations.RenameModel("Place", "Venue").state_forwards(APP, state)
    assert state.models[(APP, "restaurant")].bases == (f"{APP}.venue",)
    assert state.models[(APP, "italian")].bases == (f"{APP}.restaurant",)  # not a child of Place directly
    assert state.models[(APP, "restaurant")].fields["place_ptr"].deconstruct()[3]["to"] == f"{APP}.venue"
    venue = state.apps.get_model(APP, "venue")
    assert state.apps.get_model(APP, "italian")._meta.get_parent_list()[1] is venue


def test_autodetector_renames_a_parent_and_its_parent_link() -> None:
    changes = detect(_renamed_project("Place"), _renamed_project("Venue"), _Renames())
    assert ops(changes, APP) == ["RenameModel", "RenameField"]
    rename_field = changes[APP][0].operations[1]
    assert (rename_field.old_name, rename_field.new_name) == ("place_ptr", "venue_ptr")  # type: ignore[attr-defined]


def test_migrate_renaming_a_parent_forwards_and_backwards_keeps_the_data(backend: str) -> None:
    before = _renamed_project("Place")
    changes = detect(before, _renamed_project("Venue"), _Renames())
    rename = changes[APP][0]
    create = type("Migration", (migrations.Migration,), {"operations": operations()})("0001_initial", APP)
    with orm.connection.schema_editor() as editor:
        state = create.apply(ProjectState(), editor)
    state.apps.get_model(APP, "restaurant").objects.create(name="Pizzeria", serves_pizza=True)
    try:
        with orm.connection.schema_editor() as editor:
            after = rename.apply(state.clone(), editor)
        tables = {t for t in orm.connection.introspection.table_names() if t.startswith(APP)}
        assert tables == {f"{APP}_venue", f"{APP}_restaurant"}
        assert orm.connection.introspection.get_relations(f"{APP}_restaurant")["venue_ptr_id"] == (
            "id", f"{APP}_venue")
        got = after.apps.get_model(APP, "restaurant").objects.get()
        assert (got.name, got.serves_pizza, got.pk == got.venue_ptr_id) == ("Pizzeria", True, True)
        assert after.apps.get_model(APP, "venue").objects.get().restaurant == got
        with orm.connection.schema_editor() as editor:
            rename.unapply(state.clone(), editor)
        back = state.apps.get_model(APP, "restaurant").objects.get()
        assert (back.name, back.place_ptr_id) == ("Pizzeria", got.pk)
    finally:
        with orm.connection.schema_editor() as editor:
            create.unapply(ProjectState(), editor)
    assert not {t for t in orm.connection.introspection.table_names() if t.startswith(APP)}
