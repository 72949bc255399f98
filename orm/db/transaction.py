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
import itertools
import os
import sys
import threading
from collections.abc import Callable
from contextlib import ContextDecorator
from typing import Any, TypeVar

from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.exceptions import DatabaseError, SynchronousOnlyOperation, TransactionManagementError
from orm.utils.asyncio import ALLOW_ENV, call_boundary, in_event_loop_thread

__all__ = [
    "Atomic",
    "atomic",
    "commit",
    "get_autocommit",
    "get_connection",
    "get_rollback",
    "mark_for_rollback_on_error",
    "on_commit",
    "rollback",
    "savepoint",
    "savepoint_commit",
    "savepoint_rollback",
    "set_autocommit",
    "set_rollback",
]

F = TypeVar("F", bound=Callable[..., Any])
_savepoint_counter = itertools.count(1)


def get_connection(using: str | None = None) -> Any:
    """The calling thread's wrapper for ``using`` (default alias when ``None``)."""
    return connections[using or DEFAULT_DB_ALIAS]


def get_autocommit(using: str | None = None) -> bool:
    """True when the connection is in autocommit mode (no block is open)."""
    return bool(get_connection(using).get_autocommit())


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


def get_rollback(using: str | None = None) -> bool:
    """True when the innermost atomic block is marked to roll back."""
    conn = get_connection(using)
    if not conn.in_atomic_block:
        raise TransactionManagementError("The rollback flag doesn't work outside of an 'atomic' block.")
    return bool(conn.needs_rollback)


def set_rollback(rollback: bool, using: str | None = None) -> None:
    """Mark the innermost atomic block to roll back (or not) when it exits."""
    conn = get_connection(using)
    if not conn.in_atomic_block:
        raise TransactionManagementError("The rollback flag doesn't work outside of an 'atomic' block.")
    if rollback:
        conn.needs_rollback = True
    else:
        conn.needs_rollback = False
        conn.rollback_cause = None


def on_commit(func: Callable[[], Any], using: str | None = None, robust: bool = False) -> None:
    """Run ``func`` once the outermost atomic block commits; never after a rollback.

    Outside any block, ``func`` runs at once. With ``robust=True`` an
    exception from ``func`` is logged and the following hooks still run.
    """
    get_connection(using).on_commit(func, robust)


def savepoint(using: str | None = None) -> str | None:
    """Create a savepoint inside an atomic block and return its id."""
    conn = get_connection(using)
    if not conn.in_atomic_block:
        raise TransactionManagementError("savepoint() needs an active 'atomic' block.")
    sid = f"s{threading.get_ident() % 100000}_x{next(_savepoint_counter)}"
    conn.savepoint_create(sid)
    return sid


def savepoint_rollback(sid: str, using: str | None = None) -> None:
    """Roll back to a savepoint made by :func:`savepoint`."""
    get_connection(using).savepoint_rollback_to(sid)


def savepoint_commit(sid: str, using: str | None = None) -> None:
    """Release a savepoint made by :func:`savepoint`."""
    get_connection(using).savepoint_release(sid)


class mark_for_rollback_on_error:  # noqa: N801 - context-manager naming as in Django
    """Inside atomic: mark the block for rollback if the body raises (internal helper)."""

    def __init__(self, using: str | None = None) -> None:
        self.using = using

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is not None:
            conn = get_connection(self.using)
            if conn.in_atomic_block:
                # Keep the first cause: later refusals must point at the
                # original error, not at the previous refusal.
                if not conn.needs_rollback or conn.rollback_cause is None:
                    conn.rollback_cause = exc
                conn.needs_rollback = True


class Atomic(ContextDecorator):
    """An atomic block: a transaction when outermost, a savepoint when nested.

    On normal exit the outermost block commits and then runs the on_commit
    hooks; an exception rolls the block back to its start (the savepoint for
    a nested block) and propagates unchanged.
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
        conn = get_connection(self.using)
        if self.durable and (conn.atomic_blocks or conn.manual_mode):
            raise RuntimeError(
                "A durable atomic block cannot be nested within another atomic block."
                if conn.atomic_blocks
                else "A durable atomic block cannot be used in manual transaction management "
                "(set_autocommit(False)): it would not commit when it ends. Call "
                "transaction.set_autocommit(True) first."
            )
        if not conn.in_atomic_block:
            if conn.manual_mode:
                # Manual transaction management is on: the block is part of
                # the manual transaction (a savepoint) and must not commit on
                # exit. Only the call that owns that transaction may enter,
                # and its BEGIN must come before the SAVEPOINT. A failed
                # manual transaction stays failed (needs_rollback is kept).
                conn.check_transaction_owner()
                if not conn.needs_rollback:
                    conn.begin_manual_transaction()
                conn.commit_on_exit = False
                conn.in_atomic_block = True
            else:
                conn.commit_on_exit = True
                conn.needs_rollback = False
                conn.rollback_cause = None
        if conn.in_atomic_block:
            if self.savepoint and not conn.needs_rollback:
                sid = f"s{conn.thread_ident % 100000}_x{next(_savepoint_counter)}"
                conn.savepoint_create(sid)
                conn.savepoint_ids.append(sid)
            else:
                conn.savepoint_ids.append(None)
        else:
            conn._begin_transaction()
            conn.in_atomic_block = True
            # Remember which thread-sensitive call opened the block (see
            # call_boundary); queries from any other call are refused.
            conn.transaction_owner = call_boundary(sys._getframe(1))
        conn.atomic_blocks.append(self)

    def __exit__(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        conn = get_connection(self.using)
        if conn.in_atomic_block:
            conn.atomic_blocks.pop()
        sid = conn.savepoint_ids.pop() if conn.savepoint_ids else None
        last = not conn.savepoint_ids and not conn.atomic_blocks
        # The last block of a manual transaction ends nothing: the manual
        # transaction goes on, to be ended by commit() or rollback().
        outermost = last and conn.commit_on_exit
        if last:
            conn.in_atomic_block = False
        try:
            if conn.closed_in_transaction:
                # The connection went away inside the block (killed, closed):
                # there is nothing to commit or roll back.
                if last:
                    conn.closed_in_transaction = False
                    conn._reset_transaction_state()
                    if exc_type is None:
                        raise DatabaseError(
                            "The connection was lost inside an atomic block; nothing in the "
                            "block was committed."
                        )
                return
            if exc_type is None and not conn.needs_rollback:
                self._exit_success(conn, sid, outermost)
            else:
                self._exit_failure(conn, sid, outermost)
                if last and not outermost and conn.needs_rollback and conn.rollback_cause is None:
                    conn.rollback_cause = exc_value  # why the manual transaction failed
        finally:
            if outermost:
                conn.transaction_owner = None
                if conn.connection is not None and not conn.get_autocommit():
                    conn.autocommit = True
                if conn.close_at_transaction_end:
                    conn.close()  # CLOSED: a connection-level error hit the block

    @staticmethod
    def _exit_success(conn: Any, sid: str | None, outermost: bool) -> None:
        if not outermost:
            if sid is not None:
                try:
                    conn.savepoint_release(sid)
                except DatabaseError:
                    # Release failed: roll back to it and mark the outer block broken.
                    try:
                        conn.savepoint_rollback_to(sid)
                    except DatabaseError:
                        conn.needs_rollback = True
                    raise
            return
        try:
            conn._commit()
        except DatabaseError:
            try:
                conn._rollback()
            except DatabaseError:
                conn.close()
            conn.run_on_commit = []
            conn.autocommit = True
            raise
        conn.autocommit = True
        conn.needs_rollback = False
        conn.rollback_cause = None
        conn.run_and_clear_commit_hooks()

    @staticmethod
    def _exit_failure(conn: Any, sid: str | None, outermost: bool) -> None:
        if not outermost:
            if sid is None:
                conn.needs_rollback = True  # merged block: the outer one rolls back
                return
            try:
                conn.savepoint_rollback_to(sid)
                conn.savepoint_release(sid)
                conn.needs_rollback = False
                conn.rollback_cause = None
            except DatabaseError:
                conn.needs_rollback = True
            return
        try:
            conn._rollback()
        except DatabaseError:
            conn.close()  # a connection we cannot roll back is not reused
        conn.run_on_commit = []
        conn.autocommit = True
        conn.needs_rollback = False
        conn.rollback_cause = None


def atomic(
    using: str | Callable[..., Any] | None = None, savepoint: bool = True, durable: bool = False
) -> Any:
    """Open an atomic block: ``with atomic():`` or ``@atomic`` / ``@atomic(using=...)``."""
    if callable(using):
        return Atomic(DEFAULT_DB_ALIAS, savepoint, durable)(using)
    return Atomic(using, savepoint, durable)
