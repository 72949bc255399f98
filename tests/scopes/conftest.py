"""Fixtures of the connection-scope tests.

- ``tables``: the ``scopetests`` tables on the fresh ``backend`` database; the
  test thread's connection is closed afterwards, so a leak check starts from
  no open connection.
- ``admin``: ``pg_admin`` on PostgreSQL, ``None`` on SQLite (requested lazily,
  so the SQLite run does not skip with "ORM_TEST_POSTGRES_URL is not set").
- ``leaks``: a :class:`~tests.scopes.helpers.LeakCheck` (``baseline =
  leaks.snapshot()`` ... ``await leaks.assert_clean(baseline)``). The process's
  shared sync thread is started first so that it is part of every baseline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import orm
from orm.db.scopes import DEFAULT_THREADS
from tests.scopes.helpers import LeakCheck
from tests.scopes.models import ALL_MODELS


@pytest.fixture
def tables(backend: str) -> Iterator[str]:
    """Create the scopetests tables on the fresh ``backend`` database; yield the vendor."""
    orm.create_tables(*ALL_MODELS)
    orm.connections.close_current()
    try:
        yield backend
    finally:
        orm.connections.close_current()


@pytest.fixture
def admin(backend: str, request: pytest.FixtureRequest) -> Any:
    """The ``pg_admin`` connection on PostgreSQL, ``None`` on SQLite."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_admin")
    return None


@pytest.fixture
async def leaks(tables: str, admin: Any) -> LeakCheck:
    """A leak checker; the shared sync thread already runs when it is handed out."""
    await orm.sync_to_async(lambda: None)()
    return LeakCheck(tables, admin)


@pytest.fixture
def wide_scope_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let the default scope pool run 16 threads at once (instead of 4) for this test.

    For tests about N scopes running concurrently, each on a thread of its
    own (RELIABILITY.md L5), with N above the default cap; the cap itself is
    tested in test_reuse.py.
    """
    DEFAULT_THREADS.close()
    monkeypatch.setattr(DEFAULT_THREADS, "max_threads", 16)
    yield
    DEFAULT_THREADS.close()
