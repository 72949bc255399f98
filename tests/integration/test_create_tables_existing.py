"""``create_tables(if_not_exists=True)`` and ``drop_tables(if_exists=True)`` (issue 11 item 29).

- Tables that exist are skipped and left exactly as they are (rows, columns);
  the missing ones are created with their indexes, constraints and automatic
  many-to-many tables, in statements that say ``IF NOT EXISTS``.
- Several threads (or processes) may run it at the same time: each waits for
  the other's transaction, then skips what it created.
- Without the flags, an existing (or missing) table is still an error and
  nothing of the batch is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import orm
from orm import transaction

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the tables must exist before the test (committed).
pytestmark = pytest.mark.transactional

TABLES = ("i11_tables_shelf", "i11_tables_volume", "i11_tables_volume_labels", "i11_tables_label")


class Shelf(orm.Model):
    name = orm.CharField(max_length=30, unique=True)
    room = orm.CharField(max_length=30, db_index=True, default="")

    class Meta:
        app_label = "i11_tables"


class Label(orm.Model):
    text = orm.CharField(max_length=30)

    class Meta:
        app_label = "i11_tables"


class Volume(orm.Model):
    title = orm.CharField(max_length=30)
    shelf = orm.ForeignKey(Shelf, on_delete=orm.CASCADE, related_name="volumes")
    labels = orm.ManyToManyField(Label, blank=True)
    pages = orm.IntegerField(default=0)

    class Meta:
        app_label = "i11_tables"
        indexes = [orm.Index(fields=["-pages", "title"])]
        constraints = [
            orm.UniqueConstraint(
                fields=["title"], condition=orm.Q(pages__gt=0), name="i11_vol_title_uq"
            ),
            orm.CheckConstraint(condition=orm.Q(pages__gte=0), name="i11_vol_pages_ck"),
        ]


MODELS = (Shelf, Label, Volume)


def existing_tables() -> set[str]:
    """The tables of this file that exist now."""
    with orm.connection.cursor() as cursor:
        if orm.connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {row[0] for row in cursor.fetchall()} & set(TABLES)


def index_count() -> int:
    with orm.connection.cursor() as cursor:
        if orm.connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'i11_tables%%'"
            )
        else:
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'i11_tables%%'")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def clean(backend: str) -> Iterator[str]:
    yield backend
    orm.drop_tables(*reversed(MODELS), if_exists=True)


def test_second_call_skips_existing_tables_and_keeps_their_rows(clean: str) -> None:
    orm.create_tables(*MODELS, if_not_exists=True)
    indexes = index_count()
    shelf = Shelf.objects.create(name="a")
    Volume.objects.create(title="t", shelf=shelf, pages=3).labels.add(
        Label.objects.create(text="x")
    )

    orm.create_tables(*MODELS, if_not_exists=True)

    assert existing_tables() == set(TABLES)
    assert index_count() == indexes  # nothing added to the existing tables
    assert Volume.objects.get().labels.get().text == "x"
    with pytest.raises(orm.IntegrityError):  # the constraints are still in force
        Volume.objects.create(title="t", shelf=shelf, pages=5)


def test_missing_tables_are_created_next_to_existing_ones(clean: str) -> None:
    orm.create_tables(Shelf)
    Shelf.objects.create(name="kept")

    orm.create_tables(*MODELS, if_not_exists=True)

    assert existing_tables() == set(TABLES)
    assert Shelf.objects.get().name == "kept"
    Volume.objects.create(title="t", shelf=Shelf.objects.get(), pages=1)
    with pytest.raises(orm.IntegrityError):  # the new table's foreign key works
        with transaction.atomic():
            Volume.objects.create(title="orphan", shelf_id=10_000)
    with pytest.raises(orm.IntegrityError):  # and its check constraint
        Volume.objects.create(title="neg", shelf=Shelf.objects.get(), pages=-1)


def test_an_existing_table_is_not_compared_or_altered(clean: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "i11_tables_shelf" (id integer PRIMARY KEY, legacy text)')
        cursor.execute("INSERT INTO \"i11_tables_shelf\" (id, legacy) VALUES (1, 'old')")
    indexes = index_count()

    orm.create_tables(Shelf, if_not_exists=True)

    with orm.connection.cursor() as cursor:
        cursor.execute('SELECT legacy FROM "i11_tables_shelf"')
        assert cursor.fetchall() == [("old",)]
    assert index_count() == indexes  # no index for Shelf.room on the legacy table


def test_statements_say_if_not_exists(clean: str, count_queries: type) -> None:
    with count_queries() as ctx:
        orm.create_tables(*MODELS, if_not_exists=True)
    creates = [sql for sql, _ in ctx.queries if sql.startswith("CREATE")]
    assert len(creates) >= 7  # 4 tables, the db_index, Meta.indexes, the partial unique index
    assert all("IF NOT EXISTS" in sql for sql in creates), creates


def test_without_the_flag_an_existing_table_is_an_error_and_nothing_is_kept(clean: str) -> None:
    orm.create_tables(Label)  # only Label exists
    with pytest.raises(orm.DatabaseError, match="already exists"):
        orm.create_tables(Shelf, Label)
    assert existing_tables() == {"i11_tables_label"}  # Shelf was rolled back


def test_drop_tables_if_exists(clean: str) -> None:
    orm.create_tables(Shelf, Label)
    with pytest.raises(orm.DatabaseError):
        orm.drop_tables(Volume, Shelf)  # Volume does not exist
    assert existing_tables() == {"i11_tables_shelf", "i11_tables_label"}

    orm.drop_tables(Volume, Shelf, if_exists=True)
    assert existing_tables() == {"i11_tables_label"}
    orm.drop_tables(Volume, Shelf, Label, if_exists=True)
    assert existing_tables() == set()


async def test_async_twins_take_the_flags(clean: str) -> None:
    await orm.acreate_tables(*MODELS, if_not_exists=True)
    await orm.acreate_tables(*MODELS, if_not_exists=True)
    assert await Volume.objects.acount() == 0
    await orm.adrop_tables(*reversed(MODELS), if_exists=True)
    await orm.adrop_tables(*reversed(MODELS), if_exists=True)
    with pytest.raises(orm.DatabaseError):
        await Volume.objects.acount()


def _create_from_threads(workers: int) -> list[BaseException]:
    """Run create_tables(if_not_exists=True) in ``workers`` threads released at once."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            orm.create_tables(*MODELS, if_not_exists=True)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            orm.connections.close_current()

    threads = [threading.Thread(target=start) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.timeout(120)
def test_concurrent_callers_all_succeed(clean: str) -> None:
    for _ in range(3):
        assert _create_from_threads(6) == []
        assert existing_tables() == set(TABLES)
        orm.drop_tables(*reversed(MODELS))
