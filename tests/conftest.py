"""The shared test harness.

- ``backend``: configures ``orm`` for one test on a fresh database, once per
  backend: SQLite (a file in ``tmp_path``) always, PostgreSQL when
  ``POSTGRES_BACKEND_READY`` is true and ``ORM_TEST_POSTGRES_URL`` is set.
- ``_require_postgres``: with ``ORM_REQUIRE_POSTGRES=1`` (CI), a missing or
  unreachable PostgreSQL stops the run instead of skipping its tests.
- ``pg_admin``: a separate autocommit psycopg connection for fault injection
  (``pg_terminate_backend``, ``pg_stat_activity``, server timeouts).
- ``count_queries``: ``with count_queries() as ctx: ...`` (or ``async with``)
  records every statement run through ``orm`` as ``ctx.queries``.
- An ``async def test_*`` that "passes" without its body having run fails
  (see ``pytest_runtest_call``); ``test_harness.py`` holds the canaries.

``orm`` is imported inside the fixtures, never at module level, so the harness
itself (and ``test_harness.py``) works even while the package cannot be imported.
"""

from __future__ import annotations

import functools
import inspect
import os
import socket
import time
from collections.abc import Callable, Coroutine, Generator, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    import psycopg

# Flip to True once orm/backends/postgresql exists: every test that uses the
# `backend` fixture then also runs against PostgreSQL.
POSTGRES_BACKEND_READY = True

PG_URL_ENV = "ORM_TEST_POSTGRES_URL"
REQUIRE_PG_ENV = "ORM_REQUIRE_POSTGRES"
# application_name of the harness's own PostgreSQL connections, so the leak
# check can tell them from the ones orm opens.
ADMIN_APPLICATION_NAME = "orm-tests-admin"
# How long closed connections may take to disappear from pg_stat_activity (the
# server process exits asynchronously after the client hangs up).
PG_LEAK_GRACE_SECONDS = 5.0


# --------------------------------------------------------------- PostgreSQL


def postgres_url() -> str | None:
    """The PostgreSQL URL the tests may use, or None when none is configured."""
    return os.environ.get(PG_URL_ENV) or None


def postgres_required() -> bool:
    """Whether a missing PostgreSQL must fail the run rather than skip (CI)."""
    return os.environ.get(REQUIRE_PG_ENV) == "1"


def postgres_unavailable(reason: str) -> NoReturn:
    """Skip the current test, or fail it when PostgreSQL is required."""
    if postgres_required():
        pytest.fail(f"{reason}, but {REQUIRE_PG_ENV}=1", pytrace=False)
    pytest.skip(reason)


def server_address(url: str) -> tuple[str, int]:
    """``(host, port)`` a libpq-style URL points at; host may be a socket directory.

    Follows libpq: the host comes from the URL's netloc or its ``host=`` query
    parameter, defaulting to the Unix socket directory; the port defaults to 5432.
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    host = parts.hostname or query.get("host") or "/var/run/postgresql"
    port = parts.port or int(query.get("port", "5432"))
    return host, port


def probe_server(host: str, port: int, timeout: float = 5.0) -> None:
    """Open and close a TCP (or Unix socket) connection; raise ``OSError`` if refused.

    Needs no driver, so it works before psycopg is installed.
    """
    if host.startswith("/"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(f"{host}/.s.PGSQL.{port}")
        return
    with socket.create_connection((host, port), timeout=timeout):
        pass


def libpq_url(url: str) -> str:
    """``url`` without orm's pool options, which libpq would reject."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.startswith("pool_")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def admin_connect(url: str) -> psycopg.Connection[Any]:
    """A new autocommit psycopg connection for the harness (not through orm)."""
    try:
        import psycopg
    except ImportError:
        postgres_unavailable("psycopg is not installed (pip install -e '.[dev]')")
    try:
        return psycopg.connect(
            libpq_url(url),
            autocommit=True,
            connect_timeout=5,
            application_name=ADMIN_APPLICATION_NAME,
        )
    except psycopg.OperationalError as exc:
        postgres_unavailable(f"cannot connect to PostgreSQL at {PG_URL_ENV}: {exc}")


# application_name of the connections orm opens for the `backend` fixture: the
# leak check counts only these, so other clients of the same server (another
# test run, a benchmark) cannot make it fail.
ORM_APPLICATION_NAME = f"orm-tests-{os.getpid()}"


def with_application_name(url: str) -> str:
    """``url`` with this run's application_name added to its query string."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "application_name"]
    query.append(("application_name", ORM_APPLICATION_NAME))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _client_backends(admin: psycopg.Connection[Any]) -> int:
    """Client connections orm opened for this run's `backend` fixture."""
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND backend_type = 'client backend'"
        " AND application_name = %s",
        [ORM_APPLICATION_NAME],
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="session", autouse=True)
def _require_postgres() -> None:
    """With ``ORM_REQUIRE_POSTGRES=1``, stop the run unless PostgreSQL answers.

    CI sets it so that a server that is down fails loudly instead of turning
    every PostgreSQL test into a skip. Only a socket is opened: this works
    before psycopg or the PostgreSQL backend exists.
    """
    if not postgres_required():
        return
    url = postgres_url()
    if url is None:
        pytest.exit(f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set", returncode=1)
    try:
        host, port = server_address(url)
        probe_server(host, port)
    except (OSError, ValueError) as exc:
        pytest.exit(
            f"{REQUIRE_PG_ENV}=1 but PostgreSQL at {PG_URL_ENV}={url!r}"
            f" does not accept connections: {exc}",
            returncode=1,
        )


@pytest.fixture
def pg_admin() -> Iterator[psycopg.Connection[Any]]:
    """A separate autocommit psycopg connection to ``ORM_TEST_POSTGRES_URL``.

    For fault injection and inspection (``pg_terminate_backend``,
    ``pg_stat_activity``, ``SET`` of server timeouts). It is not seen by orm and
    is excluded from the connection-leak check. Skips when PostgreSQL is not
    configured (fails under ``ORM_REQUIRE_POSTGRES=1``).
    """
    url = postgres_url()
    if url is None:
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    conn = admin_connect(url)
    try:
        yield conn
    finally:
        conn.close()


# ------------------------------------------------------------------ backends


def _backend_params() -> list[Any]:
    params: list[Any] = [pytest.param("sqlite", id="sqlite")]
    if POSTGRES_BACKEND_READY:
        params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    return params


def _reset_postgres_schema(admin: psycopg.Connection[Any]) -> None:
    """Give the test an empty ``public`` schema, as SQLite gets a new file."""
    admin.execute("DROP SCHEMA IF EXISTS public CASCADE")
    admin.execute("CREATE SCHEMA public")


#: The marker of a test that needs real commits on PostgreSQL (see ``backend``).
TRANSACTIONAL = "transactional"
_TESTS_DIR = Path(__file__).parent
#: Directories whose every test is transactional: migrations, transactions,
#: scopes, faults, the connection core and the async skin commit, close
#: connections or reconfigure orm by nature. A new module there needs no marker.
_TRANSACTIONAL_DIRS = frozenset(
    _TESTS_DIR / name for name in ("migrations", "transactions", "scopes", "faults", "db", "async_")
)


def _orm_configured_on(url: str) -> bool:
    """Whether orm's only alias, ``default``, is configured on ``url`` already."""
    import orm
    from orm.exceptions import ImproperlyConfigured

    try:
        settings = orm.connections.settings
    except ImproperlyConfigured:
        return False
    return list(settings) == ["default"] and settings["default"].url == url


def _rolled_back_postgres(url: str) -> Iterator[str]:
    """Run the test in one transaction every thread shares, rolled back afterwards.

    The plugin's ``orm_db`` isolation (``orm.testing.isolation.TestTransaction``)
    on the session's PostgreSQL configuration: configured (and the schema
    emptied) only when the previous test left orm configured otherwise, so a
    run of PostgreSQL tests shares one pool. PostgreSQL's DDL is transactional:
    the tables the test creates go with the rollback.
    """
    import orm
    from orm.testing.isolation import IsolationError, TestTransaction

    url = with_application_name(url)
    if not _orm_configured_on(url):
        admin = admin_connect(url)
        try:
            orm.connections.close_all()  # nothing may hold a lock on the old schema
            _reset_postgres_schema(admin)
        finally:
            admin.close()
        orm.configure(url)
    wrapping = TestTransaction(["default"])
    wrapping.start()
    try:
        yield "postgresql"
    finally:
        try:
            wrapping.finish()
        except IsolationError as exc:
            pytest.fail(
                f"{exc} (mark the test @pytest.mark.{TRANSACTIONAL} if it must "
                "commit, close connections or reconfigure orm)",
                pytrace=False,
            )


def _transactional_postgres(url: str) -> Iterator[str]:
    """Real commits: an empty ``public`` schema before and after; no connection left open."""
    import orm

    admin = admin_connect(url)
    try:
        orm.connections.close_all()
        _reset_postgres_schema(admin)
        baseline = _client_backends(admin)
        orm.configure(with_application_name(url))
        try:
            yield "postgresql"
        finally:
            orm.connections.close_all()
        deadline = time.monotonic() + PG_LEAK_GRACE_SECONDS
        while (open_now := _client_backends(admin)) > baseline:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{open_now - baseline} PostgreSQL connection(s) still open after"
                    " the test and orm.connections.close_all()",
                    pytrace=False,
                )
            time.sleep(0.05)
        # What the test committed must not reach the rolled-back tests after it.
        _reset_postgres_schema(admin)
    finally:
        admin.close()


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Configure orm's ``default`` database for the test; yield the vendor.

    ``"sqlite"``: a new file in ``tmp_path``. ``"postgresql"``: the database at
    ``ORM_TEST_POSTGRES_URL``; the test runs in a transaction rolled back at its
    end and shared by every thread it reaches (``_rolled_back_postgres``), or,
    marked ``@pytest.mark.transactional`` (it commits, uses ``on_commit``,
    several real connections, closes connections or reconfigures orm), on an
    emptied ``public`` schema with a connection-leak check at the end.
    """
    import orm

    vendor: str = request.param
    if vendor == "sqlite":
        orm.configure(f"sqlite:///{tmp_path / 'test.sqlite3'}")
        try:
            yield vendor
        finally:
            orm.connections.close_all()  # every thread's connections, and the pools
        return

    url = postgres_url()
    if url is None:
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    if request.node.get_closest_marker(TRANSACTIONAL) is not None:
        yield from _transactional_postgres(url)
    else:
        yield from _rolled_back_postgres(url)


@pytest.fixture(scope="session", autouse=True)
def _close_orm_at_the_end() -> Iterator[None]:
    """Close what the rolled-back PostgreSQL tests kept open between tests (the pool)."""
    yield
    import orm

    orm.connections.close_all()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Within each module, run the SQLite cases first, then the PostgreSQL ones.

    Consecutive rolled-back PostgreSQL tests then share one configuration
    and pool instead of reconfiguring orm after every SQLite case.
    """
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(item.nodeid.split("::", 1)[0], index)

    def key(pair: tuple[int, pytest.Item]) -> tuple[int, int, int]:
        index, item = pair
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("backend") == "postgresql"
        return first_seen[item.nodeid.split("::", 1)[0]], int(on_pg), index

    items[:] = [item for _index, item in sorted(enumerate(items), key=key)]
    for item in items:
        if not _TRANSACTIONAL_DIRS.isdisjoint(item.path.parents):
            item.add_marker(TRANSACTIONAL)


# ------------------------------------------------------------- query counting

QueryWrapper = Callable[..., Any]


class QueryCounter:
    """Records every statement run through orm on the given aliases.

    Installs a wrapper into ``orm.db.connections.connections[alias].execute_wrappers``
    (called as ``wrapper(execute, sql, params, many, context)``, as Django's
    ``connection.execute_wrapper``). A statement is recorded before it is
    executed, so one that fails still counts: "zero queries" means none was
    even attempted.

    Connections are per thread. ``with`` watches the current thread's;
    ``async with`` watches the thread the ``a*`` twins of the current context
    run on (asgiref's shared thread, or the thread of the enclosing
    ``connection_scope()``).
    """

    def __init__(self, using: str | Sequence[str] = "default") -> None:
        self.aliases: tuple[str, ...] = (using,) if isinstance(using, str) else tuple(using)
        self.queries: list[tuple[str, Any]] = []
        self._installed_in: list[list[QueryWrapper]] = []

    def _wrapper(
        self, execute: QueryWrapper, sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.queries.append((sql, params))
        return execute(sql, params, many, context)

    def _install(self) -> None:
        from orm.db.connections import connections

        for alias in self.aliases:
            wrappers: list[QueryWrapper] = connections[alias].execute_wrappers
            wrappers.append(self._wrapper)
            self._installed_in.append(wrappers)

    def _uninstall(self) -> None:
        while self._installed_in:
            wrappers = self._installed_in.pop()
            for i in range(len(wrappers) - 1, -1, -1):
                if wrappers[i] == self._wrapper:
                    del wrappers[i]
                    break

    def __len__(self) -> int:
        return len(self.queries)

    def __enter__(self) -> QueryCounter:
        self._install()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._uninstall()

    async def __aenter__(self) -> QueryCounter:
        from asgiref.sync import sync_to_async

        await sync_to_async(self._install, thread_sensitive=True)()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from asgiref.sync import sync_to_async

        await sync_to_async(self._uninstall, thread_sensitive=True)()


@pytest.fixture
def count_queries() -> type[QueryCounter]:
    """``with count_queries() as ctx: ...; assert len(ctx.queries) == 0``.

    ``count_queries(using="reports")`` or ``using=["default", "reports"]``
    watches other aliases; ``async with`` works in async tests.
    """
    return QueryCounter


# ------------------------------------------------- async tests must really run

_BODY_RAN = pytest.StashKey[bool]()


def _is_async_test(item: pytest.Item) -> bool:
    return isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Swap an async test's function for a probe that records that it was awaited."""
    if not _is_async_test(item):
        return (yield)
    assert isinstance(item, pytest.Function)
    original: Callable[..., Coroutine[Any, Any, Any]] = item.obj
    item.stash[_BODY_RAN] = False

    @functools.wraps(original)
    async def body_probe(*args: Any, **kwargs: Any) -> Any:
        item.stash[_BODY_RAN] = True
        return await original(*args, **kwargs)

    item.obj = body_probe
    try:
        return (yield)
    finally:
        item.obj = original


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fail an async test that passed although its body was never awaited."""
    report = yield
    if call.when == "call" and report.passed and item.stash.get(_BODY_RAN, True) is False:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid}: this async test passed without its body ever running;"
            " is pytest-asyncio installed and asyncio_mode = 'auto' set?"
        )
    return report
