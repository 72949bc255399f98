"""Compile-only SQL of ``dates()`` and ``datetimes()`` (issue 17 item 7), for SQLite and PostgreSQL.

Both are Django's shape: the truncated column, DISTINCT, rows where the field is
NULL left out, ordered by the truncated value. Results: tests/integration/test_dates.py.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

import pytest

from tests.sql.helpers import ASSERTED_SEPARATELY, assert_sql
from tests.sql.models import Book

WHERE = 'FROM "shared_book" WHERE "shared_book"."{0}" IS NOT NULL ORDER BY "{1}" {2}'


def test_dates_of_a_date_field(pg: Any) -> None:
    qs = Book.objects.dates("published", "month", order="DESC")
    tail = WHERE.format("published", "datefield", "DESC")
    assert_sql(
        qs,
        f'SELECT DISTINCT strftime(\'%%Y-%%m-01\', "shared_book"."published") AS "datefield" {tail}',
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(
        qs.query.get_compiler(connection=pg).as_sql(),
        f'SELECT DISTINCT DATE_TRUNC(%s, ("shared_book"."published")::timestamp)::date AS "datefield" {tail}',
        ["month"],
    )


def test_datetimes_with_a_time_zone_bind_kind_and_zone(pg: Any) -> None:
    qs = Book.objects.datetimes("created", "hour", tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    tail = WHERE.format("created", "datetimefield", "ASC")
    assert_sql(
        qs,
        f'SELECT DISTINCT orm_datetime_trunc(%s, "shared_book"."created", %s) AS "datetimefield" {tail}',
        ["hour", "Europe/Paris"],
        postgresql=ASSERTED_SEPARATELY,
    )
    assert_sql(
        qs.query.get_compiler(connection=pg).as_sql(),
        f'SELECT DISTINCT DATE_TRUNC(%s, "shared_book"."created", %s) AS "datetimefield" {tail}',
        ["hour", "Europe/Paris"],
    )


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: Book.objects.dates("published", "hour"),
            ValueError,
            "'kind' must be one of 'year', 'month', 'week', or 'day'.",
        ),
        (
            lambda: Book.objects.dates("published", "day", order="asc"),
            ValueError,
            "'order' must be either 'ASC' or 'DESC'.",
        ),
        (
            lambda: Book.objects.datetimes("created", "quarter"),
            ValueError,
            "'kind' must be one of 'year', 'month', 'week', 'day', 'hour', 'minute', or 'second'.",
        ),
        (
            lambda: Book.objects.datetimes("created", "day", order="up"),
            ValueError,
            "'order' must be either 'ASC' or 'DESC'.",
        ),
        (
            lambda: Book.objects.datetimes("published", "day"),
            ValueError,
            "Cannot truncate DateField 'published' to DateTimeField.",
        ),
        (
            lambda: Book.objects.dates("title", "day"),
            TypeError,
            "'title' isn't a DateField, TimeField, or DateTimeField.",
        ),
        (
            lambda: Book.objects.all().union(Book.objects.all()).dates("published", "day"),
            Exception,
            "dates()",
        ),
    ],
)
def test_errors(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)
