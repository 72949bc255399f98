"""``FilteredRelation`` on real databases: the same rows on SQLite and PostgreSQL (issue 17 item 3).

Library (tests/integration/conftest.py): Alice wrote Python Basics (200 pages) and
Advanced Python (450); Bob wrote Django Unchained (300) and SQL 101 (no pages);
Carol wrote nothing. Only Alice has a profile here.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm import Count, FilteredRelation, Q, Sum, transaction
from orm.exceptions import NotSupportedError
from tests.integration.conftest import Library
from tests.models import Author, Book, Profile


def python_books() -> Any:
    return Author.objects.annotate(
        py=FilteredRelation("books", condition=Q(books__title__icontains="python"))
    )


def test_filter_on_the_alias_keeps_authors_with_a_matching_book(library: Library) -> None:
    assert list(
        python_books().filter(py__isnull=False).distinct().values_list("name", flat=True)
    ) == ["Alice"]
    assert list(python_books().filter(py__isnull=True).values_list("name", flat=True)) == [
        "Bob",
        "Carol",
    ]
    assert list(
        python_books().exclude(py__isnull=True).distinct().values_list("name", flat=True)
    ) == ["Alice"]


def test_values_list_only_the_matching_related_rows(library: Library) -> None:
    rows = list(python_books().order_by("name", "py__title").values_list("name", "py__title"))
    assert rows == [
        ("Alice", "Advanced Python"),
        ("Alice", "Python Basics"),
        ("Bob", None),
        ("Carol", None),
    ]


def test_aggregates_count_only_the_matching_rows(library: Library) -> None:
    counted = python_books().annotate(n=Count("py"), pages=Sum("py__pages")).order_by("name")
    assert [(a.name, a.n, a.pages) for a in counted] == [
        ("Alice", 2, 650),
        ("Bob", 0, None),
        ("Carol", 0, None),
    ]
    assert python_books().aggregate(n=Count("py")) == {"n": 2}


def test_alias_filters_and_orders_without_selecting(library: Library) -> None:
    long = Author.objects.alias(long=FilteredRelation("books", condition=Q(books__pages__gte=300)))
    assert list(long.filter(long__pages__lt=400).values_list("name", flat=True)) == ["Bob"]
    ordered = (
        long.filter(long__isnull=False).order_by("-long__pages").values_list("name", "long__title")
    )
    assert list(ordered) == [("Alice", "Advanced Python"), ("Bob", "Django Unchained")]


def test_condition_on_a_forward_relation_and_select_related(library: Library) -> None:
    qs = Book.objects.annotate(
        by_alice=FilteredRelation("author", condition=Q(author__name="Alice"))
    )
    books = list(qs.select_related("by_alice").order_by("title"))
    assert [(b.title, b.by_alice.name if b.by_alice else None) for b in books] == [
        ("Advanced Python", "Alice"),
        ("Django Unchained", None),
        ("Python Basics", "Alice"),
        ("SQL 101", None),
    ]
    assert books[1].author.name == "Bob"  # the relation itself is not the filtered one


def test_reverse_one_to_one_select_related(library: Library) -> None:
    Profile.objects.create(author=library.alice, bio="writes")
    qs = Author.objects.annotate(p=FilteredRelation("profile", condition=Q(profile__bio="writes")))
    assert [(a.name, a.p and a.p.bio) for a in qs.select_related("p").order_by("name")] == [
        ("Alice", "writes"),
        ("Bob", None),
        ("Carol", None),
    ]


def test_many_to_many_and_nested_relation_names(library: Library) -> None:
    tags = Book.objects.annotate(sql=FilteredRelation("tags", condition=Q(tags__name="sql")))
    assert list(
        tags.filter(sql__isnull=False).order_by("title").values_list("title", flat=True)
    ) == ["Advanced Python", "SQL 101"]
    by_tag = Author.objects.annotate(
        t=FilteredRelation("books__tags", condition=Q(books__tags__name="django")),
    ).filter(t__isnull=False)
    assert list(by_tag.values_list("name", flat=True)) == ["Bob"]


def test_condition_with_or_and_in_a_subquery(library: Library) -> None:
    either = Author.objects.annotate(
        b=FilteredRelation(
            "books", condition=Q(books__pages__lt=250) | Q(books__pages__isnull=True)
        ),
    ).filter(b__isnull=False)
    assert sorted(either.values_list("b__title", flat=True)) == ["Python Basics", "SQL 101"]
    books = Book.objects.filter(author__in=python_books().filter(py__isnull=False)).order_by(
        "title"
    )
    assert list(books.values_list("title", flat=True)) == ["Advanced Python", "Python Basics"]


def test_select_for_update_of_self(library: Library) -> None:
    with transaction.atomic():
        locked = python_books().filter(py__isnull=False).select_for_update(of=("self",))
        assert [a.name for a in locked] == ["Alice", "Alice"]  # one row per matching book


def test_select_for_update_of_every_table_when_a_filter_makes_the_join_inner(
    library: Library, db: str
) -> None:
    # The filter needs a matching book, so the join is INNER and PostgreSQL can
    # lock the book rows too (as in Django); SQLite locks the whole database.
    with transaction.atomic():
        locked = python_books().filter(py__pages__gt=300).select_for_update()
        assert [a.name for a in locked] == ["Alice"]
        both = (
            python_books()
            .filter(py__isnull=False)
            .select_for_update()
            .values_list("name", "py__title")
        )
        assert sorted(both) == [("Alice", "Advanced Python"), ("Alice", "Python Basics")]


def test_select_for_update_over_an_outer_join_is_refused_by_postgresql(
    library: Library, db: str
) -> None:
    # isnull=True keeps the join LEFT OUTER: PostgreSQL refuses to lock its
    # nullable side ("FOR UPDATE cannot be applied to the nullable side of an
    # outer join"), as under Django; SQLite has no row locks to refuse.
    qs = python_books().filter(py__isnull=True).select_for_update()
    if db == "postgresql":
        with (
            pytest.raises(NotSupportedError, match="nullable side of an outer join"),
            transaction.atomic(),
        ):
            list(qs)
    else:
        with transaction.atomic():
            assert sorted(a.name for a in qs) == ["Bob", "Carol"]
    with transaction.atomic():
        assert sorted(a.name for a in qs.select_for_update(of=("self",))) == ["Bob", "Carol"]


def test_inner_join_gives_the_rows_the_outer_join_gave(library: Library) -> None:
    # Making the join INNER for a filter that needs its row changes no result.
    long = Author.objects.annotate(
        long=FilteredRelation("books", condition=Q(books__pages__gte=300))
    )
    assert "INNER JOIN" in str(long.filter(long__pages__lt=400).query)
    assert list(long.filter(long__pages__lt=400).values_list("name", "long__title")) == [
        ("Bob", "Django Unchained")
    ]
    assert sorted(
        long.filter(Q(long__pages__lt=400) | Q(name="Carol")).values_list("name", flat=True)
    ) == ["Bob", "Carol"]
    assert sorted(
        long.exclude(long__title="Django Unchained").values_list("name", "long__title")
    ) == [("Alice", "Advanced Python"), ("Carol", None)]


def test_exclude_through_a_multivalued_name_removes_the_parent_as_django_does(
    library: Library,
) -> None:
    # Alice has two python books: excluding one of them excludes Alice (no
    # python book titled so), not just that book's row.
    kept = (
        python_books()
        .exclude(py__title="Advanced Python")
        .order_by("name")
        .values_list("name", flat=True)
    )
    assert list(kept) == ["Bob", "Carol"]
    assert list(python_books().exclude(py__isnull=True).values_list("name", flat=True)) == ["Alice"]


def test_or_and_and_with_a_filtered_relation_on_either_side(library: Library) -> None:
    with_python = python_books().filter(py__pages__gt=300)
    carol = Author.objects.filter(name="Carol")
    for qs in (with_python | carol, carol | with_python):
        assert "IN (SELECT" not in str(qs.query)  # one query: the joins are combined
        assert sorted(qs.values_list("name", "py__title")) == [
            ("Alice", "Advanced Python"),
            ("Carol", None),
        ]
    short = python_books().filter(py__pages__lt=300)
    assert sorted((with_python | short).values_list("py__title", flat=True)) == [
        "Advanced Python",
        "Python Basics",
    ]
    assert list(with_python & short) == []
    other = Author.objects.annotate(
        py=FilteredRelation("books", condition=Q(books__title__icontains="django"))
    )
    mixed = python_books().filter(py__pages__gt=300) | other.filter(py__isnull=False)
    assert sorted(mixed.values_list("name", flat=True)) == ["Alice", "Bob"]  # as pk IN subqueries


def test_exists_over_a_filtered_relation(library: Library) -> None:
    from orm import Exists, OuterRef

    long_python = python_books().filter(py__pages__gt=300, pk=OuterRef("author_id"))
    books = (
        Book.objects.filter(Exists(long_python)).order_by("title").values_list("title", flat=True)
    )
    assert list(books) == ["Advanced Python", "Python Basics"]
    union = (
        python_books()
        .filter(py__isnull=False)
        .values_list("name")
        .union(python_books().filter(py__isnull=True).values_list("name"))
    )
    assert sorted(union) == [("Alice",), ("Bob",), ("Carol",)]


async def test_async_iteration(library: Library) -> None:
    names = [
        name async for name in python_books().filter(py__isnull=True).values_list("name", flat=True)
    ]
    assert names == ["Bob", "Carol"]
    assert await python_books().filter(py__isnull=False).acount() == 2


# Real commits on PostgreSQL: dropping the tables inside the test's wrapping
# transaction is refused while deferred foreign-key checks are pending.
@pytest.mark.transactional
def test_relation_inherited_from_a_concrete_parent(db: str) -> None:
    import orm
    from tests.integration.test_mti import _models

    found = _models()
    orm.create_tables(*found.values())
    try:
        restaurant = found["Restaurant"].objects.create(name="Pizzeria", serves_pizza=True)
        found["Review"].objects.create(place=found["Place"].objects.get(pk=restaurant.pk), stars=5)
        found["Review"].objects.create(place=found["Place"].objects.get(pk=restaurant.pk), stars=1)
        good = found["Restaurant"].objects.annotate(
            good=FilteredRelation("reviews", condition=Q(reviews__stars__gte=4))
        )
        assert list(good.values_list("name", "good__stars")) == [("Pizzeria", 5)]
    finally:
        orm.drop_tables(*found.values())
