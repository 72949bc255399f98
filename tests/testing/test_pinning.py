"""The pinning hooks in orm.db that ``orm_db`` relies on, tested in-process on both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import orm
from orm.db.connections import connections
from orm.exceptions import DatabaseError

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests pin the connection themselves.
pytestmark = pytest.mark.transactional


@pytest.fixture
def pinned(backend: str) -> Iterator[Any]:
    """The main thread's default wrapper, pinned for every thread (unpinned afterwards)."""
    wrapper = connections.pin("default")
    try:
        yield wrapper
    finally:
        connections.unpin("default")


def _in_thread(fn: Any) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result(timeout=30)


def test_every_thread_gets_the_pinned_wrapper(pinned: Any) -> None:
    assert _in_thread(lambda: connections["default"]) is pinned
    assert _in_thread(lambda: orm.connection.cursor().execute("SELECT 1").fetchone()) == (1,)


def test_unpinned_threads_get_their_own_and_sharing_is_refused(backend: str) -> None:
    main = connections["default"]
    main.ensure_connection()
    assert _in_thread(lambda: connections["default"]) is not main
    with pytest.raises(DatabaseError, match="cannot be used from thread"):
        _in_thread(main.cursor)
    wrapper = connections.pin("default")
    connections.unpin("default")
    assert wrapper is main and main.pin_lock is None and main.execute_wrappers == []
    with pytest.raises(DatabaseError, match="cannot be used from thread"):
        _in_thread(main.cursor)


def test_pinning_twice_configure_and_close_all_are_refused(pinned: Any) -> None:
    with pytest.raises(RuntimeError, match="already pinned"):
        connections.pin("default")
    with pytest.raises(RuntimeError, match="configure\\(\\) cannot run while a test pins"):
        orm.configure("sqlite:///:memory:")
    with pytest.raises(RuntimeError, match="close_all\\(\\) cannot run while a test pins"):
        connections.close_all()


def test_close_current_keeps_the_pinned_wrapper(pinned: Any) -> None:
    pinned.ensure_connection()
    assert connections.close_current() == 0
    assert pinned.connection is not None
    assert connections["default"] is pinned


def test_an_atomic_block_holds_the_connection_against_other_threads(pinned: Any) -> None:
    from orm import transaction

    entered, release = threading.Event(), threading.Event()
    order: list[str] = []

    def block() -> None:
        with transaction.atomic():
            entered.set()
            release.wait(10)
            order.append("block done")

    def statement() -> None:
        entered.wait(10)
        with orm.connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        order.append("statement")

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(block)
        second = pool.submit(statement)
        entered.wait(10)
        # Without the lock the statement would be done well within this time.
        time.sleep(0.3)
        # The statement waits for the block: it must not run inside its savepoint.
        assert not second.done()
        release.set()
        first.result(timeout=30)
        second.result(timeout=30)
    assert order == ["block done", "statement"]
