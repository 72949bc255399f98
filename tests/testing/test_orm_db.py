"""``orm_db``: one rolled-back transaction that every thread of the test shares.

Each test runs a small project's tests in a subprocess (see conftest.py) on
SQLite and PostgreSQL. Test order inside a module is the file order, so a
test that writes is followed by one that checks nothing was kept.
"""

from __future__ import annotations

import pytest

from tests.testing.conftest import Project, make_project

# Each test runs pytest in a subprocess, more than once for some: slower than
# the suite's per-test timeout on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ISOLATION = """
import asyncio
import threading

import pytest

import orm
from orm import transaction
from shop.models import Item, Shelf


def test_sync_writes(orm_db):
    Item.objects.create(name="a")
    assert Item.objects.count() == 1


def test_sync_sees_none(orm_db):
    assert Item.objects.count() == 0


async def test_async_writes(orm_db):
    await Item.objects.acreate(name="x")
    await Item.objects.acreate(name="y")
    assert await Item.objects.acount() == 2


async def test_async_sees_none(orm_db):
    assert await Item.objects.acount() == 0


@pytest.fixture
def shelf(orm_db):
    return Shelf.objects.create(label="fixture")


async def test_sync_fixture_rows_seen_by_async_test(shelf):
    assert (await Shelf.objects.aget()).label == "fixture"
    await Item.objects.acreate(name="on shelf", shelf_id=shelf.pk)
    assert await Item.objects.filter(shelf__label="fixture").acount() == 1


@pytest.fixture
async def async_item(orm_db):
    return await Item.objects.acreate(name="async fixture")


def test_async_fixture_rows_seen_by_sync_test(async_item):
    assert list(Item.objects.values_list("name", flat=True)) == ["async fixture"]


async def test_sync_to_async_and_scopes_share_it(orm_db):
    def write():
        Item.objects.create(name="from sync_to_async")
        return threading.current_thread().name

    thread = await orm.sync_to_async(write)()
    assert thread != threading.current_thread().name
    async with orm.connection_scope():
        assert await Item.objects.acount() == 1
        await Item.objects.acreate(name="from scope")

    async def in_scope(n):
        async with orm.connection_scope():
            await Item.objects.acreate(name=f"task {n}")

    await asyncio.gather(*(in_scope(n) for n in range(5)))
    assert await Item.objects.acount() == 7


def test_atomic_inside_is_a_savepoint(orm_db):
    with pytest.raises(ValueError):
        with transaction.atomic():
            Item.objects.create(name="rolled back with its savepoint")
            raise ValueError
    with transaction.atomic(durable=True):
        Item.objects.create(name="kept until the test ends")
    called = []
    with transaction.atomic():
        transaction.on_commit(lambda: called.append("hook"))
    assert list(Item.objects.values_list("name", flat=True)) == ["kept until the test ends"]
    assert called == []  # as in Django's TestCase: the test never commits


async def test_atomic_in_sync_to_async(orm_db):
    @transaction.atomic
    def transfer():
        Item.objects.create(name="in atomic")
        return transaction.get_autocommit()

    assert await orm.sync_to_async(transfer)() is False
    assert await Item.objects.acount() == 1


def test_everything_above_was_rolled_back(orm_db):
    assert Item.objects.count() == 0
    assert Shelf.objects.count() == 0


def test_without_orm_db_no_database_is_set_up():
    pass
"""


def test_rows_stay_in_the_test_on_every_thread(project: Project) -> None:
    project.write(test_isolation=ISOLATION)
    result = project.run("-v")
    result.assert_outcomes(passed=11)


STRICT = """
import pytest
import pytest_asyncio

from shop.models import Item


@pytest_asyncio.fixture
async def item(orm_db):
    return await Item.objects.acreate(name="strict")


@pytest.mark.asyncio
async def test_async_strict(item):
    assert await Item.objects.acount() == 1


@pytest.mark.asyncio
async def test_async_strict_sees_none(orm_db):
    assert await Item.objects.acount() == 0
"""


def test_pytest_asyncio_strict_mode(pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ORM_DATABASE_URL", raising=False)
    project = make_project(pytester, "sqlite", asyncio_mode="strict")
    project.write(test_strict=STRICT)
    project.run().assert_outcomes(passed=2)


MISUSE = """
import orm
import pytest

from shop.models import Item


def test_configure_is_refused(orm_db):
    with pytest.raises(RuntimeError, match="pins connections"):
        orm.configure("sqlite:///other.sqlite3")
    assert Item.objects.count() == 0


def test_closing_the_connection_fails_the_test(orm_db):
    Item.objects.create(name="lost")
    orm.connection.close()


def test_both_fixtures(orm_db, orm_transactional_db):
    pass


@pytest.mark.orm_db(databases=["nope"])
def test_unknown_alias():
    pass


def test_after_misuse(orm_db):
    assert Item.objects.count() == 0
"""


def test_misuse_gets_a_clear_error(project: Project) -> None:
    project.write(test_misuse=MISUSE)
    result = project.run()
    result.assert_outcomes(passed=3, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*closed the connection for alias 'default', which held the test's transaction*",
        ]
    )
    result.stdout.fnmatch_lines(["*uses both orm_db and orm_transactional_db*"])
    result.stdout.fnmatch_lines(["*names unconfigured alias(es) nope; configured: default*"])
