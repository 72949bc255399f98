"""``transaction.atomic``: commit/rollback in every nesting, durable, decorators,
savepoints, ``set_rollback``/``get_rollback`` and ``get_autocommit`` (issue 4, F11)."""

from __future__ import annotations

import threading

import pytest

import orm
from orm import transaction
from tests.transactions.models import Account

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# these tests drive the transaction state itself (autocommit, savepoints, on_commit).
pytestmark = [pytest.mark.usefixtures("tables"), pytest.mark.transactional]


class Boom(Exception):
    """Raised on purpose to roll a block back."""


def names() -> set[str]:
    return set(Account.objects.values_list("name", flat=True))


def names_from_other_thread() -> set[str]:
    """What another connection (a new thread's) sees: only committed rows."""
    result: list[set[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(names())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not errors, errors
    return result[0]


# ------------------------------------------------------------ nesting matrix


@pytest.mark.parametrize("outer", ["commit", "raise", "set_rollback"])
@pytest.mark.parametrize("inner_savepoint", [True, False], ids=["savepoint", "no_savepoint"])
@pytest.mark.parametrize("inner", ["commit", "raise", "set_rollback"])
def test_nesting_matrix(outer: str, inner_savepoint: bool, inner: str) -> None:
    """Every combination of outer fate x inner savepoint flag x inner fate.

    * inner commits: its rows share the outer block's fate.
    * inner rolls back with a savepoint: only its rows are undone, the outer
      block continues and decides for the rest.
    * inner rolls back without a savepoint: nothing can be undone partially,
      so the whole outer block is doomed; further queries in it raise
      TransactionManagementError and its exit rolls everything back.
    """
    outer_error = Boom("outer")
    doomed = inner != "commit" and not inner_savepoint
    try:
        with transaction.atomic():
            Account.objects.create(name="outer-before")
            try:
                with transaction.atomic(savepoint=inner_savepoint):
                    Account.objects.create(name="inner")
                    assert names() == {"outer-before", "inner"}
                    if inner == "raise":
                        raise Boom("inner")
                    if inner == "set_rollback":
                        transaction.set_rollback(True)
            except Boom:
                assert inner == "raise"
            assert transaction.get_rollback() is doomed
            if doomed:
                with pytest.raises(orm.TransactionManagementError):
                    Account.objects.create(name="outer-after")
            else:
                Account.objects.create(name="outer-after")
                expected_inside = {"outer-before", "outer-after"}
                if inner == "commit":
                    expected_inside.add("inner")
                assert names() == expected_inside
            if outer == "raise":
                raise outer_error
            if outer == "set_rollback":
                transaction.set_rollback(True)
    except Boom as exc:
        assert outer == "raise"
        assert exc is outer_error
    assert transaction.get_autocommit()

    if outer != "commit" or doomed:
        expected: set[str] = set()
    elif inner == "commit":
        expected = {"outer-before", "inner", "outer-after"}
    else:
        expected = {"outer-before", "outer-after"}
    assert names() == expected
    assert names_from_other_thread() == expected


def test_three_levels_middle_rollback_discards_innermost_committed_savepoint() -> None:
    with transaction.atomic():
        Account.objects.create(name="a")
        with pytest.raises(Boom):
            with transaction.atomic():
                Account.objects.create(name="b")
                with transaction.atomic():
                    Account.objects.create(name="c")
                # c's savepoint was released into b's; b's rollback undoes both.
                raise Boom
        with transaction.atomic():
            Account.objects.create(name="d")
    assert names() == {"a", "d"}


def test_doomed_savepointless_block_is_contained_by_the_enclosing_savepoint() -> None:
    """A failed savepoint=False block dooms only up to the nearest real savepoint."""
    with transaction.atomic():
        Account.objects.create(name="outer")
        with transaction.atomic():
            Account.objects.create(name="middle")
            with pytest.raises(Boom):
                with transaction.atomic(savepoint=False):
                    Account.objects.create(name="inner")
                    raise Boom
            assert transaction.get_rollback() is True
            with pytest.raises(orm.TransactionManagementError):
                Account.objects.count()
        # The middle block rolled back to its savepoint and cleared the flag.
        assert transaction.get_rollback() is False
        Account.objects.create(name="outer-after")
    assert names_from_other_thread() == {"outer", "outer-after"}


@pytest.mark.parametrize("fate", ["commit", "rollback"])
def test_outermost_block_with_savepoint_false_is_a_normal_transaction(fate: str) -> None:
    with transaction.atomic(savepoint=False):
        assert transaction.get_autocommit() is False
        Account.objects.create(name="a")
        with transaction.atomic():
            Account.objects.create(name="b")
        if fate == "rollback":
            transaction.set_rollback(True)
    assert names() == ({"a", "b"} if fate == "commit" else set())


def test_sequential_blocks_are_independent_transactions() -> None:
    with transaction.atomic():
        Account.objects.create(name="first")
    with pytest.raises(Boom):
        with transaction.atomic():
            Account.objects.create(name="second")
            raise Boom
    with transaction.atomic():
        Account.objects.create(name="third")
    assert names() == {"first", "third"}


def test_uncommitted_rows_are_invisible_to_other_connections() -> None:
    with transaction.atomic():
        Account.objects.create(name="pending")
        assert names() == {"pending"}
        assert names_from_other_thread() == set()
    assert names_from_other_thread() == {"pending"}


# ------------------------------------------------------------------ durable


def test_durable_outermost_block_commits() -> None:
    with transaction.atomic(durable=True):
        Account.objects.create(name="a")
        with transaction.atomic():  # a plain nested block inside a durable one is fine
            Account.objects.create(name="b")
    assert names_from_other_thread() == {"a", "b"}


def test_durable_block_after_a_finished_block_is_fine() -> None:
    with transaction.atomic():
        Account.objects.create(name="a")
    with transaction.atomic(durable=True):
        Account.objects.create(name="b")
    assert names() == {"a", "b"}


@pytest.mark.parametrize("inner_savepoint", [True, False])
def test_nested_durable_raises_runtime_error_and_outer_rolls_back(inner_savepoint: bool) -> None:
    with pytest.raises(RuntimeError, match="durable"):
        with transaction.atomic():
            Account.objects.create(name="outer")
            with transaction.atomic(durable=True, savepoint=inner_savepoint):
                Account.objects.create(name="never")  # pragma: no cover - not reached
    assert transaction.get_autocommit()
    assert names() == set()


def test_nested_durable_refused_before_touching_the_outer_block() -> None:
    """The RuntimeError comes from entering the inner block: the outer one can carry on."""
    with transaction.atomic():
        Account.objects.create(name="outer")
        with pytest.raises(RuntimeError):
            with transaction.atomic(durable=True):
                pass  # pragma: no cover - not reached
        assert transaction.get_rollback() is False
        Account.objects.create(name="after")
    assert names_from_other_thread() == {"outer", "after"}


def test_durable_decorated_function_called_inside_atomic_raises() -> None:
    @transaction.atomic(durable=True)
    def make() -> None:
        Account.objects.create(name="x")

    make()
    assert names() == {"x"}
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            make()
    assert names() == {"x"}


# ---------------------------------------------------------------- decorators


def test_atomic_bare_decorator_commits_and_returns_value() -> None:
    seen: dict[str, bool] = {}

    @transaction.atomic
    def create(name: str) -> str:
        """Create an account."""
        seen["autocommit"] = transaction.get_autocommit()
        Account.objects.create(name=name)
        return name.upper()

    assert create.__name__ == "create"
    assert create.__doc__ == "Create an account."
    assert create("a") == "A"
    assert seen["autocommit"] is False
    assert transaction.get_autocommit()
    assert names_from_other_thread() == {"a"}


def test_atomic_decorator_with_using_rolls_back_on_error() -> None:
    error = Boom("decorated")

    @transaction.atomic(using="default")
    def create_then_fail(name: str) -> None:
        assert transaction.get_autocommit() is False
        assert transaction.get_autocommit(using="default") is False
        Account.objects.create(name=name)
        raise error

    with pytest.raises(Boom) as info:
        create_then_fail("a")
    assert info.value is error
    assert names() == set()
    assert transaction.get_autocommit()


def test_atomic_decorator_each_call_is_its_own_block() -> None:
    """A decorated function is reusable, and nests (savepoints) when called inside a block."""

    @transaction.atomic()
    def create(name: str, fail: bool = False) -> None:
        Account.objects.create(name=name)
        if fail:
            raise Boom

    create("a")
    with pytest.raises(Boom):
        create("b", fail=True)
    with transaction.atomic():
        create("c")
        with pytest.raises(Boom):
            create("d", fail=True)  # its savepoint is rolled back, the outer block lives
        create("e")
    assert names() == {"a", "c", "e"}


def test_atomic_used_as_context_manager_object_twice() -> None:
    """An ``atomic()`` object (like a decorator's) can be entered again after it exits."""
    block = transaction.atomic()
    with block:
        Account.objects.create(name="a")
    with pytest.raises(Boom):
        with block:
            Account.objects.create(name="b")
            raise Boom
    assert names() == {"a"}


def test_atomic_unknown_alias_is_refused() -> None:
    with pytest.raises(orm.ImproperlyConfigured, match="nope"):
        with transaction.atomic(using="nope"):
            pass  # pragma: no cover - not reached


# ------------------------------------------------- get_autocommit / rollback flag


def test_get_autocommit_through_block_lifecycle() -> None:
    assert transaction.get_autocommit() is True
    with transaction.atomic():
        assert transaction.get_autocommit() is False
        with transaction.atomic():
            assert transaction.get_autocommit() is False
        with transaction.atomic(savepoint=False):
            assert transaction.get_autocommit() is False
        assert transaction.get_autocommit() is False
    assert transaction.get_autocommit() is True
    with pytest.raises(Boom):
        with transaction.atomic():
            raise Boom
    assert transaction.get_autocommit() is True
    with transaction.atomic():
        transaction.set_rollback(True)
    assert transaction.get_autocommit() is True


def test_rollback_flag_outside_atomic_raises() -> None:
    with pytest.raises(orm.TransactionManagementError):
        transaction.get_rollback()
    with pytest.raises(orm.TransactionManagementError):
        transaction.set_rollback(True)
    with pytest.raises(orm.TransactionManagementError):
        transaction.set_rollback(False)


def test_set_rollback_true_rolls_back_without_an_exception() -> None:
    with transaction.atomic():
        assert transaction.get_rollback() is False
        Account.objects.create(name="a")
        transaction.set_rollback(True)
        assert transaction.get_rollback() is True
    assert names() == set()


def test_set_rollback_false_cancels_a_requested_rollback() -> None:
    with transaction.atomic():
        Account.objects.create(name="a")
        transaction.set_rollback(True)
        transaction.set_rollback(False)
        assert transaction.get_rollback() is False
        Account.objects.create(name="b")
    assert names() == {"a", "b"}


def test_set_rollback_in_a_savepoint_only_undoes_that_savepoint() -> None:
    with transaction.atomic():
        Account.objects.create(name="a")
        with transaction.atomic():
            Account.objects.create(name="b")
            transaction.set_rollback(True)
            assert transaction.get_rollback() is True
        assert transaction.get_rollback() is False
        Account.objects.create(name="c")
    assert names() == {"a", "c"}


# ------------------------------------------------------------ manual savepoints


def test_savepoint_outside_atomic_raises() -> None:
    with pytest.raises(orm.TransactionManagementError):
        transaction.savepoint()


def test_savepoint_rollback_undoes_work_after_the_savepoint() -> None:
    with transaction.atomic():
        Account.objects.create(name="a")
        sid = transaction.savepoint()
        assert isinstance(sid, str) and sid
        Account.objects.create(name="b")
        assert names() == {"a", "b"}
        transaction.savepoint_rollback(sid)
        assert names() == {"a"}
        Account.objects.create(name="c")
    assert names_from_other_thread() == {"a", "c"}


def test_savepoint_commit_keeps_work_and_outer_rollback_still_undoes_it() -> None:
    with transaction.atomic():
        sid = transaction.savepoint()
        Account.objects.create(name="a")
        transaction.savepoint_commit(sid)
    assert names() == {"a"}

    with transaction.atomic():
        sid = transaction.savepoint()
        Account.objects.create(name="b")
        transaction.savepoint_commit(sid)
        transaction.set_rollback(True)
    assert names() == {"a"}


def test_nested_manual_savepoints_each_get_a_distinct_id() -> None:
    with transaction.atomic():
        s1 = transaction.savepoint()
        Account.objects.create(name="a")
        s2 = transaction.savepoint()
        Account.objects.create(name="b")
        assert s1 != s2
        transaction.savepoint_rollback(s2)
        assert names() == {"a"}
        transaction.savepoint_rollback(s1)
        assert names() == set()
        Account.objects.create(name="c")
    assert names() == {"c"}


def test_savepoint_rollback_recovers_from_a_database_error() -> None:
    """Django's documented recipe: roll back to a savepoint, then clear the rollback flag."""
    Account.objects.create(name="dup")
    with transaction.atomic():
        Account.objects.create(name="a")
        sid = transaction.savepoint()
        with pytest.raises(orm.IntegrityError):
            Account.objects.create(name="dup")
        assert transaction.get_rollback() is True
        transaction.savepoint_rollback(sid)
        transaction.set_rollback(False)
        Account.objects.create(name="b")
    assert names_from_other_thread() == {"dup", "a", "b"}


def test_explicit_commit_or_rollback_inside_atomic_is_refused() -> None:
    with transaction.atomic():
        Account.objects.create(name="a")
        with pytest.raises(orm.TransactionManagementError):
            orm.connection.commit()
        with pytest.raises(orm.TransactionManagementError):
            orm.connection.rollback()
    assert names() == {"a"}
