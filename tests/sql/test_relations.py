"""Lookups across relations: forward and reverse foreign keys, many-to-many, select_related.

Join types: a non-null forward foreign key is an INNER JOIN; a nullable one, a
reverse foreign key and every many-to-many step are LEFT OUTER JOINs (a filter
on the joined table still removes the NULL-extended rows). A join below a LEFT
OUTER JOIN is LEFT OUTER too.
"""

from __future__ import annotations

import pytest

import orm
from tests.sql.helpers import (
    AUTHOR_COLS,
    BOOK_COLS,
    CITY_COLS,
    PUBLISHER_COLS,
    TAG_COLS,
    assert_sql,
)
from tests.sql.models import Author, Book, Tag

FROM_BOOK = f'SELECT {BOOK_COLS} FROM "shared_book"'
FROM_AUTHOR = f'SELECT {AUTHOR_COLS} FROM "shared_author"'
JOIN_AUTHOR = 'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id")'
JOIN_EDITOR = (
    'LEFT OUTER JOIN "shared_author" ON ("shared_book"."editor_id" = "shared_author"."id")'
)
JOIN_BOOKS = 'LEFT OUTER JOIN "shared_book" ON ("shared_author"."id" = "shared_book"."author_id")'
JOIN_BOOK_TAGS = (
    'LEFT OUTER JOIN "shared_book_tags" ON ("shared_book"."id" = "shared_book_tags"."book_id") '
    'LEFT OUTER JOIN "shared_tag" ON ("shared_book_tags"."tag_id" = "shared_tag"."id")'
)


# -- forward foreign keys ---------------------------------------------------------------


def test_filter_on_the_fk_itself_uses_its_column_without_a_join():
    assert_sql(
        Book.objects.filter(author=3), f'{FROM_BOOK} WHERE "shared_book"."author_id" = %s', [3]
    )


def test_filter_on_the_fk_attname_is_the_same():
    assert_sql(
        Book.objects.filter(author_id=3), f'{FROM_BOOK} WHERE "shared_book"."author_id" = %s', [3]
    )


def test_filter_on_a_model_instance_binds_its_pk():
    author = Author(id=7, name="a")
    assert_sql(
        Book.objects.filter(author=author),
        f'{FROM_BOOK} WHERE "shared_book"."author_id" = %s',
        [7],
    )


def test_filter_on_an_instance_of_the_wrong_model_is_refused():
    with pytest.raises(ValueError, match="expects a Author instance"):
        Book.objects.filter(author=Tag(id=1, name="t"))


def test_filter_in_instances_binds_their_pks():
    authors = [Author(id=1, name="a"), Author(id=2, name="b")]
    assert_sql(
        Book.objects.filter(author__in=authors),
        f'{FROM_BOOK} WHERE "shared_book"."author_id" IN (%s, %s)',
        [1, 2],
    )


def test_fk_isnull_uses_the_column():
    assert_sql(
        Book.objects.filter(editor__isnull=True),
        f'{FROM_BOOK} WHERE "shared_book"."editor_id" IS NULL',
    )
    assert_sql(
        Book.objects.filter(editor=None), f'{FROM_BOOK} WHERE "shared_book"."editor_id" IS NULL'
    )


def test_non_null_fk_field_lookup_is_an_inner_join():
    assert_sql(
        Book.objects.filter(author__name="x"),
        f'{FROM_BOOK} {JOIN_AUTHOR} WHERE "shared_author"."name" = %s',
        ["x"],
    )


def test_nullable_fk_field_lookup_is_a_left_outer_join():
    assert_sql(
        Book.objects.filter(editor__name="x"),
        f'{FROM_BOOK} {JOIN_EDITOR} WHERE "shared_author"."name" = %s',
        ["x"],
    )


def test_two_steps_nullable_second_step_is_left_outer():
    assert_sql(
        Book.objects.filter(author__hometown__name="x"),
        f"{FROM_BOOK} {JOIN_AUTHOR} "
        'LEFT OUTER JOIN "shared_city" ON ("shared_author"."hometown_id" = "shared_city"."id") '
        'WHERE "shared_city"."name" = %s',
        ["x"],
    )


def test_join_below_a_left_outer_join_stays_left_outer():
    assert_sql(
        Book.objects.filter(publisher__city__name="x"),
        f"{FROM_BOOK} "
        'LEFT OUTER JOIN "shared_publisher" ON ("shared_book"."publisher_id" = "shared_publisher"."id") '
        'LEFT OUTER JOIN "shared_city" ON ("shared_publisher"."city_id" = "shared_city"."id") '
        'WHERE "shared_city"."name" = %s',
        ["x"],
    )


def test_two_conditions_on_one_relation_share_the_join():
    assert_sql(
        Book.objects.filter(author__name="x", author__age=3),
        f'{FROM_BOOK} {JOIN_AUTHOR} WHERE ("shared_author"."age" = %s AND "shared_author"."name" = %s)',
        [3, "x"],
    )


def test_two_relations_to_one_table_get_distinct_aliases():
    assert_sql(
        Book.objects.filter(author__name="a", editor__name="e"),
        f"{FROM_BOOK} {JOIN_AUTHOR} "
        'LEFT OUTER JOIN "shared_author" "T3" ON ("shared_book"."editor_id" = "T3"."id") '
        'WHERE ("shared_author"."name" = %s AND "T3"."name" = %s)',
        ["a", "e"],
    )


def test_unknown_relation_field_lists_the_choices():
    with pytest.raises(orm.FieldError, match="Choices are: .*author"):
        Book.objects.filter(writer__name="x")


# -- reverse foreign keys ----------------------------------------------------------------


def test_reverse_fk_lookup_is_a_left_outer_join():
    assert_sql(
        Author.objects.filter(books__title="x"),
        f'{FROM_AUTHOR} {JOIN_BOOKS} WHERE "shared_book"."title" = %s',
        ["x"],
    )


def test_reverse_fk_isnull_finds_authors_without_books():
    assert_sql(
        Author.objects.filter(books__isnull=True),
        f'{FROM_AUTHOR} {JOIN_BOOKS} WHERE "shared_book"."id" IS NULL',
    )
    assert_sql(
        Author.objects.filter(books=None),
        f'{FROM_AUTHOR} {JOIN_BOOKS} WHERE "shared_book"."id" IS NULL',
    )


def test_reverse_fk_conditions_in_one_filter_share_the_join():
    assert_sql(
        Author.objects.filter(books__title="x", books__pages=3),
        f'{FROM_AUTHOR} {JOIN_BOOKS} WHERE ("shared_book"."pages" = %s AND "shared_book"."title" = %s)',
        [3, "x"],
    )


# -- many-to-many ------------------------------------------------------------------------


def test_m2m_lookup_joins_through_the_m2m_table():
    assert_sql(
        Book.objects.filter(tags__name="x"),
        f'{FROM_BOOK} {JOIN_BOOK_TAGS} WHERE "shared_tag"."name" = %s',
        ["x"],
    )


def test_m2m_by_pk_and_in():
    assert_sql(
        Book.objects.filter(tags=3),
        f'{FROM_BOOK} {JOIN_BOOK_TAGS} WHERE "shared_tag"."id" = %s',
        [3],
    )
    assert_sql(
        Book.objects.filter(tags__in=[1, 2]),
        f'{FROM_BOOK} {JOIN_BOOK_TAGS} WHERE "shared_tag"."id" IN (%s, %s)',
        [1, 2],
    )


def test_m2m_none_finds_books_without_tags():
    assert_sql(
        Book.objects.filter(tags=None),
        f'{FROM_BOOK} {JOIN_BOOK_TAGS} WHERE "shared_tag"."id" IS NULL',
    )


def test_reverse_m2m_lookup():
    assert_sql(
        Tag.objects.filter(books__title="x"),
        f'SELECT {TAG_COLS} FROM "shared_tag" '
        'LEFT OUTER JOIN "shared_book_tags" ON ("shared_tag"."id" = "shared_book_tags"."tag_id") '
        'LEFT OUTER JOIN "shared_book" ON ("shared_book_tags"."book_id" = "shared_book"."id") '
        'WHERE "shared_book"."title" = %s',
        ["x"],
    )


def test_fk_after_m2m_is_left_outer():
    assert_sql(
        Tag.objects.filter(books__author__name="x"),
        f'SELECT {TAG_COLS} FROM "shared_tag" '
        'LEFT OUTER JOIN "shared_book_tags" ON ("shared_tag"."id" = "shared_book_tags"."tag_id") '
        'LEFT OUTER JOIN "shared_book" ON ("shared_book_tags"."book_id" = "shared_book"."id") '
        'LEFT OUTER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id") '
        'WHERE "shared_author"."name" = %s',
        ["x"],
    )


def test_reverse_fk_then_m2m():
    assert_sql(
        Author.objects.filter(books__tags__name="x"),
        f"{FROM_AUTHOR} {JOIN_BOOKS} "
        'LEFT OUTER JOIN "shared_book_tags" ON ("shared_book"."id" = "shared_book_tags"."book_id") '
        'LEFT OUTER JOIN "shared_tag" ON ("shared_book_tags"."tag_id" = "shared_tag"."id") '
        'WHERE "shared_tag"."name" = %s',
        ["x"],
    )


# -- exclude -------------------------------------------------------------------------------


def test_exclude_on_a_single_valued_relation_negates_in_place():
    assert_sql(
        Book.objects.exclude(author__name="x"),
        f'{FROM_BOOK} {JOIN_AUTHOR} WHERE NOT ("shared_author"."name" = %s)',
        ["x"],
    )


def test_exclude_across_a_reverse_fk_is_not_in_a_subquery():
    # "No book of the author is titled x", which a join cannot express.
    assert_sql(
        Author.objects.exclude(books__title="x"),
        f'{FROM_AUTHOR} WHERE NOT ("shared_author"."id" IN (SELECT DISTINCT "U1_0"."id" AS "pk" '
        'FROM "shared_author" "U1_0" '
        'LEFT OUTER JOIN "shared_book" "U1_1" ON ("U1_0"."id" = "U1_1"."author_id") '
        'WHERE "U1_1"."title" = %s))',
        ["x"],
    )


def test_exclude_across_m2m_is_not_in_a_subquery():
    assert_sql(
        Book.objects.exclude(tags__name="x"),
        f'{FROM_BOOK} WHERE NOT ("shared_book"."id" IN (SELECT DISTINCT "U1_0"."id" AS "pk" '
        'FROM "shared_book" "U1_0" '
        'LEFT OUTER JOIN "shared_book_tags" "U1_1" ON ("U1_0"."id" = "U1_1"."book_id") '
        'LEFT OUTER JOIN "shared_tag" "U1_2" ON ("U1_1"."tag_id" = "U1_2"."id") '
        'WHERE "U1_2"."name" = %s))',
        ["x"],
    )


def test_exclude_of_several_multi_valued_conditions_keeps_them_together():
    assert_sql(
        Author.objects.exclude(books__title="x", books__pages=3),
        f'{FROM_AUTHOR} WHERE NOT ("shared_author"."id" IN (SELECT DISTINCT "U1_0"."id" AS "pk" '
        'FROM "shared_author" "U1_0" '
        'LEFT OUTER JOIN "shared_book" "U1_1" ON ("U1_0"."id" = "U1_1"."author_id") '
        'WHERE ("U1_1"."pages" = %s AND "U1_1"."title" = %s)))',
        [3, "x"],
    )


def test_negated_q_across_a_reverse_fk_is_the_same_as_exclude():
    assert (
        Author.objects.filter(~orm.Q(books__title="x")).query.sql_with_params()
        == Author.objects.exclude(books__title="x").query.sql_with_params()
    )


# -- select_related ----------------------------------------------------------------------


def test_select_related_non_null_fk_is_an_inner_join_with_its_columns():
    assert_sql(
        Book.objects.select_related("author"),
        f'SELECT {BOOK_COLS}, {AUTHOR_COLS} FROM "shared_book" {JOIN_AUTHOR}',
    )


def test_select_related_nullable_fk_is_a_left_outer_join():
    assert_sql(
        Book.objects.select_related("editor"),
        f'SELECT {BOOK_COLS}, {AUTHOR_COLS} FROM "shared_book" {JOIN_EDITOR}',
    )


def test_select_related_nested():
    assert_sql(
        Book.objects.select_related("author__hometown"),
        f'SELECT {BOOK_COLS}, {AUTHOR_COLS}, {CITY_COLS} FROM "shared_book" {JOIN_AUTHOR} '
        'LEFT OUTER JOIN "shared_city" ON ("shared_author"."hometown_id" = "shared_city"."id")',
    )


def test_select_related_below_a_nullable_fk_is_left_outer():
    assert_sql(
        Book.objects.select_related("publisher__city"),
        f'SELECT {BOOK_COLS}, {PUBLISHER_COLS}, {CITY_COLS} FROM "shared_book" '
        'LEFT OUTER JOIN "shared_publisher" ON ("shared_book"."publisher_id" = "shared_publisher"."id") '
        'LEFT OUTER JOIN "shared_city" ON ("shared_publisher"."city_id" = "shared_city"."id")',
    )


def test_select_related_without_names_follows_non_null_fks_only():
    assert_sql(
        Book.objects.select_related(),
        f'SELECT {BOOK_COLS}, {AUTHOR_COLS} FROM "shared_book" {JOIN_AUTHOR}',
    )


def test_select_related_reuses_the_join_of_a_filter():
    assert_sql(
        Book.objects.filter(author__name="x").select_related("author"),
        f'SELECT {BOOK_COLS}, {AUTHOR_COLS} FROM "shared_book" {JOIN_AUTHOR} '
        'WHERE "shared_author"."name" = %s',
        ["x"],
    )


def test_select_related_with_only_keeps_the_fk_column():
    assert_sql(
        Book.objects.only("author").select_related("author"),
        f'SELECT "shared_book"."id", "shared_book"."author_id", {AUTHOR_COLS} '
        f'FROM "shared_book" {JOIN_AUTHOR}',
    )


def test_values_ignores_select_related():
    assert_sql(
        Book.objects.select_related("author").values("title"),
        'SELECT "shared_book"."title" AS "title" FROM "shared_book"',
    )


def test_select_related_unknown_name_lists_the_choices():
    qs = Book.objects.select_related("writer")
    with pytest.raises(orm.FieldError, match="Choices are: author, editor, publisher"):
        qs.query.sql_with_params()


# -- once broken: Successive filter() calls on a multi-valued relation share one join -------------------
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
