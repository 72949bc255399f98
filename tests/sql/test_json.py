"""JSON key transforms: the key path is always a bound parameter, never SQL text."""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

import orm
from orm import F
from tests.sql.helpers import AUTHOR_COLS, assert_sql
from tests.sql.models import Author, Book

FROM_AUTHOR = f'SELECT {AUTHOR_COLS} FROM "shared_author"'
DATA = '"shared_author"."data"'
ESCAPE = "ESCAPE '\\'"
# A key compared with a scalar: a key holding JSON null compares false (as jsonb
# 'null' does on PostgreSQL) rather than unknown, so exclude() keeps it.
KEY_EQUALS = f"COALESCE(json_extract({DATA}, %s) = %s, json_type({DATA}, %s) <> 'null')"
# A key compared with a number: json_extract() reads JSON true/false as 1/0,
# so the key's type must not be a boolean (issue 11, item 30).
NOT_BOOLEAN = f"json_type({DATA}, %s) NOT IN ('true', 'false')"
KEY_EQUALS_NUMBER = (
    f"COALESCE((json_extract({DATA}, %s) = %s AND {NOT_BOOLEAN}), json_type({DATA}, %s) <> 'null')"
)


def key_equals(path: str, value: object) -> list[object]:
    """Parameters of ``KEY_EQUALS``: the path, the value, the path again."""
    return [path, value, path]


def key_equals_number(path: str, value: object) -> list[object]:
    """Parameters of ``KEY_EQUALS_NUMBER``: the path, the value, the path twice more."""
    return [path, value, path, path]


def test_key_exact_compares_the_extracted_scalar():
    assert_sql(
        Author.objects.filter(data__owner="bob"),
        f"{FROM_AUTHOR} WHERE {KEY_EQUALS}",
        key_equals('$."owner"', "bob"),
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb", ["owner", '"bob"']),
    )


def test_nested_keys_are_one_path_parameter():
    assert_sql(
        Author.objects.filter(data__owner__city="x"),
        f"{FROM_AUTHOR} WHERE {KEY_EQUALS}",
        key_equals('$."owner"."city"', "x"),
        postgresql=(
            f"{FROM_AUTHOR} WHERE ({DATA} -> %s -> %s) = %s::jsonb",
            ["owner", "city", '"x"'],
        ),
    )


def test_digit_keys_are_array_indexes():
    assert_sql(
        Author.objects.filter(data__tags__1__label="x"),
        f"{FROM_AUTHOR} WHERE {KEY_EQUALS}",
        key_equals('$."tags"[1]."label"', "x"),
        postgresql=(
            f"{FROM_AUTHOR} WHERE ({DATA} -> %s -> %s -> %s) = %s::jsonb",
            ["tags", 1, "label", '"x"'],
        ),
    )


def test_hostile_key_stays_inside_the_parameter():
    key = "x') OR 1=1 --"
    sql, params = Author.objects.filter(**{f"data__{key}": 1}).query.sql_with_params()
    assert "OR 1=1" not in sql
    assert list(params) == key_equals_number('$."x\') OR 1=1 --"', 1)


def test_dot_in_a_key_is_json_quoted_in_the_path():
    assert_sql(
        Author.objects.filter(**{"data__a.b[0]": 1}),
        f"{FROM_AUTHOR} WHERE {KEY_EQUALS_NUMBER}",
        key_equals_number('$."a.b[0]"', 1),
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb", ["a.b[0]", "1"]),
    )


def test_quote_in_a_key_walks_json_each_with_the_key_bound():
    # SQLite's JSON path syntax cannot name a key containing '"'.
    assert_sql(
        Author.objects.filter(**{'data__a"b.c': 1}),
        f"{FROM_AUTHOR} WHERE COALESCE(((SELECT value FROM json_each({DATA}) WHERE key = %s) = %s "
        f"AND (SELECT type FROM json_each({DATA}) WHERE key = %s) NOT IN ('true', 'false')), "
        f"(SELECT type FROM json_each({DATA}) WHERE key = %s) <> 'null')",
        ['a"b.c', 1, 'a"b.c', 'a"b.c'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb", ['a"b.c', "1"]),
    )


def test_key_exact_true_compares_the_json_type():
    assert_sql(
        Author.objects.filter(data__flag=True),
        f"{FROM_AUTHOR} WHERE json_type({DATA}, %s) = %s",
        ['$."flag"', "true"],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb", ["flag", "true"]),
    )


def test_key_exact_object_compares_minified_json():
    assert_sql(
        Author.objects.filter(data__obj={"a": 1}),
        f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = json(%s)",
        ['$."obj"', '{"a": 1}'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb", ["obj", '{"a": 1}']),
    )
    assert_sql(
        Author.objects.filter(data__owner=[1, "a"]),
        f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = json(%s)",
        ['$."owner"', '[1, "a"]'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb", ["owner", '[1, "a"]']),
    )


def test_key_isnull_is_about_the_key_being_absent():
    assert_sql(
        Author.objects.filter(data__owner__isnull=True),
        f"{FROM_AUTHOR} WHERE json_type({DATA}, %s) IS NULL",
        ['$."owner"'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) IS NULL", ["owner"]),
    )
    assert_sql(
        Author.objects.filter(data__owner__isnull=False),
        f"{FROM_AUTHOR} WHERE json_type({DATA}, %s) IS NOT NULL",
        ['$."owner"'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) IS NOT NULL", ["owner"]),
    )


def test_has_key():
    assert_sql(
        Author.objects.filter(data__has_key="k"),
        f"{FROM_AUTHOR} WHERE json_type({DATA}, %s) IS NOT NULL",
        ['$."k"'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s::text) IS NOT NULL", ["k"]),
    )


@pytest.mark.parametrize(
    ("lookup", "operator"), [("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")]
)
def test_key_comparisons(lookup, operator):
    assert_sql(
        Author.objects.filter(**{f"data__n__{lookup}": 3}),
        f"{FROM_AUTHOR} WHERE json_extract({DATA}, %s) {operator} %s",
        ['$."n"', 3],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) {operator} %s::jsonb", ["n", "3"]),
    )


def test_key_in():
    assert_sql(
        Author.objects.filter(data__n__in=[1, 2]),
        f"{FROM_AUTHOR} WHERE COALESCE(((json_extract({DATA}, %s) IN (%s, %s) AND {NOT_BOOLEAN})), "
        f"json_type({DATA}, %s) <> 'null')",
        ['$."n"', 1, 2, '$."n"', '$."n"'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = ANY(%s::jsonb[])", ["n", ["1", "2"]]),
    )


def test_key_icontains_escapes_wildcards():
    assert_sql(
        Author.objects.filter(data__bio__icontains="a%"),
        f"{FROM_AUTHOR} WHERE UPPER(json_extract({DATA}, %s)) LIKE UPPER(%s) {ESCAPE}",
        ['$."bio"', "%a\\%%"],
        postgresql=(
            f"{FROM_AUTHOR} WHERE UPPER((({DATA} ->> %s))::text) LIKE UPPER(%s) ESCAPE '\\'",
            ["bio", "%a\\%%"],
        ),
    )


def test_key_iexact_and_regex():
    assert_sql(
        Author.objects.filter(data__bio__iexact="A"),
        f"{FROM_AUTHOR} WHERE UPPER(json_extract({DATA}, %s)) = UPPER(%s)",
        ['$."bio"', "A"],
        postgresql=(
            f"{FROM_AUTHOR} WHERE UPPER((({DATA} ->> %s))::text) = UPPER(%s)",
            ["bio", "A"],
        ),
    )
    assert_sql(
        Author.objects.filter(data__bio__regex="^a"),
        f"{FROM_AUTHOR} WHERE json_extract({DATA}, %s) REGEXP %s",
        ['$."bio"', "^a"],
        postgresql=(f"{FROM_AUTHOR} WHERE (({DATA} ->> %s))::text ~ %s", ["bio", "^a"]),
    )


def test_key_startswith_a_column():
    assert_sql(
        Author.objects.filter(data__bio__startswith=F("name")),
        f"{FROM_AUTHOR} WHERE json_extract({DATA}, %s) LIKE (%s || REPLACE(REPLACE(REPLACE("
        "\"shared_author\".\"name\", '\\', '\\\\'), '%%', '\\%%'), '_', '\\_') || %s) " + ESCAPE,
        ['$."bio"', "", "%"],
        postgresql=(
            f"{FROM_AUTHOR} WHERE (({DATA} ->> %s))::text LIKE (%s || REPLACE(REPLACE(REPLACE(\"shared_author\".\"name\", '\\', '\\\\'), '%%', '\\%%'), '_', '\\_') || %s) ESCAPE '\\'",
            ["bio", "", "%"],
        ),
    )


def test_two_keys_in_one_filter():
    assert_sql(
        Author.objects.filter(data__owner="bob", data__n=2),
        f"{FROM_AUTHOR} WHERE ({KEY_EQUALS_NUMBER} AND {KEY_EQUALS})",
        [*key_equals_number('$."n"', 2), *key_equals('$."owner"', "bob")],
        postgresql=(
            f"{FROM_AUTHOR} WHERE (({DATA} -> %s) = %s::jsonb AND ({DATA} -> %s) = %s::jsonb)",
            ["n", "2", "owner", '"bob"'],
        ),
    )


def test_whole_document_exact_binds_the_serialized_json():
    assert_sql(
        Author.objects.filter(data={"a": 1}),
        f"{FROM_AUTHOR} WHERE {DATA} = %s",
        ['{"a": 1}'],
        postgresql=(f"{FROM_AUTHOR} WHERE {DATA} = %s", [Jsonb('{"a": 1}')]),
    )
    # As in Django, data=None is the JSON null document; SQL NULL is data__isnull=True.
    assert_sql(
        Author.objects.filter(data=None),
        f"{FROM_AUTHOR} WHERE {DATA} = %s",
        ["null"],
        postgresql=(f"{FROM_AUTHOR} WHERE {DATA} = %s", [Jsonb("null")]),
    )
    assert_sql(Author.objects.filter(data__isnull=True), f"{FROM_AUTHOR} WHERE {DATA} IS NULL")


def test_containment_is_not_supported_on_sqlite():
    with pytest.raises(orm.NotSupportedError, match="contains"):
        Author.objects.filter(data__contains={"a": 1}).query.sql_with_params()


def test_values_of_keys_select_their_json_text():
    assert_sql(
        Author.objects.values("data__owner", "data__owner__city"),
        f'SELECT ({DATA} -> %s) AS "data__owner", ({DATA} -> %s) AS "data__owner__city" FROM "shared_author"',
        ['$."owner"', '$."owner"."city"'],
        postgresql=(
            f'SELECT ({DATA} -> %s) AS "data__owner", ({DATA} -> %s -> %s) AS "data__owner__city" FROM "shared_author"',
            ["owner", "owner", "city"],
        ),
    )


def test_values_list_flat_of_a_key():
    assert_sql(
        Author.objects.values_list("data__n", flat=True),
        f'SELECT ({DATA} -> %s) AS "data__n" FROM "shared_author"',
        ['$."n"'],
        postgresql=(f'SELECT ({DATA} -> %s) AS "data__n" FROM "shared_author"', ["n"]),
    )


def test_order_by_a_key_orders_by_its_scalar():
    assert_sql(
        Author.objects.order_by("data__n"),
        f"{FROM_AUTHOR} ORDER BY json_extract({DATA}, %s) ASC",
        ['$."n"'],
        # PostgreSQL compares the jsonb values (numbers as numbers), as SQLite's json_extract.
        postgresql=(f"{FROM_AUTHOR} ORDER BY ({DATA} -> %s) ASC", ["n"]),
    )


def test_non_serializable_value_is_refused():
    with pytest.raises(ValueError):
        Author.objects.filter(data__n=float("nan"))


# -- once broken: A name after a non-relational field is looked up among the model's fields ------------
# Query.setup_joins() resolves every "__" part against the *model* while no relation is
# pending, so a JSON key or a transform that happens to share a field's name silently
# becomes that other column. Actual: WHERE "shared_author"."name" = 'bob'.


def test_json_key_named_like_a_field_is_still_a_json_key():
    assert_sql(
        Author.objects.filter(data__name="bob"),
        f"{FROM_AUTHOR} WHERE COALESCE(json_extract({DATA}, %s) = %s, json_type({DATA}, %s) <> 'null')",
        ['$."name"', "bob", '$."name"'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb", ["name", '"bob"']),
    )


def test_json_key_named_like_a_field_in_values():
    # Actual: SELECT "shared_author"."name" AS "data__name"
    assert_sql(
        Author.objects.values("data__name"),
        f'SELECT ({DATA} -> %s) AS "data__name" FROM "shared_author"',
        ['$."name"'],
        postgresql=(f'SELECT ({DATA} -> %s) AS "data__name" FROM "shared_author"', ["name"]),
    )


def test_field_name_after_a_plain_field_is_an_error():
    # Actual: Book.objects.filter(title__pages=3) compiles to WHERE "shared_book"."pages" = 3.
    with pytest.raises(orm.FieldError):
        Book.objects.filter(title__pages=3)


# -- once broken: data__key=None means "key absent" instead of "key holds JSON null" --------------------
# Actual: json_type(data, '$."owner"') IS NULL, the same SQL as data__owner__isnull=True, so
# {"owner": null} does not match and {} does. Django: key=None matches JSON null only.


def test_json_key_none_matches_json_null():
    assert_sql(
        Author.objects.filter(data__owner=None),
        f"{FROM_AUTHOR} WHERE json_type({DATA}, %s) = 'null'",
        ['$."owner"'],
        postgresql=(f"{FROM_AUTHOR} WHERE ({DATA} -> %s) = %s::jsonb", ["owner", "null"]),
    )
