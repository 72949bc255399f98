"""The pytest plugin of `orm` (entry point ``pytest11``: ``orm = "orm.testing.plugin"``).

Fixtures: ``orm_db`` (the test runs in one transaction per database, shared
by every thread the test reaches, rolled back afterwards),
``orm_transactional_db`` (no wrapping transaction; tables emptied after the
test), ``orm_assert_num_queries`` and ``orm_capture_on_commit_callbacks``
(from ``orm.testing.queries``), the
``@pytest.mark.orm_db(transaction=False, databases=[...])`` marker, ``orm_database_urls`` and ``orm_test_models`` (override them to
choose the databases and the models) and ``orm_db_setup`` (the session's
test databases). Option: ``--orm-reuse-db``.

A project that uses none of them is not affected: the test databases are
created only when the first test asks for one, and nothing else touches orm.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

from orm.db.connections import connections
from orm.testing.databases import (
    TestDatabases,
    app_packages,
    configure_options,
    create_test_databases,
    import_project_apps,
    project_database_urls,
    select_test_models,
)
from orm.testing.isolation import (
    IsolationError,
    TestTransaction,
    flush_tables,
    wait_for_sync_threads,
)
from orm.testing.queries import (  # in this module so pytest registers them with the plugin
    orm_assert_num_queries,
    orm_capture_on_commit_callbacks,
)

__all__ = [
    "orm_assert_num_queries",
    "orm_capture_on_commit_callbacks",
    "orm_database_urls",
    "orm_db",
    "orm_db_setup",
    "orm_test_models",
    "orm_transactional_db",
    "pytest_addoption",
    "pytest_configure",
]

MARKER = "orm_db"
_DB_FIXTURES = ("orm_db", "orm_transactional_db")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--orm-reuse-db``: keep the test databases between runs."""
    group = parser.getgroup("orm", "orm test databases")
    group.addoption(
        "--orm-reuse-db",
        action="store_true",
        default=False,
        help="Keep the test databases at the end of the run and reuse them (with their "
        "schema) in the next one; missing tables are created.",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``orm_db`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(transaction=False, databases=None): give the test the orm test databases; "
        "transaction=True empties the tables after the test instead of rolling back, "
        "databases lists the aliases (default: every configured one).",
    )


@pytest.fixture(scope="session")
def orm_database_urls(request: pytest.FixtureRequest) -> dict[str, str]:
    """The project's databases by alias; the tests run on ``test_`` copies of them.

    Default: ``[tool.orm]`` of the nearest ``pyproject.toml`` (``database`` or
    ``databases``), else ``ORM_DATABASE_URL``, else a throw-away SQLite file.
    Override this fixture in a ``conftest.py`` to choose others.
    """
    urls = project_database_urls(request.config.rootpath)
    return urls if urls is not None else {"default": "sqlite:///:memory:"}


@pytest.fixture(scope="session")
def orm_test_models(request: pytest.FixtureRequest) -> list[Any]:
    """The models whose tables the test databases get (and ``orm_transactional_db`` empties).

    Default: the models of ``[tool.orm] apps`` when set (their ``models``
    modules are imported first), else every registered model. Override it
    to choose.
    """
    import_project_apps(request.config.rootpath)
    return select_test_models(app_packages(request.config.rootpath))


@pytest.fixture(scope="session")
def orm_db_setup(
    request: pytest.FixtureRequest,
    orm_database_urls: dict[str, str],
    orm_test_models: list[Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestDatabases]:
    """Create the session's test databases (once), configure orm on them; drop them at the end.

    With pytest-xdist each worker gets its own (suffix ``_gw0``, ``_gw1``...).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    databases = create_test_databases(
        orm_database_urls,
        models=orm_test_models,
        suffix=f"_{worker}" if worker else "",
        tmp_dir=tmp_path_factory.mktemp("orm"),
        reuse=bool(request.config.getoption("orm_reuse_db")),
        packages=app_packages(request.config.rootpath),
        options=configure_options(request.config.rootpath),
    )
    try:
        yield databases
    finally:
        wait_for_sync_threads()
        databases.destroy()


def _usage_error(message: str) -> NoReturn:
    # A failure of the test's set-up, with the message only (no plugin traceback).
    pytest.fail(message, pytrace=False)


def _marker_options(request: pytest.FixtureRequest, setup: TestDatabases) -> tuple[bool, list[str]]:
    """``(transaction, aliases)`` from the test's ``orm_db`` marker (defaults without one)."""
    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        _usage_error(
            f"{request.node.nodeid}: @pytest.mark.orm_db takes keyword arguments only: "
            "transaction=True/False, databases=[alias, ...]."
        )
    unknown = set(options) - {"transaction", "databases"}
    if unknown:
        _usage_error(
            f"{request.node.nodeid}: unknown @pytest.mark.orm_db argument(s) "
            f"{', '.join(sorted(unknown))}; use transaction= and databases=."
        )
    transaction = options.get("transaction", False)
    if not isinstance(transaction, bool):
        _usage_error(f"{request.node.nodeid}: orm_db(transaction=...) must be a bool.")
    databases = options.get("databases")
    configured = list(setup.urls)
    if databases is None or databases == "__all__":
        return transaction, configured
    if isinstance(databases, str) or not all(isinstance(d, str) for d in databases):
        _usage_error(
            f"{request.node.nodeid}: orm_db(databases=...) must be a list of aliases or '__all__'."
        )
    missing = [d for d in databases if d not in configured]
    if missing:
        _usage_error(
            f"{request.node.nodeid}: orm_db(databases=...) names unconfigured alias(es) "
            f"{', '.join(missing)}; configured: {', '.join(configured)}."
        )
    return transaction, list(databases)


def forbidden_message(alias: str, nodeid: str) -> str:
    """What a query on an alias the test's ``databases=`` leaves out fails with (Django's words)."""
    return (
        f"Database queries to {alias!r} are not allowed in this test. Add {alias!r} to "
        f"@pytest.mark.orm_db(databases=[...]) of {nodeid} to ensure proper test isolation "
        "and silence this failure."
    )


@contextlib.contextmanager
def _forbid_others(
    request: pytest.FixtureRequest, setup: TestDatabases, aliases: list[str]
) -> Iterator[None]:
    """Refuse, on every thread, the configured aliases the test did not ask for.

    They are outside the test's transaction (``orm_db``) or are not emptied
    after it (``orm_transactional_db``): a write there would leak into the
    next tests, so it fails instead, as Django's ``databases`` does.
    """
    others = [alias for alias in setup.urls if alias not in aliases]
    for alias in others:
        connections.forbid(alias, forbidden_message(alias, request.node.nodeid))
    try:
        yield
    finally:
        if others:
            # A cancelled a* call may still be running: it stays refused.
            wait_for_sync_threads()
        for alias in others:
            connections.allow(alias)


def _refuse_both(request: pytest.FixtureRequest) -> None:
    if all(name in request.fixturenames for name in _DB_FIXTURES):
        pytest.fail(
            f"{request.node.nodeid} uses both orm_db and orm_transactional_db (or the orm_db "
            "marker with transaction=True); choose one.",
            pytrace=False,
        )


@pytest.fixture
def orm_db(request: pytest.FixtureRequest, orm_db_setup: TestDatabases) -> Iterator[None]:
    """Run the test in one transaction per database, rolled back afterwards.

    Every thread the test reaches uses that transaction: sync code, the
    ``a*`` twins, ``sync_to_async`` functions, ``connection_scope()`` blocks
    and requests through ``ConnectionScopeMiddleware``; ``atomic()`` inside
    the test makes savepoints and its ``on_commit`` callbacks do not run.
    """
    _refuse_both(request)
    _transaction, aliases = _marker_options(request, orm_db_setup)
    orm_db_setup.ensure_configured()
    wrapping = TestTransaction(aliases)
    wrapping.start()
    try:
        with _forbid_others(request, orm_db_setup, aliases):
            yield
    finally:
        try:
            wrapping.finish()
        except IsolationError as exc:
            _usage_error(str(exc))


@pytest.fixture
def orm_transactional_db(
    request: pytest.FixtureRequest, orm_db_setup: TestDatabases
) -> Iterator[None]:
    """Give the test the databases without a wrapping transaction; empty the tables afterwards.

    For code that commits, relies on ``on_commit`` or needs several real
    connections. The tables of the registered models are emptied (DELETE on
    SQLite, TRUNCATE ... RESTART IDENTITY CASCADE on PostgreSQL) after the test.
    """
    _refuse_both(request)
    _transaction, aliases = _marker_options(request, orm_db_setup)
    orm_db_setup.ensure_configured()
    try:
        with _forbid_others(request, orm_db_setup, aliases):
            yield
    finally:
        # Work a cancelled a* call left running must end before the tables are
        # emptied, or its writes would land in the next test.
        wait_for_sync_threads()
        for alias in aliases:
            flush_tables(alias, orm_db_setup.models)


@pytest.fixture(autouse=True)
def _orm_db_marker(request: pytest.FixtureRequest) -> None:
    """Give a test marked ``@pytest.mark.orm_db(...)`` the fixture the marker chooses."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return
    requested = [name for name in _DB_FIXTURES if name in request.fixturenames]
    if requested and "transaction" not in marker.kwargs:
        return  # the marker only names the databases of the fixture the test asks for
    if marker.kwargs.get("transaction", False):
        request.getfixturevalue("orm_transactional_db")
    else:
        request.getfixturevalue("orm_db")
