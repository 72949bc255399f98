"""Test isolation: one rolled-back transaction that every thread shares, or emptied tables.

:class:`TestTransaction` is what the ``orm_db`` fixture does around a test:
for each alias it opens an atomic block on the calling (main) thread, then
*pins* that thread's connection wrapper (``connections.pin()``), so that
every thread the test reaches gets the same wrapper, hence the same
transaction: asgiref's thread-sensitive worker that runs the ``a*`` twins,
``sync_to_async`` functions, ``connection_scope()`` threads and requests
served through ``ConnectionScopeMiddleware``. Atomic blocks inside the test
nest in the wrapping block, so they become savepoints and their
``on_commit`` callbacks never run (as in Django's ``TestCase``).

:func:`flush_tables` is what ``orm_transactional_db`` does after a test:
no wrapping transaction, the tables of the test models emptied.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import SyncToAsync

from orm.db.connections import connections
from orm.db.transaction import Atomic

__all__ = [
    "IsolationError",
    "TestTransaction",
    "flush_statements",
    "flush_tables",
    "model_tables",
    "wait_for_sync_threads",
]

#: One statement: SQL with ``%s`` placeholders and its parameters.
Statement = tuple[str, list[Any]]

#: Seconds teardown waits for work still running on the sync threads.
SYNC_THREAD_WAIT = 30.0


class IsolationError(AssertionError):
    """The test broke its own isolation (closed the shared connection, left a block open...).

    An ``AssertionError`` so pytest reports it as a failure of the test's
    teardown, with this message.
    """


class _TestAtomic(Atomic):
    """The block wrapping a test: a durable block inside the test may nest in it."""

    wraps_test = True


class _StatementSavepoint:
    """An execute wrapper: on PostgreSQL, each statement the test runs outside its own
    atomic blocks gets a savepoint of its own.

    In autocommit mode a failing statement is simply gone; inside the test's
    wrapping transaction PostgreSQL would refuse every later statement
    ("current transaction is aborted"). Rolling back to the statement's
    savepoint keeps the test's view the same as without the wrapping block.
    The savepoint statements go to the driver directly: they are not the
    test's, so query counts and captures do not see them.
    """

    NAME = "orm_test_statement"

    def __init__(self, wrapper: Any, block: _TestAtomic) -> None:
        self.wrapper = wrapper
        self.block = block

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        state = self.wrapper.transaction_state
        if state.atomic_blocks[-1:] != [self.block]:
            return execute(sql, params, many, context)  # a block of the test's: its own rules
        driver = self.wrapper.connection
        driver.execute(f"SAVEPOINT {self.NAME}")
        try:
            result = execute(sql, params, many, context)
        except BaseException:
            try:
                driver.execute(f"ROLLBACK TO SAVEPOINT {self.NAME}")
            except Exception:  # noqa: S110 - the connection is gone: the first error says why
                pass
            raise
        driver.execute(f"RELEASE SAVEPOINT {self.NAME}")
        return result


def wait_for_sync_threads(timeout: float = SYNC_THREAD_WAIT) -> None:
    """Wait until asgiref's sync threads have finished the work already given to them.

    A cancelled ``a*`` call does not stop its sync function, which may still
    be running on asgiref's shared thread (or a scope's thread) when the test
    ends; the teardown must not roll back and unpin under it, or its next
    statement would run outside the test's transaction and commit. A no-op
    submitted to each single-thread executor runs after everything queued
    before it, so its completion means that work is done.
    """
    executors: list[Any] = [SyncToAsync.single_thread_executor]
    executors.extend(list(SyncToAsync.context_to_thread_executor.values()))
    futures = []
    for executor in executors:
        try:
            futures.append(executor.submit(lambda: None))
        except RuntimeError:
            continue  # shut down: its threads end once their work is done
    concurrent.futures.wait(futures, timeout=timeout)


class TestTransaction:
    """Around one test: wrap each alias in a transaction shared by every thread, then roll back.

    ``start()`` on the thread that will roll back (the main thread);
    ``finish()`` on that thread again, after the test and its fixtures.
    """

    __test__ = False  # not a test class, whatever pytest's python_classes say

    def __init__(self, aliases: Iterable[str]) -> None:
        self.aliases = list(aliases)
        self._blocks: dict[str, _TestAtomic] = {}

    def start(self) -> None:
        """Open the wrapping block on each alias and pin its wrapper for every thread."""
        try:
            for alias in self.aliases:
                # Opened before pinning: the wrapping block must not hold the
                # shared lock (it lasts the whole test), only the test's own
                # blocks and statements do.
                block = _TestAtomic(alias, savepoint=True, durable=False)
                block.__enter__()
                self._blocks[alias] = block
                wrapper = connections.pin(alias)
                if wrapper.vendor == "postgresql":
                    # First, so it wraps the test's own execute wrappers too.
                    wrapper.execute_wrappers.insert(0, _StatementSavepoint(wrapper, block))
        except BaseException:
            self.finish()
            raise

    def finish(self) -> None:
        """Roll every alias back and unpin it; raise :class:`IsolationError` if the test broke it."""
        wait_for_sync_threads()
        problems: list[str] = []
        for alias in reversed(list(self._blocks)):
            problem = self._finish_alias(alias, self._blocks.pop(alias))
            if problem:
                problems.append(problem)
        if problems:
            raise IsolationError("\n".join(problems))

    @staticmethod
    def _finish_alias(alias: str, block: _TestAtomic) -> str | None:
        wrapper = connections.pinned.get(alias)
        if wrapper is None:  # start() failed before pinning this alias
            wrapper = connections[alias]
        wrapper.execute_wrappers[:] = [
            w for w in wrapper.execute_wrappers if not isinstance(w, _StatementSavepoint)
        ]
        # Taking the shared lock waits for a statement or block still running
        # on another thread; unpinning under it makes later ones use their
        # thread's own connection instead of this transaction.
        lock = wrapper.pin_lock
        held = wrapper.acquire_shared()
        try:
            connections.unpin(alias)
        finally:
            if held and lock is not None:
                lock.release()
        state = wrapper.transaction_state
        problem = None
        if state.atomic_blocks[:1] != [block] or len(state.atomic_blocks) != 1:
            problem = (
                f"orm_db: the test left {len(state.atomic_blocks) - 1} atomic block(s) "
                f"open on alias {alias!r}."
            )
        elif wrapper.connection is None:
            problem = (
                f"orm_db: the test closed the connection for alias {alias!r}, which held "
                "the test's transaction: its writes were lost with it, and later tests "
                "are not affected. Don't close connections under orm_db."
            )
        state.mark_rollback()
        try:
            while len(state.atomic_blocks) > 1:  # leave them as the blocks would
                state.exit_atomic(None, None)
            block.__exit__(None, None, None)
        except Exception as exc:
            problem = problem or f"orm_db: rolling back alias {alias!r} failed: {exc}"
        return problem


def model_tables(models: Iterable[Any]) -> list[str]:
    """The tables of ``models`` and of their automatic many-to-many join tables."""
    tables: list[str] = []
    for model in models:
        names = [model._meta.db_table]
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through is not None and through._meta.auto_created:
                names.append(through._meta.db_table)
        tables.extend(name for name in names if name not in tables)
    return tables


def flush_statements(
    vendor: str, quote: Callable[[str], str], tables: list[str]
) -> list[Statement]:
    """The statements that empty ``tables`` and restart their ids, as ``(sql, params)``.

    PostgreSQL: one ``TRUNCATE ... RESTART IDENTITY CASCADE``. SQLite: a
    ``DELETE`` per table with foreign-key checks off meanwhile (so the order
    does not matter), then the AUTOINCREMENT counters reset, which is what
    RESTART IDENTITY does (SQLite keeps them in ``sqlite_sequence``).
    """
    if not tables:
        return []
    if vendor == "postgresql":
        return [(f"TRUNCATE {', '.join(quote(t) for t in tables)} RESTART IDENTITY CASCADE", [])]
    marks = ", ".join(["%s"] * len(tables))
    return [
        ("PRAGMA foreign_keys = OFF", []),
        *((f"DELETE FROM {quote(t)}", []) for t in tables),
        (f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", list(tables)),
        ("PRAGMA foreign_keys = ON", []),
    ]


def flush_tables(alias: str, models: Iterable[Any]) -> None:
    """Empty the tables of ``models`` that exist on ``alias`` and reset their counters.

    See :func:`flush_statements`. Runs in autocommit mode (each statement
    commits), after the test, on the calling thread's connection.
    """
    wrapper = connections[alias]
    existing = set(wrapper.introspection.table_names())
    tables = [t for t in model_tables(models) if t in existing]
    statements = flush_statements(wrapper.vendor, wrapper.ops.quote_name, tables)
    if wrapper.vendor == "sqlite":
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
            if cursor.fetchone() is None:  # no AUTOINCREMENT table was ever written
                statements = [s for s in statements if "sqlite_sequence" not in s[0]]
    with wrapper.cursor() as cursor:
        try:
            for sql, params in statements:
                cursor.execute(sql, params or None)
        finally:
            if wrapper.vendor == "sqlite" and statements:
                # Never leave the connection with foreign-key checks off.
                cursor.execute("PRAGMA foreign_keys = ON")
