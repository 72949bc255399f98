"""System checks at class creation (issue 16 item 9): Django's check ids, messages and hints."""

from __future__ import annotations

import pytest

import orm
from orm.models.registry import Apps


def meta(apps: Apps, label: str = "checks") -> type:
    return type("Meta", (), {"app_label": label, "apps": apps})


def test_reverse_accessor_clash_between_two_foreign_keys_names_both_and_the_fix() -> None:
    apps = Apps()

    class Person(orm.Model):
        Meta = meta(apps)

    with pytest.raises(orm.ImproperlyConfigured) as info:

        class Pet(orm.Model):
            owner = orm.ForeignKey(Person, on_delete=orm.CASCADE)
            vet = orm.ForeignKey(Person, on_delete=orm.CASCADE)
            Meta = meta(apps)

    message = str(info.value)
    assert message.startswith(
        "fields.E304: Reverse accessor 'Person.pet_set' for 'checks.Pet.vet' clashes "
        "with reverse accessor for 'checks.Pet.owner'."
    )
    assert (
        "HINT: Add or change a related_name argument to the definition for 'checks.Pet.vet' or "
        "'checks.Pet.owner'." in message
    )
    with pytest.raises(LookupError):
        apps.get_model("checks", "pet")  # the refused model was not registered


def test_query_name_clash_is_refused_when_accessors_differ() -> None:
    apps = Apps()

    class Person(orm.Model):
        Meta = meta(apps)

    with pytest.raises(
        orm.ImproperlyConfigured, match=r"^fields\.E305: Reverse query name for 'checks.Pet.vet'"
    ):

        class Pet(orm.Model):
            owner = orm.ForeignKey(
                Person, on_delete=orm.CASCADE, related_name="a", related_query_name="x"
            )
            vet = orm.ForeignKey(
                Person, on_delete=orm.CASCADE, related_name="b", related_query_name="x"
            )
            Meta = meta(apps)


def test_reverse_accessor_clashing_with_a_field_of_the_target() -> None:
    apps = Apps()

    class Author(orm.Model):
        books = orm.IntegerField(default=0)
        Meta = meta(apps)

    with pytest.raises(orm.ImproperlyConfigured) as info:

        class Book(orm.Model):
            author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
            Meta = meta(apps)

    assert str(info.value).startswith(
        "fields.E302: Reverse accessor 'Author.books' for 'checks.Book.author' clashes with field name "
        "'checks.Author.books'. HINT: Rename field 'checks.Author.books', or add/change a related_name"
    )


def test_reverse_query_name_clashing_with_a_field_of_a_later_target() -> None:
    apps = Apps()

    class Book(orm.Model):
        author = orm.ForeignKey("Author", on_delete=orm.CASCADE, related_name="titles")
        Meta = meta(apps)

    with pytest.raises(
        orm.ImproperlyConfigured, match=r"^fields\.E302: .*'checks\.Author\.titles'"
    ):

        class Author(orm.Model):
            titles = orm.CharField(max_length=10)
            Meta = meta(apps)


def test_m2m_accessor_clash_with_a_foreign_key() -> None:
    apps = Apps()

    class Tag(orm.Model):
        Meta = meta(apps)

    with pytest.raises(
        orm.ImproperlyConfigured, match=r"^fields\.E304: Reverse accessor 'Tag\.posts'"
    ):

        class Post(orm.Model):
            main_tag = orm.ForeignKey(Tag, on_delete=orm.CASCADE, related_name="posts")
            tags = orm.ManyToManyField(Tag, related_name="posts")
            Meta = meta(apps)


def test_related_names_that_do_not_clash_are_accepted() -> None:
    apps = Apps()

    class Person(orm.Model):
        Meta = meta(apps)

    class Pet(orm.Model):
        owner = orm.ForeignKey(Person, on_delete=orm.CASCADE, related_name="pets")
        vet = orm.ForeignKey(Person, on_delete=orm.CASCADE, related_name="patients")
        walker = orm.ForeignKey(Person, on_delete=orm.CASCADE, related_name="+")
        sitter = orm.ForeignKey(Person, on_delete=orm.CASCADE, related_name="+")
        Meta = meta(apps)

    assert {
        rel.get_accessor_name() for rel in Person._meta.related_objects if not rel.is_hidden()
    } == {"pets", "patients"}


@pytest.mark.parametrize("related_name", ["not valid", "class", "1st"])
def test_invalid_related_name(related_name: str) -> None:
    apps = Apps()

    class Person(orm.Model):
        Meta = meta(apps)

    with pytest.raises(orm.ImproperlyConfigured) as info:

        class Pet(orm.Model):
            owner = orm.ForeignKey(Person, on_delete=orm.CASCADE, related_name=related_name)
            Meta = meta(apps)

    assert str(info.value) == (
        f"fields.E306: The name '{related_name}' is invalid related_name for field checks.Pet.owner. "
        "HINT: Related name must be a valid Python identifier or end with a '+'."
    )


@pytest.mark.parametrize(
    ("name", "check_id"),
    [("title_", "fields.E001"), ("a__b", "fields.E002"), ("pk", "fields.E003")],
)
def test_bad_field_names(name: str, check_id: str) -> None:
    with pytest.raises(orm.ImproperlyConfigured, match=rf"^{check_id}: .*checks\.Bad\.{name}"):
        type(
            "Bad",
            (orm.Model,),
            {"__module__": __name__, name: orm.CharField(max_length=5), "Meta": meta(Apps())},
        )


def test_id_field_that_is_not_the_primary_key() -> None:
    with pytest.raises(orm.ImproperlyConfigured, match=r"^models\.E004: 'id' can only be used"):

        class Bad(orm.Model):
            id = orm.IntegerField()
            Meta = meta(Apps())


def test_two_fields_on_one_column() -> None:
    with pytest.raises(orm.ImproperlyConfigured) as info:

        class Bad(orm.Model):
            name = orm.CharField(max_length=5)
            label = orm.CharField(max_length=5, db_column="name")
            Meta = meta(Apps())

    assert str(info.value) == (
        "models.E007: Field 'label' of checks.Bad has column name 'name' that is used by another field "
        "('name'). HINT: Specify a 'db_column' for the field."
    )


def test_foreign_key_without_on_delete() -> None:
    with pytest.raises(TypeError, match="on_delete"):
        orm.ForeignKey("Person")


def test_a_model_redefined_in_the_same_module_does_not_clash_with_itself(db: str) -> None:
    apps = Apps()

    class Person(orm.Model):
        name = orm.CharField(max_length=10)
        Meta = meta(apps)

    for _ in range(2):

        class Pet(orm.Model):
            owner = orm.ForeignKey(Person, on_delete=orm.CASCADE, related_name="pets")
            Meta = meta(apps)

    orm.create_tables(Person, Pet)
    person = Person.objects.create(name="p")
    Pet.objects.create(owner=person)
    assert person.pets.count() == 1
