"""Positive type checks: every field class with and without ``null=True``.

Checked by ``tests/typing/test_typing.py`` under ``mypy --strict`` and pyright;
the file is never imported by the test run.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, assert_type

import orm
from orm.fields.base import ClassAttribute, Expression


class Author(orm.Model):
    name = orm.CharField(max_length=100)

    class Meta:
        app_label = "typing_ok"


class Row(orm.Model):
    text = orm.TextField()
    text_n = orm.TextField(null=True)
    char = orm.CharField(max_length=10)
    char_n = orm.CharField(max_length=10, null=True)
    email = orm.EmailField()
    email_n = orm.EmailField(null=True)
    slug = orm.SlugField()
    slug_n = orm.SlugField(null=True)
    url = orm.URLField()
    url_n = orm.URLField(null=True)
    integer = orm.IntegerField()
    integer_n = orm.IntegerField(null=True)
    small = orm.SmallIntegerField()
    small_n = orm.SmallIntegerField(null=True)
    big = orm.BigIntegerField()
    big_n = orm.BigIntegerField(null=True)
    pos = orm.PositiveIntegerField()
    pos_n = orm.PositiveIntegerField(null=True)
    pos_small = orm.PositiveSmallIntegerField()
    pos_small_n = orm.PositiveSmallIntegerField(null=True)
    pos_big = orm.PositiveBigIntegerField()
    pos_big_n = orm.PositiveBigIntegerField(null=True)
    floating = orm.FloatField()
    floating_n = orm.FloatField(null=True)
    dec = orm.DecimalField(max_digits=5, decimal_places=2)
    dec_n = orm.DecimalField(max_digits=5, decimal_places=2, null=True)
    flag = orm.BooleanField(default=False)
    flag_n = orm.BooleanField(null=True)
    day = orm.DateField()
    day_n = orm.DateField(null=True)
    moment = orm.DateTimeField(auto_now_add=True)
    moment_n = orm.DateTimeField(null=True)
    clock = orm.TimeField()
    clock_n = orm.TimeField(null=True)
    span = orm.DurationField()
    span_n = orm.DurationField(null=True)
    ident = orm.UUIDField(default=uuid.uuid4)
    ident_n = orm.UUIDField(null=True)
    blob = orm.BinaryField()
    blob_n = orm.BinaryField(null=True)
    ip = orm.GenericIPAddressField()
    ip_n = orm.GenericIPAddressField(null=True)
    doc = orm.JSONField(default=dict)
    scores: orm.JSONField[dict[str, int], dict[str, int]] = orm.JSONField(default=dict)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE)
    author_n = orm.ForeignKey(Author, on_delete=orm.SET_NULL, null=True, related_name="+")
    author_id: int
    profile = orm.OneToOneField(Author, on_delete=orm.CASCADE, related_name="row")
    lazy = orm.ForeignKey("Author", on_delete=orm.CASCADE, related_name="+")
    total = orm.GeneratedField(
        expression=orm.F("integer") * 2,
        output_field=orm.BigIntegerField(),
        db_persist=True,
    )
    total_n = orm.GeneratedField(
        expression=orm.F("integer_n") * 2,
        output_field=orm.BigIntegerField(null=True),
        db_persist=True,
    )

    class Meta:
        app_label = "typing_ok"


def check(row: Row) -> None:
    assert_type(row.text, str)
    assert_type(row.text_n, str | None)
    assert_type(row.char, str)
    assert_type(row.char_n, str | None)
    assert_type(row.email, str)
    assert_type(row.email_n, str | None)
    assert_type(row.slug, str)
    assert_type(row.slug_n, str | None)
    assert_type(row.url, str)
    assert_type(row.url_n, str | None)
    assert_type(row.integer, int)
    assert_type(row.integer_n, int | None)
    assert_type(row.small, int)
    assert_type(row.small_n, int | None)
    assert_type(row.big, int)
    assert_type(row.big_n, int | None)
    assert_type(row.pos, int)
    assert_type(row.pos_n, int | None)
    assert_type(row.pos_small, int)
    assert_type(row.pos_small_n, int | None)
    assert_type(row.pos_big, int)
    assert_type(row.pos_big_n, int | None)
    assert_type(row.floating, float)
    assert_type(row.floating_n, float | None)
    assert_type(row.dec, decimal.Decimal)
    assert_type(row.dec_n, decimal.Decimal | None)
    assert_type(row.flag, bool)
    assert_type(row.flag_n, bool | None)
    assert_type(row.day, datetime.date)
    assert_type(row.day_n, datetime.date | None)
    assert_type(row.moment, datetime.datetime)
    assert_type(row.moment_n, datetime.datetime | None)
    assert_type(row.clock, datetime.time)
    assert_type(row.clock_n, datetime.time | None)
    assert_type(row.span, datetime.timedelta)
    assert_type(row.span_n, datetime.timedelta | None)
    assert_type(row.ident, uuid.UUID)
    assert_type(row.ident_n, uuid.UUID | None)
    assert_type(row.blob, bytes)
    assert_type(row.blob_n, bytes | None)
    assert_type(row.ip, str)
    assert_type(row.ip_n, str | None)
    assert_type(row.doc, Any)
    assert_type(row.scores, dict[str, int])
    assert_type(row.author, Author)
    assert_type(row.author_n, Author | None)
    assert_type(row.author_id, int)
    assert_type(row.profile, Author)
    assert_type(row.lazy, Any)
    assert_type(row.total, int)
    assert_type(row.total_n, int | None)
    # Assignments take what the field converts on save, and expressions.
    row.dec = "1.50"
    row.integer = orm.F("integer") + 1
    row.char_n = None
    row.author_n = None
    row.day = "2024-01-31"
    # On the class: the descriptor in front of the field.
    title = Row.char
    assert_type(title, ClassAttribute[orm.CharField[str | Expression, str]])
    assert_type(title.field.max_length, int | None)


class Suit(orm.IntegerChoices):
    # A member is declared by its value and label (a tuple), or by its value alone.
    DIAMOND = 1, "Diamond"
    SPADE = 2


class Year(orm.TextChoices):
    FRESHMAN = "FR", "Freshman"
    SENIOR = "SR"


class Card(orm.Model):
    suit = orm.IntegerField(choices=Suit.choices, default=Suit.SPADE)
    year = orm.CharField(max_length=2, choices=Year, default=Year.FRESHMAN)

    class Meta:
        app_label = "typing_ok"


def check_choices(card: Card) -> None:
    assert_type(Suit.DIAMOND.label, str)
    assert_type(Year.FRESHMAN.label, str)
    card.suit = Suit.DIAMOND
    card.year = Year.SENIOR
