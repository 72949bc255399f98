"""``transaction.on_commit``: after the outermost commit only, never after a rollback."""

from __future__ import annotations

import contextlib
import logging
import threading

import pytest

import orm
from orm import transaction
from tests.transactions.models import Account

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests drive the transaction state itself (autocommit, savepoints, on_commit).
pytestmark = [pytest.mark.usefixtures("tables"), pytest.mark.transactional]


class Boom(Exception):
    """Raised on purpose."""


def count_from_other_thread() -> int:
    """Accounts visible to another connection (a new thread's): committed rows only."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(Account.objects.count()))
    thread.start()
    thread.join(10)
    assert result, "the counting thread failed"
    return result[0]


def test_outside_atomic_runs_immediately() -> None:
    calls: list[str] = []
    transaction.on_commit(lambda: calls.append("now"))
    assert calls == ["now"]
    transaction.on_commit(lambda: calls.append("robust"), robust=True)
    assert calls == ["now", "robust"]


def test_outside_atomic_non_robust_error_propagates() -> None:
    error = Boom("hook")

    def hook() -> None:
        raise error

    with pytest.raises(Boom) as info:
        transaction.on_commit(hook)
    assert info.value is error


def test_non_callable_is_refused() -> None:
    with pytest.raises(TypeError):
        transaction.on_commit("not callable")  # type: ignore[arg-type]
    with transaction.atomic():
        with pytest.raises(TypeError):
            transaction.on_commit(None)  # type: ignore[arg-type]


def test_runs_after_outermost_commit_only_in_registration_order() -> None:
    calls: list[str] = []
    with transaction.atomic():
        Account.objects.create(name="a")
        transaction.on_commit(lambda: calls.append("outer-1"))
        with transaction.atomic():
            transaction.on_commit(lambda: calls.append("inner"))
        assert calls == []  # releasing a savepoint is not a commit
        with transaction.atomic(savepoint=False):
            transaction.on_commit(lambda: calls.append("merged"))
        assert calls == []
        transaction.on_commit(lambda: calls.append("outer-2"))
        assert calls == []
    assert calls == ["outer-1", "inner", "merged", "outer-2"]


def test_hook_runs_after_the_commit_and_may_query() -> None:
    """When the hook runs the data is committed (visible elsewhere) and the ORM is usable."""
    seen: list[tuple[bool, int, int]] = []

    def hook() -> None:
        seen.append(
            (transaction.get_autocommit(), Account.objects.count(), count_from_other_thread())
        )
        Account.objects.create(name="from-hook")  # an ORM write from a hook works (F13 iv)

    with transaction.atomic():
        Account.objects.create(name="a")
        transaction.on_commit(hook)
    assert seen == [(True, 1, 1)]
    assert count_from_other_thread() == 2


def test_hook_registering_a_hook_outside_any_block_runs_it_at_once() -> None:
    calls: list[str] = []

    def first() -> None:
        calls.append("first")
        transaction.on_commit(lambda: calls.append("second"))

    with transaction.atomic():
        transaction.on_commit(first)
    assert calls == ["first", "second"]


@pytest.mark.parametrize("how", ["raise", "set_rollback"])
def test_never_runs_after_rollback(how: str) -> None:
    calls: list[str] = []
    with pytest.raises(Boom) if how == "raise" else contextlib.nullcontext():
        with transaction.atomic():
            transaction.on_commit(lambda: calls.append("outer"))
            with transaction.atomic():
                transaction.on_commit(lambda: calls.append("inner"))
            if how == "raise":
                raise Boom
            transaction.set_rollback(True)
    assert calls == []
    # Nothing leaks into the next transaction either.
    with transaction.atomic():
        transaction.on_commit(lambda: calls.append("next"))
    assert calls == ["next"]


def test_never_runs_after_a_database_error_dooms_the_block() -> None:
    Account.objects.create(name="dup")
    calls: list[str] = []
    with transaction.atomic():
        transaction.on_commit(lambda: calls.append("hook"))
        with pytest.raises(orm.IntegrityError):
            Account.objects.create(name="dup")
    assert calls == []


def test_hooks_of_a_rolled_back_savepoint_are_dropped() -> None:
    calls: list[str] = []
    with transaction.atomic():
        transaction.on_commit(lambda: calls.append("outer"))
        with pytest.raises(Boom):
            with transaction.atomic():
                transaction.on_commit(lambda: calls.append("rolled-back"))
                with transaction.atomic():
                    transaction.on_commit(lambda: calls.append("rolled-back-nested"))
                raise Boom
        with transaction.atomic():
            transaction.on_commit(lambda: calls.append("sibling"))
        with transaction.atomic():
            transaction.on_commit(lambda: calls.append("set-rollback"))
            transaction.set_rollback(True)
        transaction.on_commit(lambda: calls.append("outer-late"))
        assert calls == []
    assert calls == ["outer", "sibling", "outer-late"]


def test_hooks_of_a_failed_savepointless_block_die_with_the_outer_block() -> None:
    calls: list[str] = []
    with transaction.atomic():
        transaction.on_commit(lambda: calls.append("outer"))
        with pytest.raises(Boom):
            with transaction.atomic(savepoint=False):
                transaction.on_commit(lambda: calls.append("inner"))
                raise Boom
    assert calls == []


def test_robust_hook_error_is_logged_and_later_hooks_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    error = Boom("robust hook failed")

    def bad() -> None:
        calls.append("bad")
        raise error

    caplog.set_level(logging.ERROR)
    with transaction.atomic():
        Account.objects.create(name="a")
        transaction.on_commit(lambda: calls.append("before"))
        transaction.on_commit(bad, robust=True)
        transaction.on_commit(lambda: calls.append("after"))
    assert calls == ["before", "bad", "after"]
    assert count_from_other_thread() == 1
    failures = [r for r in caplog.records if r.exc_info and r.exc_info[1] is error]
    assert len(failures) == 1, caplog.records
    assert failures[0].levelno >= logging.ERROR
    assert "on_commit" in failures[0].getMessage()


def test_robust_hook_outside_atomic_logs(caplog: pytest.LogCaptureFixture) -> None:
    error = Boom("immediate robust hook failed")

    def bad() -> None:
        raise error

    caplog.set_level(logging.ERROR)
    transaction.on_commit(bad, robust=True)  # does not raise
    assert any(r.exc_info and r.exc_info[1] is error for r in caplog.records)


def test_non_robust_hook_error_propagates_after_the_commit() -> None:
    calls: list[str] = []
    error = Boom("hook failed")

    def bad() -> None:
        calls.append("bad")
        raise error

    with pytest.raises(Boom) as info:
        with transaction.atomic():
            Account.objects.create(name="a")
            transaction.on_commit(bad)
            transaction.on_commit(lambda: calls.append("after"))
    assert info.value is error
    assert calls == ["bad"]
    # The commit had happened before the hooks ran; the connection is clean.
    assert count_from_other_thread() == 1
    assert transaction.get_autocommit()
    # The hook queued after the failing one does not resurface in a later block.
    with transaction.atomic():
        Account.objects.create(name="b")
    assert calls == ["bad"]
    assert Account.objects.count() == 2
