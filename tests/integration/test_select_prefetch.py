"""``select_related`` and ``prefetch_related``: the right objects, in the expected number of queries."""

from __future__ import annotations

import datetime

import pytest

import orm
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import (
    Album,
    Artist,
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
    Song,
    Tag,
)

# -------------------------------------------------------------- select_related


def test_select_related_loads_foreign_key_in_one_query(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        books = list(Book.objects.select_related("author").order_by("title"))
        pairs = [(b.title, b.author.name, b.author.email) for b in books]
    assert len(ctx) == 1
    assert pairs == [
        ("Advanced Python", "Alice", "alice@example.com"),
        ("Django Unchained", "Bob", "bob@example.com"),
        ("Python Basics", "Alice", "alice@example.com"),
        ("SQL 101", "Bob", "bob@example.com"),
    ]
    # The related objects are complete instances with converted values.
    assert isinstance(books[0].author.created, datetime.datetime)
    assert books[0].author.created.utcoffset() == datetime.timedelta(0)
    assert books[0].author == library.alice


def test_select_related_nested(db: str, count_queries: type[QueryCounter]) -> None:
    artist = Artist.objects.create(name="Band")
    album = Album.objects.create(artist=artist, title="First")
    Song.objects.create(artist=artist, album=album, title="Hit")
    Song.objects.create(artist=artist, album=album, title="Miss")
    with count_queries() as ctx:
        songs = list(Song.objects.select_related("album__artist", "artist").order_by("title"))
        got = [(s.title, s.album.title, s.album.artist.name, s.artist.name) for s in songs]
    assert len(ctx) == 1
    assert got == [("Hit", "First", "Band", "Band"), ("Miss", "First", "Band", "Band")]


def test_select_related_nullable_foreign_key(db: str, count_queries: type[QueryCounter]) -> None:
    owner = Owner.objects.create(name="o")
    Nullified.objects.create(owner=owner, label="owned")
    Nullified.objects.create(owner=None, label="orphan")
    with count_queries() as ctx:
        rows = {n.label: n.owner for n in Nullified.objects.select_related("owner")}
    assert len(ctx) == 1
    assert rows == {"owned": owner, "orphan": None}


def test_select_related_nullable_self_reference_chain(
    db: str, count_queries: type[QueryCounter]
) -> None:
    root = Category.objects.create(name="root")
    child = Category.objects.create(name="child", parent=root)
    Category.objects.create(name="leaf", parent=child)
    with count_queries() as ctx:
        rows = {
            c.name: (
                c.parent.name if c.parent else None,
                c.parent.parent.name if c.parent and c.parent.parent else None,
            )
            for c in Category.objects.select_related("parent__parent")
        }
    assert len(ctx) == 1
    assert rows == {"root": (None, None), "child": ("root", None), "leaf": ("child", "root")}


def test_select_related_without_arguments_follows_non_null_keys(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        names = sorted(b.author.name for b in Book.objects.select_related())
    assert len(ctx) == 1
    assert names == ["Alice", "Alice", "Bob", "Bob"]


def test_select_related_one_to_one_both_ways(db: str, count_queries: type[QueryCounter]) -> None:
    place = Place.objects.create(name="Diner")
    Restaurant.objects.create(place=place, serves_pizza=True)
    author = Author.objects.create(name="A", email="a@example.com")
    Profile.objects.create(author=author, bio="bio")
    with count_queries() as ctx:
        restaurant = Restaurant.objects.select_related("place").get()
        assert restaurant.place.name == "Diner"
        profile = Profile.objects.select_related("author").get()
        assert profile.author.name == "A"
    assert len(ctx) == 2


def test_select_related_with_filter_on_relation_and_values(library: Library) -> None:
    books = Book.objects.select_related("author").filter(author__name="Bob").order_by("-price")
    assert [(b.title, b.author.name) for b in books] == [
        ("Django Unchained", "Bob"),
        ("SQL 101", "Bob"),
    ]
    assert books.count() == 2


def test_select_related_unknown_field_raises_field_error(library: Library) -> None:
    with pytest.raises(orm.FieldError):
        list(Book.objects.select_related("nope"))


# ------------------------------------------------------------ prefetch_related


def test_prefetch_forward_foreign_key(library: Library, count_queries: type[QueryCounter]) -> None:
    with count_queries() as ctx:
        books = list(Book.objects.prefetch_related("author").order_by("title"))
        names = [b.author.name for b in books]
    assert len(ctx) == 2
    assert names == ["Alice", "Bob", "Alice", "Bob"]
    assert books[0].author is books[2].author  # one instance per row fetched


def test_prefetch_reverse_foreign_key(library: Library, count_queries: type[QueryCounter]) -> None:
    with count_queries() as ctx:
        authors = list(Author.objects.prefetch_related("books"))
        got = {a.name: sorted(b.title for b in a.books.all()) for a in authors}
        counts = {a.name: a.books.count() for a in authors}
        exists = {a.name: a.books.exists() for a in authors}
    assert len(ctx) == 2
    assert got == {
        "Alice": ["Advanced Python", "Python Basics"],
        "Bob": ["Django Unchained", "SQL 101"],
        "Carol": [],
    }
    assert counts == {"Alice": 2, "Bob": 2, "Carol": 0}
    assert exists == {"Alice": True, "Bob": True, "Carol": False}


def test_prefetched_reverse_objects_point_back_without_queries(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    authors = list(Author.objects.prefetch_related("books"))
    with count_queries() as ctx:
        for author in authors:
            for book in author.books.all():
                assert book.author is author
    assert len(ctx) == 0


def test_filtering_a_prefetched_manager_runs_a_fresh_query(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    alice = Author.objects.prefetch_related("books").get(name="Alice")
    with count_queries() as ctx:
        titles = list(alice.books.filter(pages__gt=300).values_list("title", flat=True))
    assert len(ctx) == 1
    assert titles == ["Advanced Python"]


def test_writing_through_a_prefetched_manager_drops_the_stale_cache(library: Library) -> None:
    alice = Author.objects.prefetch_related("books").get(name="Alice")
    assert alice.books.count() == 2
    alice.books.create(title="Third")
    assert sorted(b.title for b in alice.books.all()) == [
        "Advanced Python",
        "Python Basics",
        "Third",
    ]
    book = Book.objects.prefetch_related("tags").get(pk=library.sql101.pk)
    assert [t.name for t in book.tags.all()] == ["sql"]
    book.tags.add(library.django)
    assert sorted(t.name for t in book.tags.all()) == ["django", "sql"]


# A many-to-many level is one query joining the link table to the targets, as in
# Django: one query for the objects plus one per level.


def test_prefetch_many_to_many(library: Library, count_queries: type[QueryCounter]) -> None:
    with count_queries() as ctx:
        books = list(Book.objects.prefetch_related("tags").order_by("title"))
        got = [(b.title, sorted(t.name for t in b.tags.all())) for b in books]
    assert got == [
        ("Advanced Python", ["python", "sql"]),
        ("Django Unchained", ["django", "python"]),
        ("Python Basics", ["python"]),
        ("SQL 101", ["sql"]),
    ]
    assert len(ctx) == 2


def test_prefetch_many_to_many_reverse(library: Library, count_queries: type[QueryCounter]) -> None:
    with count_queries() as ctx:
        got = {
            t.name: sorted(b.title for b in t.books.all())
            for t in Tag.objects.prefetch_related("books")
        }
    assert got == {
        "python": ["Advanced Python", "Django Unchained", "Python Basics"],
        "django": ["Django Unchained"],
        "sql": ["Advanced Python", "SQL 101"],
    }
    assert len(ctx) == 2


def test_prefetch_nested(library: Library, count_queries: type[QueryCounter]) -> None:
    with count_queries() as ctx:
        got = {
            a.name: {b.title: sorted(t.name for t in b.tags.all()) for b in a.books.all()}
            for a in Author.objects.prefetch_related("books__tags")
        }
    assert got == {
        "Alice": {"Python Basics": ["python"], "Advanced Python": ["python", "sql"]},
        "Bob": {"Django Unchained": ["django", "python"], "SQL 101": ["sql"]},
        "Carol": {},
    }
    assert len(ctx) == 3  # authors, books, tags


def test_prefetch_nested_through_foreign_key_then_reverse(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        got = sorted(
            (b.title, sorted(x.title for x in b.author.books.all()))
            for b in Book.objects.prefetch_related("author__books")
        )
    assert len(ctx) == 3
    assert got[0] == ("Advanced Python", ["Advanced Python", "Python Basics"])
    assert got[3] == ("SQL 101", ["Django Unchained", "SQL 101"])


def test_prefetch_reverse_one_to_one(db: str, count_queries: type[QueryCounter]) -> None:
    with_restaurant = Place.objects.create(name="Diner")
    Restaurant.objects.create(place=with_restaurant, serves_pizza=True)
    Place.objects.create(name="Lot")
    with count_queries() as ctx:
        places = {p.name: p for p in Place.objects.prefetch_related("restaurant")}
        assert places["Diner"].restaurant.serves_pizza is True
        assert not hasattr(places["Lot"], "restaurant")
    assert len(ctx) == 2


def test_prefetch_through_model_many_to_many(db: str, count_queries: type[QueryCounter]) -> None:
    ann = Person.objects.create(name="Ann")
    ben = Person.objects.create(name="Ben")
    club = Group.objects.create(name="Club")
    team = Group.objects.create(name="Team")
    for person, group in ((ann, club), (ben, club), (ann, team)):
        Membership.objects.create(person=person, group=group, date_joined=datetime.date(2024, 1, 1))
    with count_queries() as ctx:
        got = {
            g.name: [p.name for p in g.members.all()]
            for g in Group.objects.prefetch_related("members")
        }
    assert got == {"Club": ["Ann", "Ben"], "Team": ["Ann"]}
    assert len(ctx) == 2


def test_prefetch_object_with_queryset_and_to_attr(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        authors = list(
            Author.objects.prefetch_related(
                orm.Prefetch(
                    "books",
                    queryset=Book.objects.filter(price__gt=20).order_by("-price"),
                    to_attr="expensive_books",
                )
            )
        )
        got = {a.name: [b.title for b in a.expensive_books] for a in authors}
    assert len(ctx) == 2
    assert got == {"Alice": ["Advanced Python"], "Bob": ["Django Unchained"], "Carol": []}


def test_prefetch_object_with_queryset_without_to_attr(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        got = {
            a.name: [b.title for b in a.books.all()]
            for a in Author.objects.prefetch_related(
                orm.Prefetch("books", queryset=Book.objects.order_by("-price"))
            )
        }
    assert len(ctx) == 2
    assert got == {
        "Alice": ["Advanced Python", "Python Basics"],
        "Bob": ["Django Unchained", "SQL 101"],
        "Carol": [],
    }


def test_prefetch_combined_with_select_related(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        got = sorted(
            (b.author.name, sorted(t.name for t in b.tags.all()))
            for b in Book.objects.select_related("author").prefetch_related("tags")
        )
    assert got == [
        ("Alice", ["python"]),
        ("Alice", ["python", "sql"]),
        ("Bob", ["django", "python"]),
        ("Bob", ["sql"]),
    ]
    assert len(ctx) == 2


def test_prefetch_related_objects_on_a_list(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    books = list(Book.objects.order_by("title"))
    with count_queries() as ctx:
        orm.prefetch_related_objects(books, "author")
        names = [b.author.name for b in books]
    assert len(ctx) == 1
    assert names == ["Alice", "Bob", "Alice", "Bob"]


def test_prefetch_with_iterator_chunks(library: Library, count_queries: type[QueryCounter]) -> None:
    with count_queries() as ctx:
        got = sorted(
            (b.title, b.author.name)
            for b in Book.objects.prefetch_related("author")
            .order_by("title")
            .iterator(chunk_size=2)
        )
    assert got[0] == ("Advanced Python", "Alice")
    assert len(got) == 4
    # one main query (maybe chunked), and one author query per chunk of 2
    assert (
        sum(1 for sql, _ in ctx.queries if "tests_author" in sql and "tests_book" not in sql) == 2
    )
    with pytest.raises(ValueError, match="chunk_size"):
        list(Book.objects.prefetch_related("author").iterator())


def test_prefetch_unknown_lookup_raises_field_error(library: Library) -> None:
    with pytest.raises(orm.FieldError):
        list(Author.objects.prefetch_related("nope"))


def test_prefetch_on_empty_queryset_runs_one_query(
    db: str, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        assert list(Author.objects.prefetch_related("books__tags")) == []
    assert len(ctx) == 1


def test_clearing_prefetch_with_none(library: Library, count_queries: type[QueryCounter]) -> None:
    with count_queries() as ctx:
        list(Author.objects.prefetch_related("books").prefetch_related(None))
    assert len(ctx) == 1


# ------------------------------------------------------------ once broken


def test_prefetch_many_to_many_takes_one_extra_query(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        list(Book.objects.prefetch_related("tags"))
    assert len(ctx) == 2  # actual: 3 (books, link table, tags)
