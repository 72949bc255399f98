"""Manual transactions: ``set_autocommit(False)`` ... ``commit()``/``rollback()`` ... ``set_autocommit(True)``.

Issue 11 item 2. A write acknowledged in autocommit mode must be committed,
no driver transaction may stay open while ``get_autocommit()`` says True,
``commit()``/``rollback()`` end the transaction (the next statement begins a
new one), closing the connection rolls an open manual transaction back, and
another ``sync_to_async`` call (another task on the shared thread) cannot
slip its writes into a manual transaction it did not start.

What is committed is always read through a second connection on another
thread, which sees committed rows only.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import orm
from orm import transaction
from tests.conftest import postgres_url, with_application_name

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests drive the transaction state itself (autocommit, savepoints, on_commit).
pytestmark = pytest.mark.transactional

T = TypeVar("T")


class Note(orm.Model):
    name = orm.CharField(max_length=40, unique=True)

    class Meta:
        app_label = "i11_manual"


@pytest.fixture(autouse=True)
def notes(backend: str) -> Iterator[str]:
    """The ``Note`` table on the fresh ``backend`` database; yields the vendor."""
    orm.create_tables(Note)
    try:
        yield backend
    finally:
        orm.connections.close_current()


# ------------------------------------------------------------------ helpers


def elsewhere(fn: Callable[[], T]) -> T:
    """Run ``fn`` on a new thread (its own connection, closed after); return or raise its result."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as error:  # noqa: BLE001 - handed back to the caller
            box["error"] = error
        finally:
            orm.connections.close_current()

    thread = threading.Thread(target=run, name="second-connection")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def names() -> set[str]:
    return set(Note.objects.values_list("name", flat=True))


def committed() -> set[str]:
    """The names another connection sees: the committed ones."""
    return elsewhere(names)


def driver_in_transaction(alias: str = "default") -> bool:
    """Whether the calling thread's driver connection has a transaction open."""
    raw = orm.connections[alias].connection
    if raw is None:
        return False
    if orm.connections[alias].vendor == "sqlite":
        return bool(raw.in_transaction)
    return raw.info.transaction_status.name != "IDLE"


def rename_elsewhere(old: str, new: str) -> int:
    """Update ``old`` to ``new`` through another connection; the number of rows changed.

    On SQLite this needs the write lock, so it fails ("database is locked")
    while this thread's connection holds a transaction open.
    """
    return elsewhere(lambda: Note.objects.filter(name=old).update(name=new))


# ------------------------------------------------ the issue: writes are lost


def test_write_after_switching_back_to_autocommit_survives_closing() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="in-manual")
    orm.connection.commit()
    transaction.set_autocommit(True)
    assert transaction.get_autocommit() is True
    Note.objects.create(name="after-manual")  # acknowledged in autocommit mode: committed now

    assert driver_in_transaction() is False
    assert committed() == {"in-manual", "after-manual"}
    orm.connections.close_current()
    assert committed() == {"in-manual", "after-manual"}


def test_another_connection_can_write_right_after_switching_back() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="a")
    transaction.commit()
    transaction.set_autocommit(True)
    Note.objects.create(name="b")
    # No transaction left open: on SQLite the write lock is free (no "database
    # is locked"), and on both backends the other connection sees "b".
    assert rename_elsewhere("b", "b2") == 1
    assert rename_elsewhere("a", "a2") == 1
    assert names() == {"a2", "b2"}


def test_atomic_works_after_a_manual_commit_and_switching_back() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="manual")
    orm.connection.commit()
    transaction.set_autocommit(True)
    with transaction.atomic():  # SQLite: "cannot start a transaction within a transaction"
        Note.objects.create(name="atomic")
    assert transaction.get_autocommit() is True
    assert committed() == {"manual", "atomic"}


def test_set_autocommit_true_commits_the_pending_transaction() -> None:
    """As Django on SQLite (and JDBC): switching back commits what is pending."""
    transaction.set_autocommit(False)
    Note.objects.create(name="pending")
    assert committed() == set()
    transaction.set_autocommit(True)
    assert driver_in_transaction() is False
    assert committed() == {"pending"}


# --------------------------------------------- commit() and rollback() end it


def test_commit_leaves_no_transaction_open_until_the_next_statement() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="first")
    transaction.commit()
    assert transaction.get_autocommit() is False  # still manual mode
    assert driver_in_transaction() is False  # but nothing open, no lock held
    assert rename_elsewhere("first", "renamed") == 1
    Note.objects.create(name="second")  # begins the next transaction
    assert driver_in_transaction() is True
    assert committed() == {"renamed"}
    transaction.commit()
    assert committed() == {"renamed", "second"}
    transaction.set_autocommit(True)


def test_rollback_rolls_back_and_the_next_statement_begins_a_new_transaction() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="undone")
    transaction.rollback()
    assert driver_in_transaction() is False
    assert names() == set()  # this read begins the next transaction
    assert driver_in_transaction() is True
    transaction.commit()

    Note.objects.create(name="undone-too")  # in a new transaction, not committed
    assert driver_in_transaction() is True
    assert committed() == set()
    transaction.rollback()
    assert names() == set()

    Note.objects.create(name="kept")
    transaction.commit()
    transaction.set_autocommit(True)
    assert committed() == {"kept"}


def test_module_functions_exist_and_take_using(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        url = with_application_name(postgres_url() or "")
    orm.configure(databases={"default": url, "other": url})  # two aliases, one database
    other = Note.objects.using("other")

    transaction.set_autocommit(False, using="other")
    assert transaction.get_autocommit(using="other") is False
    assert transaction.get_autocommit() is True
    other.create(name="via-other")
    assert names() == set()  # "default" sees only what "other" committed
    transaction.rollback(using="other")
    other.create(name="via-other-2")
    transaction.commit(using="other")
    assert names() == {"via-other-2"}
    transaction.set_autocommit(True, using="other")
    assert transaction.get_autocommit(using="other") is True
    assert driver_in_transaction("other") is False


# ------------------------------------------------------------------ refusals


def test_switching_inside_an_atomic_block_is_refused() -> None:
    forbidden = "This is forbidden when an 'atomic' block is active."
    with transaction.atomic():
        Note.objects.create(name="kept")
        for call in (
            lambda: transaction.set_autocommit(False),
            lambda: transaction.set_autocommit(True),
            transaction.commit,
            transaction.rollback,
        ):
            with pytest.raises(orm.TransactionManagementError, match=forbidden):
                call()
        assert transaction.get_autocommit() is False
    assert transaction.get_autocommit() is True
    assert committed() == {"kept"}


def test_on_commit_in_manual_mode_still_raises() -> None:
    transaction.set_autocommit(False)
    with pytest.raises(orm.TransactionManagementError, match="manual transaction management"):
        transaction.on_commit(lambda: None)
    transaction.set_autocommit(True)


def test_durable_atomic_is_refused_in_manual_mode() -> None:
    """Nothing commits at the end of a block inside a manual transaction."""
    transaction.set_autocommit(False)
    with pytest.raises(RuntimeError, match="durable"):
        with transaction.atomic(durable=True):
            Note.objects.create(name="never")  # pragma: no cover - not reached
    transaction.set_autocommit(True)
    assert committed() == set()


async def test_manual_calls_on_the_event_loop_thread_are_refused() -> None:
    for call in (
        lambda: transaction.set_autocommit(False),
        lambda: transaction.set_autocommit(True),
        transaction.commit,
        transaction.rollback,
    ):
        with pytest.raises(orm.SynchronousOnlyOperation, match="sync_to_async"):
            call()


# ------------------------------------ atomic() inside a manual transaction


def test_atomic_inside_manual_mode_neither_commits_nor_leaves_manual_mode() -> None:
    transaction.set_autocommit(False)
    with transaction.atomic():
        Note.objects.create(name="in-block")
    assert transaction.get_autocommit() is False
    assert committed() == set()
    Note.objects.all().delete()  # delete() runs in atomic(savepoint=False) itself
    assert transaction.get_autocommit() is False
    assert committed() == set()
    transaction.rollback()
    transaction.set_autocommit(True)
    assert committed() == set()


def test_delete_inside_manual_mode_is_rolled_back_by_rollback() -> None:
    Note.objects.create(name="keep")
    transaction.set_autocommit(False)
    Note.objects.all().delete()
    assert names() == set()
    transaction.rollback()
    transaction.set_autocommit(True)
    assert names() == {"keep"}
    assert committed() == {"keep"}


def test_a_failed_block_inside_manual_mode_rolls_back_to_its_savepoint() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="before")
    with pytest.raises(orm.IntegrityError):
        with transaction.atomic():
            Note.objects.create(name="before")
    Note.objects.create(name="after")  # the manual transaction is still usable
    transaction.commit()
    transaction.set_autocommit(True)
    assert committed() == {"before", "after"}


def test_on_commit_hooks_of_a_block_in_manual_mode_wait_for_the_commit() -> None:
    ran: list[str] = []
    transaction.set_autocommit(False)
    with transaction.atomic():
        Note.objects.create(name="hooked")
        transaction.on_commit(lambda: ran.append("committed"))
    assert ran == []  # the block ended, the transaction did not
    transaction.commit()
    assert ran == ["committed"]

    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("never"))
    transaction.rollback()
    transaction.set_autocommit(True)
    assert ran == ["committed"]
    assert committed() == {"hooked"}


class Boom(Exception):
    """Raised on purpose."""


def test_a_failed_block_without_savepoint_fails_the_manual_transaction() -> None:
    """The block merged into the manual transaction: half of it must never be committed."""
    transaction.set_autocommit(False)
    Note.objects.create(name="before")
    with pytest.raises(Boom):
        with transaction.atomic(savepoint=False):
            Note.objects.create(name="half")
            raise Boom
    assert transaction.get_autocommit() is False
    with pytest.raises(orm.TransactionManagementError, match="rollback"):
        Note.objects.count()
    with pytest.raises(orm.TransactionManagementError, match="rolled back") as failed:
        transaction.commit()
    assert isinstance(failed.value.__cause__, Boom)
    transaction.set_autocommit(True)
    assert committed() == set()


# ------------------------------------------ a failed manual transaction


def test_after_an_error_the_manual_transaction_must_be_rolled_back() -> None:
    """Same on both backends (PostgreSQL's COMMIT would silently roll back)."""
    transaction.set_autocommit(False)
    Note.objects.create(name="acknowledged")
    with pytest.raises(orm.IntegrityError):
        Note.objects.create(name="acknowledged")
    with pytest.raises(orm.TransactionManagementError, match="rollback") as refused:
        Note.objects.count()
    assert isinstance(refused.value.__cause__, orm.IntegrityError)
    with pytest.raises(orm.TransactionManagementError, match="rolled back") as failed:
        transaction.commit()
    assert isinstance(failed.value.__cause__, orm.IntegrityError)
    assert committed() == set()  # nothing was committed, and commit() said so
    assert transaction.get_autocommit() is False  # still in manual mode, ready to go on
    Note.objects.create(name="retry")
    transaction.commit()
    transaction.set_autocommit(True)
    assert committed() == {"retry"}


def test_switching_back_after_an_error_rolls_back_and_says_so() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="acknowledged")
    with pytest.raises(orm.IntegrityError):
        Note.objects.create(name="acknowledged")
    with pytest.raises(orm.TransactionManagementError, match="rolled back"):
        transaction.set_autocommit(True)
    assert transaction.get_autocommit() is True  # switched anyway: nothing is left open
    assert driver_in_transaction() is False
    assert committed() == set()
    Note.objects.create(name="autocommitted")
    assert committed() == {"autocommitted"}


def test_rollback_clears_the_error() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="x")
    with pytest.raises(orm.IntegrityError):
        Note.objects.create(name="x")
    transaction.rollback()
    Note.objects.create(name="x")
    transaction.commit()
    transaction.set_autocommit(True)
    assert committed() == {"x"}


@pytest.mark.faults
@pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_lost_connection_keeps_manual_mode_until_rollback(pg_admin: Any) -> None:
    """PostgreSQL only: a server process to kill. Later writes must not autocommit silently."""
    transaction.set_autocommit(False)
    Note.objects.create(name="lost")
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    pg_admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(orm.OperationalError):
        Note.objects.create(name="on-the-dead-connection")
    assert transaction.get_autocommit() is False  # still manual mode
    with pytest.raises(orm.TransactionManagementError, match="rollback"):
        Note.objects.create(name="would-autocommit")
    transaction.rollback()
    Note.objects.create(name="new-connection")  # a new connection, a new transaction
    assert committed() == set()
    transaction.commit()
    transaction.set_autocommit(True)
    assert committed() == {"new-connection"}


# ---------------------------------------------------- closing the connection


def test_closing_rolls_back_and_returns_to_autocommit() -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name="uncommitted")
    orm.connections.close_current()
    assert transaction.get_autocommit() is True  # the next user starts in autocommit
    assert committed() == set()  # rolled back, never committed silently
    Note.objects.create(name="next-user")
    assert committed() == {"next-user"}


async def test_scope_exit_rolls_back_an_open_manual_transaction() -> None:
    def leave_open() -> None:
        transaction.set_autocommit(False)
        Note.objects.create(name="left-open")

    async with orm.connection_scope():
        await orm.sync_to_async(leave_open)()
    async with orm.connection_scope():
        assert await orm.sync_to_async(transaction.get_autocommit)() is True
        assert await Note.objects.acount() == 0
        await Note.objects.acreate(name="next-scope")
    assert await orm.sync_to_async(committed)() == {"next-scope"}


# ------------------------------------------- another task on the shared thread


def _begin_and_write(name: str) -> None:
    transaction.set_autocommit(False)
    Note.objects.create(name=name)


def _finish(decision: str) -> None:
    if decision == "commit":
        transaction.commit()
    else:
        transaction.rollback()
    transaction.set_autocommit(True)


@pytest.mark.parametrize("decision", ["commit", "rollback"])
async def test_another_task_cannot_write_into_a_manual_transaction(decision: str) -> None:
    """Task A turns autocommit off on the shared thread; task B's write is refused, not mixed in."""
    a_began = asyncio.Event()
    b_tried = asyncio.Event()
    refusals: list[BaseException] = []

    async def task_a() -> None:
        await orm.sync_to_async(_begin_and_write)("from-a")
        a_began.set()
        await b_tried.wait()
        await orm.sync_to_async(_finish)(decision)  # A ends its transaction as it decides

    async def task_b() -> None:
        await a_began.wait()
        try:
            for attempt in (
                lambda: Note.objects.acreate(name="from-b"),
                lambda: Note.objects.acount(),
                lambda: orm.sync_to_async(_begin_and_write)("from-b"),
                lambda: orm.sync_to_async(lambda: transaction.atomic().__enter__())(),
            ):
                with pytest.raises(orm.TransactionManagementError) as info:
                    await attempt()
                refusals.append(info.value)
        finally:
            b_tried.set()

    await asyncio.gather(task_a(), task_b())
    assert len(refusals) == 4
    message = str(refusals[0])
    assert "set_autocommit(False)" in message
    assert "sync_to_async" in message and "connection_scope()" in message
    expected = {"from-a"} if decision == "commit" else set()
    assert await orm.sync_to_async(committed)() == expected
    assert await orm.sync_to_async(transaction.get_autocommit)() is True
    # Once A is done, B's write goes through and is committed.
    await Note.objects.acreate(name="from-b")
    assert await orm.sync_to_async(committed)() == expected | {"from-b"}


async def test_a_task_in_its_own_scope_is_not_refused_and_sees_only_committed_rows() -> None:
    await orm.sync_to_async(_begin_and_write)("from-a")  # manual mode on the shared thread
    try:
        async with orm.connection_scope():  # its own thread and connection
            assert await Note.objects.acount() == 0
            assert await orm.sync_to_async(transaction.get_autocommit)() is True
    finally:
        await orm.sync_to_async(_finish)("commit")
    assert await Note.objects.acount() == 1


async def test_a_manual_transaction_in_one_sync_function_is_the_supported_way() -> None:
    def batch() -> int:
        transaction.set_autocommit(False)
        try:
            Note.objects.create(name="one")
            Note.objects.create(name="two")
            transaction.commit()
            return Note.objects.count()
        finally:
            transaction.set_autocommit(True)

    assert await orm.sync_to_async(batch)() == 2
    assert await orm.sync_to_async(committed)() == {"one", "two"}


# ------------------------------------------------------------------ under load


@pytest.mark.load
async def test_manual_batches_and_other_tasks_on_the_shared_thread() -> None:
    """One task runs manual batches (each one sync call) while 10 tasks write.

    Every other task's write goes through (none lands in or is refused by a
    batch), and exactly the batches that committed are there.
    """
    batches = 20

    def batch(i: int) -> None:
        transaction.set_autocommit(False)
        try:
            Note.objects.create(name=f"batch-{i}-a")
            Note.objects.create(name=f"batch-{i}-b")
            if i % 2:
                transaction.rollback()
            else:
                transaction.commit()
        finally:
            transaction.set_autocommit(True)
        Note.objects.create(name=f"after-batch-{i}")  # autocommit again

    async def batches_task() -> None:
        for i in range(batches):
            await orm.sync_to_async(batch)(i)

    async def writer(w: int) -> None:
        for j in range(10):
            await Note.objects.acreate(name=f"writer-{w}-{j}")

    await asyncio.gather(batches_task(), *(writer(w) for w in range(10)))
    expected = {f"writer-{w}-{j}" for w in range(10) for j in range(10)}
    expected |= {f"after-batch-{i}" for i in range(batches)}
    expected |= {f"batch-{i}-{x}" for i in range(0, batches, 2) for x in "ab"}
    await orm.sync_to_async(orm.connections.close_current)()  # nothing may hang on a close
    assert await orm.sync_to_async(committed)() == expected


@pytest.mark.load
async def test_concurrent_manual_transactions_in_scopes() -> None:
    """8 scopes (8 threads, 8 connections) run manual transactions at once.

    Each batch writes in manual mode, commits or rolls back, switches back
    and writes once more in autocommit. Nothing may fail with "database is
    locked" on SQLite, and every acknowledged write survives the scopes
    closing their connections.
    """
    rounds = 5

    def batch(task: int, i: int) -> None:
        transaction.set_autocommit(False)
        Note.objects.create(name=f"t{task}-{i}-manual")
        if i % 2:
            transaction.rollback()
        else:
            transaction.commit()
        transaction.set_autocommit(True)
        Note.objects.create(name=f"t{task}-{i}-auto")

    async def worker(task: int) -> None:
        async with orm.connection_scope():
            for i in range(rounds):
                await orm.sync_to_async(batch)(task, i)

    await asyncio.gather(*(worker(t) for t in range(8)))
    expected = {f"t{t}-{i}-auto" for t in range(8) for i in range(rounds)}
    expected |= {f"t{t}-{i}-manual" for t in range(8) for i in range(0, rounds, 2)}
    assert await orm.sync_to_async(committed)() == expected
