"""Compile-only SQL of ``FilteredRelation`` (issue 17 item 3), for SQLite and PostgreSQL.

The condition goes into the ON clause of the relation's own join, aliased by
the annotation's name; its values stay parameters. The join is LEFT OUTER
unless a filter ANDed at the top needs one of its rows, which makes it INNER
(Django's JoinPromoter). Results are checked in
tests/integration/test_filtered_relation.py.
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
    return Author.objects.annotate(
        long=FilteredRelation("books", condition=Q(books__pages__gt=300))
    )


def test_condition_is_in_the_on_clause_of_a_left_join(pg: Any) -> None:
    qs = long_books().values_list("name", "long__title")
    both(
        pg,
        qs,
        f'SELECT {A}."name" AS "name", "long"."title" AS "long__title" FROM {A} '
        f'LEFT OUTER JOIN {BOOK} "long" ON ({A}."id" = "long"."author_id" AND ("long"."pages" > %s))',
        [300],
    )


def test_a_filter_needing_a_joined_row_makes_the_join_inner(pg: Any) -> None:
    qs = long_books().filter(long__isnull=False).values_list("name", "long__title")
    both(
        pg,
        qs,
        f'SELECT {A}."name" AS "name", "long"."title" AS "long__title" FROM {A} '
        f'INNER JOIN {BOOK} "long" ON ({A}."id" = "long"."author_id" AND ("long"."pages" > %s)) '
        'WHERE "long"."id" IS NOT NULL',
        [300],
    )


def test_an_alias_no_path_uses_adds_no_join(pg: Any) -> None:
    both(pg, long_books().values_list("name"), f'SELECT {A}."name" AS "name" FROM {A}', [])


def test_every_path_through_the_alias_reuses_one_join_and_plain_paths_do_not(pg: Any) -> None:
    qs = (
        long_books()
        .filter(long__title="x", books__title="y")
        .order_by("long__pages")
        .values_list("id")
    )
    # filter() keywords are sorted, as in Django: books__title comes first.
    both(
        pg,
        qs,
        f'SELECT {A}."id" AS "id" FROM {A} '
        f'LEFT OUTER JOIN {BOOK} ON ({A}."id" = {BOOK}."author_id") '
        f'LEFT OUTER JOIN {BOOK} "long" ON ({A}."id" = "long"."author_id" AND ("long"."pages" > %s)) '
        f'WHERE ({BOOK}."title" = %s AND "long"."title" = %s) ORDER BY "long"."pages" ASC',
        [300, "y", "x"],
    )


def test_condition_with_or_f_and_outer_fields(pg: Any) -> None:
    qs = (
        Author.objects.alias(
            own=FilteredRelation(
                "books", condition=Q(books__editor=F("id")) | Q(books__title__startswith="A%")
            ),
        )
        .annotate(n=Count("own"))
        .values_list("n")
    )
    both(
        pg,
        qs,
        f'SELECT COUNT("own"."id") AS "n" FROM {A} LEFT OUTER JOIN {BOOK} "own" '
        f'ON ({A}."id" = "own"."author_id" AND (("own"."editor_id" = {A}."id" OR '
        f'"own"."title" LIKE %s ESCAPE \'\\\'))) GROUP BY {A}."id"',
        ["A\\%%"],
    )


def test_forward_relation_is_joined_not_trimmed_and_select_related_sets_the_alias(pg: Any) -> None:
    qs = Book.objects.annotate(old=FilteredRelation("author", condition=Q(author__age__gte=60)))
    both(
        pg,
        qs.values_list("old"),
        f'SELECT "old"."id" AS "old" FROM {BOOK} LEFT OUTER JOIN {A} "old" '
        f'ON ({BOOK}."author_id" = "old"."id" AND ("old"."age" >= %s))',
        [60],
    )
    sql = qs.select_related("old").query.sql_with_params()[0]
    assert (
        f'"old"."id", "old"."name", "old"."age", "old"."hometown_id", "old"."data" FROM {BOOK} '
        in sql
    )


def test_relation_through_many_to_many_puts_the_condition_on_the_last_join(pg: Any) -> None:
    qs = Book.objects.annotate(
        t=FilteredRelation("tags", condition=Q(tags__name="sql"))
    ).values_list("t__name")
    both(
        pg,
        qs,
        f'SELECT "t"."name" AS "t__name" FROM {BOOK} '
        f'LEFT OUTER JOIN "shared_book_tags" ON ({BOOK}."id" = "shared_book_tags"."book_id") '
        'LEFT OUTER JOIN "shared_tag" "t" ON ("shared_book_tags"."tag_id" = "t"."id" AND ("t"."name" = %s))',
        ["sql"],
    )


def test_nested_relation_name(pg: Any) -> None:
    qs = Author.objects.annotate(
        pub=FilteredRelation("books__publisher", condition=Q(books__publisher__name="Acme")),
    ).values_list("pub__name")
    both(
        pg,
        qs,
        f'SELECT "pub"."name" AS "pub__name" FROM {A} LEFT OUTER JOIN {BOOK} '
        f'ON ({A}."id" = {BOOK}."author_id") LEFT OUTER JOIN "shared_publisher" "pub" '
        f'ON ({BOOK}."publisher_id" = "pub"."id" AND ("pub"."name" = %s))',
        ["Acme"],
    )


def test_empty_condition_adds_nothing_and_an_impossible_one_joins_no_row(pg: Any) -> None:
    qs = Author.objects.annotate(b=FilteredRelation("books")).values_list("b__title")
    both(
        pg,
        qs,
        f'SELECT "b"."title" AS "b__title" FROM {A} LEFT OUTER JOIN {BOOK} "b" '
        f'ON ({A}."id" = "b"."author_id")',
        [],
    )
    qs = Author.objects.annotate(
        b=FilteredRelation("books", condition=Q(books__pk__in=[]))
    ).values_list("b__title")
    both(
        pg,
        qs,
        f'SELECT "b"."title" AS "b__title" FROM {A} LEFT OUTER JOIN {BOOK} "b" '
        f'ON ({A}."id" = "b"."author_id" AND (1 = 0))',
        [],
    )


def test_in_a_subquery_the_join_is_relabeled_with_its_condition(pg: Any) -> None:
    inner = long_books().filter(long__isnull=False)
    qs = Book.objects.filter(author__in=inner).values_list("id")
    both(
        pg,
        qs,
        f'SELECT {BOOK}."id" AS "id" FROM {BOOK} WHERE {BOOK}."author_id" IN '
        f'(SELECT "U1_0"."id" AS "pk" FROM {A} "U1_0" INNER JOIN {BOOK} "U1_1" '
        'ON ("U1_0"."id" = "U1_1"."author_id" AND ("U1_1"."pages" > %s)) WHERE "U1_1"."id" IS NOT NULL)',
        [300],
    )


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: FilteredRelation(""), ValueError, "relation_name cannot be empty."),
        (
            lambda: FilteredRelation("books", condition={"pages": 1}),
            ValueError,
            "condition argument must be a Q() instance.",
        ),
        (
            lambda: Author.objects.annotate(x=FilteredRelation("books__title__icontains")),
            ValueError,
            "FilteredRelation's relation_name cannot contain lookups (got 'books__title__icontains').",
        ),
        (
            lambda: Author.objects.annotate(
                x=FilteredRelation("books", condition=Q(books__author__name="a"))
            ),
            ValueError,
            "FilteredRelation's condition doesn't support nested relations deeper than the "
            "relation_name (got 'books__author__name' for 'books').",
        ),
        (
            lambda: Author.objects.annotate(
                x=FilteredRelation("books__publisher", condition=Q(edited__title__iexact="a"))
            ),
            ValueError,
            "FilteredRelation's condition doesn't support relations outside the 'books__publisher' "
            "(got 'edited__title__iexact').",
        ),
        (
            lambda: Author.objects.annotate(
                x=FilteredRelation("books", condition=Q(books__in=Book.objects.all()))
            ),
            ValueError,
            "Passing a QuerySet within a FilteredRelation is not supported.",
        ),
        (
            lambda: Author.objects.annotate(name=FilteredRelation("books")),
            ValueError,
            "The annotation 'name' conflicts with a field on the model.",
        ),
        (
            lambda: Author.objects.annotate(x=FilteredRelation("name")),
            ValueError,
            "FilteredRelation's relation_name must name a relation, got 'name'.",
        ),
        (
            lambda: Author.objects.annotate(x=FilteredRelation("nope")),
            FieldError,
            "Cannot resolve keyword 'nope'",
        ),
        (
            lambda: long_books().only("long__title"),
            ValueError,
            "only() is not supported with FilteredRelation.",
        ),
        (
            lambda: long_books().prefetch_related("long"),
            ValueError,
            "prefetch_related() is not supported with FilteredRelation.",
        ),
        (
            lambda: Book.objects.filter(author=FilteredRelation("author")),
            ValueError,
            "FilteredRelation is only valid in QuerySet.annotate() or alias()",
        ),
        (
            lambda: str(long_books().select_related("long").query),
            FieldError,
            "select_related('long') needs a FilteredRelation over a single-valued relation",
        ),
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


LONG_ON = f'{BOOK} "long" ON ({A}."id" = "long"."author_id" AND ("long"."pages" > %s))'


@pytest.mark.parametrize(
    ("make", "join", "params"),
    [
        (lambda: long_books().filter(long__title="x"), "INNER", [300, "x"]),
        (lambda: long_books().filter(long__pages__gt=1, name="a"), "INNER", [300, 1, "a"]),
        (lambda: long_books().filter(long__isnull=True), "LEFT OUTER", [300]),
        (
            lambda: long_books().filter(Q(long__title="x") | Q(name="y")),
            "LEFT OUTER",
            [300, "x", "y"],
        ),
        (lambda: long_books().order_by("long__title"), "LEFT OUTER", [300]),
        (
            lambda: long_books().annotate(n=Count("long")).filter(long__title="x"),
            "INNER",
            [300, "x"],
        ),
    ],
)
def test_join_type_follows_what_the_filters_need(
    pg: Any, make: Any, join: str, params: list[Any]
) -> None:
    # Django's JoinPromoter: INNER only when a condition ANDed at the top
    # cannot hold without a joined row (not under OR, NOT, or isnull=True).
    qs = make().values_list("id")
    sql, got = qs.query.sql_with_params()
    assert f"FROM {A} {join} JOIN {LONG_ON}" in sql
    assert list(got) == params
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, params)


def test_forward_relation_becomes_inner_only_when_filtered_and_nested_names_stay_outer(
    pg: Any,
) -> None:
    old = Book.objects.annotate(old=FilteredRelation("author", condition=Q(author__age__gte=60)))
    both(
        pg,
        old.filter(old__name="x").values_list("id"),
        f'SELECT {BOOK}."id" AS "id" FROM {BOOK} '
        f'INNER JOIN {A} "old" ON ({BOOK}."author_id" = "old"."id" AND ("old"."age" >= %s)) '
        'WHERE "old"."name" = %s',
        [60, "x"],
    )
    # The plain reverse join before it is LEFT OUTER, so what follows stays outer.
    pub = Author.objects.annotate(
        pub=FilteredRelation("books__publisher", condition=Q(books__publisher__name="A"))
    )
    sql = pub.filter(pub__name="x").query.sql_with_params()[0]
    assert 'LEFT OUTER JOIN "shared_publisher" "pub" ON' in sql and "INNER" not in sql


def test_exclude_through_a_multivalued_name_is_a_subquery_with_the_condition(pg: Any) -> None:
    qs = long_books().exclude(long__title="x").values_list("id")
    both(
        pg,
        qs,
        f'SELECT {A}."id" AS "id" FROM {A} WHERE NOT ({A}."id" IN (SELECT DISTINCT "U1_0"."id" AS "pk" '
        f'FROM {A} "U1_0" INNER JOIN {BOOK} "U1_1" ON ("U1_0"."id" = "U1_1"."author_id" AND '
        '("U1_1"."pages" > %s)) WHERE "U1_1"."title" = %s))',
        [300, "x"],
    )


def test_a_negated_condition_stays_in_the_on_clause(pg: Any) -> None:
    # NOT in the condition is about the joined row (Django's SQL), not a
    # "no related row" subquery as in exclude().
    qs = Author.objects.annotate(b=FilteredRelation("books", condition=~Q(books__pages__gt=1)))
    both(
        pg,
        qs.filter(b__title="x").values_list("id"),
        f'SELECT {A}."id" AS "id" FROM {A} INNER JOIN {BOOK} "b" '
        f'ON ({A}."id" = "b"."author_id" AND (NOT ("b"."pages" > %s AND "b"."pages" IS NOT NULL))) '
        'WHERE "b"."title" = %s',
        [1, "x"],
    )


def test_select_for_update_over_an_inner_filtered_join_on_postgresql(pg: Any) -> None:
    qs = long_books().filter(long__title="x").select_for_update().values_list("id")
    sql, params = qs.query.get_compiler(connection=pg).as_sql()
    assert (
        sql
        == f'SELECT {A}."id" AS "id" FROM {A} INNER JOIN {LONG_ON} WHERE "long"."title" = %s FOR UPDATE'
    )
    assert list(params) == [300, "x"]


def test_or_with_a_plain_queryset_brings_the_filtered_join_along_on_either_side(pg: Any) -> None:
    plain = Author.objects.filter(name="y")
    for qs, where, params in [
        (
            long_books().filter(long__title="x") | plain,
            '("long"."title" = %s OR {A}."name" = %s)',
            [300, "x", "y"],
        ),
        (
            plain | long_books().filter(long__title="x"),
            '({A}."name" = %s OR "long"."title" = %s)',
            [300, "y", "x"],
        ),
    ]:
        # Only one side needs a joined row: LEFT OUTER keeps the other side's rows.
        both(
            pg,
            qs.values_list("id", "long__title"),
            f'SELECT {A}."id" AS "id", "long"."title" AS "long__title" '
            f"FROM {A} LEFT OUTER JOIN {LONG_ON} WHERE {where.format(A=A)}",
            params,
        )


def test_and_or_of_the_same_filtered_relation_share_its_one_join(pg: Any) -> None:
    left, right = long_books().filter(long__title="x"), long_books().filter(long__pages=3)
    for qs, op in [(left | right, "OR"), (left & right, "AND")]:
        both(
            pg,
            qs.values_list("id"),
            f'SELECT {A}."id" AS "id" FROM {A} INNER JOIN {LONG_ON} '
            f'WHERE ("long"."title" = %s {op} "long"."pages" = %s)',
            [300, "x", 3],
        )


def test_a_name_meaning_another_relation_on_each_side_combines_as_pk_subqueries(pg: Any) -> None:
    other = Author.objects.annotate(
        long=FilteredRelation("books", condition=Q(books__pages__gt=100))
    )
    qs = (long_books().filter(long__title="x") | other.filter(long__pages=3)).values_list("id")
    sub = (
        f'(SELECT "U1_0"."id" AS "pk" FROM {A} "U1_0" INNER JOIN {BOOK} "U1_1" ON ("U1_0"."id" = '
        '"U1_1"."author_id" AND ("U1_1"."pages" > %s)) WHERE "U1_1".'
    )
    both(
        pg,
        qs,
        f'SELECT {A}."id" AS "id" FROM {A} WHERE ({A}."id" IN {sub}"title" = %s) OR '
        f'{A}."id" IN {sub}"pages" = %s))',
        [300, "x", 100, 3],
    )


def test_join_relabeled_keeps_its_filtered_relation_and_condition() -> None:
    query = long_books().filter(long__title="x").query
    join = query.alias_map["long"]
    moved = join.relabeled({A.strip('"'): "X0", "long": "X1"})
    assert (moved.table_alias, moved.parent_alias, moved.filtered_relation) == ("X1", "X0", "long")
    compiler = query.get_compiler()
    assert moved.as_sql(compiler, compiler.connection) == (
        f'INNER JOIN {BOOK} "X1" ON ("X0"."id" = "X1"."author_id" AND ("X1"."pages" > %s))',
        [300],
    )
    assert join.condition is not moved.condition  # the original is untouched


def test_exists_and_union_keep_the_condition_of_a_relabeled_join(pg: Any) -> None:
    from orm import Exists, OuterRef

    inner = long_books().filter(long__title="x", pk=OuterRef("author_id"))
    qs = Book.objects.filter(Exists(inner)).values_list("id")
    both(
        pg,
        qs,
        f'SELECT {BOOK}."id" AS "id" FROM {BOOK} WHERE EXISTS (SELECT %s AS "a" FROM {A} "U1_0" '
        f'INNER JOIN {BOOK} "U1_1" ON ("U1_0"."id" = "U1_1"."author_id" AND ("U1_1"."pages" > %s)) '
        f'WHERE ("U1_1"."title" = %s AND "U1_0"."id" = {BOOK}."author_id") LIMIT 1)',
        [1, 300, "x"],
    )
    union = (
        long_books()
        .filter(long__title="x")
        .values_list("id")
        .union(long_books().filter(long__isnull=True).values_list("id"))
    )
    sql, params = union.query.sql_with_params()
    assert sql.count('AND ("long"."pages" > %s)') == 2 and list(params) == [300, "x", 300]
