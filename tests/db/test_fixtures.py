"""The ``orm_assert_num_queries`` and ``orm_capture_on_commit_callbacks`` fixtures,
run by pytester in a fresh interpreter with ``-p orm.testing.queries``, on
both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import postgres_unavailable, postgres_url

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the logged and captured statements include the real BEGIN and COMMIT.
pytestmark = pytest.mark.transactional

pytest_plugins = ["pytester"]

_CONFTEST = """
import pytest
import orm


class Entry(orm.Model):
    text = orm.TextField()

    class Meta:
        app_label = "fixturetests"


@pytest.fixture(autouse=True)
def entries():
    orm.configure({url!r})
    with orm.connections["default"].cursor() as cursor:
        cursor.execute('DROP TABLE IF EXISTS "fixturetests_entry"')
    orm.create_tables(Entry)
    Entry.objects.create(text="one")
    yield Entry
    orm.drop_tables(Entry)
    orm.connections.close_all()
"""

_INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

_NUM_QUERIES_TESTS = """
import threading

import orm
from conftest import Entry


def test_right_count_passes(orm_assert_num_queries):
    with orm_assert_num_queries(2):
        assert Entry.objects.count() == 1
        assert Entry.objects.get().text == "one"


def test_statements_of_another_thread_count(orm_assert_num_queries):
    def work():
        try:
            Entry.objects.create(text="two")
        finally:
            orm.connections.close_current()

    with orm_assert_num_queries(1) as queries:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert queries[0].sql.startswith("INSERT")


async def test_async_with_counts_twins(orm_assert_num_queries):
    async with orm_assert_num_queries(2):
        await Entry.objects.acreate(text="two")
        assert await Entry.objects.acount() == 2


def test_zero_means_none(orm_assert_num_queries):
    with orm_assert_num_queries(0):
        Entry.objects.filter(text="lazy")  # never evaluated


def test_wrong_count_fails_listing_sql(orm_assert_num_queries):
    with orm_assert_num_queries(1):
        Entry.objects.count()
        Entry.objects.filter(text="x" * 5).exists()


async def test_wrong_count_fails_from_async(orm_assert_num_queries):
    async with orm_assert_num_queries(3):
        await Entry.objects.acount()


def test_block_error_wins(orm_assert_num_queries):
    with orm_assert_num_queries(5):
        Entry.objects.count()
        raise KeyError("the block's own error")


def test_bad_count_is_refused(orm_assert_num_queries):
    orm_assert_num_queries("2")
"""

_ON_COMMIT_TESTS = """
import threading

import pytest

import orm
from orm import transaction
from conftest import Entry


class Rollback(Exception):
    pass


def test_captures_without_running(orm_capture_on_commit_callbacks):
    ran = []
    with pytest.raises(Rollback), transaction.atomic():
        Entry.objects.create(text="inside")
        with orm_capture_on_commit_callbacks() as callbacks:
            transaction.on_commit(lambda: ran.append("a"))
            transaction.on_commit(lambda: ran.append("b"))
        assert len(callbacks) == 2 and ran == []
        callbacks[1]()
        assert ran == ["b"]
        raise Rollback
    assert ran == ["b"]  # rolled back: the hooks never ran by themselves


def test_execute_runs_callbacks_and_the_ones_they_register(orm_capture_on_commit_callbacks):
    ran = []

    def first():
        ran.append("first")
        transaction.on_commit(lambda: ran.append("nested"))
        Entry.objects.create(text="from a callback")

    with pytest.raises(Rollback), transaction.atomic():
        transaction.on_commit(lambda: ran.append("before the block"))
        with orm_capture_on_commit_callbacks(execute=True) as callbacks:
            transaction.on_commit(first)
        assert ran == ["first", "nested"] and len(callbacks) == 2
        assert Entry.objects.filter(text="from a callback").count() == 1
        raise Rollback
    assert Entry.objects.count() == 1


def test_robust_callback_errors_are_logged(orm_capture_on_commit_callbacks, caplog):
    def broken():
        raise ValueError("robust")

    with pytest.raises(Rollback), transaction.atomic():
        with orm_capture_on_commit_callbacks(execute=True) as callbacks:
            transaction.on_commit(broken, robust=True)
        assert callbacks == [broken]
        raise Rollback
    assert "robust=True" in caplog.text


def test_outside_a_transaction_nothing_is_captured(orm_capture_on_commit_callbacks):
    ran = []
    with orm_capture_on_commit_callbacks(execute=True) as callbacks:
        transaction.on_commit(lambda: ran.append("now"))
    assert (callbacks, ran) == ([], ["now"])


async def test_async_with_reads_and_runs_on_the_worker_thread(orm_capture_on_commit_callbacks):
    ran = []
    # A transaction held open on the worker thread that runs the a* calls,
    # as orm_db's is while an async test runs.
    block = transaction.atomic()
    await orm.sync_to_async(block.__enter__)()
    try:
        async with orm_capture_on_commit_callbacks(execute=True) as callbacks:
            await orm.sync_to_async(transaction.on_commit)(
                lambda: ran.append(threading.current_thread().name)
            )
        assert len(callbacks) == 1
        assert ran and ran[0] != threading.current_thread().name
    finally:
        await orm.sync_to_async(block.__exit__)(Rollback, Rollback(), None)
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def project(
    request: pytest.FixtureRequest, pytester: pytest.Pytester, tmp_path: Path
) -> pytest.Pytester:
    """A pytester project whose autouse fixture configures orm on the backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fixtures.sqlite3'}"
    else:
        pg = postgres_url()
        if pg is None:
            postgres_unavailable("ORM_TEST_POSTGRES_URL is not set")
        url = pg
    pytester.makeini(_INI)
    pytester.makeconftest(_CONFTEST.format(url=url))
    return pytester


def test_assert_num_queries(project: pytest.Pytester) -> None:
    project.makepyfile(test_num_queries=_NUM_QUERIES_TESTS)
    result = project.runpytest_subprocess("-p", "orm.testing.queries", "-p", "no:randomly")
    result.assert_outcomes(passed=4, failed=4)
    output = result.stdout.str()
    assert (
        "E       AssertionError: 2 queries executed on 'default', 1 expected."
        " Captured queries were:\n"
        'E       1. SELECT COUNT(*) AS "__count" FROM "fixturetests_entry" -- params=[]\n'
        'E       2. SELECT %s AS "a" FROM "fixturetests_entry" WHERE "fixturetests_entry"."text" = %s'
        " LIMIT 1 -- params=[1, 'xxxxx']\n"
    ) in output
    assert (
        "E       AssertionError: 1 query executed on 'default', 3 expected."
        " Captured queries were:\n"
        'E       1. SELECT COUNT(*) AS "__count" FROM "fixturetests_entry" -- params=[]\n'
    ) in output
    assert 'KeyError: "the block\'s own error"' in output
    assert (
        "TypeError: orm_assert_num_queries() expects the number of queries as an"
        " int >= 0, not '2'." in output
    )
    # The failure points at the test's own line, not at the fixture's code.
    assert "orm/testing/queries.py" not in output.split("test_block_error_wins")[0]


def test_capture_on_commit_callbacks(project: pytest.Pytester) -> None:
    project.makepyfile(test_on_commit=_ON_COMMIT_TESTS)
    result = project.runpytest_subprocess("-p", "orm.testing.queries", "-p", "no:randomly")
    result.assert_outcomes(passed=5)
