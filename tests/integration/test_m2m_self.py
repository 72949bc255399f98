"""Many-to-many on self (issue 16 item 6): symmetrical by default, symmetrical=False,
through models on self, and their migrations, on both backends."""

from __future__ import annotations

import datetime
import types
from typing import Any

import pytest

import orm
from orm.migrations import Migration, MigrationAutodetector, MigrationWriter, ProjectState
from tests.migrations.autodetector_support import char, model, ordered, state

APP = "m2m_self_tests"


class Person(orm.Model):
    name = orm.CharField(max_length=20)
    friends = orm.ManyToManyField("self")
    follows = orm.ManyToManyField("self", symmetrical=False, related_name="followers")
    idols = orm.ManyToManyField("self", symmetrical=False)
    pals = orm.ManyToManyField("self", through="Palship")

    class Meta:
        app_label = APP


class Palship(orm.Model):
    from_person = orm.ForeignKey(Person, on_delete=orm.CASCADE, related_name="+")
    to_person = orm.ForeignKey(Person, on_delete=orm.CASCADE, related_name="+")
    since = orm.DateField()

    class Meta:
        app_label = APP


@pytest.fixture
def people(db: str) -> dict[str, Any]:
    orm.create_tables(Person, Palship)
    return {name: Person.objects.create(name=name) for name in ("ann", "bob", "cy", "dee")}


def names(manager: Any) -> list[str]:
    return sorted(manager.values_list("name", flat=True))


def test_symmetrical_by_default_and_no_reverse_accessor(people: dict[str, Any]) -> None:
    ann, bob, cy = people["ann"], people["bob"], people["cy"]
    ann.friends.add(bob, cy)
    assert names(ann.friends) == ["bob", "cy"]
    assert names(bob.friends) == ["ann"] and names(cy.friends) == ["ann"]
    assert Person.friends.through.objects.count() == 4  # each link stored both ways
    rel = Person._meta.get_field("friends").remote_field
    assert rel.is_hidden() and not hasattr(Person, rel.get_accessor_name())
    # person_set is the reverse accessor of `idols` (symmetrical=False), not of friends
    assert Person.person_set.rel is Person._meta.get_field("idols").remote_field
    assert Person._meta.get_field("friends").remote_field.symmetrical
    assert names(Person.objects.filter(friends=bob)) == ["ann"]


def test_symmetrical_remove_clear_set_write_both_directions(people: dict[str, Any]) -> None:
    ann, bob, cy, dee = people["ann"], people["bob"], people["cy"], people["dee"]
    ann.friends.add(bob, cy, dee)
    bob.friends.remove(ann)  # removed from the other side
    assert names(ann.friends) == ["cy", "dee"] and names(bob.friends) == []
    cy.friends.clear()
    assert names(ann.friends) == ["dee"] and names(cy.friends) == []
    ann.friends.set([bob, cy])
    assert names(ann.friends) == ["bob", "cy"]
    assert (
        names(dee.friends) == [] and names(bob.friends) == ["ann"] and names(cy.friends) == ["ann"]
    )
    bob.friends.add(ann)  # already linked both ways: nothing duplicated
    assert Person.friends.through.objects.count() == 4


async def test_symmetrical_async_twins(people: dict[str, Any]) -> None:
    ann, bob = people["ann"], people["bob"]
    await ann.friends.aadd(bob)
    assert [p.name async for p in bob.friends.all()] == ["ann"]
    await bob.friends.aremove(ann)
    assert await ann.friends.acount() == 0


def test_symmetrical_adding_self(people: dict[str, Any]) -> None:
    ann = people["ann"]
    ann.friends.add(ann)
    assert names(ann.friends) == ["ann"]
    assert Person.friends.through.objects.count() == 1
    ann.friends.remove(ann)
    assert Person.friends.through.objects.count() == 0


def test_non_symmetrical_with_related_name(people: dict[str, Any]) -> None:
    ann, bob = people["ann"], people["bob"]
    ann.follows.add(bob)
    assert names(ann.follows) == ["bob"] and names(bob.follows) == []
    assert names(bob.followers) == ["ann"] and names(ann.followers) == []
    bob.followers.remove(ann)
    assert names(ann.follows) == []


def test_non_symmetrical_default_reverse_accessor(people: dict[str, Any]) -> None:
    ann, bob = people["ann"], people["bob"]
    ann.idols.add(bob)
    assert names(bob.person_set) == ["ann"] and names(ann.person_set) == []
    assert names(Person.objects.filter(person__name="ann")) == ["bob"]


def test_through_model_on_self_is_symmetrical(people: dict[str, Any]) -> None:
    ann, bob = people["ann"], people["bob"]
    day = datetime.date(2024, 1, 2)
    ann.pals.add(bob, through_defaults={"since": day})
    assert names(ann.pals) == ["bob"] and names(bob.pals) == ["ann"]
    assert sorted(
        (p.from_person_id, p.to_person_id, p.since) for p in Palship.objects.all()
    ) == sorted([(ann.pk, bob.pk, day), (bob.pk, ann.pk, day)])
    ann.pals.remove(bob)
    assert Palship.objects.count() == 0


def test_auto_join_table_names_columns_from_and_to() -> None:
    through = Person.friends.through
    assert through._meta.db_table == f"{APP}_person_friends"
    assert [f.column for f in through._meta.concrete_fields] == [
        "id",
        "from_person_id",
        "to_person_id",
    ]


def test_symmetrical_to_another_model_is_refused() -> None:
    with pytest.raises(
        ValueError, match="symmetrical=True is only for a ManyToManyField to its own model"
    ):
        type(
            "Odd",
            (orm.Model,),
            {
                "__module__": __name__,
                "people": orm.ManyToManyField(Person, symmetrical=True),
                "Meta": type("Meta", (), {"app_label": "m2m_self_bad"}),
            },
        )


def test_deconstruct_keeps_symmetry() -> None:
    friends = Person._meta.get_field("friends")
    assert friends.deconstruct()[3]["symmetrical"] is True
    assert friends.deconstruct()[3]["to"] == f"{APP}.person"
    assert "symmetrical" not in orm.ManyToManyField("self").deconstruct()[3]
    assert orm.ManyToManyField("self", symmetrical=False).deconstruct()[3]["symmetrical"] is False
    follows = Person._meta.get_field("follows")
    assert "symmetrical" not in follows.deconstruct()[3]
    assert (
        follows.clone().remote_field.symmetrical is False
        and friends.clone().remote_field.symmetrical
    )


def test_migration_of_m2m_on_self_applies_and_links_both_ways(backend: str) -> None:
    app = "m2m_self_mig"
    after = state(
        model(
            f"{app}.Member",
            {
                "name": char(20),
                "friends": orm.ManyToManyField("self"),
                "follows": orm.ManyToManyField("self", symmetrical=False, related_name="followers"),
            },
        )
    )
    migrations: list[Migration] = []
    for migration in ordered(MigrationAutodetector(ProjectState(), after).changes()):
        module = types.ModuleType(migration.name)
        exec(
            compile(MigrationWriter(migration).as_string(), migration.name, "exec"), module.__dict__
        )
        migrations.append(module.Migration(migration.name, migration.app_label))
    current = ProjectState()
    for migration in migrations:
        with orm.connection.schema_editor() as editor:
            current = migration.apply(current.clone(), editor)
    columns = [
        c.name for c in orm.connection.introspection.get_table_description(f"{app}_member_friends")
    ]
    assert columns == ["id", "from_member_id", "to_member_id"]
    member = current.apps.get_model(app, "Member")
    a, b = member.objects.create(name="a"), member.objects.create(name="b")
    a.friends.add(b)
    a.follows.add(b)
    assert list(b.friends.values_list("name", flat=True)) == ["a"]
    assert list(b.followers.values_list("name", flat=True)) == ["a"]
    assert list(b.follows.values_list("name", flat=True)) == []
