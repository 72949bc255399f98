"""Relations: foreign keys and one-to-ones both ways, many-to-many (auto and through), related managers."""

from __future__ import annotations

import datetime

import pytest

import orm
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import (
    Author,
    Book,
    Category,
    Group,
    Membership,
    Nullified,
    Owner,
    Person,
    Place,
    Profile,
    Restaurant,
    Tag,
)

# ---------------------------------------------------------------- foreign key


def test_forward_foreign_key_loads_once_then_is_cached(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    book = Book.objects.get(pk=library.basics.pk)
    assert book.author_id == library.alice.pk
    with count_queries() as ctx:
        assert book.author == library.alice
        assert book.author.name == "Alice"
    assert len(ctx) == 1


def test_forward_foreign_key_reassignment(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    book = Book.objects.get(pk=library.basics.pk)
    with count_queries() as ctx:
        book.author = library.bob
        assert book.author_id == library.bob.pk
        assert book.author is library.bob
    assert len(ctx) == 0
    book.save()
    assert Book.objects.get(pk=book.pk).author.name == "Bob"
    # Setting the attname directly invalidates the cached object.
    book.author_id = library.alice.pk
    assert book.author.name == "Alice"


def test_foreign_key_filtering_by_instance_pk_and_attname(library: Library) -> None:
    titles = ["Advanced Python", "Python Basics"]
    for kwargs in (
        {"author": library.alice},
        {"author": library.alice.pk},
        {"author_id": library.alice.pk},
        {"author__pk": library.alice.pk},
        {"author__in": [library.alice]},
    ):
        assert (
            list(Book.objects.filter(**kwargs).order_by("title").values_list("title", flat=True))
            == titles
        )


def test_reverse_foreign_key_manager(library: Library) -> None:
    assert list(library.alice.books.order_by("title").values_list("title", flat=True)) == [
        "Advanced Python",
        "Python Basics",
    ]
    assert library.alice.books.count() == 2
    assert library.carol.books.count() == 0
    assert list(library.carol.books.all()) == []
    assert library.alice.books.filter(pages__gt=300).get().title == "Advanced Python"
    assert library.alice.books.get(title="Python Basics") == library.basics
    with pytest.raises(Book.DoesNotExist):
        library.alice.books.get(title="SQL 101")  # Bob's


def test_reverse_manager_sets_the_back_reference(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    books = list(library.alice.books.all())
    with count_queries() as ctx:
        assert all(book.author is library.alice for book in books)
    assert len(ctx) == 0


def test_reverse_accessor_cannot_be_assigned(library: Library) -> None:
    with pytest.raises(TypeError, match="set\\(\\)"):
        library.alice.books = []


def test_reverse_manager_on_unsaved_instance_raises(db: str) -> None:
    with pytest.raises(ValueError, match="primary key"):
        Author(name="x").books.count()


def test_related_manager_create_get_or_create_update_or_create(library: Library) -> None:
    created = library.carol.books.create(title="Carol's First", pages=10)
    assert created.author_id == library.carol.pk
    book, was_created = library.carol.books.get_or_create(title="Carol's First")
    assert (book, was_created) == (created, False)
    book, was_created = library.carol.books.get_or_create(title="Second", defaults={"pages": 20})
    assert was_created and book.author_id == library.carol.pk and book.pages == 20
    # get_or_create only looks within the relation: Alice's title makes a new Carol book.
    book, was_created = library.carol.books.get_or_create(title="Python Basics")
    assert was_created and book.author_id == library.carol.pk
    book, was_created = library.carol.books.update_or_create(title="Second", defaults={"pages": 21})
    assert not was_created and Book.objects.get(pk=book.pk).pages == 21
    book, was_created = library.carol.books.update_or_create(title="Third", defaults={"pages": 30})
    assert was_created and book.author_id == library.carol.pk and book.pages == 30
    assert library.carol.books.count() == 4


def test_related_manager_add_moves_objects(library: Library) -> None:
    library.carol.books.add(library.sql101)
    assert Book.objects.get(pk=library.sql101.pk).author_id == library.carol.pk
    assert library.bob.books.count() == 1
    with pytest.raises(TypeError):
        library.carol.books.add(library.python)


def test_remove_and_clear_need_a_nullable_foreign_key(library: Library) -> None:
    with pytest.raises(AttributeError):
        library.alice.books.remove(library.basics)
    with pytest.raises(AttributeError):
        library.alice.books.clear()
    assert library.alice.books.count() == 2


def test_nullable_related_manager_remove_clear_set(db: str) -> None:
    owner = Owner.objects.create(name="o")
    other = Owner.objects.create(name="other")
    a, b, c = (Nullified.objects.create(owner=owner, label=x) for x in "abc")
    d = Nullified.objects.create(owner=other, label="d")

    owner.nullified.remove(a)
    assert a.owner_id is None
    assert Nullified.objects.get(pk=a.pk).owner_id is None
    assert sorted(owner.nullified.values_list("label", flat=True)) == ["b", "c"]

    owner.nullified.set([c, d])
    assert sorted(owner.nullified.values_list("label", flat=True)) == ["c", "d"]
    assert Nullified.objects.get(pk=b.pk).owner_id is None
    assert other.nullified.count() == 0

    owner.nullified.clear()
    assert owner.nullified.count() == 0
    assert Nullified.objects.filter(owner__isnull=True).count() == 4


def test_self_referential_foreign_key(db: str) -> None:
    root = Category.objects.create(name="root")
    a = Category.objects.create(name="a", parent=root)
    Category.objects.create(name="b", parent=root)
    Category.objects.create(name="a1", parent=a)
    assert sorted(root.children.values_list("name", flat=True)) == ["a", "b"]
    assert Category.objects.get(name="a1").parent.parent == root
    assert list(Category.objects.filter(parent__parent=root).values_list("name", flat=True)) == [
        "a1"
    ]
    assert list(Category.objects.filter(parent__isnull=True).values_list("name", flat=True)) == [
        "root"
    ]
    assert sorted(Category.objects.filter(children__name="a1").values_list("name", flat=True)) == [
        "a"
    ]


# ------------------------------------------------------------------ one-to-one


def test_one_to_one_both_ways(db: str, count_queries: type[QueryCounter]) -> None:
    place = Place.objects.create(name="Diner")
    restaurant = Restaurant.objects.create(place=place, serves_pizza=True)
    assert restaurant.pk == place.pk
    fetched = Restaurant.objects.get(pk=place.pk)
    assert fetched.place == place
    fresh_place = Place.objects.get(pk=place.pk)
    with count_queries() as ctx:
        assert fresh_place.restaurant == restaurant
        assert fresh_place.restaurant.serves_pizza is True
    assert len(ctx) == 1
    assert Place.objects.get(restaurant__serves_pizza=True) == place
    assert Restaurant.objects.get(place__name="Diner") == restaurant


def test_missing_reverse_one_to_one_raises_related_object_does_not_exist(db: str) -> None:
    place = Place.objects.create(name="Empty lot")
    with pytest.raises(Restaurant.DoesNotExist):
        place.restaurant  # noqa: B018
    with pytest.raises(Place.restaurant.RelatedObjectDoesNotExist):
        place.restaurant  # noqa: B018
    assert not hasattr(place, "restaurant")


@pytest.mark.transactional  # a database error inside the test's transaction
def test_one_to_one_is_unique(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    Profile.objects.create(author=author, bio="one")
    with pytest.raises(orm.IntegrityError):
        Profile.objects.create(author=author, bio="two")
    assert Author.objects.get(pk=author.pk).profile.bio == "one"
    assert Author.objects.get(profile__bio="one") == author


def test_one_to_one_assignment_sets_both_caches(db: str, count_queries: type[QueryCounter]) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    profile = Profile(author=author, bio="x")
    profile.save()
    with count_queries() as ctx:
        assert author.profile is profile
    assert len(ctx) == 0


# --------------------------------------------------------- many-to-many (auto)


def test_many_to_many_both_ways(library: Library) -> None:
    assert list(library.advanced.tags.order_by("name").values_list("name", flat=True)) == [
        "python",
        "sql",
    ]
    assert list(library.python.books.order_by("title").values_list("title", flat=True)) == [
        "Advanced Python",
        "Django Unchained",
        "Python Basics",
    ]
    assert library.sql.books.count() == 2
    assert library.django.books.get() == library.unchained


def test_many_to_many_add_is_idempotent_and_accepts_pks(library: Library) -> None:
    library.sql101.tags.add(library.sql, library.django.pk, library.django)
    assert sorted(library.sql101.tags.values_list("name", flat=True)) == ["django", "sql"]
    assert Book.tags.through.objects.filter(book=library.sql101).count() == 2


def test_many_to_many_remove_set_clear(library: Library) -> None:
    book = library.advanced
    book.tags.remove(library.sql)
    assert list(book.tags.values_list("name", flat=True)) == ["python"]
    book.tags.set([library.django, library.sql])
    assert sorted(book.tags.values_list("name", flat=True)) == ["django", "sql"]
    book.tags.set([library.sql.pk], clear=True)
    assert list(book.tags.values_list("name", flat=True)) == ["sql"]
    book.tags.clear()
    assert book.tags.count() == 0
    # Other books keep their links.
    assert library.sql101.tags.count() == 1


def test_many_to_many_reverse_side_add_and_remove(library: Library) -> None:
    library.django.books.add(library.sql101)
    assert sorted(library.sql101.tags.values_list("name", flat=True)) == ["django", "sql"]
    library.django.books.remove(library.unchained)
    assert list(library.django.books.values_list("title", flat=True)) == ["SQL 101"]


def test_many_to_many_create_get_or_create_update_or_create(library: Library) -> None:
    book = library.sql101
    new = book.tags.create(name="databases")
    assert list(new.books.all()) == [book]
    tag, created = book.tags.get_or_create(name="databases")
    assert (tag, created) == (new, False)
    # An existing tag that is not linked yet: created within the relation's view.
    tag, created = book.tags.get_or_create(name="beginner")
    assert created and book.tags.filter(name="beginner").exists()
    tag, created = book.tags.update_or_create(name="beginner", defaults={"name": "novice"})
    assert not created and tag.name == "novice"
    assert Tag.objects.filter(name="novice").exists()
    tag, created = book.tags.update_or_create(name="extra")
    assert created and book.tags.filter(name="extra").exists()


def test_many_to_many_direct_assignment_is_refused(library: Library) -> None:
    with pytest.raises(TypeError, match="set\\(\\)"):
        library.basics.tags = [library.sql]
    with pytest.raises(TypeError, match="set\\(\\)"):
        library.sql.books = []


def test_many_to_many_on_unsaved_instance_raises(db: str) -> None:
    with pytest.raises(ValueError):
        Book(title="unsaved").tags.add(1)


def test_many_to_many_through_table_name_and_rows(library: Library) -> None:
    through = Book.tags.through
    pairs = sorted(through.objects.values_list("book__title", "tag__name"))
    assert pairs == [
        ("Advanced Python", "python"),
        ("Advanced Python", "sql"),
        ("Django Unchained", "django"),
        ("Django Unchained", "python"),
        ("Python Basics", "python"),
        ("SQL 101", "sql"),
    ]


# ------------------------------------------------------ many-to-many (through)


def make_club() -> tuple[Person, Person, Group]:
    ann = Person.objects.create(name="Ann")
    ben = Person.objects.create(name="Ben")
    group = Group.objects.create(name="Club")
    Membership.objects.create(
        person=ann, group=group, date_joined=datetime.date(2020, 1, 1), invite_reason="founder"
    )
    return ann, ben, group


def test_through_model_both_ways(db: str) -> None:
    ann, ben, group = make_club()
    assert list(group.members.all()) == [ann]
    assert list(ann.groups.all()) == [group]
    assert list(ben.groups.all()) == []
    assert Person.objects.get(membership__invite_reason="founder") == ann
    assert Group.objects.get(members__name="Ann") == group
    assert (
        Person.objects.filter(groups__name="Club", membership__date_joined__year=2020).get() == ann
    )


def test_through_model_add_with_through_defaults(db: str) -> None:
    ann, ben, group = make_club()
    group.members.add(
        ben, through_defaults={"date_joined": datetime.date(2024, 5, 1), "invite_reason": "friend"}
    )
    assert list(group.members.all()) == [ann, ben]
    membership = Membership.objects.get(person=ben)
    assert membership.date_joined == datetime.date(2024, 5, 1)
    assert membership.invite_reason == "friend"


def test_through_model_set_remove_clear(db: str) -> None:
    ann, ben, group = make_club()
    carl = Person.objects.create(name="Carl")
    group.members.set([ben, carl], through_defaults={"date_joined": datetime.date(2024, 1, 1)})
    assert list(group.members.all()) == [ben, carl]
    group.members.remove(ben)
    assert list(group.members.all()) == [carl]
    group.members.clear()
    assert Membership.objects.count() == 0
    assert Person.objects.count() == 3


def test_through_model_create(db: str) -> None:
    _, _, group = make_club()
    dora = group.members.create(
        name="Dora", through_defaults={"date_joined": datetime.date(2024, 2, 2)}
    )
    assert Membership.objects.get(person=dora).date_joined == datetime.date(2024, 2, 2)
    assert dora.groups.get() == group


def test_through_model_unique_together(db: str) -> None:
    ann, _, group = make_club()
    with pytest.raises(orm.IntegrityError):
        Membership.objects.create(person=ann, group=group, date_joined=datetime.date(2021, 1, 1))
