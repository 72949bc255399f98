"""A11: strings into ``CharField(max_length=5)`` and ``TextField``.

- Longer than ``max_length`` (counted in characters) → orm's ``DataError``
  before any SQL on every backend (SQLite would store it).
- NUL → ``DataError`` naming the field (PostgreSQL cannot store it).
- Lone surrogate → ``DataError`` naming the field and the position.
- 1 MB of text round-trips exactly.
- Non-str (list, bytes, numbers, ...) → ``TypeError``: no ``str()`` coercion.

A lone surrogate in a lookup, pattern lookups included, is the same
``DataError`` (tests/integration/test_docs_claims.py).
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import DataError, ValidationError
from tests.security.corpus import (
    FITS,
    NOT_STR,
    NUL_STRINGS,
    ONE_MB_TEXT,
    SURROGATE_STRINGS,
    TOO_LONG,
)
from tests.security.models import Sample


@pytest.fixture
def stored(db: str) -> Sample:
    return Sample.objects.create(code="keep", text="keep")


def every_write(field: str, value: Any) -> list[Any]:
    return [
        lambda: Sample.objects.create(**{field: value}),
        lambda: Sample.objects.update(**{field: value}),
        lambda: Sample.objects.bulk_create([Sample(), Sample(**{field: value})]),
        lambda: Sample.objects.get_or_create(i=424242, defaults={field: value}),
    ]


def assert_refused(
    stored: Sample,
    reject: Any,
    snapshot: Any,
    field: str,
    value: Any,
    error: type[Exception],
    match: str,
) -> None:
    before = snapshot(Sample)
    *direct, get_or_create = every_write(field, value)
    for call in direct:
        with reject(error, match):
            call()
    with pytest.raises(error, match=match):  # its lookup runs first, the INSERT never
        get_or_create()
    obj = Sample.objects.get(pk=stored.pk)
    setattr(obj, field, value)
    with reject(error, match):
        obj.save()
    assert snapshot(Sample) == before


def test_overlong_char(stored: Sample, reject: Any, snapshot: Any) -> None:
    assert_refused(
        stored,
        reject,
        snapshot,
        "code",
        TOO_LONG,
        DataError,
        "'code' is 10 characters long; max_length is 5",
    )


def test_overlong_full_clean(db: str) -> None:
    with pytest.raises(ValidationError) as info:
        Sample(code=TOO_LONG).full_clean()
    assert "code" in info.value.message_dict


@pytest.mark.parametrize("value", FITS)
def test_control_max_length_counts_characters(db: str, value: str) -> None:
    obj = Sample.objects.create(code=value)
    assert Sample.objects.get(pk=obj.pk).code == value


@pytest.mark.parametrize("value", NUL_STRINGS, ids=repr)
@pytest.mark.parametrize("field", ["code", "text"])
def test_nul_refused(stored: Sample, reject: Any, snapshot: Any, field: str, value: str) -> None:
    assert_refused(
        stored, reject, snapshot, field, value, DataError, f"'{field}' cannot store a NUL"
    )


@pytest.mark.parametrize("value", SURROGATE_STRINGS, ids=repr)
@pytest.mark.parametrize("field", ["code", "text"])
def test_surrogate_refused(
    stored: Sample, reject: Any, snapshot: Any, field: str, value: str
) -> None:
    assert_refused(
        stored,
        reject,
        snapshot,
        field,
        value,
        DataError,
        f"'{field}' got text that is not valid Unicode",
    )


def test_one_megabyte_roundtrips(db: str) -> None:
    assert len(ONE_MB_TEXT) == 1_048_576
    obj = Sample.objects.create(text=ONE_MB_TEXT)
    assert Sample.objects.get(pk=obj.pk).text == ONE_MB_TEXT
    assert Sample.objects.filter(text=ONE_MB_TEXT).count() == 1
    assert Sample.objects.filter(text__endswith=ONE_MB_TEXT[-1000:]).count() == 1
    Sample.objects.filter(pk=obj.pk).update(text=ONE_MB_TEXT[::-1])
    assert Sample.objects.get(pk=obj.pk).text == ONE_MB_TEXT[::-1]


@pytest.mark.parametrize("value", NOT_STR, ids=repr)
@pytest.mark.parametrize("field", ["code", "text"])
def test_non_str_is_typeerror_without_coercion(
    stored: Sample, reject: Any, snapshot: Any, field: str, value: Any
) -> None:
    assert_refused(stored, reject, snapshot, field, value, TypeError, f"'{field}' expected a str")
    with reject(TypeError, f"'{field}' expected a str"):
        list(Sample.objects.filter(**{field: value}))
    with reject(TypeError, f"'{field}' expected a str"):
        list(Sample.objects.filter(**{f"{field}__contains": value}))
    assert Sample.objects.filter(**{field: str(value)}).count() == 0, "nothing stored as str(value)"


# ---------------------------------------------------------------- A11 strings


def test_lone_surrogate_in_lookup(db: str, count_queries: Any) -> None:
    """A11 "surrogate → clear error": writes raise DataError naming the field, but a lookup
    ``filter(text="\\ud800")`` reaches the driver, which raises a raw UnicodeEncodeError
    ("'utf-8' codec can't encode character '\\ud800'...", no field name) after the statement
    was attempted. Expected: the writes' clear error before SQL, or simply 0 rows."""
    with count_queries() as ctx:
        try:
            result = list(Sample.objects.filter(text="\ud800"))
        except (orm.DataError, ValueError) as exc:
            assert not isinstance(exc, UnicodeError), f"raw driver error: {exc!r}"
            assert "'text'" in str(exc)
            assert ctx.queries == []
        else:
            assert result == []
