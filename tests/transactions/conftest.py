"""Fixtures for the transaction tests: the ``txtests`` tables on the ``backend`` database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import orm
from tests.transactions.models import ALL_MODELS


@pytest.fixture
def tables(backend: str) -> Iterator[str]:
    """Create the txtests tables on the fresh ``backend`` database; yield the vendor."""
    orm.create_tables(*ALL_MODELS)
    try:
        yield backend
    finally:
        # Close the test thread's connection (the backend fixture closes every thread's).
        orm.connections.close_current()
