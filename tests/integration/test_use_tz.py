"""Projects without time zones (issue 16 item 8): ``orm.configure(..., use_tz=False)``
stores and returns naive datetimes; the default stays aware-only. Both backends."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

import orm
from orm.utils import timezone

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the tests reconfigure orm with and without use_tz.
pytestmark = pytest.mark.transactional

UTC = datetime.UTC


class Event(orm.Model):
    name = orm.CharField(max_length=20)
    at = orm.DateTimeField()
    stamped = orm.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "use_tz_tests"
        ordering = ["at"]


@pytest.fixture
def naive(backend: str) -> Iterator[str]:
    """The backend database, reconfigured with use_tz=False (restored afterwards)."""
    url = orm.connections.settings["default"].url
    orm.configure(url, use_tz=False)
    orm.create_tables(Event)
    try:
        yield backend
    finally:
        orm.configure(url)


def test_naive_datetimes_round_trip_as_given(naive: str) -> None:
    at = datetime.datetime(2024, 3, 1, 12, 30, 15, 123456)
    event = Event.objects.create(name="launch", at=at)
    loaded = Event.objects.get(pk=event.pk)
    assert loaded.at == at and loaded.at.tzinfo is None
    assert loaded.stamped.tzinfo is None
    assert abs(loaded.stamped - datetime.datetime.now()) < datetime.timedelta(minutes=5)
    assert list(Event.objects.values_list("at", flat=True)) == [at]


def test_naive_filters_order_and_update(naive: str) -> None:
    early = datetime.datetime(2024, 1, 1, 8)
    late = datetime.datetime(2024, 1, 1, 20)
    Event.objects.create(name="early", at=early)
    Event.objects.create(name="late", at=late)
    assert list(
        Event.objects.filter(at__gt=datetime.datetime(2024, 1, 1, 12)).values_list(
            "name", flat=True
        )
    ) == ["late"]
    assert list(Event.objects.filter(at__range=(early, late)).values_list("name", flat=True)) == [
        "early",
        "late",
    ]
    Event.objects.filter(name="early").update(at=datetime.datetime(2024, 1, 2, 0))
    assert Event.objects.get(name="early").at == datetime.datetime(2024, 1, 2, 0)
    assert Event.objects.latest("at").name == "early"


async def test_naive_async_twins(naive: str) -> None:
    at = datetime.datetime(2030, 5, 6, 7, 8, 9)
    await Event.objects.acreate(name="later", at=at)
    assert (await Event.objects.aget(name="later")).at == at


def test_aware_value_refused_without_time_zones_and_nothing_stored(naive: str) -> None:
    aware = datetime.datetime(2024, 3, 1, 12, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"received the aware datetime .* use_tz=False"):
        Event.objects.create(name="bad", at=aware)
    with pytest.raises(ValueError, match="received the aware datetime"):
        Event.objects.filter(at__lt=aware).count()
    event = Event.objects.create(name="ok", at=datetime.datetime(2024, 3, 1, 12))
    with pytest.raises(ValueError, match="received the aware datetime"):
        Event.objects.filter(pk=event.pk).update(at=aware)
    assert list(Event.objects.values_list("name", "at")) == [
        ("ok", datetime.datetime(2024, 3, 1, 12))
    ]


def test_default_stays_aware_only(db: str) -> None:
    assert timezone.use_tz()
    orm.create_tables(Event)
    at = datetime.datetime(2024, 3, 1, 12, tzinfo=UTC)
    Event.objects.create(name="aware", at=at)
    loaded = Event.objects.get(name="aware")
    assert loaded.at == at and loaded.at.utcoffset() == datetime.timedelta(0)
    with pytest.raises(ValueError, match="received the naive datetime"):
        Event.objects.create(name="naive", at=datetime.datetime(2024, 3, 1, 12))
    assert Event.objects.count() == 1


def test_switching_back_and_forth_reads_the_same_rows(backend: str) -> None:
    url = orm.connections.settings["default"].url
    orm.create_tables(Event)
    Event.objects.create(name="a", at=datetime.datetime(2024, 3, 1, 12, tzinfo=UTC))
    try:
        orm.configure(url, use_tz=False)
        assert Event.objects.get(name="a").at == datetime.datetime(2024, 3, 1, 12)
    finally:
        orm.configure(url)
    assert Event.objects.get(name="a").at == datetime.datetime(2024, 3, 1, 12, tzinfo=UTC)


def test_configure_refuses_a_non_bool_and_changes_nothing(backend: str) -> None:
    url = orm.connections.settings["default"].url
    with pytest.raises(TypeError, match=r"use_tz=\.\.\.\) takes True or False, not 'no'"):
        orm.configure(url, use_tz="no")  # type: ignore[arg-type]
    assert timezone.use_tz()
    with pytest.raises(orm.ImproperlyConfigured):
        orm.configure("nosuchdb://x", use_tz=False)
    assert timezone.use_tz()


def test_now_follows_the_setting() -> None:
    assert orm.fields.temporal.now().tzinfo is UTC if timezone.use_tz() else True
    timezone.set_use_tz(False)
    try:
        assert orm.fields.temporal.now().tzinfo is None
    finally:
        timezone.set_use_tz(True)
    assert orm.fields.temporal.now().tzinfo is UTC
