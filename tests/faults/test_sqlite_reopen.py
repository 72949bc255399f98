"""A connection that cannot write any more is replaced, not kept (issue 11 item 6).

A SQLite connection opened while the database file (or its directory) was
read-only stays read-only after the file becomes writable: every write fails
with "attempt to write a readonly database" although ``SELECT 1`` still works.
`orm` classifies SQLite errors by their result code (``SQLITE_READONLY*``,
``SQLITE_IOERR*``, ``SQLITE_CORRUPT``, ``SQLITE_CANTOPEN``, ``SQLITE_NOTADB``)
and drops such a connection as it drops a PostgreSQL connection the server
killed: at once outside ``atomic()``, when the outermost block ends inside one.

The read-only state is produced the way SQLite itself produces it when a file
cannot be opened for writing (tests may run as root, where ``chmod`` stops
nothing): the first connection is opened with ``mode=ro``, later ones normally.
On PostgreSQL the fault is a terminated server process.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import orm
from orm import transaction
from tests.faults.helpers import (
    backend_pid,
    terminate,
)
from tests.faults.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# faults kill, time out and replace real connections.
pytestmark = [pytest.mark.faults, pytest.mark.transactional]


class Note(orm.Model):
    text = orm.CharField(max_length=50, unique=True)

    class Meta:
        app_label = "i11_reopen"


@pytest.fixture
def notes(backend: str) -> Iterator[str]:
    orm.create_tables(Note)
    orm.connections.close_current()  # the next call opens a new connection
    yield backend


def break_next_connection(vendor: str, request: pytest.FixtureRequest) -> None:
    """Make the connection the next call uses unable to write.

    SQLite: the next connection opens read-only (as it does when the file is
    not writable at that moment); the ones after it open normally.
    PostgreSQL: the server process behind the current connection is killed.
    """
    if vendor == "sqlite":
        monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
        real_connect = sqlite3.connect
        used: list[bool] = []

        def connect(database: str, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            if not used:
                used.append(True)
                database = Path(database).resolve().as_uri() + "?mode=ro"
                kwargs["uri"] = True
            return real_connect(database, *args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", connect)
        with orm.connection.cursor() as cursor:  # opens the read-only connection
            cursor.execute("SELECT 1")
        return
    admin = request.getfixturevalue("pg_admin")
    terminate(admin, backend_pid())


def texts() -> list[str]:
    return sorted(Note.objects.values_list("text", flat=True))


def test_write_after_a_connection_level_error_reopens_and_succeeds(
    notes: str, request: pytest.FixtureRequest
) -> None:
    break_next_connection(notes, request)
    broken = orm.connection.connection

    with pytest.raises(orm.OperationalError) as info:
        Note.objects.create(text="lost")
    if notes == "sqlite":
        assert "readonly database" in str(info.value)
        assert info.value.__cause__.sqlite_errorname == "SQLITE_READONLY"  # type: ignore[union-attr]
    assert orm.connection.connection is None  # dropped at once, not kept

    Note.objects.create(text="written")  # a new connection, able to write
    assert orm.connection.connection is not broken
    assert texts() == ["written"]


def test_a_read_only_connection_inside_atomic_is_dropped_when_the_block_ends(
    notes: str, request: pytest.FixtureRequest
) -> None:
    break_next_connection(notes, request)

    with pytest.raises(orm.OperationalError):
        with transaction.atomic():
            Note.objects.create(text="lost")

    # Every later transaction gets a working connection: a read-only one
    # kept after the block would fail each of them.
    with transaction.atomic():
        Note.objects.create(text="written")
    assert texts() == ["written"]


def test_a_savepoint_still_lets_the_outer_block_go_on(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # SQLite only: a killed PostgreSQL session has no outer block left to go on with.
    orm.configure(f"sqlite:///{tmp_path / 'savepoint.sqlite3'}")
    try:
        orm.create_tables(Note)
        Note.objects.create(text="first")
        orm.connections.close_current()
        break_next_connection("sqlite", request)
        read_only = orm.connection.connection
        with transaction.atomic():
            with pytest.raises(orm.OperationalError):
                with transaction.atomic():
                    Note.objects.create(text="lost")
            # The outer block goes on reading on the same connection ...
            assert orm.connection.connection is read_only
            assert texts() == ["first"]
        # ... which is closed once the block is over.
        assert orm.connection.connection is None
        Note.objects.create(text="second")
        assert texts() == ["first", "second"]
    finally:
        orm.connections.close_all()


def test_errors_of_the_statement_keep_the_connection(notes: str) -> None:
    Note.objects.create(text="same")
    conn = orm.connection.connection
    with pytest.raises(orm.IntegrityError):
        Note.objects.create(text="same")
    with pytest.raises(orm.DatabaseError):
        with orm.connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_i11")
    with transaction.atomic():
        with pytest.raises(orm.IntegrityError):
            with transaction.atomic():
                Note.objects.create(text="same")
    assert orm.connection.connection is conn  # nothing was reopened
    assert texts() == ["same"]


# ----------------------------------------------------------------------- bug 5


def test_sqlite_file_that_cannot_be_opened_is_an_operational_error(
    tables: str, tmp_path: Path
) -> None:
    if tables != "sqlite":
        pytest.skip("SQLite file paths only")
    good = orm.connections.settings["default"].url
    orm.configure(f"sqlite:///{tmp_path / 'no_such_dir' / 'db.sqlite3'}")
    try:
        with pytest.raises(orm.OperationalError, match="unable to open database file"):
            Item.objects.count()
        assert orm.connection.connection is None
        assert orm.connections.stats()["default"]["open_connections"] == 0
    finally:
        orm.configure(good)
    assert Item.objects.count() == 0
