"""Every QuerySet / Manager ``a``-twin against its sync method.

Each test runs the sync method (through ``orm.sync_to_async``, as an async
caller would) and its twin on the same data, or on two identical copies for
writes, and compares results, raised errors and what ends up in the database.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest

import orm
from tests.async_.conftest import SIDES, Library, call, shape
from tests.async_.models import Author, Book, Tag

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional

# --------------------------------------------------------------------- reads

RECEIVERS: dict[str, Callable[[], Any]] = {
    "manager": lambda: Book.objects,
    "queryset": lambda: Book.objects.filter(pages__gt=0),
}

Args = tuple[tuple[Any, ...], dict[str, Any]]

READ_CASES: list[tuple[str, str, Callable[[Library], Args]]] = [
    ("get-kwargs", "get", lambda s: ((), {"title": "Beta"})),
    ("get-q", "get", lambda s: ((orm.Q(title="Gamma") | orm.Q(title="Nope"),), {})),
    ("count", "count", lambda s: ((), {})),
    ("exists", "exists", lambda s: ((), {})),
    ("first", "first", lambda s: ((), {})),
    ("last", "last", lambda s: ((), {})),
    ("latest-field", "latest", lambda s: (("published",), {})),
    ("latest-meta", "latest", lambda s: ((), {})),
    ("latest-two-fields", "latest", lambda s: (("author", "-pages"), {})),
    ("earliest-field", "earliest", lambda s: (("pages",), {})),
    ("earliest-meta", "earliest", lambda s: ((), {})),
    ("in_bulk-ids", "in_bulk", lambda s: (([s.alpha.pk, s.gamma.pk, 10_000],), {})),
    ("in_bulk-all", "in_bulk", lambda s: ((), {})),
    ("in_bulk-empty", "in_bulk", lambda s: (([],), {})),
    (
        "aggregate",
        "aggregate",
        lambda s: ((), {"total": orm.Sum("pages"), "n": orm.Count("id"), "top": orm.Max("pages")}),
    ),
    ("aggregate-positional", "aggregate", lambda s: ((orm.Min("pages"),), {})),
    ("contains-yes", "contains", lambda s: ((s.beta,), {})),
    ("explain", "explain", lambda s: ((), {})),
]


@pytest.mark.parametrize("via", sorted(RECEIVERS))
@pytest.mark.parametrize(("name", "args"), [pytest.param(n, a, id=i) for i, n, a in READ_CASES])
async def test_read_twin_returns_what_the_sync_method_returns(
    seed: Library, via: str, name: str, args: Callable[[Library], Args]
) -> None:
    positional, keywords = args(seed)
    results = [await call(side, RECEIVERS[via](), name, *positional, **keywords) for side in SIDES]
    assert shape(results[1]) == shape(results[0])
    assert results[1] is not None


async def test_read_twins_give_the_expected_values(seed: Library) -> None:
    """The comparison above is not vacuous: the twins return the right rows."""
    assert (await Book.objects.aget(title="Beta")).pk == seed.beta.pk
    assert await Book.objects.acount() == 3
    assert await Book.objects.filter(title="Nope").acount() == 0
    assert await Book.objects.aexists() is True
    assert await Book.objects.filter(title="Nope").aexists() is False
    assert (await Book.objects.afirst()) == seed.alpha
    assert (await Book.objects.alast()) == seed.gamma
    assert (await Book.objects.order_by("-pages").afirst()) == seed.gamma
    assert (await Book.objects.order_by("-pages").alast()) == seed.alpha
    assert await Book.objects.filter(title="Nope").afirst() is None
    assert await Book.objects.filter(title="Nope").alast() is None
    assert (await Book.objects.alatest()) == seed.beta
    assert (await Book.objects.aearliest()) == seed.gamma
    assert (await Book.objects.alatest("pages")) == seed.gamma
    assert (await Book.objects.aearliest("-pages")) == seed.gamma
    assert await Book.objects.ain_bulk([seed.alpha.pk, seed.gamma.pk]) == {
        seed.alpha.pk: seed.alpha,
        seed.gamma.pk: seed.gamma,
    }
    assert await Author.objects.ain_bulk(["ann", "nobody"], field_name="name") == {"ann": seed.ann}
    assert await Book.objects.aaggregate(total=orm.Sum("pages")) == {"total": 600}
    assert await Book.objects.filter(author=seed.ann).aaggregate(orm.Max("pages")) == {
        "pages__max": 200
    }
    assert await Book.objects.filter(author=seed.ann).acontains(seed.beta) is True
    assert await Book.objects.filter(author=seed.bob).acontains(seed.beta) is False
    plan = await Book.objects.filter(pages__gt=150).aexplain()
    assert isinstance(plan, str) and plan.strip()


ERROR_CASES: list[tuple[str, Callable[[Library], Any], str, Callable[[Library], Args]]] = [
    ("get-none", lambda s: Book.objects, "get", lambda s: ((), {"title": "Nope"})),
    ("get-many", lambda s: Book.objects, "get", lambda s: ((), {"author__name": "ann"})),
    ("get-bad-field", lambda s: Book.objects, "get", lambda s: ((), {"colour": "red"})),
    (
        "latest-empty",
        lambda s: Book.objects.filter(title="Nope"),
        "latest",
        lambda s: (("published",), {}),
    ),
    ("earliest-no-meta", lambda s: Author.objects, "earliest", lambda s: ((), {})),
    ("latest-sliced", lambda s: Book.objects.all()[:1], "latest", lambda s: (("pages",), {})),
    (
        "in_bulk-not-unique",
        lambda s: Book.objects,
        "in_bulk",
        lambda s: (([1],), {"field_name": "title"}),
    ),
    (
        "aggregate-not-aggregate",
        lambda s: Book.objects,
        "aggregate",
        lambda s: ((), {"p": orm.F("pages")}),
    ),
    (
        "aggregate-no-alias",
        lambda s: Book.objects,
        "aggregate",
        lambda s: ((orm.Sum(orm.F("pages") + 1),), {}),
    ),
    ("contains-unsaved", lambda s: Book.objects, "contains", lambda s: ((Book(title="x"),), {})),
    ("contains-wrong-model", lambda s: Book.objects, "contains", lambda s: ((s.ann,), {})),
    (
        "contains-values",
        lambda s: Book.objects.values("pk"),
        "contains",
        lambda s: ((s.alpha,), {}),
    ),
    ("create-bad-field", lambda s: Book.objects, "create", lambda s: ((), {"colour": "red"})),
    ("update-sliced", lambda s: Book.objects.all()[:1], "update", lambda s: ((), {"pages": 1})),
    ("delete-values", lambda s: Book.objects.values("pk"), "delete", lambda s: ((), {})),
    (
        "bulk_create-batch",
        lambda s: Book.objects,
        "bulk_create",
        lambda s: (([],), {"batch_size": 0}),
    ),
    (
        "get_or_create-bad-field",
        lambda s: Book.objects,
        "get_or_create",
        lambda s: ((), {"colour": "red"}),
    ),
]


@pytest.mark.parametrize(
    ("receiver", "name", "args"), [pytest.param(r, n, a, id=i) for i, r, n, a in ERROR_CASES]
)
async def test_twin_raises_what_the_sync_method_raises(
    seed: Library, receiver: Callable[[Library], Any], name: str, args: Callable[[Library], Args]
) -> None:
    positional, keywords = args(seed)
    errors = []
    for side in SIDES:
        with pytest.raises(Exception) as info:  # noqa: B017 - compared just below
            await call(side, receiver(seed), name, *positional, **keywords)
        errors.append(info.value)
    sync_error, async_error = errors
    assert type(async_error) is type(sync_error)
    assert str(async_error) == str(sync_error)
    assert not isinstance(async_error, orm.SynchronousOnlyOperation)
    assert await Book.objects.acount() == 3  # nothing was written on either side


async def test_aget_raises_the_models_own_exceptions(seed: Library) -> None:
    with pytest.raises(Book.DoesNotExist):
        await Book.objects.aget(pk=10_000)
    with pytest.raises(Book.MultipleObjectsReturned, match="returned 2"):
        await Book.objects.aget(author=seed.ann)


# -------------------------------------------------------------------- writes


async def test_acreate_matches_create(pair: dict[str, Author]) -> None:
    created = {
        side: await call(side, Book.objects, "create", title="New", author=pair[side], pages=7)
        for side in SIDES
    }
    for side in SIDES:
        obj = created[side]
        assert isinstance(obj, Book)
        assert obj.pk is not None
        assert obj._state.adding is False and obj._state.db == "default"
        stored = await Book.objects.aget(pk=obj.pk)
        assert (stored.title, stored.pages, stored.author_id) == ("New", 7, pair[side].pk)
    assert shape(created["async"], drop=("id", "author_id")) == shape(
        created["sync"], drop=("id", "author_id")
    )
    on_queryset = await Book.objects.filter(title="ignored").acreate(
        title="Q", author=pair["async"]
    )
    assert (await Book.objects.aget(pk=on_queryset.pk)).title == "Q"


async def test_aget_or_create_matches_get_or_create(pair: dict[str, Author]) -> None:
    first = {
        side: await call(
            side, Book.objects, "get_or_create", title="G", author=pair[side], defaults={"pages": 9}
        )
        for side in SIDES
    }
    again = {
        side: await call(
            side, Book.objects, "get_or_create", title="G", author=pair[side], defaults={"pages": 1}
        )
        for side in SIDES
    }
    existing = {
        side: await call(side, Book.objects, "get_or_create", title="B2", author=pair[side])
        for side in SIDES
    }
    for side in SIDES:
        obj, created = first[side]
        assert created is True and obj.pages == 9 and obj.pk is not None
        obj2, created2 = again[side]
        assert created2 is False and obj2.pk == obj.pk and obj2.pages == 9
        assert existing[side][1] is False and existing[side][0].title == "B2"
    assert await Book.objects.filter(title="G").acount() == 2
    drop = ("id", "author_id")
    assert shape(first["async"], drop=drop) == shape(first["sync"], drop=drop)
    assert shape(again["async"], drop=drop) == shape(again["sync"], drop=drop)


async def test_aupdate_or_create_matches_update_or_create(pair: dict[str, Author]) -> None:
    results = {}
    for side in SIDES:
        updated = await call(
            side,
            Book.objects,
            "update_or_create",
            title="B1",
            author=pair[side],
            defaults={"pages": 111},
        )
        created = await call(
            side,
            Book.objects,
            "update_or_create",
            title="U",
            author=pair[side],
            defaults={"pages": 5},
            create_defaults={"pages": 6},
        )
        results[side] = (updated, created)
        (obj, was_created), (new, new_created) = results[side]
        assert was_created is False and obj.pages == 111
        assert (await Book.objects.aget(pk=obj.pk)).pages == 111
        assert new_created is True and new.pages == 6
        assert (await Book.objects.aget(pk=new.pk)).pages == 6
    drop = ("id", "author_id")
    assert shape(results["async"], drop=drop) == shape(results["sync"], drop=drop)


async def test_abulk_create_matches_bulk_create(pair: dict[str, Author]) -> None:
    results = {}
    for side in SIDES:
        objs = [Book(title=f"bulk{i}", author=pair[side], pages=i) for i in range(5)]
        results[side] = await call(side, Book.objects, "bulk_create", objs, batch_size=2)
        assert [o.title for o in results[side]] == [f"bulk{i}" for i in range(5)]
        assert await Book.objects.filter(author=pair[side], title__startswith="bulk").acount() == 5
    drop = ("id", "author_id")
    assert shape(results["async"], drop=drop) == shape(results["sync"], drop=drop)
    assert [o.pk is None for o in results["async"]] == [o.pk is None for o in results["sync"]]


async def test_abulk_update_matches_bulk_update(pair: dict[str, Author]) -> None:
    counts = {}
    for side in SIDES:
        books = [b async for b in Book.objects.filter(author=pair[side]).order_by("pages")]
        for b in books:
            b.pages += 1
            b.title = b.title.lower()
        counts[side] = await call(side, Book.objects, "bulk_update", books, ["pages"], batch_size=2)
    assert counts["async"] == counts["sync"] == 3
    for side in SIDES:
        stored = [
            (b.title, b.pages)
            async for b in Book.objects.filter(author=pair[side]).order_by("pages")
        ]
        assert stored == [("B1", 101), ("B2", 201), ("B3", 301)]  # title was not in fields


async def test_aupdate_matches_update(pair: dict[str, Author]) -> None:
    counts = {
        side: await call(
            side,
            Book.objects.filter(author=pair[side], pages__gte=200),
            "update",
            pages=orm.F("pages") + 1,
            title="U",
        )
        for side in SIDES
    }
    assert counts["async"] == counts["sync"] == 2
    for side in SIDES:
        stored = [
            (b.title, b.pages) async for b in Book.objects.filter(author=pair[side]).order_by("pk")
        ]
        assert stored == [("B1", 100), ("U", 201), ("U", 301)]
    assert await Book.objects.filter(title="Nope").aupdate(pages=0) == 0


async def test_adelete_matches_delete(seed: Library) -> None:
    # Two identical graphs: an author, two books, tags linked to both books.
    authors = {}
    for side in SIDES:
        author = await Author.objects.acreate(name=f"del-{side}")
        for title in ("x", "y"):
            book = await Book.objects.acreate(title=title, author=author)
            await book.tags.aadd(seed.py, seed.db)
        authors[side] = author
    results = {
        side: await call(side, Author.objects.filter(pk=authors[side].pk), "delete")
        for side in SIDES
    }
    assert results["async"] == results["sync"]
    assert results["async"] == (7, {"shared.Author": 1, "shared.Book": 2, "shared.Book_tags": 4})
    assert await Author.objects.filter(name__startswith="del-").acount() == 0
    assert await Book.objects.acount() == 3
    assert await Tag.objects.acount() == 3
    assert await Book.objects.filter(title="Nope").adelete() == (0, {})


async def test_manager_twins_write_through_the_manager(tables: str) -> None:
    """The same twins called on the manager rather than on a QuerySet."""
    author = await Author.objects.acreate(name="m")
    assert (await Author.objects.aget_or_create(name="m"))[1] is False
    assert (await Author.objects.aupdate_or_create(name="m", defaults={"age": 3}))[0].age == 3
    books = await Book.objects.abulk_create([Book(title=str(i), author=author) for i in range(3)])
    for b in books:
        b.pages = 5
    assert await Book.objects.abulk_update(books, ["pages"]) == 3
    assert await Book.objects.aupdate(pages=6) == 3
    assert await Book.objects.aaggregate(orm.Sum("pages")) == {"pages__sum": 18}
    assert await Book.objects.adelete() == (3, {"shared.Book": 3})
    assert await Book.objects.acount() == 0


# ------------------------------------------------------- where the twin runs


async def test_twins_run_off_the_event_loop_thread(
    seed: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync body runs on a worker thread, never on the loop's thread."""
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = orm.QuerySet.count

    def spying_count(self: orm.QuerySet[Any]) -> int:
        seen.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(orm.QuerySet, "count", spying_count)
    assert await Book.objects.acount() == 3
    assert await Book.objects.filter(pages__gt=150).acount() == 2
    assert len(seen) == 2 and loop_thread not in seen


async def test_read_twin_sees_write_twin_immediately(tables: str) -> None:
    """Twins of one context run in order on one connection: no stale reads."""
    author = await Author.objects.acreate(name="order")
    for i in range(20):
        await Book.objects.acreate(
            title=str(i), author=author, published=datetime.date(2000, 1, 1 + i)
        )
        assert await Book.objects.acount() == i + 1
        assert (await Book.objects.alatest()).title == str(i)


# BUG 7 -----------------------------------------------------------------------
# QuerySet.bulk_create(objs, batch_size, ignore_conflicts) never passes
# ignore_conflicts on: writes.bulk_insert(model, objs, using, batch_size) has no
# such parameter, although the backends have insert_statement(on_conflict_ignore=).
# A conflicting row raises IntegrityError instead of being skipped, sync and async.


async def test_abulk_create_ignore_conflicts_skips_duplicates(seed: Library) -> None:
    await Tag.objects.abulk_create([Tag(name="py"), Tag(name="fresh")], ignore_conflicts=True)
    assert sorted([t.name async for t in Tag.objects.all()]) == ["db", "fresh", "py", "unused"]


def test_bulk_create_ignore_conflicts_skips_duplicates(seed: Library) -> None:
    Tag.objects.bulk_create([Tag(name="py"), Tag(name="fresh")], ignore_conflicts=True)
    assert Tag.objects.count() == 4
