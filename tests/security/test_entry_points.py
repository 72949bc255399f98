"""Every public entry point that takes an alias or a field name, fed the whole corpus.

One test per entry point runs every corpus entry through it and reports all
inputs that were not refused as RELIABILITY.md expects (wrong error type, no
error, or SQL attempted), so a regression names each input it lets through.
``create`` raises ``UnknownFieldError`` (a ``FieldError`` and a
``TypeError``); ``prefetch_related`` checks names before its main query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import orm
from orm import Count, F, FieldError, Prefetch, Q, Sum, Value
from tests.security.conftest import failures
from tests.security.corpus import FIELD_PATHS, HOSTILE_ALIASES, SAFE_ALIASES
from tests.security.models import Author, Book, Tag

#: The rule in the message; an empty constraint name gets its own message.
ALIAS_RULE = ("Aliases cannot contain", "needs a name")


@pytest.fixture
def stored(db: str) -> Book:
    author = Author.objects.create(name="a")
    book = Book.objects.create(
        name="kept",
        rating=1,
        author=author,
        data={"k": 1},
        published=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    book.tags.add(Tag.objects.create(name="t"))
    return book


@pytest.fixture
def loaded(stored: Book) -> SimpleNamespace:
    """Objects an entry point is called on, loaded before any query is counted."""
    return SimpleNamespace(
        book=Book.objects.get(pk=stored.pk),
        books=list(Book.objects.all()),
        author=Author.objects.get(name="a"),
    )


# ---------------------------------------------------------------- aliases (A1)

ALIAS_ENTRY_POINTS: dict[str, Callable[[SimpleNamespace, str], Any]] = {
    "annotate": lambda o, a: Book.objects.annotate(**{a: Value(1)}),
    "annotate(aggregate)": lambda o, a: Book.objects.annotate(**{a: Count("tags")}),
    "alias": lambda o, a: Book.objects.alias(**{a: F("rating")}),
    "alias then filter": lambda o, a: Book.objects.alias(**{a: F("rating")}).filter(**{a: 1}),
    "aggregate": lambda o, a: Book.objects.aggregate(**{a: Sum("rating")}),
    "values(**expr)": lambda o, a: Book.objects.values("name", **{a: F("rating")}),
    "values(**str)": lambda o, a: Book.objects.values(**{a: "rating"}),
    "related manager annotate": lambda o, a: o.author.books.annotate(**{a: Value(1)}),
    "related manager aggregate": lambda o, a: o.book.tags.aggregate(**{a: Count("id")}),
    "Index.name": lambda o, a: orm.Index(fields=["name"], name=a),
    "UniqueConstraint.name": lambda o, a: orm.UniqueConstraint(fields=["name"], name=a),
    "CheckConstraint.name": lambda o, a: orm.CheckConstraint(condition=Q(rating__gte=0), name=a),
}


@pytest.mark.parametrize("entry", list(ALIAS_ENTRY_POINTS))
def test_alias_entry_point_rejects_corpus(
    loaded: SimpleNamespace, count_queries: Any, snapshot: Any, entry: str
) -> None:
    before = snapshot(Book)
    call = ALIAS_ENTRY_POINTS[entry]
    problems = failures(
        count_queries, lambda a: call(loaded, a), HOSTILE_ALIASES, ValueError, ALIAS_RULE
    )
    assert problems == [], "\n".join(problems)
    assert snapshot(Book) == before


@pytest.mark.parametrize("entry", [e for e in ALIAS_ENTRY_POINTS if "then" not in e])
def test_alias_entry_point_accepts_safe_aliases(loaded: SimpleNamespace, entry: str) -> None:
    """Control: the same entry points accept ordinary aliases (the check can fail)."""
    for alias in SAFE_ALIASES:
        result = ALIAS_ENTRY_POINTS[entry](loaded, alias)
        if isinstance(result, orm.QuerySet):
            list(result)


def test_values_list_takes_names_only(stored: Book, count_queries: Any) -> None:
    """``values_list`` has no alias keywords: a hostile alias is an unknown name → FieldError."""
    problems = failures(
        count_queries, lambda a: Book.objects.values_list(a), HOSTILE_ALIASES, FieldError
    )
    problems += failures(
        count_queries,
        lambda a: Book.objects.values_list("name", a, named=True),
        HOSTILE_ALIASES,
        FieldError,
    )
    assert problems == [], "\n".join(problems)


# ------------------------------------------------------------ field paths (A2)

PATH_ENTRY_POINTS: dict[str, Callable[[SimpleNamespace, str], Any]] = {
    "filter": lambda o, p: list(Book.objects.filter(**{p: "x"})),
    "exclude": lambda o, p: list(Book.objects.exclude(**{p: "x"})),
    "get": lambda o, p: Book.objects.get(**{p: "x"}),
    "Q": lambda o, p: list(Book.objects.filter(Q(**{p: "x"}))),
    "~Q | Q": lambda o, p: list(Book.objects.filter(~Q(**{p: "x"}) | Q(rating=1))),
    "Q((path, value))": lambda o, p: list(Book.objects.filter(Q((p, "x")))),
    "count": lambda o, p: Book.objects.filter(**{p: "x"}).count(),
    "exists": lambda o, p: Book.objects.filter(**{p: "x"}).exists(),
    "values": lambda o, p: list(Book.objects.values(p)),
    "values_list": lambda o, p: list(Book.objects.values_list(p)),
    "values_list(flat)": lambda o, p: list(Book.objects.values_list(p, flat=True)),
    "only": lambda o, p: list(Book.objects.only(p)),
    "defer": lambda o, p: list(Book.objects.defer(p)),
    "order_by": lambda o, p: list(Book.objects.order_by(p)),
    "order_by(-)": lambda o, p: list(Book.objects.order_by("-" + p)),
    "distinct(fields)": lambda o, p: list(Book.objects.distinct(p)),
    "update": lambda o, p: Book.objects.update(**{p: "x"}),
    "select_related": lambda o, p: list(Book.objects.select_related(p)),
    "select_related(author__)": lambda o, p: list(Book.objects.select_related("author__" + p)),
    "F in filter": lambda o, p: list(Book.objects.filter(name=F(p))),
    "F in annotate": lambda o, p: list(Book.objects.annotate(v=F(p))),
    "F in update": lambda o, p: Book.objects.update(name=F(p)),
    "F in order_by": lambda o, p: list(Book.objects.order_by(F(p).desc())),
    "F in aggregate": lambda o, p: Book.objects.aggregate(v=Sum(F(p))),
    "Count(path)": lambda o, p: list(Book.objects.annotate(v=Count(p))),
    "latest": lambda o, p: Book.objects.latest(p),
    "earliest": lambda o, p: Book.objects.earliest(p),
    "refresh_from_db(fields)": lambda o, p: o.book.refresh_from_db(fields=[p]),
    "bulk_update(fields)": lambda o, p: Book.objects.bulk_update(o.books, [p]),
    "get_or_create": lambda o, p: Book.objects.get_or_create(**{p: "x"}),
    "update_or_create": lambda o, p: Book.objects.update_or_create(
        **{p: "x"}, defaults={"rating": 2}
    ),
    "related manager filter": lambda o, p: list(o.author.books.filter(**{p: "x"})),
    "m2m manager filter": lambda o, p: list(o.book.tags.filter(**{p: "x"})),
    "reverse relation path": lambda o, p: list(Author.objects.filter(**{f"books__{p}": "x"})),
    "m2m path": lambda o, p: list(Tag.objects.filter(**{f"books__{p}": "x"})),
}


@pytest.mark.parametrize("entry", list(PATH_ENTRY_POINTS))
def test_path_entry_point_rejects_corpus(
    loaded: SimpleNamespace, count_queries: Any, snapshot: Any, entry: str
) -> None:
    before = snapshot(Book)
    call = PATH_ENTRY_POINTS[entry]
    problems = failures(count_queries, lambda p: call(loaded, p), FIELD_PATHS, FieldError)
    assert problems == [], "\n".join(problems)
    assert snapshot(Book) == before


def test_create_rejects_corpus_before_sql(stored: Book, count_queries: Any, snapshot: Any) -> None:
    """Refused with 0 queries and nothing stored (UnknownFieldError: FieldError and TypeError)."""
    before = snapshot(Book)
    problems = failures(
        count_queries,
        lambda p: Book.objects.create(**{p: "x"}),
        FIELD_PATHS,
        (FieldError, TypeError),
    )
    problems += failures(
        count_queries, lambda p: Book(**{p: "x"}), FIELD_PATHS, (FieldError, TypeError)
    )
    assert problems == [], "\n".join(problems)
    assert snapshot(Book) == before


def test_prefetch_related_rejects_corpus(stored: Book, count_queries: Any, snapshot: Any) -> None:
    """FieldError before any query, and no write."""
    before = snapshot(Book)
    for path in FIELD_PATHS:
        for lookup in (path, Prefetch(path)):
            with count_queries() as ctx, pytest.raises(FieldError, match="prefetch_related"):
                list(Book.objects.prefetch_related(lookup))
            assert ctx.queries == []
    assert snapshot(Book) == before


def test_control_entry_points_accept_the_real_name(loaded: SimpleNamespace) -> None:
    """Control: every path entry point works with a real name (so each test above can fail)."""
    real_names = {
        "select_related": "author",
        "latest": "published",
        "earliest": "published",
        "Count(path)": "tags",
        "F in aggregate": "rating",
    }
    for entry, call in PATH_ENTRY_POINTS.items():
        if entry == "distinct(fields)":
            Book.objects.distinct("name")  # evaluating DISTINCT ON needs PostgreSQL
        elif entry == "select_related(author__)":
            list(Book.objects.select_related("author"))
        elif entry == "get":
            assert Book.objects.get(name="kept") == loaded.book
        else:
            call(loaded, real_names.get(entry, "name"))
    prefetched = Book.objects.prefetch_related("tags", "author").get(pk=loaded.book.pk)
    assert [t.name for t in prefetched.tags.all()] == ["t"]
