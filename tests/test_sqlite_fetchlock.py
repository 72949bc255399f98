"""SQLite's multi-row fetches hold one process-wide lock, a slice of rows at a time.

See orm/backends/sqlite/fetchlock.py for why (the GIL convoy of concurrent
readers). What a user relies on: every row still arrives, in order, through
fetchall() and fetchmany(); other threads read meanwhile; a Python SQL
function that reads inside a fetch does not deadlock its thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest

from orm.backends.sqlite import fetchlock
from orm.backends.sqlite.fetchlock import FetchLockedCursor


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE TABLE t (n INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(3 * fetchlock._SLICE + 7)])
    yield conn
    conn.close()


@pytest.mark.parametrize(
    "count", [0, 1, fetchlock._SLICE, fetchlock._SLICE + 1, 3 * fetchlock._SLICE + 7]
)
def test_fetchall_returns_every_row_in_order_across_slices(
    db: sqlite3.Connection, count: int
) -> None:
    cursor = db.cursor(FetchLockedCursor)
    cursor.execute("SELECT n FROM t WHERE n < ? ORDER BY n", (count,))
    assert cursor.fetchall() == [(n,) for n in range(count)]
    assert cursor.fetchall() == []


def test_fetchmany_with_and_without_a_size(db: sqlite3.Connection) -> None:
    cursor = db.cursor(FetchLockedCursor)
    cursor.arraysize = 3
    cursor.execute("SELECT n FROM t ORDER BY n")
    assert cursor.fetchmany() == [(0,), (1,), (2,)]
    assert cursor.fetchmany(2) == [(3,), (4,)]
    assert cursor.fetchone() == (5,)


def test_the_lock_is_free_after_each_fetch_so_other_threads_read(db: sqlite3.Connection) -> None:
    cursor = db.cursor(FetchLockedCursor)
    cursor.execute("SELECT n FROM t ORDER BY n")
    cursor.fetchmany(10)
    seen: list[int] = []

    def other() -> None:
        other_cursor = db.cursor(FetchLockedCursor)
        other_cursor.execute("SELECT count(*) FROM t")
        seen.extend(row[0] for row in other_cursor.fetchall())

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "a fetch on another thread waited for a lock nobody held"
    assert seen == [3 * fetchlock._SLICE + 7]


def test_a_sql_function_that_reads_inside_a_fetch_does_not_deadlock(db: sqlite3.Connection) -> None:
    reader = sqlite3.connect(":memory:", check_same_thread=False)
    reader.execute("CREATE TABLE one (v INTEGER)")
    reader.execute("INSERT INTO one VALUES (1)")

    def plus_one(n: int) -> int:
        inner = reader.cursor(FetchLockedCursor)
        inner.execute("SELECT v FROM one")
        return n + inner.fetchall()[0][0]

    db.create_function("plus_one", 1, plus_one)
    cursor = db.cursor(FetchLockedCursor)
    cursor.execute("SELECT plus_one(n) FROM t WHERE n < 3 ORDER BY n")
    assert cursor.fetchall() == [(1,), (2,), (3,)]
    reader.close()
