"""Compile-only SQL of ``only()``/``defer()`` across ``select_related`` relations (issue 17 item 7).

``"author__name"`` names a field of the related model; the same SQL on SQLite
and PostgreSQL. Results: tests/integration/test_deferred_relations.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm.exceptions import FieldError
from tests.sql.helpers import assert_sql
from tests.sql.models import Book

B, A, C = '"shared_book"', '"shared_author"', '"shared_city"'
JOIN = f'INNER JOIN {A} ON ({B}."author_id" = {A}."id")'


def both(pg: Any, qs: Any, sql: str) -> None:
    assert_sql(qs, sql, [])
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, [])


def test_only_across_a_relation_loads_its_key_and_the_named_fields(pg: Any) -> None:
    qs = Book.objects.select_related("author").only("title", "author__name")
    both(
        pg,
        qs,
        f'SELECT {B}."id", {B}."title", {B}."author_id", {A}."id", {A}."name" FROM {B} {JOIN}',
    )


def test_defer_across_a_relation(pg: Any) -> None:
    qs = Book.objects.select_related("author").defer(
        "author__data", "author__age", "price", "created"
    )
    both(
        pg,
        qs,
        f'SELECT {B}."id", {B}."title", {B}."author_id", {B}."editor_id", {B}."publisher_id", '
        f'{B}."pages", {B}."rating", {B}."published", {A}."id", {A}."name", {A}."hometown_id" FROM {B} {JOIN}',
    )


def test_two_levels_deep(pg: Any) -> None:
    qs = Book.objects.select_related("author__hometown").only("pages", "author__hometown__name")
    both(
        pg,
        qs,
        f'SELECT {B}."id", {B}."author_id", {B}."pages", {A}."id", {A}."hometown_id", '
        f'{C}."id", {C}."name" FROM {B} {JOIN} LEFT OUTER JOIN {C} ON ({A}."hometown_id" = {C}."id")',
    )


def test_select_related_without_names_skips_relations_left_out(pg: Any) -> None:
    both(pg, Book.objects.select_related().only("title"), f'SELECT {B}."id", {B}."title" FROM {B}')


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Book.objects.select_related("author").only("title"),
            "Field Book.author cannot be both deferred and traversed using select_related at the same time.",
        ),
        (
            lambda: Book.objects.select_related("author").defer("author"),
            "Field Book.author cannot be both deferred and traversed using select_related at the same time.",
        ),
        (
            lambda: Book.objects.only("author__nope"),
            "Author has no field named 'nope' (in 'author__nope')",
        ),
        (
            lambda: Book.objects.defer("tags__name"),
            "Book has no field named 'tags' (in 'tags__name')",
        ),
        (
            lambda: Book.objects.only("title__name"),
            "Book has no field named 'title' (in 'title__name')",
        ),
    ],
)
def test_errors(make: Any, message: str) -> None:
    with pytest.raises(FieldError) as info:
        str(make().query)
    assert message in str(info.value)


def test_django_argument_rules() -> None:
    with pytest.raises(
        TypeError, match=r"Cannot call only\(\) after .values\(\) or .values_list\(\)"
    ):
        Book.objects.values("title").only("title")
    with pytest.raises(
        TypeError, match=r"Cannot call defer\(\) after .values\(\) or .values_list\(\)"
    ):
        Book.objects.values_list("title").defer("title")
    with pytest.raises(TypeError, match=r"Cannot pass None as an argument to only\(\)."):
        Book.objects.only(None)  # type: ignore[arg-type]
    cleared = Book.objects.defer("title", "author__name").defer(None)  # type: ignore[arg-type]
    assert cleared.query.deferred_loading == (frozenset(), True)
    assert Book.objects.only("pk", "title").query.deferred_loading == (
        frozenset({"id", "title"}),
        False,
    )
