"""The first call after an idle period works, even when the server cut the session meanwhile.

Issue 11 item 7. A thread's wrapper holds its pooled connection between calls
(the shared thread of ``a*`` calls outside scopes holds it for good), so the
pool's check never sees it. When the connection sat unused for
``health_check_after`` seconds (default 1), its next use outside a transaction
first checks it with one empty round trip and replaces a dead one before the
user's statement is sent. Here the server cuts the session with
``idle_session_timeout`` (set through the URL's ``options``, so nothing global
changes) or ``pg_terminate_backend``; on SQLite the same idle gap must simply
work.

A call right after another sends nothing extra (counted on the wire with
libpq's trace); a statement already sent is never sent again; inside a
transaction nothing is replaced.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

import orm
from orm import transaction
from orm.conf import DEFAULT_HEALTH_CHECK_AFTER
from tests.faults.helpers import (
    backend_pid,
    committed_names,
    run_threads,
    terminate,
    url_with,
    wait_for_state,
)
from tests.faults.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# faults kill, time out and replace real connections.
pytestmark = [pytest.mark.faults, pytest.mark.transactional]

# The server cuts a session idle for this long: longer than the default
# health_check_after, so a gap long enough for the cut is long enough for the check.
IDLE_CUT_MS = 1500


def idle_cut(idle_ms: int = IDLE_CUT_MS, **options: Any) -> str:
    """The ``default`` URL with a server-side idle cut, plus ``options``."""
    return url_with(options=f"-c idle_session_timeout={idle_ms}", **options)


def wait_until_gone(admin: psycopg.Connection[Any], pid: int) -> None:
    """Wait until the server has ended backend ``pid`` (it cuts idle sessions by itself)."""
    assert wait_for_state(admin, pid, None, timeout=IDLE_CUT_MS / 1000 + 10) is None, (
        f"the server did not end idle backend {pid}"
    )


@pytest.fixture
def admin(tables: str, request: pytest.FixtureRequest) -> psycopg.Connection[Any] | None:
    """The ``pg_admin`` connection on PostgreSQL, None on SQLite."""
    if tables != "postgresql":
        return None
    pg: psycopg.Connection[Any] = request.getfixturevalue("pg_admin")
    return pg


# ------------------------------------------------------------ the scenario


def test_next_sync_call_after_an_idle_cut_works(admin: psycopg.Connection[Any] | None) -> None:
    """Default settings: the session dies while idle, the next call still succeeds."""
    if admin is not None:
        orm.configure(idle_cut())
    Item.objects.create(name="row")
    if admin is None:
        time.sleep(DEFAULT_HEALTH_CHECK_AFTER + 0.1)  # SQLite: the same gap, nothing to cut
    else:
        pid = backend_pid()
        wait_until_gone(admin, pid)

    assert Item.objects.count() == 1  # no error: the dead connection was replaced first
    if admin is not None:
        assert backend_pid() != pid


async def test_next_a_call_on_the_shared_thread_after_an_idle_cut_works(
    admin: psycopg.Connection[Any] | None,
) -> None:
    """The shared thread of ``a*`` calls outside scopes keeps its connection forever."""
    if admin is not None:
        orm.configure(idle_cut())
    await Item.objects.acreate(name="row")
    if admin is None:
        await asyncio.sleep(DEFAULT_HEALTH_CHECK_AFTER + 0.1)
    else:
        pid = await orm.sync_to_async(backend_pid)()
        await asyncio.to_thread(wait_until_gone, admin, pid)

    assert await Item.objects.acount() == 1
    assert [item.name async for item in Item.objects.all()] == ["row"]
    if admin is not None:
        assert await orm.sync_to_async(backend_pid)() != pid


# -------------------------------------------------------- a terminated idle backend


@pytest.mark.parametrize("after", [0, 0.2])
def test_idle_backend_terminated_by_an_admin_is_replaced_before_use(
    pg: psycopg.Connection[Any], after: float
) -> None:
    orm.configure(url_with(health_check_after=after))
    Item.objects.create(name="row")
    pid = backend_pid()
    terminate(pg, pid)
    time.sleep(after + 0.05)

    assert Item.objects.count() == 1  # F2 promised "at most one call fails": now none does
    assert backend_pid() != pid


async def test_a_calls_after_a_terminated_idle_backend_all_succeed(
    pg: psycopg.Connection[Any],
) -> None:
    orm.configure(url_with(health_check_after=0.2))
    await Item.objects.acreate(name="row")
    pid = await orm.sync_to_async(backend_pid)()
    terminate(pg, pid)
    await asyncio.sleep(0.25)

    assert await Item.objects.acount() == 1
    assert await Item.objects.filter(name="row").aexists()


def test_health_check_none_turns_the_check_off(pg: psycopg.Connection[Any]) -> None:
    """With the check off, the old behaviour: the first call after the cut fails, once."""
    orm.configure(url_with(health_check_after="none"))
    Item.objects.create(name="row")
    terminate(pg, backend_pid())
    time.sleep(0.05)

    with pytest.raises(orm.OperationalError):
        Item.objects.count()
    assert Item.objects.count() == 1


# ------------------------------------------------------- the hot path stays clean


@contextmanager
def wire_spy() -> Iterator[Callable[[], int]]:
    """Count the statements this thread's connection sends, whatever sends them.

    libpq's own trace of the protocol: each simple ``Query`` and each extended
    query's ``Execute`` is one statement run (psycopg preparing a statement
    sends ``Parse`` alone: not counted). It sees the health check too, which
    bypasses orm's execute wrappers.
    """
    orm.connection.ensure_connection()
    pgconn = orm.connection.connection.pgconn
    with tempfile.TemporaryFile(mode="w+") as log:
        pgconn.trace(log.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        offset = 0

        def sent() -> int:
            """Statements sent since the last call of ``sent()``."""
            nonlocal offset
            log.flush()
            log.seek(offset)
            lines = log.read().splitlines()
            offset = log.tell()
            return sum(
                1
                for line in lines
                if line.startswith("F\t") and line.split("\t")[2].strip() in ("Query", "Execute")
            )

        try:
            yield sent
        finally:
            pgconn.untrace()


def test_a_call_right_after_another_sends_no_extra_round_trip(
    pg: psycopg.Connection[Any],
) -> None:
    """With the default health_check_after: one clock read per call, no round trip."""
    Item.objects.create(name="row")
    with wire_spy() as sent:
        sent()
        for _ in range(5):
            assert Item.objects.count() == 1
            assert sent() == 1, "a call right after another sent more than its own statement"
        time.sleep(DEFAULT_HEALTH_CHECK_AFTER + 0.05)
        assert Item.objects.count() == 1
        assert sent() == 2  # after the idle period: the check, then the statement
        assert Item.objects.count() == 1
        assert sent() == 1


# ----------------------------------------------------- never replayed, never mid-block


def test_a_statement_already_sent_is_never_sent_again(pg: psycopg.Connection[Any]) -> None:
    """The backend dies while running the INSERT: the call fails, nothing is retried."""
    orm.configure(url_with(health_check_after=0))  # check before every use
    Item.objects.create(name="row")  # the connection is open and warm
    pid = backend_pid()
    killed: list[str | None] = []

    def kill_while_running() -> None:
        killed.append(wait_for_state(pg, pid, "active"))
        terminate(pg, pid)

    killer = threading.Thread(target=kill_while_running, name="killer")
    killer.start()
    try:
        with pytest.raises(orm.OperationalError):
            with orm.connection.cursor() as cursor:
                cursor.execute(
                    f'INSERT INTO "{Item._meta.db_table}" (name, qty) '
                    "SELECT 'sent-once', 0 FROM pg_sleep(2)"
                )
    finally:
        killer.join(10)
    assert killed == ["active"]
    time.sleep(2.2)  # a replayed INSERT would have committed by now
    assert committed_names(pg, "sent-once") == []
    assert Item.objects.count() == 1


def test_inside_atomic_a_dead_connection_fails_the_block(pg: psycopg.Connection[Any]) -> None:
    """Replacing the connection mid-block would commit half a transaction: it fails instead."""
    orm.configure(url_with(health_check_after=0))
    Item.objects.create(name="before")
    with pytest.raises(orm.OperationalError):
        with transaction.atomic():
            Item.objects.create(name="in-block-first")
            terminate(pg, backend_pid())
            Item.objects.create(name="in-block-second")
    assert committed_names(pg, "in-block") == []
    assert Item.objects.count() == 1  # after the block, the next call reconnects


def test_in_manual_transaction_a_dead_connection_is_not_swapped(
    pg: psycopg.Connection[Any],
) -> None:
    """set_autocommit(False): a silent new connection would lose the open transaction."""
    orm.configure(url_with(health_check_after=0))
    Item.objects.create(name="before")
    raw = orm.connection.connection
    transaction.set_autocommit(False)
    try:
        Item.objects.create(name="manual-first")
        terminate(pg, backend_pid())
        with pytest.raises(orm.OperationalError):
            Item.objects.create(name="manual-second")
        # The failed manual transaction must be rolled back before leaving
        # manual mode (commit() or set_autocommit(True) would refuse).
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert raw.closed
    assert committed_names(pg, "manual-") == []
    assert Item.objects.count() == 1


# ---------------------------------------------------------------- under concurrency


@pytest.mark.load
def test_many_threads_all_recover_from_an_idle_cut(pg: psycopg.Connection[Any]) -> None:
    """Six threads holding connections, all cut while idle: every next call succeeds."""
    orm.configure(idle_cut(idle_ms=600, health_check_after=0.5, pool_max_size=8))
    Item.objects.create(name="row")
    orm.connections.close_current()
    outcomes: list[Any] = []
    lock = threading.Lock()

    def worker() -> None:
        first = Item.objects.count()
        pid = backend_pid()
        wait_until_gone(pg, pid)
        try:
            result: Any = (first, Item.objects.count(), backend_pid() != pid)
        except orm.OperationalError as error:
            result = error
        with lock:
            outcomes.append(result)

    run_threads(*([worker] * 6), timeout=30)
    assert outcomes == [(1, 1, True)] * 6


# ------------------------------------------------------------------ the URL option


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf", ""])
def test_bad_health_check_after_is_refused_at_configure(value: str) -> None:
    with pytest.raises(orm.ImproperlyConfigured, match="health_check_after") as info:
        orm.configure(f"postgresql://app@127.0.0.1:5432/app?health_check_after={value}")
    assert "seconds, 0 or more" in str(info.value)


def test_health_check_after_is_not_a_libpq_parameter(backend: str) -> None:
    """The option is orm's: it never reaches libpq (which would refuse it)."""
    if backend == "sqlite":
        with pytest.raises(orm.ImproperlyConfigured, match="Unknown SQLite option"):
            orm.configure("sqlite:///app.sqlite3?health_check_after=1")
        return
    orm.configure(url_with(health_check_after=2.5))
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert orm.connection.health_check_after == 2.5
