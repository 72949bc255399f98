"""The instance API (issue 16 item 9): save options and errors, deferred fields,
refresh_from_db, the from_db hook and known related objects, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import signals
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import Author, Book, Place, Restaurant, Tag


class Audited(orm.Model):
    """Remembers the values it was loaded with (Django's documented from_db recipe)."""

    name = orm.CharField(max_length=20)
    n = orm.IntegerField(default=0)

    class Meta:
        app_label = "instance_api"

    @classmethod
    def from_db(cls, db: str, field_names: list[str], values: Any) -> Any:
        if len(values) != len(cls._meta.concrete_fields):
            pending = iter(values)
            values = [
                next(pending) if f.attname in field_names else orm.DEFERRED
                for f in cls._meta.concrete_fields
            ]
        instance = cls(*values)
        instance._state.adding = False
        instance._state.db = db
        instance._loaded_values = {  # type: ignore[attr-defined]
            name: value
            for name, value in zip(
                field_names, [v for v in values if v is not orm.DEFERRED], strict=True
            )
        }
        return instance


@pytest.fixture
def audited(db: str) -> str:
    orm.create_tables(Audited)
    return db


# --------------------------------------------------------------- save() options


def test_force_insert_with_force_update_or_update_fields_is_refused(db: str) -> None:
    author = Author(name="A", email="a@example.com")
    message = "Cannot force both insert and updating in model saving."
    with pytest.raises(ValueError, match=message):
        author.save(force_insert=True, force_update=True)
    with pytest.raises(ValueError, match=message):
        author.save(force_insert=True, update_fields=["name"])
    assert Author.objects.count() == 0


def test_forced_update_without_a_primary_key_is_refused(db: str) -> None:
    for kwargs in ({"force_update": True}, {"update_fields": ["name"]}):
        with pytest.raises(
            ValueError, match=r"^Cannot force an update in save\(\) with no primary key\.$"
        ):
            Author(name="A", email="a@example.com").save(**kwargs)
    assert Author.objects.count() == 0


def test_update_fields_refuses_primary_keys_unknown_names_and_a_string(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    with pytest.raises(
        ValueError,
        match="do not exist in this model, are m2m fields, primary keys, "
        "or are non-concrete fields: id",
    ):
        author.save(update_fields=["id"])
    with pytest.raises(ValueError, match="nope, tags"):
        Book(pk=1).save(update_fields=["tags", "nope"])
    with pytest.raises(TypeError, match=r"update_fields=\['name'\]"):
        author.save(update_fields="name")


def test_update_fields_accepts_attnames(library: Library) -> None:
    book = library.basics
    book.author = library.bob
    book.title = "not saved"
    book.save(update_fields=["author_id"])
    stored = Book.objects.get(pk=book.pk)
    assert (stored.author_id, stored.title) == (library.bob.pk, "Python Basics")


def test_forced_and_update_fields_saves_of_a_missing_row_raise_django_errors(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    Author.objects.filter(pk=author.pk).delete()
    with pytest.raises(orm.DatabaseError, match=r"^Forced update did not affect any rows\.$"):
        author.save(force_update=True)
    with pytest.raises(
        orm.DatabaseError, match=r"^Save with update_fields did not affect any rows\.$"
    ):
        author.save(update_fields=["name"])
    assert Author.objects.count() == 0


def test_force_insert_inserts_even_with_a_primary_key(db: str) -> None:
    Author(pk=77, name="A", email="a@example.com").save(force_insert=True)
    assert Author.objects.get(pk=77).name == "A"
    with pytest.raises(orm.IntegrityError):
        Author(pk=77, name="B", email="b@example.com").save(force_insert=True)


# --------------------------------------------------------------- deferred fields


def test_get_deferred_fields(library: Library) -> None:
    book = Book.objects.only("title").get(pk=library.basics.pk)
    assert book.get_deferred_fields() == {"author_id", "price", "pages", "published", "data"}
    assert Book.objects.get(pk=library.basics.pk).get_deferred_fields() == set()
    assert Book.objects.defer("data").get(pk=library.basics.pk).get_deferred_fields() == {"data"}


def test_saving_a_deferred_instance_writes_only_its_loaded_fields(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    updates: list[Any] = []
    signals.pre_save.connect(
        lambda sender, update_fields, **kw: updates.append(update_fields),
        sender=Book,
        weak=False,
        dispatch_uid="deferred-test",
    )
    try:
        book = Book.objects.only("title").get(pk=library.basics.pk)
        Book.objects.filter(pk=book.pk).update(pages=999)  # a concurrent change
        book.title = "Renamed"
        with count_queries() as ctx:
            book.save()
        assert len(ctx.queries) == 1 and "pages" not in ctx.queries[0]
        assert updates == [frozenset({"title"})]
        assert book.get_deferred_fields() == {"author_id", "price", "pages", "published", "data"}
        stored = Book.objects.get(pk=book.pk)
        assert (stored.title, stored.pages) == ("Renamed", 999)
    finally:
        signals.pre_save.disconnect(sender=Book, dispatch_uid="deferred-test")


# --------------------------------------------------------------- refresh_from_db


def test_refresh_from_db_with_fields_validates_names(library: Library) -> None:
    book = library.basics
    with pytest.raises(ValueError, match='Found "__" in fields argument') as info:
        book.refresh_from_db(fields=["author__name"])
    assert isinstance(info.value, orm.FieldError)  # as every bad field path in orm
    with pytest.raises(orm.FieldError, match="Choices are"):
        book.refresh_from_db(fields=["nope"])
    with pytest.raises(TypeError, match=r"fields=\['title'\]"):
        book.refresh_from_db(fields="title")


def test_refresh_from_db_keeps_deferred_fields_deferred(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    book = Book.objects.only("title").get(pk=library.basics.pk)
    Book.objects.filter(pk=book.pk).update(title="Changed", pages=1)
    book.refresh_from_db()
    assert book.get_deferred_fields() == {"author_id", "price", "pages", "published", "data"}
    assert book.title == "Changed"
    with count_queries() as ctx:
        assert book.pages == 1  # loaded on access, as before
    assert len(ctx.queries) == 1


def test_refresh_from_db_from_queryset_with_select_related(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    book = Book.objects.get(pk=library.basics.pk)
    with count_queries() as ctx:
        book.refresh_from_db(from_queryset=Book.objects.select_related("author"))
        assert book.author.name == "Alice"
    assert len(ctx.queries) == 1
    with pytest.raises(Book.DoesNotExist):
        book.refresh_from_db(from_queryset=Book.objects.filter(title="other"))


def test_refresh_from_db_drops_cached_relations_and_prefetches(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    book = Book.objects.prefetch_related("tags").get(pk=library.basics.pk)
    assert book.author.name == "Alice"
    Book.objects.filter(pk=book.pk).update(author=library.bob)
    library.basics.tags.add(library.django)
    with count_queries() as ctx:
        book.refresh_from_db(fields=["tags"])  # only drops the prefetch
    assert ctx.queries == []
    assert sorted(t.name for t in book.tags.all()) == ["django", "python"]
    book.refresh_from_db()
    assert book.author.name == "Bob"


def test_refresh_from_db_drops_a_cached_reverse_one_to_one(db: str) -> None:
    place = Place.objects.create(name="P")
    first = Restaurant.objects.create(place=place)
    assert place.restaurant == first
    first.delete()
    place.refresh_from_db()
    with pytest.raises(Restaurant.DoesNotExist):
        place.restaurant  # noqa: B018


async def test_arefresh_from_db_takes_from_queryset(library: Library) -> None:
    book = await Book.objects.aget(pk=library.basics.pk)
    await Book.objects.filter(pk=book.pk).aupdate(title="Async")
    await book.arefresh_from_db(from_queryset=Book.objects.select_related("author"))
    assert book.title == "Async"
    assert book.author.name == "Alice"  # cached by select_related: no query on the loop


# --------------------------------------------------------------- from_db


def test_from_db_override_is_used_for_every_loading_path(audited: str) -> None:
    Audited.objects.create(name="a", n=1)
    Audited.objects.create(name="b", n=2)
    got = Audited.objects.get(name="a")
    assert got._loaded_values == {"id": got.pk, "name": "a", "n": 1}  # type: ignore[attr-defined]
    listed = list(Audited.objects.order_by("n"))
    assert [o._loaded_values["n"] for o in listed] == [1, 2]  # type: ignore[attr-defined]
    partial = Audited.objects.only("name").get(name="b")
    assert partial._loaded_values == {"id": partial.pk, "name": "b"}  # type: ignore[attr-defined]
    assert partial.get_deferred_fields() == {"n"}
    assert partial.n == 2  # the DEFERRED field loads on access
    raw = list(Audited.objects.raw("SELECT id, name, n FROM instance_api_audited ORDER BY n"))
    assert raw[0]._loaded_values["name"] == "a"  # type: ignore[attr-defined]
    streamed = list(Audited.objects.order_by("n").iterator())
    assert hasattr(streamed[1], "_loaded_values")


def test_deferred_sentinel_in_init_leaves_the_field_unloaded() -> None:
    tag = Tag(None, orm.DEFERRED)
    assert tag.get_deferred_fields() == {"name"}
    assert repr(orm.DEFERRED) == "<Deferred field>"


# --------------------------------------------------------------- known related objects


def test_objects_read_through_a_related_manager_point_back_at_the_instance(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    alice = Author.objects.get(pk=library.alice.pk)
    with count_queries() as ctx:
        books = list(alice.books.all())
        assert all(book.author is alice for book in books)
        assert alice.books.filter(pages__gt=0)[0].author is alice
        assert alice.books.get(title="Python Basics").author is alice
        assert alice.books.first().author is alice  # type: ignore[union-attr]
    assert len(ctx.queries) == 4


async def test_known_related_objects_in_async_code(library: Library) -> None:
    alice = await Author.objects.aget(pk=library.alice.pk)
    # Reading book.author on the event loop would raise SynchronousOnlyOperation
    # if it were not the known instance.
    assert (await alice.books.aget(title="Python Basics")).author is alice
    assert (await alice.books.order_by("title").afirst()).author is alice  # type: ignore[union-attr]
    assert [b.author async for b in alice.books.all()] == [alice, alice]
    assert all([b.author is alice async for b in alice.books.all()])


# --------------------------------------------------------------- expressions as values


def test_create_with_an_expression_stores_and_returns_the_computed_value(db: str) -> None:
    tag = Tag.objects.create(name=orm.Lower(orm.Value("MiXeD")))
    assert tag.name == "mixed" and tag.pk is not None
    assert Tag.objects.get(pk=tag.pk).name == "mixed"


def test_save_with_f_expression_updates_in_the_database_and_refreshes(library: Library) -> None:
    book = Book.objects.get(pk=library.basics.pk)
    Book.objects.filter(pk=book.pk).update(pages=250)  # the instance still holds 200
    book.pages = orm.F("pages") + 1
    book.save()
    assert book.pages == 251
    book.save()  # saving again does not add one more
    assert Book.objects.get(pk=book.pk).pages == 251


def test_insert_refuses_expressions_reading_columns(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    with pytest.raises(
        ValueError, match=r"F\(\) expressions can only be used to update, not to insert"
    ):
        Book.objects.create(title="t", author=author, pages=orm.F("price") + 1)
    assert Book.objects.count() == 0


def test_bulk_create_mixes_expression_rows_and_plain_rows(db: str) -> None:
    tags = Tag.objects.bulk_create(
        [Tag(name="plain"), Tag(name=orm.Upper(orm.Value("loud"))), Tag(name="z")]
    )
    assert all(tag.pk is not None for tag in tags)
    assert [t.name for t in tags] == ["plain", "LOUD", "z"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["LOUD", "plain", "z"]


async def test_acreate_and_asave_with_expressions(db: str) -> None:
    tag = await Tag.objects.acreate(name=orm.Lower(orm.Value("ASYNC")))
    assert tag.name == "async"
    tag.name = orm.Upper(orm.F("name"))
    await tag.asave()
    assert tag.name == "ASYNC"  # readable on the event loop: no lazy load needed
