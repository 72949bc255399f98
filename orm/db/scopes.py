"""``connection_scope()``: a block of async code with its own sync thread and connections.

Outside any scope, every thread-sensitive call of the process shares one
thread (asgiref's), so database work is serialized. A scope opens an asgiref
``ThreadSensitiveContext``: its twins and wrapped functions run on a thread
of their own, in order, with their own connections, which are closed (or
returned to their pool) when the block exits, however it exits.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgiref.sync import ThreadSensitiveContext

from orm.db.connections import connections
from orm.utils.asyncio import to_async

logger = logging.getLogger("orm.db.scopes")


@asynccontextmanager
async def connection_scope() -> AsyncIterator[None]:
    """Run the block on its own thread and close its connections on exit."""
    async with ThreadSensitiveContext():
        try:
            yield
        finally:
            # Runs on the scope's own thread (thread-sensitive inside the
            # context): only that thread may close the connections it opened.
            closed = await to_async(connections.close_current)()
            if closed:
                logger.debug("connection_scope closed %d connection(s)", closed)
