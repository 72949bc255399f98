"""An ``aiterator()`` abandoned mid-stream is closed before its event loop closes (issue 11, item 10).

When ``asyncio.run()`` ended while a stream was open, the close of the stream
ran in a task the loop never waited for: Python printed "Task was destroyed but
it is pending! ... async_generator_athrow" and the PostgreSQL server-side cursor
(or, on SQLite, the stream's own connection) stayed open.

Each scenario runs in a fresh interpreter with ``-W error`` that streams, lets
``asyncio.run()`` end mid-stream, then, in a second ``asyncio.run()``, reports
what is still open. Streams run on the shared thread or inside a
``connection_scope()``, and are left:

- ``suspended``: in a task waiting inside the ``async for`` body (the loop's
  cancellation drops the generator; its finalizer schedules the close);
- ``fetching``: in a task waiting for its next chunk (the cancelled fetch
  schedules the close);
- ``left_open``: unclosed but still referenced (``shutdown_asyncgens()`` closes it);
- ``dropped``: dropped by ``main`` just before it returns (the close is in
  flight when the loop cancels what is left).

A storm of streams cancelled at random points, in the same process, leaves no
cursor, connection or thread behind, and the next call works.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import orm
from tests.scopes.helpers import LeakCheck, url_with, warm_pool

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# scopes and concurrent requests each need a real connection of their own.
pytestmark = pytest.mark.transactional

REPO = Path(__file__).resolve().parents[2]
ROWS = 60
POOL_MAX = 6


class Row(orm.Model):
    n = orm.IntegerField()

    class Meta:
        app_label = "i11_shutdown"


@pytest.fixture
def rows(tables: str) -> Iterator[str]:
    """ROWS rows (n = 0 .. ROWS-1) on the fresh ``backend`` database; yields the vendor."""
    orm.create_tables(Row)
    Row.objects.bulk_create([Row(n=i) for i in range(ROWS)])
    orm.connections.close_current()
    yield tables
    orm.connections.close_current()


CHILD = textwrap.dedent(
    """
    import asyncio
    import gc
    import json
    import random
    import sqlite3
    import sys
    import threading
    import time

    import orm
    from orm.db.scopes import DEFAULT_THREADS

    class Row(orm.Model):
        n = orm.IntegerField()

        class Meta:
            app_label = "i11_shutdown"

    URL, SCENARIO, WHERE = sys.argv[1:4]
    orm.configure(URL)
    ROWS = %(rows)d
    POOL_MAX = %(pool_max)d
    kept = []


    def stream(chunk_size=5):
        return Row.objects.order_by("n").aiterator(chunk_size=chunk_size)


    async def where(coro, scoped):
        if scoped:
            async with orm.connection_scope():
                return await coro
        return await coro


    async def suspended(started):
        async for _ in stream():
            started.set()
            await asyncio.sleep(3600)


    async def fetching(started):
        async for row in stream():
            if row.n == 0:
                # Occupy this context's sync thread, so that the fetch of the
                # next chunk is still waiting when the loop ends.
                asyncio.ensure_future(orm.sync_to_async(time.sleep)(0.3))
                started.set()


    async def storm_one(rng, started):
        async for _ in stream(rng.randint(1, 7)):
            started.set()
            if rng.random() < 0.5:
                await asyncio.sleep(rng.random() * 0.01)


    async def main():
        started = asyncio.Event()
        scoped = WHERE == "scope"
        if SCENARIO in ("suspended", "fetching"):
            body = suspended if SCENARIO == "suspended" else fetching
            asyncio.create_task(where(body(started), scoped))
            await started.wait()
            await asyncio.sleep(0.05)
        elif SCENARIO in ("left_open", "dropped"):
            async def open_one():
                it = stream()
                await anext(it)
                if SCENARIO == "left_open":
                    kept.append(it)
            await where(open_one(), scoped)
        elif SCENARIO == "storm":
            rng = random.Random(int(WHERE))
            for i in range(8):
                asyncio.create_task(where(storm_one(rng, started), i %% 2 == 1))
            await started.wait()
            await asyncio.sleep(rng.random() * 0.05)


    def shared_thread_report():
        wrapper = orm.connections["default"]
        report = {"count": Row.objects.count()}
        if wrapper.vendor == "postgresql":
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT name FROM pg_cursors")
                report["cursors"] = [name for (name,) in cursor.fetchall()]
        else:
            report["stream_connections"] = wrapper.diagnostics()["stream_connections"]
            report["idle_stream_connection"] = wrapper.diagnostics()["idle_stream_connection"]
        return report


    async def pooled_cursors():
        # Every pooled connection but the shared thread's, held at once by
        # concurrent scopes: each reports the cursors its session still has.
        barrier = threading.Barrier(POOL_MAX - 1)

        def probe():
            with orm.connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_cursors")
                found = cursor.fetchone()[0]
            barrier.wait(10)
            return found

        return await asyncio.gather(*(where(orm.sync_to_async(probe)(), True) for _ in range(POOL_MAX - 1)))


    def open_sqlite_connections():
        found = 0
        for obj in gc.get_objects():
            if isinstance(obj, sqlite3.Connection):
                try:
                    obj.total_changes
                except sqlite3.ProgrammingError:
                    continue
                found += 1
        return found


    async def check():
        # Idle scope threads keep their reset connections (and the idle
        # stream connection): ending them closes those, so what is left
        # below is either a wrapper's own or leaked.
        DEFAULT_THREADS.close()
        report = await orm.sync_to_async(shared_thread_report)()
        if orm.connections.settings["default"].vendor == "postgresql":
            report["pooled_cursors"] = await pooled_cursors()
        else:
            report["open_sqlite"] = await orm.sync_to_async(open_sqlite_connections)()
            report["open_wrappers"] = orm.connections.stats()["default"]["open_connections"]
        report["streamed_again"] = [row.n async for row in stream(7)]
        return report


    asyncio.run(main())
    print(json.dumps(asyncio.run(check())))
    orm.connections.close_all()
    """
) % {"rows": ROWS, "pool_max": POOL_MAX}


def run_child(tmp_path: Path, scenario: str, where: str) -> dict[str, Any]:
    script = tmp_path / "stream_shutdown.py"
    script.write_text(CHILD)
    url = url_with(pool_max_size=POOL_MAX) if orm.connection.vendor == "postgresql" else url_with()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONWARNINGS", None)
    result = subprocess.run(
        [sys.executable, "-W", "error", str(script), url, scenario, where],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stderr == ""
    assert result.returncode == 0
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def assert_nothing_left(report: dict[str, Any], vendor: str) -> None:
    if vendor == "postgresql":
        assert report["cursors"] == []  # the shared thread's session
        assert report["pooled_cursors"] == [0] * (POOL_MAX - 1)  # every other pooled session
    else:
        assert report["stream_connections"] == 0
        # Every sqlite3 connection still open is a wrapper's own, or the one
        # the shared thread keeps idle for its next stream.
        assert report["open_sqlite"] == report["open_wrappers"] + report["idle_stream_connection"]
    assert report["count"] == ROWS
    assert report["streamed_again"] == list(range(ROWS))


@pytest.mark.slow
@pytest.mark.parametrize("where", ["shared", "scope"])
@pytest.mark.parametrize("scenario", ["suspended", "fetching", "left_open", "dropped"])
def test_loop_ending_mid_stream_closes_the_stream_quietly(
    rows: str, tmp_path: Path, scenario: str, where: str
) -> None:
    assert_nothing_left(run_child(tmp_path, scenario, where), rows)


@pytest.mark.slow
@pytest.mark.load
@pytest.mark.parametrize("seed", ["1", "2"])
def test_loop_ending_during_a_storm_of_streams_closes_them_all(
    rows: str, tmp_path: Path, seed: str
) -> None:
    assert_nothing_left(run_child(tmp_path, "storm", seed), rows)


# ------------------------------------------------------------- cancellation storm


def shared_thread_streams() -> int:
    """Open streams of the calling thread's connection (cursors, or SQLite stream connections)."""
    wrapper = orm.connections["default"]
    if wrapper.vendor == "sqlite":
        return int(wrapper.diagnostics()["stream_connections"])
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        row = cursor.fetchone()
    return int(row[0])


@pytest.mark.load
@pytest.mark.parametrize("seed", [7, 8, 9])
async def test_cancellation_storm_of_streams_leaves_nothing_open(
    rows: str, leaks: LeakCheck, seed: int
) -> None:
    """24 streams on the shared thread and in scopes, each cancelled at a random
    point: before its first step, waiting for its first chunk, after a random
    number of rows (inside the loop body or waiting for the next chunk)."""
    rng = random.Random(seed)
    await warm_pool(4)  # PostgreSQL: scopes find connections ready
    assert (
        await Row.objects.acount() == ROWS
    )  # the shared thread's connection is part of the baseline
    baseline = leaks.snapshot()
    streamed: list[int] = []

    async def consume(stop_after: int, chunk_size: int, pause: float) -> None:
        seen = 0
        async for row in Row.objects.order_by("n").aiterator(chunk_size=chunk_size):
            streamed.append(row.n)
            seen += 1
            if seen == stop_after:
                # Delivered at the task's next suspension: the pause below,
                # or the fetch of the next chunk.
                task = asyncio.current_task()
                assert task is not None
                task.cancel()
            if pause:
                await asyncio.sleep(pause)

    async def one(i: int, stop_after: int) -> None:
        args = (stop_after, rng.randint(1, 9), rng.choice([0.0, 0.001]))
        if i % 2:
            # Made inside: a scope may be cancelled while it waits for a thread.
            async with orm.connection_scope():
                await consume(*args)
        else:
            await consume(*args)

    loop = asyncio.get_running_loop()
    tasks = []
    for i in range(24):
        when = rng.choice(["before the first step", "waiting for the first chunk", "after rows"])
        task = asyncio.create_task(one(i, rng.randint(1, ROWS - 1) if when == "after rows" else 0))
        if when == "before the first step":
            task.cancel()
        elif when == "waiting for the first chunk":
            loop.call_soon(task.cancel)
        tasks.append(task)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results
    assert streamed, "no stream got a row before it was cancelled: the test proves nothing"

    await leaks.assert_clean(baseline)
    deadline = loop.time() + 5
    while (left := await orm.sync_to_async(shared_thread_streams)()) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    assert left == 0
    # The next calls work, on the shared thread and in a scope.
    assert [row.n async for row in Row.objects.order_by("n").aiterator(chunk_size=8)] == list(
        range(ROWS)
    )
    async with orm.connection_scope():
        assert await Row.objects.acount() == ROWS
    await leaks.assert_clean(baseline)


async def test_a_close_nobody_awaits_reports_its_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A background close (of a cancelled stream) that fails is logged, not left
    to "Task exception was never retrieved"; the loop's watch waits for it."""
    from orm.query import streaming

    def stream() -> Iterator[int]:
        try:
            yield 1
        finally:
            raise RuntimeError("the cursor could not be closed")

    iterator = stream()
    next(iterator)
    await streaming.watch_loop()
    watch = streaming._watches[asyncio.get_running_loop()]
    with caplog.at_level("WARNING", logger="orm.query"):
        streaming.close_soon(iterator)
        assert len(watch.closing) == 1
        await watch.drain()
    assert watch.closing == set()
    assert iterator.gi_frame is None
    [record] = [r for r in caplog.records if r.name == "orm.query"]
    assert record.getMessage() == "Closing an abandoned aiterator() stream failed"
    assert record.exc_info is not None and "could not be closed" in str(record.exc_info[1])
