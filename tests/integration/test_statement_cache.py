"""The compiled-statement cache (``orm.sql.compiler.STATEMENTS``) on both backends.

Every QuerySet whose query has a cache key (``orm/query/cache_key.py``)
reuses the SQL text compiled for its shape, whatever evaluates it: ``get()``,
iteration, ``count()``, ``exists()``, ``values()``... Each test runs a
QuerySet both ways, uncached (the cache emptied first: the ordinary
compilation) and cached (an entry compiled for other values), and checks that
the results, the SQL text and the parameters are the same.
"""

from __future__ import annotations

import asyncio
import datetime
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm.exceptions import FieldError, TransactionManagementError
from orm.sql import compiler
from orm.sql.compiler import SQLCompiler
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import AllFields, Author, Book, Person

UTC = datetime.UTC
MOMENT = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
TOKEN = uuid.UUID("12345678-1234-5678-1234-567812345678")


def run(qs: orm.QuerySet[Any], evaluate: Any) -> tuple[Any, list[tuple[str, Any]]]:
    with QueryCounter() as ctx:
        result = evaluate(qs.all())  # a fresh clone: no result cache
    return result, [(sql, list(params)) for sql, params in ctx.queries]


def assert_same(qs: orm.QuerySet[Any], evaluate: Any) -> Any:
    """``evaluate(qs)`` uncached, then cached: same results, SQL and parameters."""
    compiler.STATEMENTS.clear()
    expected, expected_sql = run(qs, evaluate)
    assert len(compiler.STATEMENTS) == 1  # the entry the second run uses
    cached, cached_sql = run(qs, evaluate)
    assert cached == expected
    assert cached_sql == expected_sql
    return cached


@pytest.fixture
def every_type(db: str) -> AllFields:
    AllFields.objects.create(small_int=1, int_value=10, char_value="other")
    return AllFields.objects.create(
        small_int=7,
        int_value=-42,
        big_int=2**40,
        positive_int=5,
        float_value=2.5,
        decimal_value=Decimal("12.3400"),
        bool_value=True,
        null_bool=False,
        char_value="Hello_%",
        text_value="a longer text",
        email_value="e@example.com",
        slug_value="a-slug",
        url_value="https://example.com",
        uuid_value=TOKEN,
        date_value=datetime.date(2024, 5, 6),
        datetime_value=MOMENT,
        time_value=datetime.time(7, 8, 9),
        duration_value=datetime.timedelta(hours=2),
        binary_value=b"\x00\x01bytes",
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"small_int": 7},
        {"int_value__lt": 0},
        {"big_int__gte": 2**40},
        {"positive_int__lte": 5},
        {"float_value__gt": 2.0},
        {"decimal_value": Decimal("12.34")},
        {"decimal_value__lt": Decimal("13")},
        {"bool_value": True},
        {"null_bool": False},
        {"char_value": "Hello_%"},
        {"char_value__iexact": "hello_%"},
        {"char_value__contains": "_%"},
        {"char_value__icontains": "LO_"},
        {"char_value__startswith": "Hel"},
        {"char_value__istartswith": "hel"},
        {"char_value__endswith": "_%"},
        {"char_value__iendswith": "O_%"},
        {"text_value__contains": "longer"},
        {"email_value": "e@example.com"},
        {"slug_value": "a-slug"},
        {"url_value__startswith": "https://"},
        {"uuid_value": TOKEN},
        {"uuid_value": str(TOKEN)},
        {"date_value": datetime.date(2024, 5, 6)},
        {"date_value": "2024-05-06"},
        {"date_value__gt": datetime.date(2024, 1, 1)},
        {"datetime_value": MOMENT},
        {"datetime_value__lt": MOMENT + datetime.timedelta(seconds=1)},
        {"time_value": datetime.time(7, 8, 9)},
        {"duration_value__gte": datetime.timedelta(hours=1)},
        {"binary_value": b"\x00\x01bytes"},
        {"int_value": -42, "small_int": 7, "char_value__contains": "l"},
        {"pk__gt": 0, "int_value__lt": 0},
        {"id__lte": 10**6, "char_value__startswith": "H"},
    ],
    ids=lambda kwargs: ",".join(f"{k}={type(v).__name__}" for k, v in kwargs.items()),
)
def test_every_type_and_lookup_matches_the_ordinary_path(
    every_type: AllFields, kwargs: dict[str, Any]
) -> None:
    qs = AllFields.objects.filter(**kwargs)
    pks = assert_same(qs, lambda q: sorted(o.pk for o in q))
    assert pks == [every_type.pk]
    assert assert_same(qs, lambda q: q.count()) == 1
    assert assert_same(qs, lambda q: q.exists()) is True
    got = assert_same(qs, lambda q: q.get())
    # Every column comes back converted, as from the ordinary path.
    assert got.datetime_value == MOMENT and got.decimal_value == Decimal("12.3400")
    assert got.uuid_value == TOKEN and bytes(got.binary_value) == b"\x00\x01bytes"


def test_values_of_other_types_take_the_ordinary_path(library: Library) -> None:
    class Title(str):
        pass

    qs = Book.objects.filter(title=Title("SQL 101"))
    assert [b.title for b in qs] == ["SQL 101"]
    assert Book.objects.filter(pages=None).count() == 1
    assert Book.objects.filter(author=library.bob).count() == 2
    assert Book.objects.filter(pk__in=[library.basics.pk]).count() == 1
    assert Book.objects.filter(pages=orm.F("pages")).count() == 3


def test_foreign_keys_and_primary_keys(library: Library) -> None:
    bob = library.bob.pk
    for qs in (
        Book.objects.filter(author=bob),
        Book.objects.filter(author_id=bob),
        Book.objects.filter(author__pk=bob),
        Book.objects.filter(author__id=bob),
    ):
        assert assert_same(qs, lambda q: sorted(b.title for b in q)) == [
            "Django Unchained",
            "SQL 101",
        ]
    assert (
        assert_same(Book.objects.filter(pk=library.sql101.pk), lambda q: q.get().title) == "SQL 101"
    )
    # Across a relation: a join, so the ordinary path, with the same answer.
    assert sorted(b.title for b in Book.objects.filter(author__name="Bob")) == [
        "Django Unchained",
        "SQL 101",
    ]


def test_get_raises_as_before(library: Library) -> None:
    with pytest.raises(Book.DoesNotExist, match="Book matching query does not exist"):
        Book.objects.get(pk=10**9)
    with pytest.raises(Book.MultipleObjectsReturned, match="it returned 2"):
        Book.objects.get(author_id=library.bob.pk)


def test_meta_ordering_is_kept(db: str) -> None:
    for name in ("Carl", "Anna", "Bert"):
        Person.objects.create(name=name)
    qs = Person.objects.filter(name__gte="B")
    assert assert_same(qs, lambda q: [p.name for p in q]) == ["Bert", "Carl"]


def test_bad_names_and_values_fail_in_filter(db: str) -> None:
    with pytest.raises(FieldError, match="Cannot resolve keyword 'nope'"):
        Book.objects.filter(nope=1)
    errors = []
    for build in (
        lambda: Book.objects.filter(pk="abc"),
        lambda: Book.objects.filter(orm.Q(pk="abc")),
    ):
        with pytest.raises(Exception) as info:
            build()
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]  # the cached path raises what the ordinary one raises


def test_integer_out_of_range_runs_no_query(library: Library) -> None:
    with QueryCounter() as ctx:
        assert list(Book.objects.filter(pages=2**70)) == []
        assert Book.objects.filter(pages=2**70).count() == 0
    assert ctx.queries == []
    assert (
        Book.objects.filter(pages__lt=2**70).count() == 3
    )  # the NULL one is not less than anything


def test_query_shows_pending_filters(db: str) -> None:
    qs = Book.objects.filter(title="x", pages__gt=3)
    sql = str(qs.query)
    assert "WHERE" in sql and "title" in sql and "pages" in sql


def test_chaining_after_a_cached_filter(library: Library) -> None:
    base = Book.objects.filter(author_id=library.alice.pk)
    assert [b.title for b in base.filter(pages__gt=300)] == ["Advanced Python"]
    assert [b.title for b in base.exclude(pages__gt=300)] == ["Python Basics"]
    assert [b.title for b in base.order_by("-pages")] == ["Advanced Python", "Python Basics"]
    assert [b.title for b in base.order_by("pages")[:1]] == ["Python Basics"]
    assert sorted(base.values_list("title", flat=True)) == ["Advanced Python", "Python Basics"]
    assert [b.author.name for b in base.select_related("author")] == ["Alice", "Alice"]
    assert sorted(len(b.tags.all()) for b in base.prefetch_related("tags")) == [1, 2]
    assert base.filter(orm.Q(pages=200) | orm.Q(pages=450)).count() == 2
    assert base.update(pages=1) == 2
    assert Book.objects.filter(pages=1).count() == 2
    assert base.delete()[0] >= 2
    assert Book.objects.count() == 2


def test_each_shape_is_compiled_once(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    shape = {"title__startswith": "never-seen-before-shape"}
    assert Book.objects.filter(**shape).count() == 0
    compiled = []

    def counting(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        compiled.append(self)
        return original(self, *args, **kwargs)

    original = SQLCompiler._compile_select
    monkeypatch.setattr(SQLCompiler, "_compile_select", counting)
    for title in ("Python", "SQL", "Django"):
        assert Book.objects.filter(title__startswith=title).count() >= 1
    assert compiled == []
    assert Book.objects.filter(title__startswith="A").get().title == "Advanced Python"
    assert len(compiled) == 1  # get() is a shape of its own (no ordering, LIMIT 21)
    assert Book.objects.filter(title__startswith="S").get().title == "SQL 101"
    assert [b.title for b in Book.objects.filter(title__startswith="S")] == ["SQL 101"]
    assert Book.objects.filter(title__startswith="P").exists()
    assert len(compiled) == 3  # iteration and exists(): one shape each
    assert sorted(Book.objects.filter(title__startswith="P").values_list("pages", flat=True)) == [
        200
    ]
    assert sorted(Book.objects.filter(title__startswith="A").values_list("pages", flat=True)) == [
        450
    ]
    assert len(compiled) == 4


def test_broken_transaction_is_still_refused(library: Library) -> None:
    with orm.transaction.atomic():
        with pytest.raises(orm.IntegrityError):
            with orm.transaction.atomic(savepoint=False):
                Author.objects.create(name="Dup", email="alice@example.com")
        with pytest.raises(TransactionManagementError):
            Author.objects.filter(pk=library.alice.pk).count()
        with pytest.raises(TransactionManagementError):
            Author.objects.get(pk=library.alice.pk)


def test_another_thread_uses_its_own_connection(library: Library) -> None:
    assert Book.objects.get(pk=library.basics.pk).title == "Python Basics"

    async def in_scope() -> tuple[str, int, bool]:
        async with orm.connection_scope():
            book = await Book.objects.aget(pk=library.basics.pk)
            n = await Book.objects.filter(author_id=library.bob.pk).acount()
            found = await Book.objects.filter(title="SQL 101").aexists()
            return book.title, n, found

    assert asyncio.run(in_scope()) == ("Python Basics", 2, True)


async def test_async_twins(library: Library) -> None:
    book = await Book.objects.aget(pk=library.advanced.pk)
    assert book.price == Decimal("49.50")
    assert [b.title async for b in Book.objects.filter(pages__gte=300)] in (
        ["Advanced Python", "Django Unchained"],
        ["Django Unchained", "Advanced Python"],
    )
    assert await Book.objects.filter(author_id=library.alice.pk).acount() == 2
    assert await Book.objects.filter(title="nope").aexists() is False
    with pytest.raises(orm.SynchronousOnlyOperation):
        Book.objects.filter(pk=1).count()


def test_random_filter_shapes_give_the_same_rows_cached_and_uncached(library: Library) -> None:
    """The differential test: many random filter trees, each evaluated uncached and
    then through an entry another value set compiled."""
    rng = random.Random(12)
    names = ["Python", "SQL", "Django", "Advanced", "o", ""]
    terms = [
        lambda i: orm.Q(pages__gt=100 * i),
        lambda i: orm.Q(pages__lte=150 * i),
        lambda i: orm.Q(title__icontains=names[i]),
        lambda i: orm.Q(title__startswith=names[i + 1]),
        lambda i: orm.Q(pages__isnull=bool(i % 2)),
        lambda i: orm.Q(author__name__contains=names[i]),
        lambda i: orm.Q(pages__in=[200, 100 * i]),
        lambda i: orm.Q(price__gte=Decimal(10 * i)),
        lambda i: orm.Q(author__email__endswith="example.com"),
        lambda i: orm.Q(tags__name=names[i]),
    ]
    evaluations = [
        lambda qs: sorted(b.pk for b in qs),
        lambda qs: qs.count(),
        lambda qs: qs.exists(),
        lambda qs: sorted(map(repr, qs.values("title", "pages"))),
        lambda qs: [b.pk for b in qs.order_by("-pages", "pk")[:2]],
        lambda qs: sorted((b.pk, b.author.name) for b in qs.select_related("author")),
    ]
    for _ in range(60):
        picked = rng.sample(terms, rng.randint(1, 3))
        negate = [rng.random() < 0.3 for _ in picked]
        ors = [rng.random() < 0.4 for _ in picked]
        evaluate = rng.choice(evaluations)

        def build(i: int, picked: Any = picked, negate: Any = negate, ors: Any = ors) -> Any:
            q = orm.Q()
            for term, neg, use_or in zip(picked, negate, ors, strict=True):
                t = ~term(i) if neg else term(i)
                q = (q | t) if use_or and q else (q & t)
            return Book.objects.filter(q)

        for value, other in ((1, 2), (2, 3)):
            compiler.STATEMENTS.clear()
            expected = run(build(value), evaluate)
            compiler.STATEMENTS.clear()
            run(build(other), evaluate)  # compiles the shape with other values
            assert run(build(value), evaluate) == expected
