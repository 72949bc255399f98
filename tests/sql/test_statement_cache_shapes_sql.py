"""The statement cache on the shapes main gained (FilteredRelation, window
filters, multi-table inheritance, ``only()``/``defer()`` across relations,
``dates()``/``datetimes()``), compile-only on both dialects.

As in ``test_statement_cache_sql.py``: every shape is compiled cold (cache
emptied) and warm (after every other shape filled the cache with other
values); both must give the same text, parameters and parameter types. A
shape the key cannot describe must be refused, never share an entry.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from typing import Any

import pytest

import orm
from orm import F, FilteredRelation, Q, Window
from orm.models.registry import Apps
from orm.query.functions import RowNumber
from orm.sql import compiler
from tests.sql.helpers import placeholder_count
from tests.sql.models import Author, Book
from tests.sql.test_statement_cache_sql import cold, compile_with

apps = Apps()


def _meta() -> type:
    return type("Meta", (), {"app_label": "cachemti", "apps": apps})


class Spot(orm.Model):
    name = orm.CharField(max_length=50)
    Meta = _meta()


class Cafe(Spot):
    seats = orm.IntegerField(default=0)
    Meta = _meta()


class Bistro(Cafe):
    stars = orm.IntegerField(default=0)
    Meta = _meta()


@pytest.fixture(params=["sqlite", "postgresql"])
def conn(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "sqlite":
        yield orm.connections["default"]
        return
    from orm.conf import parse_url
    from orm.db.connections import ConnectionHandler

    backend = ConnectionHandler.load_backend("postgresql")
    wrapper = backend.DatabaseWrapper(parse_url("postgresql://u@127.0.0.1:5432/db"), "pg")
    yield wrapper
    assert wrapper.connection is None


NAMES = ["Ann", "Bob", "O'Hara", "50%_off"]
DAY = datetime.date(2024, 1, 1)

SHAPES: dict[str, Any] = {
    # FilteredRelation: the condition is in the ON clause; each differs from
    # the next by a lookup, a field, a connector or the relation alone.
    "fr gt": lambda i: Author.objects.annotate(
        b=FilteredRelation("books", condition=Q(books__pages__gt=i))
    ).filter(b__title=NAMES[i]),
    "fr lt": lambda i: Author.objects.annotate(
        b=FilteredRelation("books", condition=Q(books__pages__lt=i))
    ).filter(b__title=NAMES[i]),
    "fr other field": lambda i: Author.objects.annotate(
        b=FilteredRelation("books", condition=Q(books__rating__gt=i))
    ).filter(b__title=NAMES[i]),
    "fr or": lambda i: Author.objects.annotate(
        b=FilteredRelation("books", condition=Q(books__pages__gt=i) | Q(books__title=NAMES[i]))
    ).filter(b__title=NAMES[i]),
    "fr isnull": lambda i: Author.objects.annotate(
        b=FilteredRelation("books", condition=Q(books__pages__gt=i))
    ).filter(b__isnull=True),
    "fr forward": lambda i: Book.objects.annotate(
        a=FilteredRelation("author", condition=Q(author__age__gte=i))
    ).filter(a__name=NAMES[i]),
    "fr values": lambda i: Author.objects.annotate(
        b=FilteredRelation("books", condition=Q(books__pages__gt=i))
    ).values_list("name", "b__title"),
    "plain join": lambda i: Author.objects.filter(books__title=NAMES[i]),
    # Filters on window annotations (the QUALIFY wrapping) and their plain twins.
    "window lte": lambda i: Book.objects.annotate(
        rn=Window(RowNumber(), partition_by="publisher", order_by="-pages")
    ).filter(rn__lte=i),
    "window gt": lambda i: Book.objects.annotate(
        rn=Window(RowNumber(), partition_by="publisher", order_by="-pages")
    ).filter(rn__gt=i),
    "window and plain": lambda i: (
        Book.objects.annotate(rn=Window(RowNumber(), order_by="id"))
        .filter(rn__lte=i, pages__gt=i)
        .order_by("title")[:5]
    ),
    "window alias or": lambda i: Book.objects.alias(rn=Window(RowNumber(), order_by="id")).filter(
        Q(rn=i) | Q(pages__gt=F("rating"))
    ),
    "window unfiltered": lambda i: Book.objects.annotate(
        rn=Window(RowNumber(), order_by="id")
    ).filter(pages__gt=i),
    "plain pages": lambda i: Book.objects.filter(pages__gt=i),
    # Multi-table inheritance: a child joins its parents' tables.
    "mti parent": lambda i: Spot.objects.filter(name=NAMES[i]),
    "mti child own": lambda i: Cafe.objects.filter(seats=i),
    "mti child inherited": lambda i: Cafe.objects.filter(name=NAMES[i]),
    "mti grandchild": lambda i: Bistro.objects.filter(stars=i),
    "mti grandchild inherited": lambda i: Bistro.objects.filter(name=NAMES[i], seats=i),
    "mti child pk": lambda i: Cafe.objects.filter(pk=i),
    "mti child values": lambda i: Cafe.objects.filter(seats=i).values("name", "seats"),
    "mti child only": lambda i: Bistro.objects.filter(stars=i).only("name"),
    "mti parent to child": lambda i: Spot.objects.filter(cafe__seats=i),
    # only()/defer() across relations.
    "sr": lambda i: Book.objects.select_related("author").filter(pages=i),
    "sr only": lambda i: (
        Book.objects.select_related("author").only("title", "author__name").filter(pages=i)
    ),
    "sr only age": lambda i: (
        Book.objects.select_related("author").only("title", "author__age").filter(pages=i)
    ),
    "sr defer": lambda i: (
        Book.objects.select_related("author").defer("author__name").filter(pages=i)
    ),
    "sr defer age": lambda i: (
        Book.objects.select_related("author").defer("author__age").filter(pages=i)
    ),
    "only": lambda i: Book.objects.only("title").filter(pages=i),
    # dates()/datetimes().
    "dates year": lambda i: Book.objects.filter(pages=i).dates("published", "year"),
    "dates month": lambda i: Book.objects.filter(pages=i).dates("published", "month"),
    "dates desc": lambda i: Book.objects.filter(pages=i).dates("published", "day", order="DESC"),
}


def test_new_shapes_compile_the_same_warm_and_cold(conn: Any) -> None:
    expected = {name: [cold(conn, shape(i)) for i in (1, 2)] for name, shape in SHAPES.items()}
    # Shapes differ from one another (on PostgreSQL the unit of dates() is a
    # parameter of the select list: same text, other parameters).
    texts = {name: (want[0][0], repr(want[0][1])) for name, want in expected.items()}
    assert len(set(texts.values())) == len(texts)
    compiler.STATEMENTS.clear()
    order = list(SHAPES)
    random.Random(17).shuffle(order)
    for i in (1, 2):  # value set 1 fills the cache; value set 2 reuses it
        for name in order:
            got = compile_with(conn, SHAPES[name](i))
            assert got == expected[name][i - 1], name
            assert placeholder_count(got[0]) == len(got[1]), name
        random.Random(i).shuffle(order)


def test_filtered_relation_conditions_never_share_an_entry(conn: Any) -> None:
    # Cached or refused, but never served another condition's text.
    conditions = [
        Q(books__pages__gt=1),
        Q(books__pages__lt=1),
        Q(books__title="x"),
        ~Q(books__pages__gt=1),
        Q(books__pages__gt=1) & Q(books__title="x"),
    ]
    shapes = [
        Author.objects.annotate(b=FilteredRelation("books", condition=c)).filter(b__pages=3)
        for c in conditions
    ]
    want = [cold(conn, qs) for qs in shapes]
    assert len({sql for sql, _p, _t in want}) == len(conditions)
    compiler.STATEMENTS.clear()
    for _ in range(2):
        assert [compile_with(conn, qs) for qs in shapes] == want


def test_window_filters_are_not_cached(conn: Any) -> None:
    """A window filter's parameters are split between the inner WHERE and the outer filter."""
    qs = Book.objects.annotate(rn=Window(RowNumber(), order_by="id")).filter(rn__lte=2, pages__gt=3)
    compiler.STATEMENTS.clear()
    assert compile_with(conn, qs) == cold(conn, qs)
    assert len(compiler.STATEMENTS) == 0


def test_an_mti_child_is_cached_with_its_parent_joins(conn: Any) -> None:
    """A hit skips the select's preparation (which adds the parent joins): its
    text must still have them, and a query compiled before (its joins added)
    must give the same text as a fresh one."""
    compiler.STATEMENTS.clear()
    first = compile_with(conn, Bistro.objects.filter(stars=1))
    assert len(compiler.STATEMENTS) == 1
    hit = compile_with(conn, Bistro.objects.filter(stars=2))
    assert len(compiler.STATEMENTS) == 1
    assert hit[0] == first[0] and hit[1] == [2]
    assert first[0].count("JOIN") == 2  # both ancestors
    qs = Bistro.objects.filter(stars=3)
    query = qs.query
    once = compile_with(conn, query)
    twice = compile_with(conn, query)  # the same Query, its parent joins already set up
    assert once == twice == cold(conn, Bistro.objects.filter(stars=3))
    # Parent and child with the same filter never share an entry.
    assert (
        compile_with(conn, Spot.objects.filter(name="a"))[0]
        != compile_with(conn, Cafe.objects.filter(name="a"))[0]
    )


def test_deferred_paths_across_relations_are_in_the_key(conn: Any) -> None:
    shapes = [
        Book.objects.select_related("author").only("title", f"author__{name}").filter(pages=1)
        for name in ("name", "age")
    ]
    keys = [qs.query.statement_key(conn) for qs in shapes]
    if keys[0] is not None and keys[1] is not None:
        assert keys[0][0] != keys[1][0]
    compiler.STATEMENTS.clear()
    want = [cold(conn, qs) for qs in shapes]
    compiler.STATEMENTS.clear()
    assert [compile_with(conn, qs) for qs in shapes] == want
    assert want[0][0] != want[1][0]
