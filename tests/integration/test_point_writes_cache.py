"""Point writes compile once per shape: ``create()``/``save()``, ``filter(**plain).update()``,
and ``count()``/``exists()`` of a manager with no filter, on both backends.

What must hold: a cached statement runs with the same SQL and parameters as
the first (cold) compilation, warm after other shapes filled the caches; no
``Query`` is built on a hit; two shapes never share an entry; and what a
user relies on is unchanged (signals, ``auto_now``, defaults, validation of
values, the returned row counts).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm import F, Value
from orm.query import writes
from orm.query.query import Query
from orm.utils.caches import clear_all
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import Author, Book

UPDATES: dict[str, Any] = {
    "plain, by pk": lambda lib: Book.objects.filter(pk=lib.sql101.pk).update(pages=7),
    "plain, other column": lambda lib: Book.objects.filter(pk=lib.sql101.pk).update(title="Seven"),
    "two columns": lambda lib: Book.objects.filter(pk=lib.sql101.pk).update(title="Eight", pages=8),
    "two columns, other order": lambda lib: Book.objects.filter(pk=lib.sql101.pk).update(
        pages=9, title="Nine"
    ),
    "by author": lambda lib: Book.objects.filter(author_id=lib.alice.pk).update(pages=10),
    "by author, gt": lambda lib: Book.objects.filter(author_id=lib.alice.pk, pages__gt=10).update(
        pages=11
    ),
    "all rows": lambda lib: Book.objects.update(price=Decimal("1.50")),
    "F plus 1": lambda lib: Book.objects.filter(pages__lt=1000).update(pages=F("pages") + 1),
    "F plus 2": lambda lib: Book.objects.filter(pages__lt=1000).update(pages=F("pages") + 2),
    "F times 2": lambda lib: Book.objects.filter(pages__lt=1000).update(pages=F("pages") * 2),
    "Value 3": lambda lib: Book.objects.filter(pages__lt=1000).update(pages=Value(3)),
    "Value text": lambda lib: Book.objects.filter(pk=lib.basics.pk).update(title=Value("V")),
    "foreign key instance": lambda lib: Book.objects.filter(pk=lib.sql101.pk).update(
        author=lib.carol
    ),
    "foreign key id": lambda lib: Book.objects.filter(pk=lib.sql101.pk).update(
        author_id=lib.alice.pk
    ),
    "to None": lambda lib: Book.objects.filter(pk=lib.sql101.pk).update(pages=None),
}


def _run(fn: Any, lib: Library) -> tuple[Any, list[tuple[str, list[Any]]], list[Any]]:
    with QueryCounter() as ctx:
        result = fn(lib)
    rows = list(
        Book.objects.order_by("pk").values_list("pk", "title", "author_id", "pages", "price")
    )
    return result, [(sql, list(params)) for sql, params in ctx.queries], rows


def _reset(lib: Library) -> None:
    # Through a Q argument: the ordinary path, never the cache under test.
    Book.objects.filter(orm.Q(pk__gt=0)).update(
        pages=300, title="T", price=Decimal("1.00"), author=lib.alice
    )


@pytest.mark.parametrize("name", list(UPDATES))
def test_an_update_shape_runs_the_same_cold_and_warm(library: Library, name: str) -> None:
    _reset(library)
    clear_all()
    cold = _run(UPDATES[name], library)
    assert len(cold[1]) == 1 and cold[1][0][0].startswith("UPDATE")
    for other in UPDATES.values():  # fill the caches with every shape (and other values)
        other(library)
    _reset(library)
    warm = _run(UPDATES[name], library)
    assert warm == cold


def test_update_shapes_never_share_an_entry(library: Library) -> None:
    clear_all()
    for fn in UPDATES.values():
        fn(library)
    # One entry per shape: the two orders of the same columns differ, as do
    # F() + 1 and F() + 2 (their constant is a parameter of the entry) and
    # author= and author_id=. Only "to None" shares "plain, by pk"'s entry:
    # a plain value, None included, is one parameter of the same text.
    assert len(writes._UPDATES) == len(UPDATES) - 1


def test_an_update_hit_builds_no_query(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    pk = library.sql101.pk
    Book.objects.filter(pk=pk).update(pages=1, title="A")
    Book.objects.filter(pages__lt=1000).update(pages=F("pages") + 1)
    Book.objects.count(), Book.objects.exists()  # their entries

    def no_query(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a Query was built on a hit")

    monkeypatch.setattr(Query, "__init__", no_query)
    assert Book.objects.filter(pk=pk).update(pages=2, title="B") == 1
    assert Book.objects.filter(pages__lt=1000).update(pages=F("pages") + 1) == 4
    assert Book.objects.count() == 4  # a manager's count() with no filter: no Query either
    assert Book.objects.exists() is True
    monkeypatch.undo()
    assert Book.objects.get(pk=pk).title == "B"
    assert Book.objects.get(pk=pk).pages == 3


def test_a_cached_update_still_checks_each_value(library: Library) -> None:
    pk = library.sql101.pk
    Book.objects.filter(pk=pk).update(title="short")
    with pytest.raises(orm.DataError):
        Book.objects.filter(pk=pk).update(title="x" * 201)  # max_length, on SQLite too
    with pytest.raises(TypeError):
        Book.objects.filter(pk=pk).update(pages=True)  # a bool is not an integer
    assert Book.objects.get(pk=pk).title == "short"


def test_update_of_no_rows_and_of_an_excluded_queryset(library: Library) -> None:
    assert Book.objects.filter(pk=10**6).update(pages=1) == 0
    assert Book.objects.filter(pk=10**6).update(pages=1) == 0
    # Not a manager's plain filter: the ordinary path, unchanged.
    assert Book.objects.exclude(pk=library.sql101.pk).update(pages=5) == 3
    assert Book.objects.filter(pages=5).count() == 3


def test_count_and_exists_without_a_filter(db: str) -> None:
    assert (Book.objects.count(), Book.objects.exists()) == (0, False)
    author = Author.objects.create(name="Ann", email="ann@example.com")
    assert (Author.objects.count(), Author.objects.exists(), Book.objects.exists()) == (
        1,
        True,
        False,
    )
    Book.objects.create(title="One", author=author)
    Book.objects.create(title="Two", author=author)
    assert (Book.objects.count(), Book.objects.exists()) == (2, True)
    assert Author.objects.count() == 1  # the two models never share an entry


def test_create_reuses_its_statement_and_keeps_defaults_and_signals(db: str) -> None:
    seen: list[tuple[str, Any]] = []

    def pre(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(("pre", instance.title))

    def post(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append(("post", (instance.pk is not None, created)))

    author = Author.objects.create(name="Ann", email="ann@example.com")
    orm.signals.pre_save.connect(pre, sender=Book)
    orm.signals.post_save.connect(post, sender=Book)
    try:
        clear_all()
        with QueryCounter() as first:
            one = Book.objects.create(title="One", author=author, pages=1)
        with QueryCounter() as second:
            two = Book.objects.create(
                title="Two", author=author, published=datetime.date(2024, 1, 2)
            )
    finally:
        orm.signals.pre_save.disconnect(pre, sender=Book)
        orm.signals.post_save.disconnect(post, sender=Book)
    assert first.queries[0][0] == second.queries[0][0]
    assert first.queries[0][1][0] == "One" and second.queries[0][1][0] == "Two"
    assert seen == [("pre", "One"), ("post", (True, True)), ("pre", "Two"), ("post", (True, True))]
    assert one.pk != two.pk and not two._state.adding and two._state.db == "default"
    assert Book.objects.get(pk=two.pk).price == Decimal("0.00")  # the default, stored
    with pytest.raises(orm.DataError):
        Book.objects.create(
            title="x" * 201, author=author
        )  # still checked, cached statement or not


def test_save_of_an_existing_instance_updates_by_pk(db: str) -> None:
    author = Author.objects.create(name="Ann", email="ann@example.com")
    book = Book.objects.create(title="One", author=author)
    book.pages = 5
    book.save()
    book.title = "Uno"
    book.save(update_fields=["title"])
    book.pages = 6
    book.save()
    assert Book.objects.values_list("title", "pages").get(pk=book.pk) == ("Uno", 6)
