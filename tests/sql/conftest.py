"""Fixtures of the compile-only SQL tests.

Every test here gets ``orm`` configured on an in-memory SQLite database, on
which compiling never opens a connection. After a test that did not ask for
``captured_sql``, the default alias must still have no connection: proof that
nothing was executed, not even attempted. PostgreSQL SQL is compiled with an
unconnected wrapper (``pg``, and ``assert_sql`` itself), so it needs no server.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

# Before anything imports it, so a failing assert_sql shows the SQL diff.
pytest.register_assert_rewrite("tests.sql.helpers")

import orm  # noqa: E402
from orm.db.wrapper import BaseDatabaseWrapper  # noqa: E402
from tests.sql.helpers import postgresql_compiler_connection  # noqa: E402

_CALL_PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test body passed (see ``compile_only``)."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    return report


@pytest.fixture(autouse=True)
def compile_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """Configure SQLite; fail a test that opened a connection without saying so.

    Only checked after a passing body: rendering a failure shows the QuerySet
    arguments with ``repr()``, which runs the query.
    """
    orm.configure("sqlite:///:memory:")
    try:
        yield
        passed = request.node.stash.get(_CALL_PASSED, False)
        if passed and "captured_sql" not in request.fixturenames:
            assert orm.connections["default"].connection is None, (
                "a compile-only test opened a database connection"
            )
    finally:
        orm.connections.close_all()


class CapturedSQL(list[tuple[str, list[Any]]]):
    """Statements sent through ``orm`` as (sql, params); none of them is executed."""

    def _wrapper(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> None:
        # Record and return without calling ``execute``: the driver never sees the
        # statement, so a SELECT fetches no row and a write changes nothing.
        self.append((sql, list(params) if params is not None else []))


@pytest.fixture
def captured_sql() -> Iterator[CapturedSQL]:
    """For API calls that build and run SQL in one go (``count()``, ``aggregate()``,
    ``update()``, ``bulk_create()``): records what they would run instead of running it.

    The calls still open a (memory) connection to get a cursor; they execute nothing.
    """
    captured = CapturedSQL()
    wrappers = orm.connections["default"].execute_wrappers
    wrappers.append(captured._wrapper)
    try:
        yield captured
    finally:
        wrappers.remove(captured._wrapper)


@pytest.fixture
def pg() -> Iterator[BaseDatabaseWrapper]:
    """The unconnected PostgreSQL wrapper: ``query.get_compiler(connection=pg)``.

    It never connects (``InterfaceError`` if anything tries); the check after
    the test proves that compiling did not even try.
    """
    wrapper: BaseDatabaseWrapper = postgresql_compiler_connection()
    yield wrapper
    assert wrapper.connection is None, "compiling opened a PostgreSQL connection"
