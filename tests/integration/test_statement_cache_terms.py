"""The statement cache keyed by the filter call (``orm/query/terms.py``), on both backends.

``Model.objects.filter(**plain values)`` records pending terms instead of
building a ``Query``; ``get()``, ``count()``, ``exists()`` and iteration key
the one statement cache by the call. What must hold: the same SQL and
parameters as the ordinary path (the tree, built from an equal ``Q``), no
``Query`` built on a hit, and never one entry for two shapes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm.query import terms
from orm.query.query import Query
from orm.sql import compiler
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import AllFields, Author, Book

EVALUATIONS: dict[str, Any] = {
    "fetch": lambda q: sorted(b.pk for b in q),
    "count": lambda q: q.count(),
    "exists": lambda q: q.exists(),
    "get": lambda q: _get(q),
}


def _get(qs: orm.QuerySet[Any]) -> Any:
    try:
        return qs.get().pk
    except (qs.model.DoesNotExist, qs.model.MultipleObjectsReturned) as exc:
        return type(exc).__name__


def statements(evaluate: Any, qs: orm.QuerySet[Any]) -> tuple[Any, list[tuple[str, list[Any]]]]:
    with QueryCounter() as ctx:
        result = evaluate(qs)
    return result, [(sql, list(params)) for sql, params in ctx.queries]


# Shapes that differ in one thing each: lookup, key, value type, a value that
# changes the text, the model. Each pair must have entries of its own.
SHAPES: list[tuple[Any, dict[str, Any]]] = [
    (Book, {"pages": 300}),
    (Book, {"pages__gt": 300}),
    (Book, {"pages__gte": 300}),
    (Book, {"pages__lt": 300}),
    (AllFields, {"float_value": 2}),
    (AllFields, {"float_value": 2.0}),
    (Book, {"pk": 1}),
    (Book, {"id": 1}),
    (Book, {"pk__gt": 1}),
    (Book, {"title": "SQL 101"}),
    (Book, {"title__iexact": "sql 101"}),
    (Book, {"title__contains": "SQL"}),
    (Book, {"title__icontains": "sql"}),
    (Book, {"title__startswith": "SQL"}),
    (Book, {"title__endswith": "101"}),
    (Book, {"title__contains": "10%"}),
    (Book, {"title": "SQL 101", "pages": 300}),
    (Book, {"title__gt": "A", "pages__lt": 400}),
    (Book, {"author": 1}),
    (Book, {"author_id": 1}),
    (Book, {"price": Decimal("9.99")}),
    (Book, {"price": Decimal("9.990")}),
    (Book, {"published": datetime.date(2022, 11, 5)}),
    (Book, {"published": "2022-11-05"}),
    (Author, {"pk": 1}),
    (Author, {"name": "Bob"}),
    (AllFields, {"small_int": 2**40}),  # out of range: folded by the tree, never a term
]


def ordinary(model: Any, kwargs: dict[str, Any]) -> orm.QuerySet[Any]:
    """The same filter through the tree (a ``Q`` argument records no terms)."""
    return model.objects.filter(orm.Q(**kwargs))


def test_a_plain_filter_records_terms_and_builds_no_query(library: Library) -> None:
    qs = Book.objects.filter(pages=300, title__startswith="D")
    assert qs._query is None and qs._terms is not None
    assert str(qs.query) == str(ordinary(Book, {"pages": 300, "title__startswith": "D"}).query)
    assert qs._terms is None  # touching .query built the tree from them
    # Anything else is the tree at once.
    for other in (
        Book.objects.filter(orm.Q(pages=300)),
        Book.objects.exclude(pages=300),
        Book.objects.filter(author__name="Bob"),
        Book.objects.filter(pages=None),
        Book.objects.filter(pages__in=[1, 2]),
        Book.objects.filter(data__level="x"),
        Book.objects.filter(published__year=2020),
        AllFields.objects.filter(small_int=2**40),
    ):
        assert other._terms is None


@pytest.mark.parametrize("kind", sorted(EVALUATIONS))
def test_every_shape_matches_the_ordinary_path_and_never_shares_an_entry(
    library: Library, kind: str
) -> None:
    evaluate = EVALUATIONS[kind]
    expected = []
    for model, kwargs in SHAPES:
        compiler.STATEMENTS.clear()
        expected.append(statements(evaluate, ordinary(model, kwargs)))
    # One warm cache for every shape, evaluated twice in turn: a shared
    # entry would give some shape another's text.
    compiler.STATEMENTS.clear()
    for _ in range(2):
        for (model, kwargs), want in zip(SHAPES, expected, strict=True):
            assert statements(evaluate, model.objects.filter(**kwargs)) == want, kwargs


def test_kinds_never_share_an_entry(library: Library) -> None:
    compiler.STATEMENTS.clear()
    qs = Book.objects.filter(author_id=library.bob.pk)  # never evaluated itself: no result cache
    for _ in range(2):
        assert sorted(b.title for b in qs.all()) == ["Django Unchained", "SQL 101"]
        assert qs.all().count() == 2 and qs.all().exists() is True
        assert _get(qs) == "MultipleObjectsReturned"
        assert len(compiler.STATEMENTS) == 4


def test_keys_of_different_shapes_differ(db: str) -> None:
    connection = orm.connections["default"]
    keys = set()
    for model, kwargs in SHAPES[:-1]:
        pending = terms.build_terms(model, kwargs)
        assert pending is not None, kwargs
        for kind in (terms.FETCH, terms.GET, terms.COUNT, terms.EXISTS):
            keys.add(terms.PendingQuery(model, pending, kind).statement_key(connection)[0])
    # One key per call shape: the same names and value types share one
    # (``contains="SQL"`` and ``contains="10%"``: the same text), others never.
    shapes = {
        (model, tuple(sorted((k, type(v)) for k, v in kwargs.items())))
        for model, kwargs in SHAPES[:-1]
    }
    assert len(keys) == 4 * len(shapes) == 4 * (len(SHAPES) - 3)
    # Never a tree key either: those are the Query's attributes.
    tree = Book.objects.filter(orm.Q(pages=1)).query.statement_key(connection)
    assert tree is not None and tree[0] not in keys


def test_a_hit_builds_no_query(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    pk = library.unchained.pk
    for evaluate in EVALUATIONS.values():
        evaluate(Book.objects.filter(pk=pk))  # the entry

    def no_query(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a Query was built on a hit")

    monkeypatch.setattr(Query, "__init__", no_query)
    assert Book.objects.get(pk=pk).title == "Django Unchained"
    assert Book.objects.filter(pk=pk).count() == 1
    assert Book.objects.filter(pk=pk).exists() is True
    assert [b.title for b in Book.objects.filter(pk=pk)] == ["Django Unchained"]


def test_calls_after_the_terms_see_them(library: Library) -> None:
    bob = library.bob.pk
    qs = Book.objects.filter(author_id=bob)
    assert [b.title for b in qs.order_by("-title")] == ["SQL 101", "Django Unchained"]
    assert [b.title for b in qs.filter(pages=300)] == ["Django Unchained"]
    assert [b.title for b in qs.exclude(pages=300)] == ["SQL 101"]
    assert list(qs.order_by("title").values_list("title", flat=True)) == [
        "Django Unchained",
        "SQL 101",
    ]
    assert qs.order_by("title")[1].title == "SQL 101"
    assert qs.aggregate(n=orm.Count("pk")) == {"n": 2}
    assert qs.filter(pages__gt=0).count() == 1
    assert qs.none().count() == 0
    assert qs.update(pages=1) == 2
    assert Book.objects.filter(pages=1).count() == 2


def test_a_value_the_field_rejects_fails_in_filter(db: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        Book.objects.filter(pages="many")


async def test_async_twins(library: Library) -> None:
    pk = library.sql101.pk
    for _ in range(2):
        assert (await Book.objects.aget(pk=pk)).title == "SQL 101"
        assert await Book.objects.filter(author_id=library.bob.pk).acount() == 2
        assert await Book.objects.filter(pk=pk).aexists() is True
