"""A7: slice bounds are validated in Python (CVE-2012-0805 shape).

Negative bounds → ValueError; non-int and bool → TypeError; bounds above
2**63-1 → ValueError, all before SQL, also when a slice of a slice adds up
past the limit.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import failures
from tests.security.corpus import BAD_SUBSCRIPTS, MAX_SLICE
from tests.security.models import Book


@pytest.fixture
def three(db: str) -> list[Book]:
    return [Book.objects.create(name=n) for n in "abc"]


def check_all(count_queries: Any, call: Any, cases: list[tuple[Any, type[Exception]]]) -> None:
    """Each subscript raises its error before any SQL; every one that does not is reported."""
    problems = [
        p for subscript, error in cases for p in failures(count_queries, call, [subscript], error)
    ]
    assert problems == [], "\n".join(problems)


def _evaluate(subscript: Any) -> Any:
    result = Book.objects.order_by("pk")[subscript]
    return result if isinstance(result, Book) else list(result)


def test_bad_subscript_rejected_before_sql(three: list[Book], count_queries: Any) -> None:
    check_all(count_queries, _evaluate, BAD_SUBSCRIPTS)


def test_bad_subscript_on_values_queryset(three: list[Book], count_queries: Any) -> None:
    check_all(count_queries, lambda k: Book.objects.values("name")[k], BAD_SUBSCRIPTS)
    check_all(
        count_queries, lambda k: Book.objects.values_list("name", flat=True)[k], BAD_SUBSCRIPTS
    )


def _is_range_only(subscript: Any) -> bool:
    bounds = [subscript.start, subscript.stop] if isinstance(subscript, slice) else [subscript]
    return all(b is None or (type(b) is int and b >= 0) for b in bounds) and not (
        isinstance(subscript, slice) and subscript.step is not None
    )


def test_bad_subscript_on_fetched_queryset(three: list[Book], count_queries: Any) -> None:
    """Type and sign checks also hold once the rows are cached (huge bounds then just slice a list)."""
    cached = Book.objects.order_by("pk")
    assert len(cached) == 3
    check_all(
        count_queries, lambda k: cached[k], [c for c in BAD_SUBSCRIPTS if not _is_range_only(c[0])]
    )


@pytest.mark.parametrize("subscript", [2**63, slice(None, 2**70), slice(2**63, None)], ids=repr)
def test_bound_limit_is_named(db: str, subscript: Any) -> None:
    with pytest.raises(ValueError, match=str(MAX_SLICE)):
        Book.objects.all()[subscript]


def test_bool_is_not_an_index(three: list[Book], reject: Any) -> None:
    """Django accepts ``qs[True]`` as ``qs[1]``; orm refuses it."""
    with reject(TypeError, "bool"):
        Book.objects.all()[True]


def test_control_largest_bounds_accepted(three: list[Book]) -> None:
    """Control: the largest legal bounds run and return the right rows."""
    assert [b.name for b in Book.objects.order_by("pk")[:MAX_SLICE]] == ["a", "b", "c"]
    assert list(Book.objects.order_by("pk")[MAX_SLICE:]) == []
    assert [b.name for b in Book.objects.order_by("pk")[1:MAX_SLICE]] == ["b", "c"]
    assert Book.objects.order_by("pk")[2].name == "c"
    with pytest.raises(IndexError):
        Book.objects.order_by("pk")[3]
    assert [b.name for b in Book.objects.order_by("pk")[1:][:1]] == ["b"]


# ------------------------------------------------------------------ A7 slices


def test_nested_slice_past_limit_rejected_before_sql(db: str, reject: Any) -> None:
    """A7: ``qs[2**62:][2**62:]`` (each bound legal) gives an OFFSET of 2**63; orm only
    checks each bound, not the combined offset, so SQLite runs the statement and fails
    with IntegrityError("datatype mismatch") (RELIABILITY.md measured PostgreSQL DataError
    "bigint out of range" for such bounds).
    Expected: ValueError naming 2**63-1, before SQL."""
    Book.objects.create(name="b")
    with reject(ValueError, str(2**63 - 1)):
        list(Book.objects.all()[2**62 :][2**62 :])


def test_slice_step_zero_and_bool(db: str, reject: Any) -> None:
    """A7 (minor): ``qs[::0]`` returns the whole unsliced QuerySet (Python raises
    "slice step cannot be zero"); ``qs[::True]`` is accepted as step 1 although A7 says
    bool → reject. Expected: ValueError for 0 and TypeError for a bool step, before SQL."""
    with reject(ValueError):
        Book.objects.all()[::0]
    with reject(TypeError):
        list(Book.objects.all()[::True])
