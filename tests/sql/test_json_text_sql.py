"""Compile-only SQL of KT/KeyTextTransform/KeyTransform and of JSON null against SQL NULL
(issue 17 item 6), for SQLite and PostgreSQL. Results: tests/integration/test_json_null.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import KT, KeyTextTransform, KeyTransform, Value
from tests.sql.helpers import ASSERTED_SEPARATELY, assert_sql
from tests.sql.models import Author

T = '"shared_author"'
DATA = f'{T}."data"'


def on(connection: Any, qs: Any) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    return sql, [getattr(p, "obj", p) for p in params]  # psycopg's Jsonb wrapper holds the text


def test_kt_is_the_text_of_a_key_path(pg: Any) -> None:
    qs = Author.objects.annotate(a=KT("data__owner__name")).values_list("a")
    assert_sql(
        qs,
        f"SELECT CASE json_type({DATA}, %s) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f'ELSE CAST(json_extract({DATA}, %s) AS TEXT) END AS "a" FROM {T}',
        ['$."owner"."name"', '$."owner"."name"'],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert on(pg, qs) == (f'SELECT ({DATA} -> %s ->> %s) AS "a" FROM {T}', ["owner", "name"])


def test_key_transform_selects_the_json_value(pg: Any) -> None:
    qs = Author.objects.annotate(j=KeyTransform("a", "data")).values_list("j")
    assert_sql(
        qs, f'SELECT ({DATA} -> %s) AS "j" FROM {T}', ['$."a"'], postgresql=ASSERTED_SEPARATELY
    )
    assert on(pg, qs) == (f'SELECT ({DATA} -> %s) AS "j" FROM {T}', ["a"])


def test_a_hostile_key_stays_a_parameter(pg: Any) -> None:
    key = "a') OR 1=1 --"
    qs = Author.objects.annotate(t=KeyTextTransform(key, "data")).values_list("t")
    assert key not in qs.query.sql_with_params()[0]
    assert on(pg, qs) == (f'SELECT ({DATA} ->> %s) AS "t" FROM {T}', [key])


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("data", ValueError, "Lookup must contain key or index transforms."),
        (3, TypeError, "KT\\(\\) takes"),
    ],
)
def test_kt_needs_a_key(path: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        KT(path)


def test_exact_none_is_the_json_null_and_isnull_is_sql_null(pg: Any) -> None:
    qs = Author.objects.filter(data=None).values_list("id")
    sql = f'SELECT {T}."id" AS "id" FROM {T} WHERE {DATA} = %s'
    assert_sql(qs, sql, ["null"], postgresql=ASSERTED_SEPARATELY)
    assert on(pg, qs) == (sql, ["null"])
    qs = Author.objects.filter(data__isnull=True).values_list("id")
    assert_sql(qs, f'SELECT {T}."id" AS "id" FROM {T} WHERE {DATA} IS NULL')


def test_value_none_with_a_json_field_is_json_null(pg: Any) -> None:
    qs = Author.objects.annotate(j=Value(None, orm.JSONField())).values_list("j")
    assert_sql(qs, f'SELECT %s AS "j" FROM {T}', ["null"], postgresql=ASSERTED_SEPARATELY)
    assert on(pg, qs) == (f'SELECT %s AS "j" FROM {T}', ["null"])
    assert_sql(
        Author.objects.annotate(n=Value(None)).values_list("n"), f'SELECT NULL AS "n" FROM {T}'
    )


def test_ordering_by_a_key_compares_json_values_on_postgresql(pg: Any) -> None:
    qs = Author.objects.order_by("data__rank").values_list("id")
    assert_sql(
        qs,
        f'SELECT {T}."id" AS "id" FROM {T} ORDER BY json_extract({DATA}, %s) ASC',
        ['$."rank"'],
        postgresql=ASSERTED_SEPARATELY,
    )
    # jsonb orders numbers as numbers (10 after 9), as Django's KeyTransform does.
    assert on(pg, qs) == (f'SELECT {T}."id" AS "id" FROM {T} ORDER BY ({DATA} -> %s) ASC', ["rank"])
    qs = Author.objects.order_by(KT("data__rank").desc()).values_list("id")
    assert on(pg, qs) == (
        f'SELECT {T}."id" AS "id" FROM {T} ORDER BY ({DATA} ->> %s) DESC',
        ["rank"],
    )
