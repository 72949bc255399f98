"""Every field lookup on SQLite: the operator, the bound value, and the empty/full shortcuts."""

from __future__ import annotations

import datetime
import decimal
import json

import pytest

import orm
from orm import F
from orm.exceptions import EmptyResultSet
from tests.sql.helpers import (
    AUTHOR_COLS,
    BOOK_COLS,
    NUMBER_COLS,
    TAG_COLS,
    assert_sql,
)
from tests.sql.models import Author, Book, Number, Tag

ESCAPE = "ESCAPE '\\'"  # the SQL text  ESCAPE '\'  (SQLite strings have no backslash escapes)
FROM_BOOK = f'SELECT {BOOK_COLS} FROM "shared_book"'
FROM_TAG = f'SELECT {TAG_COLS} FROM "shared_tag"'
FROM_NUMBER = f'SELECT {NUMBER_COLS} FROM "sqltests_number"'
UTC = datetime.UTC


# -- equality ------------------------------------------------------------------------


def test_exact_binds_the_value():
    assert_sql(
        Tag.objects.filter(name__exact="x"),
        f'{FROM_TAG} WHERE "shared_tag"."name" = %s',
        ["x"],
    )


def test_implicit_exact_is_the_same_as_exact():
    assert_sql(Tag.objects.filter(name="x"), f'{FROM_TAG} WHERE "shared_tag"."name" = %s', ["x"])


def test_exact_none_is_is_null_without_a_parameter():
    assert_sql(
        Book.objects.filter(rating=None), f'{FROM_BOOK} WHERE "shared_book"."rating" IS NULL'
    )


def test_exact_none_on_pk_is_is_null():
    assert_sql(Tag.objects.filter(pk=None), f'{FROM_TAG} WHERE "shared_tag"."id" IS NULL')


def test_iexact_compares_upper_on_both_sides():
    assert_sql(
        Tag.objects.filter(name__iexact="MiXed"),
        f'{FROM_TAG} WHERE UPPER("shared_tag"."name") = UPPER(%s)',
        ["MiXed"],
    )


def test_iexact_is_an_equality_so_wildcards_stay_unescaped():
    assert_sql(
        Tag.objects.filter(name__iexact="100%_\\"),
        f'{FROM_TAG} WHERE UPPER("shared_tag"."name") = UPPER(%s)',
        ["100%_\\"],
    )


def test_iexact_none_is_is_null():
    assert_sql(
        Tag.objects.filter(name__iexact=None), f'{FROM_TAG} WHERE "shared_tag"."name" IS NULL'
    )


def test_exact_prepares_the_value_with_the_field():
    assert_sql(
        Book.objects.filter(pages="12"), f'{FROM_BOOK} WHERE "shared_book"."pages" = %s', [12]
    )


def test_decimal_is_bound_as_its_exact_text():
    assert_sql(
        Book.objects.filter(price__gte=decimal.Decimal("9.99")),
        f'{FROM_BOOK} WHERE "shared_book"."price" >= %s',
        ["9.99"],
        postgresql=(f'{FROM_BOOK} WHERE "shared_book"."price" >= %s', [decimal.Decimal("9.99")]),
    )


def test_aware_datetime_is_bound_as_fixed_width_utc_text():
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    assert_sql(
        Book.objects.filter(created__gt=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=plus_two)),
        f'{FROM_BOOK} WHERE "shared_book"."created" > %s',
        ["2020-01-02 01:04:05.000000"],
        postgresql=(
            f'{FROM_BOOK} WHERE "shared_book"."created" > %s',
            [
                datetime.datetime(
                    2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200))
                )
            ],
        ),
    )


def test_naive_datetime_is_refused_before_any_sql():
    with pytest.raises(ValueError, match="naive datetime"):
        Book.objects.filter(created=datetime.datetime(2020, 1, 2))


def test_value_of_the_wrong_type_is_refused():
    with pytest.raises(ValueError, match="expected a number"):
        Book.objects.filter(pages="many")


# -- comparisons -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lookup", "operator"), [("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")]
)
def test_comparison_lookups(lookup, operator):
    assert_sql(
        Book.objects.filter(**{f"pages__{lookup}": 10}),
        f'{FROM_BOOK} WHERE "shared_book"."pages" {operator} %s',
        [10],
    )


def test_range_is_between_with_two_parameters():
    assert_sql(
        Book.objects.filter(pages__range=(1, 5)),
        f'{FROM_BOOK} WHERE "shared_book"."pages" BETWEEN %s AND %s',
        [1, 5],
    )


def test_range_prepares_both_ends():
    assert_sql(
        Book.objects.filter(published__range=(datetime.date(2020, 1, 1), "2020-12-31")),
        f'{FROM_BOOK} WHERE "shared_book"."published" BETWEEN %s AND %s',
        ["2020-01-01", "2020-12-31"],
        postgresql=(
            f'{FROM_BOOK} WHERE "shared_book"."published" BETWEEN %s AND %s',
            [datetime.date(2020, 1, 1), datetime.date(2020, 12, 31)],
        ),
    )


def test_range_needs_a_pair():
    with pytest.raises(ValueError, match="pair"):
        Book.objects.filter(pages__range=(1, 2, 3))


def test_isnull_true():
    assert_sql(
        Book.objects.filter(rating__isnull=True),
        f'{FROM_BOOK} WHERE "shared_book"."rating" IS NULL',
    )


def test_isnull_false():
    assert_sql(
        Book.objects.filter(rating__isnull=False),
        f'{FROM_BOOK} WHERE "shared_book"."rating" IS NOT NULL',
    )


def test_isnull_needs_a_bool():
    with pytest.raises(ValueError, match="True or False"):
        Book.objects.filter(rating__isnull="yes")


def test_none_is_refused_for_lookups_other_than_exact():
    with pytest.raises(ValueError, match="None"):
        Book.objects.filter(pages__gt=None)


# -- LIKE lookups and wildcard escaping ----------------------------------------------


@pytest.mark.parametrize(
    ("lookup", "lhs", "pattern"),
    [
        ("contains", '"shared_tag"."name" LIKE %s', "%x%"),
        ("icontains", 'UPPER("shared_tag"."name") LIKE UPPER(%s)', "%x%"),
        ("startswith", '"shared_tag"."name" LIKE %s', "x%"),
        ("istartswith", 'UPPER("shared_tag"."name") LIKE UPPER(%s)', "x%"),
        ("endswith", '"shared_tag"."name" LIKE %s', "%x"),
        ("iendswith", 'UPPER("shared_tag"."name") LIKE UPPER(%s)', "%x"),
    ],
)
def test_pattern_lookups(lookup, lhs, pattern):
    assert_sql(
        Tag.objects.filter(**{f"name__{lookup}": "x"}),
        f"{FROM_TAG} WHERE {lhs} {ESCAPE}",
        [pattern],
    )


@pytest.mark.parametrize(
    ("lookup", "pattern"),
    [
        ("contains", "%a\\%b\\_c\\\\d%"),
        ("icontains", "%a\\%b\\_c\\\\d%"),
        ("startswith", "a\\%b\\_c\\\\d%"),
        ("istartswith", "a\\%b\\_c\\\\d%"),
        ("endswith", "%a\\%b\\_c\\\\d"),
        ("iendswith", "%a\\%b\\_c\\\\d"),
    ],
)
def test_like_wildcards_in_the_value_are_escaped(lookup, pattern):
    # 'a%b_c\d' must match literally: each of % _ \ gets a backslash in the bound pattern.
    sql, params = Tag.objects.filter(**{f"name__{lookup}": "a%b_c\\d"}).query.sql_with_params()
    assert list(params) == [pattern]
    assert sql.endswith(f"LIKE {'UPPER(%s)' if lookup.startswith('i') else '%s'} {ESCAPE}")


def test_like_value_never_appears_in_the_sql_text():
    sql, params = Tag.objects.filter(name__contains="' OR 1=1 --").query.sql_with_params()
    assert "OR 1=1" not in sql
    assert list(params) == ["%' OR 1=1 --%"]


def test_contains_on_an_integer_column_binds_the_text():
    assert_sql(
        Book.objects.filter(pages__contains=12),
        f'{FROM_BOOK} WHERE "shared_book"."pages" LIKE %s {ESCAPE}',
        ["%12%"],
        postgresql=(
            f'{FROM_BOOK} WHERE ("shared_book"."pages")::text LIKE %s ESCAPE \'\\\'',
            ["%12%"],
        ),
    )


def test_contains_with_a_column_escapes_the_columns_wildcards_in_sql():
    assert_sql(
        Book.objects.filter(title__contains=orm.F("author__name")).values("title"),
        'SELECT "shared_book"."title" AS "title" FROM "shared_book" '
        'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id") '
        'WHERE "shared_book"."title" LIKE (%s || REPLACE(REPLACE(REPLACE("shared_author"."name", '
        "'\\', '\\\\'), '%%', '\\%%'), '_', '\\_') || %s) " + ESCAPE,
        ["%", "%"],
    )


def test_istartswith_with_a_column_uppercases_the_built_pattern():
    assert_sql(
        Book.objects.filter(title__istartswith=orm.F("author__name")).values("title"),
        'SELECT "shared_book"."title" AS "title" FROM "shared_book" '
        'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id") '
        'WHERE UPPER("shared_book"."title") LIKE UPPER((%s || REPLACE(REPLACE(REPLACE('
        "\"shared_author\".\"name\", '\\', '\\\\'), '%%', '\\%%'), '_', '\\_') || %s)) " + ESCAPE,
        ["", "%"],
    )


# -- regular expressions -------------------------------------------------------------


def test_regex_uses_the_regexp_operator():
    assert_sql(
        Tag.objects.filter(name__regex="^a.*z$"),
        f'{FROM_TAG} WHERE "shared_tag"."name" REGEXP %s',
        ["^a.*z$"],
        postgresql=(f'{FROM_TAG} WHERE ("shared_tag"."name")::text ~ %s', ["^a.*z$"]),
    )


def test_iregex_prefixes_the_case_insensitive_flag_in_sql():
    # || binds tighter than REGEXP: the pattern is '(?i)' || value.
    assert_sql(
        Tag.objects.filter(name__iregex="^a"),
        f'{FROM_TAG} WHERE "shared_tag"."name" REGEXP \'(?i)\' || %s',
        ["^a"],
        postgresql=(f'{FROM_TAG} WHERE ("shared_tag"."name")::text ~* %s', ["^a"]),
    )


def test_regex_needs_a_str_pattern():
    with pytest.raises(TypeError, match="str pattern"):
        Tag.objects.filter(name__regex=5)


# -- in --------------------------------------------------------------------------------


def test_in_binds_one_parameter_per_value():
    assert_sql(
        Tag.objects.filter(pk__in=[3, 1, 2]),
        f'{FROM_TAG} WHERE "shared_tag"."id" IN (%s, %s, %s)',
        [3, 1, 2],
    )


def test_in_drops_duplicates_and_none():
    assert_sql(
        Tag.objects.filter(pk__in=[1, 2, 2, None, 1]),
        f'{FROM_TAG} WHERE "shared_tag"."id" IN (%s, %s)',
        [1, 2],
    )


def test_in_accepts_any_iterable():
    assert_sql(
        Tag.objects.filter(name__in=(n for n in ["a", "b"])),
        f'{FROM_TAG} WHERE "shared_tag"."name" IN (%s, %s)',
        ["a", "b"],
    )


def test_in_with_a_string_is_refused():
    with pytest.raises(TypeError, match="iterable"):
        Tag.objects.filter(name__in="abc")


def test_in_with_an_empty_list_matches_nothing_without_sql():
    with pytest.raises(EmptyResultSet):
        Tag.objects.filter(pk__in=[]).query.sql_with_params()


def test_in_with_only_none_matches_nothing():
    with pytest.raises(EmptyResultSet):
        Tag.objects.filter(pk__in=[None]).query.sql_with_params()


def test_in_empty_list_runs_no_query():
    qs = Tag.objects.filter(pk__in=[])
    assert list(qs) == []
    assert qs.count() == 0
    assert qs.exists() is False
    assert qs.update(name="x") == 0
    assert qs.aggregate(n=orm.Count("id")) == {"n": 0}
    assert orm.connections["default"].connection is None


def test_in_with_a_queryset_selects_its_primary_key():
    assert_sql(
        Book.objects.filter(author__in=Author.objects.filter(name="x")),
        f'{FROM_BOOK} WHERE "shared_book"."author_id" IN '
        '(SELECT "U1_0"."id" AS "pk" FROM "shared_author" "U1_0" WHERE "U1_0"."name" = %s)',
        ["x"],
    )


def test_in_with_a_values_queryset_selects_that_column():
    assert_sql(
        Author.objects.filter(pk__in=Book.objects.filter(pages=2).values("author")),
        f'SELECT {AUTHOR_COLS} FROM "shared_author" WHERE "shared_author"."id" IN '
        '(SELECT "U1_0"."author_id" AS "author" FROM "shared_book" "U1_0" WHERE "U1_0"."pages" = %s)',
        [2],
    )


def test_in_subquery_drops_ordering_but_keeps_a_slice_with_its_ordering():
    assert_sql(
        Author.objects.filter(pk__in=Book.objects.order_by("pages").values("author")),
        f'SELECT {AUTHOR_COLS} FROM "shared_author" WHERE "shared_author"."id" IN '
        '(SELECT "U1_0"."author_id" AS "author" FROM "shared_book" "U1_0")',
    )
    assert_sql(
        Author.objects.filter(pk__in=Book.objects.order_by("pages").values("author")[:5]),
        f'SELECT {AUTHOR_COLS} FROM "shared_author" WHERE "shared_author"."id" IN '
        '(SELECT "U1_0"."author_id" AS "author" FROM "shared_book" "U1_0" '
        'ORDER BY "U1_0"."pages" ASC LIMIT 5)',
    )


def test_in_with_more_than_500_values_binds_one_json_array():
    values = list(range(1, 602))
    assert_sql(
        Tag.objects.filter(pk__in=values),
        f'{FROM_TAG} WHERE "shared_tag"."id" IN (SELECT value FROM json_each(%s))',
        [json.dumps(values)],
        postgresql=(f'{FROM_TAG} WHERE "shared_tag"."id" IN (SELECT unnest(%s))', [values]),
    )


def test_in_with_exactly_500_values_still_binds_each():
    sql, params = Tag.objects.filter(pk__in=range(500)).query.sql_with_params()
    assert sql.endswith("IN (" + ", ".join(["%s"] * 500) + ")")
    assert list(params) == list(range(500))


def test_in_with_many_prepared_values_puts_the_prepared_form_in_the_array():
    days = [datetime.date(2020, 1, 1) + datetime.timedelta(days=n) for n in range(501)]
    assert_sql(
        Book.objects.filter(published__in=days),
        f'{FROM_BOOK} WHERE "shared_book"."published" IN (SELECT value FROM json_each(%s))',
        [json.dumps([d.isoformat() for d in days])],
        postgresql=(f'{FROM_BOOK} WHERE "shared_book"."published" IN (SELECT unnest(%s))', [days]),
    )


# -- integer values that no column can hold -------------------------------------------


def test_exact_beyond_the_column_range_matches_nothing_without_sql():
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(i=2**70).query.sql_with_params()


def test_exact_beyond_the_column_range_runs_no_query():
    assert list(Number.objects.filter(i=2**70)) == []
    assert Number.objects.filter(i=2**70).count() == 0
    assert orm.connections["default"].connection is None


def test_lt_above_the_column_range_drops_the_condition_on_a_not_null_column():
    assert_sql(Number.objects.filter(i__lt=2**70), FROM_NUMBER)


def test_lte_above_the_range_drops_the_condition_and_gt_matches_nothing():
    assert_sql(Number.objects.filter(i__lte=2**31), FROM_NUMBER)
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(i__gt=2**31).query.sql_with_params()


def test_gte_below_the_range_drops_the_condition_and_lte_matches_nothing():
    assert_sql(Number.objects.filter(i__gte=-(2**70)), FROM_NUMBER)
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(i__lte=-(2**70)).query.sql_with_params()


def test_range_limits_follow_the_column_type():
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(small=40000).query.sql_with_params()
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(positive=-1).query.sql_with_params()
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(big=2**63).query.sql_with_params()
    assert_sql(
        Number.objects.filter(big=2**63 - 1),
        f'{FROM_NUMBER} WHERE "sqltests_number"."big" = %s',
        [2**63 - 1],
    )


def test_the_range_applies_through_a_foreign_key():
    with pytest.raises(EmptyResultSet):
        Book.objects.filter(author=2**70).query.sql_with_params()


def test_exclude_of_an_impossible_value_drops_the_condition():
    assert_sql(Number.objects.exclude(i=2**70), FROM_NUMBER)


def test_in_drops_values_beyond_the_range():
    assert_sql(
        Number.objects.filter(i__in=[1, 2**70]),
        f'{FROM_NUMBER} WHERE "sqltests_number"."i" IN (%s)',
        [1],
    )
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(i__in=[2**70]).query.sql_with_params()


def test_impossible_branch_of_an_or_is_dropped():
    assert_sql(
        Number.objects.filter(orm.Q(i=2**70) | orm.Q(big=1)),
        f'{FROM_NUMBER} WHERE "sqltests_number"."big" = %s',
        [1],
    )


# -- dates -------------------------------------------------------------------------------


def test_date_casts_the_datetime_to_its_utc_date():
    assert_sql(
        Book.objects.filter(created__date=datetime.date(2020, 1, 2)),
        f'{FROM_BOOK} WHERE date("shared_book"."created") = %s',
        ["2020-01-02"],
        postgresql=(
            f'{FROM_BOOK} WHERE ("shared_book"."created" AT TIME ZONE \'UTC\')::date = %s',
            [datetime.date(2020, 1, 2)],
        ),
    )


def test_date_of_an_aware_datetime_value_uses_its_utc_date():
    value = datetime.datetime(
        2020, 1, 2, 23, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-2))
    )
    assert_sql(
        Book.objects.filter(created__date=value),
        f'{FROM_BOOK} WHERE date("shared_book"."created") = %s',
        ["2020-01-03"],
        postgresql=(
            f'{FROM_BOOK} WHERE ("shared_book"."created" AT TIME ZONE \'UTC\')::date = %s',
            [datetime.date(2020, 1, 3)],
        ),
    )


def test_date_then_comparison():
    assert_sql(
        Book.objects.filter(created__date__gte="2020-01-02"),
        f'{FROM_BOOK} WHERE date("shared_book"."created") >= %s',
        ["2020-01-02"],
        postgresql=(
            f'{FROM_BOOK} WHERE ("shared_book"."created" AT TIME ZONE \'UTC\')::date >= %s',
            [datetime.date(2020, 1, 2)],
        ),
    )


DATE_PARTS = [("year", "%%Y"), ("month", "%%m"), ("day", "%%d")]


@pytest.mark.parametrize(("part", "fmt"), DATE_PARTS)
def test_date_part_lookups_on_a_datetime(part, fmt):
    assert_sql(
        Book.objects.filter(**{f"created__{part}": 2}),
        f'{FROM_BOOK} WHERE CAST(strftime(\'{fmt}\', "shared_book"."created") AS INTEGER) = %s',
        [2],
        postgresql=(
            f'{FROM_BOOK} WHERE CAST(EXTRACT({part.upper()} FROM "shared_book"."created") AS integer) = %s',
            [2],
        ),
    )


@pytest.mark.parametrize(("part", "fmt"), DATE_PARTS)
def test_date_part_lookups_on_a_date(part, fmt):
    assert_sql(
        Book.objects.filter(**{f"published__{part}": 3}),
        f'{FROM_BOOK} WHERE CAST(strftime(\'{fmt}\', "shared_book"."published") AS INTEGER) = %s',
        [3],
        postgresql=(
            f'{FROM_BOOK} WHERE CAST(EXTRACT({part.upper()} FROM "shared_book"."published") AS integer) = %s',
            [3],
        ),
    )


def test_year_then_comparison_and_in():
    assert_sql(
        Book.objects.filter(created__year__gte=2020),
        f'{FROM_BOOK} WHERE CAST(strftime(\'%%Y\', "shared_book"."created") AS INTEGER) >= %s',
        [2020],
        postgresql=(
            f'{FROM_BOOK} WHERE CAST(EXTRACT(YEAR FROM "shared_book"."created") AS integer) >= %s',
            [2020],
        ),
    )
    assert_sql(
        Book.objects.filter(published__year__in=[2019, 2020]),
        f'{FROM_BOOK} WHERE CAST(strftime(\'%%Y\', "shared_book"."published") AS INTEGER) IN (%s, %s)',
        [2019, 2020],
        postgresql=(
            f'{FROM_BOOK} WHERE CAST(EXTRACT(YEAR FROM "shared_book"."published") AS integer) IN (%s, %s)',
            [2019, 2020],
        ),
    )


def test_week_day_is_one_based_from_sunday():
    assert_sql(
        Book.objects.filter(created__week_day=2),
        f'{FROM_BOOK} WHERE (CAST(strftime(\'%%w\', "shared_book"."created") AS INTEGER) + 1) = %s',
        [2],
        postgresql=(
            f'{FROM_BOOK} WHERE (CAST(EXTRACT(DOW FROM "shared_book"."created") AS integer) + 1) = %s',
            [2],
        ),
    )


def test_year_value_is_an_integer_parameter():
    assert_sql(
        Book.objects.filter(published__year="2020"),
        f'{FROM_BOOK} WHERE CAST(strftime(\'%%Y\', "shared_book"."published") AS INTEGER) = %s',
        [2020],
        postgresql=(
            f'{FROM_BOOK} WHERE CAST(EXTRACT(YEAR FROM "shared_book"."published") AS integer) = %s',
            [2020],
        ),
    )


def test_unknown_lookup_lists_the_choices():
    with pytest.raises(orm.FieldError, match="choose from: .*icontains"):
        Tag.objects.filter(name__like="x")


def test_datetime_value_bound_for_exact():
    assert_sql(
        Book.objects.filter(created=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
        f'{FROM_BOOK} WHERE "shared_book"."created" = %s',
        ["2020-01-02 03:04:05.000000"],
        postgresql=(
            f'{FROM_BOOK} WHERE "shared_book"."created" = %s',
            [datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)],
        ),
    )


FROM_AUTHOR = f'SELECT {AUTHOR_COLS} FROM "shared_author"'

DATA = '"shared_author"."data"'


# -- once broken: Expressions inside an ``in`` list / JSON key comparison are bound as values -----------
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
        postgresql=(
            f'{FROM_AUTHOR} WHERE ({DATA} -> %s) = to_jsonb("shared_author"."name")',
            ["owner"],
        ),
    )


# -- once broken: NULL handling of negated and always-true conditions -----------------------------------


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


# -- once broken: range with an integer the column cannot hold -----------------------------------------


def test_range_beyond_the_column_range_binds_no_oversized_integer():
    # Actual: BETWEEN %s AND %s with params (0, 2**70); sqlite3 raises OverflowError ("Python
    # int too large to convert to SQLite INTEGER") at execute time. The other integer lookups
    # (exact, lt, gt, in) already fold such values away.
    sql, params = Number.objects.filter(i__range=(0, 2**70)).query.sql_with_params()
    low, high = Number._meta.get_field("i").range
    assert all(low <= p <= high for p in params if isinstance(p, int))
    with pytest.raises(EmptyResultSet):
        Number.objects.filter(i__range=(2**70, 2**71)).query.sql_with_params()


# -- once broken: ``in`` with a multi-column values() queryset -----------------------------------------


def test_in_with_a_multi_column_queryset_is_refused_early():
    # Actual: compiles to IN (SELECT "U1_0"."author_id" AS "author", "U1_0"."title" AS "title"
    # ...), which SQLite rejects at execution ("sub-select returns 2 columns - expected 1").
    with pytest.raises(TypeError):
        Author.objects.filter(pk__in=Book.objects.values("author", "title"))
