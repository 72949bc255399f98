"""The cached statements of point writes, compile-only on both dialects.

``save()``/``create()`` keep their INSERT per model (``writes._insert_plan``);
``filter(**plain).update(...)`` keeps its UPDATE per shape, keyed with
``cache_key.expression_key`` for expression values. Cold (caches emptied) and
warm runs must send the same text and parameters, and two shapes must never
share an entry.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import F, Lower, Value
from orm.query import writes
from orm.query.cache_key import expression_key
from orm.utils.caches import clear_all
from tests.sql.helpers import placeholder_count
from tests.sql.models import Author, Book

COLUMNS = (
    '"title", "author_id", "editor_id", "publisher_id", "pages", "price", "rating", '
    '"published", "created"'
)


def test_expression_keys_tell_constants_apart_by_type_and_value() -> None:
    keys = [
        expression_key(e)
        for e in (
            Value(1),
            Value(True),
            Value(1.0),
            Value("1"),
            Value(None),
            Value(2),
            F("pages"),
            F("rating"),
            F("pages") + 1,
            F("pages") + True,
            F("pages") + 2,
            F("pages") - 1,
            F("pages") * 1,
            1 + F("pages"),
            F("pages") + F("pages"),
        )
    ]
    assert None not in keys
    assert len(set(keys)) == len(keys)
    assert expression_key(F("pages") + 1) == expression_key(F("pages") + 1)


def test_expressions_the_key_cannot_describe_have_none() -> None:
    assert expression_key(Value(1, output_field=orm.IntegerField())) is None  # a new Field per call
    assert expression_key(Lower(F("title"))) is None
    assert expression_key(F("pages") + Lower(F("title"))) is None
    assert expression_key(Value([1, 2])) is None


@pytest.mark.parametrize("with_pk", [False, True])
def test_the_insert_plan_is_the_one_row_insert(pg: Any, with_pk: bool) -> None:
    for connection in (orm.connections["default"], pg):
        plan = writes._insert_plan(Book, connection, with_pk)
        assert plan is not None
        columns = ('"id", ' if with_pk else "") + COLUMNS
        returning = "" if with_pk else ' RETURNING "id"'
        assert plan.sql == (
            f'INSERT INTO "shared_book" ({columns}) VALUES '
            f"({', '.join(['%s'] * len(plan.fields))}){returning}"
        )
        assert placeholder_count(plan.sql) == len(plan.fields)
        assert [f for f, _converters in plan.returned] == ([] if with_pk else [Book._meta.pk])


def _updates(author: Any) -> dict[str, Any]:
    return {
        "pages by title": lambda: Book.objects.filter(title="a").update(pages=3),
        "rating by title": lambda: Book.objects.filter(title="a").update(rating=3),
        "pages by title, gt": lambda: Book.objects.filter(title__gt="a").update(pages=3),
        "F + 1": lambda: Book.objects.filter(title="a").update(pages=F("pages") + 1),
        "F + True": lambda: Book.objects.filter(title="a").update(pages=F("pages") + True),
        "F + 2": lambda: Book.objects.filter(title="a").update(pages=F("pages") + 2),
        "Value(1)": lambda: Book.objects.filter(title="a").update(pages=Value(1)),
        "Value(True)": lambda: Book.objects.filter(title="a").update(pages=Value(True)),
        "two columns": lambda: Book.objects.filter(pk=1).update(pages=1, rating=2.5),
        "two columns swapped": lambda: Book.objects.filter(pk=1).update(rating=2.5, pages=1),
        "no filter": lambda: Book.objects.update(pages=1),
        "author": lambda: Book.objects.filter(pk=1).update(author=author),
        "other model": lambda: Author.objects.filter(pk=1).update(name="x"),
    }


def test_update_shapes_are_the_same_cold_and_warm_and_never_share_an_entry(
    captured_sql: Any,
) -> None:
    author = Author(pk=7, name="Ann")
    updates = _updates(author)
    cold = {}
    for name, run in updates.items():
        clear_all()
        captured_sql.clear()
        run()
        cold[name] = list(captured_sql)
    clear_all()
    for run in updates.values():
        run()
    assert len(writes._UPDATES) == len(updates)
    for name, run in updates.items():
        captured_sql.clear()
        run()
        assert list(captured_sql) == cold[name], name
    assert cold["F + 1"] == [
        (
            'UPDATE "shared_book" SET "pages" = ("shared_book"."pages" + %s) '
            'WHERE "shared_book"."title" = %s',
            [1, "a"],
        )
    ]
    assert cold["F + True"][0][1] == [True, "a"]
    assert cold["Value(True)"][0][1] == [True, "a"] and cold["Value(1)"][0][1] == [1, "a"]
    assert cold["two columns swapped"] == [
        (
            'UPDATE "shared_book" SET "rating" = %s, "pages" = %s WHERE "shared_book"."id" = %s',
            [2.5, 1, 1],
        )
    ]
    assert cold["no filter"] == [('UPDATE "shared_book" SET "pages" = %s', [1])]
    assert cold["author"] == [
        ('UPDATE "shared_book" SET "author_id" = %s WHERE "shared_book"."id" = %s', [7, 1])
    ]


def test_a_warm_update_binds_this_calls_values(captured_sql: Any) -> None:
    for pages, title in [(1, "a"), (2, "b"), (None, "O'Hara")]:
        Book.objects.filter(title=title).update(pages=pages)
    assert [params for _sql, params in captured_sql] == [[1, "a"], [2, "b"], [None, "O'Hara"]]
    assert len({sql for sql, _params in captured_sql}) == 1
