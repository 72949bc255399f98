"""``orm.Paginator`` and ``orm.AsyncPaginator`` (issue 20) on SQLite and PostgreSQL.

Django's pagination API (``django/core/paginator.py``, with the async pair
Django 6.0 added) over real QuerySets: page contents and navigation, orphans,
empty lists, the errors and their messages, the elided page range, how many
queries a page costs, the unordered-QuerySet warning, and an async view
(a bare ASGI app driven through ``httpx.ASGITransport``) that paginates with
``AsyncPaginator`` inside ``ConnectionScopeMiddleware``. The compiled SQL is
in tests/sql/test_pagination_sql.py.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

import orm
from orm.asgi import ConnectionScopeMiddleware
from tests.conftest import QueryCounter

APP = "i20_pagination"


class Entry(orm.Model):
    position = orm.IntegerField()
    title = orm.CharField(max_length=30)

    class Meta:
        app_label = APP


class Note(orm.Model):
    """Ordered by its Meta: paginating ``Note.objects.all()`` does not warn."""

    text = orm.CharField(max_length=30)

    class Meta:
        app_label = APP
        ordering = ["text"]


MODELS = (Entry, Note)


@pytest.fixture
def tables(backend: str) -> Iterator[str]:
    orm.create_tables(*MODELS)
    yield backend


def seed(n: int) -> None:
    Entry.objects.bulk_create([Entry(position=i, title=f"e{i:02}") for i in range(1, n + 1)])


@pytest.fixture
def entries(tables: str) -> str:
    """23 entries, positions 1..23."""
    seed(23)
    return tables


def ordered() -> orm.QuerySet[Entry]:
    return Entry.objects.order_by("position")


def positions(page: Any) -> list[int]:
    return [e.position for e in page]


# ------------------------------------------------------------------- sync


#: Django's elided page range of 50 one-item pages around page 43 (defaults: 3 on each side, 2 at the ends).
ELIDED_50_AROUND_43 = [1, 2, "…", 40, 41, 42, 43, 44, 45, 46, "…", 49, 50]


def test_pages_hold_the_rows_in_order(entries: str) -> None:
    paginator = orm.Paginator(ordered(), 10)
    assert paginator.count == 23
    assert paginator.num_pages == 3
    assert paginator.page_range == range(1, 4)
    assert positions(paginator.page(1)) == list(range(1, 11))
    assert positions(paginator.page(3)) == [21, 22, 23]
    assert [positions(p) for p in paginator] == [
        list(range(1, 11)),
        list(range(11, 21)),
        [21, 22, 23],
    ]


def test_page_navigation_and_indexes(entries: str) -> None:
    paginator = orm.Paginator(ordered(), 10)
    first, middle, last = paginator.page(1), paginator.page(2), paginator.page(3)
    assert repr(middle) == "<Page 2 of 3>"
    assert (first.has_previous(), first.has_next(), first.has_other_pages()) == (False, True, True)
    assert (last.has_previous(), last.has_next()) == (True, False)
    assert (middle.previous_page_number(), middle.next_page_number()) == (1, 3)
    assert (first.start_index(), first.end_index()) == (1, 10)
    assert (last.start_index(), last.end_index()) == (21, 23)
    with pytest.raises(orm.EmptyPage, match="That page contains no results"):
        last.next_page_number()
    with pytest.raises(orm.EmptyPage, match="That page number is less than 1"):
        first.previous_page_number()
    assert len(last) == 3
    assert last[0].position == 21
    assert [e.position for e in last[1:]] == [22, 23]
    assert last.index(last[2]) == 2  # a full Sequence
    with pytest.raises(TypeError, match="Page indices must be integers or slices, not str."):
        last["0"]


def test_orphans_join_the_last_page(entries: str) -> None:
    paginator = orm.Paginator(ordered(), 10, orphans=3)
    assert paginator.num_pages == 2
    last = paginator.page(2)
    assert positions(last) == list(range(11, 24))
    assert (last.start_index(), last.end_index()) == (11, 23)
    # 4 left over is more than the orphans: they keep a page of their own.
    assert orm.Paginator(ordered(), 10, orphans=2).num_pages == 3


def test_an_empty_queryset_has_one_empty_page_unless_refused(tables: str) -> None:
    paginator = orm.Paginator(ordered(), 10)
    assert (paginator.count, paginator.num_pages, paginator.page_range) == (0, 1, range(1, 2))
    page = paginator.page(1)
    assert list(page) == []
    assert (page.start_index(), page.end_index(), page.has_other_pages()) == (0, 0, False)
    strict = orm.Paginator(ordered(), 10, allow_empty_first_page=False)
    assert (strict.num_pages, list(strict.page_range)) == (0, [])
    with pytest.raises(orm.EmptyPage, match="That page contains no results"):
        strict.page(1)
    # As Django: the fallback is the last page, number 0, which is refused too.
    with pytest.raises(orm.EmptyPage, match="That page number is less than 1"):
        strict.get_page(1)


@pytest.mark.parametrize(
    ("number", "error", "message"),
    [
        ("x", orm.PageNotAnInteger, "That page number is not an integer"),
        (None, orm.PageNotAnInteger, "That page number is not an integer"),
        (1.5, orm.PageNotAnInteger, "That page number is not an integer"),
        (0, orm.EmptyPage, "That page number is less than 1"),
        (-1, orm.EmptyPage, "That page number is less than 1"),
        (4, orm.EmptyPage, "That page contains no results"),
    ],
)
def test_bad_page_numbers(entries: str, number: Any, error: type[Exception], message: str) -> None:
    paginator = orm.Paginator(ordered(), 10)
    with pytest.raises(error, match=message) as info:
        paginator.page(number)
    assert isinstance(info.value, orm.InvalidPage)


def test_page_numbers_may_be_strings_and_whole_floats(entries: str) -> None:
    paginator = orm.Paginator(ordered(), 10)
    assert paginator.page("2").number == 2
    assert paginator.page(3.0).number == 3
    assert paginator.validate_number("3") == 3


def test_get_page_falls_back_instead_of_raising(entries: str) -> None:
    paginator = orm.Paginator(ordered(), 10)
    assert paginator.get_page("2").number == 2
    assert paginator.get_page("not a number").number == 1
    assert paginator.get_page(None).number == 1
    assert paginator.get_page(99).number == 3
    assert paginator.get_page(-5).number == 3  # Django: any EmptyPage gives the last page


def test_error_messages_override_the_texts(entries: str) -> None:
    paginator = orm.Paginator(
        ordered(), 10, error_messages={"invalid_page": "Bad page", "no_results": "No more"}
    )
    with pytest.raises(orm.PageNotAnInteger, match="^Bad page$"):
        paginator.page("x")
    with pytest.raises(orm.EmptyPage, match="^No more$"):
        paginator.page(9)
    with pytest.raises(orm.EmptyPage, match="^That page number is less than 1$"):
        paginator.page(0)  # the default for the key not overridden


def test_bad_arguments_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"Unknown error_messages key\(s\) \['invalid'\]"):
        orm.Paginator([1, 2], 1, error_messages={"invalid": "x"})
    with pytest.raises(ValueError, match="per_page must be at least 1, got 0"):
        orm.Paginator([1, 2], 0)
    with pytest.raises(ValueError, match="orphans cannot be negative"):
        orm.Paginator([1, 2], 5, orphans=-1)
    with pytest.raises(ValueError, match="orphans argument cannot be larger than or equal to"):
        orm.AsyncPaginator([1, 2], 5, orphans=5)
    with pytest.raises(ValueError, match="invalid literal"):
        orm.Paginator([1, 2], "ten")


def test_get_elided_page_range(tables: str) -> None:
    seed(50)
    paginator = orm.Paginator(ordered(), 1)
    assert list(paginator.get_elided_page_range(43)) == ELIDED_50_AROUND_43
    assert list(paginator.get_elided_page_range(1)) == [1, 2, 3, 4, "…", 49, 50]
    assert list(paginator.get_elided_page_range(50, on_each_side=1, on_ends=1)) == [
        1,
        "…",
        49,
        50,
    ]
    assert list(orm.Paginator(ordered(), 10).get_elided_page_range(2)) == [1, 2, 3, 4, 5]
    with pytest.raises(orm.EmptyPage):
        list(paginator.get_elided_page_range(51))


def test_a_page_costs_a_count_and_one_select(
    entries: str, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        paginator = orm.Paginator(ordered(), 10)
        page = paginator.page(2)
        assert len(page) == 10
        assert page[0].position == 11
        assert positions(page) == list(range(11, 21))
        assert page.has_next() and page.end_index() == 20
    assert len(ctx.queries) == 2  # COUNT once, the page's rows once
    assert "COUNT(*)" in ctx.queries[0][0]
    assert "LIMIT 10 OFFSET 10" in ctx.queries[1][0]


def test_unordered_querysets_warn(entries: str) -> None:
    with pytest.warns(
        orm.UnorderedObjectListWarning,
        match=r"Pagination may yield inconsistent results with an unordered object_list: "
        r"<class 'tests.integration.test_pagination.Entry'> QuerySet\. Add order_by\(\)",
    ) as record:
        orm.Paginator(Entry.objects.all(), 10)
    assert record[0].filename == __file__  # points at the caller's line
    with pytest.warns(orm.UnorderedObjectListWarning, match="Note'> QuerySet") as record:
        orm.AsyncPaginator(Note.objects.order_by(), 10)
    assert record[0].filename == __file__


def test_ordered_querysets_and_lists_do_not_warn(entries: str) -> None:
    # filterwarnings = error: any warning here fails the test.
    orm.Paginator(ordered(), 10)
    orm.Paginator(Note.objects.all(), 10)
    orm.Paginator(Entry.objects.none(), 10)
    orm.Paginator([3, 1, 2], 10)


def test_lists_and_tuples_paginate_without_a_database() -> None:
    paginator = orm.Paginator(tuple("abcdefg"), 3, orphans=1)
    assert (paginator.count, paginator.num_pages) == (7, 2)
    assert list(paginator.page(2)) == ["d", "e", "f", "g"]
    assert list(orm.Paginator(["john", "paul", "george", "ringo"], 2).page(2)) == [
        "george",
        "ringo",
    ]


async def test_the_sync_paginator_is_refused_in_async_code(entries: str) -> None:
    paginator = orm.Paginator(ordered(), 10)
    with pytest.raises(orm.SynchronousOnlyOperation, match=r"Use `orm.AsyncPaginator`"):
        paginator.count  # noqa: B018
    # A page whose count is known still reads its rows through the QuerySet's guard.
    paginator.__dict__["count"] = 23
    with pytest.raises(orm.SynchronousOnlyOperation, match="cannot run in async code"):
        list(paginator.page(1))
    # A list needs no database, so the sync paginator is fine on the event loop.
    assert orm.Paginator([1, 2, 3], 2).page(2).object_list == [3]


# ------------------------------------------------------------------ async


async def test_async_pages_hold_the_rows_in_order(entries: str) -> None:
    paginator = orm.AsyncPaginator(ordered(), 10)
    assert await paginator.acount() == 23
    assert await paginator.anum_pages() == 3
    assert await paginator.apage_range() == range(1, 4)
    page = await paginator.apage(3)
    assert repr(page) == "<Async Page 3>"
    assert [e.position async for e in page] == [21, 22, 23]
    pages = [page async for page in paginator]
    assert [p.number for p in pages] == [1, 2, 3]
    assert [len(await p.aget_object_list()) for p in pages] == [10, 10, 3]


async def test_async_page_navigation_and_indexes(entries: str) -> None:
    paginator = orm.AsyncPaginator(ordered(), 10, orphans=3)
    first, last = await paginator.apage(1), await paginator.apage(2)
    assert (await first.ahas_previous(), await first.ahas_next()) == (False, True)
    assert (await last.ahas_next(), await last.ahas_other_pages()) == (False, True)
    assert await first.anext_page_number() == 2
    assert await last.aprevious_page_number() == 1
    with pytest.raises(orm.EmptyPage, match="That page contains no results"):
        await last.anext_page_number()
    with pytest.raises(orm.EmptyPage, match="That page number is less than 1"):
        await first.aprevious_page_number()
    assert (await first.astart_index(), await first.aend_index()) == (1, 10)
    assert (await last.astart_index(), await last.aend_index()) == (11, 23)


async def test_an_async_page_is_a_sequence_once_loaded(entries: str) -> None:
    page = await orm.AsyncPaginator(ordered(), 10).apage(2)
    with pytest.raises(TypeError, match=r"await page.aget_object_list\(\)"):
        len(page)
    with pytest.raises(TypeError, match=r"await page.aget_object_list\(\)"):
        page[0]
    with pytest.raises(TypeError, match="use `async for`"):
        list(page)
    loaded = await page.aget_object_list()
    assert loaded is await page.aget_object_list()  # loaded once
    assert len(page) == 10
    assert page[0].position == 11
    assert [e.position for e in page[8:]] == [19, 20]
    assert [e.position for e in page][-1] == 20
    with pytest.raises(TypeError, match="Page indices must be integers or slices, not NoneType."):
        page[None]


async def test_async_get_page_and_errors(entries: str) -> None:
    paginator = orm.AsyncPaginator(ordered(), 10, error_messages={"min_page": "Too low"})
    assert (await paginator.aget_page("x")).number == 1
    assert (await paginator.aget_page(40)).number == 3
    assert (await paginator.aget_page("2")).number == 2
    assert await paginator.avalidate_number(3.0) == 3
    with pytest.raises(orm.PageNotAnInteger, match="That page number is not an integer"):
        await paginator.apage(2.5)
    with pytest.raises(orm.EmptyPage, match="^Too low$"):
        await paginator.apage(0)
    with pytest.raises(orm.EmptyPage, match="That page contains no results"):
        await paginator.apage(4)


async def test_async_empty_queryset(tables: str) -> None:
    paginator = orm.AsyncPaginator(ordered(), 10)
    page = await paginator.apage(1)
    assert await page.aget_object_list() == []
    assert (await page.astart_index(), await page.aend_index()) == (0, 0)
    strict = orm.AsyncPaginator(ordered(), 10, allow_empty_first_page=False)
    assert await strict.anum_pages() == 0
    with pytest.raises(orm.EmptyPage):
        await strict.apage(1)
    # As Django: the fallback is the last page, number 0, which is refused too.
    with pytest.raises(orm.EmptyPage, match="That page number is less than 1"):
        await strict.aget_page(1)


async def test_async_elided_page_range(tables: str) -> None:
    await orm.sync_to_async(seed)(50)
    paginator = orm.AsyncPaginator(ordered(), 1)
    assert [n async for n in paginator.aget_elided_page_range(43)] == ELIDED_50_AROUND_43
    assert [n async for n in paginator.aget_elided_page_range(7, on_each_side=2, on_ends=0)] == [
        "…",
        5,
        6,
        7,
        8,
        9,
        "…",
    ]
    with pytest.raises(orm.PageNotAnInteger):
        [n async for n in paginator.aget_elided_page_range("x")]


async def test_async_count_runs_once(entries: str, count_queries: type[QueryCounter]) -> None:
    async with count_queries() as ctx:
        paginator = orm.AsyncPaginator(ordered(), 5)
        pages = [await p.aget_object_list() async for p in paginator]
        assert await paginator.acount() == 23
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert len(ctx.queries) == 1 + 5  # one COUNT, one SELECT per page


async def test_async_paginator_over_a_list() -> None:
    paginator = orm.AsyncPaginator(list(range(7)), 3)
    assert (await paginator.acount(), await paginator.anum_pages()) == (7, 3)
    page = await paginator.apage(3)
    assert page[0] == 6  # a list slice is already loaded
    assert [n async for n in page] == [6]
    tuple_page = await orm.AsyncPaginator(tuple(range(7)), 3).apage(1)
    assert await tuple_page.aget_object_list() == [0, 1, 2]


# ---------------------------------------------------------- an async view

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def entry_list(scope: Scope, receive: Receive, send: Send) -> None:
    """An async view: ``GET /?page=N`` returns one page of entries as JSON."""
    query = parse_qs(scope["query_string"].decode())
    paginator = orm.AsyncPaginator(Entry.objects.order_by("position"), 10)
    page = await paginator.aget_page(query.get("page", ["1"])[0])
    body = {
        "page": page.number,
        "num_pages": await paginator.anum_pages(),
        "titles": [e.title async for e in page],
        "next": await page.anext_page_number() if await page.ahas_next() else None,
        "range": [
            n
            async for n in paginator.aget_elided_page_range(page.number, on_each_side=1, on_ends=1)
        ],
    }
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


@pytest.mark.parametrize("scoped", [False, True], ids=["shared-thread", "connection-scope"])
async def test_an_async_view_paginates(entries: str, scoped: bool) -> None:
    app: Any = ConnectionScopeMiddleware(entry_list) if scoped else entry_list
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        first = (await client.get("/")).json()
        last = (await client.get("/", params={"page": "3"})).json()
        beyond = (await client.get("/", params={"page": "99"})).json()
        bad = (await client.get("/", params={"page": "abc"})).json()
    assert first["titles"] == [f"e{i:02}" for i in range(1, 11)]
    assert (first["page"], first["num_pages"], first["next"]) == (1, 3, 2)
    assert (last["titles"], last["next"], last["range"]) == (["e21", "e22", "e23"], None, [1, 2, 3])
    assert beyond["page"] == 3 and bad["page"] == 1
