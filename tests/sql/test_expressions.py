"""Q trees, F arithmetic, Value, functions, Case/When and subqueries (Exists, OuterRef, Subquery)."""

from __future__ import annotations

import datetime
import decimal

import pytest

import orm
from orm import (
    Case,
    Coalesce,
    Exists,
    F,
    Length,
    Lower,
    OuterRef,
    Q,
    Subquery,
    Upper,
    Value,
    When,
)
from orm.exceptions import EmptyResultSet
from tests.sql.helpers import AUTHOR_COLS, BOOK_COLS, assert_sql
from tests.sql.models import Author, Book, Publisher, Tag

FROM_AUTHOR = f'SELECT {AUTHOR_COLS} FROM "shared_author"'
FROM_BOOK = f'SELECT {BOOK_COLS} FROM "shared_book"'
NAME = '"shared_author"."name"'
AGE = '"shared_author"."age"'
PAGES = '"shared_book"."pages"'


# -- Q ---------------------------------------------------------------------------------


def test_q_or():
    assert_sql(
        Author.objects.filter(Q(name="a") | Q(name="b")),
        f"{FROM_AUTHOR} WHERE ({NAME} = %s OR {NAME} = %s)",
        ["a", "b"],
    )


def test_q_and():
    assert_sql(
        Author.objects.filter(Q(name="a") & Q(age=3)),
        f"{FROM_AUTHOR} WHERE ({NAME} = %s AND {AGE} = %s)",
        ["a", 3],
    )


def test_q_keyword_arguments_are_anded_in_sorted_order():
    assert_sql(
        Author.objects.filter(Q(name="a", age=3)),
        f"{FROM_AUTHOR} WHERE ({AGE} = %s AND {NAME} = %s)",
        [3, "a"],
    )


def test_or_inside_and_is_parenthesised():
    assert_sql(
        Author.objects.filter(Q(name="a") | Q(age=3), name="c"),
        f"{FROM_AUTHOR} WHERE (({NAME} = %s OR {AGE} = %s) AND {NAME} = %s)",
        ["a", 3, "c"],
    )


def test_successive_filters_are_anded():
    assert_sql(
        Author.objects.filter(name="a").filter(age=3),
        f"{FROM_AUTHOR} WHERE ({NAME} = %s AND {AGE} = %s)",
        ["a", 3],
    )


def test_negated_q():
    assert_sql(Author.objects.filter(~Q(name="a")), f"{FROM_AUTHOR} WHERE NOT ({NAME} = %s)", ["a"])


def test_negated_child_of_an_or():
    assert_sql(
        Author.objects.filter(~Q(name="a") | Q(age=3)),
        f"{FROM_AUTHOR} WHERE (NOT ({NAME} = %s) OR {AGE} = %s)",
        ["a", 3],
    )


def test_negated_or():
    assert_sql(
        Author.objects.filter(~(Q(name="a") | Q(age=3))),
        f"{FROM_AUTHOR} WHERE NOT ({NAME} = %s OR ({AGE} = %s AND {AGE} IS NOT NULL))",
        ["a", 3],
    )


def test_xor_counts_true_children_modulo_two():
    assert_sql(
        Author.objects.filter(Q(name="a") ^ Q(age=3)),
        f"{FROM_AUTHOR} WHERE ((CASE WHEN {NAME} = %s THEN 1 ELSE 0 END"
        f" + CASE WHEN {AGE} = %s THEN 1 ELSE 0 END) %% 2) = 1",
        ["a", 3],
    )


def test_negated_xor():
    assert_sql(
        Author.objects.filter(~(Q(name="a") ^ Q(age=3))),
        f"{FROM_AUTHOR} WHERE NOT (((CASE WHEN {NAME} = %s THEN 1 ELSE 0 END"
        f" + CASE WHEN ({AGE} = %s AND {AGE} IS NOT NULL) THEN 1 ELSE 0 END) %% 2) = 1)",
        ["a", 3],
    )


def test_xor_with_an_impossible_child_compiles_it_as_false():
    assert_sql(
        Author.objects.filter(Q(name="a") ^ Q(pk__in=[])),
        f"{FROM_AUTHOR} WHERE ((CASE WHEN {NAME} = %s THEN 1 ELSE 0 END"
        " + CASE WHEN 1 = 0 THEN 1 ELSE 0 END) %% 2) = 1",
        ["a"],
    )


def test_impossible_branch_of_an_or_is_dropped():
    assert_sql(
        Author.objects.filter(Q(name="a") | Q(pk__in=[])), f"{FROM_AUTHOR} WHERE {NAME} = %s", ["a"]
    )


def test_impossible_branch_of_an_and_empties_the_query():
    with pytest.raises(EmptyResultSet):
        Author.objects.filter(Q(name="a") & Q(pk__in=[])).query.sql_with_params()


def test_negated_impossible_condition_matches_everything():
    assert_sql(Author.objects.filter(~Q(pk__in=[])), FROM_AUTHOR)
    assert_sql(Author.objects.exclude(pk__in=[]), FROM_AUTHOR)


def test_empty_q_adds_no_condition():
    assert_sql(Author.objects.filter(Q()), FROM_AUTHOR)


def test_q_connector_is_allow_listed():
    with pytest.raises(ValueError, match="Invalid Q connector"):
        Q(name="a", _connector="OR 1=1 --")


def test_filter_refuses_connector_keywords():
    with pytest.raises(TypeError, match="_connector"):
        Author.objects.filter(_connector="OR")


# -- F and arithmetic ------------------------------------------------------------------


def test_f_compares_two_columns_without_parameters():
    assert_sql(
        Book.objects.filter(pages__gt=F("rating")),
        f'{FROM_BOOK} WHERE {PAGES} > "shared_book"."rating"',
    )


def test_f_plus_a_number_binds_the_number():
    assert_sql(
        Book.objects.filter(pages=F("pages") + 1),
        f"{FROM_BOOK} WHERE {PAGES} = ({PAGES} + %s)",
        [1],
    )


def test_f_arithmetic_nests_with_parentheses():
    assert_sql(
        Book.objects.filter(pages__gt=F("pages") * 2 - F("rating") / 3),
        f'{FROM_BOOK} WHERE {PAGES} > (({PAGES} * %s) - ("shared_book"."rating" / %s))',
        [2, 3],
    )


def test_f_modulo_is_an_escaped_percent():
    assert_sql(
        Book.objects.filter(pages__gt=F("pages") % 3),
        f"{FROM_BOOK} WHERE {PAGES} > ({PAGES} %% %s)",
        [3],
    )


def test_reversed_operands_and_negation():
    assert_sql(
        Book.objects.filter(pages__gt=1 + F("pages")),
        f"{FROM_BOOK} WHERE {PAGES} > (%s + {PAGES})",
        [1],
    )
    assert_sql(
        Book.objects.filter(pages__gt=-F("pages")),
        f"{FROM_BOOK} WHERE {PAGES} > (%s - {PAGES})",
        [0],
    )


def test_f_across_a_relation_joins():
    assert_sql(
        Book.objects.filter(title=F("author__name")),
        f'{FROM_BOOK} INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id") '
        f'WHERE "shared_book"."title" = {NAME}',
    )


def test_f_to_an_unknown_field_lists_the_choices():
    with pytest.raises(orm.FieldError, match="Choices are"):
        Book.objects.filter(pages=F("nope"))


def test_f_in_range():
    assert_sql(
        Book.objects.filter(pages__range=(F("rating"), 100)),
        f'{FROM_BOOK} WHERE {PAGES} BETWEEN "shared_book"."rating" AND %s',
        [100],
    )


# -- Value ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "param"),
    [
        (3, 3),
        ("a'b", "a'b"),
        (True, True),
        (1.5, 1.5),
        (decimal.Decimal("1.50"), "1.50"),
        (datetime.date(2020, 1, 2), "2020-01-02"),
        (datetime.datetime(2020, 1, 2, 3, 4, tzinfo=datetime.UTC), "2020-01-02 03:04:00.000000"),
        (datetime.timedelta(seconds=2), 2_000_000),
        (b"\x00\x01", b"\x00\x01"),
    ],
)
def test_value_is_always_a_bound_parameter(value, param):
    # psycopg adapts Decimal, date, datetime and timedelta itself: PostgreSQL
    # gets the value as it is, SQLite its text or number.
    pg_param = (
        value if isinstance(value, decimal.Decimal | datetime.date | datetime.timedelta) else param
    )
    assert_sql(
        Book.objects.annotate(x=Value(value)).values("x"),
        'SELECT %s AS "x" FROM "shared_book"',
        [param],
        postgresql=('SELECT %s AS "x" FROM "shared_book"', [pg_param]),
    )


def test_value_none_is_null():
    assert_sql(
        Book.objects.annotate(x=Value(None)).values("x"), 'SELECT NULL AS "x" FROM "shared_book"'
    )


def test_value_in_arithmetic():
    assert_sql(
        Book.objects.annotate(x=F("pages") + Value(2)).values("x"),
        f'SELECT ({PAGES} + %s) AS "x" FROM "shared_book"',
        [2],
    )


def test_a_plain_value_as_annotation_is_refused():
    with pytest.raises(TypeError, match="wrap values in Value"):
        Book.objects.annotate(x=3)


def test_annotation_alias_is_validated():
    with pytest.raises(ValueError, match="Invalid alias"):
        Book.objects.annotate(**{'x" FROM t; --': Value(1)})


# -- functions ---------------------------------------------------------------------------


def test_lower_upper_length():
    assert_sql(
        Author.objects.annotate(lo=Lower("name"), up=Upper("name"), n=Length("name")).values(
            "lo", "up", "n"
        ),
        f'SELECT LOWER({NAME}) AS "lo", UPPER({NAME}) AS "up", LENGTH({NAME}) AS "n" FROM "shared_author"',
    )


def test_function_in_a_filter():
    assert_sql(
        Author.objects.annotate(lo=Lower("name")).filter(lo="x").values("name"),
        f'SELECT {NAME} AS "name" FROM "shared_author" WHERE LOWER({NAME}) = %s',
        ["x"],
    )


def test_length_then_comparison():
    assert_sql(
        Author.objects.annotate(n=Length("name")).filter(n__gt=3).values("name"),
        f'SELECT {NAME} AS "name" FROM "shared_author" WHERE LENGTH({NAME}) > %s',
        [3],
    )


def test_coalesce():
    assert_sql(
        Book.objects.annotate(r=Coalesce("rating", "pages", Value(0))).values("r"),
        f'SELECT COALESCE("shared_book"."rating", {PAGES}, %s) AS "r" FROM "shared_book"',
        [0],
    )


def test_coalesce_needs_two_expressions():
    with pytest.raises(ValueError, match="at least two"):
        Coalesce("rating")


def test_function_over_a_related_column():
    assert_sql(
        Book.objects.annotate(a=Upper("author__name")).values("a"),
        f'SELECT UPPER({NAME}) AS "a" FROM "shared_book" '
        'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id")',
    )


# -- Case / When -------------------------------------------------------------------------


def test_case_with_several_whens_and_a_default():
    assert_sql(
        Book.objects.annotate(
            size=Case(
                When(pages__gt=300, then=Value("long")),
                When(pages__gt=100, then=Value("medium")),
                default=Value("short"),
            )
        ).values("size"),
        f'SELECT CASE WHEN {PAGES} > %s THEN %s WHEN {PAGES} > %s THEN %s ELSE %s END AS "size" '
        'FROM "shared_book"',
        [300, "long", 100, "medium", "short"],
    )


def test_case_without_default_is_else_null():
    assert_sql(
        Book.objects.annotate(size=Case(When(pages__gt=300, then=Value("long")))).values("size"),
        f'SELECT CASE WHEN {PAGES} > %s THEN %s ELSE NULL END AS "size" FROM "shared_book"',
        [300, "long"],
    )


def test_when_with_a_q_and_a_column_result():
    assert_sql(
        Book.objects.annotate(
            x=Case(When(Q(pages__gt=300) | Q(rating__gte=4), then=F("pages")), default=0)
        ).values("x"),
        f'SELECT CASE WHEN ({PAGES} > %s OR "shared_book"."rating" >= %s) THEN {PAGES} ELSE %s END AS "x" '
        'FROM "shared_book"',
        [300, 4.0, 0],
    )


def test_when_that_can_never_match_is_dropped():
    assert_sql(
        Book.objects.annotate(x=Case(When(pk__in=[], then=Value(1)), default=Value(2))).values("x"),
        'SELECT %s AS "x" FROM "shared_book"',
        [2],
    )


def test_when_that_always_matches_short_circuits():
    assert_sql(
        Book.objects.annotate(
            x=Case(When(pages__lt=2**70, then=Value(1)), default=Value(2))
        ).values("x"),
        'SELECT %s AS "x" FROM "shared_book"',
        [1],
    )


def test_case_in_a_filter():
    assert_sql(
        Book.objects.filter(pages=Case(When(rating__gt=1, then=Value(5)), default=Value(0))).values(
            "title"
        ),
        f'SELECT "shared_book"."title" AS "title" FROM "shared_book" '
        f'WHERE {PAGES} = CASE WHEN "shared_book"."rating" > %s THEN %s ELSE %s END',
        [1.0, 5, 0],
    )


def test_when_needs_a_condition():
    with pytest.raises(TypeError, match="When"):
        When(then=1)


# -- Exists / OuterRef / Subquery ---------------------------------------------------------


def test_exists_with_outer_ref_renames_inner_aliases():
    assert_sql(
        Author.objects.filter(Exists(Book.objects.filter(author=OuterRef("pk"), pages__gt=100))),
        f'{FROM_AUTHOR} WHERE EXISTS (SELECT %s AS "a" FROM "shared_book" "U1_0" '
        'WHERE ("U1_0"."author_id" = "shared_author"."id" AND "U1_0"."pages" > %s) LIMIT 1)',
        [1, 100],
    )


def test_negated_exists():
    assert_sql(
        Author.objects.filter(~Exists(Book.objects.filter(author=OuterRef("pk")))),
        f'{FROM_AUTHOR} WHERE NOT EXISTS (SELECT %s AS "a" FROM "shared_book" "U1_0" '
        'WHERE "U1_0"."author_id" = "shared_author"."id" LIMIT 1)',
        [1],
    )


def test_exists_drops_the_inner_default_ordering():
    assert_sql(
        Author.objects.filter(Exists(Publisher.objects.filter(city=OuterRef("hometown")))),
        f'{FROM_AUTHOR} WHERE EXISTS (SELECT %s AS "a" FROM "shared_publisher" "U1_0" '
        'WHERE "U1_0"."city_id" = "shared_author"."hometown_id" LIMIT 1)',
        [1],
    )


def test_exists_as_an_annotation():
    assert_sql(
        Author.objects.annotate(has=Exists(Book.objects.filter(author=OuterRef("pk")))).values(
            "has"
        ),
        'SELECT EXISTS (SELECT %s AS "a" FROM "shared_book" "U1_0" '
        'WHERE "U1_0"."author_id" = "shared_author"."id" LIMIT 1) AS "has" FROM "shared_author"',
        [1],
    )


def test_exists_inner_joins_use_inner_aliases():
    assert_sql(
        Author.objects.filter(Exists(Book.objects.filter(author=OuterRef("pk"), tags__name="x"))),
        f'{FROM_AUTHOR} WHERE EXISTS (SELECT %s AS "a" FROM "shared_book" "U1_0" '
        'LEFT OUTER JOIN "shared_book_tags" "U1_1" ON ("U1_0"."id" = "U1_1"."book_id") '
        'LEFT OUTER JOIN "shared_tag" "U1_2" ON ("U1_1"."tag_id" = "U1_2"."id") '
        'WHERE ("U1_0"."author_id" = "shared_author"."id" AND "U1_2"."name" = %s) LIMIT 1)',
        [1, "x"],
    )


def test_same_table_inside_and_outside_never_collides():
    # The inner author join is "U1_1"; the outer author stays "shared_author".
    assert_sql(
        Author.objects.filter(
            Exists(
                Book.objects.filter(author=OuterRef("pk"), editor__hometown=OuterRef("hometown"))
            )
        ),
        f'{FROM_AUTHOR} WHERE EXISTS (SELECT %s AS "a" FROM "shared_book" "U1_0" '
        'LEFT OUTER JOIN "shared_author" "U1_1" ON ("U1_0"."editor_id" = "U1_1"."id") '
        'WHERE ("U1_0"."author_id" = "shared_author"."id" '
        'AND "U1_1"."hometown_id" = "shared_author"."hometown_id") LIMIT 1)',
        [1],
    )


def test_nested_exists_uses_depth_numbered_aliases():
    inner = Tag.objects.filter(books=OuterRef("pk"), name="t")
    middle = Book.objects.filter(author=OuterRef("pk")).filter(Exists(inner))
    assert_sql(
        Author.objects.filter(Exists(middle)),
        f'{FROM_AUTHOR} WHERE EXISTS (SELECT %s AS "a" FROM "shared_book" "U1_0" '
        'WHERE ("U1_0"."author_id" = "shared_author"."id" AND EXISTS (SELECT %s AS "a" '
        'FROM "shared_tag" "U2_0" '
        'LEFT OUTER JOIN "shared_book_tags" "U2_1" ON ("U2_0"."id" = "U2_1"."tag_id") '
        'LEFT OUTER JOIN "shared_book" "U2_2" ON ("U2_1"."book_id" = "U2_2"."id") '
        'WHERE ("U2_2"."id" = "U1_0"."id" AND "U2_0"."name" = %s) LIMIT 1)) LIMIT 1)',
        [1, 1, "t"],
    )


def test_exists_with_outer_joins_on_the_outside():
    assert_sql(
        Author.objects.filter(books__pages=1).filter(
            Exists(Book.objects.filter(author=OuterRef("pk")))
        ),
        f'{FROM_AUTHOR} LEFT OUTER JOIN "shared_book" ON ("shared_author"."id" = "shared_book"."author_id") '
        'WHERE ("shared_book"."pages" = %s AND EXISTS (SELECT %s AS "a" FROM "shared_book" "U1_0" '
        'WHERE "U1_0"."author_id" = "shared_author"."id" LIMIT 1))',
        [1, 1],
    )


def test_exists_in_an_or():
    assert_sql(
        Author.objects.filter(
            Q(Exists(Book.objects.filter(author=OuterRef("pk")))) | Q(name="x")
        ).values("name"),
        f'SELECT {NAME} AS "name" FROM "shared_author" WHERE (EXISTS (SELECT %s AS "a" '
        'FROM "shared_book" "U1_0" WHERE "U1_0"."author_id" = "shared_author"."id" LIMIT 1) '
        f"OR {NAME} = %s)",
        [1, "x"],
    )


def test_exists_in_a_when():
    assert_sql(
        Author.objects.annotate(
            x=Case(
                When(Exists(Book.objects.filter(author=OuterRef("pk"))), then=Value(1)),
                default=Value(0),
            )
        ).values("x"),
        'SELECT CASE WHEN EXISTS (SELECT %s AS "a" FROM "shared_book" "U1_0" '
        'WHERE "U1_0"."author_id" = "shared_author"."id" LIMIT 1) THEN %s ELSE %s END AS "x" '
        'FROM "shared_author"',
        [1, 1, 0],
    )


def test_exists_that_can_never_match_empties_a_filter():
    with pytest.raises(EmptyResultSet):
        Author.objects.filter(Exists(Book.objects.filter(pk__in=[]))).query.sql_with_params()


def test_not_exists_that_can_never_match_drops_the_condition():
    assert_sql(
        Author.objects.filter(~Exists(Book.objects.filter(author=OuterRef("pk"), pk__in=[]))),
        FROM_AUTHOR,
    )


def test_subquery_annotation_keeps_its_ordering_and_limit():
    latest = Book.objects.filter(author=OuterRef("pk")).order_by("-published").values("title")[:1]
    assert_sql(
        Author.objects.annotate(latest=Subquery(latest)).values("name", "latest"),
        f'SELECT {NAME} AS "name", (SELECT "U1_0"."title" AS "title" FROM "shared_book" "U1_0" '
        'WHERE "U1_0"."author_id" = "shared_author"."id" ORDER BY "U1_0"."published" DESC LIMIT 1) '
        'AS "latest" FROM "shared_author"',
    )


def test_subquery_in_a_filter():
    best = Book.objects.filter(author=OuterRef("author")).order_by("-pages").values("pages")[:1]
    assert_sql(
        Book.objects.filter(pages=Subquery(best)).values("title"),
        f'SELECT "shared_book"."title" AS "title" FROM "shared_book" WHERE {PAGES} = '
        '(SELECT "U1_0"."pages" AS "pages" FROM "shared_book" "U1_0" '
        'WHERE "U1_0"."author_id" = "shared_book"."author_id" ORDER BY "U1_0"."pages" DESC LIMIT 1)',
    )


def test_outer_ref_across_a_relation_joins_the_outer_query():
    inner = Author.objects.filter(name=OuterRef("editor__name")).values("id")[:1]
    assert_sql(
        Book.objects.annotate(x=Subquery(inner)).values("x"),
        'SELECT (SELECT "U1_0"."id" AS "id" FROM "shared_author" "U1_0" '
        f'WHERE "U1_0"."name" = {NAME} LIMIT 1) AS "x" FROM "shared_book" '
        'LEFT OUTER JOIN "shared_author" ON ("shared_book"."editor_id" = "shared_author"."id")',
    )


def test_outer_ref_outside_a_subquery_is_refused():
    with pytest.raises(ValueError, match="outer query"):
        Book.objects.filter(author=OuterRef("pk")).query.sql_with_params()


# -- once broken: An empty subquery in the SELECT list empties the whole query ---------------------------
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
