"""Compile-only regressions for compiler bugs found while writing these tests (all fixed).

Each test gives the input and the SQL a correct compiler produces.
"""

from __future__ import annotations

import pytest

import orm
from orm import Count, Exists, F, Lower, Max, Q, Subquery, Sum, Value
from orm.exceptions import EmptyResultSet
from tests.sql.helpers import AUTHOR_COLS, BOOK_COLS, PUBLISHER_COLS, TAG_COLS, assert_sql
from tests.sql.models import Author, Book, Number, Publisher, Tag

FROM_AUTHOR = f'SELECT {AUTHOR_COLS} FROM "shared_author"'
FROM_BOOK = f'SELECT {BOOK_COLS} FROM "shared_book"'
JOIN_BOOKS = (
    'LEFT OUTER JOIN "shared_book" ON ("shared_author"."id" = "shared_book"."author_id")'
)
DATA = '"shared_author"."data"'


# -- 1. A name after a non-relational field is looked up among the model's fields ------------
# Query.setup_joins() resolves every "__" part against the *model* while no relation is
# pending, so a JSON key or a transform that happens to share a field's name silently
# becomes that other column. Actual: WHERE "shared_author"."name" = 'bob'.


def test_json_key_named_like_a_field_is_still_a_json_key():
    assert_sql(
        Author.objects.filter(data__name="bob"),
        f"{FROM_AUTHOR} WHERE COALESCE(json_extract({DATA}, %s) = %s, json_type({DATA}, %s) <> 'null')",
        ['$."name"', "bob", '$."name"'],
        postgresql=(f'{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb', ['name', '"bob"']),
    )


def test_json_key_named_like_a_field_in_values():
    # Actual: SELECT "shared_author"."name" AS "data__name"
    assert_sql(
        Author.objects.values("data__name"),
        f'SELECT ({DATA} -> %s) AS "data__name" FROM "shared_author"',
        ['$."name"'],
        postgresql=(f'SELECT ({DATA} -> %s) AS "data__name" FROM "shared_author"', ['name']),
    )


def test_field_name_after_a_plain_field_is_an_error():
    # Actual: Book.objects.filter(title__pages=3) compiles to WHERE "shared_book"."pages" = 3.
    with pytest.raises(orm.FieldError):
        Book.objects.filter(title__pages=3)


# -- 2. Expressions inside an ``in`` list / JSON key comparison are bound as values -----------
# In.get_prep_lookup() keeps the resolved Col in the list and process_rhs() binds it as a
# parameter: params == (Col(shared_author, sqltests.Author.name), 'x'); sqlite3 then fails
# with "Error binding parameter 1: type 'Col' is not supported".


def test_expression_in_an_in_list_is_compiled():
    assert_sql(
        Book.objects.filter(title__in=[F("author__name"), "x"]).values("title"),
        'SELECT "shared_book"."title" AS "title" FROM "shared_book" '
        'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id") '
        'WHERE "shared_book"."title" IN ("shared_author"."name", %s)',
        ["x"],
    )


def test_json_key_compared_to_a_column_is_compiled():
    # Actual params: ['$."owner"', Col(shared_author, sqltests.Author.name)]
    assert_sql(
        Author.objects.filter(data__owner=F("name")),
        f'{FROM_AUTHOR} WHERE COALESCE(json_extract({DATA}, %s) = "shared_author"."name", '
        f"json_type({DATA}, %s) <> 'null')",
        ['$."owner"', '$."owner"'],
        postgresql=(f'{FROM_AUTHOR} WHERE ({DATA} -> %s) = to_jsonb("shared_author"."name")', ['owner']),
    )


# -- 3. data__key=None means "key absent" instead of "key holds JSON null" --------------------
# Actual: json_type(data, '$."owner"') IS NULL, the same SQL as data__owner__isnull=True, so
# {"owner": null} does not match and {} does. Django: key=None matches JSON null only.


def test_json_key_none_matches_json_null():
    assert_sql(
        Author.objects.filter(data__owner=None),
        f"{FROM_AUTHOR} WHERE json_type({DATA}, %s) = 'null'",
        ['$."owner"'],
        postgresql=(f'{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb', ['owner', 'null']),
    )


# -- 4. annotate() then values(): the grouping changes to the values fields -------------------
# Query.set_values() replaces group_by=True by the selected values, so authors that share a
# name are merged into one row; with only aggregates selected there is no GROUP BY at all and
# one row comes back for the whole table. Django keeps grouping by the model (every column).


def test_annotate_then_values_still_groups_by_the_model():
    # Actual: ... GROUP BY "shared_author"."name"
    assert_sql(
        Author.objects.annotate(n=Count("books")).values("name", "n"),
        # Grouped by the primary key: every column of the row depends on it.
        f'SELECT "shared_author"."name" AS "name", COUNT("shared_book"."id") AS "n" '
        f'FROM "shared_author" {JOIN_BOOKS} GROUP BY "shared_author"."id", "shared_author"."name"',
    )


def test_annotate_then_values_of_the_aggregate_only_still_groups():
    # Actual: SELECT COUNT("shared_book"."id") AS "n" FROM ... (no GROUP BY: one row in total)
    assert_sql(
        Author.objects.annotate(n=Count("books")).values("n"),
        f'SELECT COUNT("shared_book"."id") AS "n" FROM "shared_author" {JOIN_BOOKS} '
        'GROUP BY "shared_author"."id"',
    )


# -- 5. GROUP BY a computed value groups by its source column instead ------------------------
# get_group_by() expands every selected non-aggregate into get_group_by_cols(), which for a
# Func/Transform is its *source columns*: counting per year groups per date.


def test_values_of_a_transform_groups_by_the_transform():
    # Actual: ... GROUP BY "shared_book"."published"
    assert_sql(
        Book.objects.values("published__year").annotate(n=Count("id")),
        'SELECT CAST(strftime(\'%%Y\', "shared_book"."published") AS INTEGER) AS "published__year", '
        'COUNT("shared_book"."id") AS "n" FROM "shared_book" '
        'GROUP BY CAST(strftime(\'%%Y\', "shared_book"."published") AS INTEGER)',
        postgresql=('SELECT CAST(EXTRACT(YEAR FROM "shared_book"."published") AS integer) AS "published__year", COUNT("shared_book"."id") AS "n" FROM "shared_book" GROUP BY CAST(EXTRACT(YEAR FROM "shared_book"."published") AS integer)', []),
    )


def test_values_of_a_function_groups_by_the_function():
    # Actual: ... GROUP BY "shared_author"."name" ('Bob' and 'bob' stay separate rows)
    assert_sql(
        Author.objects.values(lo=Lower("name")).annotate(n=Count("id")),
        'SELECT LOWER("shared_author"."name") AS "lo", COUNT("shared_author"."id") AS "n" '
        'FROM "shared_author" GROUP BY LOWER("shared_author"."name")',
    )


# -- 6. Meta.ordering: leaks into GROUP BY, and order_by() cannot remove it --------------------


def test_meta_ordering_does_not_change_the_grouping():
    # Actual: ... GROUP BY "shared_publisher"."city_id", "shared_publisher"."name"
    #         ORDER BY "shared_publisher"."name" ASC   (one row per city *and name*)
    # Django (since 3.1) ignores Meta.ordering in GROUP BY queries.
    assert_sql(
        Publisher.objects.values("city").annotate(n=Count("books")),
        'SELECT "shared_publisher"."city_id" AS "city", COUNT("shared_book"."id") AS "n" '
        'FROM "shared_publisher" '
        'LEFT OUTER JOIN "shared_book" ON ("shared_publisher"."id" = "shared_book"."publisher_id") '
        'GROUP BY "shared_publisher"."city_id"',
    )


def test_order_by_without_arguments_clears_meta_ordering():
    # Actual: ... ORDER BY "shared_publisher"."name" ASC. QuerySet.order_by() calls
    # clear_ordering(force=False), which keeps default_ordering; Django's order_by() clears it.
    assert_sql(Publisher.objects.order_by(), f'SELECT {PUBLISHER_COLS} FROM "shared_publisher"')


# -- 7. Successive filter() calls on a multi-valued relation share one join -------------------
# Django: filter(books__title='x').filter(books__pages=3) means "has a book titled x and a
# (possibly different) book with 3 pages": a second join. Actual: both conditions on one
# "shared_book" join, i.e. the same book must satisfy both.


def test_second_filter_on_a_reverse_fk_gets_its_own_join():
    assert_sql(
        Author.objects.filter(books__title="x").filter(books__pages=3),
        f"{FROM_AUTHOR} {JOIN_BOOKS} "
        'LEFT OUTER JOIN "shared_book" "T3" ON ("shared_author"."id" = "T3"."author_id") '
        'WHERE ("shared_book"."title" = %s AND "T3"."pages" = %s)',
        ["x", 3],
    )


# -- 8. NULL handling of negated and always-true conditions -----------------------------------


def test_exclude_on_a_nullable_column_keeps_null_rows():
    # Actual: WHERE NOT ("shared_author"."age" = 5): NOT(NULL) is NULL, so authors without an
    # age vanish; Django returns them (exclude adds "AND col IS NOT NULL" inside the NOT).
    assert_sql(
        Author.objects.exclude(age=5),
        f'{FROM_AUTHOR} WHERE NOT ("shared_author"."age" = %s AND "shared_author"."age" IS NOT NULL)',
        [5],
    )


def test_exclude_across_a_nullable_fk_keeps_rows_without_the_relation():
    # Actual: ... LEFT OUTER JOIN ... WHERE NOT ("shared_author"."name" = %s): books without
    # an editor are dropped.
    assert_sql(
        Book.objects.exclude(editor__name="x"),
        f'{FROM_BOOK} LEFT OUTER JOIN "shared_author" ON ("shared_book"."editor_id" = "shared_author"."id") '
        'WHERE NOT ("shared_author"."name" = %s AND "shared_author"."name" IS NOT NULL)',
        ["x"],
    )


def test_always_true_comparison_on_a_nullable_column_still_excludes_null():
    # Actual: no WHERE at all (the lookup raises FullResultSet), so authors whose age is NULL
    # are returned although "age < 2**70" is not true for them.
    assert_sql(
        Author.objects.filter(age__lt=2**70),
        f'{FROM_AUTHOR} WHERE "shared_author"."age" IS NOT NULL',
    )


# -- 9. Joins are shared between clones -------------------------------------------------------


def test_deriving_a_queryset_does_not_change_the_original():
    # Query.clone() copies alias_map shallowly and Query.join() mutates an existing Join's
    # join_type, so ordering the child turns the parent's INNER JOIN into LEFT OUTER JOIN.
    qs = Book.objects.filter(author__name="x")
    before = qs.query.sql_with_params()
    qs.order_by("author__name")
    assert qs.query.sql_with_params() == before


# -- 10. exists() of a slice ------------------------------------------------------------------
# Query.exists_query() calls clear_limits() before set_limits(0, 1): the OFFSET is lost, so
# Tag.objects.all()[5:10].exists() is True as soon as one row exists.


def test_exists_of_a_slice_keeps_the_offset():
    assert_sql(
        Tag.objects.all()[5:10].query.exists_query(),
        'SELECT %s AS "a" FROM "shared_tag" LIMIT 5 OFFSET 5',
        [1],
    )


def test_exists_of_a_distinct_slice_keeps_the_selected_columns():
    # Actual: SELECT DISTINCT %s AS "a" ... LIMIT 5 OFFSET 5: DISTINCT over a constant gives at
    # most one row, so the OFFSET always skips it and exists() is always False.
    assert_sql(
        Tag.objects.distinct()[5:10].query.exists_query(),
        f'SELECT DISTINCT {TAG_COLS} FROM "shared_tag" LIMIT 5 OFFSET 5',
    )


# -- 11. union() drops the ordering of sliced members ------------------------------------------


def test_union_of_sliced_querysets_keeps_their_ordering():
    # Actual: each member is "... LIMIT 2" without ORDER BY, i.e. two arbitrary rows instead of
    # the first and last two by name (QuerySet.union() calls clear_ordering() on every member).
    cols = f'SELECT {PUBLISHER_COLS} FROM "shared_publisher"'
    assert_sql(
        Publisher.objects.order_by("name")[:2].union(Publisher.objects.order_by("-name")[:2]),
        f'SELECT * FROM ({cols} ORDER BY "shared_publisher"."name" ASC LIMIT 2) AS "_u0" '
        f'UNION SELECT * FROM ({cols} ORDER BY "shared_publisher"."name" DESC LIMIT 2) AS "_u1"',
    )


# -- 12-14. aggregate() ------------------------------------------------------------------------


def test_aggregate_filter_over_a_slice_uses_inner_columns(captured_sql):
    # Actual: SELECT SUM(CASE WHEN "shared_book"."rating" > %s THEN "__col1" ELSE NULL END)
    #         AS "t" FROM (SELECT "shared_book"."pages" AS "__col1" ... LIMIT 10) subquery
    # -> OperationalError: no such column: shared_book.rating (summary._swap_cols() does not
    # visit Aggregate.filter).
    Book.objects.all()[:10].aggregate(t=Sum("pages", filter=Q(rating__gt=1)))
    assert_sql(
        captured_sql[0],
        'SELECT SUM(CASE WHEN "__col2" > %s THEN "__col1" ELSE NULL END) AS "t" FROM '
        '(SELECT "shared_book"."pages" AS "__col1", "shared_book"."rating" AS "__col2" '
        'FROM "shared_book" LIMIT 10) subquery',
        [1.0],
    )


def test_aggregate_over_a_plain_annotation(captured_sql):
    # Actual: SELECT SUM("x") AS "s" FROM "shared_book": "x" is not a column; SQLite falls back
    # to the *string* 'x' for an unknown double-quoted name, so the result is silently 0.0.
    Book.objects.annotate(x=F("pages") * 2).aggregate(s=Sum("x"))
    assert_sql(
        captured_sql[0],
        'SELECT SUM(("shared_book"."pages" * %s)) AS "s" FROM "shared_book"',
        [2],
    )


def test_aggregate_over_an_aggregate_annotation(captured_sql):
    # Actual: ValueError "Cannot compute Max(...): it contains an aggregate." (the summarize Ref
    # to the annotation is taken for a nested aggregate). Django aggregates over a subquery.
    Author.objects.annotate(n=Count("books")).aggregate(m=Max("n"))
    assert_sql(
        captured_sql[0],
        f'SELECT MAX("n") AS "m" FROM (SELECT {AUTHOR_COLS}, COUNT("shared_book"."id") AS "n" '
        f'FROM "shared_author" {JOIN_BOOKS} GROUP BY {AUTHOR_COLS}) subquery',
    )


# -- 15. An empty subquery in the SELECT list empties the whole query ---------------------------
# EmptyResultSet from Exists/Subquery compiled as a column propagates out of as_sql(), so the
# outer query "matches nothing" and returns no rows at all.


def test_exists_of_nothing_as_an_annotation_is_false():
    assert_sql(
        Author.objects.annotate(has=Exists(Book.objects.none())).values("name", "has"),
        'SELECT "shared_author"."name" AS "name", (1 = 0) AS "has" FROM "shared_author"',
        [],
    )


def test_subquery_of_nothing_as_an_annotation_is_null():
    assert_sql(
        Author.objects.annotate(
            c=orm.Coalesce(Subquery(Book.objects.none().values("pages")[:1]), Value(0))
        ).values("name", "c"),
        'SELECT "shared_author"."name" AS "name", COALESCE(NULL, %s) AS "c" FROM "shared_author"',
        [0],
    )


# -- 16. range with an integer the column cannot hold -----------------------------------------


def test_range_beyond_the_column_range_binds_no_oversized_integer():
    # Actual: BETWEEN %s AND %s with params (0, 2**70); sqlite3 raises OverflowError ("Python
    # int too large to convert to SQLite INTEGER") at execute time. The other integer lookups
    # (exact, lt, gt, in) already fold such values away.
    sql, params = Number.objects.filter(i__range=(0, 2**70)).query.sql_with_params()
    low, high = Number._meta.get_field("i").range
    assert all(low <= p <= high for p in params if isinstance(p, int))
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(i__range=(2**70, 2**71)).query.sql_with_params()


# -- 17. order_by() on a relation ignores the related model's Meta.ordering ---------------------


def test_order_by_a_relation_uses_the_related_default_ordering():
    # Actual: ORDER BY "shared_book"."publisher_id" ASC. Django orders by the related
    # model's Meta.ordering (Publisher: name), or its pk when it has none.
    assert_sql(
        Book.objects.order_by("publisher").values("title"),
        'SELECT "shared_book"."title" AS "title" FROM "shared_book" '
        'LEFT OUTER JOIN "shared_publisher" ON ("shared_book"."publisher_id" = "shared_publisher"."id") '
        'ORDER BY "shared_publisher"."name" ASC',
    )


# -- 18. ``in`` with a multi-column values() queryset -----------------------------------------


def test_in_with_a_multi_column_queryset_is_refused_early():
    # Actual: compiles to IN (SELECT "U1_0"."author_id" AS "author", "U1_0"."title" AS "title"
    # ...), which SQLite rejects at execution ("sub-select returns 2 columns - expected 1").
    with pytest.raises(TypeError):
        Author.objects.filter(pk__in=Book.objects.values("author", "title"))
