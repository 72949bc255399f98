"""A6: connectors and the reserved ``Q`` keywords (CVE-2025-64459).

``Q(_connector=...)`` accepts only None, "AND", "OR", "XOR" (ValueError
otherwise) and ``Q(_negated=...)`` only a bool (TypeError); ``filter``,
``exclude``, ``get`` and the methods built on them refuse the keywords
``_connector`` and ``_negated`` with TypeError, whatever their value.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm import Q
from tests.security.corpus import Q_CONNECTORS, QUERYSET_RESERVED_KWARGS
from tests.security.models import Book


@pytest.fixture
def two(db: str) -> list[Book]:
    return [Book.objects.create(name="a", rating=1), Book.objects.create(name="b", rating=2)]


@pytest.mark.parametrize("connector", Q_CONNECTORS)
def test_q_connector_allow_list(connector: str) -> None:
    with pytest.raises(ValueError, match="connector"):
        Q(name="a", rating=1, _connector=connector)


@pytest.mark.parametrize("negated", ["yes", 1, 0, None, "False"])
def test_q_negated_must_be_bool(negated: Any) -> None:
    with pytest.raises(TypeError, match="_negated"):
        Q(name="a", _negated=negated)


@pytest.mark.parametrize("kwargs", QUERYSET_RESERVED_KWARGS, ids=repr)
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda kw: Book.objects.filter(name="a", **kw), id="filter"),
        pytest.param(lambda kw: Book.objects.exclude(name="a", **kw), id="exclude"),
        pytest.param(lambda kw: Book.objects.get(name="a", **kw), id="get"),
        pytest.param(lambda kw: Book.objects.all().filter(**kw).count(), id="filter-only"),
        pytest.param(lambda kw: Book.objects.get_or_create(name="a", **kw), id="get_or_create"),
        pytest.param(
            lambda kw: Book.objects.update_or_create(name="a", **kw), id="update_or_create"
        ),
    ],
)
def test_queryset_refuses_reserved_keywords(
    two: list[Book], reject: Any, snapshot: Any, call: Any, kwargs: dict[str, Any]
) -> None:
    before = snapshot(Book)
    with reject(TypeError, next(iter(kwargs))):
        call(kwargs)
    assert snapshot(Book) == before


@pytest.mark.parametrize(
    "connector,expected", [("AND", []), ("OR", ["a", "b"]), ("XOR", ["a", "b"]), (None, [])]
)
def test_control_valid_connectors(
    two: list[Book], connector: str | None, expected: list[str]
) -> None:
    q = Q(name="a", rating=2, _connector=connector)
    assert [b.name for b in Book.objects.filter(q).order_by("name")] == expected
    assert [b.name for b in Book.objects.filter(Q(name="a", _negated=True))] == ["b"]
