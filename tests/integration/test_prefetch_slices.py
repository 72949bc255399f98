"""Sliced ``Prefetch`` querysets, chained ``to_attr`` and ``RawQuerySet`` extras on both backends (issue 17 item 7).

Library: Alice wrote Advanced Python (tags python, sql) and Python Basics
(python); Bob wrote Django Unchained (python, django) and SQL 101 (sql); Carol none.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import Prefetch
from orm.exceptions import FieldError
from tests.integration.conftest import Library
from tests.models import Author, Book, Tag


def titles(books: list[Any]) -> list[str]:
    return [b.title for b in books]


def test_a_sliced_queryset_limits_each_parent_not_the_whole_query(library: Library) -> None:
    first = Prefetch("books", queryset=Book.objects.order_by("title")[:1], to_attr="first")
    authors = list(Author.objects.order_by("name").prefetch_related(first))
    assert [(a.name, titles(a.first)) for a in authors] == [
        ("Alice", ["Advanced Python"]),
        ("Bob", ["Django Unchained"]),
        ("Carol", []),
    ]
    second = Prefetch("books", queryset=Book.objects.order_by("-title")[1:2])
    authors = list(Author.objects.order_by("name").prefetch_related(second))
    assert [(a.name, titles(a.books.all())) for a in authors] == [
        ("Alice", ["Advanced Python"]),
        ("Bob", ["Django Unchained"]),
        ("Carol", []),
    ]


def test_sliced_many_to_many_in_both_directions(library: Library) -> None:
    tags = Prefetch("tags", queryset=Tag.objects.order_by("-name")[:1], to_attr="top")
    books = list(Book.objects.order_by("title").prefetch_related(tags))
    assert [(b.title, [t.name for t in b.top]) for b in books] == [
        ("Advanced Python", ["sql"]),
        ("Django Unchained", ["python"]),
        ("Python Basics", ["python"]),
        ("SQL 101", ["sql"]),
    ]
    newest = Prefetch("books", queryset=Book.objects.order_by("-title")[:2])
    by_tag = {t.name: titles(t.books.all()) for t in Tag.objects.prefetch_related(newest)}
    assert by_tag == {
        "python": ["Python Basics", "Django Unchained"],
        "sql": ["SQL 101", "Advanced Python"],
        "django": ["Django Unchained"],
    }


def test_a_sliced_prefetch_runs_one_query_per_level(library: Library) -> None:
    with orm.capture_queries() as queries:
        authors = list(
            Author.objects.prefetch_related(
                Prefetch("books", queryset=Book.objects.order_by("title")[:1], to_attr="first")
            )
        )
    assert len(queries) == 2
    assert "ROW_NUMBER() OVER (PARTITION BY" in queries[1].sql
    assert sum(len(a.first) for a in authors) == 2


def test_chained_to_attr(library: Library) -> None:
    lookups = (
        Prefetch("books", queryset=Book.objects.order_by("title"), to_attr="bk"),
        Prefetch("bk__tags", queryset=Tag.objects.order_by("name"), to_attr="tg"),
    )
    with orm.capture_queries() as queries:
        authors = list(Author.objects.order_by("name").prefetch_related(*lookups))
    assert len(queries) == 3
    assert [(a.name, [(b.title, [t.name for t in b.tg]) for b in a.bk]) for a in authors] == [
        ("Alice", [("Advanced Python", ["python", "sql"]), ("Python Basics", ["python"])]),
        ("Bob", [("Django Unchained", ["django", "python"]), ("SQL 101", ["sql"])]),
        ("Carol", []),
    ]
    plain = Author.objects.filter(name="Bob").prefetch_related(
        Prefetch("books", to_attr="bk"), "bk__tags"
    )
    (bob,) = list(plain)
    assert sorted(t.name for b in bob.bk for t in b.tags.all()) == ["django", "python", "sql"]


def test_an_unknown_to_attr_path_is_refused() -> None:
    with pytest.raises(FieldError, match="Cannot find 'bkx' on Author object"):
        Author.objects.prefetch_related(Prefetch("books", to_attr="bk"), "bkx__tags")


def test_raw_queryset_prefetch_related_iterator_len_and_index(library: Library) -> None:
    raw = Book.objects.raw("SELECT * FROM tests_book ORDER BY title").prefetch_related("tags")
    with orm.capture_queries() as queries:
        books = list(raw)
    assert len(queries) == 2
    assert [(b.title, sorted(t.name for t in b.tags.all())) for b in books][:2] == [
        ("Advanced Python", ["python", "sql"]),
        ("Django Unchained", ["django", "python"]),
    ]
    assert len(raw) == 4 and raw[1].title == "Django Unchained"
    fresh = Book.objects.raw("SELECT * FROM tests_book ORDER BY title")
    assert titles(list(fresh.iterator())) == [
        "Advanced Python",
        "Django Unchained",
        "Python Basics",
        "SQL 101",
    ]
    assert fresh._result_cache is None  # iterator() keeps nothing
    renamed = Book.objects.raw(
        "SELECT id, title AS t, author_id FROM tests_book ORDER BY id", translations={"t": "title"}
    )
    assert renamed[0].title == "Python Basics"
    assert list(raw.prefetch_related(None)._prefetch_related_lookups) == []


async def test_async_iteration_of_a_sliced_prefetch(library: Library) -> None:
    qs = Author.objects.order_by("name").prefetch_related(
        Prefetch("books", queryset=Book.objects.order_by("-title")[:1], to_attr="last")
    )
    assert [(a.name, titles(a.last)) async for a in qs] == [
        ("Alice", ["Python Basics"]),
        ("Bob", ["SQL 101"]),
        ("Carol", []),
    ]
