"""A10: decimals into ``DecimalField(max_digits=5, decimal_places=2)``.

- NaN / sNaN / infinities → ``ValidationError`` (also from ``full_clean()``
  and in lookups), before any SQL.
- Too many digits before the point → orm's ``DataError`` naming the field,
  before any SQL, on every backend (SQLite would store it).
- Extra decimal places are rounded **half-even** (banker's rounding) on
  every write path; a value that rounds up past the limit (999.995) is too
  many digits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orm import DataError, ValidationError
from tests.security.corpus import DECIMAL_NOT_FINITE, DECIMAL_OVERFLOW, DECIMAL_ROUNDING
from tests.security.models import Sample


@pytest.fixture
def stored(db: str) -> Sample:
    return Sample.objects.create(dec=Decimal("12.34"))


@pytest.mark.parametrize("value", DECIMAL_NOT_FINITE, ids=repr)
def test_not_finite_is_validation_error(
    stored: Sample, reject: Any, snapshot: Any, value: Any
) -> None:
    before = snapshot(Sample)
    with reject(ValidationError, "'dec'"):
        Sample.objects.create(dec=value)
    with reject(ValidationError, "'dec'"):
        Sample.objects.update(dec=value)
    with reject(ValidationError, "'dec'"):
        Sample.objects.bulk_create([Sample(dec=value)])
    with reject(ValidationError, "'dec'"):
        list(Sample.objects.filter(dec=value))
    with pytest.raises(ValidationError) as info:
        Sample(dec=value).full_clean()
    assert "dec" in info.value.message_dict
    assert snapshot(Sample) == before


@pytest.mark.parametrize("value", DECIMAL_OVERFLOW, ids=repr)
def test_overflow_is_dataerror_before_sql(
    stored: Sample, reject: Any, snapshot: Any, value: Any
) -> None:
    before = snapshot(Sample)
    with reject(DataError, "'dec' has too many digits"):
        Sample.objects.create(dec=value)
    with reject(DataError, "'dec'"):
        Sample.objects.filter(pk=stored.pk).update(dec=value)
    with reject(DataError, "'dec'"):
        Sample.objects.bulk_create([Sample(dec=Decimal("1")), Sample(dec=value)])
    obj = Sample.objects.get(pk=stored.pk)
    obj.dec = value
    with reject(DataError, "'dec'"):
        obj.save()
    assert snapshot(Sample) == before


@pytest.mark.parametrize("value", DECIMAL_OVERFLOW[:3], ids=repr)
def test_overflow_in_lookup_matches_nothing(stored: Sample, value: Any) -> None:
    assert list(Sample.objects.filter(dec=value)) == []
    assert list(Sample.objects.filter(dec__lt=value)) == ([stored] if Decimal(value) > 0 else [])


@pytest.mark.parametrize("value,expected", DECIMAL_ROUNDING, ids=repr)
def test_extra_places_round_half_even(db: str, value: Any, expected: Decimal) -> None:
    created = Sample.objects.create(dec=value)
    assert Sample.objects.get(pk=created.pk).dec == expected
    updated = Sample.objects.create()
    Sample.objects.filter(pk=updated.pk).update(dec=value)
    assert Sample.objects.get(pk=updated.pk).dec == expected
    [bulk] = Sample.objects.bulk_create([Sample(dec=value)])
    assert Sample.objects.get(pk=bulk.pk).dec == expected


def test_rounding_is_not_half_up(db: str) -> None:
    """The documented mode is ROUND_HALF_EVEN: 1.245 → 1.24 (half-up would give 1.25)."""
    obj = Sample.objects.create(dec=Decimal("1.245"))
    assert Sample.objects.get(pk=obj.pk).dec == Decimal("1.24")
    assert Sample.objects.get(pk=obj.pk).dec.as_tuple().exponent == -2


@pytest.mark.parametrize("value", ["999.99", "-999.99", "0.01", "0", "100"])
def test_control_limits_roundtrip(db: str, value: str) -> None:
    obj = Sample.objects.create(dec=Decimal(value))
    assert Sample.objects.get(pk=obj.pk).dec == Decimal(value)
