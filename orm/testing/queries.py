"""pytest fixtures for counting queries and capturing ``on_commit`` callbacks.

- ``orm_assert_num_queries(n, using="default")``: a context manager (``with``
  or ``async with``) that fails, listing the SQL, unless exactly ``n``
  statements ran on ``using`` inside it, on any thread.
- ``orm_capture_on_commit_callbacks(using="default", execute=False)``: as
  Django's ``TestCase.captureOnCommitCallbacks``.

Load them with ``-p orm.testing.queries`` (or through `orm`'s pytest plugin,
which imports them).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from orm.db.capture import QueryCapture
from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.db.wrapper import BaseDatabaseWrapper
from orm.utils.text import short_repr

__all__ = [
    "AssertNumQueries",
    "CaptureOnCommitCallbacks",
    "orm_assert_num_queries",
    "orm_capture_on_commit_callbacks",
]


class AssertNumQueries:
    """Fails on exit unless exactly ``expected`` statements ran on ``using`` inside.

    Counts what :func:`orm.capture_queries` records: every statement any
    thread sends on that alias (so the ``a*`` calls of an async test count),
    including transaction control (``BEGIN``, ``COMMIT``, ``SAVEPOINT``...),
    as Django's ``assertNumQueries`` does. A block that raises is not
    checked: its own error is the one to see.
    """

    def __init__(self, expected: int, using: str = DEFAULT_DB_ALIAS) -> None:
        if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
            raise TypeError(
                f"orm_assert_num_queries() expects the number of queries as an int >= 0, "
                f"not {short_repr(expected)}."
            )
        self.expected = expected
        self.using = using
        #: The statements captured (a :class:`orm.db.capture.QueryCapture`).
        self.captured = QueryCapture(using)

    def __enter__(self) -> QueryCapture:
        return self.captured.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True  # pytest shows the failure at the test's `with` line
        self.captured.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.check()

    async def __aenter__(self) -> QueryCapture:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True
        self.__exit__(exc_type, exc, tb)

    def check(self) -> None:
        """Raise ``AssertionError`` listing the statements when their count is not ``expected``."""
        __tracebackhide__ = True
        count = len(self.captured)
        if count == self.expected:
            return
        listing = self.captured.numbered() or "(none)"
        raise AssertionError(
            f"{count} {'query' if count == 1 else 'queries'} executed on {self.using!r}, "
            f"{self.expected} expected. Captured queries were:\n{listing}"
        )


class CaptureOnCommitCallbacks:
    """Collects the ``on_commit`` callbacks registered inside the block (Django's
    ``TestCase.captureOnCommitCallbacks``); ``execute=True`` runs them on exit.

    The callbacks are read from the connection of the thread the block's
    database work runs on: ``with`` takes the calling thread's, ``async with``
    the thread the ``a*`` calls of the current context run on (asgiref's
    worker, or the enclosing ``connection_scope()``'s), where ``execute=True``
    also runs them, since a callback usually queries the database. The
    callbacks accumulate only while a transaction stays open (the ``orm_db``
    fixture's, or an ``atomic()`` around the block); outside one
    ``on_commit`` runs a callback at once and there is nothing to capture.
    Callbacks registered by executed callbacks are captured and run too.
    """

    def __init__(self, *, using: str = DEFAULT_DB_ALIAS, execute: bool = False) -> None:
        self.using = using
        self.execute = execute
        #: The captured callbacks, in registration order (the ``as`` target).
        self.callbacks: list[Callable[[], Any]] = []
        self._connection: BaseDatabaseWrapper | None = None
        self._start = 0

    def _begin(self) -> list[Callable[[], Any]]:
        self._connection = connections[self.using]
        self._start = len(self._connection.run_on_commit)
        self.callbacks = []
        return self.callbacks

    def _finish(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        start = self._start
        while True:
            # Read the list afresh each round: a commit replaces it, and an
            # executed callback may register more (captured, and run, next round).
            hooks = connection.run_on_commit
            count = len(hooks)
            for _sids, callback, robust in hooks[start:]:
                self.callbacks.append(callback)
                if self.execute:
                    connection.transaction_state.run_hook(callback, robust)
            if count == len(connection.run_on_commit):
                break
            start = count

    def __enter__(self) -> list[Callable[[], Any]]:
        return self._begin()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish()

    async def __aenter__(self) -> list[Callable[[], Any]]:
        # On the context's thread-sensitive worker: that thread's connection
        # holds the transaction the block's a* calls register callbacks in.
        return await sync_to_async(self._begin, thread_sensitive=True)()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # The same thread runs the callbacks: they may use the ORM, which the
        # event loop's thread refuses.
        await sync_to_async(self._finish, thread_sensitive=True)()


@pytest.fixture
def orm_assert_num_queries() -> Callable[..., AssertNumQueries]:
    """``with orm_assert_num_queries(2): ...`` (or ``async with``): fail unless exactly
    two statements ran on the database, from any thread; the failure lists them."""
    return AssertNumQueries


@pytest.fixture
def orm_capture_on_commit_callbacks() -> Callable[..., CaptureOnCommitCallbacks]:
    """``with orm_capture_on_commit_callbacks(execute=True) as callbacks: ...``: the
    ``on_commit`` callbacks registered inside, run on exit with ``execute=True``."""
    return CaptureOnCommitCallbacks
