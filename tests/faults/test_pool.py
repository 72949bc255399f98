"""The pool's edges (RELIABILITY.md F15, F16; issue 5 "pool exhaustion").

- F15: a connection given back while ``INTRANS`` or ``INERROR`` (or in the
  middle of a COPY) never reaches its next user dirty: it is rolled back (or
  replaced), the next user sees ``IDLE``, the server shows ``idle``, and the
  uncommitted writes are gone.
- F16: a connect failure (unknown database, unknown role, nothing listening,
  a server that never answers) raises a clear ``OperationalError`` with the
  server's message within the connect timeout, leaves no open wrapper, does
  not retry in a storm, and reconfiguring to a good URL works.
- Pool exhaustion from plain threads: the waiter gets an ``OperationalError``
  naming ``pool_max_size`` and ``pool_timeout`` after about ``pool_timeout``,
  caused by psycopg_pool's ``PoolTimeout``. (tests/scopes/test_load.py covers
  the same through concurrent scopes, with 2 connections and 4 scopes.)
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg_pool
import pytest

import orm
from orm import transaction
from tests.faults.helpers import (
    backend_pid,
    committed_names,
    run_threads,
    server_state,
    transaction_status,
    url_replacing,
    url_with,
    wait_for_state,
)
from tests.faults.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# faults kill, time out and replace real connections.
pytestmark = [pytest.mark.faults, pytest.mark.transactional]


def execute(sql: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql)


def next_user() -> tuple[int, str | None, int]:
    """What the next user of the pool sees, from another thread: pid, status, rows."""
    seen: list[tuple[int, str | None, int]] = []

    def look() -> None:
        orm.connection.ensure_connection()
        status = transaction_status()  # before any query of ours could change it
        seen.append((backend_pid(), status, Item.objects.count()))

    run_threads(look)
    return seen[0]


@pytest.fixture
def one_connection(pg: Any) -> Any:
    """A pool of exactly one connection, so the next user gets the same one back."""
    orm.configure(url_with(pool_min_size=1, pool_max_size=1))
    return pg


# ---------------------------------------------------------------------------- F15


@pytest.mark.parametrize("status", ["INTRANS", "INERROR"])
def test_f15_connection_returned_dirty_reaches_the_next_user_idle(
    one_connection: Any, status: str
) -> None:
    pg = one_connection
    pid = backend_pid()
    raw = orm.connection.connection
    transaction.set_autocommit(False)  # manual transaction: nothing commits by itself
    Item.objects.create(name="f15-uncommitted")
    if status == "INERROR":
        with pytest.raises(orm.DataError):
            execute("SELECT 1 / 0")
    assert transaction_status() == status
    assert server_state(pg, pid) == (
        "idle in transaction" if status == "INTRANS" else "idle in transaction (aborted)"
    )

    orm.connections.close_current()  # the wrapper gives the connection back, dirty

    assert raw.info.transaction_status.name == "IDLE"  # reset before the pool has it
    assert next_user() == (pid, "IDLE", 0)  # the same connection, idle, nothing committed
    assert wait_for_state(pg, pid, "idle") == "idle"
    assert committed_names(pg, "f15-") == []
    stats = orm.connections.stats()["default"]
    assert stats["open_connections"] == 0 and stats["pool"]["pool_available"] == 1


@pytest.mark.parametrize("status", ["INTRANS", "INERROR"])
async def test_f15_scope_ending_dirty_returns_its_connection_idle(
    one_connection: Any, status: str
) -> None:
    pg = one_connection

    def leave_dirty() -> int:
        pid = backend_pid()
        transaction.set_autocommit(False)
        Item.objects.create(name="f15-uncommitted")
        if status == "INERROR":
            with pytest.raises(orm.DataError):
                execute("SELECT 1 / 0")
        assert transaction_status() == status
        return pid

    async with orm.connection_scope():
        pid = await orm.sync_to_async(leave_dirty)()
    assert wait_for_state(pg, pid, "idle") == "idle"
    async with orm.connection_scope():
        assert await orm.sync_to_async(backend_pid)() == pid
        assert await orm.sync_to_async(transaction_status)() == "IDLE"
        assert await Item.objects.acount() == 0
    assert committed_names(pg, "f15-") == []


def test_f15_connection_returned_mid_copy_is_replaced(one_connection: Any) -> None:
    pg = one_connection
    pid = backend_pid()
    raw = orm.connection.connection
    cursor = raw.cursor()
    copying = cursor.copy(f'COPY "{Item._meta.db_table}" (name, qty) FROM STDIN')
    copy = copying.__enter__()
    try:
        copy.write_row(("f15-copy", 1))
        assert transaction_status() == "ACTIVE"
        orm.connections.close_current()  # mid-COPY: it cannot be reset, so it is closed
        assert raw.closed
    finally:
        # The abandoned COPY fails on the closed connection; only its cleanup is left.
        with pytest.raises(psycopg.OperationalError):
            copying.__exit__(None, None, None)
        cursor.close()
    other_pid, status, rows = next_user()
    assert other_pid != pid and status == "IDLE" and rows == 0
    assert wait_for_state(pg, pid, None) is None  # the old backend ended
    assert committed_names(pg, "f15-") == []


# ---------------------------------------------------------------------------- F16


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that completes the TCP handshake and then never says anything."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)  # never accepted: the kernel handshakes, nobody answers
        yield server.getsockname()[1]


def user() -> str:
    return orm.connections.settings["default"].user or "postgres"


def pool_threads() -> list[str]:
    """Threads of psycopg_pool pools named after the ``default`` alias."""
    return [t.name for t in threading.enumerate() if t.name.startswith("orm-default")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timing
@pytest.mark.parametrize("fault", ["unknown database", "unknown role", "nothing listening"])
def test_f16_connect_failure_is_clear_fast_and_leaves_nothing(pg: Any, fault: str) -> None:
    good = orm.connections.settings["default"].url
    if fault == "unknown database":
        bad, expected = (
            url_replacing(good, path="/no_such_db"),
            'database "no_such_db" does not exist',
        )
    elif fault == "unknown role":
        host = orm.connections.settings["default"].host or "127.0.0.1"
        port = orm.connections.settings["default"].port or 5432
        bad, expected = (
            url_replacing(good, netloc=f"no_such_role@{host}:{port}"),
            'role "no_such_role" does not exist',
        )
    else:
        bad, expected = url_replacing(good, netloc=f"{user()}@127.0.0.1:{free_port()}"), "refused"
    orm.configure(bad)
    try:
        for _ in range(2):  # the second call fails as clearly, and as fast
            started = time.monotonic()
            with pytest.raises(orm.OperationalError) as info:
                Item.objects.count()
            elapsed = time.monotonic() - started
            assert elapsed < 2, f"the connect error took {elapsed:.2f} s"
            assert expected in str(info.value)
            assert "Could not connect to PostgreSQL for alias 'default'" in str(info.value)
            assert isinstance(info.value.__cause__, psycopg.OperationalError)
            # No half-initialised wrapper: nothing open, nothing held.
            assert orm.connection.connection is None
            assert orm.connections.stats()["default"]["open_connections"] == 0
    finally:
        orm.configure(good)
    # The failing pool is closed with its scheduler and workers; the new one is lazy.
    assert pool_threads() == []
    assert Item.objects.count() == 0  # reconfigured: works at once


@pytest.mark.timing
def test_f16_server_that_never_answers_fails_within_the_connect_timeout(
    pg: Any, silent_server: int
) -> None:
    good = orm.connections.settings["default"].url
    # libpq's smallest connect_timeout is 2 s (smaller values are raised to 2).
    orm.configure(
        url_replacing(url_with(connect_timeout=2), netloc=f"{user()}@127.0.0.1:{silent_server}")
    )
    try:
        started = time.monotonic()
        with pytest.raises(orm.OperationalError) as info:
            Item.objects.count()
        elapsed = time.monotonic() - started
        assert 1.8 <= elapsed < 3, f"connect_timeout=2 took {elapsed:.2f} s"
        assert "timeout expired" in str(info.value)
        assert isinstance(info.value.__cause__, psycopg.OperationalError)
        assert orm.connections.stats()["default"]["open_connections"] == 0
    finally:
        orm.configure(good)
    assert Item.objects.count() == 0


@pytest.mark.timing
def test_f16_failing_connects_are_not_retried_in_a_storm(pg: Any) -> None:
    """A server that drops every connection: the pool backs off between attempts."""
    accepted: list[float] = []
    stop = threading.Event()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        server.settimeout(0.05)

        def accept_and_drop() -> None:
            while not stop.is_set():
                try:
                    client, _ = server.accept()
                except OSError:
                    continue
                accepted.append(time.monotonic())
                client.close()

        acceptor = threading.Thread(target=accept_and_drop, name="dropping-server")
        acceptor.start()
        good = orm.connections.settings["default"].url
        try:
            orm.configure(
                url_replacing(good, netloc=f"{user()}@127.0.0.1:{server.getsockname()[1]}")
            )
            started = time.monotonic()
            for _ in range(3):
                with pytest.raises(orm.OperationalError, match="Could not connect"):
                    Item.objects.count()
            time.sleep(max(0.0, 1.5 - (time.monotonic() - started)))
            attempts = len(accepted)
            orm.configure(good)  # closes the failing pool: its workers stop
            assert pool_threads() == []
            time.sleep(0.2)
            after_close = len(accepted) - attempts
        finally:
            orm.configure(good)
            stop.set()
            acceptor.join(5)
    # libpq may open two sockets per attempt (SSL, then plain); psycopg_pool
    # waits about a second (with jitter) before trying again.
    assert 1 <= attempts <= 8, f"{attempts} connection attempts in 1.5 s"
    assert after_close == 0
    assert Item.objects.count() == 0


# -------------------------------------------------------------- pool exhaustion


@pytest.mark.timing
def test_pool_exhaustion_surfaces_as_a_clear_operational_error(pg: Any) -> None:
    orm.configure(url_with(pool_min_size=1, pool_max_size=1, pool_timeout=0.2))
    Item.objects.create(name="row")  # this thread now holds the only connection
    outcome: list[tuple[BaseException, float]] = []

    def waiter() -> None:
        started = time.monotonic()
        try:
            Item.objects.count()
        except orm.OperationalError as error:
            outcome.append((error, time.monotonic() - started))

    run_threads(waiter)
    assert len(outcome) == 1, "the second user got a connection the pool does not have"
    error, waited = outcome[0]
    assert 0.18 <= waited < 0.6, f"waited {waited:.2f} s for pool_timeout=0.2"
    assert "pool_max_size=1" in str(error) and "pool_timeout=0.2" in str(error)
    assert isinstance(error.__cause__, psycopg_pool.PoolTimeout)
    assert Item.objects.count() == 1  # the holder is unaffected

    orm.connections.close_current()  # given back: the next user is served
    served: list[int] = []
    run_threads(lambda: served.append(Item.objects.count()))
    assert served == [1]
    stats = orm.connections.stats()["default"]
    assert stats["open_connections"] == 0 and stats["pool"]["pool_available"] == 1


# ----------------------------------------------------------------------- bug 4


def test_repeated_connect_failures_keep_reporting_the_cause(pg: Any) -> None:
    good = orm.connections.settings["default"].url
    orm.configure(url_replacing(url_with(pool_max_waiting=2), path="/no_such_db"))
    try:
        for _ in range(4):
            with pytest.raises(orm.OperationalError) as info:
                Item.objects.count()
            assert 'database "no_such_db" does not exist' in str(info.value)
    finally:
        orm.configure(good)
