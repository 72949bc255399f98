"""F12: the event loop closes while ORM work is still in flight.

``asyncio.run(main())`` where ``main`` starts ``a*`` calls (outside any scope
and inside one) and returns without awaiting them. ``asyncio.run`` cancels
the leftover tasks and closes the loop while sync functions are still running
on their threads. The script runs in a fresh interpreter with ``-W error`` (so
an unclosed connection's ``ResourceWarning`` or any other warning is an
error); it must exit 0 with an empty stderr: no "Event loop is closed"
traceback, no "Task was destroyed but it is pending", no "Exception ignored".
A second and a third ``asyncio.run`` in the same process use the ORM again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import orm

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# scopes and concurrent requests each need a real connection of their own.
pytestmark = [pytest.mark.usefixtures("tables"), pytest.mark.transactional]

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio
    import sys
    import threading
    import time

    import orm
    from orm import transaction
    from tests.scopes.models import Item

    orm.configure(sys.argv[1])
    running = {"shared thread": threading.Event(), "scope": threading.Event()}


    def slow_write(name):
        # In flight when the loop closes: sets its flag, then takes 0.3 s.
        running[name].set()
        with transaction.atomic():
            Item.objects.create(name=name, qty=1)
            time.sleep(0.3)
            Item.objects.filter(name=name).update(qty=2)


    async def in_a_scope(name):
        async with orm.connection_scope():
            await Item.objects.acount()
            await orm.sync_to_async(slow_write)(name)


    async def first():
        # Never awaited, but done before main returns.
        asyncio.create_task(Item.objects.acreate(name="first twin"))
        # In flight on the shared thread when main returns.
        asyncio.ensure_future(orm.sync_to_async(slow_write)("shared thread"))
        # In flight inside a scope: cancelled by asyncio.run, the scope closes.
        asyncio.create_task(in_a_scope("scope"))
        # Waiting in the shared thread's queue when cancelled: never runs.
        asyncio.create_task(Item.objects.acreate(name="queued twin"))
        while not all(flag.is_set() for flag in running.values()):
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        # Created last: cancelled before its first step.
        asyncio.create_task(Item.objects.acreate(name="never started"))


    async def second():
        # Queues behind whatever still runs on the shared thread.
        rows = {n: q async for n, q in Item.objects.order_by("name").values_list("name", "qty")}
        async with orm.connection_scope():
            in_scope = await Item.objects.acount()
        return rows, in_scope


    async def third():
        async with orm.connection_scope():
            await Item.objects.acreate(name="third run")
        return await Item.objects.acount()


    asyncio.run(first())
    rows, in_scope = asyncio.run(second())
    print(sorted(rows.items()), in_scope)
    print(asyncio.run(third()))
    """
)


def test_returning_with_work_in_flight_is_clean_and_the_orm_works_again(tmp_path: Path) -> None:
    script = tmp_path / "f12.py"
    script.write_text(SCRIPT)
    # The child uses the test's database, where the tables fixture made the tables.
    url = str(orm.connections.settings["default"].url)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONWARNINGS", None)
    result = subprocess.run(
        [sys.executable, "-W", "error", str(script), url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stderr == ""
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    # The sync functions that had started ran to completion although their
    # callers were cancelled (each block committed whole); a call still queued
    # for the shared thread, and a task cancelled before its first step, never ran.
    assert lines[0] == "[('first twin', 0), ('scope', 2), ('shared thread', 2)] 3"
    assert lines[1] == "4"
