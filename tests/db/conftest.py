"""Fixtures of the statement-log and capture tests.

``notes`` creates the ``querylogtests`` table on the fresh database of the
shared ``backend`` fixture, adds three notes, and closes the main thread's
connection, so each test starts from nothing open and nothing watched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import orm
from orm.db import querylog
from tests.db.models import Note


@pytest.fixture
def notes(backend: str) -> Iterator[str]:
    """Three notes (ranks 1..3) in a fresh table; yields the vendor."""
    orm.create_tables(Note)
    Note.objects.bulk_create([Note(text=f"note {i}", rank=i) for i in (1, 2, 3)])
    orm.connections["default"].close()
    yield backend
    assert querylog.active == (), "a capture_queries() block was left open"
