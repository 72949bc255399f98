"""``transaction.atomic`` and friends: transactions are synchronous blocks.

An atomic block runs on one thread with that thread's connection; async code
wraps the *whole* transactional function with ``orm.sync_to_async``. The
block refuses the event loop's thread (it would block every task) and
refuses to decorate ``async def`` (the awaits inside would hop threads and the
block would not be one transaction).

Manual transaction management (``set_autocommit(False)``, ``commit()``,
``rollback()``, ``set_autocommit(True)``) follows the same rule: the
transaction belongs to the sync function (the ``sync_to_async`` call) that
switched autocommit off, and another call's statements are refused.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from contextlib import ContextDecorator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.db.transaction_state import TransactionStatus
from orm.exceptions import SynchronousOnlyOperation, TransactionManagementError
from orm.utils.asyncio import ALLOW_ENV, in_event_loop_thread

if TYPE_CHECKING:
    from orm.db.transaction_state import TransactionState
    from orm.db.wrapper import BaseDatabaseWrapper

__all__ = [
    "Atomic",
    "TransactionStatus",
    "atomic",
    "commit",
    "get_autocommit",
    "get_connection",
    "get_rollback",
    "mark_for_rollback_on_error",
    "mark_rollback_after",
    "on_commit",
    "rollback",
    "savepoint",
    "savepoint_commit",
    "savepoint_rollback",
    "set_autocommit",
    "set_rollback",
]

F = TypeVar("F", bound=Callable[..., Any])


def get_connection(using: str | None = None) -> BaseDatabaseWrapper:
    """The calling thread's wrapper for ``using`` (default alias when ``None``)."""
    return connections[using or DEFAULT_DB_ALIAS]


def _state(using: str | None) -> TransactionState:
    return connections[using or DEFAULT_DB_ALIAS].transaction_state


def get_autocommit(using: str | None = None) -> bool:
    """True when the connection is in autocommit mode (no block is open)."""
    return get_connection(using).get_autocommit()


def set_autocommit(autocommit: bool, using: str | None = None) -> None:
    """Turn manual transaction management on (``False``) or off (``True``); prefer ``atomic``.

    With ``False`` the next statement begins a transaction that lasts until
    :func:`commit` or :func:`rollback`. ``True`` commits the open
    transaction and returns to autocommit. Both are refused inside an
    atomic block (``TransactionManagementError``).
    """
    get_connection(using).set_autocommit(autocommit)


def commit(using: str | None = None) -> None:
    """Commit the open transaction (manual mode); refused inside an atomic block."""
    get_connection(using).commit()


def rollback(using: str | None = None) -> None:
    """Roll back the open transaction (manual mode); refused inside an atomic block."""
    get_connection(using).rollback()


def _atomic_state(using: str | None) -> TransactionState:
    state = _state(using)
    if not state.in_atomic_block:
        raise TransactionManagementError(
            "The rollback flag doesn't work outside of an 'atomic' block."
        )
    return state


def get_rollback(using: str | None = None) -> bool:
    """True when the innermost atomic block is marked to roll back."""
    return _atomic_state(using).needs_rollback


def set_rollback(rollback: bool, using: str | None = None) -> None:
    """Mark the innermost atomic block to roll back (or not) when it exits."""
    state = _atomic_state(using)
    if rollback:
        state.mark_rollback()
    else:
        state.clear_rollback()


def on_commit(func: Callable[[], Any], using: str | None = None, robust: bool = False) -> None:
    """Run ``func`` once the outermost atomic block commits; never after a rollback.

    Outside any block, ``func`` runs at once. With ``robust=True`` an
    exception from ``func`` is logged and the following hooks still run.
    """
    get_connection(using).on_commit(func, robust)


def savepoint(using: str | None = None) -> str:
    """Create a savepoint inside an atomic block and return its id."""
    state = _state(using)
    if not state.in_atomic_block:
        raise TransactionManagementError("savepoint() needs an active 'atomic' block.")
    sid = state.new_savepoint_id()
    state.savepoint_create(sid)
    return sid


def savepoint_rollback(sid: str, using: str | None = None) -> None:
    """Roll back to a savepoint made by :func:`savepoint`."""
    _state(using).savepoint_rollback(sid)


def savepoint_commit(sid: str, using: str | None = None) -> None:
    """Release a savepoint made by :func:`savepoint`."""
    _state(using).savepoint_release(sid)


class mark_for_rollback_on_error:  # noqa: N801 - context-manager naming as in Django
    """Inside atomic: mark the block for rollback if the body raises (internal helper)."""

    def __init__(self, using: str | None = None) -> None:
        self.using = using

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            mark_rollback_after(exc, self.using)


def mark_rollback_after(exc: BaseException, using: str | None = None) -> None:
    """What :class:`mark_for_rollback_on_error` does when its body raised ``exc``.

    For ``save()``, which catches the error itself: a ``try`` costs nothing
    until something raises, the context manager three calls every time.
    """
    state = _state(using)
    if state.in_atomic_block and not _wraps_test(state):
        state.mark_rollback(exc)


def _wraps_test(state: TransactionState) -> bool:
    """Whether the innermost open block is the one a test (``orm_db``) runs in.

    That block stands for autocommit mode: what the test does outside its own
    atomic blocks must behave as it would without the wrapping transaction,
    so an error there does not doom it, and an atomic block opened directly
    inside it is always a savepoint (its failure undoes only itself).
    """
    return bool(state.atomic_blocks) and getattr(state.atomic_blocks[-1], "wraps_test", False)


class Atomic(ContextDecorator):
    """An atomic block: a transaction when outermost, a savepoint when nested.

    On normal exit the outermost block commits and then runs the on_commit
    hooks; an exception rolls the block back to its start (the savepoint for
    a nested block) and propagates unchanged. The work is the connection's
    ``TransactionState.enter_atomic`` / ``exit_atomic``; this class adds the
    checks that belong to the caller (the event loop's thread, ``async def``).
    """

    def __init__(self, using: str | None, savepoint: bool, durable: bool) -> None:
        self.using = using
        self.savepoint = savepoint
        self.durable = durable

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"atomic() cannot decorate the coroutine function {func.__qualname__!r}: the "
                "awaits inside would leave the transaction's thread, so the block would not "
                "be one transaction. Put the transactional code in a sync function, decorate "
                "that, and call it with `await orm.sync_to_async(fn)(...)`."
            )

        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            with self._recreate_cm():
                return func(*args, **kwargs)

        return inner  # type: ignore[return-value]

    def __enter__(self) -> None:
        if in_event_loop_thread() and not os.environ.get(ALLOW_ENV):
            raise SynchronousOnlyOperation(
                "transaction.atomic() cannot be entered on a thread that runs an event loop: "
                "the whole block would block every other task, and awaits inside it would "
                "run on other threads outside the transaction. Write the transaction as a "
                "sync function and call it with `await orm.sync_to_async(fn)(...)`."
            )
        wrapper = connections[self.using or DEFAULT_DB_ALIAS]
        # A connection a test shares between threads (orm_db) is held by one
        # thread for the whole block: another thread's statements must not
        # land inside this block's savepoint.
        shared = wrapper.pin_lock is not None and wrapper.acquire_shared()
        try:
            state = wrapper.transaction_state
            # As in Django's TestCase: the test's own wrapping block does not
            # make a durable block inside the test a nested one.
            in_test_block = _wraps_test(state)
            durable = self.durable and not in_test_block
            state.enter_atomic(self, self.savepoint or in_test_block, durable)
        except BaseException:
            if shared:
                wrapper.release_shared()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        wrapper = connections[self.using or DEFAULT_DB_ALIAS]
        try:
            wrapper.transaction_state.exit_atomic(exc_type, exc_value)
        finally:
            if wrapper.pin_lock is not None:
                wrapper.release_shared()


# Typed as its two uses: ``@atomic`` returns the function with its own
# signature; ``atomic(...)`` is the block (a context manager and decorator).
@overload
def atomic(using: F, savepoint: bool = True, durable: bool = False) -> F: ...
@overload
def atomic(using: str | None = None, savepoint: bool = True, durable: bool = False) -> Atomic: ...
def atomic(
    using: str | Callable[..., Any] | None = None, savepoint: bool = True, durable: bool = False
) -> Any:
    """Open an atomic block: ``with atomic():`` or ``@atomic`` / ``@atomic(using=...)``."""
    if callable(using):
        return Atomic(DEFAULT_DB_ALIAS, savepoint, durable)(using)
    return Atomic(using, savepoint, durable)
