"""A manager's ``get(**plain values)`` served from the statement cache (``orm/query/point.py``).

The second call of a shape skips the QuerySet clone, the compiler and the
iterable; these tests hold it to what the ordinary path gives (instances,
errors, validation, signals, overrides) on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm.query import terms
from orm.query.lookups import Exact
from orm.query.queryset import QuerySet
from orm.signals import post_init
from orm.sql.compiler import SQLCompiler
from tests.integration.conftest import Library
from tests.models import Author, Book


@pytest.fixture
def compilers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every SQLCompiler made while the test runs."""
    made: list[Any] = []
    original = SQLCompiler.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "__init__", counting)
    yield made


def _fields(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


def test_a_repeated_get_builds_no_compiler_and_the_same_instance(
    library: Library, compilers: list[Any]
) -> None:
    Book.objects.get(pk=library.basics.pk)  # compiles and caches the shape
    compilers.clear()
    again = Book.objects.get(pk=library.advanced.pk)
    assert compilers == []
    ordinary = Book.objects.filter(pk=library.advanced.pk).order_by("id")[0]
    assert compilers  # the ordinary path compiles
    assert _fields(again) == _fields(ordinary)
    assert again.price == Decimal("49.50")
    assert (again._state.db, again._state.adding) == ("default", False)
    assert again.author.name == "Alice"  # relations load lazily as usual
    # id= and an integer column are keyed the same way.
    Author.objects.get(id=library.bob.pk)
    compilers.clear()
    assert Author.objects.get(id=library.alice.pk).name == "Alice"
    assert compilers == []


def test_errors_are_the_ordinary_ones(library: Library) -> None:
    Book.objects.create(title="Twin", author=library.bob, pages=200)  # basics has 200 pages
    missing = max(b.pk for b in Book.objects.all()) + 100
    for _ in range(2):  # the second call of each shape is served from the cache
        with pytest.raises(Book.DoesNotExist, match="^Book matching query does not exist.$"):
            Book.objects.get(pk=missing)
        with pytest.raises(
            Book.MultipleObjectsReturned,
            match="^get\\(\\) returned more than one Book -- it returned 2!$",
        ):
            Book.objects.get(pages=200)
        # Values the column cannot hold: no row, as before (no SQL for the first).
        with pytest.raises(Book.DoesNotExist):
            Book.objects.get(pk=2**70)
        with pytest.raises(TypeError, match="expected an integer but got a bool"):
            Book.objects.get(pk=True)
        with pytest.raises(ValueError, match="'id'"):
            Book.objects.get(pk="x")
    # A str that is a number is prepared by the field, as Django does.
    assert Book.objects.get(pk=str(library.sql101.pk)).title == "SQL 101"
    assert Book.objects.get(pk=str(library.sql101.pk)).title == "SQL 101"


async def test_aget_twice(library: Library) -> None:
    first = await Book.objects.aget(pk=library.basics.pk)
    second = await Book.objects.aget(pk=library.basics.pk)
    assert first is not second
    assert _fields(first) == _fields(second)


def test_init_receivers_see_every_instance(library: Library) -> None:
    Book.objects.get(pk=library.basics.pk)
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Book)
    try:
        found = Book.objects.get(pk=library.basics.pk)
    finally:
        post_init.disconnect(receiver, sender=Book)
    assert seen == [found]


def test_a_queryset_that_overrides_filter_keeps_its_override(library: Library) -> None:
    calls: list[dict[str, Any]] = []

    class Recording(QuerySet[Any]):
        def filter(self, *args: Any, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return super().filter(*args, **kwargs)

    for _ in range(2):
        assert Recording(Book).get(pk=library.basics.pk).title == "Python Basics"
    assert calls == [{"pk": library.basics.pk}] * 2


def test_a_filtered_or_shaped_queryset_takes_the_ordinary_path(library: Library) -> None:
    for _ in range(2):
        with pytest.raises(Book.DoesNotExist):
            Book.objects.filter(title="SQL 101").get(pk=library.basics.pk)
        assert Book.objects.only("title").get(pk=library.basics.pk).get_deferred_fields() >= {
            "pages"
        }
        assert Book.objects.values("title").get(pk=library.basics.pk) == {"title": "Python Basics"}
        book = Book.objects.select_related("author").get(pk=library.basics.pk)
        assert "author" in book._state.fields_cache


@pytest.mark.parametrize("name", ["pk", "id", "pages", "author_id", "author"])
def test_an_int_on_an_integer_column_is_keyed_as_its_built_lookup(db: str, name: str) -> None:
    # The shortcut (no lookup built) and the lookup give one cache entry.
    fast = terms.build_terms(Book, {name: 7})
    assert fast is not None and fast[0].lookup is None
    resolved = terms._resolve(Book, name)
    assert resolved is not None
    built = (terms.Term(name, 7, Exact(resolved.col, 7), Exact),)
    connection = orm.connections["default"]
    key = terms.PendingQuery(Book, fast, terms.GET).statement_key(connection)
    assert key == terms.PendingQuery(Book, built, terms.GET).statement_key(connection)
    assert key[1] == [7]


def test_filters_on_a_foreign_key_by_int(library: Library) -> None:
    for _ in range(2):
        assert Book.objects.filter(author_id=library.bob.pk).count() == 2
        assert Book.objects.filter(author=library.bob.pk).count() == 2
        assert Book.objects.filter(author_id=2**70).count() == 0
        assert Book.objects.get(author_id=library.alice.pk, pages=450).title == "Advanced Python"


def test_only_a_plain_integer_field_skips_its_lookup() -> None:
    class Doubling(orm.IntegerField[Any, Any]):
        def get_prep_value(self, value: Any) -> Any:
            return super().get_prep_value(value) * 2

    assert terms._int_range(orm.BigAutoField(), Exact) == (-(2**63), 2**63 - 1)
    assert terms._int_range(orm.SmallIntegerField(), Exact) == (-(2**15), 2**15 - 1)
    assert terms._int_range(Doubling(), Exact) is None
    assert terms._int_range(orm.CharField(max_length=5), Exact) is None
    # A foreign key takes its target's range; one that prepares its own way does not.
    author = Book._meta.get_field("author")
    assert terms._int_range(author, Exact) == (-(2**63), 2**63 - 1)

    class Mapped(orm.ForeignKey[Any, Any]):
        def get_prep_value(self, value: Any) -> Any:
            return super().get_prep_value(value) + 1

    mapped = Mapped(Author, on_delete=orm.CASCADE)
    assert terms._int_range(mapped, Exact) is None
    assert terms._int_range(orm.IntegerField(), orm.IntegerField().get_lookup("gt")) is None
