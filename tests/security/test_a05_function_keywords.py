"""A5: date-function kinds and EXPLAIN options come from allow-lists (CVE-2022-34265, CVE-2022-28347).

A hostile ``Trunc(kind=...)`` or ``Extract(lookup_name=...)`` raises ValueError
when the expression is built, so the answer cannot depend on the backend; a
well-formed but unknown date part fails when the query is compiled, still
before any SQL. ``explain(**options)`` / ``explain(format=...)`` raise
ValueError before any SQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from orm import Extract, Trunc
from tests.security.corpus import (
    EXPLAIN_FORMATS,
    EXPLAIN_OPTIONS,
    EXTRACT_LOOKUPS,
    EXTRACT_UNKNOWN_PARTS,
    TRUNC_KINDS,
)
from tests.security.models import Book, Sample


@pytest.fixture
def dated(db: str) -> Book:
    return Book.objects.create(
        name="d", published=dt.datetime(2024, 5, 17, 13, 45, 30, tzinfo=dt.UTC)
    )


@pytest.mark.parametrize("kind", TRUNC_KINDS)
def test_trunc_kind_rejected_when_built(kind: str) -> None:
    with pytest.raises(
        ValueError, match="choose from: year, quarter, month, week, day, hour, minute, second"
    ):
        Trunc("published", kind)


@pytest.mark.parametrize("kind", [["year"], None, 1, b"year"])
def test_trunc_kind_wrong_type(kind: Any) -> None:
    with pytest.raises(ValueError):
        Trunc("published", kind)


@pytest.mark.parametrize("lookup", EXTRACT_LOOKUPS)
def test_extract_lookup_rejected_when_built(lookup: str) -> None:
    with pytest.raises(ValueError, match="date part"):
        Extract("published", lookup)


@pytest.mark.parametrize("lookup", [5, ["day"], b"day"])
def test_extract_lookup_wrong_type(lookup: Any) -> None:
    with pytest.raises(ValueError, match="date part"):
        Extract("published", lookup)


@pytest.mark.parametrize("part", EXTRACT_UNKNOWN_PARTS)
def test_extract_unknown_part_rejected_before_sql(dated: Book, reject: Any, part: str) -> None:
    with reject(ValueError, "choose from"):
        list(Book.objects.annotate(x=Extract("published", part)))
    with reject(ValueError, "choose from"):
        list(
            Book.objects.filter(published__year=2024)
            .annotate(x=Extract("published", part))
            .values("x")
        )


@pytest.mark.parametrize("options", EXPLAIN_OPTIONS, ids=lambda o: ascii(next(iter(o))))
def test_explain_option_names_rejected(dated: Book, reject: Any, options: dict[str, Any]) -> None:
    with reject(ValueError):
        Book.objects.all().explain(**options)
    with reject(ValueError):
        Book.objects.filter(name="d").explain(**options)


@pytest.mark.parametrize("fmt", EXPLAIN_FORMATS)
def test_explain_format_rejected(dated: Book, reject: Any, fmt: str) -> None:
    with reject(ValueError):
        Book.objects.all().explain(format=fmt)


async def test_async_explain_rejected(dated: Book, count_queries: Any) -> None:
    async with count_queries() as ctx:
        with pytest.raises(ValueError):
            await Book.objects.all().aexplain(**EXPLAIN_OPTIONS[0])
    assert ctx.queries == []


def test_control_allowed_kinds_work(dated: Book) -> None:
    """Control: the allow-listed kinds compute the right values."""
    row = (
        Book.objects.annotate(
            y=Extract("published", "year"),
            d=Extract("published", "day"),
            h=Extract("published", "hour"),
            m=Trunc("published", "month"),
            s=Trunc("published", "second"),
        )
        .values("y", "d", "h", "m", "s")
        .get()
    )
    assert row == {
        "y": 2024,
        "d": 17,
        "h": 13,
        "m": dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
        "s": dt.datetime(2024, 5, 17, 13, 45, 30, tzinfo=dt.UTC),
    }
    assert Book.objects.filter(published__month=5, published__day=17).count() == 1
    assert isinstance(Book.objects.all().explain(), str)
    Sample.objects.create(ts=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert Sample.objects.filter(ts__year=2024).count() == 1
