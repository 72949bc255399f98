"""``dates()`` and ``datetimes()`` on real databases: the same values on SQLite and PostgreSQL (issue 17 item 7).

Library books were published 2020-01-15, 2021-06-30, 2022-11-05 and (SQL 101) never.
"""

from __future__ import annotations

import datetime
import zoneinfo

from tests.integration.conftest import Library
from tests.models import Author, Book

UTC = datetime.UTC


def test_dates_by_kind_and_order(library: Library) -> None:
    assert list(Book.objects.dates("published", "year")) == [
        datetime.date(2020, 1, 1),
        datetime.date(2021, 1, 1),
        datetime.date(2022, 1, 1),
    ]
    assert list(Book.objects.dates("published", "month", order="DESC")) == [
        datetime.date(2022, 11, 1),
        datetime.date(2021, 6, 1),
        datetime.date(2020, 1, 1),
    ]
    assert list(Book.objects.dates("published", "week")) == [  # Mondays
        datetime.date(2020, 1, 13),
        datetime.date(2021, 6, 28),
        datetime.date(2022, 10, 31),
    ]
    assert list(Book.objects.filter(author=library.alice).dates("published", "day")) == [
        datetime.date(2020, 1, 15),
        datetime.date(2021, 6, 30),
    ]


def test_dates_are_distinct(library: Library) -> None:
    Book.objects.filter(published__isnull=True).update(published=datetime.date(2020, 3, 1))
    assert list(Book.objects.dates("published", "year")) == [
        datetime.date(2020, 1, 1),
        datetime.date(2021, 1, 1),
        datetime.date(2022, 1, 1),
    ]


def _stamp(author: Author, moment: datetime.datetime) -> None:
    Author.objects.filter(pk=author.pk).update(created=moment)


def test_datetimes_truncate_in_utc_or_in_the_given_zone(library: Library) -> None:
    _stamp(library.alice, datetime.datetime(2024, 3, 1, 23, 30, tzinfo=UTC))
    _stamp(library.bob, datetime.datetime(2024, 3, 1, 23, 50, tzinfo=UTC))
    _stamp(library.carol, datetime.datetime(2024, 3, 2, 8, 15, 20, tzinfo=UTC))
    assert list(Author.objects.datetimes("created", "day")) == [
        datetime.datetime(2024, 3, 1, tzinfo=UTC),
        datetime.datetime(2024, 3, 2, tzinfo=UTC),
    ]
    assert list(Author.objects.datetimes("created", "minute", order="DESC")) == [
        datetime.datetime(2024, 3, 2, 8, 15, tzinfo=UTC),
        datetime.datetime(2024, 3, 1, 23, 50, tzinfo=UTC),
        datetime.datetime(2024, 3, 1, 23, 30, tzinfo=UTC),
    ]
    paris = zoneinfo.ZoneInfo("Europe/Paris")  # UTC+1 in March: 23:30 UTC is already the 2nd
    days = list(Author.objects.datetimes("created", "day", tzinfo=paris))
    assert days == [datetime.datetime(2024, 3, 2, tzinfo=paris)]
    # In that zone, as Django returns them: midnight in Paris, not 23:00 UTC.
    assert [(d.tzinfo, d.hour, d.utcoffset()) for d in days] == [
        (paris, 0, datetime.timedelta(hours=1))
    ]
    hours = list(Author.objects.datetimes("created", "hour", order="DESC", tzinfo=paris))
    assert [(h.tzinfo, h.day, h.hour) for h in hours] == [(paris, 2, 9), (paris, 2, 0)]
    assert {d.tzinfo for d in Author.objects.datetimes("created", "day")} == {UTC}
    assert list(Author.objects.dates("created", "month")) == [datetime.date(2024, 3, 1)]


async def test_async_iteration(library: Library) -> None:
    years = [d async for d in Book.objects.dates("published", "year", order="DESC")]
    assert [d.year for d in years] == [2022, 2021, 2020]
