"""The same call gives the same result (or the same error) on SQLite and PostgreSQL.

Issue 11, items 11, 12, 13, 18, 19 and 21: durations beyond SQLite's column,
NUL in JSON, regular-expression errors, case-insensitive matching of
non-ASCII text, aware times, ``exclude()`` on a JSON null, ``has_key`` of a
key spelled like an index, NOT NULL violations, text lookups on a UUID, the
JSON key lookups (``has_keys``, ``has_any_keys``, ``contains``,
``contained_by``) and subclasses of built-in fields. Every test runs on both
backends; where the backends are documented to differ, the test pins each one.
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
from tests.integration.conftest import Library
from tests.models import Book

APP = "i11_parity"


class Span(orm.Model):
    length = orm.DurationField(null=True)
    at = orm.TimeField(null=True)
    label = orm.CharField(max_length=20, default="")

    class Meta:
        app_label = APP


class Doc(orm.Model):
    name = orm.CharField(max_length=50)
    data = orm.JSONField(null=True)
    uid = orm.UUIDField(null=True)

    class Meta:
        app_label = APP


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


MODELS = (Span, Doc, Required)
UID = uuid.UUID("550e8400-e29b-41d4-a716-446655440000")
# The largest durations SQLite's bigint column of microseconds can hold.
MAX_DURATION = datetime.timedelta(microseconds=2**63 - 1)
MIN_DURATION = datetime.timedelta(microseconds=-(2**63))


@pytest.fixture
def tables(backend: str) -> Iterator[str]:
    orm.create_tables(*MODELS)
    yield backend


def names(qs: Any) -> list[str]:
    return sorted(qs.values_list("name", flat=True))


def refused_before_sql(
    count_queries: type[QueryCounter], error: type[Exception], match: str, call: Callable[[], Any]
) -> None:
    """``call`` raises ``error`` (message matching) without sending any statement."""
    with count_queries() as ctx, pytest.raises(error, match=match):
        call()
    assert ctx.queries == [], f"refused input still ran SQL: {ctx.queries!r:.500}"


# ----------------------------------------------------------------- item 11


TOO_LONG = [
    datetime.timedelta.max,
    datetime.timedelta.min,
    MAX_DURATION + datetime.timedelta(microseconds=1),
    MIN_DURATION - datetime.timedelta(microseconds=1),
]


@pytest.mark.parametrize("value", TOO_LONG, ids=["max", "min", "above", "below"])
def test_duration_beyond_the_column_is_one_data_error_on_every_write(
    tables: str, count_queries: type[QueryCounter], value: datetime.timedelta
) -> None:
    kept = Span.objects.create(length=datetime.timedelta(days=1), label="kept")
    match = "'length'.*out of range for DurationField"
    refused_before_sql(
        count_queries, orm.DataError, match, lambda: Span.objects.create(length=value)
    )
    refused_before_sql(
        count_queries, orm.DataError, match, lambda: Span.objects.update(length=value)
    )
    refused_before_sql(
        count_queries, orm.DataError, match, lambda: Span.objects.bulk_create([Span(length=value)])
    )
    kept.length = value
    refused_before_sql(count_queries, orm.DataError, match, kept.save)
    with pytest.raises(orm.DataError, match=match):
        Span.objects.bulk_update([kept], ["length"])
    assert list(Span.objects.values_list("label", "length")) == [
        ("kept", datetime.timedelta(days=1))
    ]


def test_duration_at_the_edges_of_the_column_round_trips(tables: str) -> None:
    for value in (MAX_DURATION, MIN_DURATION, datetime.timedelta(days=-1, microseconds=1)):
        span = Span.objects.create(length=value)
        assert Span.objects.get(pk=span.pk).length == value
        assert Span.objects.filter(length=value).get() == span
        span.delete()


def test_average_of_durations_is_a_duration_on_both(tables: str) -> None:
    """As Django: Avg of a DurationField is a timedelta (SQLite gave a float of microseconds)."""
    for micro in (1, 2, None):
        Span.objects.create(
            length=None if micro is None else datetime.timedelta(seconds=1, microseconds=micro)
        )
    result = Span.objects.aggregate(
        avg=orm.Avg("length"), distinct=orm.Avg("length", distinct=True)
    )
    # 1.5 microseconds rounds half to even, as PostgreSQL's AVG(interval) does.
    assert result == {
        "avg": datetime.timedelta(seconds=1, microseconds=2),
        "distinct": datetime.timedelta(seconds=1, microseconds=2),
    }
    Span.objects.create(length=datetime.timedelta(seconds=1, microseconds=4))
    assert Span.objects.aggregate(avg=orm.Avg("length"))["avg"] == datetime.timedelta(
        seconds=1, microseconds=2
    )
    assert Span.objects.filter(length=None).aggregate(avg=orm.Avg("length")) == {"avg": None}
    by_label = Span.objects.values("label").annotate(avg=orm.Avg("length")).order_by("label")
    assert [type(row["avg"]) for row in by_label] == [datetime.timedelta]


def test_duration_filter_beyond_the_column_matches_like_an_integer_would(tables: str) -> None:
    one = Span.objects.create(length=datetime.timedelta(days=1), label="one")
    Span.objects.create(length=None, label="none")
    huge = datetime.timedelta.max
    assert list(Span.objects.filter(length=huge)) == []
    assert list(Span.objects.filter(length__gt=huge)) == []
    assert list(Span.objects.filter(length__gte=huge)) == []
    assert list(Span.objects.filter(length__lt=huge)) == [one]
    assert list(Span.objects.filter(length__lte=huge)) == [one]
    assert list(Span.objects.filter(length__gt=datetime.timedelta.min)) == [one]
    assert list(Span.objects.filter(length__lt=datetime.timedelta.min)) == []
    assert list(Span.objects.filter(length__in=[huge, datetime.timedelta(days=1)])) == [one]
    assert list(Span.objects.filter(length__in=[huge])) == []
    assert list(Span.objects.filter(length__range=(datetime.timedelta.min, huge))) == [one]
    assert sorted(Span.objects.exclude(length=huge).values_list("label", flat=True)) == [
        "none",
        "one",
    ]


# ----------------------------------------------------------------- item 12


@pytest.mark.parametrize(
    "document",
    [{"a": "x\x00y"}, {"a\x00": 1}, {"n": [{"deep": "\x00"}]}, "\x00", ["ok", "\x00"]],
    ids=["value", "key", "nested", "top-level", "list"],
)
def test_json_with_nul_is_refused_before_sql(
    tables: str, count_queries: type[QueryCounter], document: Any
) -> None:
    kept = Doc.objects.create(name="kept", data={"a": 1})
    match = "'data'.*NUL"
    refused_before_sql(
        count_queries, orm.DataError, match, lambda: Doc.objects.create(name="x", data=document)
    )
    refused_before_sql(
        count_queries, orm.DataError, match, lambda: Doc.objects.update(data=document)
    )
    refused_before_sql(
        count_queries,
        orm.DataError,
        match,
        lambda: Doc.objects.bulk_create([Doc(name="x", data=document)]),
    )
    kept.data = document
    refused_before_sql(count_queries, orm.DataError, match, kept.save)
    # A filter value with NUL could never match; PostgreSQL refuses it, so both do.
    refused_before_sql(
        count_queries, orm.DataError, match, lambda: list(Doc.objects.filter(data=document))
    )
    assert list(Doc.objects.values_list("name", "data")) == [("kept", {"a": 1})]


@pytest.mark.parametrize(
    ("lookup", "value"),
    [
        ("a", "x\x00"),
        ("a__in", ["x", "\x00"]),
        ("a__icontains", "\x00"),
        ("a", {"k": "\x00"}),
        ("a__gt", "\x00"),
        ("contains", {"a": "\x00"}),
    ],
    ids=["exact", "in", "icontains", "document", "gt", "contains"],
)
def test_json_lookup_values_with_nul_are_refused(
    tables: str, count_queries: type[QueryCounter], lookup: str, value: Any
) -> None:
    Doc.objects.create(name="kept", data={"a": "x"})
    refused_before_sql(
        count_queries,
        orm.DataError,
        "'data__a'.*NUL" if lookup.startswith("a") else "'data'.*NUL",
        lambda: list(Doc.objects.filter(**{f"data__{lookup}": value})),
    )


@pytest.mark.parametrize("pattern", ["(", "[a", "a{2,1}"])
@pytest.mark.parametrize("lookup", ["regex", "iregex"])
@pytest.mark.transactional  # a database error inside the test's transaction
def test_invalid_regex_is_a_data_error(tables: str, lookup: str, pattern: str) -> None:
    Doc.objects.create(name="abc")
    with pytest.raises(orm.DataError, match="regular expression"):
        list(Doc.objects.filter(**{f"name__{lookup}": pattern}))
    # The connection is still usable (outside atomic, nothing was broken).
    assert Doc.objects.filter(name__regex="^a").count() == 1


def test_invalid_regex_in_an_atomic_block_rolls_back_like_any_data_error(tables: str) -> None:
    with pytest.raises(orm.DataError), orm.transaction.atomic():
        Doc.objects.create(name="gone")
        list(Doc.objects.filter(name__regex="("))
    assert Doc.objects.count() == 0


def test_invalid_regex_from_a_column_is_a_data_error(tables: str) -> None:
    Doc.objects.create(name="(")
    with pytest.raises(orm.DataError):
        list(Doc.objects.filter(name__regex=orm.F("name")))


def test_case_insensitive_matching_of_non_ascii_text_is_documented_per_backend(tables: str) -> None:
    """SQLite folds only ASCII letters (as in Django); PostgreSQL folds by the database's
    LC_CTYPE (a UTF-8 locale folds É/é). ASCII folds on both."""
    Doc.objects.create(name="résumé")
    Doc.objects.create(name="Resume")
    assert names(Doc.objects.filter(name__iexact="RESUME")) == ["Resume"]
    assert names(Doc.objects.filter(name__icontains="SUM")) == ["Resume", "résumé"]
    assert names(Doc.objects.filter(name__icontains="é")) == ["résumé"]
    folded = names(Doc.objects.filter(name__iexact="RÉSUMÉ"))
    accented = names(Doc.objects.filter(name__icontains="É"))
    if tables == "sqlite":
        assert folded == accented == []
        return
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT UPPER(%s) = %s", ["é", "É"])
        (server_folds,) = cursor.fetchone()
    expected = ["résumé"] if server_folds else []
    assert folded == accented == expected


AWARE_TIME = datetime.time(10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))


def test_aware_time_is_refused_on_every_write(
    tables: str, count_queries: type[QueryCounter]
) -> None:
    kept = Span.objects.create(at=datetime.time(8, 0), label="kept")
    match = "'at'.*aware time"
    refused_before_sql(count_queries, ValueError, match, lambda: Span.objects.create(at=AWARE_TIME))
    refused_before_sql(count_queries, ValueError, match, lambda: Span.objects.update(at=AWARE_TIME))
    refused_before_sql(
        count_queries, ValueError, match, lambda: Span.objects.bulk_create([Span(at=AWARE_TIME)])
    )
    kept.at = AWARE_TIME
    refused_before_sql(count_queries, ValueError, match, kept.save)
    assert list(Span.objects.values_list("label", "at")) == [("kept", datetime.time(8, 0))]


def test_aware_time_in_a_filter_is_compared_in_utc(tables: str) -> None:
    """As an aware datetime in a TimeField lookup: converted to UTC, on both backends."""
    span = Span.objects.create(at=datetime.time(8, 30))
    assert list(Span.objects.filter(at=AWARE_TIME)) == [span]
    assert list(Span.objects.filter(at__lt=AWARE_TIME)) == []
    naive_read = Span.objects.get(pk=span.pk).at
    assert naive_read == datetime.time(8, 30) and naive_read.tzinfo is None


@pytest.fixture
def null_docs(tables: str) -> None:
    Doc.objects.create(name="json-null", data={"a": None, "n": 1})
    Doc.objects.create(name="b", data={"a": "b", "n": 2})
    Doc.objects.create(name="c", data={"a": "c", "n": 2.5})
    Doc.objects.create(name="missing", data={})
    Doc.objects.create(name="sql-null", data=None)


def test_exclude_key_keeps_a_json_null_as_django_on_postgresql(null_docs: None) -> None:
    """Django 5.2 on PostgreSQL (and on SQLite): a key holding JSON null is not equal to
    "b", so exclude() keeps it; a missing key compares as unknown and is dropped."""
    assert names(Doc.objects.exclude(data__a="b")) == ["c", "json-null", "sql-null"]
    assert names(Doc.objects.exclude(data__n=2)) == ["c", "json-null", "sql-null"]
    assert names(Doc.objects.exclude(data__a__in=["b", "c"])) == ["json-null", "sql-null"]
    assert names(Doc.objects.filter(data__a="b")) == ["b"]
    assert names(Doc.objects.filter(data__a=None)) == ["json-null"]
    assert names(Doc.objects.exclude(data__a=None)) == ["b", "c"]
    assert names(Doc.objects.filter(data__n__in=[1, 2.5])) == ["c", "json-null"]


def test_has_key_of_digits_is_an_object_key_not_an_array_index(tables: str) -> None:
    Doc.objects.create(name="array", data=["arr"])
    Doc.objects.create(name="string-array", data=["0"])
    Doc.objects.create(name="object", data={"0": "zero"})
    Doc.objects.create(name="scalar", data="0")
    assert names(Doc.objects.filter(data__has_key="0")) == ["object"]
    assert names(Doc.objects.filter(data__has_keys=["0"])) == ["object"]
    assert names(Doc.objects.filter(data__has_any_keys=["0", "z"])) == ["object"]
    # A digit key in a key path still indexes arrays (as Django).
    assert names(Doc.objects.filter(data__0="arr")) == ["array"]


# ----------------------------------------------------------------- item 13


@pytest.mark.transactional  # a database error inside the test's transaction
def test_not_null_violation_is_an_integrity_error_everywhere(
    tables: str, count_queries: type[QueryCounter]
) -> None:
    kept = Required.objects.create(title="kept")
    match = "'title'"
    refused_before_sql(
        count_queries, orm.IntegrityError, match, lambda: Required.objects.create(title=None)
    )
    refused_before_sql(
        count_queries,
        orm.IntegrityError,
        match,
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


# ----------------------------------------------------------------- item 18


UUID_MATCHES = [
    ("contains", "8400-e29b"),
    ("contains", "8400e29b"),
    ("icontains", "8400-E29B"),
    ("icontains", "8400E29B"),
    ("startswith", "550e8400-e29b"),
    ("startswith", "550e8400e29b"),
    ("istartswith", "550E8400-E29B"),
    ("istartswith", "550E8400E29B"),
    ("endswith", "-446655440000"),
    ("endswith", "a716446655440000"),
    ("endswith", "a716-446655440000"),
    ("iendswith", "A716-446655440000"),
    ("iendswith", "A716446655440000"),
    ("iexact", "550E8400-E29B-41D4-A716-446655440000"),
    ("iexact", "550E8400E29B41D4A716446655440000"),
    ("iexact", UID),
]


@pytest.mark.parametrize(
    ("lookup", "value"), UUID_MATCHES, ids=[f"{k}-{v}" for k, v in UUID_MATCHES]
)
def test_uuid_text_lookups_accept_both_spellings(tables: str, lookup: str, value: Any) -> None:
    doc = Doc.objects.create(name="u", uid=UID)
    Doc.objects.create(name="other", uid=uuid.UUID(int=7))
    Doc.objects.create(name="none", uid=None)
    assert list(Doc.objects.filter(**{f"uid__{lookup}": value})) == [doc]


def test_uuid_text_lookups_do_not_match_what_is_absent(tables: str) -> None:
    Doc.objects.create(name="u", uid=UID)
    assert Doc.objects.filter(uid__contains="8400-e29c").count() == 0
    assert Doc.objects.filter(uid__contains="8400-E29B").count() == 0  # case-sensitive
    assert Doc.objects.filter(uid__startswith="e29b").count() == 0
    assert Doc.objects.filter(uid__contains="%").count() == 0
    assert Doc.objects.filter(uid__contains="_").count() == 0


def test_uuid_text_lookup_against_a_column(tables: str) -> None:
    doc = Doc.objects.create(name="550e8400-e29b", uid=UID)
    Doc.objects.create(name="e29b-41d4-0000", uid=UID)
    assert list(Doc.objects.filter(uid__startswith=orm.F("name"))) == [doc]


# ----------------------------------------------------------------- item 19


@pytest.fixture
def key_docs(tables: str) -> str:
    Doc.objects.create(name="ac", data={"a": 1, "c": 2, "n": {"b": 1, "x": [1, 2], 'q"k': True}})
    Doc.objects.create(name="a", data={"a": 1, "n": {"b": None}})
    Doc.objects.create(name="c", data={"c": None})
    Doc.objects.create(name="list", data=[1, 2, "a"])
    Doc.objects.create(name="text", data="a")
    Doc.objects.create(name="sql-null", data=None)
    return tables


def test_has_keys_and_has_any_keys(key_docs: str) -> None:
    assert names(Doc.objects.filter(data__has_keys=["a", "c"])) == ["ac"]
    assert names(Doc.objects.filter(data__has_keys=("a",))) == ["a", "ac"]
    assert names(Doc.objects.filter(data__has_any_keys=["c", "z"])) == ["ac", "c"]
    assert names(Doc.objects.filter(data__has_any_keys=["z"])) == []
    assert names(Doc.objects.exclude(data__has_keys=["a", "c"])) == [
        "a",
        "c",
        "list",
        "sql-null",
        "text",
    ]
    assert names(Doc.objects.filter(data__has_key="c")) == ["ac", "c"]  # a key holding null counts


def test_key_lookups_on_a_nested_key(key_docs: str) -> None:
    assert names(Doc.objects.filter(data__n__has_key="b")) == ["a", "ac"]
    assert names(Doc.objects.filter(data__n__has_key="x")) == ["ac"]
    assert names(Doc.objects.filter(data__n__has_keys=["b", "x"])) == ["ac"]
    assert names(Doc.objects.filter(data__n__has_any_keys=["x", "zz"])) == ["ac"]
    assert names(Doc.objects.filter(data__n__has_key='q"k')) == ["ac"]
    assert names(Doc.objects.filter(data__has_key='q"k')) == []


def test_a_key_named_like_a_lookup_is_reached_with_exact(tables: str) -> None:
    Doc.objects.create(name="odd", data={"has_keys": 1, "contains": "x"})
    assert names(Doc.objects.filter(data__has_keys__exact=1)) == ["odd"]
    assert names(Doc.objects.filter(data__contains__exact="x")) == ["odd"]


def test_key_lookup_arguments_are_checked(tables: str) -> None:
    with pytest.raises(TypeError, match="str"):
        Doc.objects.filter(data__has_key=1)
    with pytest.raises(TypeError, match="list of str"):
        Doc.objects.filter(data__has_keys="ab")
    with pytest.raises(TypeError, match="str"):
        Doc.objects.filter(data__has_any_keys=["a", 2])
    with pytest.raises(ValueError, match="at least one key"):
        Doc.objects.filter(data__has_keys=[])


def test_containment_on_postgresql_and_not_supported_on_sqlite(key_docs: str) -> None:
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"data__contains": {"a": 1}}, ["a", "ac"]),
        ({"data__contains": {"n": {"x": [2]}}}, ["ac"]),
        ({"data__contains": [1]}, ["list"]),
        ({"data__contains": {}}, ["a", "ac", "c"]),
        ({"data__contained_by": {"a": 1, "c": None, "n": {"b": None}}}, ["a", "c"]),
        ({"data__n__contains": {"b": 1}}, ["ac"]),
        ({"data__n__contained_by": {"b": None, "y": 0}}, ["a"]),
    ]
    for kwargs, expected in cases:
        qs = Doc.objects.filter(**kwargs)
        if key_docs == "sqlite":
            with pytest.raises(orm.NotSupportedError, match="PostgreSQL"):
                list(qs)
        else:
            assert names(qs) == expected, kwargs


def test_has_key_travels_as_a_parameter(key_docs: str, count_queries: type[QueryCounter]) -> None:
    hostile = "a') OR 1=1 --"
    with count_queries() as ctx:
        assert Doc.objects.filter(data__has_keys=[hostile, "a"]).count() == 0
        assert Doc.objects.filter(data__n__has_any_keys=[hostile]).count() == 0
    assert all(hostile not in sql and "OR 1=1" not in sql for sql, _ in ctx.queries)


# ----------------------------------------------------------------- item 21


@pytest.fixture
def ledger_tables(backend: str) -> Iterator[str]:
    orm.create_tables(Ledger, Entry)
    yield backend


def test_subclasses_of_built_in_fields_behave_as_their_base(ledger_tables: str) -> None:
    stamp = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    ledger = Ledger.objects.create(
        cash=Decimal("1.5"), count=3, word="Ab", stamp=stamp, flag=True, token=UID
    )
    assert isinstance(ledger.pk, int)
    entry = Entry.objects.create(ledger=ledger)
    assert isinstance(entry.pk, int)
    got = Ledger.objects.get(pk=ledger.pk)
    assert got.cash == Decimal("1.50") and str(got.cash) == "1.50"
    assert got.stamp == stamp and got.stamp.tzinfo is not None
    assert got.flag is True
    assert got.token == UID
    assert Ledger.objects.filter(word__istartswith="a").get() == ledger
    assert Ledger.objects.filter(token__startswith="550e8400e29b").get() == ledger
    assert list(Ledger.objects.values_list("flag", "stamp")) == [(True, stamp)]
    assert Entry.objects.select_related("ledger").get().ledger.cash == Decimal("1.50")


@pytest.mark.transactional  # a database error inside the test's transaction
def test_subclass_of_an_integer_field_keeps_its_range_and_check(ledger_tables: str) -> None:
    with pytest.raises(orm.DataError, match="out of range for SmallIntegerField"):
        Ledger.objects.create(cash=1, small=40_000)
    with pytest.raises(orm.IntegrityError):  # the CHECK (count >= 0) of PositiveIntegerField
        with orm.connection.cursor() as cursor:
            cursor.execute(
                'INSERT INTO "i11_parity_ledger" ("cash", "count", "word", "flag", "small") '
                "VALUES (%s, %s, %s, %s, %s)",
                [1, -1, "", False, 0],
            )
    assert Ledger.objects.count() == 0


def test_subclass_columns_exist_in_the_table(ledger_tables: str) -> None:
    with orm.connection.cursor() as cursor:
        if ledger_tables == "sqlite":
            cursor.execute("SELECT name FROM pragma_table_info(%s)", ["i11_parity_ledger"])
        else:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                ["i11_parity_ledger"],
            )
        columns = {row[0] for row in cursor.fetchall()}
    assert columns == {"id", "cash", "count", "word", "stamp", "flag", "token", "small"}


def test_a_subclass_deconstructs_to_its_own_import_path() -> None:
    """Migrations rebuild a field from this path: ``orm.CashField`` would not import."""
    assert CashField(max_digits=8, decimal_places=2).deconstruct()[1] == f"{__name__}.CashField"
    assert orm.DecimalField(max_digits=8, decimal_places=2).deconstruct()[1] == "orm.DecimalField"
    assert orm.EmailField().deconstruct()[1] == "orm.EmailField"


def titles(qs: orm.QuerySet[Book]) -> list[str]:
    return [b.title for b in qs]


# ------------------------------------------------------------ once broken(PostgreSQL only)


def test_json_key_compared_with_a_number(library: Library) -> None:
    # PostgreSQL actual: ProgrammingError "operator does not exist: text >= smallint"
    assert sorted(titles(Book.objects.filter(data__rating__gte=4))) == [
        "Advanced Python",
        "Python Basics",
    ]


def test_bulk_update_to_null_of_an_integer_column(library: Library) -> None:
    books = list(Book.objects.all())
    for book in books:
        book.pages = None
    # PostgreSQL actual: ProgrammingError 'column "pages" is of type integer but expression is of type text'
    assert Book.objects.bulk_update(books, ["pages"]) == 4
    assert set(Book.objects.values_list("pages", flat=True)) == {None}
