"""The transaction state of one connection wrapper, and the operations that change it.

Every connection wrapper owns one :class:`TransactionState`
(``connection.transaction_state``). It records whether an atomic block is
open and how deep, its savepoints, whether the transaction failed (and why),
the ``on_commit`` hooks waiting for the commit, manual transaction management
(``set_autocommit(False)``) and which ``sync_to_async`` call owns the open
transaction. Its methods are the only code that changes that record: entering
and leaving an atomic block, marking it for rollback, registering and
running hooks, savepoints, manual commit and rollback, and forgetting
everything when the connection goes away.

The state sends SQL only through the few driver-level calls of
:class:`TransactionDriver` (BEGIN, COMMIT, ROLLBACK, SAVEPOINT commands,
closing), which the wrapper implements; ``orm.db.transaction`` (``atomic()``
and friends) is a thin shell over these operations.

The driver connection itself always runs in autocommit mode and `orm` issues
BEGIN: eagerly when an outermost atomic block starts, lazily (before the first
statement) in manual mode, so no transaction is open while ``get_autocommit()``
says True, and none is held between ``commit()`` and the next statement (on
SQLite that would hold the write lock).
"""

from __future__ import annotations

import enum
import itertools
import logging
import sys
from collections.abc import Callable
from typing import Any, Protocol

from orm.exceptions import DatabaseError, TransactionManagementError
from orm.utils.asyncio import call_boundary

__all__ = ["OnCommitHook", "TransactionDriver", "TransactionState", "TransactionStatus"]

logger = logging.getLogger("orm.db.transaction")

#: ``(savepoint ids open when registered, callable, robust)``, Django's shape:
#: a hook is dropped when any of those savepoints is rolled back.
OnCommitHook = tuple[set[str | None], Callable[[], Any], bool]

# Owner of a manual transaction started outside any sync_to_async call: its
# statements need the lazy BEGIN but no owner check.
_NO_CALL = object()
# Savepoint names are unique per process (one counter for every thread).
_savepoint_counter = itertools.count(1)


class TransactionStatus(enum.Enum):
    """Where a connection stands, as :attr:`TransactionState.status` reports it."""

    #: Autocommit: no transaction is open; each statement commits on its own.
    IDLE = "idle"
    #: Inside ``atomic()``: the block's transaction (or a savepoint of a manual one).
    ATOMIC = "atomic"
    #: ``set_autocommit(False)``, no transaction open yet: the next statement begins one.
    MANUAL = "manual"
    #: ``set_autocommit(False)`` with its transaction open, until ``commit()``/``rollback()``.
    MANUAL_OPEN = "manual_open"
    #: An error occurred in the open block or manual transaction: queries are
    #: refused until the block ends (rolling back) or ``rollback()``.
    FAILED = "failed"


class TransactionDriver(Protocol):
    """What the state needs from its connection wrapper: the driver-level calls.

    Each translates driver errors (they raise `orm` errors). Implemented by
    ``orm.db.wrapper.BaseDatabaseWrapper``.
    """

    @property
    def alias(self) -> str: ...
    @property
    def thread_ident(self) -> int: ...
    @property
    def connection(self) -> Any: ...
    def ensure_connection(self) -> None: ...
    def validate_thread_sharing(self) -> None: ...
    def close(self) -> None: ...
    def driver_begin(self) -> None: ...
    def driver_commit(self) -> None: ...
    def driver_rollback(self) -> None: ...
    def driver_savepoint(self, verb: str, sid: str) -> None: ...
    def driver_in_transaction(self) -> bool: ...


class TransactionState:
    """The transaction bookkeeping of one connection wrapper (one alias, one thread).

    Attributes (read them freely; change them only through the methods):

    - ``autocommit``: no transaction is open and manual mode is off.
    - ``in_atomic_block``: an atomic block is open.
    - ``atomic_blocks`` / ``savepoint_ids``: the open blocks, innermost last,
      and the savepoint of each nested one (``None`` for a block that made
      none; the block that began the transaction has no entry).
    - ``commit_on_exit``: the outermost block commits when it ends (False when
      it is part of a manual transaction).
    - ``needs_rollback`` / ``rollback_cause``: the transaction failed; the
      first error that made it so.
    - ``run_on_commit``: hooks waiting for the commit.
    - ``manual_mode`` / ``manual_transaction_open``: ``set_autocommit(False)``
      is on / its transaction has begun.
    - ``owner``: the frame of the ``sync_to_async`` call that owns the open
      transaction; ``None`` when statements need no check (autocommit mode,
      or a block opened outside any such call).
    - ``closed_in_transaction``: the connection went away inside a block.
    - ``close_at_transaction_end``: a connection-level error hit the block;
      the connection is closed when the outermost block ends.
    """

    # Slots: the cursor reads needs_rollback and owner before every statement.
    __slots__ = (
        "_db",
        "atomic_blocks",
        "autocommit",
        "close_at_transaction_end",
        "closed_in_transaction",
        "commit_on_exit",
        "in_atomic_block",
        "manual_mode",
        "manual_transaction_open",
        "needs_rollback",
        "owner",
        "rollback_cause",
        "run_on_commit",
        "savepoint_ids",
    )

    def __init__(self, driver: TransactionDriver) -> None:
        self._db = driver
        self.autocommit = True
        self.in_atomic_block = False
        self.savepoint_ids: list[str | None] = []
        self.atomic_blocks: list[object] = []
        self.commit_on_exit = True
        self.needs_rollback = False
        self.rollback_cause: BaseException | None = None
        self.run_on_commit: list[OnCommitHook] = []
        self.manual_mode = False
        self.manual_transaction_open = False
        self.owner: object = None
        self.closed_in_transaction = False
        self.close_at_transaction_end = False

    def __repr__(self) -> str:
        return f"<TransactionState {self.status.value} depth={len(self.atomic_blocks)}>"

    @property
    def status(self) -> TransactionStatus:
        """The connection's :class:`TransactionStatus`, derived from the attributes."""
        if self.needs_rollback and (self.in_atomic_block or self.manual_mode):
            return TransactionStatus.FAILED
        if self.in_atomic_block:
            return TransactionStatus.ATOMIC
        if self.manual_mode:
            return (
                TransactionStatus.MANUAL_OPEN
                if self.manual_transaction_open
                else TransactionStatus.MANUAL
            )
        return TransactionStatus.IDLE

    # -- guards ----------------------------------------------------------------
    def validate_no_atomic_block(self) -> None:
        """Refuse explicit commit/rollback/autocommit changes inside an atomic block."""
        if self.in_atomic_block:
            raise TransactionManagementError("This is forbidden when an 'atomic' block is active.")

    def validate_no_broken_transaction(self) -> None:
        """Refuse queries after an error inside the current atomic block or manual
        transaction (until the block ends / ``rollback()``)."""
        if not self.needs_rollback:
            return
        if self.in_atomic_block:
            raise TransactionManagementError(
                "An error occurred in the current transaction. You can't execute queries "
                "until the end of the 'atomic' block."
            ) from self.rollback_cause
        if self.manual_mode:
            raise TransactionManagementError(
                "An error occurred in the current manual transaction "
                "(transaction.set_autocommit(False)). You can't execute queries until you call "
                "transaction.rollback(); nothing since the last commit() can be committed."
            ) from self.rollback_cause

    def check_owner(self) -> None:
        """Refuse work from a ``sync_to_async`` call other than the one that owns the transaction.

        The owner is the call that opened the atomic block or turned
        autocommit off. Calls nested inside it (``async_to_sync`` →
        ``sync_to_async``) still have its frame on their stack and pass.
        """
        owner = self.owner
        if owner is None or owner is _NO_CALL:
            return
        frame: Any = sys._getframe(1)
        while frame is not None:
            if frame is owner:
                return
            frame = frame.f_back
        raise TransactionManagementError(self._foreign_call_message())

    def _foreign_call_message(self) -> str:
        alias = self._db.alias
        if self.manual_mode:
            return (
                f"The connection for alias {alias!r} is in a manual transaction "
                "(transaction.set_autocommit(False)) started by an earlier sync_to_async call "
                "which has already returned. Running this here would make it part of that "
                "unfinished transaction, which that code will commit or roll back. Do the whole "
                "manual transaction in one sync function (set_autocommit(False) ... commit() "
                "... set_autocommit(True)) and call it with `await orm.sync_to_async(fn)(...)`; "
                "work that must run meanwhile gets its own connection inside "
                "`async with orm.connection_scope():`."
            )
        return (
            f"The connection for alias {alias!r} is inside a transaction.atomic() block that "
            "was opened by an earlier sync_to_async call which has already returned. Running this "
            "query would make it part of that unfinished transaction (the 'async atomic' "
            "anti-pattern). Put the whole transaction in one sync function and call it with "
            "`await orm.sync_to_async(fn)(...)`."
        )

    def guard_statement(self) -> None:
        """Run by the cursor before a statement while ``owner`` is set.

        Refuses a statement from another call (:meth:`check_owner`) and, in
        manual mode, begins the transaction if none is open.
        """
        self.check_owner()
        if self.manual_mode:
            self.begin_manual()

    # -- the rollback mark -----------------------------------------------------
    def mark_rollback(self, cause: BaseException | None = None) -> None:
        """Mark the open transaction (or innermost block) to roll back.

        The first cause is kept: later refusals must point at the original
        error, not at a refusal it caused.
        """
        if cause is not None and (not self.needs_rollback or self.rollback_cause is None):
            self.rollback_cause = cause
        self.needs_rollback = True

    def clear_rollback(self) -> None:
        """Forget the rollback mark and its cause (``set_rollback(False)``)."""
        self.needs_rollback = False
        self.rollback_cause = None

    # -- on_commit hooks -------------------------------------------------------
    def on_commit(self, func: Callable[[], Any], robust: bool = False) -> None:
        """Run ``func`` after the outermost atomic block commits (now if none is open)."""
        if not callable(func):
            raise TypeError("on_commit()'s callback must be a callable.")
        if self.in_atomic_block:
            self.run_on_commit.append((set(self.savepoint_ids), func, robust))
        elif not self.autocommit:
            raise TransactionManagementError(
                "on_commit() cannot be used in manual transaction management"
            )
        else:
            self.run_hook(func, robust)

    def run_commit_hooks(self) -> None:
        """Run the pending on_commit hooks in order (after a commit), then forget them."""
        self.validate_no_atomic_block()
        hooks, self.run_on_commit = self.run_on_commit, []
        for _sids, func, robust in hooks:
            self.run_hook(func, robust)

    @staticmethod
    def run_hook(func: Callable[[], Any], robust: bool) -> None:
        """Call one hook; with ``robust`` an exception is logged instead of raised."""
        if not robust:
            func()
            return
        try:
            func()
        except Exception:
            logger.exception("Error calling %r in on_commit() (robust=True); continuing.", func)

    # -- savepoints ------------------------------------------------------------
    def new_savepoint_id(self) -> str:
        """A savepoint name unique in this process."""
        return f"s{self._db.thread_ident % 100000}_x{next(_savepoint_counter)}"

    def savepoint_create(self, sid: str) -> None:
        """SAVEPOINT sid."""
        self._db.driver_savepoint("SAVEPOINT", sid)

    def savepoint_rollback(self, sid: str) -> None:
        """ROLLBACK TO SAVEPOINT sid, dropping on_commit hooks registered after it."""
        self._db.driver_savepoint("ROLLBACK TO SAVEPOINT", sid)
        self.run_on_commit = [hook for hook in self.run_on_commit if sid not in hook[0]]

    def savepoint_release(self, sid: str) -> None:
        """RELEASE SAVEPOINT sid."""
        self._db.driver_savepoint("RELEASE SAVEPOINT", sid)

    # -- atomic blocks ---------------------------------------------------------
    def enter_atomic(self, block: object, savepoint: bool, durable: bool) -> None:
        """Open ``block``: BEGIN when outermost, else a SAVEPOINT (unless ``savepoint`` is False).

        The ``sync_to_async`` call the caller runs in becomes the owner of a
        transaction the block begins.
        """
        if durable and (self.atomic_blocks or self.manual_mode):
            raise RuntimeError(
                "A durable atomic block cannot be nested within another atomic block."
                if self.atomic_blocks
                else "A durable atomic block cannot be used in manual transaction management "
                "(set_autocommit(False)): it would not commit when it ends. Call "
                "transaction.set_autocommit(True) first."
            )
        if not self.in_atomic_block:
            if self.manual_mode:
                # Manual transaction management is on: the block is part of
                # the manual transaction (a savepoint) and must not commit on
                # exit. Only the call that owns that transaction may enter,
                # and its BEGIN must come before the SAVEPOINT. A failed
                # manual transaction stays failed (needs_rollback is kept).
                self.check_owner()
                if not self.needs_rollback:
                    self.begin_manual()
                self.commit_on_exit = False
                self.in_atomic_block = True
            else:
                self.commit_on_exit = True
                self.needs_rollback, self.rollback_cause = False, None
        if self.in_atomic_block:
            # A block nested from a sync_to_async call other than the one that
            # opened the transaction (the "async atomic" recipe) is refused
            # before its SAVEPOINT is sent, as its queries would be.
            self.check_owner()
            if savepoint and not self.needs_rollback:
                sid = self.new_savepoint_id()
                self.savepoint_create(sid)
                self.savepoint_ids.append(sid)
            else:
                self.savepoint_ids.append(None)
        else:
            db = self._db
            db.validate_thread_sharing()
            db.ensure_connection()
            db.driver_begin()
            self.autocommit = False
            self.in_atomic_block = True
            # Remember which thread-sensitive call opened the block (see
            # call_boundary; any frame of this stack leads to it); queries
            # from any other call are refused.
            self.owner = call_boundary(sys._getframe(1))
        self.atomic_blocks.append(block)

    def exit_atomic(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None
    ) -> None:
        """Close the innermost block: commit or roll back (its savepoint, or the transaction).

        On success the outermost block commits and then runs the on_commit
        hooks; with an exception (or a rollback mark) the block is rolled
        back to its start. The caller re-raises its own exception.
        """
        if self.in_atomic_block:
            self.atomic_blocks.pop()
        sid = self.savepoint_ids.pop() if self.savepoint_ids else None
        last = not self.savepoint_ids and not self.atomic_blocks
        # The last block of a manual transaction ends nothing: the manual
        # transaction goes on, to be ended by commit() or rollback().
        outermost = last and self.commit_on_exit
        if last:
            self.in_atomic_block = False
        try:
            if self.closed_in_transaction:
                # The connection went away inside the block (killed, closed):
                # there is nothing to commit or roll back.
                if last:
                    self.closed_in_transaction = False
                    self.reset()
                    if exc_type is None:
                        raise DatabaseError(
                            "The connection was lost inside an atomic block; nothing in the "
                            "block was committed."
                        )
                return
            if exc_type is None and not self.needs_rollback:
                self._exit_success(sid, outermost)
            else:
                self._exit_failure(sid, outermost)
                if last and not outermost and self.needs_rollback and self.rollback_cause is None:
                    self.rollback_cause = exc_value  # why the manual transaction failed
        finally:
            if outermost:
                self.owner = None
                if self._db.connection is not None and not self.autocommit:
                    self.autocommit = True
                if self.close_at_transaction_end:
                    self._db.close()  # CLOSED: a connection-level error hit the block

    def _exit_success(self, sid: str | None, outermost: bool) -> None:
        if not outermost:
            if sid is not None:
                try:
                    self.savepoint_release(sid)
                except DatabaseError:
                    # Release failed: roll back to it and mark the outer block broken.
                    try:
                        self.savepoint_rollback(sid)
                    except DatabaseError:
                        self.mark_rollback()
                    raise
            return
        db = self._db
        try:
            db.driver_commit()
        except DatabaseError:
            try:
                db.driver_rollback()
            except DatabaseError:
                db.close()
            self.run_on_commit = []
            self.autocommit = True
            raise
        self.autocommit = True
        self.needs_rollback, self.rollback_cause = False, None
        self.run_commit_hooks()

    def _exit_failure(self, sid: str | None, outermost: bool) -> None:
        if not outermost:
            if sid is None:
                self.mark_rollback()  # merged block: the outer one rolls back
                return
            try:
                self.savepoint_rollback(sid)
                self.savepoint_release(sid)
                self.clear_rollback()
            except DatabaseError:
                self.mark_rollback()
            return
        try:
            self._db.driver_rollback()
        except DatabaseError:
            self._db.close()  # a connection we cannot roll back is not reused
        self.run_on_commit = []
        self.autocommit = True
        self.clear_rollback()

    # -- manual transaction management ----------------------------------------
    def set_autocommit(self, autocommit: bool) -> None:
        """``False``: manual mode, owned by the caller's ``sync_to_async`` call;
        ``True``: leave it (:meth:`leave_manual_mode`). Refused inside a block."""
        self.validate_no_atomic_block()
        if not autocommit:
            if self.manual_mode:
                self.check_owner()  # already on: fine for the same call only
                return
            self.manual_mode = True
            self.autocommit = False
            # Remember which thread-sensitive call switched it off: the
            # transaction is that call's, as an atomic block is.
            self.owner = call_boundary(sys._getframe(1)) or _NO_CALL
        elif self.manual_mode:
            self.leave_manual_mode()

    def begin_manual(self) -> None:
        """BEGIN the manual transaction unless one is open (lazily: before its first
        statement or savepoint, so none is held between commit() and the next one)."""
        db = self._db
        db.ensure_connection()
        if db.driver_in_transaction():
            return
        db.driver_begin()
        self.manual_transaction_open = True

    def leave_manual_mode(self) -> None:
        """``set_autocommit(True)``: commit what is pending, then autocommit again.

        A transaction that failed cannot be committed: it is rolled back and
        ``TransactionManagementError`` says so. Either way the connection is
        back in autocommit mode with no transaction open, so cleanup in a
        ``finally`` never leaves a transaction (or SQLite's write lock) behind.
        """
        db = self._db
        broken, cause = self.needs_rollback, self.rollback_cause
        hooks, self.run_on_commit = self.run_on_commit, []
        try:
            if broken:
                try:
                    self._rollback_or_close()
                except DatabaseError:
                    pass  # closed instead, which discards the transaction too
            elif db.connection is not None and db.driver_in_transaction():
                try:
                    db.driver_commit()
                except DatabaseError:
                    self._rollback_or_close()
                    raise
        finally:
            self.manual_mode = self.manual_transaction_open = False
            self.clear_rollback()
            self.owner = None
            self.autocommit = True
        if broken:
            raise TransactionManagementError(
                "set_autocommit(True) could not commit the manual transaction: an error occurred "
                "in it (see the cause). It was rolled back, so nothing since the last commit() "
                "was saved; the connection is in autocommit mode again."
            ) from cause
        # Hooks registered by atomic blocks inside the transaction just committed.
        self.run_on_commit = hooks
        self.run_commit_hooks()

    def commit(self) -> None:
        """Commit the open transaction (outside a block) and run its on_commit hooks.

        A manual transaction in which an error occurred cannot be committed:
        it is rolled back and ``TransactionManagementError`` says so.
        """
        self.validate_no_atomic_block()
        if self.manual_mode and self.needs_rollback:
            cause = self.rollback_cause
            try:
                self.rollback()
            except DatabaseError:
                pass  # the connection was closed instead, which discards the transaction too
            raise TransactionManagementError(
                "The manual transaction cannot be committed: an error occurred in it (see the "
                "cause). It was rolled back, so nothing since the last commit() was saved. "
                "Run the work again, or wrap a statement that may fail in "
                "transaction.atomic() so only its savepoint is rolled back."
            ) from cause
        self._db.driver_commit()
        self.manual_transaction_open = False
        self.run_commit_hooks()

    def rollback(self) -> None:
        """Roll back the open transaction (outside a block) and drop its on_commit hooks."""
        self.validate_no_atomic_block()
        try:
            self._rollback_or_close()
        finally:
            self.manual_transaction_open = False
            self.clear_rollback()
            self.run_on_commit = []

    def _rollback_or_close(self) -> None:
        try:
            self._db.driver_rollback()
        except DatabaseError:
            # A connection that cannot roll back is not reused; closing it
            # discards the transaction on the server side as well.
            self.close_keeping_manual_mode()
            raise

    def close_keeping_manual_mode(self) -> None:
        """Drop a failed connection without silently leaving manual mode.

        Later statements would otherwise autocommit one by one while the user
        still believes rollback() can undo them. A transaction that was open
        is lost with the connection, so it is marked to be rolled back.
        """
        manual, owner = self.manual_mode, self.owner
        lost, cause = self.manual_transaction_open, self.rollback_cause
        self._db.close()
        if manual:
            self.manual_mode, self.autocommit, self.owner = True, False, owner
            if lost:
                self.mark_rollback(cause)

    # -- the connection went away ----------------------------------------------
    def connection_closed(self) -> None:
        """The wrapper closed its driver connection: forget the transaction it held.

        Inside an atomic block the blocks stay open (their ``__exit__`` is
        still to come) but are marked closed and for rollback, so the
        outermost one neither commits nor rolls back on a connection that is
        gone, and says the work was lost.
        """
        if self.in_atomic_block:
            self.closed_in_transaction = True
            self.needs_rollback = True
        self.reset(keep_atomic=self.in_atomic_block)

    def reset(self, keep_atomic: bool = False) -> None:
        """Back to autocommit with no transaction, hooks or manual mode.

        With ``keep_atomic`` the open blocks, their savepoints, the rollback
        mark and the owner are kept for the blocks' exits.
        """
        if not keep_atomic:
            self.in_atomic_block = False
            self.atomic_blocks = []
            self.savepoint_ids = []
            self.clear_rollback()
            self.owner = None
        # The connection is gone, and its transaction with it: the next user
        # of this wrapper starts in autocommit mode, as on a new connection.
        self.autocommit = True
        self.manual_mode = False
        self.manual_transaction_open = False
        self.run_on_commit = []
