"""``bulk_create`` prepares values column by column (issue 19 item 3): the same values and errors as row by row."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm.db.connections import connections
from orm.exceptions import DataError
from orm.query import insert_values
from orm.query.writes import _insert_fields, _insert_value
from tests.models import AllFields, Author, Book


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # '1.50' must not become '1.5'
    # psycopg's Jsonb wrapper has no equality of its own: compare what it wraps.
    return value.obj if type(value).__name__ == "Jsonb" else value


def _typed(rows: list[Any]) -> list[Any]:
    # Exact types too: 1 == 1.0 == True.
    return [[(type(v), _plain(v)) for v in row] for row in rows]


def _same_as_row_by_row(model: Any, objs: list[Any]) -> None:
    connection = connections["default"]
    fields = _insert_fields(model, False)
    expected = [[_insert_value(f, obj, connection) for f in fields] for obj in objs]
    assert _typed([list(row) for row in insert_values.rows(fields, objs, connection)]) == _typed(
        expected
    )


def test_values_equal_the_field_chain(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    books = [
        Book(
            title="plain",
            author=author,
            price=Decimal("0.125"),
            pages=1,
            published=datetime.date(2020, 1, 1),
        ),
        Book(
            title="é unicode ☃",
            author_id=author.pk,
            price=Decimal("-0.00"),
            pages=2**31 - 1,
            published=datetime.date(1, 1, 1),
            data={"k": [1, None]},
        ),
        Book(
            title="x" * 200,
            author_id=author.pk,
            price=Decimal("999999.994"),
            pages=None,
            published=None,
        ),
        Book(
            title="str values",
            author_id=str(author.pk),
            price="12.3",
            pages="7",
            published="2024-02-29",
        ),
        Book(title="float price", author_id=author.pk, price=0.1, pages=3.0),
    ]
    _same_as_row_by_row(Book, books)
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
    _same_as_row_by_row(
        AllFields,
        [
            AllFields(),
            AllFields(
                small_int=-32768,
                big_int=2**63 - 1,
                decimal_value=Decimal("12345678.12345"),
                char_value="c",
                uuid_value=uuid.UUID(int=5),
                datetime_value=when,
                time_value=datetime.time(1, 2),
                duration_value=datetime.timedelta(seconds=-1),
                binary_value=b"\x00",
                json_value=[1, "two"],
                bool_value=True,
                null_bool=None,
            ),
        ],
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        # The first invalid value in row order is reported, whichever column holds it.
        ([{"title": "ok", "pages": 2**31}, {"title": "y" * 201, "pages": 1}], "out of range"),
        ([{"title": "y" * 201, "pages": 1}, {"title": "ok", "pages": 2**31}], "max_length is 200"),
        ([{"title": "nul\x00", "pages": 1}], "NUL"),
        ([{"title": "ok", "pages": 1, "price": Decimal("1234567.00")}], "too many digits"),
    ],
)
def test_errors_are_the_row_by_row_ones(db: str, rows: list[dict[str, Any]], message: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    with pytest.raises(DataError, match=message):
        Book.objects.bulk_create([Book(author=author, **row) for row in rows])
    assert Book.objects.count() == 0


def test_a_custom_field_keeps_its_own_preparation(db: str) -> None:
    class Upper(orm.CharField):  # type: ignore[type-arg]
        def get_prep_value(self, value: Any) -> Any:
            return super().get_prep_value(value).upper()

    field = Upper(max_length=10)
    field.name = field.attname = "title"
    obj = Book(title="shout")
    assert insert_values.column(field, [obj], connections["default"]) == ["SHOUT"]


def test_bulk_create_round_trip(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    made = Book.objects.bulk_create(
        [
            Book(
                title=f"b{i}",
                author=author,
                price=Decimal(f"{i}.{i:02d}"),
                pages=i,
                published=datetime.date(2020, 1, 1) + datetime.timedelta(days=i),
            )
            for i in range(30)
        ]
    )
    assert all(b.pk is not None for b in made)
    stored = list(Book.objects.order_by("id").values_list("title", "price", "pages", "published"))
    assert stored == [(b.title, b.price, b.pages, b.published) for b in made]


_HOSTILE_TEXT = [
    "",
    "NULL",
    "null",
    '"q"',
    "back\\slash",
    "{a,b}",
    " lead",
    "tab\there",
    "é ☃ 𝄞",
    "it's",
]


def _all_fields(i: int, text: str) -> AllFields:
    return AllFields(
        small_int=-32768 + i,
        int_value=None if i % 3 else 2**31 - 1,
        big_int=-(2**63) + i,
        positive_int=i,
        float_value=[0.1, -1e300, None][i % 3],
        decimal_value=Decimal(f"-{i}.0125"),
        bool_value=bool(i % 2),
        null_bool=[None, True, False][i % 3],
        char_value=text,
        text_value=text * 3,
        email_value=f"u{i}@example.com",
        uuid_value=uuid.UUID(int=i),
        date_value=datetime.date(1, 1, 1) + datetime.timedelta(days=i * 1000),
        datetime_value=datetime.datetime(2024, 2, 29, 23, 59, 59, i, tzinfo=datetime.UTC),
        time_value=datetime.time(23, 59, 59, 999999 - i),
        duration_value=datetime.timedelta(days=-i, microseconds=i),
        json_value={"text": text, "n": [i, None]},
        binary_value=bytes([0, i, 255]),
    )


def test_bulk_create_stores_what_create_stores(db: str) -> None:
    """Every column type with text the array forms must escape (quotes, braces, commas,
    NULL spelled out, backslashes): bulk_create's one statement (on PostgreSQL its
    binary or text arrays) stores exactly what one create() per row stores."""
    names = [f.attname for f in AllFields._meta.concrete_fields if not f.primary_key]
    AllFields.objects.bulk_create([_all_fields(i, t) for i, t in enumerate(_HOSTILE_TEXT)])
    for i, text in enumerate(_HOSTILE_TEXT):
        _all_fields(i, text).save()
    stored = list(AllFields.objects.order_by("id").values_list(*names))
    half = len(_HOSTILE_TEXT)
    assert len(stored) == 2 * half
    assert stored[:half] == stored[half:]
    assert [row[names.index("char_value")] for row in stored[:half]] == _HOSTILE_TEXT
