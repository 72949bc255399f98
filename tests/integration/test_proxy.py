"""Proxy models (``Meta.proxy = True``): same table, own managers, ordering and methods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import orm
from orm.exceptions import FieldError
from orm.models.registry import Apps

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrate() runs on the database and commits.
pytestmark = pytest.mark.transactional


def meta(apps: Apps, **extra: Any) -> type:
    return type("Meta", (), {"app_label": "proxyapp", "apps": apps, **extra})


class VipManager(orm.Manager[Any]):
    def get_queryset(self) -> Any:
        return super().get_queryset().filter(kind="vip")


def _models() -> dict[str, Any]:
    apps = Apps()

    class Person(orm.Model):
        name = orm.CharField(max_length=50)
        kind = orm.CharField(max_length=10, default="plain")
        Meta = meta(apps)

        def greet(self) -> str:
            return f"Hi {self.name}"

    class OrderedPerson(Person):
        Meta = meta(apps, proxy=True, ordering=["-name"])

        def greet(self) -> str:
            return f"Dear {self.name}"

    class Vip(OrderedPerson):
        vips = VipManager()
        Meta = meta(apps, proxy=True)

    class Pet(orm.Model):
        owner = orm.ForeignKey(OrderedPerson, on_delete=orm.CASCADE, related_name="pets")
        name = orm.CharField(max_length=50)
        Meta = meta(apps)

    return {"Person": Person, "OrderedPerson": OrderedPerson, "Vip": Vip, "Pet": Pet}


@pytest.fixture
def models(db: str) -> Iterator[dict[str, Any]]:
    found = _models()
    orm.create_tables(*found.values())
    yield found
    orm.drop_tables(*found.values())


def test_proxy_shares_the_table_and_fields(models: dict[str, Any]) -> None:
    person, ordered, vip = models["Person"], models["OrderedPerson"], models["Vip"]
    assert ordered._meta.proxy and vip._meta.proxy and not person._meta.proxy
    assert ordered._meta.db_table == vip._meta.db_table == person._meta.db_table
    assert vip._meta.concrete_model is person
    assert vip._meta.proxy_for_model is ordered
    assert [f.name for f in vip._meta.concrete_fields] == ["id", "name", "kind"]
    assert vip._meta.pk is person._meta.pk


def test_queries_return_proxy_instances_with_their_methods_and_ordering(
    models: dict[str, Any],
) -> None:
    person, ordered = models["Person"], models["OrderedPerson"]
    person.objects.create(name="Ann")
    ordered.objects.create(name="Bob")
    rows = list(ordered.objects.all())
    assert [type(r) for r in rows] == [ordered, ordered]
    assert [r.name for r in rows] == ["Bob", "Ann"]  # the proxy's Meta.ordering
    assert rows[0].greet() == "Dear Bob"
    assert person.objects.get(name="Bob").greet() == "Hi Bob"
    assert ordered.objects.filter(name__startswith="A").count() == 1


def test_own_managers_and_inherited_default_manager(models: dict[str, Any]) -> None:
    person, ordered, vip = models["Person"], models["OrderedPerson"], models["Vip"]
    person.objects.create(name="Ann", kind="vip")
    person.objects.create(name="Bob")
    assert [p.name for p in vip.vips.all()] == ["Ann"]
    assert isinstance(vip.vips.get(), vip)
    assert vip._default_manager is vip.vips
    assert [type(p) for p in ordered.objects.all()] == [ordered, ordered]


def test_save_update_and_delete_through_a_proxy(models: dict[str, Any]) -> None:
    person, ordered = models["Person"], models["OrderedPerson"]
    ann = ordered.objects.create(name="Ann")
    ann.name = "Anne"
    ann.save()
    assert person.objects.get(pk=ann.pk).name == "Anne"
    ann.delete()
    assert person.objects.count() == 0


def test_proxy_does_not_exist_is_a_subclass_of_the_concrete_one(models: dict[str, Any]) -> None:
    person, vip = models["Person"], models["Vip"]
    assert issubclass(vip.DoesNotExist, person.DoesNotExist)
    with pytest.raises(person.DoesNotExist):
        vip.vips.get(name="nobody")


def test_foreign_key_to_a_proxy_targets_the_concrete_table(models: dict[str, Any]) -> None:
    person, ordered, pet = models["Person"], models["OrderedPerson"], models["Pet"]
    ann = ordered.objects.create(name="Ann")
    pet.objects.create(owner=ann, name="Rex")
    rex = pet.objects.select_related("owner").get()
    assert isinstance(rex.owner, ordered) and rex.owner.name == "Ann"
    assert [p.name for p in ann.pets.all()] == ["Rex"]
    assert list(pet.objects.filter(owner__name="Ann").values_list("name", flat=True)) == ["Rex"]
    assert [p.name for p in person.objects.filter(pets__name="Rex")] == ["Ann"]
    assert not hasattr(person.objects.get(pk=ann.pk), "pets")
    person.objects.get(pk=ann.pk).delete()  # cascades through the concrete model
    assert pet.objects.count() == 0


def test_a_relation_to_a_proxy_accepts_concrete_instances(models: dict[str, Any]) -> None:
    person, pet = models["Person"], models["Pet"]
    ann = person.objects.create(name="Ann")
    rex = pet(owner=ann, name="Rex")
    rex.save()
    assert pet.objects.get().owner_id == ann.pk
    with pytest.raises(ValueError, match='"Pet.owner" must be a "OrderedPerson" instance'):
        pet(owner=rex, name="Nope")


async def test_async_twins_on_a_proxy(models: dict[str, Any]) -> None:
    ordered = models["OrderedPerson"]
    await ordered.objects.acreate(name="Ann")
    found = await ordered.objects.aget(name="Ann")
    assert isinstance(found, ordered)


def test_proxy_with_fields_is_refused() -> None:
    apps = Apps()

    class Base(orm.Model):
        Meta = meta(apps)

    with pytest.raises(FieldError, match="Proxy model 'Bad' contains model fields."):
        type(
            "Bad",
            (Base,),
            {"__module__": __name__, "age": orm.IntegerField(), "Meta": meta(apps, proxy=True)},
        )


def test_proxy_of_an_abstract_model_only_is_refused() -> None:
    apps = Apps()

    class Abstract(orm.Model):
        Meta = meta(apps, abstract=True)

    with pytest.raises(TypeError, match="Proxy model 'Bad' has no non-abstract model base class."):
        type("Bad", (Abstract,), {"__module__": __name__, "Meta": meta(apps, proxy=True)})


def test_proxy_of_an_abstract_model_with_fields_is_refused() -> None:
    apps = Apps()

    class Abstract(orm.Model):
        age = orm.IntegerField()
        Meta = meta(apps, abstract=True)

    class Base(orm.Model):
        Meta = meta(apps)

    with pytest.raises(
        TypeError, match="Abstract base class containing model fields not permitted"
    ):
        type("Bad", (Abstract, Base), {"__module__": __name__, "Meta": meta(apps, proxy=True)})


def test_proxy_of_two_concrete_models_is_refused() -> None:
    apps = Apps()

    class One(orm.Model):
        Meta = meta(apps)

    class Two(orm.Model):
        Meta = meta(apps)

    with pytest.raises(
        TypeError, match="Proxy model 'Bad' has more than one non-abstract model base class."
    ):
        type("Bad", (One, Two), {"__module__": __name__, "Meta": meta(apps, proxy=True)})


def test_migration_state_of_a_proxy_has_no_fields_and_names_its_base() -> None:
    from orm.migrations.state import ModelState

    found = _models()
    ordered = ModelState.from_model(found["OrderedPerson"])
    assert (ordered.fields, ordered.bases) == ({}, ("proxyapp.person",))
    assert ordered.options["proxy"] is True and ordered.options["ordering"] == ["-name"]
    vip = ModelState.from_model(found["Vip"])
    assert vip.bases == ("proxyapp.orderedperson",)  # a proxy of a proxy names the proxy, as Django
    assert "ordering" not in vip.options  # inherited, not its own Meta's


def test_migration_states_and_the_autodetector_create_proxies_after_their_base() -> None:
    from orm.migrations import ProjectState
    from orm.migrations.autodetector import MigrationAutodetector
    from orm.migrations.writer import MigrationWriter

    found = _models()
    state = ProjectState.from_apps(found["Person"]._meta.apps)
    assert sorted(key[1] for key in state.models) == ["orderedperson", "person", "pet", "vip"]
    changes = MigrationAutodetector(ProjectState({}), state).changes()
    created = [
        op for m in changes["proxyapp"] for op in m.operations if type(op).__name__ == "CreateModel"
    ]
    names = [op.name for op in created]
    assert names.index("Person") < names.index("OrderedPerson") < names.index("Vip")
    ordered = created[names.index("OrderedPerson")]
    assert (ordered.fields, ordered.bases) == ([], ("proxyapp.person",))
    assert ordered.options == {"proxy": True, "ordering": ["-name"]}
    text = MigrationWriter(changes["proxyapp"][0]).as_string()
    assert 'bases=("proxyapp.person",),' in text and '"proxy": True' in text
    assert (
        MigrationAutodetector(state, ProjectState.from_apps(found["Person"]._meta.apps)).changes()
        == {}
    )
    # A relation to a proxy names the proxy, as Django; its column refers to the concrete table.
    pet_owner = state.models["proxyapp", "pet"].fields["owner"]
    assert pet_owner.remote_field.model == "proxyapp.orderedperson"
    historical_owner = state.apps.get_model("proxyapp", "pet")._meta.get_field("owner")
    assert historical_owner.remote_field.model is state.apps.get_model("proxyapp", "orderedperson")
    rendered = state.apps.get_model("proxyapp", "vip")
    assert rendered._meta.proxy and rendered._meta.concrete_model is state.apps.get_model(
        "proxyapp", "person"
    )
    assert [f.name for f in rendered._meta.concrete_fields] == ["id", "name", "kind"]


def test_removing_a_proxy_deletes_its_state_only() -> None:
    from orm.migrations import ProjectState
    from orm.migrations.autodetector import MigrationAutodetector

    found = _models()
    before = ProjectState.from_apps(found["Person"]._meta.apps)
    after = before.clone()
    after.remove_model("proxyapp", "vip")
    changes = MigrationAutodetector(before, after).changes()
    assert [(type(op).__name__, op.name) for op in changes["proxyapp"][0].operations] == [
        ("DeleteModel", "Vip")
    ]


def test_migrate_creates_and_drops_no_table_for_a_proxy(db: str) -> None:
    from orm.migrations import Migration, ProjectState
    from orm.migrations.autodetector import MigrationAutodetector

    found = _models()
    state = ProjectState.from_apps(found["Person"]._meta.apps)
    changes = MigrationAutodetector(ProjectState({}), state).changes()
    migration: Migration = changes["proxyapp"][0]
    with orm.connection.schema_editor() as editor:
        after = migration.apply(ProjectState({}), editor)
    tables = set(orm.connection.introspection.table_names())
    assert {"proxyapp_person", "proxyapp_pet"} <= tables
    assert not {"proxyapp_orderedperson", "proxyapp_vip"} & tables
    assert (
        after.apps.get_model("proxyapp", "vip").objects.count() == 0
    )  # the historical proxy reads the table
    from orm import migrations

    drop = type(
        "Migration", (migrations.Migration,), {"operations": [migrations.DeleteModel("Vip")]}
    )("0002_drop", "proxyapp")
    with orm.connection.schema_editor() as editor:
        drop.apply(after.clone(), editor)
    assert set(orm.connection.introspection.table_names()) == tables
    with orm.connection.schema_editor() as editor:
        drop.unapply(after.clone(), editor)
    assert set(orm.connection.introspection.table_names()) == tables
    try:
        ann = found["OrderedPerson"].objects.create(name="Ann")
        found["Pet"].objects.create(owner=ann, name="Rex")
        assert [p.owner.name for p in found["Pet"].objects.all()] == ["Ann"]
    finally:
        orm.drop_tables(found["Pet"], found["Person"])
