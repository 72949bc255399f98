"""Errors inside atomic blocks (F11): rollback, the same exception, broken blocks."""

from __future__ import annotations

import threading

import pytest

import orm
from orm import transaction
from tests.transactions.models import Account, Counter, Entry

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests drive the transaction state itself (autocommit, savepoints, on_commit).
pytestmark = [pytest.mark.usefixtures("tables"), pytest.mark.transactional]


class Boom(Exception):
    """Raised on purpose."""


def names() -> set[str]:
    return set(Account.objects.values_list("name", flat=True))


def names_from_other_thread() -> set[str]:
    result: list[set[str]] = []
    thread = threading.Thread(target=lambda: result.append(names()))
    thread.start()
    thread.join(10)
    assert result, "the reading thread failed"
    return result[0]


@pytest.mark.parametrize("exc_type", [ValueError, Boom, KeyboardInterrupt])
def test_same_exception_object_propagates_and_writes_are_rolled_back(
    exc_type: type[BaseException],
) -> None:
    Account.objects.create(name="before")
    error = exc_type("mid-block")
    with pytest.raises(exc_type) as info:
        with transaction.atomic():
            Account.objects.create(name="in-block")
            Account.objects.filter(name="before").update(balance=99)
            Account.objects.filter(name="before").delete()
            raise error
    assert info.value is error
    assert transaction.get_autocommit()
    assert names() == {"before"}
    assert Account.objects.get(name="before").balance == 0


def test_exception_traceback_is_not_replaced() -> None:
    def fail() -> None:
        raise Boom("deep")

    with pytest.raises(Boom) as info:
        with transaction.atomic():
            Account.objects.create(name="x")
            fail()
    assert info.traceback[-1].name == "fail"
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


def test_inner_exception_rolls_back_only_its_savepoint_when_caught() -> None:
    with transaction.atomic():
        Account.objects.create(name="outer")
        with pytest.raises(Boom):
            with transaction.atomic():
                Account.objects.create(name="inner")
                raise Boom
        assert names() == {"outer"}
    assert names() == {"outer"}


def test_inner_exception_not_caught_rolls_back_everything() -> None:
    error = Boom("inner")
    with pytest.raises(Boom) as info:
        with transaction.atomic():
            Account.objects.create(name="outer")
            with transaction.atomic():
                Account.objects.create(name="inner")
                raise error
    assert info.value is error
    assert names() == set()


# ----------------------------------------- queries after a database error


def _violate_unique() -> orm.IntegrityError:
    with pytest.raises(orm.IntegrityError) as info:
        Account.objects.create(name="dup")
    return info.value


def test_queries_after_database_error_raise_transaction_management_error() -> None:
    Account.objects.create(name="dup")
    with transaction.atomic():
        Account.objects.create(name="written-before-error")
        integrity_error = _violate_unique()
        assert transaction.get_rollback() is True
        # Every kind of query is refused until the block ends, naming the cause.
        attempts = [
            lambda: Account.objects.count(),
            lambda: list(Account.objects.all()),
            lambda: Account.objects.filter(name="dup").exists(),
            lambda: Account.objects.create(name="more"),
        ]
        for attempt in attempts:
            with pytest.raises(orm.TransactionManagementError) as info:
                attempt()
            assert info.value.__cause__ is integrity_error
        # After a refused write too, the direct cause is still the first error.
        later = [
            lambda: Account.objects.filter(name="dup").update(balance=1),
            lambda: Counter.objects.create(value=1),
            lambda: Account.objects.count(),
        ]
        for attempt in later:
            with pytest.raises(orm.TransactionManagementError) as info:
                attempt()
            assert info.value.__cause__ is integrity_error
        with pytest.raises(orm.TransactionManagementError) as info:
            with orm.connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        assert info.value.__cause__ is integrity_error
        # Leaving the block normally rolls it back silently.
    assert transaction.get_autocommit()
    assert names() == {"dup"}
    assert names_from_other_thread() == {"dup"}
    # The connection is fully usable afterwards, in and out of blocks.
    Account.objects.create(name="after")
    with transaction.atomic():
        Account.objects.create(name="after-in-block")
        assert Account.objects.count() == 3
    assert names_from_other_thread() == {"dup", "after", "after-in-block"}


def test_save_failing_before_any_sql_dooms_the_block() -> None:
    # As Django's save_base (mark_for_rollback_on_error): an error raised while
    # the value is prepared, before any statement, still marks the block.
    with transaction.atomic():
        Account.objects.create(name="written-before-error")
        with pytest.raises(ValueError, match="balance") as info:
            Account.objects.create(name="bad", balance="not a number")
        assert transaction.get_rollback() is True
        with pytest.raises(orm.TransactionManagementError) as refused:
            Account.objects.count()
        assert refused.value.__cause__ is info.value
    assert names() == set()


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc.__cause__
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__
    return chain


def test_raw_cursor_query_after_database_error_is_refused() -> None:
    Account.objects.create(name="dup")
    with transaction.atomic():
        integrity_error = _violate_unique()
        with pytest.raises(orm.TransactionManagementError) as info:
            with orm.connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        assert info.value.__cause__ is integrity_error
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM txtests_account")
        assert cursor.fetchone()[0] == 1


def test_transaction_management_error_escaping_the_block_propagates() -> None:
    Account.objects.create(name="dup")
    with pytest.raises(orm.TransactionManagementError) as info:
        with transaction.atomic():
            Account.objects.create(name="x")
            integrity_error = _violate_unique()
            Account.objects.create(name="y")
    assert info.value.__cause__ is integrity_error
    assert names() == {"dup"}
    assert Account.objects.count() == 1


def test_integrity_error_escaping_the_block_is_the_same_object() -> None:
    Account.objects.create(name="dup")
    caught: list[BaseException] = []
    with pytest.raises(orm.IntegrityError) as info:
        with transaction.atomic():
            Account.objects.create(name="x")
            try:
                Account.objects.create(name="dup")
            except orm.IntegrityError as exc:
                caught.append(exc)
                raise
    assert info.value is caught[0]
    assert info.value.__cause__ is not None  # the driver's error is kept
    assert names() == {"dup"}


def test_inner_atomic_catching_the_error_lets_the_outer_block_continue() -> None:
    Account.objects.create(name="dup")
    with transaction.atomic():
        Account.objects.create(name="a")
        try:
            with transaction.atomic():
                Account.objects.create(name="b")
                Account.objects.create(name="dup")
        except orm.IntegrityError:
            pass
        assert transaction.get_rollback() is False
        assert names() == {"dup", "a"}  # b went with the savepoint
        Account.objects.create(name="c")
    assert names_from_other_thread() == {"dup", "a", "c"}


def test_error_in_savepointless_inner_block_dooms_the_outer_block() -> None:
    Account.objects.create(name="dup")
    with transaction.atomic():
        Account.objects.create(name="a")
        with pytest.raises(orm.IntegrityError):
            with transaction.atomic(savepoint=False):
                Account.objects.create(name="dup")
        assert transaction.get_rollback() is True
        with pytest.raises(orm.TransactionManagementError):
            Account.objects.count()
    assert names() == {"dup"}


def test_error_caught_in_deeper_savepoint_keeps_middle_block_alive() -> None:
    Account.objects.create(name="dup")
    with transaction.atomic():
        with transaction.atomic():
            Account.objects.create(name="middle")
            with pytest.raises(orm.IntegrityError):
                with transaction.atomic():
                    Account.objects.create(name="dup")
            Account.objects.create(name="middle-2")
        Account.objects.create(name="outer")
    assert names() == {"dup", "middle", "middle-2", "outer"}


def test_error_at_commit_deferred_foreign_key() -> None:
    """Foreign keys are checked at COMMIT: the error surfaces there, nothing persists."""
    calls: list[str] = []
    with pytest.raises(orm.IntegrityError) as info:
        with transaction.atomic():
            account = Account.objects.create(name="a")
            Entry.objects.create(account=account, amount=1)
            Entry.objects.create(account_id=account.pk + 1000, amount=2)
            transaction.on_commit(lambda: calls.append("hook"))
    assert info.value.__cause__ is not None
    assert calls == []
    assert transaction.get_autocommit()
    assert names_from_other_thread() == set()
    assert Entry.objects.count() == 0
    # The connection is usable afterwards.
    with transaction.atomic():
        account = Account.objects.create(name="b")
        Entry.objects.create(account=account, amount=5)
    assert list(Entry.objects.values_list("amount", flat=True)) == [5]


def test_connection_lost_inside_block_commits_nothing_and_recovers() -> None:
    """No silent reconnect mid-block: later queries are refused, the exit reports the
    loss, nothing is committed, hooks do not run, the next call reconnects."""
    calls: list[str] = []
    with pytest.raises(orm.DatabaseError, match="lost"):
        with transaction.atomic():
            Account.objects.create(name="a")
            transaction.on_commit(lambda: calls.append("hook"))
            with transaction.atomic():
                orm.connection.close()
            with pytest.raises(orm.TransactionManagementError):
                Account.objects.create(name="b")
    assert calls == []
    assert transaction.get_autocommit()
    assert names() == set()
    with transaction.atomic():
        Account.objects.create(name="c")
    assert names_from_other_thread() == {"c"}


def test_repeated_failures_leave_connection_usable() -> None:
    Account.objects.create(name="dup")
    for _ in range(5):
        with transaction.atomic():
            _violate_unique()
        with pytest.raises(Boom):
            with transaction.atomic():
                Account.objects.create(name="x")
                raise Boom
        assert transaction.get_autocommit()
    with transaction.atomic():
        Account.objects.create(name="ok")
    assert names() == {"dup", "ok"}


# --------------------------------------------------------------------------
# Once broken: after a *write* is refused in a broken block, later
# TransactionManagementErrors name the previous TransactionManagementError as
# their __cause__ instead of the database error that broke the block.
#
# Cause: transaction.mark_for_rollback_on_error (used by Model.save() and
# QuerySet.update()) overwrites conn.rollback_cause with whatever exception
# passes through it, including the TransactionManagementError raised by
# validate_no_broken_transaction() for the refused write. It should keep the
# first cause (only set rollback_cause when it is None / when the block is not
# already marked for rollback).
# --------------------------------------------------------------------------


def test_cause_stays_the_integrity_error_after_a_refused_write() -> None:
    Account.objects.create(name="dup")
    with transaction.atomic():
        with pytest.raises(orm.IntegrityError) as first:
            Account.objects.create(name="dup")
        integrity_error = first.value

        with pytest.raises(orm.TransactionManagementError) as info:
            Account.objects.create(name="refused write")
        assert info.value.__cause__ is integrity_error  # passes

        # Actual: __cause__ is the TransactionManagementError raised just above.
        with pytest.raises(orm.TransactionManagementError) as info:
            Account.objects.count()
        assert info.value.__cause__ is integrity_error

        with pytest.raises(orm.TransactionManagementError) as info:
            Account.objects.filter(name="dup").update(balance=1)
        assert info.value.__cause__ is integrity_error
