"""Every field type round-trips: the value written is the value read, with the right type."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest

import orm
from tests.models import AllFields, Author, Book, Token

UTC = datetime.UTC
EST = datetime.timezone(datetime.timedelta(hours=-5))
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))

SAMPLE: dict[str, Any] = {
    "small_int": -32768,
    "int_value": 2147483647,
    "big_int": 9223372036854775807,
    "positive_int": 0,
    "float_value": -0.1,
    "decimal_value": Decimal("12345678.1234"),
    "bool_value": True,
    "null_bool": False,
    "char_value": "héllo ✓ 日本 '\"",
    "text_value": "line 1\nline 2 with 100% and %s and %% and 'quotes' \"double\"\t\\",
    "email_value": "someone@example.com",
    "slug_value": "a-slug_1",
    "url_value": "https://example.com/path?q=1&r=%20",
    "uuid_value": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "date_value": datetime.date(2024, 2, 29),
    "datetime_value": datetime.datetime(2024, 3, 10, 23, 30, 15, 123456, tzinfo=UTC),
    "time_value": datetime.time(23, 59, 59, 999999),
    "duration_value": datetime.timedelta(days=3, hours=4, microseconds=7),
    "json_value": {"a": [1, 2.5, None, True, False], "nested": {"k": "v"}, "ü": "ß", "%total": 10},
    "binary_value": bytes(range(256)),
}


def test_every_field_round_trips_through_get(db: str) -> None:
    obj = AllFields.objects.create(**SAMPLE)
    fetched = AllFields.objects.get(pk=obj.pk)
    for name, expected in SAMPLE.items():
        value = getattr(fetched, name)
        assert value == expected, name
        assert type(value) is type(expected), name


def test_every_field_round_trips_through_values(db: str) -> None:
    AllFields.objects.create(**SAMPLE)
    row = AllFields.objects.values(*SAMPLE).get()
    assert row == SAMPLE
    assert tuple(AllFields.objects.values_list(*SAMPLE).get()) == tuple(SAMPLE.values())


def test_every_field_round_trips_through_refresh_from_db(db: str) -> None:
    obj = AllFields.objects.create(**SAMPLE)
    for name in SAMPLE:
        setattr(
            obj,
            name,
            None if name not in ("bool_value", "char_value", "text_value") else obj.__dict__[name],
        )
    obj.refresh_from_db()
    for name, expected in SAMPLE.items():
        assert getattr(obj, name) == expected, name


def test_nullable_fields_store_sql_null(db: str) -> None:
    obj = AllFields.objects.create()
    fetched = AllFields.objects.get(pk=obj.pk)
    for name in SAMPLE:
        if name in ("bool_value", "char_value", "text_value"):
            continue
        assert getattr(fetched, name) is None, name
    assert fetched.bool_value is False
    assert fetched.char_value == ""
    assert fetched.text_value == ""
    assert AllFields.objects.filter(json_value__isnull=True).count() == 1
    assert AllFields.objects.filter(binary_value__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("small_int", [-32768, 0, 32767]),
        ("int_value", [-2147483648, 2147483647]),
        ("big_int", [-9223372036854775808, 9223372036854775807]),
        ("positive_int", [0, 2147483647]),
        ("float_value", [1.5, -0.1, 1e300, 2.2250738585072014e-308, 0.0]),
        ("bool_value", [True, False]),
        ("null_bool", [True, False, None]),
        ("uuid_value", [uuid.uuid4(), uuid.UUID(int=0)]),
        ("date_value", [datetime.date(1, 1, 1), datetime.date(9999, 12, 31)]),
        ("time_value", [datetime.time(0, 0), datetime.time(12, 0, 0, 1)]),
        (
            "duration_value",
            [
                datetime.timedelta(0),
                datetime.timedelta(days=-1, seconds=5, microseconds=7),
                datetime.timedelta(days=10000, microseconds=1),
            ],
        ),
        ("json_value", [[1, "two", {"three": 3}], "just a string", 42, 1.25, True, {}, []]),
        ("binary_value", [b"", b"\x00\x01\xff", b"x" * 10_000]),
        ("text_value", ["", "x" * 1_000_000]),
    ],
)
def test_boundary_values_round_trip(db: str, field: str, values: list[Any]) -> None:
    pks = [AllFields.objects.create(**{field: value}).pk for value in values]
    got = [getattr(AllFields.objects.get(pk=pk), field) for pk in pks]
    assert got == values


def test_json_null_is_sql_null_and_none_inside_a_document_is_kept(db: str) -> None:
    a = AllFields.objects.create(json_value=None)
    b = AllFields.objects.create(json_value={"key": None})
    assert AllFields.objects.get(pk=a.pk).json_value is None
    assert AllFields.objects.get(pk=b.pk).json_value == {"key": None}
    assert list(AllFields.objects.filter(json_value__isnull=True).values_list("pk", flat=True)) == [
        a.pk
    ]


def test_binary_field_accepts_bytearray_and_memoryview(db: str) -> None:
    a = AllFields.objects.create(binary_value=bytearray(b"abc"))
    b = AllFields.objects.create(binary_value=memoryview(b"def"))
    assert AllFields.objects.get(pk=a.pk).binary_value == b"abc"
    assert AllFields.objects.get(pk=b.pk).binary_value == b"def"


# ------------------------------------------------------------------- datetimes


def test_aware_datetimes_come_back_in_utc(db: str) -> None:
    local = datetime.datetime(2024, 3, 10, 2, 30, 0, 500, tzinfo=EST)
    obj = AllFields.objects.create(datetime_value=local)
    value = AllFields.objects.get(pk=obj.pk).datetime_value
    assert value == local
    assert value.utcoffset() == datetime.timedelta(0)
    assert value == datetime.datetime(2024, 3, 10, 7, 30, 0, 500, tzinfo=UTC)
    assert value.microsecond == 500


def test_datetime_filters_and_ordering_with_mixed_offsets(db: str) -> None:
    # Same instants written with different offsets compare and sort as instants.
    early = AllFields.objects.create(
        char_value="early", datetime_value=datetime.datetime(2024, 1, 1, 12, 0, tzinfo=IST)
    )  # 06:30 UTC
    late = AllFields.objects.create(
        char_value="late", datetime_value=datetime.datetime(2024, 1, 1, 2, 0, tzinfo=EST)
    )  # 07:00 UTC
    assert list(
        AllFields.objects.order_by("datetime_value").values_list("char_value", flat=True)
    ) == [
        "early",
        "late",
    ]
    assert (
        AllFields.objects.get(datetime_value=datetime.datetime(2024, 1, 1, 6, 30, tzinfo=UTC)).pk
        == early.pk
    )
    boundary = datetime.datetime(2024, 1, 1, 1, 45, tzinfo=EST)  # 06:45 UTC
    assert list(
        AllFields.objects.filter(datetime_value__gt=boundary).values_list("pk", flat=True)
    ) == [
        late.pk,
    ]
    assert list(
        AllFields.objects.filter(
            datetime_value__range=(boundary, boundary + datetime.timedelta(hours=1))
        ).values_list("pk", flat=True)
    ) == [late.pk]


def test_naive_datetime_is_refused_and_nothing_is_written(db: str) -> None:
    naive = datetime.datetime(2024, 1, 1, 12, 0)
    with pytest.raises(ValueError, match="naive"):
        AllFields.objects.create(datetime_value=naive)
    assert AllFields.objects.count() == 0
    with pytest.raises(ValueError, match="naive"):
        AllFields.objects.filter(datetime_value=naive).count()


def test_auto_now_add_is_aware_utc_and_close_to_now(db: str) -> None:
    before = datetime.datetime.now(UTC)
    author = Author.objects.create(name="Now", email="now@example.com")
    after = datetime.datetime.now(UTC)
    stored = Author.objects.get(pk=author.pk).created
    assert stored.utcoffset() == datetime.timedelta(0)
    assert before <= stored <= after
    assert stored == author.created


# --------------------------------------------------------------------- decimals


def test_decimal_comes_back_with_declared_places(db: str) -> None:
    author = Author.objects.create(name="D", email="d@example.com")
    book = Book.objects.create(title="Cheap", author=author, price=Decimal("5"))
    free = Book.objects.create(title="Free", author=author)  # default=0
    assert str(Book.objects.get(pk=book.pk).price) == "5.00"
    assert str(Book.objects.get(pk=free.pk).price) == "0.00"
    obj = AllFields.objects.create(decimal_value=Decimal("1.5"))
    value = AllFields.objects.get(pk=obj.pk).decimal_value
    assert str(value) == "1.5000"
    assert value.as_tuple().exponent == -4


def test_decimal_extra_places_round_half_even(db: str) -> None:
    author = Author.objects.create(name="D", email="d@example.com")
    a = Book.objects.create(title="a", author=author, price=Decimal("1.235"))
    b = Book.objects.create(title="b", author=author, price=Decimal("1.245"))
    assert Book.objects.get(pk=a.pk).price == Decimal("1.24")
    assert Book.objects.get(pk=b.pk).price == Decimal("1.24")


def test_decimal_too_many_digits_is_refused(db: str) -> None:
    author = Author.objects.create(name="D", email="d@example.com")
    with pytest.raises(orm.DataError):
        Book.objects.create(title="Pricey", author=author, price=Decimal("1000000.00"))
    assert Book.objects.count() == 0
    Book.objects.create(title="Max", author=author, price=Decimal("999999.99"))
    assert Book.objects.get().price == Decimal("999999.99")


def test_decimal_filters_compare_numerically(db: str) -> None:
    AllFields.objects.create(decimal_value=Decimal("1.5"))
    AllFields.objects.create(decimal_value=Decimal("10.25"))
    assert AllFields.objects.filter(decimal_value=Decimal("1.50")).count() == 1
    assert AllFields.objects.filter(decimal_value__gt=Decimal("2")).get().decimal_value == Decimal(
        "10.25"
    )
    assert AllFields.objects.filter(decimal_value__in=[Decimal("1.5"), Decimal("99")]).count() == 1


# ------------------------------------------------------------ typed filtering


@pytest.mark.parametrize(
    "field",
    [
        "uuid_value",
        "date_value",
        "datetime_value",
        "time_value",
        "duration_value",
        "binary_value",
        "float_value",
        "big_int",
        "char_value",
        "text_value",
        "bool_value",
        "url_value",
    ],
)
def test_exact_and_in_lookups_match_stored_values(db: str, field: str) -> None:
    obj = AllFields.objects.create(**SAMPLE)
    AllFields.objects.create()  # a row with NULLs/defaults that must not match
    value = SAMPLE[field]
    assert list(AllFields.objects.filter(**{field: value}).values_list("pk", flat=True)) == [obj.pk]
    assert list(
        AllFields.objects.filter(**{f"{field}__in": [value]}).values_list("pk", flat=True)
    ) == [obj.pk]


def test_uuid_lookup_accepts_string_forms(db: str) -> None:
    value = uuid.uuid4()
    obj = AllFields.objects.create(uuid_value=str(value))
    assert AllFields.objects.get(uuid_value=str(value)).pk == obj.pk
    assert AllFields.objects.get(uuid_value=value.hex).pk == obj.pk
    assert AllFields.objects.get(pk=obj.pk).uuid_value == value


def test_uuid_primary_key_with_default(db: str) -> None:
    token = Token(label="first")
    assert isinstance(token.pk, uuid.UUID)
    token.save()
    token.label = "renamed"
    token.save()  # an update, not a second insert
    assert Token.objects.count() == 1
    fetched = Token.objects.get(pk=token.pk)
    assert fetched.label == "renamed"
    assert fetched.pk == token.pk
    assert Token.objects.in_bulk([token.pk]) == {token.pk: token}


# --------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("small_int", 32768, orm.DataError),
        ("int_value", 2**31, orm.DataError),
        ("big_int", 2**63, orm.DataError),
        ("positive_int", -1, orm.DataError),
        ("int_value", 1.9, ValueError),
        ("int_value", True, TypeError),
        ("int_value", "12x", ValueError),
        ("float_value", float("nan"), ValueError),
        ("float_value", float("inf"), ValueError),
        ("char_value", "x" * 21, orm.DataError),
        ("char_value", "a\x00b", orm.DataError),
        ("char_value", ["x"], TypeError),
        ("text_value", b"bytes", TypeError),
        ("json_value", {1, 2}, TypeError),
        ("json_value", {"x": float("nan")}, ValueError),
        ("uuid_value", "not-a-uuid", ValueError),
        ("date_value", "2024-13-01", ValueError),
        ("duration_value", 5, TypeError),
        ("binary_value", "text", TypeError),
        ("datetime_value", datetime.date(2024, 1, 1), TypeError),
    ],
)
def test_invalid_values_are_refused_before_writing(
    db: str, field: str, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error) as excinfo:
        AllFields.objects.create(**{field: value})
    assert field in str(excinfo.value)
    assert AllFields.objects.count() == 0


def test_integer_filter_out_of_range_is_just_empty(db: str) -> None:
    AllFields.objects.create(big_int=1)
    assert AllFields.objects.filter(big_int=2**70).count() == 0
    assert AllFields.objects.filter(big_int__gt=2**70).count() == 0
    assert AllFields.objects.filter(big_int__lt=2**70).count() == 1


def test_pk_lookup_with_non_numeric_string_names_field_and_value(db: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        Author.objects.filter(pk="abc").count()
    assert "'id'" in str(excinfo.value)
    assert "'abc'" in str(excinfo.value)
