"""Fixtures of the fault-injection tests.

- ``tables``: the ``faulttests`` tables on the fresh ``backend`` database,
  dropped again at teardown (on PostgreSQL through a harness connection, so a
  test that left orm misconfigured or broken still cleans up).
- ``pg``: for PostgreSQL-only faults. Skips the SQLite run with the reason and
  returns the ``pg_admin`` connection (autocommit, not seen by orm) used to
  inject the fault and to look at the server from outside.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

import orm
from tests.faults.models import ALL_MODELS, TABLES

if TYPE_CHECKING:
    import psycopg


@pytest.fixture
def tables(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """Create the faulttests tables; yield the vendor; drop them afterwards."""
    admin: psycopg.Connection[Any] | None = None
    if backend == "postgresql":
        admin = request.getfixturevalue("pg_admin")
    orm.create_tables(*ALL_MODELS)
    orm.connections.close_current()
    try:
        yield backend
    finally:
        orm.connections.close_current()
        if admin is not None:
            for table in TABLES:
                admin.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')


@pytest.fixture
def pg(tables: str, request: pytest.FixtureRequest) -> psycopg.Connection[Any]:
    """The ``pg_admin`` connection; skips on SQLite, which has none of these faults."""
    if tables != "postgresql":
        pytest.skip(
            "PostgreSQL-only fault: needs a server backend to terminate, server-side "
            "timeouts, row-lock conflicts between sessions or a connection pool, "
            "none of which SQLite has"
        )
    admin: psycopg.Connection[Any] = request.getfixturevalue("pg_admin")
    return admin
