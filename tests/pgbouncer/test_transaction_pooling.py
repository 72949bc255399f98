"""orm behind PgBouncer in transaction pooling mode (``pgbouncer=transaction``).

PgBouncer (``conftest.pgbouncer``) hands each transaction of a client
connection whichever of its two server sessions is free, so anything orm
left in a session (a prepared statement, a ``WITH HOLD`` cursor, a ``SET``)
is missing from the next transaction, or reaches another client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest

import orm
from orm.migrations.executor import MigrationExecutor
from tests.pgbouncer.conftest import SERVER_POOL_SIZE, Bouncer, configure_through
from tests.pgbouncer.models import Note

pytestmark = pytest.mark.postgres


def scalar(sql: str) -> Any:
    """One value from raw SQL on this thread's ``default`` connection."""
    with orm.connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    assert row is not None
    return row[0]


def in_scope(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on a scope's own thread and connection (as one request would)."""

    async def run() -> Any:
        async with orm.connection_scope():
            return await orm.sync_to_async(fn)()

    return run()


async def test_crud_sync_and_async(bouncer: Bouncer) -> None:
    note = await Note.objects.acreate(title="a", rank=1)
    await Note.objects.abulk_create([Note(title=f"b{i}", rank=10 + i) for i in range(5)])
    assert await Note.objects.acount() == 6
    assert (await Note.objects.aget(pk=note.pk)).title == "a"
    assert await Note.objects.filter(rank__gte=10).aupdate(title="c") == 5
    note.title = "changed"
    await note.asave()
    await note.arefresh_from_db()
    assert note.title == "changed"
    assert [n.title async for n in Note.objects.all()] == ["changed"] + ["c"] * 5
    deleted, _ = await Note.objects.filter(title="c").adelete()
    assert deleted == 5
    assert await orm.sync_to_async(Note.objects.count)() == 1


async def test_atomic_and_savepoints(bouncer: Bouncer) -> None:
    def work() -> None:
        with orm.transaction.atomic():
            Note.objects.create(title="kept", rank=1)
            try:
                with orm.transaction.atomic():  # a savepoint on the same server session
                    Note.objects.create(title="undone", rank=2)
                    raise ValueError("roll back to the savepoint")
            except ValueError:
                pass
            Note.objects.create(title="kept too", rank=3)
        try:
            with orm.transaction.atomic():
                Note.objects.create(title="rolled back", rank=4)
                raise ValueError("roll back the whole block")
        except ValueError:
            pass

    await orm.sync_to_async(work)()
    assert [n.title async for n in Note.objects.all()] == ["kept", "kept too"]


async def test_row_locks_and_on_commit(bouncer: Bouncer) -> None:
    note = await Note.objects.acreate(title="n", rank=1)
    committed: list[str] = []

    def work() -> None:
        with orm.transaction.atomic():
            locked = Note.objects.select_for_update().get(pk=note.pk)
            Note.objects.filter(pk=locked.pk).update(rank=locked.rank + 1)
            orm.transaction.on_commit(lambda: committed.append("done"))
            assert committed == []

    await orm.sync_to_async(work)()
    assert committed == ["done"]
    assert (await Note.objects.aget(pk=note.pk)).rank == 2


async def test_time_zone_is_utc_although_the_server_sessions_are_not(bouncer: Bouncer) -> None:
    # The server sessions PgBouncer opens run in America/New_York, and it
    # drops libpq's 'options' (ignore_startup_parameters): orm sets UTC itself.
    assert await orm.sync_to_async(scalar)("SHOW TimeZone") == "UTC"
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    await Note.objects.acreate(title="t", created=moment)
    stored = (await Note.objects.aget(title="t")).created
    assert stored == moment and stored is not None and stored.utcoffset() == dt.timedelta(0)
    assert await Note.objects.filter(created__date=dt.date(2026, 1, 2)).acount() == 1


async def test_repeated_statements_from_many_clients(bouncer: Bouncer) -> None:
    # psycopg would prepare a statement run 5 times on the server session of
    # that moment; the next transaction of the same client, or another client
    # on that session, would then fail ("prepared statement ... does not
    # exist" / "already exists"). pgbouncer=transaction turns preparing off.
    await Note.objects.abulk_create([Note(title=str(i), rank=i) for i in range(10)])

    def repeat() -> list[int]:
        return [Note.objects.filter(rank__lt=5).count() for _ in range(20)]

    results = await asyncio.gather(*(in_scope(repeat) for _ in range(2 * SERVER_POOL_SIZE)))
    assert results == [[5] * 20] * (2 * SERVER_POOL_SIZE)
    assert [await Note.objects.filter(rank__lt=5).acount() for _ in range(20)] == [5] * 20


async def test_aiterator_gives_every_row_while_others_use_the_bouncer(bouncer: Bouncer) -> None:
    await Note.objects.abulk_create([Note(title=str(i), rank=i) for i in range(50)])
    holding, release = threading.Event(), threading.Event()

    def hold_a_server_session() -> None:
        # Another request's transaction takes the server session the iteration
        # used last (PgBouncer hands out the most recently freed one) and keeps
        # it, so the iteration's next chunks must come from the other session.
        with orm.transaction.atomic():
            Note.objects.filter(rank=-1).update(title="x")
            holding.set()
            release.wait(10)

    holder: asyncio.Task[Any] | None = None
    seen: list[int] = []
    try:
        async for note in Note.objects.order_by("rank").aiterator(chunk_size=7):
            seen.append(note.rank)
            if holder is None:
                holder = asyncio.ensure_future(in_scope(hold_a_server_session))
                assert await asyncio.to_thread(holding.wait, 10)
    finally:
        release.set()
        if holder is not None:
            await holder
    assert seen == list(range(50))


async def test_iterator_inside_atomic_streams_through_a_server_side_cursor(
    bouncer: Bouncer,
) -> None:
    await Note.objects.abulk_create([Note(title=str(i), rank=i) for i in range(30)])

    def read() -> tuple[list[int], int]:
        with orm.transaction.atomic():
            ranks = []
            cursors = 0
            for note in Note.objects.order_by("rank").iterator(chunk_size=4):
                ranks.append(note.rank)
                if note.rank == 10:
                    cursors = scalar("SELECT count(*) FROM pg_cursors")
            return ranks, cursors

    ranks, open_cursors = await orm.sync_to_async(read)()
    assert ranks == list(range(30))
    assert open_cursors == 1  # the named cursor, alive in the transaction's server session


async def test_concurrent_scopes_share_two_server_sessions(bouncer: Bouncer) -> None:
    def request(n: int) -> int:
        with orm.transaction.atomic():
            Note.objects.create(title=f"r{n}", rank=n)
            Note.objects.filter(rank=n).update(title=f"done{n}")
        return Note.objects.filter(title=f"done{n}").count()

    tasks = 24  # more than pool_max_size=8 scopes, over 2 server sessions
    counts = await asyncio.gather(*(in_scope(lambda n=n: request(n)) for n in range(tasks)))
    assert counts == [1] * tasks
    assert await Note.objects.filter(title__startswith="done").acount() == tasks


async def test_a_set_made_in_one_scope_does_not_reach_the_next(pgbouncer: Bouncer) -> None:
    # One pooled client connection, used by two scopes in turn.
    configure_through(pgbouncer, "pgbouncer=transaction&pool_max_size=1&pool_min_size=1")
    try:

        def change() -> None:
            with orm.connection.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'Asia/Tokyo'")
                cursor.execute("SET application_name = 'changed by the last user'")

        def look() -> tuple[str, str]:
            return scalar("SHOW TimeZone"), scalar("SHOW application_name")

        before = await in_scope(look)
        await in_scope(change)
        assert await in_scope(look) == before
        assert before[0] == "UTC"
    finally:
        orm.connections.close_all()


async def test_migrate_refuses_with_a_clear_error(bouncer: Bouncer) -> None:
    def lock() -> None:
        with MigrationExecutor(orm.connections["default"]).lock():
            pass

    with pytest.raises(orm.NotSupportedError, match="PgBouncer in transaction pooling mode"):
        await orm.sync_to_async(lock)()


async def test_a_transaction_left_open_in_a_scope_is_rolled_back_at_its_end(
    bouncer: Bouncer,
) -> None:
    def leave_open() -> None:
        with orm.connection.cursor() as cursor:
            cursor.execute("BEGIN")  # holds one of PgBouncer's two server sessions
            cursor.execute(
                f'INSERT INTO "{Note._meta.db_table}" (title, rank) VALUES (%s, %s)', ["open", 1]
            )

    await in_scope(leave_open)
    # The rollback gave the server session back: both serve these scopes.
    counts = await asyncio.gather(
        *(in_scope(Note.objects.filter(title="open").count) for _ in range(SERVER_POOL_SIZE + 2))
    )
    assert counts == [0] * (SERVER_POOL_SIZE + 2)
