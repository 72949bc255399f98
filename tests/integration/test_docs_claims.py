"""What the docs promise, pinned on both backends so the pages cannot go stale silently.

Issue 11, item 30: the docs had gone stale in five places. Each test below
asserts the behaviour the page now states (the page and section are named in
the test's docstring), on SQLite and on PostgreSQL:

1. ``afull_clean()`` (and ``avalidate_unique()``) exist: docs/async.md,
   docs/models.md "full_clean()".
2. After ``prefetch_related()``, reading ``.all()`` (and ``count()``) runs no
   query, also in async code: docs/queries.md "Loading related objects",
   docs/async.md "Relations in async code".
3. JSON key comparisons with numbers give the same rows on both backends:
   docs/queries.md "JSON keys", docs/postgresql.md "What differs from SQLite".
4. ``bulk_create(ignore_conflicts=True)`` skips conflicting rows:
   docs/queries.md "Methods that run the query".
5. ``None`` in a NOT NULL field is ``IntegrityError`` on every write path:
   docs/models.md "Values are checked before every write".

It also pins code bugs the audit found and fixed (JSON key lookups on SQLite
with numbers beyond 64 bits, and numbers matching JSON booleans).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import orm
from tests.conftest import QueryCounter

APP = "i11_docs"


class Writer(orm.Model):
    name = orm.CharField(max_length=50, unique=True)

    class Meta:
        app_label = APP


class Essay(orm.Model):
    title = orm.CharField(max_length=50)
    writer = orm.ForeignKey(Writer, on_delete=orm.CASCADE, related_name="essays")
    words = orm.IntegerField(default=0)

    class Meta:
        app_label = APP


class Sheet(orm.Model):
    name = orm.CharField(max_length=30)
    data = orm.JSONField(null=True)

    class Meta:
        app_label = APP


MODELS = (Writer, Essay, Sheet)


@pytest.fixture
def tables(backend: str) -> Iterator[str]:
    orm.create_tables(*MODELS)
    yield backend


# ------------------------------------------------------------------ claim 1


async def test_afull_clean_and_avalidate_unique_are_awaitable_twins(tables: str) -> None:
    """docs/async.md (the twins table) and docs/models.md "full_clean()"."""
    await Writer.objects.acreate(name="Ada")
    with pytest.raises(orm.ValidationError) as blank:
        await Writer(name="").afull_clean()
    assert blank.value.message_dict == {"name": ["This field cannot be blank."]}
    with pytest.raises(orm.ValidationError) as taken:
        await Writer(name="Ada").afull_clean()
    assert taken.value.message_dict == {"name": ["Writer with this name already exists."]}
    with pytest.raises(orm.ValidationError):
        await Writer(name="Ada").avalidate_unique()
    await Writer(name="Grace").afull_clean()  # a valid instance passes


async def test_full_clean_on_the_event_loop_names_its_twin(tables: str) -> None:
    """docs/async.md: the sync form is refused in async code and names ``afull_clean()``."""
    with pytest.raises(orm.SynchronousOnlyOperation, match=r"afull_clean\(\)"):
        Writer(name="x").full_clean()


# ------------------------------------------------------------------ claim 2


def _seed() -> Writer:
    ada = Writer.objects.create(name="Ada")
    Essay.objects.bulk_create([Essay(title=f"Note {i}", writer=ada) for i in range(3)])
    return ada


def test_prefetched_all_and_count_run_no_query(
    tables: str, count_queries: type[QueryCounter]
) -> None:
    """docs/queries.md "Loading related objects": the prefetched rows are used."""
    _seed()
    writer = Writer.objects.prefetch_related("essays").get(name="Ada")
    with count_queries() as ctx:
        titles = sorted(e.title for e in writer.essays.all())
        assert writer.essays.count() == 3
        assert writer.essays.exists()
        assert len(writer.essays.all()) == 3
    assert titles == ["Note 0", "Note 1", "Note 2"]
    assert ctx.queries == []
    with count_queries() as ctx:  # a new query shape does query again
        assert writer.essays.filter(title="Note 1").count() == 1
    assert len(ctx.queries) == 1


async def test_prefetched_all_is_readable_in_async_code(tables: str) -> None:
    """docs/async.md "Relations in async code": no query, so no SynchronousOnlyOperation."""
    await orm.sync_to_async(_seed)()
    writers = [w async for w in Writer.objects.prefetch_related("essays")]
    writer = writers[0]
    assert sorted(e.title for e in writer.essays.all()) == ["Note 0", "Note 1", "Note 2"]
    assert writer.essays.count() == 3
    assert sorted([e.title async for e in writer.essays.all()]) == ["Note 0", "Note 1", "Note 2"]
    with pytest.raises(orm.SynchronousOnlyOperation):
        list(writer.essays.filter(title="Note 1"))  # a new query is still refused


# ------------------------------------------------------------------ claim 3

NUMBERS: list[Any] = [1, 1.0, 1.5, 2, "1", True, False, None, 0, 10**20]


@pytest.fixture
def sheets(tables: str) -> None:
    """One row per JSON value of ``x``, named ``repr(value)``; one row without ``x``."""
    Sheet.objects.bulk_create([Sheet(name=repr(v), data={"x": v}) for v in NUMBERS])
    Sheet.objects.create(name="missing", data={})


def _names(qs: Any) -> list[str]:
    return sorted(qs.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        ({"data__x": 1}, ["1", "1.0"]),
        ({"data__x": 1.0}, ["1", "1.0"]),
        ({"data__x": 0}, ["0"]),
        ({"data__x": True}, ["True"]),
        ({"data__x": False}, ["False"]),
        ({"data__x": "1"}, ["'1'"]),
        ({"data__x__in": [1, 2]}, ["1", "1.0", "2"]),
        ({"data__x__in": [0, "1"]}, ["'1'", "0"]),
        ({"data__x__in": [True, 2]}, ["2", "True"]),
    ],
    ids=lambda v: repr(v),
)
def test_json_key_equality_with_numbers_is_the_same_on_both_backends(
    sheets: None, lookup: dict[str, Any], expected: list[str]
) -> None:
    """docs/queries.md "JSON keys": a number equals numbers only, never true/false."""
    assert _names(Sheet.objects.filter(**lookup)) == expected
    # exclude() keeps every other row whose key is present, JSON null included.
    present = sorted(repr(v) for v in NUMBERS)
    assert _names(Sheet.objects.exclude(**lookup)) == sorted(set(present) - set(expected))


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        ({"data__x__gt": 1}, ["1.5", "100000000000000000000", "2"]),
        ({"data__x__gte": 1.5}, ["1.5", "100000000000000000000", "2"]),
        ({"data__x__lt": 1.5}, ["0", "1", "1.0"]),
        ({"data__x__lte": 0}, ["0"]),
    ],
    ids=lambda v: repr(v),
)
def test_json_key_order_with_numbers_among_numbers(
    sheets: None, lookup: dict[str, Any], expected: list[str]
) -> None:
    """docs/queries.md "JSON keys": numbers order as numbers on both backends.

    Only numeric rows are asserted: across JSON types (strings, booleans,
    null) the backends order differently, as the page says.
    """
    numeric = {repr(v) for v in NUMBERS if isinstance(v, int | float) and not isinstance(v, bool)}
    assert sorted(set(_names(Sheet.objects.filter(**lookup))) & numeric) == expected


@pytest.mark.parametrize(
    "lookup",
    [{"data__x": 10**20}, {"data__x__in": [10**20, 3]}, {"data__x__gte": 10**20}],
    ids=lambda v: repr(v),
)
def test_json_key_compared_with_an_int_beyond_64_bits(sheets: None, lookup: dict[str, Any]) -> None:
    """A Python int beyond 64 bits finds the JSON number (SQLite raised OverflowError).

    (``gte`` is checked among the numbers: PostgreSQL sorts booleans after them.)
    """
    numeric = {repr(v) for v in NUMBERS if isinstance(v, int | float) and not isinstance(v, bool)}
    assert sorted(set(_names(Sheet.objects.filter(**lookup))) & numeric) == [
        "100000000000000000000"
    ]
    if "data__x__gte" not in lookup:
        assert _names(Sheet.objects.filter(**lookup)) == ["100000000000000000000"]


# ------------------------------------------------------------------ claim 4


def test_bulk_create_ignore_conflicts_skips_conflicting_rows(tables: str) -> None:
    """docs/queries.md: conflicting rows are skipped, the others inserted, pks not set."""
    Writer.objects.create(name="Ada")
    objs = Writer.objects.bulk_create(
        [Writer(name="Ada"), Writer(name="Grace"), Writer(name="Grace")], ignore_conflicts=True
    )
    assert [o.pk for o in objs] == [None, None, None]
    assert sorted(Writer.objects.values_list("name", flat=True)) == ["Ada", "Grace"]


def test_bulk_create_without_ignore_conflicts_inserts_nothing_of_the_batch(tables: str) -> None:
    """docs/queries.md: one conflict raises IntegrityError and the batch is rolled back."""
    Writer.objects.create(name="Ada")
    with pytest.raises(orm.IntegrityError):
        Writer.objects.bulk_create([Writer(name="Grace"), Writer(name="Ada")])
    assert list(Writer.objects.values_list("name", flat=True)) == ["Ada"]


async def test_abulk_create_ignore_conflicts(tables: str) -> None:
    """The twin takes the same argument."""
    await Writer.objects.acreate(name="Ada")
    await Writer.objects.abulk_create(
        [Writer(name="Ada"), Writer(name="Alan")], ignore_conflicts=True
    )
    assert await Writer.objects.acount() == 2


# ------------------------------------------------------------------ claim 5


@pytest.mark.transactional  # a database error inside the test's transaction
def test_none_in_a_not_null_field_is_integrity_error_on_every_path(tables: str) -> None:
    """docs/models.md: create, save, bulk_create, update, bulk_update all raise IntegrityError."""
    ada = Writer.objects.create(name="Ada")
    essay = Essay.objects.create(title="kept", writer=ada)
    writes = {
        "create": lambda: Essay.objects.create(title=None, writer=ada),
        "save new": lambda: Essay(title=None, writer=ada).save(),
        "bulk_create": lambda: Essay.objects.bulk_create([Essay(title=None, writer=ada)]),
        "update": lambda: Essay.objects.filter(pk=essay.pk).update(title=None),
        "create words": lambda: Essay.objects.create(title="x", writer=ada, words=None),
    }
    for name, write in writes.items():
        with pytest.raises(orm.IntegrityError):
            write()
        assert list(Essay.objects.values_list("title", flat=True)) == ["kept"], name

    essay.title = None
    with pytest.raises(orm.IntegrityError):
        essay.save()
    with pytest.raises(orm.IntegrityError):
        Essay.objects.bulk_update([essay], ["title"])
    assert list(Essay.objects.values_list("title", flat=True)) == ["kept"]


def test_none_refused_before_sql_names_the_field(
    tables: str, count_queries: type[QueryCounter]
) -> None:
    """docs/models.md: create() refuses it before any SQL, naming the field."""
    ada = Writer.objects.create(name="Ada")
    with count_queries() as ctx, pytest.raises(orm.IntegrityError) as error:
        Essay.objects.create(title=None, writer=ada)
    assert str(error.value) == (
        f"Field 'title' of {APP}.Essay cannot be None: its column is NOT NULL (null=False)."
    )
    assert ctx.queries == []


# ------------------------------------------- found by the audit: text lookups


@pytest.mark.parametrize(
    "lookup", ["exact", "iexact", "contains", "icontains", "startswith", "iendswith"]
)
def test_a_lone_surrogate_in_any_text_lookup_is_data_error(
    tables: str, lookup: str, count_queries: type[QueryCounter]
) -> None:
    """docs/models.md: lone surrogates are refused with ``orm.DataError``, in filters too.

    The pattern lookups let the driver's raw ``UnicodeEncodeError`` escape.
    """
    with count_queries() as ctx, pytest.raises(orm.DataError, match="not valid Unicode"):
        Writer.objects.filter(**{f"name__{lookup}": "a\ud800"}).count()
    assert ctx.queries == []
    with pytest.raises(orm.DataError, match="not valid Unicode"):
        Essay.objects.filter(words__contains="\udfff").count()


@pytest.mark.parametrize(
    "lookup", ["exact", "iexact", "contains", "icontains", "startswith", "iendswith", "in", "gt"]
)
def test_nul_in_a_text_filter_is_data_error_on_both_backends(
    tables: str, lookup: str, count_queries: type[QueryCounter]
) -> None:
    """A NUL can never be stored, and PostgreSQL cannot even bind one: same error on SQLite."""
    value: object = ["a\x00b"] if lookup == "in" else "a\x00b"
    with count_queries() as ctx, pytest.raises(orm.DataError, match="NUL character"):
        Writer.objects.filter(**{f"name__{lookup}": value}).count()
    assert ctx.queries == []
