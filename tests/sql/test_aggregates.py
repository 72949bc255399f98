"""Aggregates in annotate() (GROUP BY, HAVING), aggregate(), count() and exists().

``count()``, ``aggregate()`` and ``exists()`` build and run their statement in
one call; the ``captured_sql`` fixture records it without executing it.
"""

from __future__ import annotations

import pytest

import orm
from orm import Avg, Count, F, Lower, Max, Min, OuterRef, Q, Subquery, Sum
from tests.sql.helpers import AUTHOR_COLS, PUBLISHER_COLS, assert_sql
from tests.sql.models import Author, Book, Number, Publisher, Tag

JOIN_BOOKS = 'LEFT OUTER JOIN "shared_book" ON ("shared_author"."id" = "shared_book"."author_id")'
GROUP_BY_AUTHOR = "GROUP BY " + AUTHOR_COLS
NAME = '"shared_author"."name"'


def only_statement(captured):
    assert len(captured) == 1, captured
    return captured[0]


# -- annotate ------------------------------------------------------------------------


def test_annotate_count_groups_by_every_selected_column():
    assert_sql(
        Author.objects.annotate(n=Count("books")),
        f'SELECT {AUTHOR_COLS}, COUNT("shared_book"."id") AS "n" FROM "shared_author" {JOIN_BOOKS} '
        f"{GROUP_BY_AUTHOR}",
    )


def test_annotate_default_alias():
    sql, _ = Author.objects.annotate(Count("books")).query.sql_with_params()
    assert 'COUNT("shared_book"."id") AS "books__count"' in sql


def test_count_distinct_with_filter_is_a_case_inside_the_aggregate():
    assert_sql(
        Author.objects.annotate(
            n=Count("books", distinct=True, filter=Q(books__pages__gt=1))
        ).order_by("-n"),
        f'SELECT {AUTHOR_COLS}, COUNT(DISTINCT CASE WHEN "shared_book"."pages" > %s '
        'THEN "shared_book"."id" ELSE NULL END) AS "n" '
        f'FROM "shared_author" {JOIN_BOOKS} {GROUP_BY_AUTHOR} ORDER BY "n" DESC',
        [1],
    )


def test_filter_on_an_aggregate_is_having_and_the_rest_stays_in_where():
    assert_sql(
        Author.objects.annotate(n=Count("books")).filter(n__gt=1).filter(name="x"),
        f'SELECT {AUTHOR_COLS}, COUNT("shared_book"."id") AS "n" FROM "shared_author" {JOIN_BOOKS} '
        f'WHERE {NAME} = %s {GROUP_BY_AUTHOR} HAVING COUNT("shared_book"."id") > %s',
        ["x", 1],
    )


def test_alias_aggregate_filters_without_being_selected():
    assert_sql(
        Author.objects.alias(n=Count("books")).filter(n__gt=1),
        f'SELECT {AUTHOR_COLS} FROM "shared_author" {JOIN_BOOKS} {GROUP_BY_AUTHOR} '
        'HAVING COUNT("shared_book"."id") > %s',
        [1],
    )


def test_aggregate_over_an_aggregate_is_refused():
    with pytest.raises(ValueError, match="contains an aggregate"):
        Author.objects.annotate(n=Sum(Count("books")))


def test_distinct_is_refused_where_the_aggregate_does_not_allow_it():
    with pytest.raises(TypeError, match="does not allow distinct"):
        Max("pages", distinct=True)


# -- values().annotate(): GROUP BY the values ------------------------------------------------


def test_values_then_annotate_groups_by_the_values():
    assert_sql(
        Author.objects.values("name").annotate(n=Count("books")),
        f'SELECT {NAME} AS "name", COUNT("shared_book"."id") AS "n" FROM "shared_author" {JOIN_BOOKS} '
        f"GROUP BY {NAME}",
    )


def test_values_then_annotate_several_aggregates():
    assert_sql(
        Author.objects.values("name").annotate(
            total=Sum("books__pages"),
            avg=Avg("books__price"),
            lo=Min("books__rating"),
            hi=Max("books__published"),
            n=Count("books", distinct=True),
        ),
        f'SELECT {NAME} AS "name", SUM("shared_book"."pages") AS "total", '
        'AVG("shared_book"."price") AS "avg", MIN("shared_book"."rating") AS "lo", '
        'MAX("shared_book"."published") AS "hi", COUNT(DISTINCT "shared_book"."id") AS "n" '
        f'FROM "shared_author" {JOIN_BOOKS} GROUP BY {NAME}',
    )


def test_values_of_two_fields_groups_by_both():
    assert_sql(
        Author.objects.values("name", "age").annotate(n=Count("books")),
        f'SELECT {NAME} AS "name", "shared_author"."age" AS "age", COUNT("shared_book"."id") AS "n" '
        f'FROM "shared_author" {JOIN_BOOKS} GROUP BY {NAME}, "shared_author"."age"',
    )


def test_values_annotate_having_and_ordering():
    assert_sql(
        Author.objects.values("name")
        .annotate(total=Sum("books__pages"))
        .filter(total__gte=100)
        .order_by("name"),
        f'SELECT {NAME} AS "name", SUM("shared_book"."pages") AS "total" FROM "shared_author" {JOIN_BOOKS} '
        f'GROUP BY {NAME} HAVING SUM("shared_book"."pages") >= %s ORDER BY {NAME} ASC',
        [100],
    )


def test_values_annotate_order_by_the_aggregate_uses_its_alias():
    assert_sql(
        Author.objects.values("name").annotate(n=Count("books")).order_by("-n"),
        f'SELECT {NAME} AS "name", COUNT("shared_book"."id") AS "n" FROM "shared_author" {JOIN_BOOKS} '
        f'GROUP BY {NAME} ORDER BY "n" DESC',
    )


def test_values_annotate_then_exclude_on_the_aggregate():
    assert_sql(
        Author.objects.values("name").annotate(n=Count("id")).exclude(n=2),
        f'SELECT {NAME} AS "name", COUNT("shared_author"."id") AS "n" FROM "shared_author" '
        f'GROUP BY {NAME} HAVING NOT (COUNT("shared_author"."id") = %s)',
        [2],
    )


def test_values_across_a_relation_then_annotate():
    assert_sql(
        Book.objects.values("author__name").annotate(n=Count("id")),
        f'SELECT {NAME} AS "author__name", COUNT("shared_book"."id") AS "n" FROM "shared_book" '
        'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id") '
        f"GROUP BY {NAME}",
    )


def test_values_annotate_values_keeps_the_first_grouping():
    assert_sql(
        Book.objects.values("author").annotate(n=Count("id")).values("n"),
        'SELECT COUNT("shared_book"."id") AS "n" FROM "shared_book" GROUP BY "shared_book"."author_id"',
    )


def test_aggregate_in_a_subquery_annotation():
    most = (
        Book.objects.filter(author=OuterRef("pk"))
        .values("author")
        .annotate(m=Max("pages"))
        .values("m")
    )
    assert_sql(
        Author.objects.annotate(most=Subquery(most)).values("name", "most"),
        f'SELECT {NAME} AS "name", (SELECT MAX("U1_0"."pages") AS "m" FROM "shared_book" "U1_0" '
        'WHERE "U1_0"."author_id" = "shared_author"."id" GROUP BY "U1_0"."author_id") AS "most" '
        'FROM "shared_author"',
    )


# -- aggregate() ---------------------------------------------------------------------------


def test_aggregate_plain(captured_sql):
    Book.objects.aggregate(Sum("pages"))
    assert_sql(
        only_statement(captured_sql),
        'SELECT SUM("shared_book"."pages") AS "pages__sum" FROM "shared_book"',
    )


def test_aggregate_several_with_distinct(captured_sql):
    Book.objects.aggregate(
        total=Sum("pages"),
        avg=Avg("price"),
        n=Count("id", distinct=True),
        lo=Min("rating"),
        hi=Max("published"),
    )
    assert_sql(
        only_statement(captured_sql),
        'SELECT SUM("shared_book"."pages") AS "total", AVG("shared_book"."price") AS "avg", '
        'COUNT(DISTINCT "shared_book"."id") AS "n", MIN("shared_book"."rating") AS "lo", '
        'MAX("shared_book"."published") AS "hi" FROM "shared_book"',
    )


def test_aggregate_with_filter_argument_and_where(captured_sql):
    Book.objects.filter(title="a").aggregate(n=Count("pk", filter=Q(pages__gt=10)))
    assert_sql(
        only_statement(captured_sql),
        'SELECT COUNT(CASE WHEN "shared_book"."pages" > %s THEN "shared_book"."id" ELSE NULL END) AS "n" '
        'FROM "shared_book" WHERE "shared_book"."title" = %s',
        [10, "a"],
    )


def test_aggregate_across_a_relation(captured_sql):
    Book.objects.aggregate(n=Sum("author__age"))
    assert_sql(
        only_statement(captured_sql),
        'SELECT SUM("shared_author"."age") AS "n" FROM "shared_book" '
        'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id")',
    )


def test_aggregate_of_aggregates_arithmetic(captured_sql):
    Book.objects.aggregate(t=Sum("pages") + Max("pages"))
    assert_sql(
        only_statement(captured_sql),
        'SELECT (SUM("shared_book"."pages") + MAX("shared_book"."pages")) AS "t" FROM "shared_book"',
    )


def test_aggregate_drops_the_default_ordering(captured_sql):
    Publisher.objects.aggregate(n=Count("id"))
    assert_sql(
        only_statement(captured_sql),
        'SELECT COUNT("shared_publisher"."id") AS "n" FROM "shared_publisher"',
    )


def test_aggregate_over_a_slice_wraps_it_in_a_subquery(captured_sql):
    Book.objects.order_by("pages")[:10].aggregate(total=Sum("pages"))
    assert_sql(
        only_statement(captured_sql),
        'SELECT SUM("__col1") AS "total" FROM (SELECT "shared_book"."pages" AS "__col1" FROM "shared_book" '
        'ORDER BY "shared_book"."pages" ASC LIMIT 10) subquery',
    )


def test_aggregate_over_an_offset_only_slice(captured_sql):
    Book.objects.all()[10:].aggregate(total=Sum("pages"), n=Count("*"))
    assert_sql(
        only_statement(captured_sql),
        'SELECT SUM("__col1") AS "total", COUNT(*) AS "n" FROM (SELECT "shared_book"."pages" AS "__col1" '
        'FROM "shared_book" LIMIT -1 OFFSET 10) subquery',
    )


def test_aggregate_over_a_slice_with_a_related_column(captured_sql):
    Book.objects.all()[:10].aggregate(n=Sum("author__age"))
    assert_sql(
        only_statement(captured_sql),
        'SELECT SUM("__col1") AS "n" FROM (SELECT "shared_author"."age" AS "__col1" FROM "shared_book" '
        'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id") LIMIT 10) subquery',
    )


def test_aggregate_over_a_slice_with_arithmetic(captured_sql):
    Book.objects.all()[:10].aggregate(t=Sum(F("pages") * 2))
    assert_sql(
        only_statement(captured_sql),
        'SELECT SUM(("__col1" * %s)) AS "t" FROM (SELECT "shared_book"."pages" AS "__col1" '
        'FROM "shared_book" LIMIT 10) subquery',
        [2],
    )


def test_aggregate_over_distinct_values(captured_sql):
    Book.objects.values("title").distinct().aggregate(n=Count("title"))
    assert_sql(
        only_statement(captured_sql),
        'SELECT COUNT("__col1") AS "n" FROM (SELECT DISTINCT "shared_book"."title" AS "title", '
        '"shared_book"."title" AS "__col1" FROM "shared_book") subquery',
    )


def test_aggregate_alias_is_validated():
    with pytest.raises(ValueError, match="Invalid alias"):
        Book.objects.aggregate(**{"n; DROP TABLE x": Count("id")})


def test_aggregate_needs_aggregates():
    with pytest.raises(TypeError, match="not an aggregate"):
        Book.objects.aggregate(n=F("pages"))


def test_aggregate_of_an_empty_filter_runs_no_query():
    assert Book.objects.filter(pk__in=[]).aggregate(t=Sum("pages"), n=Count("id")) == {
        "t": None,
        "n": 0,
    }
    assert orm.connections["default"].connection is None


# -- count() ---------------------------------------------------------------------------------


def test_count(captured_sql):
    Tag.objects.filter(name="a").count()
    assert_sql(
        only_statement(captured_sql),
        'SELECT COUNT(*) AS "__count" FROM "shared_tag" WHERE "shared_tag"."name" = %s',
        ["a"],
    )


def test_count_drops_the_default_ordering(captured_sql):
    Publisher.objects.count()
    assert_sql(only_statement(captured_sql), 'SELECT COUNT(*) AS "__count" FROM "shared_publisher"')


def test_count_over_a_join_counts_joined_rows(captured_sql):
    Author.objects.filter(books__title="x").count()
    assert_sql(
        only_statement(captured_sql),
        f'SELECT COUNT(*) AS "__count" FROM "shared_author" {JOIN_BOOKS} WHERE "shared_book"."title" = %s',
        ["x"],
    )


def test_count_of_a_slice_counts_in_a_subquery(captured_sql):
    Tag.objects.all()[:5].count()
    Tag.objects.all()[5:].count()
    assert_sql(
        captured_sql[0],
        'SELECT COUNT(*) AS "__count" FROM (SELECT "shared_tag"."id" AS "__pk" FROM "shared_tag" LIMIT 5) subquery',
    )
    assert_sql(
        captured_sql[1],
        'SELECT COUNT(*) AS "__count" FROM (SELECT "shared_tag"."id" AS "__pk" FROM "shared_tag" '
        "LIMIT -1 OFFSET 5) subquery",
    )


def test_count_of_distinct_counts_distinct_rows(captured_sql):
    Tag.objects.values("name").distinct().count()
    assert_sql(
        only_statement(captured_sql),
        'SELECT COUNT(*) AS "__count" FROM (SELECT DISTINCT "shared_tag"."name" AS "name" FROM "shared_tag") subquery',
    )


def test_count_of_a_grouped_query_counts_groups(captured_sql):
    Author.objects.values("name").annotate(n=Count("books")).count()
    assert_sql(
        only_statement(captured_sql),
        f'SELECT COUNT(*) AS "__count" FROM (SELECT {NAME} AS "name", COUNT("shared_book"."id") AS "n" '
        f'FROM "shared_author" {JOIN_BOOKS} GROUP BY {NAME}) subquery',
    )


def test_count_of_a_union(captured_sql):
    Tag.objects.filter(name="a").union(Tag.objects.filter(name="b")).count()
    assert_sql(
        only_statement(captured_sql),
        'SELECT COUNT(*) AS "__count" FROM (SELECT * FROM (SELECT "shared_tag"."id", "shared_tag"."name" '
        'FROM "shared_tag" WHERE "shared_tag"."name" = %s) AS "_u0" UNION SELECT * FROM '
        '(SELECT "shared_tag"."id", "shared_tag"."name" FROM "shared_tag" WHERE "shared_tag"."name" = %s) '
        'AS "_u1") subquery',
        ["a", "b"],
    )


def test_count_of_nothing_runs_no_query():
    assert Tag.objects.none().count() == 0
    assert Number.objects.filter(i=2**70).count() == 0
    assert orm.connections["default"].connection is None


# -- exists() ----------------------------------------------------------------------------


def test_exists_selects_a_constant_with_limit_one(captured_sql):
    Tag.objects.filter(name="a").exists()
    assert_sql(
        only_statement(captured_sql),
        'SELECT %s AS "a" FROM "shared_tag" WHERE "shared_tag"."name" = %s LIMIT 1',
        [1, "a"],
    )


def test_exists_drops_the_default_ordering_and_select_related(captured_sql):
    Publisher.objects.select_related("city").filter(name="a").exists()
    assert_sql(
        only_statement(captured_sql),
        'SELECT %s AS "a" FROM "shared_publisher" WHERE "shared_publisher"."name" = %s LIMIT 1',
        [1, "a"],
    )


def test_exists_of_nothing_runs_no_query():
    assert Tag.objects.filter(pk__in=[]).exists() is False
    assert orm.connections["default"].connection is None


def test_exists_query_sql_without_running_it():
    assert_sql(
        Tag.objects.filter(name="a").query.exists_query(),
        'SELECT %s AS "a" FROM "shared_tag" WHERE "shared_tag"."name" = %s LIMIT 1',
        [1, "a"],
    )


# -- once broken: annotate() then values(): the grouping changes to the values fields -------------------
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


# -- once broken: GROUP BY a computed value groups by its source column instead ------------------------
# get_group_by() expands every selected non-aggregate into get_group_by_cols(), which for a
# Func/Transform is its *source columns*: counting per year groups per date.


def test_values_of_a_transform_groups_by_the_transform():
    # Actual: ... GROUP BY "shared_book"."published"
    assert_sql(
        Book.objects.values("published__year").annotate(n=Count("id")),
        'SELECT CAST(strftime(\'%%Y\', "shared_book"."published") AS INTEGER) AS "published__year", '
        'COUNT("shared_book"."id") AS "n" FROM "shared_book" '
        'GROUP BY CAST(strftime(\'%%Y\', "shared_book"."published") AS INTEGER)',
        postgresql=(
            'SELECT CAST(EXTRACT(YEAR FROM "shared_book"."published") AS integer) AS "published__year", COUNT("shared_book"."id") AS "n" FROM "shared_book" GROUP BY CAST(EXTRACT(YEAR FROM "shared_book"."published") AS integer)',
            [],
        ),
    )


def test_values_of_a_function_groups_by_the_function():
    # Actual: ... GROUP BY "shared_author"."name" ('Bob' and 'bob' stay separate rows)
    assert_sql(
        Author.objects.values(lo=Lower("name")).annotate(n=Count("id")),
        'SELECT LOWER("shared_author"."name") AS "lo", COUNT("shared_author"."id") AS "n" '
        'FROM "shared_author" GROUP BY LOWER("shared_author"."name")',
    )


# -- once broken: Meta.ordering: leaks into GROUP BY, and order_by() cannot remove it --------------------


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


# -- once broken: aggregate() ------------------------------------------------------------------------


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
