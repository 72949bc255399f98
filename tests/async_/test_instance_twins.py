"""Instance twins: ``asave``, ``adelete``, ``arefresh_from_db``, ``afetch_related``."""

from __future__ import annotations

import datetime

import pytest

import orm
from tests.async_.conftest import SIDES, Library, call, row
from tests.async_.models import Author, Book

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional


async def test_asave_inserts_then_updates_like_save(tables: str) -> None:
    authors = {}
    for side in SIDES:
        author = Author(name=f"save-{side}", age=1)
        assert author.pk is None and author._state.adding is True
        assert await call(side, author, "save") is None
        assert author.pk is not None
        assert author._state.adding is False and author._state.db == "default"
        author.age = 2
        await call(side, author, "save")
        authors[side] = author
    assert await Author.objects.acount() == 2  # the second save updated, did not insert
    stored = {side: await Author.objects.aget(pk=authors[side].pk) for side in SIDES}
    assert stored["sync"].age == stored["async"].age == 2


async def test_asave_update_fields_writes_only_those_fields(tables: str) -> None:
    for side in SIDES:
        author = await Author.objects.acreate(name=f"uf-{side}", age=1)
        author.name = "changed"
        author.age = 99
        await call(side, author, "save", update_fields=["age"])
        stored = await Author.objects.aget(pk=author.pk)
        assert (stored.name, stored.age) == (f"uf-{side}", 99)


async def test_asave_errors_match_save(tables: str) -> None:
    author = await Author.objects.acreate(name="dup")
    errors = []
    for side in SIDES:
        with pytest.raises(orm.IntegrityError) as info:
            await call(side, Author(name="dup"), "save")
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1])
    for side in SIDES:
        with pytest.raises(ValueError, match="do not exist"):
            await call(side, author, "save", update_fields=["nope"])
        with pytest.raises(ValueError, match="Cannot force both"):
            await call(side, author, "save", force_insert=True, force_update=True)
        with pytest.raises(orm.DatabaseError, match="did not affect any rows"):
            await call(side, Author(id=10_000, name="ghost"), "save", force_update=True)
    assert await Author.objects.acount() == 1


async def test_asave_of_an_unsaved_related_object_is_refused(tables: str) -> None:
    author = Author(name="unsaved")
    book = Book(title="t", author=author)
    for side in SIDES:
        with pytest.raises(ValueError, match="unsaved related object 'author'"):
            await call(side, book, "save")
    assert await Book.objects.acount() == 0


async def test_adelete_matches_delete(seed: Library) -> None:
    victims = {}
    for side in SIDES:
        author = await Author.objects.acreate(name=f"gone-{side}")
        book = await Book.objects.acreate(title="t", author=author)
        await book.tags.aadd(seed.py)
        victims[side] = author
    results = {side: await call(side, victims[side], "delete") for side in SIDES}
    assert (
        results["async"]
        == results["sync"]
        == (3, {"shared.Author": 1, "shared.Book": 1, "shared.Book_tags": 1})
    )
    assert not await Author.objects.filter(name__startswith="gone-").aexists()
    for side in SIDES:
        with pytest.raises(ValueError, match="id is None"):
            await call(side, Author(name="never saved"), "delete")


async def test_arefresh_from_db_matches_refresh_from_db(seed: Library) -> None:
    copies = {side: await Book.objects.aget(pk=seed.alpha.pk) for side in SIDES}
    await Book.objects.filter(pk=seed.alpha.pk).aupdate(title="Renamed", pages=1, author=seed.bob)
    for side in SIDES:
        book = copies[side]
        await book.afetch_related("author")
        book.pages = 12345
        await call(side, book, "refresh_from_db")
        assert (book.title, book.pages, book.author_id) == ("Renamed", 1, seed.bob.pk)
        # The stale cached author was dropped, so the new one must be fetched.
        with pytest.raises(orm.SynchronousOnlyOperation):
            _ = book.author
    assert row(copies["async"]) == row(copies["sync"])


async def test_arefresh_from_db_with_fields_reloads_only_those(seed: Library) -> None:
    await Book.objects.filter(pk=seed.beta.pk).aupdate(title="T2", pages=2)
    for side in SIDES:
        book = await Book.objects.aget(pk=seed.beta.pk)
        book.title, book.pages = "local", 0
        await call(side, book, "refresh_from_db", fields=["pages"])
        assert (book.title, book.pages) == ("local", 2)


async def test_arefresh_from_db_of_a_deleted_row_raises_does_not_exist(seed: Library) -> None:
    book = await Book.objects.aget(pk=seed.gamma.pk)
    await Book.objects.filter(pk=book.pk).adelete()
    for side in SIDES:
        with pytest.raises(Book.DoesNotExist):
            await call(side, book, "refresh_from_db")


async def test_afetch_related_then_reading_the_relation_needs_no_query(
    seed: Library, count_queries: type
) -> None:
    book = await Book.objects.aget(pk=seed.alpha.pk)
    with pytest.raises(orm.SynchronousOnlyOperation):
        _ = book.author
    await book.afetch_related("author")
    async with count_queries() as ctx:
        assert book.author == seed.ann
        assert book.author.name == "ann"
        assert book.author is book.author  # cached, not refetched
    assert ctx.queries == []


async def test_afetch_related_of_a_null_relation_reads_none(seed: Library) -> None:
    book = await Book.objects.aget(pk=seed.alpha.pk)
    assert book.editor_id is None
    assert book.editor is None  # nothing to load: no guard, no query
    await book.afetch_related("editor")
    assert book.editor is None


async def test_afetch_related_follows_nested_lookups(seed: Library) -> None:
    """``books__author``: the forward key of every prefetched book is loaded too."""
    author = await Author.objects.aget(pk=seed.ann.pk)
    await author.afetch_related("books__author")
    books = list(author.books.all())  # the prefetched rows: no query
    assert sorted(b.title for b in books) == ["Alpha", "Beta"]
    assert {b.author.name for b in books} == {"ann"}


async def test_afetch_related_matches_fetch_related(seed: Library) -> None:
    loaded = {}
    for side in SIDES:
        book = await Book.objects.aget(pk=seed.beta.pk)
        await call(side, book, "fetch_related", "author", "tags")
        loaded[side] = (book.author.name, [t.name for t in book._prefetched_objects_cache["tags"]])
    assert loaded["async"] == loaded["sync"] == ("ann", ["py"])
    for side in SIDES:
        with pytest.raises(orm.FieldError):
            await call(side, await Book.objects.aget(pk=seed.beta.pk), "fetch_related", "nope")


async def test_asave_persists_dates_and_nulls(tables: str) -> None:
    author = await Author.objects.acreate(name="d")
    book = Book(title="t", author=author, published=datetime.date(1999, 12, 31))
    await book.asave()
    book.published = None
    await book.asave()
    assert (await Book.objects.aget(pk=book.pk)).published is None
