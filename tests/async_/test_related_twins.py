"""Related managers' twins (reverse foreign key and many-to-many, both sides).

``aadd, aremove, aset, aclear, acreate, aget_or_create, aupdate_or_create``,
each run next to its sync method on an identical copy of the data.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from tests.async_.conftest import SIDES, Library, call, close_this_threads_connections
from tests.async_.models import Author, Book, Tag

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional


async def titles(qs: orm.QuerySet[Any]) -> list[str]:
    return [b.title async for b in qs.order_by("title")]


async def tag_names(book: Book) -> list[str]:
    return [t.name async for t in book.tags.order_by("name")]


@pytest.fixture
def graphs(tables: str) -> dict[str, dict[str, Any]]:
    """Per side: an author and an editor with books, and tags."""
    out: dict[str, dict[str, Any]] = {}
    with orm.transaction.atomic():
        for side in SIDES:
            author = Author.objects.create(name=f"author-{side}")
            editor = Author.objects.create(name=f"editor-{side}")
            other = Author.objects.create(name=f"other-{side}")
            books = [Book.objects.create(title=f"b{i}", author=author) for i in range(3)]
            tags = [Tag.objects.create(name=f"{side}-t{i}") for i in range(3)]
            out[side] = {
                "author": author,
                "editor": editor,
                "other": other,
                "books": books,
                "tags": tags,
            }
    close_this_threads_connections()
    return out


# ------------------------------------------------------------- reverse FK


async def test_reverse_fk_aadd_matches_add(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        assert await call(side, g["editor"].edited, "add", g["books"][0], g["books"][2]) is None
        assert g["books"][0].editor_id == g["editor"].pk
        assert await titles(g["editor"].edited.all()) == ["b0", "b2"]
        # moving books between authors over the non-null key
        await call(side, g["other"].books, "add", g["books"][1])
        assert await titles(g["other"].books.all()) == ["b1"]
        assert await titles(g["author"].books.all()) == ["b0", "b2"]


async def test_reverse_fk_aadd_rejects_the_wrong_model(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        with pytest.raises(TypeError, match="'Book' instance expected"):
            await call(side, g["editor"].edited, "add", g["tags"][0])


async def test_reverse_fk_aremove_matches_remove(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        await g["editor"].edited.aadd(*g["books"])
        await call(side, g["editor"].edited, "remove", g["books"][1])
        assert g["books"][1].editor_id is None
        assert await titles(g["editor"].edited.all()) == ["b0", "b2"]
        assert (await Book.objects.aget(pk=g["books"][1].pk)).editor_id is None


async def test_reverse_fk_aremove_and_aclear_need_a_nullable_key(
    graphs: dict[str, dict[str, Any]],
) -> None:
    for side in SIDES:
        g = graphs[side]
        with pytest.raises(AttributeError, match="nullable"):
            await call(side, g["author"].books, "remove", g["books"][0])
        with pytest.raises(AttributeError, match="nullable"):
            await call(side, g["author"].books, "clear")
        assert await g["author"].books.acount() == 3


async def test_reverse_fk_aclear_matches_clear(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        await g["editor"].edited.aadd(*g["books"])
        assert await call(side, g["editor"].edited, "clear") is None
        assert await g["editor"].edited.acount() == 0
        assert await Book.objects.filter(author=g["author"]).acount() == 3  # unlinked, not deleted


async def test_reverse_fk_aset_matches_set(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        b0, b1, b2 = g["books"]
        await g["editor"].edited.aadd(b0, b1)
        await call(side, g["editor"].edited, "set", [b1, b2])
        assert await titles(g["editor"].edited.all()) == ["b1", "b2"]
        await call(side, g["editor"].edited, "set", [b0], clear=True)
        assert await titles(g["editor"].edited.all()) == ["b0"]
        await call(side, g["editor"].edited, "set", [])
        assert await g["editor"].edited.acount() == 0


async def test_reverse_fk_acreate_matches_create(graphs: dict[str, dict[str, Any]]) -> None:
    made = {}
    for side in SIDES:
        g = graphs[side]
        made[side] = await call(side, g["author"].books, "create", title="new", pages=3)
        assert made[side].author_id == g["author"].pk and made[side].pk is not None
        assert await titles(g["author"].books.all()) == ["b0", "b1", "b2", "new"]
    assert (made["sync"].title, made["sync"].pages) == (made["async"].title, made["async"].pages)


async def test_reverse_fk_aget_or_create_matches_get_or_create(
    graphs: dict[str, dict[str, Any]],
) -> None:
    for side in SIDES:
        g = graphs[side]
        obj, created = await call(side, g["author"].books, "get_or_create", title="b1")
        assert created is False and obj.pk == g["books"][1].pk
        obj, created = await call(
            side, g["author"].books, "get_or_create", title="fresh", defaults={"pages": 4}
        )
        assert created is True and obj.author_id == g["author"].pk and obj.pages == 4
        # scoped to the relation: "fresh" of this author is not another author's
        obj, created = await call(side, g["other"].books, "get_or_create", title="fresh")
        assert created is True and obj.author_id == g["other"].pk


async def test_reverse_fk_aupdate_or_create_matches_update_or_create(
    graphs: dict[str, dict[str, Any]],
) -> None:
    for side in SIDES:
        g = graphs[side]
        obj, created = await call(
            side, g["author"].books, "update_or_create", title="b2", defaults={"pages": 77}
        )
        assert created is False and obj.pk == g["books"][2].pk
        assert (await Book.objects.aget(pk=obj.pk)).pages == 77
        obj, created = await call(
            side, g["author"].books, "update_or_create", title="u", defaults={"pages": 8}
        )
        assert created is True and obj.author_id == g["author"].pk and obj.pages == 8


async def test_related_manager_of_an_unsaved_instance_is_refused(tables: str) -> None:
    # Django's messages: the key field the relation needs is named.
    for side in SIDES:
        with pytest.raises(ValueError, match='needs to have a value for field "id"'):
            await call(side, Author(name="unsaved").books, "create", title="x")
        with pytest.raises(ValueError, match='needs to have a value for field "id"'):
            await call(side, Book(title="unsaved").tags, "add", 1)


# ------------------------------------------------------------ many-to-many


async def test_m2m_aadd_matches_add(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        b0 = g["books"][0]
        t0, t1, t2 = g["tags"]
        assert await call(side, b0.tags, "add", t0, t1.pk) is None  # instances or keys
        await call(side, b0.tags, "add", t0, t1)  # linking again is a no-op
        assert await tag_names(b0) == [f"{side}-t0", f"{side}-t1"]
        # the reverse side
        await call(side, t2.books, "add", b0)
        assert await tag_names(b0) == [f"{side}-t0", f"{side}-t1", f"{side}-t2"]
        assert await titles(t2.books.all()) == ["b0"]
    assert await Book.tags.through.objects.acount() == 6


async def test_m2m_aremove_matches_remove(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        b0, b1, _ = g["books"]
        await b0.tags.aadd(*g["tags"])
        await b1.tags.aadd(*g["tags"])
        await call(side, b0.tags, "remove", g["tags"][0], g["tags"][2].pk)
        assert await tag_names(b0) == [f"{side}-t1"]
        assert len(await tag_names(b1)) == 3  # other books keep their links
        await call(side, g["tags"][1].books, "remove", b1)
        assert await titles(g["tags"][1].books.all()) == ["b0"]
        assert await Tag.objects.filter(name__startswith=side).acount() == 3  # tags survive


async def test_m2m_aclear_matches_clear(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        b0, b1, _ = g["books"]
        await b0.tags.aadd(*g["tags"])
        await b1.tags.aadd(g["tags"][0])
        assert await call(side, b0.tags, "clear") is None
        assert await b0.tags.acount() == 0
        assert await b1.tags.acount() == 1
        await call(side, g["tags"][0].books, "clear")
        assert await b1.tags.acount() == 0


async def test_m2m_aset_matches_set(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        b0 = g["books"][0]
        t0, t1, t2 = g["tags"]
        await b0.tags.aadd(t0, t1)
        await call(side, b0.tags, "set", [t1, t2])
        assert await tag_names(b0) == [f"{side}-t1", f"{side}-t2"]
        await call(side, b0.tags, "set", [t0.pk], clear=True)
        assert await tag_names(b0) == [f"{side}-t0"]
        await call(side, t1.books, "set", g["books"])
        assert await titles(t1.books.all()) == ["b0", "b1", "b2"]


async def test_m2m_acreate_matches_create(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        b0 = g["books"][0]
        tag = await call(side, b0.tags, "create", name=f"{side}-made")
        assert isinstance(tag, Tag) and tag.pk is not None
        assert await tag_names(b0) == [f"{side}-made"]
        book = await call(side, tag.books, "create", title="via-tag", author=g["author"])
        assert await titles(tag.books.all()) == ["b0", "via-tag"]
        assert book.author_id == g["author"].pk


async def test_m2m_aget_or_create_matches_get_or_create(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        b0, b1, _ = g["books"]
        tag, created = await call(side, b0.tags, "get_or_create", name=f"{side}-goc")
        assert created is True and await tag_names(b0) == [f"{side}-goc"]
        again, created = await call(side, b0.tags, "get_or_create", name=f"{side}-goc")
        assert created is False and again.pk == tag.pk
        # an existing tag that is not linked to b1 is not "got" through b1's manager
        with pytest.raises(orm.IntegrityError):
            await call(side, b1.tags, "get_or_create", name=f"{side}-goc")


async def test_m2m_aupdate_or_create_matches_update_or_create(
    graphs: dict[str, dict[str, Any]],
) -> None:
    for side in SIDES:
        g = graphs[side]
        b0 = g["books"][0]
        await b0.tags.aadd(g["tags"][0])
        tag, created = await call(
            side,
            b0.tags,
            "update_or_create",
            name=f"{side}-t0",
            defaults={"name": f"{side}-renamed"},
        )
        assert created is False and tag.pk == g["tags"][0].pk
        assert (await Tag.objects.aget(pk=tag.pk)).name == f"{side}-renamed"
        tag, created = await call(side, b0.tags, "update_or_create", name=f"{side}-new")
        assert created is True
        assert await tag_names(b0) == [f"{side}-new", f"{side}-renamed"]


async def test_m2m_aadd_rejects_the_wrong_model(graphs: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        g = graphs[side]
        with pytest.raises(TypeError, match="'Tag' instance expected"):
            await call(side, g["books"][0].tags, "add", g["author"])
        assert await g["books"][0].tags.acount() == 0


async def test_related_manager_read_twins(graphs: dict[str, dict[str, Any]]) -> None:
    """QuerySet twins through a related manager are scoped to the relation."""
    g = graphs["async"]
    assert await g["author"].books.acount() == 3
    assert await g["other"].books.acount() == 0
    assert (await g["author"].books.aget(title="b1")).pk == g["books"][1].pk
    with pytest.raises(Book.DoesNotExist):
        await g["other"].books.aget(title="b1")
    assert (await g["author"].books.order_by("-title").afirst()).title == "b2"
    assert await g["author"].books.aexists() and not await g["other"].books.aexists()
    await g["books"][0].tags.aadd(*g["tags"])
    assert await g["books"][0].tags.acount() == 3
    assert await g["tags"][0].books.acontains(g["books"][0])
    assert [b.title async for b in g["author"].books.aiterator(chunk_size=2)] == ["b0", "b1", "b2"]


# BUG 2 -----------------------------------------------------------------------
# DESIGN.md: lazy relations in async code should be fixed by select_related,
# prefetch_related "or an awaitable fetch". For to-many relations neither works:
# Manager.all() is the generic delegate get_queryset().all(), and
# QuerySet._chain() drops the prefetched _result_cache, so `book.tags.all()`
# ran a query (N+1 in sync code) and, in
# async code, raises SynchronousOnlyOperation. Separately, count()/exists()/
# contains() call the guard before looking at _result_cache, so
# `book.tags.count()` raises even though the rows are in memory (Django
# answers from the cache).


async def test_prefetched_m2m_can_be_read_in_async_code(seed: Library, count_queries: type) -> None:
    book = await Book.objects.aget(pk=seed.alpha.pk)
    await book.afetch_related("tags")
    with count_queries() as ctx:
        names = sorted(t.name for t in book.tags.all())  # today: SynchronousOnlyOperation
    assert names == ["db", "py"]
    assert ctx.queries == []


async def test_prefetch_related_reverse_fk_can_be_read_in_async_code(seed: Library) -> None:
    authors = [a async for a in Author.objects.prefetch_related("books").order_by("name")]
    assert [sorted(b.title for b in a.books.all()) for a in authors] == [
        ["Alpha", "Beta"],
        ["Gamma"],
        [],
    ]


async def test_count_of_prefetched_relation_needs_no_query(seed: Library) -> None:
    book = await Book.objects.aget(pk=seed.alpha.pk)
    await book.afetch_related("tags")
    assert book.tags.count() == 2  # today: SynchronousOnlyOperation (guard before cache)
    assert book.tags.exists() is True


# BUG 9 -----------------------------------------------------------------------
# RelatedManager.set() (orm/models/related_managers.py) always computes the stale objects
# and calls remove(), which raises AttributeError for a non-nullable key. Django
# (create_reverse_many_to_one_manager.set) only adds when the key is not
# nullable: `author.books.set([book])` moves `book` here and leaves the others.


async def test_set_on_non_nullable_reverse_fk_adds(seed: Library) -> None:
    await seed.ann.books.aset([seed.gamma])  # today: AttributeError from remove()
    assert sorted([b.title async for b in seed.ann.books.all()]) == ["Alpha", "Beta", "Gamma"]
