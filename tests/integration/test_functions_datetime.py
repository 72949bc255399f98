"""Date/time functions and transforms on real databases: the same results on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest

import orm
from orm import functions as fn

UTC = dt.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


class Event(orm.Model):
    name = orm.CharField(max_length=20)
    at = orm.DateTimeField(null=True)
    day = orm.DateField(null=True)
    clock = orm.TimeField(null=True)

    class Meta:
        app_label = "functionsdatetime"


@pytest.fixture
def events(backend: str) -> Iterator[str]:
    """New Year's Eve late evening UTC (already 2021 in Paris and Tokyo), a mid-year Sunday, and NULLs."""
    orm.create_tables(Event)
    Event.objects.create(
        name="eve",
        at=dt.datetime(2020, 12, 31, 23, 30, 15, 250000, tzinfo=UTC),
        day=dt.date(2021, 1, 3),
        clock=dt.time(23, 59, 58, 900000),
    )
    Event.objects.create(
        name="summer",
        at=dt.datetime(2024, 6, 30, 8, 5, 9, tzinfo=UTC),
        day=dt.date(2024, 5, 15),
        clock=dt.time(7, 0, 30),
    )
    Event.objects.create(name="none")
    yield backend


def values(expression: Any) -> list[Any]:
    return list(Event.objects.order_by("id").annotate(v=expression).values_list("v", flat=True))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (fn.ExtractYear("at"), [2020, 2024, None]),
        (fn.ExtractIsoYear("at"), [2020, 2024, None]),
        (fn.ExtractIsoYear("day"), [2020, 2024, None]),  # 2021-01-03 is in ISO week 53 of 2020
        (fn.ExtractMonth("at"), [12, 6, None]),
        (fn.ExtractDay("day"), [3, 15, None]),
        (fn.ExtractWeek("day"), [53, 20, None]),
        (fn.ExtractWeek("at"), [53, 26, None]),
        (fn.ExtractWeekDay("at"), [5, 1, None]),  # Thursday, Sunday (1 = Sunday)
        (fn.ExtractIsoWeekDay("at"), [4, 7, None]),  # Thursday, Sunday (7 = Sunday)
        (fn.ExtractQuarter("at"), [4, 2, None]),
        (fn.ExtractHour("at"), [23, 8, None]),
        (fn.ExtractMinute("at"), [30, 5, None]),
        (fn.ExtractSecond("at"), [15, 9, None]),
        (fn.ExtractHour("clock"), [23, 7, None]),
        (fn.ExtractSecond("clock"), [58, 30, None]),
        (fn.Extract("at", "year", tzinfo=PARIS), [2021, 2024, None]),
        (fn.ExtractHour("at", tzinfo=TOKYO), [8, 17, None]),
        (fn.ExtractDay("at", tzinfo=PARIS), [1, 30, None]),
        (fn.ExtractIsoWeekDay("at", tzinfo=TOKYO), [5, 7, None]),
    ],
)
def test_extract(events: str, expression: Any, expected: list[Any]) -> None:
    assert values(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (
            fn.TruncYear("at"),
            [dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2024, 1, 1, tzinfo=UTC), None],
        ),
        (
            fn.TruncQuarter("at"),
            [dt.datetime(2020, 10, 1, tzinfo=UTC), dt.datetime(2024, 4, 1, tzinfo=UTC), None],
        ),
        (
            fn.TruncMonth("at"),
            [dt.datetime(2020, 12, 1, tzinfo=UTC), dt.datetime(2024, 6, 1, tzinfo=UTC), None],
        ),
        (
            fn.TruncWeek("at"),
            [dt.datetime(2020, 12, 28, tzinfo=UTC), dt.datetime(2024, 6, 24, tzinfo=UTC), None],
        ),
        (
            fn.TruncDay("at"),
            [dt.datetime(2020, 12, 31, tzinfo=UTC), dt.datetime(2024, 6, 30, tzinfo=UTC), None],
        ),
        (
            fn.TruncHour("at"),
            [
                dt.datetime(2020, 12, 31, 23, tzinfo=UTC),
                dt.datetime(2024, 6, 30, 8, tzinfo=UTC),
                None,
            ],
        ),
        (
            fn.TruncMinute("at"),
            [
                dt.datetime(2020, 12, 31, 23, 30, tzinfo=UTC),
                dt.datetime(2024, 6, 30, 8, 5, tzinfo=UTC),
                None,
            ],
        ),
        (
            fn.TruncSecond("at"),
            [
                dt.datetime(2020, 12, 31, 23, 30, 15, tzinfo=UTC),
                dt.datetime(2024, 6, 30, 8, 5, 9, tzinfo=UTC),
                None,
            ],
        ),
        (
            fn.Trunc("at", "day", tzinfo=PARIS),
            [dt.datetime(2021, 1, 1, tzinfo=PARIS), dt.datetime(2024, 6, 30, tzinfo=PARIS), None],
        ),
        (
            fn.Trunc("at", "month", tzinfo=TOKYO),
            [dt.datetime(2021, 1, 1, tzinfo=TOKYO), dt.datetime(2024, 6, 1, tzinfo=TOKYO), None],
        ),
        (fn.TruncQuarter("day"), [dt.date(2021, 1, 1), dt.date(2024, 4, 1), None]),
        (fn.TruncWeek("day"), [dt.date(2020, 12, 28), dt.date(2024, 5, 13), None]),
        (fn.TruncYear("day"), [dt.date(2021, 1, 1), dt.date(2024, 1, 1), None]),
        (fn.TruncHour("clock"), [dt.time(23), dt.time(7), None]),
        (fn.TruncMinute("clock"), [dt.time(23, 59), dt.time(7), None]),
        (
            fn.TruncMonth("at", output_field=orm.DateField()),
            [dt.date(2020, 12, 1), dt.date(2024, 6, 1), None],
        ),
        (
            fn.TruncMonth("at", output_field=orm.DateField(), tzinfo=PARIS),
            [dt.date(2021, 1, 1), dt.date(2024, 6, 1), None],
        ),
        (fn.TruncHour("at", output_field=orm.TimeField()), [dt.time(23), dt.time(8), None]),
        (fn.TruncDate("at"), [dt.date(2020, 12, 31), dt.date(2024, 6, 30), None]),
        (fn.TruncDate("at", tzinfo=PARIS), [dt.date(2021, 1, 1), dt.date(2024, 6, 30), None]),
        (fn.TruncTime("at"), [dt.time(23, 30, 15, 250000), dt.time(8, 5, 9), None]),
        (fn.TruncTime("at", tzinfo=TOKYO), [dt.time(8, 30, 15, 250000), dt.time(17, 5, 9), None]),
    ],
)
def test_trunc(events: str, expression: Any, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_trunc_with_tzinfo_returns_values_in_that_zone(events: str) -> None:
    # As Django: midnight in Paris is 00:00+01:00, not the same instant in UTC.
    paris, tokyo = (
        values(fn.Trunc("at", "day", tzinfo=PARIS)),
        values(fn.TruncHour("at", tzinfo=TOKYO)),
    )
    assert [(v.tzinfo, v.hour, v.utcoffset()) for v in paris[:2]] == [
        (PARIS, 0, dt.timedelta(hours=1)),
        (PARIS, 0, dt.timedelta(hours=2)),
    ]
    assert [(v.tzinfo, v.hour) for v in tokyo[:2]] == [(TOKYO, 8), (TOKYO, 17)]
    assert [v.tzinfo for v in values(fn.TruncDay("at"))[:2]] == [UTC, UTC]


def test_date_part_lookups(events: str) -> None:
    def names(**lookup: Any) -> list[str]:
        return list(Event.objects.filter(**lookup).order_by("id").values_list("name", flat=True))

    assert names(at__year=2020) == ["eve"]
    assert names(at__iso_year=2024) == ["summer"]
    assert names(day__iso_year=2020) == ["eve"]
    assert names(at__quarter=4) == ["eve"]
    assert names(at__week=53) == ["eve"]
    assert names(at__week_day=1) == ["summer"]
    assert names(at__iso_week_day=7) == ["summer"]
    assert names(at__hour__gte=20) == ["eve"]
    assert names(at__minute=5, at__second=9) == ["summer"]
    assert names(at__date=dt.date(2020, 12, 31)) == ["eve"]
    assert names(at__date__gt=dt.date(2021, 1, 1)) == ["summer"]
    assert names(at__time=dt.time(8, 5, 9)) == ["summer"]
    assert names(at__time__hour=23) == ["eve"]
    assert names(clock__hour__lt=12) == ["summer"]
    assert names(day__month__in=[1, 2]) == ["eve"]


def test_now_is_the_current_time(events: str) -> None:
    before = dt.datetime.now(UTC) - dt.timedelta(seconds=5)
    now = values(fn.Now())[0]
    assert before <= now <= dt.datetime.now(UTC) + dt.timedelta(seconds=5)
    assert list(
        Event.objects.filter(at__lt=fn.Now()).order_by("id").values_list("name", flat=True)
    ) == ["eve", "summer"]
    Event.objects.filter(name="none").update(at=fn.Now())
    stored = Event.objects.get(name="none").at
    assert stored is not None and before <= stored


def test_group_by_truncated_month(events: str) -> None:
    Event.objects.create(name="eve2", at=dt.datetime(2020, 12, 1, tzinfo=UTC))
    rows = (
        Event.objects.filter(at__isnull=False)
        .annotate(m=fn.TruncMonth("at"))
        .values("m")
        .annotate(c=orm.Count("id"))
        .order_by("m")
    )
    assert [(r["m"], r["c"]) for r in rows] == [
        (dt.datetime(2020, 12, 1, tzinfo=UTC), 2),
        (dt.datetime(2024, 6, 1, tzinfo=UTC), 1),
    ]


def test_refusals_change_nothing(events: str) -> None:
    with pytest.raises(ValueError, match="Cannot truncate DateField 'day' to DateTimeField."):
        Event.objects.update(day=fn.TruncHour("day"))
    assert Event.objects.get(name="eve").day == dt.date(2021, 1, 3)
    with pytest.raises(ValueError, match="tzinfo can only be used with DateTimeField."):
        values(fn.ExtractYear("day", tzinfo=PARIS))


def test_cast_to_datetime_and_time_keeps_microseconds(events: str) -> None:
    """SQLite's strftime('%f') has milliseconds only; a cast must not drop the rest."""
    at = dt.datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    Event.objects.create(
        name="micro", at=at, day=dt.date(2024, 3, 1), clock=dt.time(12, 0, 0, 654321)
    )
    row = (
        Event.objects.filter(name="micro")
        .annotate(
            at_time=fn.Cast("at", orm.TimeField()),
            clock_time=fn.Cast("clock", orm.TimeField()),
            at_again=fn.Cast("at", orm.DateTimeField()),
            day_at=fn.Cast("day", orm.DateTimeField()),
            trunc=fn.TruncTime("at"),
        )
        .values("at_time", "clock_time", "at_again", "day_at", "trunc")
        .get()
    )
    assert row == {
        "at_time": dt.time(12, 0, 0, 123456),
        "clock_time": dt.time(12, 0, 0, 654321),
        "at_again": at,
        "day_at": dt.datetime(2024, 3, 1, tzinfo=UTC),
        "trunc": dt.time(12, 0, 0, 123456),
    }
    assert values(fn.Cast("at", orm.TimeField())) == [
        dt.time(23, 30, 15, 250000),
        dt.time(8, 5, 9),
        None,
        dt.time(12, 0, 0, 123456),
    ]
