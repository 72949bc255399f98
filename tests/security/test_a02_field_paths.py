"""A2: hostile field paths raise FieldError listing the valid choices; 0 queries; no write.

Entry points of the row: ``filter``, ``exclude``, ``get``, ``Q``, ``values``,
``only``/``defer``, ``update(**kw)``, ``create(**kw)``. Every other entry
point that takes a field name is covered by test_entry_points.py.

``create(**kw)`` raises ``UnknownFieldError``, both the ``TypeError``
``Model(**kw)`` raises in Django and the ``FieldError`` RELIABILITY.md asks
for; here only the security property (refused, 0 queries, nothing stored) is
asserted.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import F, FieldError, Q
from tests.security.corpus import FIELD_PATHS, FIELD_PATHS_LISTED, FIELD_PATHS_LOOKALIKE, REAL_FIELD
from tests.security.models import Author, Book

#: One of these in the message shows it lists valid alternatives: a field, a
#: relation (select_related-style messages) or a lookup name.
CHOICES = ("rating", "author", "exact")


@pytest.fixture
def stored(db: str) -> Book:
    author = Author.objects.create(name="kept")
    return Book.objects.create(name="kept", rating=7, author=author, data={"k": 1})


def test_lookalikes_differ_from_the_real_name() -> None:
    """Each look-alike is a different string from the real name (some NFKC- or case-equal)."""
    assert all(p != REAL_FIELD for p in FIELD_PATHS_LOOKALIKE)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda p: list(Book.objects.filter(**{p: "x"})), id="filter"),
        pytest.param(lambda p: list(Book.objects.exclude(**{p: "x"})), id="exclude"),
        pytest.param(lambda p: Book.objects.get(**{p: "x"}), id="get"),
        pytest.param(lambda p: list(Book.objects.filter(Q(**{p: "x"}) | Q(pk=1))), id="Q"),
        pytest.param(lambda p: list(Book.objects.values(p)), id="values"),
        pytest.param(lambda p: list(Book.objects.only(p)), id="only"),
        pytest.param(lambda p: list(Book.objects.defer(p)), id="defer"),
        pytest.param(lambda p: Book.objects.update(**{p: "x"}), id="update"),
    ],
)
def test_path_rejected_with_choices(stored: Book, all_rejected, snapshot, call: Any) -> None:
    """Every path of the corpus: FieldError whose message lists valid names, 0 queries."""
    before = snapshot(Book)
    all_rejected(call, FIELD_PATHS, FieldError, CHOICES)
    assert snapshot(Book) == before


def test_create_refuses_unknown_name_and_stores_nothing(
    stored: Book, all_rejected, snapshot
) -> None:
    """Refused before SQL (TypeError today, see module docstring) and nothing is inserted."""
    before = snapshot(Book)
    all_rejected(
        lambda p: Book.objects.create(**{"name": "new", p: "x"}),
        [p for p in FIELD_PATHS if p != "name"],
        (FieldError, TypeError),
        "rating",
    )
    assert snapshot(Book) == before


@pytest.mark.parametrize("path", FIELD_PATHS_LISTED)
def test_update_with_valid_field_and_hostile_expression_changes_nothing(
    stored: Book, reject, snapshot, path: str
) -> None:
    before = snapshot(Book)
    with reject(FieldError):
        Book.objects.update(name=F(path))
    with reject(FieldError):
        Book.objects.filter(pk=stored.pk).update(rating=7, **{path: 1})
    assert snapshot(Book) == before


def test_control_real_name_resolves(stored: Book) -> None:
    """Control: the same entry points accept the real name (the tests above can fail)."""
    assert Book.objects.get(**{REAL_FIELD: "kept"}) == stored
    assert list(Book.objects.values_list(REAL_FIELD, flat=True)) == ["kept"]
    assert Book.objects.filter(Q(**{REAL_FIELD: "kept"})).count() == 1
    assert Book.objects.update(**{REAL_FIELD: "kept"}) == 1


# ---------------------------------------------------------------- A2 names


def test_create_unknown_field_is_fielderror(db: str, reject: Any) -> None:
    """A2 ``create(**kw)``: expected FieldError listing the choices; actual TypeError
    ("Book() got unexpected keyword arguments: ... Fields are: ...") from Model.__init__
    (the Django behaviour, but not the catalogue's). 0 queries already holds."""
    for path in FIELD_PATHS_LISTED:
        with reject(FieldError, "rating"):
            Book.objects.create(**{path: "x"})


def test_prefetch_related_checks_names_before_sql(db: str, reject: Any) -> None:
    """A2 (brief: every entry point taking a field name): ``prefetch_related('name"; DROP
    TABLE x; --')`` runs the main SELECT first and raises FieldError only afterwards
    (1 query); on an empty table the hostile name is accepted silently (no error at all).
    Expected: FieldError before any SQL, whatever the rows."""
    with reject(FieldError):
        list(
            Book.objects.prefetch_related('name"; DROP TABLE x; --')
        )  # empty table: no error today
    Book.objects.create(name="b")
    with reject(FieldError):
        list(Book.objects.prefetch_related("n\u0430me"))  # 1 SELECT runs first today


def test_defaults_names_checked_before_sql(db: str, reject: Any, snapshot: Any) -> None:
    """A2 via ``get_or_create``/``update_or_create`` ``defaults=``:
    - ``get_or_create(name="new", defaults={'name"; --': 1})`` raises FieldError only after
      its SELECT ran (1 query);
    - ``get_or_create(name="kept", defaults={<hostile>: 1})`` on an existing row returns it
      with no error at all;
    - ``update_or_create(name="kept", defaults={<hostile>: 1})`` on an existing row silently
      sets a Python attribute, saves, and returns (obj, False): the caller believes a field
      was updated.
    Expected: FieldError listing the choices, 0 queries, nothing written."""
    Book.objects.create(name="kept")
    before = snapshot(Book)
    hostile = {'name"; DROP TABLE x; --': 1}
    with reject(FieldError):
        Book.objects.update_or_create(name="kept", defaults=hostile)
    with reject(FieldError):
        Book.objects.get_or_create(name="kept", defaults=hostile)
    with reject(FieldError):
        Book.objects.get_or_create(name="new", defaults=hostile)
    assert snapshot(Book) == before


# -------------------------------------------------------------- not security


def test_select_for_update_of_checked_on_sqlite(db: str, reject: Any) -> None:
    """Minor: ``select_for_update(of=['name"; --'])`` is validated only where FOR UPDATE is
    compiled (PostgreSQL); on SQLite the hostile name is accepted silently, so the same code
    passes tests on SQLite and fails in production. Expected: FieldError/ValueError on every
    backend, before SQL."""
    with orm.transaction.atomic():
        with reject((FieldError, ValueError)):
            list(Book.objects.select_for_update(of=['name"; DROP TABLE x; --']))
