"""The ``a``-twins behave like their sync originals."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import orm
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import Author, Book, Group, Membership, Nullified, Owner, Person, Tag


async def test_acount_matches_count(library: Library) -> None:
    assert await Book.objects.acount() == 4
    assert await Book.objects.filter(author__name="Alice").acount() == 2
    assert await Book.objects.none().acount() == 0


async def test_async_for_over_models_values_values_list_and_raw(library: Library) -> None:
    titles = [b.title async for b in Book.objects.order_by("title")]
    assert titles == ["Advanced Python", "Django Unchained", "Python Basics", "SQL 101"]
    rows = [r async for r in Book.objects.order_by("title").values("title", "price")[:1]]
    assert rows == [{"title": "Advanced Python", "price": Decimal("49.50")}]
    flat = [t async for t in Tag.objects.order_by("name").values_list("name", flat=True)]
    assert flat == ["django", "python", "sql"]
    table = Author._meta.db_table
    names = [a.name async for a in Author.objects.raw(f'SELECT * FROM "{table}" ORDER BY name')]
    assert names == ["Alice", "Bob", "Carol"]


async def test_aiterator_streams_in_chunks(db: str, count_queries: type[QueryCounter]) -> None:
    await Tag.objects.abulk_create([Tag(name=f"t{i:03}") for i in range(25)])
    async with count_queries() as ctx:
        names = [t.name async for t in Tag.objects.order_by("name").aiterator(chunk_size=10)]
    assert names == [f"t{i:03}" for i in range(25)]
    assert len(ctx) >= 1
    values = [
        v
        async for v in Tag.objects.filter(name__lt="t005")
        .values_list("name", flat=True)
        .aiterator(chunk_size=2)
    ]
    assert values == ["t000", "t001", "t002", "t003", "t004"]


async def test_asave_inserts_then_updates(db: str) -> None:
    author = Author(name="Async", email="async@example.com")
    await author.asave()
    assert author.pk is not None
    author.name = "Renamed"
    await author.asave(update_fields=["name"])
    fetched = await Author.objects.aget(pk=author.pk)
    assert fetched.name == "Renamed"
    assert await Author.objects.acount() == 1


async def test_acreate_aget_afirst_alast_aexists(library: Library) -> None:
    tag = await Tag.objects.acreate(name="zz-async")
    assert await Tag.objects.aget(name="zz-async") == tag
    assert (await Tag.objects.order_by("name").afirst()) == library.django
    assert (await Tag.objects.order_by("name").alast()) == tag
    assert await Tag.objects.filter(name="zz-async").aexists()
    with pytest.raises(Tag.DoesNotExist):
        await Tag.objects.aget(name="missing")


async def test_aget_or_create_and_aupdate_or_create(db: str) -> None:
    tag, created = await Tag.objects.aget_or_create(name="x")
    assert created
    again, created = await Tag.objects.aget_or_create(name="x")
    assert not created and again == tag
    author, created = await Author.objects.aupdate_or_create(
        email="u@example.com", defaults={"name": "U"}
    )
    assert created
    author, created = await Author.objects.aupdate_or_create(
        email="u@example.com", defaults={"name": "V"}
    )
    assert not created and (await Author.objects.aget(pk=author.pk)).name == "V"


async def test_abulk_create_and_abulk_update(db: str) -> None:
    tags = await Tag.objects.abulk_create([Tag(name="a"), Tag(name="b")])
    assert all(t.pk is not None for t in tags)
    for t in tags:
        t.name = t.name.upper()
    assert await Tag.objects.abulk_update(tags, ["name"]) == 2
    assert [t async for t in Tag.objects.order_by("name").values_list("name", flat=True)] == [
        "A",
        "B",
    ]


async def test_aaggregate_ain_bulk_acontains_alatest_aearliest(library: Library) -> None:
    assert await Book.objects.aaggregate(total=orm.Sum("pages")) == {"total": 950}
    found = await Book.objects.ain_bulk([library.basics.pk])
    assert found == {library.basics.pk: library.basics}
    assert await Book.objects.filter(author=library.alice).acontains(library.basics)
    dated = Book.objects.filter(published__isnull=False)
    assert await dated.alatest("published") == library.unchained
    assert await dated.aearliest("published") == library.basics


async def test_aupdate_and_adelete(library: Library) -> None:
    assert await Book.objects.filter(author=library.bob).aupdate(pages=7) == 2
    assert await Book.objects.filter(pages=7).acount() == 2
    total, per_model = await Author.objects.filter(name="Bob").adelete()
    assert per_model["tests.Author"] == 1 and per_model["tests.Book"] == 2
    assert total == 1 + 2 + 3  # author, books, three tag links


async def test_instance_adelete_and_arefresh_from_db(library: Library) -> None:
    book = await Book.objects.aget(pk=library.basics.pk)
    await Book.objects.filter(pk=book.pk).aupdate(title="Changed")
    await book.arefresh_from_db()
    assert book.title == "Changed"
    assert await book.adelete() == (2, {"tests.Book": 1, "tests.Book_tags": 1})


async def test_aexplain(library: Library) -> None:
    assert (await Book.objects.filter(title="x").aexplain()).strip()


async def test_many_to_many_aadd_aset_aremove_aclear(library: Library) -> None:
    book = await Book.objects.aget(pk=library.sql101.pk)
    await book.tags.aadd(library.django, library.python)
    assert [t async for t in book.tags.order_by("name").values_list("name", flat=True)] == [
        "django",
        "python",
        "sql",
    ]
    await book.tags.aset([library.sql])
    assert [t async for t in book.tags.values_list("name", flat=True)] == ["sql"]
    await book.tags.aremove(library.sql)
    assert await book.tags.acount() == 0
    await book.tags.aadd(library.sql)
    await book.tags.aclear()
    assert await book.tags.acount() == 0


async def test_many_to_many_acreate_aget_or_create_aupdate_or_create(library: Library) -> None:
    book = library.sql101
    new = await book.tags.acreate(name="new")
    assert await new.books.acount() == 1
    tag, created = await book.tags.aget_or_create(name="new")
    assert (tag, created) == (new, False)
    tag, created = await book.tags.aupdate_or_create(name="newer")
    assert created and await book.tags.filter(name="newer").aexists()


async def test_reverse_foreign_key_related_manager_twins(db: str) -> None:
    owner = await Owner.objects.acreate(name="o")
    a = await Nullified.objects.acreate(label="a")
    b = await Nullified.objects.acreate(label="b")
    await owner.nullified.aadd(a)
    assert await owner.nullified.acount() == 1
    await owner.nullified.aset([b])
    assert [n.label async for n in owner.nullified.all()] == ["b"]
    await owner.nullified.aremove(b)
    assert await owner.nullified.acount() == 0
    await owner.nullified.aadd(a, b)
    await owner.nullified.aclear()
    assert await Nullified.objects.filter(owner__isnull=True).acount() == 2


async def test_reverse_foreign_key_acreate_sets_the_relation(library: Library) -> None:
    book = await library.carol.books.acreate(title="Async Book")
    assert book.author_id == library.carol.pk
    assert await library.carol.books.acount() == 1
    book, created = await library.carol.books.aget_or_create(title="Async Book")
    assert not created
    book, created = await library.carol.books.aupdate_or_create(
        title="Async Book", defaults={"pages": 3}
    )
    assert not created and (await Book.objects.aget(pk=book.pk)).pages == 3


async def test_through_model_aadd(db: str) -> None:
    ann = await Person.objects.acreate(name="Ann")
    group = await Group.objects.acreate(name="G")
    await group.members.aadd(ann, through_defaults={"date_joined": datetime.date(2024, 1, 1)})
    assert (await Membership.objects.aget()).person_id == ann.pk


async def test_sync_call_in_async_code_raises_naming_the_twin(library: Library) -> None:
    with pytest.raises(orm.SynchronousOnlyOperation, match="acount"):
        Book.objects.count()
    with pytest.raises(orm.SynchronousOnlyOperation):
        list(Book.objects.all())
    with pytest.raises(orm.SynchronousOnlyOperation, match="asave"):
        library.basics.save()


async def test_unloaded_relation_in_async_code_raises_and_says_what_to_load(
    library: Library,
) -> None:
    book = await Book.objects.aget(pk=library.basics.pk)
    with pytest.raises(orm.SynchronousOnlyOperation, match="select_related"):
        book.author  # noqa: B018
    loaded = await Book.objects.select_related("author").aget(pk=library.basics.pk)
    assert loaded.author.name == "Alice"
    await book.afetch_related("author")
    assert book.author.name == "Alice"


async def test_async_prefetch_related(library: Library) -> None:
    authors = [a async for a in Author.objects.prefetch_related("books")]
    got = {a.name: sorted([b.title async for b in a.books.all()]) for a in authors}
    assert got == {
        "Alice": ["Advanced Python", "Python Basics"],
        "Bob": ["Django Unchained", "SQL 101"],
        "Carol": [],
    }
    # The prefetched rows are loaded: reading them needs no query, so sync code may do it.
    assert {a.name: sorted(b.title for b in a.books.all()) for a in authors} == got
    assert {a.name: a.books.count() for a in authors} == {"Alice": 2, "Bob": 2, "Carol": 0}


async def test_acreate_tables_and_adrop_tables(backend: str) -> None:
    await orm.acreate_tables(Author)
    await Author.objects.acreate(name="A", email="a@example.com")
    assert await Author.objects.acount() == 1
    await orm.adrop_tables(Author)
    with pytest.raises(orm.DatabaseError):
        await Author.objects.acount()


async def test_connection_scope_runs_queries_and_closes_its_connections(library: Library) -> None:
    async with orm.connection_scope():
        assert await Book.objects.acount() == 4
        await Tag.objects.acreate(name="scoped")
    assert await Tag.objects.filter(name="scoped").aexists()
