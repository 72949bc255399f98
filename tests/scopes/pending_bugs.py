"""Failing tests for bugs found while testing connection scopes (not collected).

Run them explicitly: ``python -m pytest tests/scopes/pending_bugs.py -q``
(PostgreSQL ones also need ``ORM_TEST_POSTGRES_URL`` and the harness's
``POSTGRES_BACKEND_READY``). Each test fails today and should pass once the
bug it names is fixed; then move it into the matching ``test_*.py`` file.

BUG 1  A ``connection_scope()`` entered under ``async_to_sync`` (async code
       called from a sync function) runs on the *calling* sync thread, as asgiref
       routes it, but still believes it owns that thread: on exit it closes the
       caller's connection. Inside the caller's ``atomic()`` block this silently
       discards the block's earlier writes and lets its later writes autocommit
       on a new connection: half a transaction is committed, no error is raised.
       (``scopes.py`` decides ownership by ``context.token is not None``, which is
       also true when ``AsyncToSync.executors.current`` overrides the context.)
BUG 2  PostgreSQL: session state survives in the pool from one scope to the
       next. A ``SET statement_timeout``, a session advisory lock or a TEMP table
       made in one request is still there for whichever later request gets the
       connection (it then fails with ``QueryCanceled``, or blocks on the lock
       forever). The pool is created without a ``reset`` callback; returning a
       connection only rolls back an open transaction.
BUG 3  A task created inside a scope that outlives it (fire-and-forget
       ``asyncio.create_task`` in a request handler) runs its later database calls
       on a brand-new thread, whose connection is never closed and whose thread
       is never joined: one leaked connection (a pooled one on PostgreSQL, which
       then never returns to the pool) and one thread per such task.
BUG 4  Two scopes sharing one executor (``connection_scope(executor=ex)``, the
       way to "bound the number of scope threads" the issue describes) share its
       thread's connection, and the first to exit closes it under the other:
       the other's ``aiterator()`` then fails with ``ProgrammingError: Cannot
       operate on a closed database`` (SQLite) / ``InterfaceError: the cursor is
       closed`` (PostgreSQL), and its TEMP tables vanish.
BUG 5  (example app, ``migrations_example/app.py``) a non-numeric or null price
       (``{"price": "abc"}``, ``{"price": null}``) raises ``decimal.InvalidOperation``
       (an ``ArithmeticError``, not a ``ValueError``) out of the app: a 500 / an
       exception from the ASGI app instead of the 400 the other bad inputs get.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

import orm
from orm import transaction
from tests.scopes.helpers import (
    LeakCheck,
    make_temp_table,
    temp_table_rows,
    url_with,
)
from tests.scopes.models import Item

pytestmark = pytest.mark.usefixtures("tables")


# ------------------------------------------------------------------------ BUG 1


async def helper_in_a_scope() -> int:
    async with orm.connection_scope():
        return await Item.objects.acount()


async def test_bug1_a_scope_under_async_to_sync_keeps_the_callers_transaction() -> None:
    def sync_view() -> tuple[bool, list[str]]:
        with transaction.atomic():
            Item.objects.create(name="before the helper")
            assert orm.async_to_sync(helper_in_a_scope)() == 1  # same thread, sees the row
            still_open = orm.connection.connection is not None
            Item.objects.create(name="after the helper")
        return still_open, sorted(Item.objects.values_list("name", flat=True))

    still_open, names = await orm.sync_to_async(sync_view)()
    assert still_open  # today: False, the scope closed the caller's connection
    assert names == ["after the helper", "before the helper"]  # today: ["after the helper"]


async def test_bug1_a_scope_under_async_to_sync_leaves_the_callers_connection() -> None:
    def sync_caller() -> Any:
        make_temp_table("caller")
        orm.async_to_sync(helper_in_a_scope)()
        return temp_table_rows()

    assert await orm.sync_to_async(sync_caller)() == [("caller",)]  # today: None


# ------------------------------------------------------------------------ BUG 2


@pytest.fixture
def one_pooled_connection(tables: str) -> None:
    if tables != "postgresql":
        pytest.skip("PostgreSQL only: SQLite scopes open and close their own connection")
    orm.configure(url_with(pool_min_size=1, pool_max_size=1))


def poison_session() -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 50")
        cursor.execute("SELECT pg_advisory_lock(6)")
    make_temp_table("left behind")


def session_state() -> tuple[str, int, Any]:
    with orm.connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        timeout = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                       " AND pid = pg_backend_pid()")
        locks = cursor.fetchone()[0]
    return timeout, locks, temp_table_rows()


@pytest.mark.usefixtures("one_pooled_connection")
async def test_bug2_a_later_scope_starts_with_a_clean_session() -> None:
    async with orm.connection_scope():
        await orm.sync_to_async(poison_session)()
    async with orm.connection_scope():
        state = await orm.sync_to_async(session_state)()
    assert state == ("0", 0, None)  # today: ("50ms", 1, [("left behind",)])


# ------------------------------------------------------------------------ BUG 3


async def test_bug3_a_task_that_outlives_its_scope_leaks_nothing(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    go = asyncio.Event()

    async def background() -> int:
        await go.wait()
        return await Item.objects.acount()

    async with orm.connection_scope():
        task = asyncio.create_task(background())  # fire and forget, as handlers do
        await Item.objects.acount()
    go.set()
    assert await task == 0
    await leaks.assert_clean(baseline, settle=1.0)  # today: 1 connection + 1 thread leaked


# ------------------------------------------------------------------------ BUG 4


async def test_bug4_scopes_sharing_an_executor_do_not_close_each_others_connection() -> None:
    await Item.objects.abulk_create([Item(name=f"row {i}") for i in range(10)])
    executor = ThreadPoolExecutor(max_workers=1)
    streaming = asyncio.Event()
    first_done = asyncio.Event()

    async def short_scope() -> None:
        async with orm.connection_scope(executor=executor):
            await Item.objects.acount()
            await streaming.wait()
        first_done.set()

    async def long_scope() -> int:
        seen = 0
        async with orm.connection_scope(executor=executor):
            async for _ in Item.objects.order_by("pk").aiterator(chunk_size=2):
                seen += 1
                if seen == 1:
                    streaming.set()
                    await first_done.wait()
        return seen

    try:
        _, seen = await asyncio.gather(short_scope(), long_scope())
    finally:
        executor.shutdown(wait=True)
    assert seen == 10  # today: ProgrammingError / InterfaceError on the second chunk


# ------------------------------------------------------------------------ BUG 5


@pytest.fixture
def example_app(backend: str) -> Any:
    from migrations_example.app import application
    from migrations_example.models import Author, Book, Tag

    orm.create_tables(Author, Tag, Book)
    orm.connections.close_current()
    return application


async def test_bug5_example_app_answers_400_to_a_non_numeric_price(example_app: Any) -> None:
    transport = httpx.ASGITransport(app=example_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for price in ("abc", None):
            response = await client.post("/books", json={"title": "T", "author": "A", "price": price})
            assert response.status_code == 400, (price, response.status_code)  # today: 500
        book = (await client.post("/books", json={"title": "T", "author": "A", "price": "1"})).json()
        response = await client.post(f"/books/{book['id']}/price", json={"price": "abc"})
        assert response.status_code == 400  # today: 500

