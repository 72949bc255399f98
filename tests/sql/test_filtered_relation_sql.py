"""Compile-only SQL of ``FilteredRelation`` (issue 17 item 3), for SQLite and PostgreSQL.

The condition goes into the ON clause of the relation's own LEFT OUTER JOIN,
aliased by the annotation's name; its values stay parameters. Results are
checked in tests/integration/test_filtered_relation.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm import Count, F, FilteredRelation, Q
from orm.exceptions import FieldError
from tests.sql.helpers import assert_sql
from tests.sql.models import Author, Book

A = '"shared_author"'
BOOK = '"shared_book"'


def both(pg: Any, qs: Any, sql: str, params: list[Any]) -> None:
    """Same text and parameters on SQLite and PostgreSQL."""
    assert_sql(qs, sql, params)
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, params)


def long_books() -> Any:
    return Author.objects.annotate(long=FilteredRelation("books", condition=Q(books__pages__gt=300)))


def test_condition_is_in_the_on_clause_of_a_left_join(pg: Any) -> None:
    qs = long_books().filter(long__isnull=False).values_list("name", "long__title")
    both(pg, qs, f'SELECT {A}."name" AS "name", "long"."title" AS "long__title" FROM {A} '
         f'LEFT OUTER JOIN {BOOK} "long" ON ({A}."id" = "long"."author_id" AND ("long"."pages" > %s)) '
         'WHERE "long"."id" IS NOT NULL', [300])


def test_an_alias_no_path_uses_adds_no_join(pg: Any) -> None:
    both(pg, long_books().values_list("name"), f'SELECT {A}."name" AS "name" FROM {A}', [])


def test_every_path_through_the_alias_reuses_one_join_and_plain_paths_do_not(pg: Any) -> None:
    qs = long_books().filter(long__title="x", books__title="y").order_by("long__pages").values_list("id")
    # filter() keywords are sorted, as in Django: books__title comes first.
    both(pg, qs, f'SELECT {A}."id" AS "id" FROM {A} '
         f'LEFT OUTER JOIN {BOOK} ON ({A}."id" = {BOOK}."author_id") '
         f'LEFT OUTER JOIN {BOOK} "long" ON ({A}."id" = "long"."author_id" AND ("long"."pages" > %s)) '
         f'WHERE ({BOOK}."title" = %s AND "long"."title" = %s) ORDER BY "long"."pages" ASC', [300, "y", "x"])


def test_condition_with_or_f_and_outer_fields(pg: Any) -> None:
    qs = Author.objects.alias(
        own=FilteredRelation("books", condition=Q(books__editor=F("id")) | Q(books__title__startswith="A%")),
    ).annotate(n=Count("own")).values_list("n")
    both(pg, qs, f'SELECT COUNT("own"."id") AS "n" FROM {A} LEFT OUTER JOIN {BOOK} "own" '
         f'ON ({A}."id" = "own"."author_id" AND (("own"."editor_id" = {A}."id" OR '
         f'"own"."title" LIKE %s ESCAPE \'\\\'))) GROUP BY {A}."id"', ["A\\%%"])


def test_forward_relation_is_joined_not_trimmed_and_select_related_sets_the_alias(pg: Any) -> None:
    qs = Book.objects.annotate(old=FilteredRelation("author", condition=Q(author__age__gte=60)))
    both(pg, qs.values_list("old"), f'SELECT "old"."id" AS "old" FROM {BOOK} LEFT OUTER JOIN {A} "old" '
         f'ON ({BOOK}."author_id" = "old"."id" AND ("old"."age" >= %s))', [60])
    sql = qs.select_related("old").query.sql_with_params()[0]
    assert f'"old"."id", "old"."name", "old"."age", "old"."hometown_id", "old"."data" FROM {BOOK} ' in sql


def test_relation_through_many_to_many_puts_the_condition_on_the_last_join(pg: Any) -> None:
    qs = Book.objects.annotate(t=FilteredRelation("tags", condition=Q(tags__name="sql"))).values_list("t__name")
    both(pg, qs, f'SELECT "t"."name" AS "t__name" FROM {BOOK} '
         f'LEFT OUTER JOIN "shared_book_tags" ON ({BOOK}."id" = "shared_book_tags"."book_id") '
         'LEFT OUTER JOIN "shared_tag" "t" ON ("shared_book_tags"."tag_id" = "t"."id" AND ("t"."name" = %s))',
         ["sql"])


def test_nested_relation_name(pg: Any) -> None:
    qs = Author.objects.annotate(
        pub=FilteredRelation("books__publisher", condition=Q(books__publisher__name="Acme")),
    ).values_list("pub__name")
    both(pg, qs, f'SELECT "pub"."name" AS "pub__name" FROM {A} LEFT OUTER JOIN {BOOK} '
         f'ON ({A}."id" = {BOOK}."author_id") LEFT OUTER JOIN "shared_publisher" "pub" '
         f'ON ({BOOK}."publisher_id" = "pub"."id" AND ("pub"."name" = %s))', ["Acme"])


def test_empty_condition_adds_nothing_and_an_impossible_one_joins_no_row(pg: Any) -> None:
    qs = Author.objects.annotate(b=FilteredRelation("books")).values_list("b__title")
    both(pg, qs, f'SELECT "b"."title" AS "b__title" FROM {A} LEFT OUTER JOIN {BOOK} "b" '
         f'ON ({A}."id" = "b"."author_id")', [])
    qs = Author.objects.annotate(b=FilteredRelation("books", condition=Q(books__pk__in=[]))).values_list("b__title")
    both(pg, qs, f'SELECT "b"."title" AS "b__title" FROM {A} LEFT OUTER JOIN {BOOK} "b" '
         f'ON ({A}."id" = "b"."author_id" AND (1 = 0))', [])


def test_in_a_subquery_the_join_is_relabeled_with_its_condition(pg: Any) -> None:
    inner = long_books().filter(long__isnull=False)
    qs = Book.objects.filter(author__in=inner).values_list("id")
    both(pg, qs, f'SELECT {BOOK}."id" AS "id" FROM {BOOK} WHERE {BOOK}."author_id" IN '
         f'(SELECT "U1_0"."id" AS "pk" FROM {A} "U1_0" LEFT OUTER JOIN {BOOK} "U1_1" '
         'ON ("U1_0"."id" = "U1_1"."author_id" AND ("U1_1"."pages" > %s)) WHERE "U1_1"."id" IS NOT NULL)', [300])


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: FilteredRelation(""), ValueError, "relation_name cannot be empty."),
        (lambda: FilteredRelation("books", condition={"pages": 1}), ValueError,
         "condition argument must be a Q() instance."),
        (lambda: Author.objects.annotate(x=FilteredRelation("books__title__icontains")), ValueError,
         "FilteredRelation's relation_name cannot contain lookups (got 'books__title__icontains')."),
        (lambda: Author.objects.annotate(x=FilteredRelation("books", condition=Q(books__author__name="a"))),
         ValueError, "FilteredRelation's condition doesn't support nested relations deeper than the "
         "relation_name (got 'books__author__name' for 'books')."),
        (lambda: Author.objects.annotate(x=FilteredRelation("books__publisher", condition=Q(edited__title__iexact="a"))),
         ValueError, "FilteredRelation's condition doesn't support relations outside the 'books__publisher' "
         "(got 'edited__title__iexact')."),
        (lambda: Author.objects.annotate(x=FilteredRelation("books", condition=Q(books__in=Book.objects.all()))),
         ValueError, "Passing a QuerySet within a FilteredRelation is not supported."),
        (lambda: Author.objects.annotate(name=FilteredRelation("books")), ValueError,
         "The annotation 'name' conflicts with a field on the model."),
        (lambda: Author.objects.annotate(x=FilteredRelation("name")), ValueError,
         "FilteredRelation's relation_name must name a relation, got 'name'."),
        (lambda: Author.objects.annotate(x=FilteredRelation("nope")), FieldError, "Cannot resolve keyword 'nope'"),
        (lambda: long_books().only("long__title"), ValueError, "only() is not supported with FilteredRelation."),
        (lambda: long_books().prefetch_related("long"), ValueError,
         "prefetch_related() is not supported with FilteredRelation."),
        (lambda: Book.objects.filter(author=FilteredRelation("author")), ValueError,
         "FilteredRelation is only valid in QuerySet.annotate() or alias()"),
        (lambda: str(long_books().select_related("long").query), FieldError,
         "select_related('long') needs a FilteredRelation over a single-valued relation"),
    ],
)
def test_errors(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)


def test_unknown_name_lists_filtered_relations_among_the_choices() -> None:
    with pytest.raises(FieldError, match="Choices are: .*long"):
        long_books().filter(lon__title="x")


def test_equality_and_clone() -> None:
    one = FilteredRelation("books", condition=Q(books__pages=1))
    assert one == FilteredRelation("books", condition=Q(books__pages=1))
    assert one != FilteredRelation("books", condition=Q(books__pages=2))
    clone = one.clone()
    assert clone == one and clone is not one
