"""When database work is serialized and when it is not (RELIABILITY.md L5).

- Outside any scope every thread-sensitive call of the process runs on one
  shared thread: 8 concurrent 0.2 s queries take >= 1.6 s.
- Each ``connection_scope()`` has its own thread and connection: 8 scopes
  running a 0.2 s query each finish together, in about 0.2 s.
- Inside one scope, calls run in submission order on the scope's thread and
  share its connection (a TEMP table made by one call is seen by the next),
  which no other scope sees.

The timing tests are marked ``timing`` and use wide margins (the CI machine
has two cores); the ``Barrier`` tests prove the same parallelism without a
clock: 8 sync functions can only meet at a barrier if they run at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import orm
from tests.scopes.helpers import (
    TEMP_ROWS,
    Hop,
    LeakCheck,
    in_scope,
    make_temp_table,
    slow_query,
    temp_table_rows,
    thread_and_wrapper,
    warm_pool,
)
from tests.scopes.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# scopes and concurrent requests each need a real connection of their own.
pytestmark = [pytest.mark.usefixtures("tables", "wide_scope_pool"), pytest.mark.transactional]

N = 8
QUERY_SECONDS = 0.2


async def shared_thread() -> int:
    """The ident of the process's shared sync thread (the one used outside scopes)."""
    return (await orm.sync_to_async(thread_and_wrapper)())[0]


# ------------------------------------------------------------------ timing (L5)


@pytest.mark.timing
async def test_8_scopes_run_a_02s_query_each_in_well_under_1s(leaks: LeakCheck) -> None:
    outside = await shared_thread()
    await warm_pool(N)  # PostgreSQL: measure scopes, not the pool opening connections
    baseline = leaks.snapshot()

    start = time.perf_counter()
    hops: list[Hop] = await asyncio.gather(*(in_scope(slow_query, QUERY_SECONDS) for _ in range(N)))
    elapsed = time.perf_counter() - start

    assert all(h.finished - h.started >= QUERY_SECONDS for h in hops)  # each really took 0.2 s
    assert len({h.thread for h in hops}) == N  # each scope on its own thread ...
    assert outside not in {h.thread for h in hops}  # ... none of them the shared one
    assert len({h.wrapper for h in hops}) == N  # ... with its own connection wrapper
    assert elapsed < 0.8, f"8 scopes took {elapsed:.3f} s: they did not run in parallel"
    await leaks.assert_clean(baseline)


@pytest.mark.timing
async def test_without_scopes_the_same_8_queries_are_serialized() -> None:
    outside = await shared_thread()
    start = time.perf_counter()
    hops: list[Hop] = await asyncio.gather(
        *(orm.sync_to_async(slow_query)(QUERY_SECONDS) for _ in range(N))
    )
    elapsed = time.perf_counter() - start

    assert {h.thread for h in hops} == {outside}  # all on the one shared thread
    assert len({h.wrapper for h in hops}) == 1  # sharing its one connection
    assert elapsed >= N * QUERY_SECONDS * 0.99, f"{elapsed:.3f} s: not serialized?"
    # One after the other: no two calls overlapped.
    spans = sorted((h.started, h.finished) for h in hops)
    assert all(prev[1] <= nxt[0] for prev, nxt in zip(spans, spans[1:], strict=False))


# ----------------------------------------------------- the same, without a clock


async def test_8_scopes_run_at_the_same_time() -> None:
    """All 8 sync functions are inside the barrier at once: only possible in parallel."""
    barrier = threading.Barrier(N)

    def meet() -> tuple[int, int]:
        Item.objects.count()  # holds a connection while waiting
        barrier.wait(10)  # BrokenBarrierError after 10 s if the scopes were serialized
        return threading.get_ident(), id(orm.connections["default"])

    results = await asyncio.gather(*(in_scope(meet) for _ in range(N)))
    assert len(set(results)) == N


async def test_without_scopes_calls_never_overlap() -> None:
    active = 0
    most = 0
    lock = threading.Lock()

    def occupy() -> None:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        Item.objects.count()
        time.sleep(0.01)
        with lock:
            active -= 1

    await asyncio.gather(*(orm.sync_to_async(occupy)() for _ in range(N)))
    assert most == 1


# ------------------------------------------------------ order within one scope


async def test_calls_in_one_scope_run_in_order_on_one_thread_and_connection() -> None:
    outside = await shared_thread()
    seen: list[tuple[int, int, int]] = []

    def step(i: int) -> None:
        time.sleep(0.05 - 0.01 * i)  # later steps are shorter: parallel runs would reorder
        seen.append((i, threading.get_ident(), id(orm.connections["default"])))
        Item.objects.create(name=f"step-{i}", qty=i)

    async with orm.connection_scope():
        # Wrapped functions and twins, all started at once.
        await asyncio.gather(
            *(orm.sync_to_async(step)(i) for i in range(5)),
            *(Item.objects.acreate(name=f"twin-{i}", qty=10 + i) for i in range(5)),
        )
        scope_thread, scope_wrapper = await orm.sync_to_async(thread_and_wrapper)()

    assert [i for i, _, _ in seen] == [0, 1, 2, 3, 4]
    assert {(t, w) for _, t, w in seen} == {(scope_thread, id(scope_wrapper))}
    assert scope_thread != outside
    # The twins ran after the wrapped calls, in the order they were started.
    by_pk = [name async for name in Item.objects.order_by("pk").values_list("name", flat=True)]
    assert by_pk == [f"step-{i}" for i in range(5)] + [f"twin-{i}" for i in range(5)]


async def test_a_temp_table_is_seen_by_later_calls_of_its_scope_only() -> None:
    """A TEMP table lives on one connection: the proof that calls share (or not) one."""
    created = asyncio.Event()
    looked = asyncio.Event()

    async def owner() -> tuple[list[tuple[int, str, int]], object]:
        async with orm.connection_scope():
            await orm.sync_to_async(make_temp_table)("mine")
            created.set()
            # A twin, later in the same scope, reads it ...
            rows = [(i.pk, i.name, i.qty) async for i in Item.objects.raw(TEMP_ROWS)]
            # ... and so does a later wrapped function.
            again = await orm.sync_to_async(temp_table_rows)()
            await looked.wait()  # keep the connection open while the others look
            return rows, again

    async def other_scope() -> object:
        await created.wait()
        async with orm.connection_scope():
            return await orm.sync_to_async(temp_table_rows)()

    async def outside_any_scope() -> object:
        await created.wait()
        return await orm.sync_to_async(temp_table_rows)()

    async def others() -> tuple[object, object]:
        try:
            return await other_scope(), await outside_any_scope()
        finally:
            looked.set()

    (rows, again), (in_other, outside) = await asyncio.gather(owner(), others())
    assert rows == [(1, "mine", 1)]
    assert again == [("mine",)]
    assert in_other is None  # another scope: another connection, no such table
    assert outside is None  # the shared thread's connection does not see it either


# ------------------------------------------------------------ once broken


# ------------------------------------------------------------ once broken


async def test_two_active_scopes_cannot_share_one_executor() -> None:
    """Two scopes on one thread would close each other's connections (once seen as a
    ProgrammingError mid-aiterator). Sharing an executor between *active* scopes is refused
    with a clear error; sequential reuse stays allowed."""
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        async with orm.connection_scope(executor=executor):
            await Item.objects.acount()
            with pytest.raises(RuntimeError, match="already used by another active"):
                async with orm.connection_scope(executor=executor):
                    pass  # pragma: no cover
        async with orm.connection_scope(executor=executor):  # reuse after exit is fine
            assert await Item.objects.acount() == 0
    finally:
        executor.shutdown(wait=True)
