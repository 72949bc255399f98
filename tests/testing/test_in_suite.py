"""orm's own tests using the plugin in-process (``orm_db``, ``orm_transactional_db``).

The folder's ``orm_database_urls`` and ``orm_test_models`` (conftest.py)
choose a SQLite test database with the async-skin models. The session's
other tests reconfigure orm through the ``backend`` fixture; the plugin's
fixtures configure the test databases again when that happened.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import orm
from orm import transaction
from orm.testing.databases import TestDatabases
from tests.async_.models import Author, Book


@pytest.fixture
def alias(orm_db_setup: TestDatabases) -> str:
    """The alias under test."""
    return "default"


@pytest.fixture
def ann(orm_db: None, alias: str) -> Any:
    """A row written by a sync fixture inside the test's transaction."""
    return Author.objects.using(alias).create(name="ann", age=30)


async def test_async_twins_see_the_sync_fixtures_rows(ann: Any, alias: str) -> None:
    authors = Author.objects.using(alias)
    assert (await authors.aget(pk=ann.pk)).name == "ann"
    await Book.objects.using(alias).acreate(title="Dune", author_id=ann.pk)
    assert await Book.objects.using(alias).filter(author__name="ann").acount() == 1


async def test_scopes_and_sync_to_async_share_the_transaction(orm_db: None, alias: str) -> None:
    def write() -> str:
        with transaction.atomic(using=alias):
            Author.objects.using(alias).create(name="bob")
        return threading.current_thread().name

    assert await orm.sync_to_async(write)() != threading.current_thread().name
    async with orm.connection_scope():
        assert await Author.objects.using(alias).filter(name="bob").aexists()
        await Author.objects.using(alias).acreate(name="cy")
    assert await Author.objects.using(alias).acount() == 2


def test_nothing_was_kept(orm_db: None, alias: str) -> None:
    assert Author.objects.using(alias).count() == 0
    assert Book.objects.using(alias).count() == 0


def test_a_backend_test_reconfigured_orm_in_between(backend: str) -> None:
    # The shared ``backend`` fixture configures orm on its own database.
    assert orm.connection.vendor == backend


def test_orm_db_configures_the_test_databases_again(orm_db: None, alias: str) -> None:
    assert orm.connections[alias].settings.url.startswith(("sqlite:///", "postgresql://"))
    assert Author.objects.using(alias).count() == 0


def test_transactional_db_commits_for_other_threads(orm_transactional_db: None) -> None:
    Author.objects.create(name="committed")

    def count_on_own_connection() -> int:
        try:
            return Author.objects.count()
        finally:
            orm.connections.close_current()

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(count_on_own_connection).result(timeout=30) == 1


def test_transactional_db_emptied_the_tables(orm_db: None) -> None:
    assert Author.objects.count() == 0
