"""SELECT shape: ordering, reverse, distinct, slices, only/defer, values, union, locking, str()."""

from __future__ import annotations

import pytest

import orm
from orm import F, Lower, NotSupportedError
from orm.exceptions import EmptyResultSet
from tests.sql.helpers import (
    BOOK_COLUMNS,
    PUBLISHER_COLS,
    TAG_COLS,
    assert_sql,
)
from tests.sql.models import Author, Book, Publisher, Tag

FROM_TAG = f'SELECT {TAG_COLS} FROM "shared_tag"'
FROM_PUBLISHER = f'SELECT {PUBLISHER_COLS} FROM "shared_publisher"'
TITLES = 'SELECT "shared_book"."title" AS "title" FROM "shared_book"'
TAG_NAME = '"shared_tag"."name"'


def only_statement(captured):
    assert len(captured) == 1, captured
    return captured[0]


# -- order_by / reverse ------------------------------------------------------------------


def test_no_ordering_without_meta_ordering():
    assert_sql(Tag.objects.all(), FROM_TAG)


def test_meta_ordering_is_the_default():
    assert_sql(Publisher.objects.all(), f'{FROM_PUBLISHER} ORDER BY "shared_publisher"."name" ASC')


def test_order_by_ascending_and_descending():
    assert_sql(
        Tag.objects.order_by("-name", "id"),
        f'{FROM_TAG} ORDER BY {TAG_NAME} DESC, "shared_tag"."id" ASC',
    )


def test_order_by_pk():
    assert_sql(Tag.objects.order_by("-pk"), f'{FROM_TAG} ORDER BY "shared_tag"."id" DESC')


def test_order_by_replaces_meta_ordering():
    assert_sql(
        Publisher.objects.order_by("-id"),
        f'{FROM_PUBLISHER} ORDER BY "shared_publisher"."id" DESC',
    )


def test_order_by_a_related_field_joins_it_as_left_outer():
    # LEFT OUTER even for a non-null key: an ordering must never remove rows.
    assert_sql(
        Book.objects.order_by("author__name", "-pk").values("title")[:5],
        f'{TITLES} LEFT OUTER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id") '
        'ORDER BY "shared_author"."name" ASC, "shared_book"."id" DESC LIMIT 5',
    )


def test_order_by_a_nullable_related_field():
    assert_sql(
        Book.objects.order_by("-editor__name").values("title"),
        f'{TITLES} LEFT OUTER JOIN "shared_author" ON ("shared_book"."editor_id" = "shared_author"."id") '
        'ORDER BY "shared_author"."name" DESC',
    )


def test_order_by_fk_attname_uses_the_column():
    assert_sql(
        Book.objects.order_by("author_id").values("title"),
        f'{TITLES} ORDER BY "shared_book"."author_id" ASC',
    )


def test_order_by_random():
    assert_sql(Book.objects.order_by("?").values("title"), f"{TITLES} ORDER BY RANDOM() ASC")


def test_order_by_an_annotation_expression():
    assert_sql(
        Book.objects.annotate(x=F("pages") * 2).order_by("x").values("title"),
        f'{TITLES} ORDER BY ("shared_book"."pages" * %s) ASC',
        [2],
    )


def test_order_by_an_alias():
    assert_sql(
        Book.objects.alias(x=F("pages") * 2).order_by("-x").values("title"),
        f'{TITLES} ORDER BY ("shared_book"."pages" * %s) DESC',
        [2],
    )


def test_order_by_a_selected_annotation_uses_its_name():
    assert_sql(
        Book.objects.annotate(x=F("pages") * 2).order_by("x").values("x"),
        'SELECT ("shared_book"."pages" * %s) AS "x" FROM "shared_book" ORDER BY "x" ASC',
        [2],
    )


def test_order_by_expressions_with_nulls_placement():
    assert_sql(
        Book.objects.order_by(F("rating").desc(nulls_last=True)).values("title"),
        f'{TITLES} ORDER BY "shared_book"."rating" DESC NULLS LAST',
    )
    assert_sql(
        Book.objects.order_by(F("rating").asc(nulls_first=True)).values("title"),
        f'{TITLES} ORDER BY "shared_book"."rating" ASC NULLS FIRST',
    )


def test_order_by_a_function():
    assert_sql(
        Book.objects.order_by(Lower("title")).values("title"),
        f'{TITLES} ORDER BY LOWER("shared_book"."title") ASC',
    )


def test_order_by_refuses_injection_and_unknown_names():
    with pytest.raises(orm.FieldError, match="Invalid order_by term"):
        Tag.objects.order_by("name; DROP TABLE x")
    with pytest.raises(orm.FieldError, match="Choices are"):
        Tag.objects.order_by("nope")


def test_reverse_flips_every_term():
    assert_sql(
        Tag.objects.order_by("name", "-id").reverse(),
        f'{FROM_TAG} ORDER BY {TAG_NAME} DESC, "shared_tag"."id" ASC',
    )


def test_reverse_flips_meta_ordering():
    assert_sql(
        Publisher.objects.reverse(), f'{FROM_PUBLISHER} ORDER BY "shared_publisher"."name" DESC'
    )


def test_reverse_swaps_nulls_placement():
    assert_sql(
        Book.objects.order_by(F("rating").desc(nulls_last=True)).reverse().values("title"),
        f'{TITLES} ORDER BY "shared_book"."rating" ASC NULLS FIRST',
    )


def test_reverse_twice_is_the_original():
    assert_sql(
        Tag.objects.order_by("name").reverse().reverse(), f"{FROM_TAG} ORDER BY {TAG_NAME} ASC"
    )


def test_reverse_without_ordering_adds_none():
    assert_sql(Tag.objects.reverse(), FROM_TAG)


def test_first_and_last_order_by_pk_when_unordered(captured_sql):
    Tag.objects.first()
    Tag.objects.last()
    assert_sql(captured_sql[0], f'{FROM_TAG} ORDER BY "shared_tag"."id" ASC LIMIT 1')
    assert_sql(captured_sql[1], f'{FROM_TAG} ORDER BY "shared_tag"."id" DESC LIMIT 1')


def test_first_and_last_follow_meta_ordering(captured_sql):
    Publisher.objects.first()
    Publisher.objects.last()
    assert_sql(captured_sql[0], f'{FROM_PUBLISHER} ORDER BY "shared_publisher"."name" ASC LIMIT 1')
    assert_sql(captured_sql[1], f'{FROM_PUBLISHER} ORDER BY "shared_publisher"."name" DESC LIMIT 1')


def test_get_limits_to_21_rows_and_drops_ordering(captured_sql):
    with pytest.raises(Publisher.DoesNotExist):
        Publisher.objects.get(name="a")
    assert_sql(
        only_statement(captured_sql),
        f'{FROM_PUBLISHER} WHERE "shared_publisher"."name" = %s LIMIT 21',
        ["a"],
    )


# -- distinct ------------------------------------------------------------------------------


def test_distinct():
    assert_sql(Tag.objects.distinct(), f'SELECT DISTINCT {TAG_COLS} FROM "shared_tag"')


def test_distinct_values():
    assert_sql(
        Tag.objects.values("name").distinct(),
        f'SELECT DISTINCT {TAG_NAME} AS "name" FROM "shared_tag"',
    )


def test_distinct_on_fields_is_not_supported_on_sqlite():
    with pytest.raises(NotSupportedError, match="DISTINCT ON"):
        Tag.objects.distinct("name").query.sql_with_params()


# -- slicing -------------------------------------------------------------------------------


def test_slice_stop_is_limit():
    assert_sql(Tag.objects.all()[:10], f"{FROM_TAG} LIMIT 10")


def test_slice_start_and_stop_is_limit_and_offset():
    assert_sql(Tag.objects.all()[5:15], f"{FROM_TAG} LIMIT 10 OFFSET 5")


def test_offset_only_uses_limit_minus_one():
    assert_sql(
        Tag.objects.all()[5:],
        f"{FROM_TAG} LIMIT -1 OFFSET 5",
        postgresql=(
            f"{FROM_TAG} OFFSET 5",
            [],
        ),
    )


def test_slice_of_a_slice_composes():
    assert_sql(Tag.objects.all()[5:15][2:4], f"{FROM_TAG} LIMIT 2 OFFSET 7")
    assert_sql(Tag.objects.all()[2:10][5:], f"{FROM_TAG} LIMIT 3 OFFSET 7")


def test_empty_slice_runs_no_query():
    with pytest.raises(EmptyResultSet):
        Tag.objects.all()[3:3].query.sql_with_params()
    with pytest.raises(EmptyResultSet):
        Tag.objects.all()[5:15][20:].query.sql_with_params()
    assert list(Tag.objects.all()[3:3]) == []
    assert orm.connections["default"].connection is None


def test_slice_comes_after_ordering():
    assert_sql(Tag.objects.order_by("name")[:2], f"{FROM_TAG} ORDER BY {TAG_NAME} ASC LIMIT 2")


def test_single_index_is_limit_one_with_offset(captured_sql):
    with pytest.raises(IndexError):
        Tag.objects.all()[3]
    assert_sql(only_statement(captured_sql), f"{FROM_TAG} LIMIT 1 OFFSET 3")


def test_negative_index_is_refused():
    with pytest.raises(ValueError, match="Negative"):
        Tag.objects.all()[-1:]


def test_filter_after_slice_is_refused():
    with pytest.raises(TypeError, match="slice"):
        Tag.objects.all()[:2].filter(name="a")


# -- only / defer ----------------------------------------------------------------------------


def test_only_keeps_the_pk():
    assert_sql(
        Book.objects.only("title"),
        'SELECT "shared_book"."id", "shared_book"."title" FROM "shared_book"',
    )


def test_only_a_fk_selects_its_column():
    assert_sql(
        Book.objects.only("author"),
        'SELECT "shared_book"."id", "shared_book"."author_id" FROM "shared_book"',
    )


def test_only_replaces_an_earlier_only():
    assert_sql(
        Book.objects.only("title").only("pages"),
        'SELECT "shared_book"."id", "shared_book"."pages" FROM "shared_book"',
    )


def test_defer_drops_columns_in_table_order():
    expected = (
        'SELECT "shared_book"."id", "shared_book"."author_id", "shared_book"."editor_id", '
        '"shared_book"."publisher_id", "shared_book"."pages", "shared_book"."price", '
        '"shared_book"."rating", "shared_book"."published" FROM "shared_book"'
    )
    assert_sql(Book.objects.defer("title", "created"), expected)
    assert_sql(Book.objects.defer("created").defer("title"), expected)


def test_defer_after_only_removes_from_the_only_set():
    assert_sql(
        Book.objects.only("title", "pages").defer("pages"),
        'SELECT "shared_book"."id", "shared_book"."title" FROM "shared_book"',
    )


def test_only_unknown_field_is_refused():
    with pytest.raises(orm.FieldError, match="no field named"):
        Book.objects.only("nope")


# -- values / values_list --------------------------------------------------------------------


def test_values_without_names_selects_every_column_by_attname():
    cols = ", ".join(f'"shared_book"."{c}" AS "{c}"' for c in BOOK_COLUMNS)
    assert_sql(Book.objects.values(), f'SELECT {cols} FROM "shared_book"')


def test_values_of_fields_fks_related_fields_and_pk():
    assert_sql(
        Book.objects.values("title", "author", "author__name", "pk"),
        'SELECT "shared_book"."title" AS "title", "shared_book"."author_id" AS "author", '
        '"shared_author"."name" AS "author__name", "shared_book"."id" AS "pk" FROM "shared_book" '
        'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id")',
    )


def test_values_with_expressions():
    assert_sql(
        Book.objects.values(t=F("title"), up=orm.Upper("title")),
        'SELECT "shared_book"."title" AS "t", UPPER("shared_book"."title") AS "up" FROM "shared_book"',
    )


def test_values_across_m2m():
    assert_sql(
        Book.objects.values("tags__name"),
        'SELECT "shared_tag"."name" AS "tags__name" FROM "shared_book" '
        'LEFT OUTER JOIN "shared_book_tags" ON ("shared_book"."id" = "shared_book_tags"."book_id") '
        'LEFT OUTER JOIN "shared_tag" ON ("shared_book_tags"."tag_id" = "shared_tag"."id")',
    )


def test_values_of_a_transform():
    assert_sql(
        Book.objects.values_list("created__year"),
        'SELECT CAST(strftime(\'%%Y\', "shared_book"."created") AS INTEGER) AS "created__year" '
        'FROM "shared_book"',
        postgresql=(
            'SELECT CAST(EXTRACT(YEAR FROM "shared_book"."created") AS integer) AS "created__year" FROM "shared_book"',
            [],
        ),
    )


def test_values_list_flat_and_named():
    assert_sql(Book.objects.values_list("title", flat=True), TITLES)
    assert_sql(
        Book.objects.values_list("id", "title", named=True),
        'SELECT "shared_book"."id" AS "id", "shared_book"."title" AS "title" FROM "shared_book"',
    )


def test_values_list_keeps_the_order_of_names():
    assert_sql(
        Tag.objects.values_list("name", "id").order_by("id"),
        f'SELECT {TAG_NAME} AS "name", "shared_tag"."id" AS "id" FROM "shared_tag" ORDER BY "shared_tag"."id" ASC',
    )


def test_values_unknown_field_lists_the_choices():
    with pytest.raises(orm.FieldError, match="Choices are"):
        Book.objects.values("nope")


# -- union -----------------------------------------------------------------------------------


def test_union_wraps_each_query():
    assert_sql(
        Tag.objects.filter(name="a").union(Tag.objects.filter(name="b")),
        f'SELECT * FROM ({FROM_TAG} WHERE {TAG_NAME} = %s) AS "_u0" '
        f'UNION SELECT * FROM ({FROM_TAG} WHERE {TAG_NAME} = %s) AS "_u1"',
        ["a", "b"],
    )


def test_union_all_with_ordering_by_position_and_limit():
    assert_sql(
        Tag.objects.filter(name="a")
        .union(Tag.objects.filter(name="b"), all=True)
        .order_by("-name")[:3],
        f'SELECT * FROM ({FROM_TAG} WHERE {TAG_NAME} = %s) AS "_u0" '
        f'UNION ALL SELECT * FROM ({FROM_TAG} WHERE {TAG_NAME} = %s) AS "_u1" ORDER BY 2 DESC LIMIT 3',
        ["a", "b"],
    )


def test_union_order_by_pk_is_its_position():
    assert_sql(
        Tag.objects.union(Tag.objects.all()).order_by("pk"),
        f'SELECT * FROM ({FROM_TAG}) AS "_u0" UNION SELECT * FROM ({FROM_TAG}) AS "_u1" ORDER BY 1 ASC',
    )


def test_union_of_values_of_two_models():
    assert_sql(
        Tag.objects.values("name").union(Author.objects.values("name")),
        f'SELECT * FROM (SELECT {TAG_NAME} AS "name" FROM "shared_tag") AS "_u0" '
        'UNION SELECT * FROM (SELECT "shared_author"."name" AS "name" FROM "shared_author") AS "_u1"',
    )


def test_union_members_lose_their_default_ordering():
    assert_sql(
        Publisher.objects.filter(name="a").union(Publisher.objects.filter(name="b")),
        f'SELECT * FROM ({FROM_PUBLISHER} WHERE "shared_publisher"."name" = %s) AS "_u0" '
        f'UNION SELECT * FROM ({FROM_PUBLISHER} WHERE "shared_publisher"."name" = %s) AS "_u1"',
        ["a", "b"],
    )


def test_union_skips_members_that_match_nothing():
    expected = f'SELECT * FROM ({FROM_TAG} WHERE {TAG_NAME} = %s) AS "_u0"'
    assert_sql(Tag.objects.filter(name="a").union(Tag.objects.none()), expected, ["a"])
    assert_sql(Tag.objects.filter(name="a").union(Tag.objects.filter(pk__in=[])), expected, ["a"])


def test_union_order_by_an_unselected_column_is_refused():
    # Django's error: the queries chose their columns with values(), so none can be added.
    qs = Tag.objects.values("name").union(Tag.objects.values("name")).order_by("id")
    with pytest.raises(
        orm.DatabaseError, match="ORDER BY term does not match any column in the result set"
    ):
        qs.query.sql_with_params()


# -- select_for_update -------------------------------------------------------------------------


def test_select_for_update_adds_nothing_on_sqlite():
    assert_sql(
        Tag.objects.select_for_update(),
        FROM_TAG,
        postgresql=(
            f"{FROM_TAG} FOR UPDATE",
            [],
        ),
    )
    assert_sql(
        Tag.objects.select_for_update(nowait=True, of=("self",)).filter(name="a"),
        f"{FROM_TAG} WHERE {TAG_NAME} = %s",
        ["a"],
        postgresql=(f'{FROM_TAG} WHERE {TAG_NAME} = %s FOR UPDATE OF "shared_tag" NOWAIT', ["a"]),
    )


def test_select_for_update_options_are_checked():
    with pytest.raises(ValueError, match="nowait"):
        Tag.objects.select_for_update(nowait=True, skip_locked=True)


# -- str(qs.query) ---------------------------------------------------------------------------


def test_str_of_query_interpolates_parameters():
    qs = Tag.objects.filter(name="a", id__in=[1, 2])[:3]
    assert (
        str(qs.query)
        == f'{FROM_TAG} WHERE ("shared_tag"."id" IN (1, 2) AND {TAG_NAME} = \'a\') LIMIT 3'
    )


def test_str_of_query_without_parameters():
    assert str(Tag.objects.all().query) == FROM_TAG


def test_str_of_query_unescapes_percent_signs():
    assert (
        str(Book.objects.filter(pages__gt=F("pages") % 2).values("title").query)
        == f'{TITLES} WHERE "shared_book"."pages" > ("shared_book"."pages" % 2)'
    )
    assert (
        str(Book.objects.values_list("created__year").query)
        == 'SELECT CAST(strftime(\'%Y\', "shared_book"."created") AS INTEGER) AS "created__year" '
        'FROM "shared_book"'
    )


def test_str_of_query_runs_no_query():
    str(Book.objects.filter(author__name="x").query)
    assert orm.connections["default"].connection is None


def test_sql_with_params_returns_a_tuple_of_params():
    sql, params = Tag.objects.filter(name="a").query.sql_with_params()
    assert params == ("a",)


# -- once broken: Joins are shared between clones -------------------------------------------------------


def test_deriving_a_queryset_does_not_change_the_original():
    # Query.clone() copies alias_map shallowly and Query.join() mutates an existing Join's
    # join_type, so ordering the child turns the parent's INNER JOIN into LEFT OUTER JOIN.
    qs = Book.objects.filter(author__name="x")
    before = qs.query.sql_with_params()
    qs.order_by("author__name")
    assert qs.query.sql_with_params() == before


# -- once broken: exists() of a slice ------------------------------------------------------------------
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


# -- once broken: order_by() on a relation ignores the related model's Meta.ordering ---------------------


def test_order_by_a_relation_uses_the_related_default_ordering():
    # Actual: ORDER BY "shared_book"."publisher_id" ASC. Django orders by the related
    # model's Meta.ordering (Publisher: name), or its pk when it has none.
    assert_sql(
        Book.objects.order_by("publisher").values("title"),
        'SELECT "shared_book"."title" AS "title" FROM "shared_book" '
        'LEFT OUTER JOIN "shared_publisher" ON ("shared_book"."publisher_id" = "shared_publisher"."id") '
        'ORDER BY "shared_publisher"."name" ASC',
    )
