"""A9: NaN and infinities.

orm chose *reject* (RELIABILITY.md allows reject or exact round-trip): a
FloatField refuses NaN, +inf and -inf (also as strings or Decimals) with a
ValueError naming the field, before any SQL, on every write path and in
lookups, so SQLite can never turn them into NULL. A JSON document containing
NaN or an infinity anywhere is refused in Python (ValueError), as
``json.dumps(allow_nan=False)`` would.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.security.corpus import FLOAT_SPECIALS, JSON_WITH_NAN
from tests.security.models import Book, Sample


@pytest.fixture
def stored(db: str) -> Sample:
    return Sample.objects.create(fl=1.5, data={"ok": 1.5})


@pytest.mark.parametrize("value", FLOAT_SPECIALS, ids=repr)
def test_float_specials_rejected_everywhere(
    stored: Sample, reject: Any, snapshot: Any, value: Any
) -> None:
    before = snapshot(Sample)
    with reject(ValueError, "'fl'"):
        Sample.objects.create(fl=value)
    with reject(ValueError, "'fl'"):
        Sample.objects.update(fl=value)
    with reject(ValueError, "'fl'"):
        Sample.objects.bulk_create([Sample(fl=1.0), Sample(fl=value)])
    obj = Sample.objects.get(pk=stored.pk)
    obj.fl = value
    with reject(ValueError, "'fl'"):
        obj.save()
    with reject(ValueError, "'fl'"):
        list(Sample.objects.filter(fl=value))
    after = snapshot(Sample)
    assert after == before
    assert Sample.objects.filter(fl__isnull=True).count() == 0, "never stored as NULL"


@pytest.mark.parametrize("value", JSON_WITH_NAN, ids=repr)
def test_json_nan_rejected_in_python(
    stored: Sample, reject: Any, snapshot: Any, value: Any
) -> None:
    before = snapshot(Sample)
    with reject(ValueError, "not valid JSON"):
        Sample.objects.create(data=value)
    with reject(ValueError, "not valid JSON"):
        Sample.objects.update(data=value)
    with reject(ValueError, "not valid JSON"):
        Book.objects.bulk_create([Book(name="n", data=value)])
    with reject(ValueError):
        list(Sample.objects.filter(data=value))
    with reject(ValueError):
        list(Sample.objects.filter(data__ok=value))
    assert snapshot(Sample) == before


@pytest.mark.parametrize(
    "value", [0.1, -0.0, 1e308, -1e308, 5e-324, 2.0**53 + 1, math.pi, "1e3"], ids=repr
)
def test_control_finite_floats_roundtrip(db: str, value: Any) -> None:
    obj = Sample.objects.create(fl=value, data={"v": float(value)})
    fresh = Sample.objects.get(pk=obj.pk)
    assert fresh.fl == float(value)
    if db == "postgresql" and abs(float(value)) >= 1e16:
        # jsonb keeps numbers as exact decimals: 1e308 comes back as an int of 309
        # digits (equal in value, not in type) - documented in docs/postgresql.md.
        assert float(fresh.data["v"]) == float(value)
    else:
        assert fresh.data == {"v": float(value)}


# ---------------------------------------------------------------- A9 floats


def test_huge_int_into_floatfield(db: str, reject: Any) -> None:
    """A9 (minor): ``create(fl=2**1024)`` raises a bare ``OverflowError("int too large to
    convert to float")`` that does not name the field (every other bad float is a
    ValueError naming it). Expected: ValueError naming 'fl', before SQL."""
    with reject(ValueError, "'fl'"):
        Sample.objects.create(fl=2**1024)
