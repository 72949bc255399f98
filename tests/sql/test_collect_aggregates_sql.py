"""Compile-only SQL of StringAgg/ArrayAgg/JSONBAgg, F slicing, conditions as values and
user-defined Func/Aggregate subclasses (issue 17 item 5), for SQLite and PostgreSQL.

Results on both backends: tests/integration/test_collect_aggregates.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import ArrayAgg, F, JSONBAgg, Q, StringAgg
from orm.exceptions import NotSupportedError
from orm.lookups import GreaterThan
from tests.sql.helpers import ASSERTED_SEPARATELY, assert_sql
from tests.sql.models import Author, Book

JOIN = (
    'FROM "shared_author" LEFT OUTER JOIN "shared_book" '
    'ON ("shared_author"."id" = "shared_book"."author_id") GROUP BY "shared_author"."id"'
)
TITLE = '"shared_book"."title"'
PAGES = '"shared_book"."pages"'


def on_pg(pg: Any, qs: Any) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(connection=pg).as_sql()
    return sql, list(params)


def per_author(**annotations: Any) -> Any:
    return Author.objects.annotate(**annotations).values_list(*annotations)


# -- StringAgg ------------------------------------------------------------------------


def test_string_agg_is_group_concat_on_sqlite_and_string_agg_on_postgresql(pg: Any) -> None:
    qs = per_author(t=StringAgg("books__title", "; "))
    assert_sql(
        qs,
        f'SELECT GROUP_CONCAT({TITLE}, %s) AS "t" {JOIN}',
        ["; "],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(on_pg(pg, qs), f'SELECT STRING_AGG({TITLE}, %s) AS "t" {JOIN}', ["; "])


def test_string_agg_distinct_filter_and_default(pg: Any) -> None:
    qs = per_author(
        t=StringAgg("books__title", ",", distinct=True, filter=Q(books__pages__gt=1), default="")
    )
    # SQLite's group_concat(DISTINCT x) takes no separator; "," is its own.
    assert_sql(
        qs,
        f"SELECT COALESCE(GROUP_CONCAT(DISTINCT {TITLE}) FILTER (WHERE {PAGES} > %s), %s) "
        f'AS "t" {JOIN}',
        [1, ""],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(
        on_pg(pg, qs),
        f"SELECT COALESCE(STRING_AGG(DISTINCT {TITLE}, %s) FILTER (WHERE {PAGES} > %s), "
        f'%s) AS "t" {JOIN}',
        [",", 1, ""],
    )


def test_string_agg_distinct_with_another_delimiter_is_refused_on_sqlite(pg: Any) -> None:
    qs = per_author(t=StringAgg("books__title", ";", distinct=True))
    with pytest.raises(NotSupportedError, match="use delimiter=','"):
        qs.query.sql_with_params()
    assert_sql(on_pg(pg, qs), f'SELECT STRING_AGG(DISTINCT {TITLE}, %s) AS "t" {JOIN}', [";"])


def test_order_by_goes_inside_the_call(pg: Any) -> None:
    qs = per_author(
        t=StringAgg("books__title", "|", order_by=("-books__pages", F("books__title").asc()))
    )
    assert_sql(
        on_pg(pg, qs),
        f'SELECT STRING_AGG({TITLE}, %s ORDER BY {PAGES} DESC, {TITLE} ASC) AS "t" {JOIN}',
        ["|"],
    )
    if orm.connection.features.supports_aggregate_order_by_clause:
        assert_sql(
            qs,
            f'SELECT GROUP_CONCAT({TITLE}, %s ORDER BY {PAGES} DESC, {TITLE} ASC) AS "t" {JOIN}',
            ["|"],
            postgresql=ASSERTED_SEPARATELY,
        )
    else:
        with pytest.raises(NotSupportedError, match=r"SQLite 3\.44\+"):
            qs.query.sql_with_params()


def test_ordering_is_django_5_2s_name_for_order_by(pg: Any) -> None:
    qs = per_author(t=ArrayAgg("books__pages", ordering="-books__pages"))
    assert_sql(on_pg(pg, qs), f'SELECT ARRAY_AGG({PAGES} ORDER BY {PAGES} DESC) AS "t" {JOIN}')
    with pytest.raises(TypeError, match="not both"):
        ArrayAgg("pages", ordering="pages", order_by="pages")


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: StringAgg("title", 3), TypeError, "delimiter must be a str or an expression"),
        (lambda: StringAgg("title", ",", order_by=[3]), TypeError, "order_by= takes field names"),
    ],
)
def test_bad_arguments_say_what_to_pass(build: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build()


# -- ArrayAgg / JSONBAgg --------------------------------------------------------------


def test_array_agg_filter_keeps_nulls_out_with_filter_where(pg: Any) -> None:
    qs = per_author(t=ArrayAgg("books__pages", filter=Q(books__pages__gt=100)))
    assert_sql(
        qs,
        f"SELECT NULLIF(JSON_GROUP_ARRAY({PAGES}) FILTER (WHERE {PAGES} > %s), '[]') AS \"t\" {JOIN}",
        [100],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(
        on_pg(pg, qs), f'SELECT ARRAY_AGG({PAGES}) FILTER (WHERE {PAGES} > %s) AS "t" {JOIN}', [100]
    )


def test_an_impossible_filter_is_a_constant_false(pg: Any) -> None:
    qs = per_author(t=ArrayAgg("books__pages", filter=Q(books__pk__in=[])))
    assert_sql(on_pg(pg, qs), f'SELECT ARRAY_AGG({PAGES}) FILTER (WHERE 1 = 0) AS "t" {JOIN}')


def test_jsonb_agg_reads_json_documents_as_documents_on_sqlite(pg: Any) -> None:
    qs = Author.objects.annotate(t=JSONBAgg("data", distinct=True)).values_list("t")
    tail = 'FROM "shared_author" GROUP BY "shared_author"."id"'
    assert_sql(
        qs,
        f'SELECT NULLIF(JSON_GROUP_ARRAY(DISTINCT JSON("shared_author"."data")), \'[]\') '
        f'AS "t" {tail}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(on_pg(pg, qs), f'SELECT JSONB_AGG(DISTINCT "shared_author"."data") AS "t" {tail}')


# -- F slicing ------------------------------------------------------------------------


def test_slices_of_f_are_substrings(pg: Any) -> None:
    qs = Book.objects.annotate(
        s=F("title")[2:5], c=F("title")[0], h=F("title")[:3], t=F("title")[4:]
    )
    qs = qs.values_list("s", "c", "h", "t")
    cols = ", ".join(
        f'{{f}}({TITLE}, %s{", %s" if n else ""}) AS "{a}"'
        for a, n in [("s", 1), ("c", 1), ("h", 1), ("t", 0)]
    )
    params = [3, 3, 1, 1, 1, 3, 5]
    assert_sql(
        qs,
        f'SELECT {cols.format(f="SUBSTR")} FROM "shared_book"',
        params,
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(on_pg(pg, qs), f'SELECT {cols.format(f="SUBSTRING")} FROM "shared_book"', params)


@pytest.mark.parametrize(
    ("subscript", "error", "message"),
    [
        (-1, ValueError, "Negative indexing is not supported."),
        (slice(-2, None), ValueError, "Negative indexing is not supported."),
        (slice(0, -1), ValueError, "Negative indexing is not supported."),
        (slice(0, 4, 2), ValueError, "Step argument is not supported."),
        (slice(5, 2), ValueError, "Slice stop must be greater than slice start."),
        ("a", TypeError, "Argument to slice must be either int or slice instance."),
    ],
)
def test_slices_django_refuses_are_refused(
    subscript: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        F("title")[subscript]


def test_slicing_a_non_text_field_is_refused() -> None:
    with pytest.raises(NotSupportedError, match="only text fields"):
        Book.objects.annotate(p=F("pages")[:2])


def test_in_on_f_is_refused_rather_than_looping() -> None:
    with pytest.raises(TypeError, match="not iterable"):
        "a" in F("title")  # noqa: B015


# -- conditions as values -------------------------------------------------------------


def test_q_and_lookup_expressions_in_filter_and_as_annotations(pg: Any) -> None:
    qs = (
        Book.objects.filter(GreaterThan(F("pages"), 250))
        .annotate(b=GreaterThan(F("pages"), 1), q=Q(title__startswith="A"))
        .values_list("b", "q")
    )
    sql = (
        f'SELECT {PAGES} > %s AS "b", {TITLE} LIKE %s ESCAPE \'\\\' AS "q" FROM "shared_book" '
        f"WHERE {PAGES} > %s"
    )
    assert_sql(qs, sql, [1, "A%", 250], postgresql=ASSERTED_SEPARATELY)
    assert_sql(on_pg(pg, qs), sql, [1, "A%", 250])


def test_a_condition_that_matches_nothing_is_selected_as_false() -> None:
    qs = Book.objects.annotate(b=Q(pk__in=[])).values_list("b")
    assert_sql(qs, 'SELECT (1 = 0) AS "b" FROM "shared_book"')


def test_a_lookup_expression_prepares_its_value_once_resolved() -> None:
    with pytest.raises((ValueError, TypeError)):
        Book.objects.filter(GreaterThan(F("pages"), "many"))


# -- user subclasses ------------------------------------------------------------------


class Repeat3(orm.Func):
    function = "REPLICATE"
    template = "%(function)s(%(expressions)s, 3)"
    arg_joiner = " || "
    _output_field = orm.TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="(%(expressions)s)")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, function="REPEAT")


class GroupMax(orm.Sum):
    function = "MAX"
    allow_distinct = False
    empty_result_set_value = -1


def test_func_subclass_function_template_arg_joiner_and_vendor_hooks(pg: Any) -> None:
    qs = Book.objects.annotate(r=Repeat3("title", orm.Value("!"))).values_list("r")
    assert_sql(
        qs,
        f'SELECT ({TITLE} || %s) AS "r" FROM "shared_book"',
        ["!"],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(on_pg(pg, qs), f'SELECT REPEAT({TITLE} || %s, 3) AS "r" FROM "shared_book"', ["!"])


def test_aggregate_subclass_allow_distinct_and_empty_result_set_value(pg: Any) -> None:
    with pytest.raises(TypeError, match="GroupMax does not allow distinct"):
        GroupMax("pages", distinct=True)
    qs = Author.objects.annotate(m=GroupMax("books__pages")).values_list("m")
    assert_sql(qs, f'SELECT MAX({PAGES}) AS "m" {JOIN}')
    assert GroupMax.empty_result == -1
    assert Book.objects.filter(pk__in=[]).aggregate(m=GroupMax("pages")) == {"m": -1}


# -- StdDev / Variance ----------------------------------------------------------------


def test_stddev_and_variance(pg: Any) -> None:
    qs = per_author(s=orm.StdDev("books__pages"), v=orm.Variance("books__pages", sample=True))
    assert_sql(
        qs,
        f'SELECT STDDEV_POP({PAGES}) AS "s", VAR_SAMP({PAGES}) AS "v" {JOIN}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(
        on_pg(pg, qs),
        f'SELECT CAST(STDDEV_POP({PAGES}) AS double precision) AS "s", '
        f'CAST(VAR_SAMP({PAGES}) AS double precision) AS "v" {JOIN}',
    )


def test_django_import_paths_give_the_same_classes() -> None:
    from orm.contrib.postgres.aggregates import ArrayAgg as PgArrayAgg
    from orm.contrib.postgres.aggregates import JSONBAgg as PgJSONBAgg
    from orm.contrib.postgres.aggregates import StringAgg as PgStringAgg
    from orm.functions import Ntile, RowNumber

    assert (PgArrayAgg, PgJSONBAgg, PgStringAgg) == (ArrayAgg, JSONBAgg, StringAgg)
    assert Ntile is orm.Ntile is orm.NTile and RowNumber is orm.RowNumber
