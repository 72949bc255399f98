"""A15: 100 000 values in one ``__in`` and 100 000 rows in one ``bulk_create``.

SQLite caps bound variables per statement; orm binds a large ``__in`` list as
one array parameter and batches ``bulk_create`` inside one transaction. Both
work, and a ``bulk_create`` that fails in its last batch writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm import DataError, IntegrityError
from tests.security.models import Book, Unique

N = 100_000


@pytest.fixture
def twenty(db: str) -> list[Book]:
    return Book.objects.bulk_create([Book(name=f"b{i}", rating=i) for i in range(20)])


def test_in_with_100k_values(twenty: list[Book], count_queries: Any) -> None:
    ids = range(N)
    with count_queries() as ctx:
        assert Book.objects.filter(id__in=ids).count() == 20
    assert len(ctx.queries) == 1
    assert sorted(b.pk for b in Book.objects.filter(id__in=ids)) == sorted(b.pk for b in twenty)
    assert Book.objects.filter(id__in=list(range(10, N))).count() == 20 - sum(
        b.pk < 10 for b in twenty
    )
    assert Book.objects.exclude(id__in=ids).count() == 0
    assert Book.objects.filter(id__in=[*ids, None, 2**70]).count() == 20, (
        "NULL and unstorable ints ignored"
    )
    assert Book.objects.filter(name__in=[f"b{i}" for i in range(N)]).count() == 20
    assert Book.objects.filter(id__in=ids).update(rating=-1) == 20
    assert Book.objects.filter(id__in=ids, rating=-1).count() == 20
    assert Book.objects.filter(id__in=ids).delete()[0] == 20
    assert Book.objects.count() == 0


def test_bulk_create_100k(db: str) -> None:
    objs = Book.objects.bulk_create([Book(name=f"n{i}", rating=i % 1000) for i in range(N)])
    assert len(objs) == N
    pks = [o.pk for o in objs]
    assert None not in pks and len(set(pks)) == N
    assert Book.objects.count() == N
    assert Book.objects.get(pk=pks[-1]).name == f"n{N - 1}"


def test_bulk_create_failing_last_batch_writes_nothing(db: str, count_queries: Any) -> None:
    """The duplicate is the very last row: earlier batches were inserted, then rolled back."""
    existing = Unique.objects.create(code=-1)
    objs = [Unique(code=i) for i in range(N - 1)] + [Unique(code=-1)]
    with count_queries() as ctx, pytest.raises(IntegrityError):
        # An explicit batch_size: PostgreSQL would otherwise insert every row in
        # one UNNEST statement.
        Unique.objects.bulk_create(objs, batch_size=N // 4)
    inserts = [sql for sql, _ in ctx.queries if sql.startswith("INSERT")]
    assert len(inserts) > 1, "the failure must come after earlier batches ran"
    assert list(Unique.objects.all()) == [existing]


def test_bulk_create_bad_last_value_runs_no_sql(db: str, reject: Any) -> None:
    """A value the ORM refuses is found before the first INSERT of the first batch."""
    objs = [Unique(code=i) for i in range(N - 1)] + [Unique(code=2**40)]
    with reject(DataError, "'code'"):
        Unique.objects.bulk_create(objs)
    assert Unique.objects.count() == 0
