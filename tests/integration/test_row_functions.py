"""Fused row functions (issue 19 item 3) build exactly what the per-row path built before them.

``reference()`` below is that earlier path, kept here as the oracle: every
column through ``convert_rows``, then ``Model.from_db`` (or the model's own
override, or the init-signal loader), then each ``select_related`` object
from its slice of the row, then the annotations with ``setattr``. Each test
compares a QuerySet's results with it, instance dicts, states and relation
caches included, for many query shapes and every field type.
"""

from __future__ import annotations

import datetime
import gc
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm.models.registry import Apps
from orm.query import row_makers
from orm.query.iterables import GC_PAUSE_ROWS, instance_loader
from orm.signals import post_init
from orm.sql.klass_info import KlassInfo
from orm.utils import timezone
from orm.utils.caches import clear_all
from tests.integration.conftest import Library
from tests.models import AllFields, Author, Book, Category, Profile

# The per-shape models below get tables of their own, made and dropped by
# the fixture: on PostgreSQL that needs real commits (see test_mti.py).
pytestmark = pytest.mark.transactional


# -- the oracle: the per-row path the row functions replaced ----------------------
def _populate(info: KlassInfo, row: list[Any], parent: Any, db: str) -> None:
    values = row[info.start : info.end]
    obj = None
    if values[info.pk_position] is not None:
        obj = instance_loader(info.model)(db, list(info.attnames), values)
        for related in info.related:
            _populate(related, row, obj, db)
    if info.attr_name is not None:
        setattr(parent, info.attr_name, obj)
        return
    relation = info.relation
    if info.reverse:
        cache, back = relation.get_accessor_name(), relation.field.name
    else:
        cache = relation.name
        back = relation.remote_field.get_accessor_name() if relation.one_to_one else None
    parent._state.fields_cache[cache] = obj
    if obj is not None and back is not None:
        obj._state.fields_cache[back] = parent


def reference(qs: Any) -> list[Any]:
    """The results of ``qs`` built row by row as before the row functions."""
    compiler = qs._select_compiler(qs._terms_kind)
    rows = [list(row) for row in compiler.results_iter()]
    names = [alias or "" for _e, alias in compiler.select]
    kind = qs._iterable_class.kind.value
    if kind == "values":
        return [dict(zip(names, row, strict=True)) for row in rows]
    if kind == "flat":
        return [row[0] for row in rows]
    if kind in ("values_list", "named"):
        fields = list(qs._fields or ())
        order = [names.index(f) for f in fields] if fields and fields != names else None
        return [tuple(row) if order is None else tuple(row[i] for i in order) for row in rows]
    info = compiler.klass_info
    results = []
    for row in rows:
        obj = instance_loader(info.model)(qs.db, list(info.attnames), row[info.start : info.end])
        for related in info.related:
            _populate(related, row, obj, qs.db)
        for name, position in compiler.annotation_col_map.items():
            setattr(obj, name, row[position])
        results.append(obj)
    return results


def snapshot(value: Any, seen: frozenset[int] = frozenset()) -> Any:
    """Everything a user can read from a result: type, attributes (exact types), state, caches."""
    if isinstance(value, orm.Model):
        if id(value) in seen:
            return ("cycle", type(value), value.pk)
        seen = seen | {id(value)}
        state = value._state
        attrs = {k: snapshot(v, seen) for k, v in vars(value).items() if k != "_state"}
        cache = {k: snapshot(v, seen) for k, v in state.fields_cache.items()}
        return (type(value), list(vars(value)), attrs, state.db, state.adding, cache)
    if isinstance(value, dict):
        return (dict, [(k, snapshot(v, seen)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value), [snapshot(v, seen) for v in value])
    if isinstance(value, Decimal):
        return (Decimal, str(value))  # '19.99' and '19.990' differ
    if isinstance(value, datetime.datetime):
        return (datetime.datetime, value.isoformat(), value.tzinfo)
    return (type(value), value)


def same(qs: Any) -> list[Any]:
    """Assert ``qs`` gives what the reference path gives; return its results."""
    expected = snapshot(reference(qs))
    results = list(qs.all())
    assert snapshot(results) == expected
    # Streaming (chunks of 2) builds them the same way.
    assert snapshot(list(qs.all().iterator(chunk_size=2))) == expected
    return results


# -- per-shape models: MTI, proxy, a from_db override --------------------------------
def _meta(apps: Apps, **extra: Any) -> type:
    return type("Meta", (), {"app_label": "rowfnapp", "apps": apps, **extra})


def _models() -> dict[str, Any]:
    apps = Apps()

    class Venue(orm.Model):
        name = orm.CharField(max_length=50)
        opened = orm.DateTimeField(null=True)
        Meta = _meta(apps)

    class Club(Venue):
        fee = orm.DecimalField(max_digits=10, decimal_places=3, null=True)
        Meta = _meta(apps)

    class LoudClub(Venue):
        Meta = _meta(apps, proxy=True)

    class Counted(orm.Model):
        label = orm.CharField(max_length=20)
        Meta = _meta(apps)

        @classmethod
        def from_db(cls, db: str, field_names: list[str], values: Any) -> Any:
            obj = super().from_db(db, field_names, values)
            obj.loaded_from = list(field_names)
            return obj

    class Ticket(orm.Model):
        club = orm.ForeignKey(Club, on_delete=orm.CASCADE, null=True, related_name="tickets")
        counted = orm.ForeignKey(Counted, on_delete=orm.CASCADE, null=True)
        code = orm.UUIDField(default=uuid.uuid4)
        Meta = _meta(apps)

    return {
        "Venue": Venue,
        "Club": Club,
        "LoudClub": LoudClub,
        "Counted": Counted,
        "Ticket": Ticket,
    }


@pytest.fixture
def shapes(db: str) -> Iterator[dict[str, Any]]:
    found = _models()
    tables = [m for m in found.values() if not m._meta.proxy]
    orm.create_tables(*tables)
    club = found["Club"].objects.create(
        name="Jazz",
        opened=datetime.datetime(2020, 5, 1, 21, 30, 0, 123456, tzinfo=datetime.UTC),
        fee=Decimal("12.500"),
    )
    found["Club"].objects.create(name="Quiet", fee=None)
    counted = found["Counted"].objects.create(label="c1")
    found["Ticket"].objects.create(club=club, counted=counted)
    found["Ticket"].objects.create(club=None, counted=None)
    yield found
    orm.drop_tables(*reversed(tables))


# -- the tests -------------------------------------------------------------------------
def test_plain_deferred_and_only(library: Library) -> None:
    same(Book.objects.order_by("id"))
    same(Book.objects.defer("data", "published").order_by("id"))
    same(Book.objects.only("title").order_by("id"))
    same(Book.objects.filter(pages__isnull=True))
    same(Author.objects.order_by("name"))


def test_select_related_non_null_and_nullable(library: Library) -> None:
    Profile.objects.create(author=library.alice, bio="hi")
    same(Book.objects.select_related("author").order_by("id"))
    same(Book.objects.select_related("author").defer("author__email").order_by("id"))
    # Reverse one-to-one: Carol and Bob have no profile (a None in the cache).
    same(Author.objects.select_related("profile").order_by("name"))
    same(Profile.objects.select_related("author"))
    root = Category.objects.create(name="root")
    mid = Category.objects.create(name="mid", parent=root)
    Category.objects.create(name="leaf", parent=mid)
    results = same(Category.objects.select_related("parent__parent").order_by("id"))
    assert results[0]._state.fields_cache == {"parent": None}


def test_annotations(library: Library) -> None:
    shaped = Book.objects.annotate(n=orm.Count("tags"), doubled=orm.F("pages") * 2).order_by("id")
    same(shaped)
    same(shaped.select_related("author"))
    same(Author.objects.annotate(total=orm.Sum("books__price")).order_by("name"))


def test_values_shapes(library: Library) -> None:
    qs = Book.objects.order_by("id")
    same(qs.values())
    same(qs.values("title", "price"))
    same(qs.values_list("id", "title", "price"))
    same(qs.values_list("price", flat=True))
    same(qs.values_list("published", flat=True))
    ann = qs.annotate(twice=orm.F("price") * 2)
    same(ann.values_list("title", "twice", "price"))
    same(ann.values("twice", "id"))
    named = list(qs.values_list("title", "price", named=True))
    assert [tuple(r) for r in named] == reference(qs.values_list("title", "price"))
    assert named[0].price == Decimal("19.99")


def test_every_field_type_and_edge_values(db: str) -> None:
    AllFields.objects.create()  # None (or the default) everywhere
    AllFields.objects.create(
        small_int=-32768,
        int_value=2**31 - 1,
        big_int=-(2**63),
        positive_int=0,
        float_value=1e-300,
        decimal_value=Decimal("-12345678.0001"),
        bool_value=True,
        null_bool=False,
        char_value="é\u2603",
        text_value="x" * 1000,
        uuid_value=uuid.UUID(int=1),
        date_value=datetime.date(1, 1, 1),
        datetime_value=datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC),
        time_value=datetime.time(0, 0, 0, 1),
        duration_value=datetime.timedelta(days=-1, microseconds=1),
        json_value={"a": [1, 2.5, None, True], "b": {"c": "d"}},
        binary_value=b"\x00\xff",
    )
    AllFields.objects.create(
        decimal_value=Decimal("10"),
        json_value=[],
        float_value=0.0,
        datetime_value=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
    )
    # Stored as REAL, read back as floats whose repr is shorter or longer than the places.
    for text in ("1.5", "-0.25", "123.4567", "0.0001", "-9999.9999"):
        AllFields.objects.create(decimal_value=Decimal(text))
    results = same(AllFields.objects.order_by("id"))
    assert str(results[2].decimal_value) == "10.0000"
    assert [str(r.decimal_value) for r in results[3:]] == [
        "1.5000",
        "-0.2500",
        "123.4567",
        "0.0001",
        "-9999.9999",
    ]
    same(AllFields.objects.order_by("id").values())
    same(
        AllFields.objects.order_by("id").values_list(
            "decimal_value", "datetime_value", "uuid_value"
        )
    )


def test_naive_datetimes_with_use_tz_off(db: str) -> None:
    timezone.set_use_tz(False)
    try:
        AllFields.objects.create(datetime_value=datetime.datetime(2024, 2, 29, 12, 0, 0, 5))
        results = same(AllFields.objects.all())
        assert results[0].datetime_value.tzinfo is None
        same(AllFields.objects.values_list("datetime_value", flat=True))
    finally:
        timezone.set_use_tz(True)


def test_mti_proxy_and_from_db_override(shapes: dict[str, Any]) -> None:
    same(shapes["Club"].objects.order_by("id"))
    same(shapes["Venue"].objects.select_related("club").order_by("id"))
    loud = same(shapes["LoudClub"].objects.order_by("id"))
    assert type(loud[0]) is shapes["LoudClub"]
    tickets = same(shapes["Ticket"].objects.select_related("club", "counted").order_by("id"))
    # The override ran for the related object, with the loaded names.
    assert tickets[0].counted.loaded_from == ["id", "label"]
    assert tickets[1].club is None and tickets[1].counted is None
    counted = same(shapes["Counted"].objects.all())
    assert counted[0].loaded_from == ["id", "label"]


def test_post_init_receivers_see_every_row(library: Library) -> None:
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Author)
    try:
        books = same(Book.objects.select_related("author").order_by("id"))
    finally:
        post_init.disconnect(receiver, sender=Author)
    # Built three times (reference, list, iterator), once per book each.
    assert len(seen) == 3 * len(books)
    assert seen[-1] is books[-1].author or seen[-1].pk == books[-1].author.pk


def test_init_receivers_connected_after_a_shape_ran_see_its_rows(library: Library) -> None:
    # The first run caches the statement's row function for "no init signal
    # anywhere"; a receiver connected afterwards must still get every row,
    # and once it is gone the cached function serves again.
    query = Book.objects.select_related("author").order_by("id")
    expected = len(list(query.all()))
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Author)
    try:
        books = list(query.all())
    finally:
        post_init.disconnect(receiver, sender=Author)
    assert [author.pk for author in seen] == [book.author.pk for book in books]
    assert len(books) == expected
    list(query.all())
    assert len(seen) == expected


def test_known_related_objects_are_kept(library: Library) -> None:
    books = list(library.alice.books.order_by("id"))
    assert books and all(b._state.fields_cache["author"] is library.alice for b in books)


# -- a fetched list of many rows: built in one loop with the cyclic collector paused ----
def _many_books(library: Library) -> int:
    count = GC_PAUSE_ROWS + 44
    Book.objects.bulk_create(
        Book(
            title=f"Volume {i}",
            author=library.bob if i % 3 else library.alice,
            price=Decimal(i * 7) / 100,
            pages=i or None,
            published=datetime.date(2020, 1, 1) + datetime.timedelta(days=i) if i % 5 else None,
            data={"i": i} if i % 2 else None,
        )
        for i in range(count)
    )
    return count


def test_many_rows_build_what_few_rows_build(library: Library) -> None:
    count = _many_books(library)
    books = same(Book.objects.select_related("author").order_by("id"))
    assert len(books) > count
    same(Book.objects.order_by("id"))
    same(Book.objects.order_by("id").values_list("id", "title", "price", "published"))
    same(Book.objects.order_by("id").values())
    same(Book.objects.order_by("id").values_list("price", flat=True))


def test_a_repeated_query_makes_no_row_function(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The row functions are made once per statement and kept with it (the
    # connection and alias of each execution reach them as arguments).
    made: list[str] = []
    compiled = row_makers._compiled

    def counting(source: str) -> Any:
        factory = compiled(source)

        def counted(*args: Any) -> Any:
            made.append(source)
            return factory(*args)

        return counted

    shapes = [
        lambda: Book.objects.filter(pages__gte=0).order_by("id"),
        lambda: Book.objects.select_related("author").order_by("id"),
        lambda: Book.objects.order_by("id").values_list("id", "title", "price"),
    ]
    expected = [snapshot(same(shape())) for shape in shapes]
    clear_all()  # every statement compiles again, through the counting factory
    monkeypatch.setattr(row_makers, "_compiled", counting)
    first = [list(shape()) for shape in shapes]
    # One per shape that converts its rows (PostgreSQL's values_list hands
    # psycopg's tuples back as they are, with no row function at all).
    count = len(made)
    assert count >= 2
    again = [list(shape()) for shape in shapes]
    assert len(made) == count  # the second run made none
    assert [snapshot(r) for r in first] == [snapshot(r) for r in again] == expected


def _record_collector(seen: list[bool], fail_at: int = -1) -> Any:
    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(gc.isenabled())
        if len(seen) == fail_at:
            raise RuntimeError("row receiver failed")

    return receiver


def test_collector_is_paused_while_many_rows_are_built_and_resumed_after(
    library: Library,
) -> None:
    count = _many_books(library)
    seen: list[bool] = []
    receiver = _record_collector(seen)
    post_init.connect(receiver, sender=Book)
    try:
        books = list(Book.objects.all())
        few = list(Book.objects.order_by("id")[:10])
    finally:
        post_init.disconnect(receiver, sender=Book)
    assert len(books) > count
    assert seen[: len(books)] == [False] * len(books)
    # Below GC_PAUSE_ROWS rows the collector is left as it is.
    assert seen[len(books) :] == [True] * len(few)
    assert gc.isenabled()


def test_collector_is_resumed_when_building_a_row_raises(library: Library) -> None:
    _many_books(library)
    seen: list[bool] = []
    receiver = _record_collector(seen, fail_at=100)
    post_init.connect(receiver, sender=Book)
    try:
        with pytest.raises(RuntimeError, match="row receiver failed"):
            list(Book.objects.all())
    finally:
        post_init.disconnect(receiver, sender=Book)
    assert len(seen) == 100
    assert gc.isenabled()


def test_collector_stays_off_when_the_caller_turned_it_off(library: Library) -> None:
    count = _many_books(library)
    gc.disable()
    try:
        assert len(list(Book.objects.all())) > count
        assert not gc.isenabled()
    finally:
        gc.enable()
