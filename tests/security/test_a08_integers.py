"""A8: integers outside the column type, fractions, bools and junk strings.

Writes (``create``, ``save``, ``update``, ``bulk_create``, ``bulk_update``,
``get_or_create``) of a value outside the column's range raise one ORM
``DataError`` naming the field, before any SQL, on every backend. Lookups with
such a value are answered without error (``=``/``>`` match nothing, ``<``
matches everything). Fractions are refused (never rounded or truncated),
bools are refused for IntegerField, ``'12x'`` is a ValueError.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import DataError, F
from tests.security.corpus import INT_BAD_VALUES, INT_OUT_OF_RANGE
from tests.security.models import Sample

RANGES = {
    "small": (-(2**15), 2**15 - 1),
    "i": (-(2**31), 2**31 - 1),
    "positive": (0, 2**31 - 1),
    "big": (-(2**63), 2**63 - 1),
}
OVERFLOWS = [
    (field, value)
    for field, (low, high) in RANGES.items()
    for value in sorted({low - 1, high + 1, *INT_OUT_OF_RANGE})
    if not low <= value <= high
]


@pytest.fixture
def stored(db: str) -> Sample:
    return Sample.objects.create(i=5, big=5, small=5, positive=5)


def write_paths(field: str, value: Any, stored: Sample) -> list[tuple[str, Any]]:
    return [
        ("create", lambda: Sample.objects.create(**{field: value})),
        ("update", lambda: Sample.objects.update(**{field: value})),
        ("filtered update", lambda: Sample.objects.filter(pk=stored.pk).update(**{field: value})),
        ("bulk_create", lambda: Sample.objects.bulk_create([Sample(), Sample(**{field: value})])),
        ("save new", lambda: Sample(**{field: value}).save()),
    ]


@pytest.mark.parametrize("field,value", OVERFLOWS, ids=lambda v: str(v))
def test_out_of_range_write_is_one_dataerror_before_sql(
    stored: Sample, reject: Any, snapshot: Any, field: str, value: int
) -> None:
    before = snapshot(Sample)
    for label, call in write_paths(field, value, stored):
        with reject(DataError, f"{value}.*'{field}'.*out of range") as info:
            call()
        assert info.value.__cause__ is None, (
            f"{label}: must be the ORM's own check, not a driver error"
        )
    obj = Sample.objects.get(pk=stored.pk)
    setattr(obj, field, value)
    with reject(DataError, f"'{field}'"):
        obj.save()
    objs = list(Sample.objects.all())
    setattr(objs[0], field, value)
    with reject(DataError, f"'{field}'"):
        Sample.objects.bulk_update(objs, [field])
    assert snapshot(Sample) == before


@pytest.mark.parametrize("field,value", OVERFLOWS[:4], ids=lambda v: str(v))
def test_get_or_create_out_of_range_writes_nothing(
    stored: Sample, count_queries: Any, snapshot: Any, field: str, value: int
) -> None:
    before = snapshot(Sample)
    with count_queries() as ctx, pytest.raises(DataError, match=f"'{field}'"):
        Sample.objects.get_or_create(code="new", defaults={field: value})
    assert all(sql.lstrip().upper().startswith("SELECT") for sql, _ in ctx.queries), ctx.queries
    assert snapshot(Sample) == before


@pytest.mark.parametrize("field", list(RANGES))
def test_boundaries_are_stored_exactly(db: str, field: str) -> None:
    """Control: both ends of each range are accepted and read back unchanged."""
    low, high = RANGES[field]
    for value in (low, high):
        obj = Sample.objects.create(**{field: value})
        assert getattr(Sample.objects.get(pk=obj.pk), field) == value


@pytest.mark.parametrize("value", INT_OUT_OF_RANGE)
@pytest.mark.parametrize("field", ["i", "big"])
def test_lookups_with_huge_values_answer_without_error(
    stored: Sample, field: str, value: int
) -> None:
    everything = [stored]
    assert list(Sample.objects.filter(**{field: value})) == []
    assert list(Sample.objects.filter(**{f"{field}__in": [value]})) == []
    assert list(Sample.objects.filter(**{f"{field}__in": [value, 5]})) == everything
    assert list(Sample.objects.exclude(**{field: value})) == everything
    assert (
        list(Sample.objects.filter(**{f"{field}__range": (-abs(value), abs(value))})) == everything
    )
    assert list(Sample.objects.filter(**{f"{field}__range": (abs(value), 2 * abs(value))})) == []
    if value > 0:
        assert list(Sample.objects.filter(**{f"{field}__gt": value})) == []
        assert list(Sample.objects.filter(**{f"{field}__gte": value})) == []
        assert list(Sample.objects.filter(**{f"{field}__lt": value})) == everything
        assert list(Sample.objects.filter(**{f"{field}__lte": value})) == everything
    else:
        assert list(Sample.objects.filter(**{f"{field}__lt": value})) == []
        assert list(Sample.objects.filter(**{f"{field}__gt": value})) == everything


@pytest.mark.parametrize("value,error", INT_BAD_VALUES, ids=repr)
def test_bad_integer_values_refused(
    stored: Sample, reject: Any, snapshot: Any, value: Any, error: type[Exception]
) -> None:
    before = snapshot(Sample)
    with reject(error, "'i'"):
        Sample.objects.create(i=value)
    with reject(error, "'i'"):
        Sample.objects.update(i=value)
    with reject(error, "'i'"):
        Sample.objects.bulk_create([Sample(i=value)])
    with reject(error, "'i'"):
        list(Sample.objects.filter(i=value))
    assert snapshot(Sample) == before


def test_fraction_never_truncated(stored: Sample, reject: Any) -> None:
    """Django stores 1.9 as 1; orm refuses it and says fractions are not rounded."""
    with reject(ValueError, "not rounded"):
        Sample.objects.create(i=1.9)
    assert Sample.objects.filter(i=1).count() == 0


def test_control_integral_values_of_other_types(db: str) -> None:
    """Control: integral floats/Decimals and numeric strings are exact, so they are accepted."""
    from decimal import Decimal

    for value in (2.0, Decimal("3"), "4", " 6 "):
        obj = Sample.objects.create(i=value)
        assert Sample.objects.get(pk=obj.pk).i == int(Decimal(str(value).strip()))


# ---------------------------------------------------------------- A8 integers


def test_out_of_range_value_inside_expression(db: str, reject: Any, snapshot: Any) -> None:
    """A8 writes: ``update(i=F("i") + 2**63)`` escapes as the driver's raw OverflowError
    after the UPDATE was attempted; the ``Value(2**63)`` inside the expression is never
    range-checked. Expected: one ORM DataError naming the field, before SQL."""
    Sample.objects.create(i=1)
    before = snapshot(Sample)
    with reject(orm.DataError, "'i'"):
        Sample.objects.update(i=F("i") + 2**63)
    assert snapshot(Sample) == before
