"""The same call gives the same result (or the same error) on SQLite and PostgreSQL.

Issue 11, items 13 and 21: NOT NULL violations and subclasses of built-in
fields. Every test runs on both backends.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import orm
from tests.conftest import QueryCounter

APP = "i11_parity"


class Required(orm.Model):
    title = orm.CharField(max_length=50)
    pages = orm.IntegerField(default=0)

    class Meta:
        app_label = APP


# Subclasses of built-in fields that change nothing about the column (item 21).
class CashField(orm.DecimalField):
    pass


class LedgerIdField(orm.BigAutoField):
    pass


class CountField(orm.PositiveIntegerField):
    pass


class WordField(orm.CharField):
    pass


class StampField(orm.DateTimeField):
    pass


class FlagField(orm.BooleanField):
    pass


class TokenField(orm.UUIDField):
    pass


class SmallCountField(orm.SmallIntegerField):
    pass


class Ledger(orm.Model):
    id = LedgerIdField(primary_key=True)
    cash = CashField(max_digits=8, decimal_places=2)
    count = CountField(default=0)
    word = WordField(max_length=20, default="", db_index=True)
    stamp = StampField(null=True)
    flag = FlagField(default=False)
    token = TokenField(null=True)
    small = SmallCountField(default=0)

    class Meta:
        app_label = APP


class LedgerSmallId(orm.SmallAutoField):
    pass


class Entry(orm.Model):
    id = LedgerSmallId(primary_key=True)
    ledger = orm.ForeignKey(Ledger, on_delete=orm.CASCADE, related_name="entries")

    class Meta:
        app_label = APP


MODELS = (Required,)
UID = uuid.UUID("550e8400-e29b-41d4-a716-446655440000")


@pytest.fixture
def tables(backend: str) -> Iterator[str]:
    orm.create_tables(*MODELS)
    yield backend


def refused_before_sql(
    count_queries: type[QueryCounter], error: type[Exception], match: str, call: Callable[[], Any]
) -> None:
    """``call`` raises ``error`` (message matching) without sending any statement."""
    with count_queries() as ctx, pytest.raises(error, match=match):
        call()
    assert ctx.queries == [], f"refused input still ran SQL: {ctx.queries!r:.500}"


# ----------------------------------------------------------------- item 13


def test_not_null_violation_is_an_integrity_error_everywhere(
    tables: str, count_queries: type[QueryCounter]
) -> None:
    kept = Required.objects.create(title="kept")
    match = "'title'"
    refused_before_sql(count_queries, orm.IntegrityError, match, lambda: Required.objects.create(title=None))
    refused_before_sql(
        count_queries, orm.IntegrityError, match,
        lambda: Required.objects.bulk_create([Required(title="fine"), Required(title=None)]),
    )
    refused_before_sql(count_queries, orm.IntegrityError, match, Required(title=None).save)
    with pytest.raises(orm.IntegrityError, match="title"):
        Required.objects.update(title=None)
    kept.title = None
    with pytest.raises(orm.IntegrityError, match="title"):
        kept.save()
    with pytest.raises(orm.IntegrityError, match="title"):
        Required.objects.bulk_update([kept], ["title"])
    with pytest.raises(orm.IntegrityError, match="title"):
        Required.objects.get_or_create(pages=7, defaults={"title": None})
    assert list(Required.objects.values_list("title", flat=True)) == ["kept"]


def test_not_null_integrity_error_is_caught_as_integrity_error(tables: str) -> None:
    try:
        Required.objects.create(title=None)
    except orm.IntegrityError as error:
        assert "cannot be None" in str(error)
    else:  # pragma: no cover - the assertion is the test
        pytest.fail("no IntegrityError")


def test_update_to_none_that_matches_no_row_is_not_an_error(tables: str) -> None:
    assert Required.objects.filter(pk=-1).update(title=None) == 0


# ----------------------------------------------------------------- item 21


@pytest.fixture
def ledger_tables(backend: str) -> Iterator[str]:
    orm.create_tables(Ledger, Entry)
    yield backend

def test_subclasses_of_built_in_fields_behave_as_their_base(ledger_tables: str) -> None:
    stamp = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    ledger = Ledger.objects.create(cash=Decimal("1.5"), count=3, word="Ab", stamp=stamp, flag=True, token=UID)
    assert isinstance(ledger.pk, int)
    entry = Entry.objects.create(ledger=ledger)
    assert isinstance(entry.pk, int)
    got = Ledger.objects.get(pk=ledger.pk)
    assert got.cash == Decimal("1.50") and str(got.cash) == "1.50"
    assert got.stamp == stamp and got.stamp.tzinfo is not None
    assert got.flag is True
    assert got.token == UID
    assert Ledger.objects.filter(word__istartswith="a").get() == ledger
    assert Ledger.objects.filter(token=str(UID)).get() == ledger
    assert list(Ledger.objects.values_list("flag", "stamp")) == [(True, stamp)]
    assert Entry.objects.select_related("ledger").get().ledger.cash == Decimal("1.50")


def test_subclass_of_an_integer_field_keeps_its_range_and_check(ledger_tables: str) -> None:
    with pytest.raises(orm.DataError, match="out of range for SmallIntegerField"):
        Ledger.objects.create(cash=1, small=40_000)
    with pytest.raises(orm.IntegrityError):  # the CHECK (count >= 0) of PositiveIntegerField
        with orm.connection.cursor() as cursor:
            cursor.execute('INSERT INTO "i11_parity_ledger" ("cash", "count", "word", "flag", "small") '
                           "VALUES (%s, %s, %s, %s, %s)", [1, -1, "", False, 0])
    assert Ledger.objects.count() == 0


def test_subclass_columns_exist_in_the_table(ledger_tables: str) -> None:
    with orm.connection.cursor() as cursor:
        if ledger_tables == "sqlite":
            cursor.execute('SELECT name FROM pragma_table_info(%s)', ["i11_parity_ledger"])
        else:
            cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                           ["i11_parity_ledger"])
        columns = {row[0] for row in cursor.fetchall()}
    assert columns == {"id", "cash", "count", "word", "stamp", "flag", "token", "small"}


def test_a_subclass_deconstructs_to_its_own_import_path() -> None:
    """Migrations rebuild a field from this path: ``orm.CashField`` would not import."""
    assert CashField(max_digits=8, decimal_places=2).deconstruct()[1] == f"{__name__}.CashField"
    assert orm.DecimalField(max_digits=8, decimal_places=2).deconstruct()[1] == "orm.DecimalField"
    assert orm.EmailField().deconstruct()[1] == "orm.EmailField"
