"""Deletion and every ``on_delete`` rule: CASCADE, PROTECT, RESTRICT, SET_NULL, SET_DEFAULT, DO_NOTHING."""

from __future__ import annotations

import pytest

import orm
from tests.integration.conftest import Library
from tests.models import (
    Album,
    Artist,
    Author,
    Book,
    Category,
    Defaulted,
    Group,
    Membership,
    Nullified,
    Owner,
    Person,
    Place,
    Profile,
    Protected,
    Restaurant,
    Song,
    Tag,
    Untouched,
)

# -------------------------------------------------------------------- CASCADE


def test_cascade_counts_per_model_including_many_to_many_rows(library: Library) -> None:
    # Alice: 2 books; their tag links: basics-python, advanced-python, advanced-sql.
    total, per_model = library.alice.delete()
    assert per_model == {"tests.Author": 1, "tests.Book": 2, "tests.Book_tags": 3}
    assert total == 6
    assert list(Book.objects.order_by("title").values_list("title", flat=True)) == [
        "Django Unchained",
        "SQL 101",
    ]
    assert Tag.objects.count() == 3  # tags themselves are untouched
    assert Book.tags.through.objects.count() == 3


def test_queryset_delete_cascades_and_returns_counts(library: Library) -> None:
    total, per_model = Author.objects.filter(name__in=["Alice", "Carol"]).delete()
    assert per_model == {"tests.Author": 2, "tests.Book": 2, "tests.Book_tags": 3}
    assert total == 7
    assert list(Author.objects.values_list("name", flat=True)) == ["Bob"]


def test_delete_of_nothing_returns_zero(db: str) -> None:
    assert Author.objects.filter(name="nobody").delete() == (0, {})


def test_deleting_a_many_to_many_target_removes_only_links(library: Library) -> None:
    total, per_model = library.python.delete()
    assert per_model == {"tests.Tag": 1, "tests.Book_tags": 3}
    assert total == 4
    assert Book.objects.count() == 4
    assert list(library.advanced.tags.values_list("name", flat=True)) == ["sql"]


def test_cascade_through_one_to_one(db: str) -> None:
    place = Place.objects.create(name="Diner")
    Restaurant.objects.create(place=place, serves_pizza=True)
    assert place.delete() == (2, {"tests.Place": 1, "tests.Restaurant": 1})
    assert Restaurant.objects.count() == 0


def test_cascade_from_author_to_profile(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    Profile.objects.create(author=author, bio="hi")
    author.delete()
    assert Profile.objects.count() == 0


def test_cascade_through_custom_through_model(db: str) -> None:
    import datetime

    ann = Person.objects.create(name="Ann")
    group = Group.objects.create(name="G")
    Membership.objects.create(person=ann, group=group, date_joined=datetime.date(2024, 1, 1))
    assert group.delete() == (2, {"tests.Group": 1, "tests.Membership": 1})
    assert Person.objects.count() == 1


def test_cascade_is_recursive_on_self_referential_keys(db: str) -> None:
    root = Category.objects.create(name="root")
    child = Category.objects.create(name="child", parent=root)
    Category.objects.create(name="grandchild", parent=child)
    Category.objects.create(name="other")
    assert root.delete() == (3, {"tests.Category": 3})
    assert list(Category.objects.values_list("name", flat=True)) == ["other"]


# -------------------------------------------------------------------- PROTECT


def test_protect_refuses_and_deletes_nothing(db: str) -> None:
    owner = Owner.objects.create(name="o")
    guard = Protected.objects.create(owner=owner)
    with pytest.raises(orm.ProtectedError) as excinfo:
        owner.delete()
    assert set(excinfo.value.protected_objects) == {guard}
    assert "Protected.owner" in str(excinfo.value)
    assert owner.pk is not None
    assert Owner.objects.count() == 1
    assert Protected.objects.count() == 1
    with pytest.raises(orm.ProtectedError):
        Owner.objects.all().delete()
    assert Owner.objects.count() == 1


def test_protect_allows_delete_once_references_are_gone(db: str) -> None:
    owner = Owner.objects.create(name="o")
    Protected.objects.create(owner=owner)
    Protected.objects.all().delete()
    assert owner.delete() == (1, {"tests.Owner": 1})


# ------------------------------------------------------------------- RESTRICT


def make_discography() -> tuple[Artist, Album, Song]:
    artist = Artist.objects.create(name="Band")
    album = Album.objects.create(artist=artist, title="First")
    song = Song.objects.create(artist=artist, album=album, title="Hit")
    return artist, album, song


def test_restrict_refuses_direct_delete(db: str) -> None:
    _, album, song = make_discography()
    with pytest.raises(orm.RestrictedError) as excinfo:
        album.delete()
    assert set(excinfo.value.restricted_objects) == {song}
    assert Album.objects.count() == 1
    assert Song.objects.count() == 1


def test_restrict_allows_delete_when_the_referrer_is_cascaded_too(db: str) -> None:
    artist, _, _ = make_discography()
    total, per_model = artist.delete()
    assert per_model == {"tests.Artist": 1, "tests.Album": 1, "tests.Song": 1}
    assert total == 3
    assert Song.objects.count() == Album.objects.count() == 0


def test_restrict_still_refuses_when_another_artists_song_points_at_the_album(db: str) -> None:
    artist, album, _ = make_discography()
    other = Artist.objects.create(name="Guest")
    Song.objects.create(artist=other, album=album, title="Feature")
    with pytest.raises(orm.RestrictedError):
        artist.delete()
    assert Artist.objects.count() == 2
    assert Song.objects.count() == 2


# ------------------------------------------------------------------- SET_NULL


def test_set_null(db: str) -> None:
    owner = Owner.objects.create(name="o")
    keep = Owner.objects.create(name="keep")
    a = Nullified.objects.create(owner=owner, label="a")
    b = Nullified.objects.create(owner=keep, label="b")
    assert owner.delete() == (1, {"tests.Owner": 1})
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.owner_id is None
    assert a.owner is None
    assert b.owner_id == keep.pk


# ---------------------------------------------------------------- SET_DEFAULT


def test_set_default(db: str) -> None:
    fallback = Owner.objects.create(name="fallback")
    owner = Owner.objects.create(name="o")
    item = Defaulted.objects.create(owner=owner)
    owner.delete()
    item.refresh_from_db()
    assert item.owner_id == fallback.pk
    assert Defaulted.objects.filter(owner__name="fallback").count() == 1


def test_default_of_foreign_key_is_used_on_create(db: str) -> None:
    item = Defaulted.objects.create()
    assert item.owner.name == "fallback"


# ----------------------------------------------------------------- DO_NOTHING


@pytest.mark.transactional  # a database error inside the test's transaction
def test_do_nothing_leaves_the_database_constraint_to_decide(db: str) -> None:
    owner = Owner.objects.create(name="o")
    Untouched.objects.create(owner=owner)
    with pytest.raises(orm.IntegrityError) as excinfo:
        owner.delete()
    assert excinfo.value.__cause__ is not None
    # The whole deletion was rolled back.
    assert Owner.objects.filter(pk=owner.pk).exists()
    assert Untouched.objects.count() == 1


def test_do_nothing_without_referrers_deletes(db: str) -> None:
    owner = Owner.objects.create(name="o")
    assert owner.delete() == (1, {"tests.Owner": 1})


# ------------------------------------------------------------------- misc


def test_delete_rejects_sliced_and_values_querysets(library: Library) -> None:
    with pytest.raises(TypeError):
        Book.objects.all()[:1].delete()
    with pytest.raises(TypeError):
        Book.objects.values("title").delete()
    assert Book.objects.count() == 4


def test_mixed_rules_in_one_deletion_are_atomic(db: str) -> None:
    # One owner with a SET_NULL referrer and a PROTECT referrer: nothing changes.
    owner = Owner.objects.create(name="o")
    loose = Nullified.objects.create(owner=owner)
    Protected.objects.create(owner=owner)
    with pytest.raises(orm.ProtectedError):
        owner.delete()
    loose.refresh_from_db()
    assert loose.owner_id == owner.pk
