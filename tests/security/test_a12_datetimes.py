"""A12: datetimes. orm is strict: a naive datetime (or naive ISO string) is refused.

- Naive values raise ValueError naming the field, before any SQL, on every
  write path and in lookups (no warning-and-convert mode exists).
- Aware values - DST gap and fold, year 1 and 9999, microseconds, odd
  offsets - round-trip to the same instant, returned aware in UTC.
- On SQLite, rows stored from mixed offsets order and range-filter by
  instant, whatever offset the bounds are given in.
- A ``date`` into a DateTimeField is a TypeError (no silent midnight).

Aware values into DateField/TimeField, and year-1/9999 values whose offset
leaves the UTC range, raise ValueError too (tests/integration/test_backend_parity.py
covers the aware ones).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

import orm
from tests.security.corpus import (
    AWARE_ROUNDTRIP,
    MIXED_OFFSETS_CHRONOLOGICAL,
    NAIVE_DATETIMES,
    UTC,
)
from tests.security.models import Sample


def same_instant(a: dt.datetime, b: dt.datetime) -> bool:
    # Compare in UTC: inter-zone == of datetimes in a fold/gap is always False (PEP 495).
    return a.astimezone(UTC) == b.astimezone(UTC)


@pytest.fixture
def stored(db: str) -> Sample:
    return Sample.objects.create(ts=dt.datetime(2020, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("value", NAIVE_DATETIMES, ids=repr)
def test_naive_refused_everywhere(stored: Sample, reject: Any, snapshot: Any, value: Any) -> None:
    before = snapshot(Sample)
    match = "'ts' received the naive datetime"
    with reject(ValueError, match):
        Sample.objects.create(ts=value)
    with reject(ValueError, match):
        Sample.objects.update(ts=value)
    with reject(ValueError, match):
        Sample.objects.bulk_create(
            [Sample(ts=dt.datetime(2021, 1, 1, tzinfo=UTC)), Sample(ts=value)]
        )
    obj = Sample.objects.get(pk=stored.pk)
    obj.ts = value
    with reject(ValueError, match):
        obj.save()
    with reject(ValueError, match):
        list(Sample.objects.filter(ts=value))
    with reject(ValueError, match):
        list(Sample.objects.filter(ts__range=(dt.datetime(2000, 1, 1, tzinfo=UTC), value)))
    with reject(ValueError, match):
        list(Sample.objects.filter(ts__gte=value))
    assert snapshot(Sample) == before


def test_date_into_datetime_is_typeerror(stored: Sample, reject: Any) -> None:
    with reject(TypeError, "'ts' expected a datetime but got the date"):
        Sample.objects.create(ts=dt.date(2024, 1, 1))


@pytest.mark.parametrize("value", AWARE_ROUNDTRIP, ids=lambda v: v.isoformat() + f"|fold={v.fold}")
def test_aware_roundtrip_exact(db: str, value: dt.datetime) -> None:
    obj = Sample.objects.create(ts=value)
    fresh = Sample.objects.get(pk=obj.pk).ts
    assert fresh.utcoffset() == dt.timedelta(0), "returned aware, in UTC"
    assert same_instant(fresh, value)
    assert fresh.microsecond == value.astimezone(UTC).microsecond
    assert list(Sample.objects.filter(ts=value)) == [obj]
    [bulk] = Sample.objects.bulk_create([Sample(ts=value)])
    assert same_instant(Sample.objects.get(pk=bulk.pk).ts, value)


def test_fold_distinguishes_the_two_passes(db: str) -> None:
    """02:30 Europe/Berlin on 2024-10-27 happens twice; ``fold`` picks the hour and is kept."""
    first, second = AWARE_ROUNDTRIP[3], AWARE_ROUNDTRIP[4]
    a = Sample.objects.create(ts=first)
    b = Sample.objects.create(ts=second)
    assert Sample.objects.get(pk=b.pk).ts - Sample.objects.get(pk=a.pk).ts == dt.timedelta(hours=1)


def test_iso_string_with_offset_accepted(db: str) -> None:
    obj = Sample.objects.create(ts="2024-01-01T00:00:00.000001+02:00")
    assert Sample.objects.get(pk=obj.pk).ts == dt.datetime(2023, 12, 31, 22, 0, 0, 1, tzinfo=UTC)


def test_mixed_offsets_order_and_range_by_instant(db: str) -> None:
    chronological = MIXED_OFFSETS_CHRONOLOGICAL
    shuffled = list(enumerate(chronological))
    random.Random(7).shuffle(shuffled)
    by_index = {i: Sample.objects.create(ts=value, i=i) for i, value in shuffled}

    assert [s.i for s in Sample.objects.order_by("ts")] == list(range(len(chronological)))
    assert [s.i for s in Sample.objects.order_by("-ts")] == list(
        reversed(range(len(chronological)))
    )
    assert Sample.objects.latest("ts").i == len(chronological) - 1
    assert Sample.objects.earliest("ts").i == 0

    # Bounds given in yet other offsets: [10:00Z, 12:00:00.000001Z] inclusive.
    low = dt.datetime(2024, 1, 1, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    high = dt.datetime(2024, 1, 1, 21, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert sorted(s.i for s in Sample.objects.filter(ts__range=(low, high))) == [1, 2, 3]
    assert sorted(s.i for s in Sample.objects.filter(ts__gt=low, ts__lt=high)) == [2]
    assert sorted(s.i for s in Sample.objects.filter(ts__gte=high)) == [3, 4, 5]
    assert (
        Sample.objects.get(ts=chronological[3].astimezone(dt.timezone(dt.timedelta(hours=-3))))
        == by_index[3]
    )


def test_microsecond_neighbours_stay_distinct(db: str) -> None:
    base = dt.datetime(2024, 6, 1, 12, 0, 0, 999999, tzinfo=UTC)
    values = [base - dt.timedelta(microseconds=1), base, base + dt.timedelta(microseconds=1)]
    for i, value in enumerate(values):
        Sample.objects.create(ts=value, i=i)
    assert [s.ts for s in Sample.objects.order_by("ts")] == values
    assert [s.i for s in Sample.objects.filter(ts__gt=base)] == [2]


# --------------------------------------------------------------- A12 datetimes


def test_aware_datetime_into_naive_fields_is_refused(db: str, reject: Any) -> None:
    """A12 "aware into a naive field": strict. An aware datetime given to a DateField or a
    TimeField raises ValueError naming the field (which date or time it means depends on a
    time zone the caller must choose), before any SQL."""
    value = dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with reject(ValueError, "'day'"):
        Sample.objects.create(day=value)
    with reject(ValueError, "'tm'"):
        Sample.objects.create(tm=value)


def test_datetime_outside_utc_range_names_the_field(db: str, reject: Any) -> None:
    """A12/A13 messages: ``create(ts=datetime(1, 1, 1, tzinfo=+01:00))`` (and 9999-12-31 23:00
    at -02:00) cannot be represented in UTC; orm lets ``astimezone`` raise a bare
    ``OverflowError("date value out of range")`` that names neither field nor value.
    Expected: ValueError (or DataError) naming 'ts' and the value, before SQL."""
    for value in (
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-2))),
    ):
        with reject((ValueError, orm.DataError), "'ts'"):
            Sample.objects.create(ts=value)
