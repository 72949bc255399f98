"""Shared pieces of the scope tests: a portable slow query, thread probes, leak checks.

``slow_query(seconds)`` is the "0.2 s query" of RELIABILITY.md L5 on both
backends: PostgreSQL runs ``SELECT pg_sleep(seconds)``; SQLite has no sleep
function, so the sync function sleeps in Python on the same thread and then
runs a real query. Either way the call occupies its context's sync thread and
connection for ``seconds``, which is what serialization is about.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import pytest

import orm
from orm.db.scopes import DEFAULT_THREADS
from tests.conftest import ORM_APPLICATION_NAME
from tests.scopes.models import Item

if TYPE_CHECKING:
    import psycopg

TEMP_DDL = "CREATE TEMPORARY TABLE scratch (id INTEGER PRIMARY KEY, name VARCHAR(60), qty INTEGER)"
TEMP_ROWS = "SELECT id, name, qty FROM scratch"

# How long leak checks wait for asynchronous cleanup (a pool growing, a
# PostgreSQL backend process exiting, an executor thread being joined).
SETTLE_SECONDS = 5.0


@dataclass(frozen=True)
class Hop:
    """What a wrapped sync function saw on the thread that ran it."""

    thread: int
    wrapper: int  # id() of the thread's connection wrapper for "default"
    started: float
    finished: float
    rows: int


def slow_query(seconds: float) -> Hop:
    """A query that takes ``seconds`` on either backend; runs on the caller's sync thread."""
    started = time.perf_counter()
    wrapper = orm.connections["default"]
    with wrapper.cursor() as cursor:
        if wrapper.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(%s)", [seconds])
        else:
            time.sleep(seconds)
            cursor.execute("SELECT 1")
        cursor.fetchall()
    rows = Item.objects.count()
    return Hop(threading.get_ident(), id(wrapper), started, time.perf_counter(), rows)


def released(wrapper: Any) -> bool:
    """Whether a finished scope let go of ``wrapper``'s connection.

    Closed (PostgreSQL: back in the pool), or, on a scope-pool thread, kept
    open (SQLite) but reset: no transaction, nothing of the scope's
    transaction state left.
    """
    if wrapper.connection is None:
        return True
    state = wrapper.transaction_state
    return bool(
        wrapper.reused_thread
        and not wrapper.driver_in_transaction()
        and state.autocommit
        and not state.in_atomic_block
        and not state.run_on_commit
    )


def thread_and_wrapper() -> tuple[int, Any]:
    """The calling thread and its ``default`` wrapper (opens no connection)."""
    return threading.get_ident(), orm.connections["default"]


def make_temp_table(name: str = "temp") -> None:
    """Create ``scratch``, a TEMP table: it exists on this one connection only."""
    with orm.connection.cursor() as cursor:
        cursor.execute(TEMP_DDL)
        cursor.execute("INSERT INTO scratch (id, name, qty) VALUES (%s, %s, %s)", [1, name, 1])


def temp_table_rows() -> list[tuple[Any, ...]] | None:
    """The rows of ``scratch`` on this thread's connection, or None when it has none."""
    try:
        with orm.connection.cursor() as cursor:
            cursor.execute("SELECT name FROM scratch")
            return [tuple(row) for row in cursor.fetchall()]
    except orm.DatabaseError:
        return None


async def in_scope(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` through ``orm.sync_to_async`` inside a new scope."""
    async with orm.connection_scope():
        return await orm.sync_to_async(fn)(*args)


async def wait_for_flag(flag: threading.Event, timeout: float = 5.0) -> None:
    """Wait (without blocking the loop) until a sync function has set ``flag``."""
    deadline = time.monotonic() + timeout
    while not flag.is_set():
        assert time.monotonic() < deadline, "the sync function never started"
        await asyncio.sleep(0.002)


async def warm_pool(n: int) -> None:
    """Make ``n`` scopes hold a connection at once, so a pool has grown to ``n``.

    On PostgreSQL the pool starts with ``pool_min_size`` connections and opens
    more one at a time when scopes wait; timing tests warm it first so they
    measure scopes, not connection setup. (Harmless on SQLite.)
    """
    barrier = threading.Barrier(n)

    def hold() -> None:
        Item.objects.count()
        barrier.wait(10)

    await asyncio.gather(*(in_scope(hold) for _ in range(n)))


def url_with(**options: Any) -> str:
    """The ``default`` database's URL with query options added or replaced."""
    base, _, query = orm.connections.settings["default"].url.partition("?")
    merged = dict(parse_qsl(query))
    merged.update({key: str(value) for key, value in options.items()})
    return f"{base}?{urlencode(merged)}"


# ------------------------------------------------------------------ leak checks


def pg_client_states(admin: psycopg.Connection[Any]) -> list[str]:
    """``state`` of every client backend orm opened for this test run (by application_name)."""
    rows = admin.execute(
        "SELECT coalesce(state, '') FROM pg_stat_activity"
        " WHERE datname = current_database() AND backend_type = 'client backend'"
        " AND application_name = %s",
        [ORM_APPLICATION_NAME],
    ).fetchall()
    return sorted(str(row[0]) for row in rows)


@dataclass(frozen=True)
class Snapshot:
    open_connections: int
    threads: frozenset[int]


class LeakCheck:
    """Compare connections (and threads) with a baseline taken before the work.

    After the work, with ``assert_clean(baseline)``:

    - ``connections.stats()`` reports as many open connections as before;
    - no thread started by the work is still alive (scope executors are joined);
    - PostgreSQL: no request waits for the pool, the connections out of the pool
      are exactly the ones open wrappers hold, and every client backend in
      ``pg_stat_activity`` is one of the pool's and ``idle`` (none ``active``,
      ``idle in transaction`` or ``idle in transaction (aborted)``).
    """

    def __init__(self, vendor: str, admin: psycopg.Connection[Any] | None) -> None:
        self.vendor = vendor
        self.admin = admin

    def snapshot(self) -> Snapshot:
        DEFAULT_THREADS.close()  # idle scope threads and their kept connections
        return Snapshot(
            orm.connections.stats()["default"]["open_connections"],
            frozenset(t.ident for t in threading.enumerate() if t.ident is not None),
        )

    def problems(self, baseline: Snapshot) -> list[str]:
        # Scope threads the work gave back to the pool are idle, with their
        # connections reset (tests/scopes/test_reuse.py checks that): ending
        # them must bring everything back to the baseline.
        DEFAULT_THREADS.close()
        found: list[str] = []
        stats = orm.connections.stats()["default"]
        if stats["open_connections"] != baseline.open_connections:
            found.append(
                f"open_connections {stats['open_connections']} != baseline"
                f" {baseline.open_connections}"
            )
        extra = [t.name for t in threading.enumerate() if t.ident not in baseline.threads]
        if extra:
            found.append(f"threads still alive: {extra}")
        if self.vendor == "postgresql":
            pool = stats["pool"]
            if pool.get("requests_waiting", 0):
                found.append(f"requests_waiting = {pool['requests_waiting']}")
            taken = pool["pool_size"] - pool["pool_available"]
            if taken != stats["open_connections"]:
                found.append(
                    f"{taken} connection(s) out of the pool, {stats['open_connections']}"
                    " held by open wrappers"
                )
            assert self.admin is not None
            states = pg_client_states(self.admin)
            if len(states) != pool["pool_size"]:
                found.append(f"{len(states)} client backends, pool_size {pool['pool_size']}")
            busy = [state for state in states if state != "idle"]
            if busy:
                found.append(f"backends not idle: {busy}")
        return found

    async def assert_clean(self, baseline: Snapshot, settle: float = SETTLE_SECONDS) -> None:
        deadline = time.monotonic() + settle
        while found := self.problems(baseline):
            if time.monotonic() > deadline:
                pytest.fail("leaked: " + "; ".join(found), pytrace=False)
            await asyncio.sleep(0.02)

    def assert_clean_sync(self, baseline: Snapshot, settle: float = SETTLE_SECONDS) -> None:
        deadline = time.monotonic() + settle
        while found := self.problems(baseline):
            if time.monotonic() > deadline:
                pytest.fail("leaked: " + "; ".join(found), pytrace=False)
            time.sleep(0.02)
