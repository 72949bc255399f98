"""The compiled-statement cache, compile-only on both dialects.

A cached compilation must give exactly the text and parameters a fresh one
gives. The failure guarded against is a collision: two shapes sharing a key,
so that the second gets the first's SQL. So every shape below is compiled
cold (cache emptied: the ordinary compilation) and warm (after every other
shape filled the cache, with different values), and both must agree.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm.exceptions import EmptyResultSet
from orm.query.aggregates import Count
from orm.query.summary import aggregation_query
from orm.sql import compiler
from tests.sql.helpers import placeholder_count
from tests.sql.models import Author, Book, Number, Publisher

Shape = Callable[[int], Any]  # value index -> QuerySet (or Query)


@pytest.fixture(params=["sqlite", "postgresql"])
def conn(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The SQLite wrapper of the compile-only tests, or a PostgreSQL one that never connects."""
    if request.param == "sqlite":
        yield orm.connections["default"]
        return
    from orm.conf import parse_url
    from orm.db.connections import ConnectionHandler

    backend = ConnectionHandler.load_backend("postgresql")
    wrapper = backend.DatabaseWrapper(parse_url("postgresql://u@127.0.0.1:5432/db"), "pg")
    yield wrapper
    assert wrapper.connection is None  # compiling opened nothing


def compile_with(conn: Any, qs: Any) -> tuple[str, list[Any], list[type]]:
    """(sql, params, the type of each param): 1 == True, so compare the types too."""
    query = getattr(qs, "query", qs)
    sql, params = query.get_compiler(connection=conn).as_sql()
    return sql, list(params), [type(p) for p in params]


def cold(conn: Any, qs: Any) -> tuple[str, list[Any], list[type]]:
    """The ordinary compilation: nothing cached."""
    compiler.STATEMENTS.clear()
    return compile_with(conn, qs)


NAMES = ["Ann", "Bob", "O'Hara", "50%_off", ""]
DAYS = [datetime.date(2024, 1, 1), datetime.date(1999, 12, 31), datetime.date(2030, 6, 15)]

# Shapes whose SQL differs from one another's (most by a single token: the
# lookup, negation, connector, ordering, limit, field list).
SHAPES: dict[str, Shape] = {
    "exact": lambda i: Author.objects.filter(name=NAMES[i]),
    "iexact": lambda i: Author.objects.filter(name__iexact=NAMES[i]),
    "contains": lambda i: Author.objects.filter(name__contains=NAMES[i]),
    "icontains": lambda i: Author.objects.filter(name__icontains=NAMES[i]),
    "startswith": lambda i: Author.objects.filter(name__startswith=NAMES[i]),
    "endswith": lambda i: Author.objects.filter(name__endswith=NAMES[i]),
    "gt": lambda i: Author.objects.filter(age__gt=i),
    "gte": lambda i: Author.objects.filter(age__gte=i),
    "lt": lambda i: Author.objects.filter(age__lt=i),
    "lte": lambda i: Author.objects.filter(age__lte=i),
    "exclude": lambda i: Author.objects.exclude(age__lt=i),
    "exclude exact": lambda i: Author.objects.exclude(name=NAMES[i]),
    "two terms": lambda i: Author.objects.filter(name=NAMES[i], age=i),
    "two calls": lambda i: Author.objects.filter(name=NAMES[i]).filter(age=i),
    "or": lambda i: Author.objects.filter(orm.Q(name=NAMES[i]) | orm.Q(age=i)),
    "not or": lambda i: Author.objects.filter(~(orm.Q(name=NAMES[i]) | orm.Q(age=i))),
    "xor": lambda i: Author.objects.filter(orm.Q(name=NAMES[i]) ^ orm.Q(age=i)),
    "isnull": lambda i: Author.objects.filter(age__isnull=True, name=NAMES[i]),
    "not isnull": lambda i: Author.objects.filter(age__isnull=False, name=NAMES[i]),
    "in 2": lambda i: Author.objects.filter(age__in=[i, i + 10]),
    "in 3": lambda i: Author.objects.filter(age__in=[i, i + 10, i + 20]),
    "range": lambda i: Book.objects.filter(published__range=(DAYS[i % 3], DAYS[(i + 1) % 3])),
    "date": lambda i: Book.objects.filter(published=DAYS[i % 3]),
    "decimal": lambda i: Book.objects.filter(price__lt=Decimal(i) + Decimal("0.5")),
    "float": lambda i: Book.objects.filter(rating__gte=i / 2),
    "ordered": lambda i: Author.objects.filter(age=i).order_by("name"),
    "ordered desc": lambda i: Author.objects.filter(age=i).order_by("-name"),
    "ordered related": lambda i: Book.objects.filter(pages=i).order_by("author__name"),
    "meta ordering": lambda i: Publisher.objects.filter(name=NAMES[i]),
    "no ordering": lambda i: Publisher.objects.filter(name=NAMES[i]).order_by(),
    "reversed": lambda i: Publisher.objects.filter(name=NAMES[i]).reverse(),
    "sliced": lambda i: Author.objects.filter(age=i)[:3],
    "sliced offset": lambda i: Author.objects.filter(age=i)[2:5],
    "one": lambda i: Author.objects.filter(age=i)[1:2],
    "values": lambda i: Author.objects.filter(age=i).values("name"),
    "values two": lambda i: Author.objects.filter(age=i).values("name", "age"),
    "values_list": lambda i: Author.objects.filter(age=i).values_list("age", "name"),
    "only": lambda i: Author.objects.filter(age=i).only("name"),
    "defer": lambda i: Author.objects.filter(age=i).defer("name"),
    "distinct": lambda i: Author.objects.filter(age=i).distinct(),
    "select_related": lambda i: Book.objects.select_related("author").filter(pages=i),
    "select_related two": lambda i: Book.objects.select_related("author", "publisher").filter(
        pages=i
    ),
    "join filter": lambda i: Book.objects.filter(author__name=NAMES[i]),
    "join filter nullable": lambda i: Book.objects.filter(editor__name=NAMES[i]),
    "reverse join": lambda i: Author.objects.filter(books__pages=i),
    "reverse join twice": lambda i: Author.objects.filter(books__pages=i).filter(
        books__pages=i + 1
    ),
    "fk id": lambda i: Book.objects.filter(author_id=i),
    "pk": lambda i: Book.objects.filter(pk=i),
    "other model same column": lambda i: Number.objects.filter(i=i),
    "none": lambda i: Author.objects.filter(age=i).none(),
    "exists": lambda i: Author.objects.filter(age=i).query.exists_query(),
    "count": lambda i: aggregation_query(
        Author.objects.filter(age=i).query, {"__count": Count("*")}
    ),
    "integer out of range": lambda i: Number.objects.filter(small__lt=2**40 + i),
    "exact None": lambda i: Author.objects.filter(age=None, name=NAMES[i]),
}


def test_same_shape_different_values_share_one_entry(conn: Any) -> None:
    compiler.STATEMENTS.clear()
    results = [
        compile_with(conn, Author.objects.filter(name=name, age__lt=n))
        for n, name in enumerate(NAMES)
    ]
    assert len(compiler.STATEMENTS) == 1
    assert len({sql for sql, _params, _types in results}) == 1
    # The parameters are each query's own values, in the order of the text
    # (keyword filters are sorted: age__lt before name).
    for n, name in enumerate(NAMES):
        assert results[n][1] == [n, name]
        assert results[n] == cold(conn, Author.objects.filter(name=name, age__lt=n))


def test_every_shape_compiles_the_same_warm_and_cold(conn: Any) -> None:
    expected = {
        name: [cold(conn, shape(i)) if name != "none" else None for i in (1, 2)]
        for name, shape in SHAPES.items()
    }
    compiler.STATEMENTS.clear()
    order = list(SHAPES)
    random.Random(7).shuffle(order)
    for i in (1, 2):  # value set 1 fills the cache; value set 2 reuses it
        for name in order:
            if name == "none":
                with pytest.raises(EmptyResultSet):
                    compile_with(conn, SHAPES[name](i))
                continue
            sql, params, types = compile_with(conn, SHAPES[name](i))
            assert (sql, params, types) == expected[name][i - 1], name
            assert placeholder_count(sql) == len(params)
    # Most shapes have an entry of their own (the uncacheable "none" has none).
    assert len(SHAPES) - 5 <= len(compiler.STATEMENTS) < len(SHAPES)


def test_the_connection_is_part_of_the_key(conn: Any) -> None:
    # SQLite has no FOR UPDATE: an entry shared by both would give one text.
    qs = Author.objects.filter(age=1).select_for_update()
    compiler.STATEMENTS.clear()
    compile_with(conn, qs)
    other = orm.connections["default"] if conn.vendor == "postgresql" else _pg_wrapper()
    assert compile_with(other, qs) == cold(other, qs)
    sqls = {compile_with(c, qs)[0] for c in (conn, other)}
    assert len(sqls) == 2
    assert len(compiler.STATEMENTS) == 2


def _pg_wrapper() -> Any:
    from orm.conf import parse_url
    from orm.db.connections import ConnectionHandler

    backend = ConnectionHandler.load_backend("postgresql")
    return backend.DatabaseWrapper(parse_url("postgresql://u@127.0.0.1:5432/db"), "pg")


def test_uncacheable_queries_compile_as_before(conn: Any) -> None:
    uncacheable = [
        Author.objects.filter(age=orm.F("age")),
        Author.objects.annotate(n=Count("books")).filter(n__gt=1),
        Author.objects.filter(name__regex="^A"),
        Author.objects.filter(age__in=Author.objects.values("age")),
        Author.objects.filter(age__in=[]),
    ]
    for qs in uncacheable:
        assert qs.query.statement_key(conn) is None
    compiler.STATEMENTS.clear()
    for qs in uncacheable[:-1]:
        compile_with(conn, qs)
    assert len(compiler.STATEMENTS) == 0


def test_subqueries_and_combinations_keep_their_own_sql(conn: Any) -> None:
    inner = Author.objects.filter(age=3).values("pk")
    outer = Book.objects.filter(author__in=inner)
    assert compile_with(conn, outer) == cold(conn, outer)
    union = Author.objects.filter(age=1).union(Author.objects.filter(age=2))
    assert compile_with(conn, union) == cold(conn, union)


def test_a_key_holds_every_query_attribute(conn: Any) -> None:
    """A new Query attribute enters the key without any change to the key code."""
    qs = Author.objects.filter(age=1)
    key, params = qs.query.statement_key(conn)
    query = qs.query.clone()
    query.some_new_flag = True  # type: ignore[attr-defined]
    new_key, _ = query.statement_key(conn)
    assert new_key != key and params == [1]
    query.some_new_flag = object()  # type: ignore[attr-defined]  # an unknown type: no key
    assert query.statement_key(conn) is None


def random_shape(rng: random.Random) -> Shape:
    """A random filter tree over Book with a random ordering, slice and row type."""
    terms: list[Callable[[int], orm.Q]] = [
        lambda i: orm.Q(pages__gt=i),
        lambda i: orm.Q(pages__lte=i * 3),
        lambda i: orm.Q(title=NAMES[i % 5]),
        lambda i: orm.Q(title__icontains=NAMES[i % 5]),
        lambda i: orm.Q(rating__isnull=bool(i % 2)),
        lambda i: orm.Q(author__name__startswith=NAMES[i % 5]),
        lambda i: orm.Q(pages__in=[i, i + 1]),
        lambda i: orm.Q(published__gte=DAYS[i % 3]),
        lambda i: orm.Q(price=Decimal(i)),
        lambda i: orm.Q(editor__age__lt=i),
    ]
    picked = rng.sample(terms, rng.randint(1, 4))
    ops = [rng.choice(["and", "or", "xor"]) for _ in picked[1:]]
    negate = [rng.random() < 0.3 for _ in picked]
    ordering = rng.choice([(), ("pages",), ("-title", "pk"), ("author__name",)])
    sliced = rng.choice([None, (0, 5), (3, 7)])
    rows = rng.choice(["models", "values", "related"])

    def build(i: int) -> Any:
        q = ~picked[0](i) if negate[0] else picked[0](i)
        for term, op, neg in zip(picked[1:], ops, negate[1:], strict=True):
            t = ~term(i) if neg else term(i)
            q = q & t if op == "and" else q | t if op == "or" else q ^ t
        qs = Book.objects.filter(q).order_by(*ordering)
        if rows == "values":
            qs = qs.values("title", "pages")
        elif rows == "related":
            qs = qs.select_related("author")
        if sliced is not None:
            qs = qs[sliced[0] : sliced[1]]
        return qs

    return build


def test_random_filter_shapes_warm_equals_cold(conn: Any) -> None:
    rng = random.Random(2026)
    shapes = [random_shape(rng) for _ in range(150)]
    expected = [[cold(conn, shape(i)) for i in (1, 2)] for shape in shapes]
    compiler.STATEMENTS.clear()
    for i in (1, 2):
        for shape, want in zip(shapes, expected, strict=True):
            assert compile_with(conn, shape(i)) == want[i - 1]
    # Values that change the text (isnull=True/False) make a shape of their
    # own; the others share their entry, so far fewer than one per statement.
    assert 0 < len(compiler.STATEMENTS) < 1.5 * len(shapes)


def test_the_cache_is_bounded(conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    compiler.STATEMENTS.clear()
    monkeypatch.setattr(compiler.STATEMENTS, "limit", 10)
    for n in range(25):
        compile_with(conn, Author.objects.filter(age=1)[n : n + 1])  # a slice is part of the shape
        assert len(compiler.STATEMENTS) <= 10
    assert compile_with(conn, Author.objects.filter(age=5)[24:25]) == cold(
        conn, Author.objects.filter(age=5)[24:25]
    )


def test_switching_use_tz_empties_the_cache(conn: Any) -> None:
    from orm.utils import timezone

    compile_with(conn, Author.objects.filter(age=1))
    assert len(compiler.STATEMENTS) > 0
    before = timezone.use_tz()
    try:
        timezone.set_use_tz(not before)
        assert len(compiler.STATEMENTS) == 0
    finally:
        timezone.set_use_tz(before)


def test_each_database_alias_has_its_own_entry() -> None:
    """``using()`` another alias of the same vendor: another key (its settings may differ)."""
    orm.configure(databases={"default": "sqlite:///:memory:", "other": "sqlite:///:memory:"})
    compiler.STATEMENTS.clear()
    for alias in ("default", "other"):
        qs = Author.objects.using(alias).filter(age=1)
        assert compile_with(orm.connections[alias], qs) == cold(orm.connections[alias], qs)
    compiler.STATEMENTS.clear()
    for alias in ("default", "other", "default", "other"):
        compile_with(orm.connections[alias], Author.objects.using(alias).filter(age=1))
    assert len(compiler.STATEMENTS) == 2
    keys = [
        Author.objects.filter(age=1).query.statement_key(orm.connections[a])
        for a in ("default", "other")
    ]
    assert keys[0] == keys[1]  # the query's own key: the alias is added by the compiler


def test_constants_in_the_select_list_are_part_of_the_key(conn: Any) -> None:
    """A ``Value`` is bound outside the WHERE clause: the entry keeps it, so its value
    (and type: 1 == True) must be in the key."""
    values = (1, True, 1.0, "1", "2", Decimal("1.0"), Decimal("1.00"), 0.0, -0.0)
    shapes = [Author.objects.annotate(x=orm.Value(v)).filter(age=3) for v in values]
    want = [cold(conn, qs) for qs in shapes]
    compiler.STATEMENTS.clear()
    got = [compile_with(conn, qs) for qs in shapes]
    assert got == want
    # Equal values bound differently must not share an entry (== cannot tell them apart).
    assert [repr(params[0]) for _sql, params, _types in got] == [
        repr(params[0]) for _sql, params, _types in want
    ]
    assert len(compiler.STATEMENTS) == len(values)
