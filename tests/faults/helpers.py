"""Shared pieces of the fault tests: injecting faults and looking at the server from outside."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orm
from tests.faults.models import Item

if TYPE_CHECKING:
    import psycopg

ITEM_TABLE = Item._meta.db_table
# A filter that makes the server sleep one second (an uncorrelated scalar
# subquery runs once, as an InitPlan) when the table has a row with qty 0.
SLEEP_1S = orm.RawSQL("SELECT 0 FROM pg_sleep(1)", [])


def backend_pid() -> int:
    """PID of the server process behind this thread's ``default`` connection (opens it)."""
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def transaction_status() -> str | None:
    """libpq's transaction status of this thread's connection, or None when it holds none."""
    conn = orm.connection.connection
    if conn is None:
        return None
    return str(conn.info.transaction_status.name)


def terminate(admin: psycopg.Connection[Any], pid: int) -> None:
    """``pg_terminate_backend`` and wait (up to 5 s) until the server process is gone."""
    row = admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()
    assert row == (True,), f"backend {pid} was not terminated: {row}"


def server_state(admin: psycopg.Connection[Any], pid: int) -> str | None:
    """``pg_stat_activity.state`` of a backend, or None when the process is gone."""
    row = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return None if row is None else str(row[0])


def wait_for_state(
    admin: psycopg.Connection[Any], pid: int, state: str | None, timeout: float = 5.0
) -> str | None:
    """Poll ``pg_stat_activity`` until the backend reports ``state`` (None: until it is
    gone); return the last state seen."""
    deadline = time.monotonic() + timeout
    seen = server_state(admin, pid)
    while seen != state and time.monotonic() < deadline:
        time.sleep(0.01)
        seen = server_state(admin, pid)
    return seen


def committed_names(admin: psycopg.Connection[Any], prefix: str) -> list[str]:
    """Names of the committed Item rows starting with ``prefix``, seen from outside orm."""
    rows = admin.execute(
        f'SELECT name FROM "{ITEM_TABLE}" WHERE name LIKE %s ORDER BY name', [prefix + "%"]
    ).fetchall()
    return [str(row[0]) for row in rows]


def is_superuser(admin: psycopg.Connection[Any]) -> bool:
    row = admin.execute("SELECT current_setting('is_superuser')").fetchone()
    return row == ("on",)


def url_with(**options: Any) -> str:
    """The ``default`` database's URL with query options added or replaced."""
    base, _, query = orm.connections.settings["default"].url.partition("?")
    merged = dict(parse_qsl(query))
    merged.update({key: str(value) for key, value in options.items()})
    return f"{base}?{urlencode(merged)}"


def url_replacing(url: str, *, netloc: str | None = None, path: str | None = None) -> str:
    """``url`` with its ``user@host:port`` or ``/database`` replaced."""
    parts = urlsplit(url)
    if netloc is not None:
        parts = parts._replace(netloc=netloc)
    if path is not None:
        parts = parts._replace(path=path)
    return urlunsplit(parts)


def run_threads(*targets: Callable[[], None], timeout: float = 10.0) -> None:
    """Run each target on its own thread (closing its connections at the end); join all."""

    def wrapped(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            finally:
                orm.connections.close_current()

        return run

    threads = [
        threading.Thread(target=wrapped(t), name=f"fault-{i}") for i, t in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"threads still running after {timeout} s: {stuck}"


def isolation(level: str) -> None:
    """First statement of an atomic block: ``SET TRANSACTION ISOLATION LEVEL level``."""
    with orm.connection.cursor() as cursor:
        cursor.execute(f"SET TRANSACTION ISOLATION LEVEL {level}")
