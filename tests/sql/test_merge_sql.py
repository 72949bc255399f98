"""Compile-only SQL of ``qs1 | qs2``, ``qs1 & qs2`` and ``qs1 ^ qs2``: one WHERE tree.

Each shape is compiled for SQLite and for PostgreSQL (a wrapper that never
connects). The rows these statements return, and the database they run on,
are checked in ``tests/integration/test_merge.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.helpers import AUTHOR_COLS, BOOK_COLS, assert_sql, placeholder_count
from tests.sql.models import Author, Book

FROM_AUTHOR = 'FROM "shared_author"'
FROM_BOOK = 'FROM "shared_book"'
NAME, AGE = '"shared_author"."name"', '"shared_author"."age"'
PAGES = '"shared_book"."pages"'


def assert_both(pg: Any, qs: Any, sql: str, params: list[Any]) -> None:
    """The same text and parameters on SQLite and on PostgreSQL."""
    assert_sql(qs, sql, params)
    actual_sql, actual_params = qs.query.get_compiler(connection=pg).as_sql()
    assert (actual_sql, list(actual_params)) == (sql, params)
    assert placeholder_count(actual_sql) == len(actual_params)


def test_or_puts_both_conditions_in_one_where(pg: Any) -> None:
    qs = Author.objects.filter(name="a") | Author.objects.filter(age__gt=3)
    assert_both(
        pg, qs, f"SELECT {AUTHOR_COLS} {FROM_AUTHOR} WHERE ({NAME} = %s OR {AGE} > %s)", ["a", 3]
    )


def test_and_and_xor_use_their_connector(pg: Any) -> None:
    left, right = Author.objects.filter(name="a"), Author.objects.filter(age=3)
    assert_both(
        pg,
        left & right,
        f"SELECT {AUTHOR_COLS} {FROM_AUTHOR} WHERE ({NAME} = %s AND {AGE} = %s)",
        ["a", 3],
    )
    xor = f"((CASE WHEN {NAME} = %s THEN 1 ELSE 0 END + CASE WHEN {AGE} = %s THEN 1 ELSE 0 END) %% 2) = 1"
    assert_both(pg, left ^ right, f"SELECT {AUTHOR_COLS} {FROM_AUTHOR} WHERE {xor}", ["a", 3])


def test_an_unfiltered_side_makes_or_match_everything(pg: Any) -> None:
    qs = Author.objects.filter(name="a") | Author.objects.all()
    assert_both(pg, qs, f"SELECT {AUTHOR_COLS} {FROM_AUTHOR}", [])


def test_or_reuses_an_identical_join_and_makes_a_one_sided_join_outer(pg: Any) -> None:
    joined = Book.objects.filter(author__name="a") | Book.objects.filter(author__name="b")
    inner = 'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id")'
    assert_both(
        pg,
        joined,
        f"SELECT {BOOK_COLS} {FROM_BOOK} {inner} WHERE ({NAME} = %s OR {NAME} = %s)",
        ["a", "b"],
    )
    one_sided = Book.objects.filter(editor__name="a") | Book.objects.filter(pages=5)
    outer = 'LEFT OUTER JOIN "shared_author" ON ("shared_book"."editor_id" = "shared_author"."id")'
    assert_both(
        pg,
        one_sided,
        f"SELECT {BOOK_COLS} {FROM_BOOK} {outer} WHERE ({NAME} = %s OR {PAGES} = %s)",
        ["a", 5],
    )


def test_or_keeps_a_one_sided_join_inner_when_it_cannot_miss_its_row(pg: Any) -> None:
    # As Django's JoinPromoter: a non-null foreign key always finds its row, so
    # INNER removes nothing the other side matches, whichever side has it.
    inner = 'INNER JOIN "shared_author" ON ("shared_book"."author_id" = "shared_author"."id")'
    for qs in (
        Book.objects.filter(author__name="a") | Book.objects.filter(pages=5),
        Book.objects.filter(pages=5) | Book.objects.filter(author__name="a"),
    ):
        sql, params = qs.query.sql_with_params()
        assert inner in sql and "LEFT OUTER" not in sql
        assert set(params) == {"a", 5}
        assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, list(params))


def test_and_gives_each_side_its_own_multivalued_join(pg: Any) -> None:
    # As Django: one book of the author titled "x" and one with 9 pages may differ.
    qs = Author.objects.filter(books__title="x") & Author.objects.filter(books__pages=9)
    first = 'LEFT OUTER JOIN "shared_book" ON ("shared_author"."id" = "shared_book"."author_id")'
    second = 'LEFT OUTER JOIN "shared_book" "T3" ON ("shared_author"."id" = "T3"."author_id")'
    assert_both(
        pg,
        qs,
        f"SELECT {AUTHOR_COLS} {FROM_AUTHOR} {first} {second} "
        f'WHERE ("shared_book"."title" = %s AND "T3"."pages" = %s)',
        ["x", 9],
    )


def test_an_aggregating_side_becomes_a_pk_semijoin_on_the_left_alias(pg: Any) -> None:
    from orm import Count

    counted = Author.objects.annotate(n=Count("books")).filter(n__gt=1)
    qs = Author.objects.using("other").filter(name="a") | counted
    assert qs.db == "other"
    sql, params = qs.query.get_compiler(connection=pg).as_sql()
    assert sql.startswith(
        f'SELECT {AUTHOR_COLS} {FROM_AUTHOR} WHERE ("shared_author"."id" IN (SELECT'
    )
    assert " OR " in sql and "HAVING" in sql
    assert params == ["a", 1]


def test_merging_querysets_of_different_models_is_refused() -> None:
    with pytest.raises(TypeError, match="Cannot combine queries on two different base models."):
        Author.objects.all() | Book.objects.all()  # type: ignore[operator]
    with pytest.raises(TypeError, match="Cannot combine a unique query with a non-unique query."):
        Author.objects.distinct() | Author.objects.all()
    with pytest.raises(TypeError, match="Cannot combine queries once a slice has been taken."):
        Author.objects.all()[:2] & Author.objects.all()
    with pytest.raises(TypeError, match="both operands must be QuerySets"):
        Author.objects.all() | 3  # type: ignore[operator]
