"""A pooled PostgreSQL connection reaches its next user with none of the last user's session.

Issue 11 item 1. With ``pool_max_size=1`` every user gets the same server
session back, so whatever the reset between users misses is visible to the
next one: the role it runs as, cursors and prepared statements it can read,
settings that change what its queries do. Each test compares what the next
user sees on the *same* backend (same pid) with what a fresh session shows.

Also: psycopg's own prepared statements survive the reset and stay
consistent with the server, a reset that fails closes the connection instead
of returning it, and many scopes on a small pool never see each other's
session. PostgreSQL only: SQLite has no pool, each scope closes its file
connection and a new one starts from nothing.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

import orm
from orm import transaction
from tests.faults.helpers import backend_pid, url_with, wait_for_state
from tests.faults.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# faults kill, time out and replace real connections.
pytestmark = [pytest.mark.faults, pytest.mark.transactional]

Probe = Callable[[], Any]


def run(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on this thread's orm connection; its rows (``[]`` if none)."""
    with orm.connection.cursor() as cursor:
        cursor.execute(statement, params)
        return list(cursor.fetchall()) if cursor.description else []


def outcome(statement: str) -> Any:
    """The rows of ``statement``, or the SQLSTATE of the error it raises."""
    try:
        return run(statement)
    except orm.DatabaseError as error:
        return f"error {error.sqlstate}"


def as_next_user(probe: Probe) -> tuple[int, Any]:
    """Run ``probe`` on another thread (the pool's next user): (backend pid, its result)."""
    seen: list[tuple[int, Any]] = []
    failure: list[BaseException] = []

    def look() -> None:
        try:
            seen.append((backend_pid(), probe()))
        except BaseException as error:  # noqa: BLE001 - re-raised on the test's thread
            failure.append(error)
        finally:
            orm.connections.close_current()

    thread = threading.Thread(target=look, name="next-user")
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the next user's thread is stuck"
    if failure:
        raise failure[0]
    return seen[0]


@pytest.fixture
def one_connection(pg: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """A pool of exactly one connection, so the next user gets the same session back."""
    orm.configure(url_with(pool_min_size=1, pool_max_size=1))
    return pg


@pytest.fixture
def make_role(pg: psycopg.Connection[Any]) -> Iterator[Callable[[str], str]]:
    """Create NOLOGIN roles the orm user may switch to; drop them after the test.

    Roles are global to the cluster, so each name carries this process's pid.
    """
    made: list[str] = []

    def make(tag: str) -> str:
        name = f"i11a_{tag}_{os.getpid()}"
        role = sql.Identifier(name)
        pg.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
        pg.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(role))
        pg.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
        made.append(name)
        return name

    yield make
    orm.connections.close_all()  # no session may still run as a role being dropped
    for name in made:
        pg.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


# ------------------------------------------------------------- the scenario


def test_next_user_neither_runs_as_the_last_role_nor_reads_its_held_cursor(
    one_connection: psycopg.Connection[Any], make_role: Callable[[str], str]
) -> None:
    tenant = make_role("tenant")
    me = run("SELECT current_user")[0][0]
    pid = backend_pid()
    run(f'SET ROLE "{tenant}"')
    run("DECLARE c CURSOR WITH HOLD FOR SELECT 'secret'")
    assert run("SELECT current_user") == [(tenant,)]
    orm.connections.close_current()  # request A ends: its connection goes back

    seen = as_next_user(
        lambda: (run("SELECT current_user, session_user"), outcome("FETCH ALL FROM c"))
    )
    assert seen == (pid, ([(me, me)], "error 34000"))  # same session, none of A's state


# ------------------------------------------------- every piece of session state


Setup = Callable[[str], None]  # what the last user does, given a role it may switch to


def _in_atomic(*statements: str) -> Setup:
    def setup(tenant: str) -> None:
        with transaction.atomic():
            for statement in statements:
                run(statement.format(tenant=tenant))

    return setup


def _statements(*statements: str) -> Setup:
    def setup(tenant: str) -> None:
        for statement in statements:
            run(statement.format(tenant=tenant))

    return setup


def _left_in_transaction(*statements: str) -> Setup:
    """Run ``statements`` in a transaction that the user never ends."""

    def setup(tenant: str) -> None:
        transaction.set_autocommit(False)
        for statement in statements:
            run(statement.format(tenant=tenant))

    return setup


def _sequence_used(tenant: str) -> None:
    Item.objects.create(name="gives this session a lastval()")


# name -> (what the last user does, what the next user looks at)
SESSION_STATE: dict[str, tuple[Setup, str]] = {
    "set_role": (_statements('SET ROLE "{tenant}"'), "SELECT current_user, session_user"),
    "set_session_authorization": (
        _statements('SET SESSION AUTHORIZATION "{tenant}"'),
        "SELECT current_user, session_user",
    ),
    "set_role_in_committed_transaction": (
        _in_atomic('SET ROLE "{tenant}"'),
        "SELECT current_user, session_user",
    ),
    "held_cursor": (
        _statements("DECLARE leaked CURSOR WITH HOLD FOR SELECT 'secret'"),
        "SELECT name FROM pg_cursors",
    ),
    "sql_prepared_statement": (
        _statements("PREPARE leaked AS SELECT 'secret'"),
        "SELECT name FROM pg_prepared_statements WHERE from_sql",
    ),
    "set": (_statements("SET search_path TO pg_catalog"), "SHOW search_path"),
    "set_in_committed_transaction": (_in_atomic("SET work_mem = '7MB'"), "SHOW work_mem"),
    "set_local_in_open_transaction": (
        _left_in_transaction("SET LOCAL work_mem = '7MB'"),
        "SHOW work_mem",
    ),
    "set_in_open_transaction": (
        _left_in_transaction("SET work_mem = '7MB'", 'SET ROLE "{tenant}"'),
        "SELECT current_user, current_setting('work_mem')",
    ),
    # A custom setting a session once made stays defined (as '', not NULL):
    # the value is gone, the name is not (docs/postgresql.md).
    "set_config_session": (
        _statements("SELECT set_config('i11a.tenant', 'a', false)"),
        "SELECT coalesce(current_setting('i11a.tenant', true), '')",
    ),
    "set_config_local_in_open_transaction": (
        _left_in_transaction("SELECT set_config('i11a.tenant', 'a', true)"),
        "SELECT coalesce(current_setting('i11a.tenant', true), '')",
    ),
    "statement_timeout": (_statements("SET statement_timeout = 1"), "SHOW statement_timeout"),
    "read_only": (
        _statements("SET default_transaction_read_only = on"),
        "SHOW default_transaction_read_only",
    ),
    "set_time_zone": (_statements("SET TIME ZONE 'Asia/Tokyo'"), "SHOW TimeZone"),
    "sequence_lastval": (_sequence_used, "SELECT lastval()"),
    "listen": (_statements("LISTEN i11a_channel"), "SELECT pg_listening_channels()"),
    "advisory_lock": (
        _statements("SELECT pg_advisory_lock(11)"),
        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
    ),
    "temp_table": (
        _statements("CREATE TEMP TABLE leaked (secret text)"),
        "SELECT count(*) FROM pg_class WHERE relpersistence = 't' AND relname = 'leaked'",
    ),
}


@pytest.mark.parametrize("state", sorted(SESSION_STATE))
def test_session_state_does_not_reach_the_next_user(
    one_connection: psycopg.Connection[Any], make_role: Callable[[str], str], state: str
) -> None:
    setup, probe = SESSION_STATE[state]
    tenant = make_role("tenant")
    fresh = outcome(probe)  # what a session nobody touched shows
    pid = backend_pid()
    setup(tenant)
    assert outcome(probe) != fresh, "the setup changed nothing: the test would prove nothing"
    orm.connections.close_current()

    assert as_next_user(lambda: outcome(probe)) == (pid, fresh)


# ---------------------------------------------------- psycopg's prepared statements


REPEATED = "SELECT %s::int + 1"


def prepared_everywhere() -> tuple[set[str], set[str]]:
    """(psycopg's cached statement names, the protocol-level ones the server has)."""
    orm.connection.ensure_connection()
    conn: Any = orm.connection.connection
    cached = {name.decode() for name in conn._prepared._names.values()}
    server = {row[0] for row in run("SELECT name FROM pg_prepared_statements WHERE NOT from_sql")}
    return cached, server


def repeat_query(times: int = 6) -> list[int]:
    """Run one statement often enough for psycopg to prepare it (threshold 5)."""
    return [run(REPEATED, [i])[0][0] for i in range(times)]


def test_psycopg_prepared_statements_survive_the_reset(
    one_connection: psycopg.Connection[Any],
) -> None:
    """The reset keeps psycopg's own statements: the next user runs them prepared at once."""
    pid = backend_pid()
    repeat_query()
    cached, server = prepared_everywhere()
    assert cached and cached == server
    orm.connections.close_current()

    def next_user() -> tuple[tuple[set[str], set[str]], list[int]]:
        return prepared_everywhere(), repeat_query()

    assert as_next_user(next_user) == (pid, ((cached, server), [1, 2, 3, 4, 5, 6]))


def test_a_users_deallocate_all_does_not_break_the_next_user(
    one_connection: psycopg.Connection[Any],
) -> None:
    """psycopg misses a DEALLOCATE ALL it already ran once on the connection; the reset
    notices its cache names statements the server dropped and clears it."""
    pid = backend_pid()
    run("DEALLOCATE ALL")  # psycopg has nothing prepared yet: it remembers this statement
    repeat_query()
    run("DEALLOCATE ALL")  # seen before, so psycopg keeps its (now wrong) cache
    cached, server = prepared_everywhere()
    assert cached and not server  # psycopg would run a statement the server no longer has
    orm.connections.close_current()

    def next_user() -> tuple[list[int], tuple[set[str], set[str]]]:
        return repeat_query(), prepared_everywhere()

    seen_pid, (rows, (cached, server)) = as_next_user(next_user)
    assert (seen_pid, rows) == (pid, [1, 2, 3, 4, 5, 6])
    assert cached == server


def test_a_users_deallocate_all_fails_one_call_at_most_on_a_held_connection(
    pg: psycopg.Connection[Any],
) -> None:
    """The same trap on a connection that is never returned (the shared thread's):
    the first prepared run fails, psycopg then forgets its stale names and the
    statement is prepared afresh, instead of failing the same way forever."""
    run("DEALLOCATE ALL")
    repeat_query()
    run("SELECT 'x'")  # the user's own statements are left alone
    run("PREPARE mine AS SELECT 'mine'")
    run("DEALLOCATE ALL")
    run("PREPARE mine AS SELECT 'mine'")

    with pytest.raises(orm.ProgrammingError) as info:
        repeat_query(1)
    assert info.value.sqlstate == "26000"
    assert repeat_query(7) == [1, 2, 3, 4, 5, 6, 7]  # prepared again along the way
    cached, server = prepared_everywhere()
    assert cached and cached <= server
    assert run("EXECUTE mine") == [("mine",)]


def test_sql_prepared_statement_name_is_free_for_the_next_user(
    one_connection: psycopg.Connection[Any],
) -> None:
    pid = backend_pid()
    run("PREPARE report AS SELECT 'last user'")
    orm.connections.close_current()

    def next_user() -> list[tuple[Any, ...]]:
        run("PREPARE report AS SELECT 'next user'")  # no "already exists"
        return run("EXECUTE report")

    assert as_next_user(next_user) == (pid, [("next user",)])


# ------------------------------------------------------------- a reset that fails


@pytest.mark.parametrize("error", [psycopg.OperationalError, RuntimeError])
def test_a_connection_whose_reset_fails_is_closed_not_returned(
    one_connection: psycopg.Connection[Any],
    error: type[Exception],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pg = one_connection
    pid = backend_pid()
    run("SET work_mem = '7MB'")
    raw: Any = orm.connection.connection
    execute = raw.execute

    def failing_reset(query: Any, *args: Any, **kwargs: Any) -> Any:
        if "RESET" in str(query):
            raise error("reset failed (injected)")
        return execute(query, *args, **kwargs)

    monkeypatch.setattr(raw, "execute", failing_reset)
    if error is RuntimeError:
        # Not a database error: it reaches the caller, and the connection is still closed.
        with pytest.raises(RuntimeError, match="injected"):
            orm.connections.close_current()
    else:
        orm.connections.close_current()

    assert raw.closed
    assert wait_for_state(pg, pid, None) is None  # the server session is gone
    seen_pid, work_mem = as_next_user(lambda: run("SHOW work_mem"))
    assert seen_pid != pid and work_mem != [("7MB",)]
    assert orm.connections.stats()["default"]["pool"]["pool_size"] == 1


# ---------------------------------------------------------------- under concurrency


@pytest.mark.load
async def test_concurrent_scopes_on_a_small_pool_never_see_another_session(
    pg: psycopg.Connection[Any], make_role: Callable[[str], str]
) -> None:
    """Six scopes, five rounds each, on a pool of two: every scope starts clean."""
    orm.configure(url_with(pool_min_size=1, pool_max_size=2, pool_timeout=20))
    roles = [make_role(f"t{i}") for i in range(6)]
    me = pg.execute("SELECT current_user").fetchone()
    assert me is not None
    clean = {
        "users": [(me[0], me[0])],
        "cursors": [],
        "sql_prepared": [],
        "setting": [("",)],
        "stale_cache": False,
    }

    def look_then_poison(role: str, round_: int) -> dict[str, Any]:
        cached, server = prepared_everywhere()
        seen = {
            "users": run("SELECT current_user, session_user"),
            "cursors": run("SELECT name FROM pg_cursors"),
            "sql_prepared": run("SELECT name FROM pg_prepared_statements WHERE from_sql"),
            "setting": run("SELECT coalesce(current_setting('i11a.tenant', true), '')"),
            "stale_cache": not cached <= server,
        }
        repeat_query()
        run(f'SET ROLE "{role}"')
        run(f"DECLARE c{round_} CURSOR WITH HOLD FOR SELECT 'secret of {role}'")
        run(f"PREPARE p{round_} AS SELECT 'secret of {role}'")
        run(f"SELECT set_config('i11a.tenant', '{role}', false)")
        return seen

    async def tenant(role: str) -> list[dict[str, Any]]:
        seen = []
        for round_ in range(5):
            async with orm.connection_scope():
                seen.append(await orm.sync_to_async(look_then_poison)(role, round_))
            await asyncio.sleep(0)
        return seen

    results = await asyncio.gather(*(tenant(role) for role in roles))
    dirty = [seen for per_tenant in results for seen in per_tenant if seen != clean]
    assert dirty == []
    assert sum(len(per_tenant) for per_tenant in results) == 30


# ------------------------------------- scopes: the reset is skipped only when nothing changed

# A scope on a scope-pool thread gives its connection back without the session
# reset (and the pool hands it out again without its check for a moment) when
# it ran only the ORM's own statement-cache SELECTs and UPDATEs by primary key.
# Anything else, including SQL the ORM ran for a user's RawSQL or Func, resets.


def _orm_query_calling(function: str) -> Setup:
    def setup(tenant: str) -> None:
        call = f"set_config('i11a.tenant', '{tenant}', false)"
        if function == "raw":
            Item.objects.annotate(x=orm.RawSQL(call, [], output_field=orm.CharField())).first()
        else:
            args = [orm.Value("i11a.tenant"), orm.Value(tenant), orm.Value(False)]
            Item.objects.annotate(
                x=orm.Func(*args, function="set_config", output_field=orm.CharField())
            ).first()

    return setup


SCOPE_SESSION_STATE: dict[str, tuple[Setup, str]] = {
    **SESSION_STATE,
    "set_config_through_raw_sql_annotation": (
        _orm_query_calling("raw"),
        "SELECT coalesce(current_setting('i11a.tenant', true), '')",
    ),
    "set_config_through_func_annotation": (
        _orm_query_calling("func"),
        "SELECT coalesce(current_setting('i11a.tenant', true), '')",
    ),
}


async def _in_scope(threads: Any, fn: Callable[..., Any], *args: Any) -> Any:
    async with orm.connection_scope(threads=threads):
        return await orm.sync_to_async(fn)(*args)


@pytest.mark.parametrize("state", sorted(SCOPE_SESSION_STATE))
async def test_session_state_made_in_a_scope_does_not_reach_the_next_scope(
    one_connection: psycopg.Connection[Any], make_role: Callable[[str], str], state: str
) -> None:
    from orm.db.scopes import ScopeThreads

    setup, probe = SCOPE_SESSION_STATE[state]
    tenant = make_role("tenant")
    # The setup's query needs a row (first() of an empty table runs no function).
    await Item.objects.acreate(name="row")
    await orm.sync_to_async(orm.connections.close_current)()  # the pool's one connection
    threads = ScopeThreads(max_threads=1, wait=10.0)
    try:
        pid, fresh = await _in_scope(threads, lambda: (backend_pid(), outcome(probe)))

        def change() -> Any:
            setup(tenant)
            return outcome(probe)

        assert await _in_scope(threads, change) != fresh, "the setup changed nothing"
        seen = await _in_scope(threads, lambda: (backend_pid(), outcome(probe)))
    finally:
        threads.close()
    assert seen == (pid, fresh)


class _Counts:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from orm.backends.postgresql import base

        self.resets = self.checks = 0
        reset, check = base._send_session_reset, base.ConnectionPool.check_connection

        def counted_reset(conn: Any) -> None:
            self.resets += 1
            reset(conn)

        def counted_check(conn: Any) -> None:
            self.checks += 1
            check(conn)

        monkeypatch.setattr(base, "_send_session_reset", counted_reset)
        monkeypatch.setattr(base.ConnectionPool, "check_connection", staticmethod(counted_check))


def _orm_reads_and_updates() -> None:
    item = Item.objects.get(name="kept")
    item.qty += 1
    item.save()
    assert Item.objects.filter(name="kept").exists()
    assert Item.objects.filter(qty__gte=0).count() == 1


def _with_execute_wrapper() -> None:
    def passthrough(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        return execute(sql, params, many, context)

    with orm.connection.execute_wrapper(passthrough):
        Item.objects.get(name="kept")


SCOPE_WORK: dict[str, tuple[Callable[[], Any], int]] = {
    # what the scope runs -> session resets it costs
    "orm reads and updates by pk": (_orm_reads_and_updates, 0),
    "a raw cursor": (lambda: run("SELECT 1"), 1),
    "an insert (moves lastval)": (lambda: Item.objects.create(name="new"), 1),
    "a streamed iterator": (lambda: list(Item.objects.iterator(chunk_size=1)), 1),
    "a safe statement under an execute wrapper": (_with_execute_wrapper, 1),
}


@pytest.mark.parametrize("work", sorted(SCOPE_WORK))
async def test_a_scope_resets_the_session_unless_it_ran_only_orm_statements(
    one_connection: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch, work: str
) -> None:
    from orm.db.scopes import ScopeThreads

    fn, resets = SCOPE_WORK[work]
    await Item.objects.acreate(name="kept")
    await orm.sync_to_async(orm.connections.close_current)()  # the pool's one connection
    threads = ScopeThreads(max_threads=1, wait=10.0)
    try:
        await _in_scope(threads, _orm_reads_and_updates)  # warm: compiles every statement once
        counts = _Counts(monkeypatch)
        await _in_scope(threads, fn)
        assert counts.resets == resets
        await _in_scope(threads, lambda: Item.objects.get(name="kept"))
    finally:
        threads.close()
    # A connection given back clean a moment ago is handed out unchecked.
    assert counts.checks == resets


async def test_a_connection_given_back_clean_is_checked_again_once_it_sat_idle(
    pg: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orm.db.scopes import ScopeThreads

    orm.configure(url_with(pool_min_size=1, pool_max_size=1, health_check_after=0.05))
    await Item.objects.acreate(name="kept")
    await orm.sync_to_async(orm.connections.close_current)()  # the pool's one connection
    threads = ScopeThreads(max_threads=1, wait=10.0)
    try:
        await _in_scope(threads, _orm_reads_and_updates)
        counts = _Counts(monkeypatch)
        await _in_scope(threads, _orm_reads_and_updates)
        await asyncio.sleep(0.2)
        await _in_scope(threads, _orm_reads_and_updates)
    finally:
        threads.close()
    assert (counts.resets, counts.checks) == (0, 1)
