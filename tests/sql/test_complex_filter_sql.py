"""Compile-only SQL of ``QuerySet.complex_filter()`` (issue 17): a ``Q`` or a dict, as ``filter()``."""

from __future__ import annotations

from typing import Any

import pytest

from orm import Q
from tests.sql.helpers import AUTHOR_COLS, assert_sql
from tests.sql.models import Author

NAME, AGE = '"shared_author"."name"', '"shared_author"."age"'


def test_q_object_is_filtered_as_filter_would(pg: Any) -> None:
    qs = Author.objects.complex_filter(Q(name="a") | Q(age__gt=3))
    sql = f'SELECT {AUTHOR_COLS} FROM "shared_author" WHERE ({NAME} = %s OR {AGE} > %s)'
    assert_sql(qs, sql, ["a", 3])
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, ["a", 3])
    assert str(qs.query) == str(Author.objects.filter(Q(name="a") | Q(age__gt=3)).query)


def test_dict_is_keyword_lookups_and_chains_with_other_filters(pg: Any) -> None:
    qs = Author.objects.filter(age=1).complex_filter({"name__startswith": "A", "age__lt": 9})
    sql = (
        f'SELECT {AUTHOR_COLS} FROM "shared_author" WHERE ({AGE} = %s AND ({AGE} < %s AND '
        f"{NAME} LIKE %s ESCAPE '\\'))"
    )
    assert_sql(qs, sql, [1, 9, "A%"])
    assert_sql(qs.query.get_compiler(connection=pg).as_sql(), sql, [1, 9, "A%"])


def test_empty_q_or_dict_adds_no_condition() -> None:
    assert_sql(Author.objects.complex_filter(Q()), f'SELECT {AUTHOR_COLS} FROM "shared_author"', [])
    assert_sql(Author.objects.complex_filter({}), f'SELECT {AUTHOR_COLS} FROM "shared_author"', [])


@pytest.mark.parametrize("bad", ["name", [("name", "a")], None, 3])
def test_anything_else_raises_type_error(bad: Any) -> None:
    with pytest.raises(
        TypeError, match="complex_filter\\(\\) takes a Q object or a dict of lookups"
    ):
        Author.objects.complex_filter(bad)


def test_refused_where_filter_is() -> None:
    with pytest.raises(TypeError, match="Cannot filter a query once a slice has been taken."):
        Author.objects.all()[:2].complex_filter({"name": "a"})
    with pytest.raises(TypeError, match="is not a valid keyword"):
        Author.objects.complex_filter({"_connector": "OR"})
