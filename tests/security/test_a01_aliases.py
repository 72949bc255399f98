"""A1: hostile aliases are refused at call time with a ValueError naming the rule, 0 queries.

Entry points: ``annotate``, ``alias``, ``aggregate`` (keyword and an
aggregate's default alias), ``values(**expressions)``, their async twins and
the ``name`` of ``Index``/``UniqueConstraint``/``CheckConstraint``.
``values_list`` takes names only: see test_entry_points.py.
"""

from __future__ import annotations

import pytest

import orm
from orm import Count, F, Q, Sum, Value
from tests.security.corpus import ALIAS_CONTROL, ALIAS_LISTED, HOSTILE_ALIASES, SAFE_ALIASES
from tests.security.models import Book

RULE = "Aliases cannot contain whitespace, quotation marks, semicolons"


def test_control_corpus_is_complete() -> None:
    """Every C0 control, DEL and every C1 control is appended once (CVE-2026-1287)."""
    assert [ord(a[1]) for a in ALIAS_CONTROL] == [*range(0, 32), *range(0x7F, 0xA0)]
    assert len(HOSTILE_ALIASES) == len(set(HOSTILE_ALIASES))


def test_annotate_rejects_every_alias_at_call_time(db: str, all_rejected, snapshot) -> None:
    """The whole corpus, one ``annotate`` call each; the QuerySet is never evaluated."""
    Book.objects.create(name="kept")
    before = snapshot(Book)
    all_rejected(
        lambda alias: Book.objects.annotate(**{alias: Value(1)}), HOSTILE_ALIASES, ValueError, RULE
    )
    assert snapshot(Book) == before


@pytest.mark.parametrize("alias", ALIAS_LISTED + ["a\x00", "a\x1f", "a\x7f", "a\x9f"])
def test_error_names_rule_and_alias(db: str, reject, alias: str) -> None:
    with reject(ValueError, RULE) as info:
        Book.objects.annotate(**{alias: Value(1)})
    assert repr(alias) in str(info.value), "the error must name the offending alias"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda a: Book.objects.alias(**{a: F("rating")}), id="alias"),
        pytest.param(lambda a: Book.objects.aggregate(**{a: Count("id")}), id="aggregate"),
        pytest.param(lambda a: Book.objects.values(**{a: F("rating")}), id="values(**expr)"),
        pytest.param(lambda a: Book.objects.values(**{a: "rating"}), id="values(**str)"),
    ],
)
def test_other_alias_entry_points(db: str, all_rejected, call) -> None:
    all_rejected(call, HOSTILE_ALIASES, ValueError, RULE)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda a: Book.objects.aggregate(Sum(a)), id="aggregate"),
        pytest.param(lambda a: Book.objects.annotate(Count(a)), id="annotate"),
    ],
)
def test_default_alias_is_checked(db: str, all_rejected, call) -> None:
    """``aggregate(Sum("<name>"))`` derives the alias ``<name>__sum``: it is checked too
    (the empty name is left out: ``__sum`` is a valid alias and ``""`` fails as a field)."""
    all_rejected(call, [a for a in HOSTILE_ALIASES if a], ValueError, RULE)


@pytest.mark.parametrize("alias", ALIAS_LISTED + ["a\x00", "a\x9f"])
def test_constraint_and_index_names_rejected(alias: str) -> None:
    """Names of indexes and constraints reach DDL: refused when the object is built."""
    with pytest.raises(ValueError, match=RULE):
        orm.Index(fields=["name"], name=alias)
    with pytest.raises(ValueError, match=RULE):
        orm.UniqueConstraint(fields=["name"], name=alias)
    with pytest.raises(ValueError, match=RULE):
        orm.CheckConstraint(condition=Q(rating__gte=0), name=alias)


@pytest.mark.parametrize("alias", SAFE_ALIASES)
def test_safe_aliases_still_work(db: str, alias: str) -> None:
    """Control: ordinary (also non-ASCII) aliases are selected under exactly that name."""
    Book.objects.create(name="b", rating=3)
    assert list(Book.objects.annotate(**{alias: F("rating")}).values_list(alias, flat=True)) == [3]
    assert Book.objects.aggregate(**{alias: Sum("rating")}) == {alias: 3}
    assert list(Book.objects.values(**{alias: F("rating")})) == [{alias: 3}]


async def test_async_twin_rejects_before_sql(db: str, count_queries) -> None:
    """``aaggregate`` runs the same check on the sync thread: ValueError, 0 queries."""
    async with count_queries() as ctx:
        with pytest.raises(ValueError, match=RULE):
            await Book.objects.aaggregate(**{'x" FROM t; --': Count("id")})
    assert ctx.queries == []
