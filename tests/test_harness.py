"""Tests of the test harness itself (conftest.py).

The canaries prove that ``async def`` tests are really awaited: one asserts its
body ran on a running event loop, one must fail (the failure is the test, as in
SQLAlchemy's suite), and a nested pytest run shows that an async test whose
body is skipped by a broken runner is reported as a failure, not a pass.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import QueryCounter, libpq_url, probe_server, server_address

pytest_plugins = ["pytester"]

_body_ran: list[str] = []


async def test_async_test_body_runs() -> None:
    await asyncio.sleep(0)
    _body_ran.append("ran")
    assert asyncio.get_running_loop().is_running()
    assert _body_ran == ["ran"]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="canary: must fail; an XPASS means async test bodies are not run",
)
async def test_canary_async_failure_is_reported() -> None:
    await asyncio.sleep(0)
    raise AssertionError("the failure is the test")


_SWALLOWING_PLUGIN = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    # A broken runner: claims to have called the test without calling it.
    return True
"""

_INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


def test_async_test_not_run_is_reported_as_failure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORM_REQUIRE_POSTGRES", raising=False)
    pytester.makeini(_INI)
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text())
    pytester.makepyfile(
        swallow=_SWALLOWING_PLUGIN,
        test_sample="async def test_sample():\n    pass\n\ndef test_sync():\n    pass\n",
    )
    pytester.syspathinsert()
    result = pytester.runpytest("-p", "swallow")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_sample*passed without its body ever running*"])


def test_server_address_parses_libpq_urls() -> None:
    assert server_address("postgresql://postgres@127.0.0.1:5433/test") == ("127.0.0.1", 5433)
    assert server_address("postgresql://u:p@db.example/app") == ("db.example", 5432)
    assert server_address("postgresql:///test?host=/run/pg&port=5434") == ("/run/pg", 5434)
    assert server_address("postgresql:///test") == ("/var/run/postgresql", 5432)


def test_libpq_url_drops_pool_options() -> None:
    url = "postgresql://u@h:1/db?pool_max_size=20&sslmode=disable&pool_timeout=2"
    assert libpq_url(url) == "postgresql://u@h:1/db?sslmode=disable"


def test_probe_server_raises_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: refused
        with pytest.raises(OSError):
            probe_server("127.0.0.1", port, timeout=1.0)


class _FakeConnection:
    def __init__(self) -> None:
        self.execute_wrappers: list[Any] = []

    def execute(self, sql: str, params: Any = None) -> str:
        call = self._run
        for wrapper in reversed(self.execute_wrappers):
            call = _bind(wrapper, call)
        return call(sql, params, False, {})

    @staticmethod
    def _run(sql: str, params: Any, many: bool, context: Any) -> str:
        return f"ran {sql}"


def _bind(wrapper: Any, execute: Any) -> Any:
    return lambda sql, params, many, context: wrapper(execute, sql, params, many, context)


def test_query_counter_follows_the_execute_wrapper_protocol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Against a stand-in for orm.db.connections, so the harness is tested on its
    # own; test_count_queries_* below check it against the real orm.
    import sys
    import types

    fake = _FakeConnection()
    module = types.ModuleType("orm.db.connections")
    module.connections = {"default": fake}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "orm.db.connections", module)

    with QueryCounter() as ctx:
        assert fake.execute("SELECT %s", [1]) == "ran SELECT %s"
    assert ctx.queries == [("SELECT %s", [1])]
    assert fake.execute_wrappers == []
    fake.execute("SELECT 2")
    assert len(ctx.queries) == 1


def _select_one() -> None:
    import orm

    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT %s", [1])


def test_count_queries_counts_sql_run_through_orm(backend: str, count_queries: Any) -> None:
    with count_queries() as ctx:
        _select_one()
    assert len(ctx.queries) == 1
    sql, _params = ctx.queries[0]
    assert sql.startswith("SELECT")
    _select_one()
    assert len(ctx.queries) == 1


async def test_count_queries_async_sees_the_a_twins_thread(
    backend: str, count_queries: Any
) -> None:
    import orm

    async with count_queries() as ctx:
        await orm.sync_to_async(_select_one)()
    assert len(ctx.queries) == 1
