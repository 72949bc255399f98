"""Rejected values are quoted short in error messages (issue 11 item 4).

``filter(pk="x" * 2**20)`` used to raise a 1 MB message, and so did every
message that quotes a user value or name: field conversion and validation,
lookups, JSON, ``in_bulk``, unknown keywords, ``order_by`` terms, aliases. Each
now quotes at most 100 characters of the value's repr followed by its size
(``orm.utils.text.short_repr``); driver messages are cut at 2,000 characters,
the driver's own error (``__cause__``) keeping the whole text.
"""

from __future__ import annotations

import datetime
import decimal
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import orm
from orm.utils.text import short_repr

BIG = "x" * 2**20
SIZE = "(1048576 characters)"
# A message quoting one value stays well under this (the rest of the text
# names the field and the fix).
MAX_MESSAGE = 700


class Huge:
    """An object whose repr is a megabyte."""

    def __repr__(self) -> str:
        return "H" * 2**20


class Owner(orm.Model):
    name = orm.CharField(max_length=30, choices=[("a", "A"), ("b", "B")], default="a")

    class Meta:
        app_label = "i11_trunc"


class Thing(orm.Model):
    owner = orm.ForeignKey(Owner, on_delete=orm.CASCADE, null=True, related_name="things")
    number = orm.IntegerField(null=True)
    ratio = orm.FloatField(null=True)
    amount = orm.DecimalField(max_digits=8, decimal_places=2, null=True)
    flag = orm.BooleanField(null=True)
    token = orm.UUIDField(null=True)
    day = orm.DateField(null=True)
    moment = orm.DateTimeField(null=True)
    clock = orm.TimeField(null=True)
    span = orm.DurationField(null=True)
    blob = orm.BinaryField(null=True)
    label = orm.CharField(max_length=20, default="")
    doc = orm.JSONField(null=True)

    class Meta:
        app_label = "i11_trunc"


@pytest.fixture
def things(backend: str) -> Iterator[str]:
    orm.create_tables(Owner, Thing)
    yield backend


def q(**kwargs: Any) -> Callable[[], Any]:
    return lambda: list(Thing.objects.filter(**kwargs))


CASES: list[Any] = [
    # Field conversion of filter values.
    pytest.param(lambda: list(Owner.objects.filter(pk=BIG)), SIZE, id="filter-pk"),
    pytest.param(lambda: Owner.objects.get(pk=BIG), SIZE, id="get-pk"),
    pytest.param(lambda: Owner.objects.in_bulk([BIG]), SIZE, id="in_bulk"),
    pytest.param(q(number=BIG), SIZE, id="integer"),
    pytest.param(q(ratio=BIG), SIZE, id="float"),
    pytest.param(q(amount=BIG), SIZE, id="decimal"),
    pytest.param(q(flag=BIG), SIZE, id="boolean"),
    pytest.param(q(token=BIG), SIZE, id="uuid"),
    pytest.param(q(day=BIG), SIZE, id="date"),
    pytest.param(q(moment=BIG), SIZE, id="datetime"),
    pytest.param(q(clock=BIG), SIZE, id="time"),
    pytest.param(q(span=BIG), SIZE, id="duration"),
    pytest.param(q(blob=BIG), SIZE, id="binary"),
    pytest.param(q(label=Huge()), SIZE, id="char-object"),
    pytest.param(q(owner=BIG), SIZE, id="foreign-key"),
    # Writes.
    pytest.param(lambda: Thing.objects.create(number=10**5000), "about 5001 digits", id="huge-int"),
    pytest.param(
        lambda: Thing.objects.create(number=10**200), "about 201 digits", id="out-of-range"
    ),
    pytest.param(
        lambda: Thing.objects.create(amount=decimal.Decimal("1" * 3000)),
        "(3000 characters)",
        id="decimal-digits",
    ),
    pytest.param(lambda: Thing.objects.create(doc={Huge(): 1}), SIZE, id="json-key"),
    pytest.param(
        lambda: Thing.objects.create(doc={BIG: float("nan")}),
        "(1048577 characters)",
        id="json-path",
    ),
    pytest.param(lambda: Thing(owner=BIG), SIZE, id="assign-fk"),
    pytest.param(lambda: Owner(name=BIG + "z").full_clean(), "characters)", id="choices"),
    pytest.param(
        lambda: Thing.objects.update(number=orm.Value(10**5000) + 1),
        "about 5001 digits",
        id="update-expression",
    ),
    # Names given by the caller.
    pytest.param(q(**{BIG: 1}), SIZE, id="filter-keyword"),
    pytest.param(q(**{"day__" + BIG: 1}), SIZE, id="transform"),
    pytest.param(lambda: list(Thing.objects.order_by(BIG)), SIZE, id="order_by"),
    pytest.param(lambda: list(Thing.objects.order_by(Huge())), SIZE, id="order_by-object"),
    pytest.param(lambda: list(Thing.objects.values(BIG)), SIZE, id="values"),
    pytest.param(lambda: list(Thing.objects.only(BIG)), SIZE, id="only"),
    pytest.param(lambda: list(Thing.objects.select_related(BIG)), SIZE, id="select_related"),
    pytest.param(lambda: list(Owner.objects.prefetch_related(BIG)), SIZE, id="prefetch_related"),
    pytest.param(lambda: list(Owner.objects.prefetch_related(Huge())), SIZE, id="prefetch-object"),
    pytest.param(
        lambda: list(Thing.objects.annotate(**{BIG + ";": orm.F("number")})),
        "(1048577 characters)",
        id="alias",
    ),
    pytest.param(lambda: list(Thing.objects.annotate(x=Huge())), SIZE, id="annotate-object"),
    pytest.param(lambda: list(Thing.objects.using(BIG)), SIZE, id="using"),
    pytest.param(lambda: list(Thing.objects.filter(number=orm.F(BIG))), SIZE, id="F"),
    pytest.param(lambda: list(Thing.objects.filter(pk__in=Huge())), SIZE, id="in-lookup"),
    pytest.param(lambda: list(Thing.objects.filter(label__regex=Huge())), SIZE, id="regex-lookup"),
    pytest.param(lambda: Thing.objects.update(**{BIG: 1}), SIZE, id="update-keyword"),
    pytest.param(lambda: Thing.objects.bulk_update([], [BIG]), SIZE, id="bulk_update"),
    pytest.param(lambda: Thing(**{BIG: 1}), SIZE, id="model-keyword"),
    pytest.param(
        lambda: Owner.objects.get_or_create(defaults={BIG: 1}, name="a"), SIZE, id="defaults"
    ),
    pytest.param(lambda: Owner.objects.in_bulk([1], field_name=BIG), SIZE, id="in_bulk-field"),
    pytest.param(lambda: Owner.objects.iterator(chunk_size=BIG), SIZE, id="chunk_size"),
    pytest.param(lambda: orm.Q(Huge()), SIZE, id="Q"),
    pytest.param(lambda: Thing._meta.get_field(BIG), SIZE, id="get_field"),
]


@pytest.mark.parametrize(("call", "size"), CASES)
def test_messages_quote_values_short(things: str, call: Callable[[], Any], size: str) -> None:
    with pytest.raises(Exception) as info:  # noqa: PT011 - each case raises its own kind
        call()
    message = str(info.value)
    assert size in message, message[:300]
    assert len(message) < MAX_MESSAGE, message[:300]
    # Chained errors (a ValidationError from a ValueError) are short too.
    assert len("".join(traceback.format_exception(info.value))) < 20 * MAX_MESSAGE


def test_driver_messages_are_cut_and_the_cause_keeps_them(things: str) -> None:
    with pytest.raises(orm.DatabaseError) as info, orm.connection.cursor() as cursor:
        if orm.connection.vendor == "sqlite":
            cursor.execute(f"SELECT {BIG}")  # SQLite quotes the token it could not parse
        else:
            cursor.execute("SELECT %s::integer", [BIG])  # PostgreSQL quotes the value
    message = str(info.value)
    assert len(message) < 2200
    assert "the driver's whole message is on __cause__" in message
    assert len(str(info.value.__cause__)) > 2**20  # nothing is lost


def test_short_repr_shape() -> None:
    assert short_repr("abc") == "'abc'"
    assert short_repr(BIG) == "'" + "x" * 99 + "... " + SIZE
    assert short_repr(b"y" * 500).endswith("... (500 bytes)")
    assert short_repr(list(range(1000))).endswith("... (1000 items)")
    assert short_repr(10**5000) == "<int of about 5001 digits>"
    assert short_repr(datetime.date(2024, 1, 2)) == "datetime.date(2024, 1, 2)"

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    assert "Broken" in short_repr(Broken())
