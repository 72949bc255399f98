"""``orm_transactional_db`` and the ``orm_db`` marker: real commits, tables emptied afterwards."""

from __future__ import annotations

import pytest

from tests.testing.conftest import Project

# Each test runs pytest in a subprocess, more than once for some: slower than
# the suite's per-test timeout on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TRANSACTIONAL = """
import pytest

import orm
from orm import transaction
from shop.models import Item, Shelf


def test_commits_and_runs_on_commit(orm_transactional_db):
    called = []
    with transaction.atomic():
        shelf = Shelf.objects.create(label="s")
        Item.objects.create(name="i", shelf=shelf)
        transaction.on_commit(lambda: called.append("ran"))
    assert called == ["ran"]


def test_tables_were_emptied_and_ids_restart(orm_transactional_db):
    assert Item.objects.count() == 0
    assert Shelf.objects.count() == 0
    assert Shelf.objects.create(label="again").pk == 1


@pytest.mark.orm_db(transaction=True)
async def test_marker_transaction_true_commits():
    await Item.objects.acreate(name="committed")
    # A scope has its own thread and connection: it sees committed rows only.
    async with orm.connection_scope():
        assert await Item.objects.acount() == 1


@pytest.mark.orm_db
def test_marker_default_rolls_back():
    assert Item.objects.count() == 0
    Item.objects.create(name="rolled back")


@pytest.mark.orm_db(databases=["default"])
async def test_marker_with_databases():
    assert await Item.objects.acount() == 0
    async with orm.connection_scope():
        await Item.objects.acreate(name="seen by the test, rolled back with it")
    assert await Item.objects.acount() == 1


@pytest.mark.orm_db(databases="__all__")
def test_everything_was_emptied_or_rolled_back():
    assert Item.objects.count() == 0
    assert Shelf.objects.count() == 0


@pytest.mark.orm_db(transaction="yes")
def test_bad_transaction_argument():
    pass


@pytest.mark.orm_db(True)
def test_positional_argument():
    pass
"""


def test_transactional_db_and_marker(project: Project) -> None:
    project.write(test_transactional=TRANSACTIONAL)
    result = project.run("-v")
    result.assert_outcomes(passed=6, errors=2)
    result.stdout.fnmatch_lines(["*orm_db(transaction=...) must be a bool*"])
    result.stdout.fnmatch_lines(["*takes keyword arguments only*"])
