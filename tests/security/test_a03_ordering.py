"""A3: ordering terms outside ``[-]field(__field)*`` (or ``?``) raise FieldError before SQL.

Entry points: ``order_by``, ``Meta.ordering`` (checked when the class is
built), ``latest``/``earliest`` (and ``Meta.get_latest_by``), ``union()``
ordering, and an annotation alias containing a period (ValueError at
``annotate``, CVE-2026-1312). orm raises ``FieldError`` for every term tried
(the row allows FieldError or ValueError); only a grammatical name that is
not a selected column of a ``union()`` gets the compiler's ValueError.
"""

from __future__ import annotations

import datetime as dt

import pytest

import orm
from orm import F, FieldError
from tests.security.corpus import ORDERING_DOTTED_ALIAS, ORDERING_TERMS
from tests.security.models import Book

#: Terms that pass the grammar check and fail name resolution instead ("name\n" passes
#: because the pattern ends in ``$``, which also matches before a final newline).
GRAMMATICAL = ("name\n", "name__evil")
UNGRAMMATICAL = [t for t in ORDERING_TERMS if t not in GRAMMATICAL]


@pytest.fixture
def books(db: str) -> list[Book]:
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return [
        Book.objects.create(name=n, rating=r, published=t0 + dt.timedelta(days=r))
        for n, r in (("b", 2), ("a", 3), ("c", 1))
    ]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda t: list(Book.objects.order_by(t)), id="order_by"),
        pytest.param(lambda t: list(Book.objects.order_by("name", t)), id="order_by(second)"),
        pytest.param(lambda t: list(Book.objects.values("name").order_by(t)), id="values.order_by"),
        pytest.param(lambda t: Book.objects.order_by(t).first(), id="first"),
        pytest.param(lambda t: Book.objects.latest(t), id="latest"),
        pytest.param(lambda t: Book.objects.earliest(t), id="earliest"),
    ],
)
def test_ordering_entry_points_reject(books: list[Book], all_rejected, snapshot, call) -> None:
    before = snapshot(Book)
    all_rejected(call, ORDERING_TERMS, FieldError)
    assert snapshot(Book) == before


def test_order_by_grammar_checked_at_call_time(db: str, all_rejected) -> None:
    """Terms outside the grammar fail at ``order_by()`` itself, before evaluation."""
    all_rejected(
        lambda t: Book.objects.order_by(t), UNGRAMMATICAL, FieldError, "Invalid order_by term"
    )


def test_union_ordering_rejects(books: list[Book], all_rejected) -> None:
    """Grammar errors are FieldError at ``order_by``; a grammatical name that is not a
    selected column of the union is a ValueError from the compiler (both allowed by A3)."""
    union = Book.objects.filter(rating=1).union(Book.objects.filter(rating=2))
    all_rejected(lambda t: list(union.order_by(t)), ORDERING_TERMS, (FieldError, ValueError))


@pytest.mark.parametrize("term", UNGRAMMATICAL)
def test_meta_ordering_rejected_when_class_is_built(term: str) -> None:
    with pytest.raises(FieldError, match="Invalid Meta.ordering term"):

        class BadOrdering(orm.Model):
            name = orm.CharField(max_length=10)

            class Meta:
                app_label = "security"
                ordering = [term]


@pytest.mark.parametrize("term", ["name__evil", "nope", "name\n"])
def test_meta_ordering_unknown_field_rejected_before_sql(db: str, reject, term: str) -> None:
    """Grammatical but unknown names in Meta.ordering fail when the query is compiled."""

    class UnknownOrdering(orm.Model):
        name = orm.CharField(max_length=10)

        class Meta:
            app_label = "security"
            ordering = [term]

    orm.create_tables(UnknownOrdering)
    with reject(FieldError):
        list(UnknownOrdering.objects.all())


def test_get_latest_by_hostile(db: str, reject) -> None:
    class HostileLatest(orm.Model):
        name = orm.CharField(max_length=10)

        class Meta:
            app_label = "security"
            get_latest_by = "name; DROP TABLE t"

    orm.create_tables(HostileLatest)
    with reject(FieldError):
        HostileLatest.objects.latest()


def test_dotted_alias_cannot_be_created_or_ordered(db: str, reject) -> None:
    with reject(ValueError, "period"):
        Book.objects.annotate(**{ORDERING_DOTTED_ALIAS: F("published")})
    with reject(FieldError):
        list(Book.objects.order_by(ORDERING_DOTTED_ALIAS))


def test_control_valid_terms_order(books: list[Book]) -> None:
    """Control: the grammar accepts what it should, and ordering is right."""
    assert [b.name for b in Book.objects.order_by("name")] == ["a", "b", "c"]
    assert [b.name for b in Book.objects.order_by("-name")] == ["c", "b", "a"]
    assert [b.rating for b in Book.objects.order_by("-rating")] == [3, 2, 1]
    assert [b.name for b in Book.objects.order_by("author__name", "pk")] == ["b", "a", "c"]
    assert len(list(Book.objects.order_by("?"))) == 3
    assert [b.pk for b in Book.objects.order_by("-pk")] == sorted(
        (b.pk for b in books), reverse=True
    )
    assert Book.objects.latest().rating == 3
    assert Book.objects.earliest("published").rating == 1
    union = Book.objects.filter(rating__lt=3).union(Book.objects.filter(rating=3))
    assert [b.name for b in union.order_by("-name")] == ["c", "b", "a"]
