"""A13: values of the wrong type, refused before SQL with messages naming field and value.

- ``pk='abc'`` → ``ValueError("Field 'id' expected a number but got 'abc'.")``
  in every lookup path (filter, get, in, in_bulk, relations).
- A set / object / date / Decimal / bytes / non-str key into a JSONField →
  ``TypeError`` naming the field and where in the document.
- An instance of another model into a ForeignKey: assignment (``create``,
  ``Model(...)``) → ``ValueError`` naming ``Book.author``; in a lookup or
  ``update`` → ``ValueError`` naming the field and both models, as in Django.
- bytes into a TextField → ``TypeError`` (no ``str()``).
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from tests.security.corpus import BYTES_VALUES, NON_JSON, PK_JUNK
from tests.security.models import Author, Book, Sample, Tag

PK_MESSAGE = rf"^Field 'id' expected a number but got '{PK_JUNK}'\.$"


@pytest.fixture
def stored(db: str) -> Book:
    return Book.objects.create(name="kept", author=Author.objects.create(name="a"), data={"k": 1})


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: list(Book.objects.filter(pk=PK_JUNK)), id="filter pk"),
        pytest.param(lambda: list(Book.objects.filter(id=PK_JUNK)), id="filter id"),
        pytest.param(lambda: Book.objects.get(pk=PK_JUNK), id="get"),
        pytest.param(lambda: list(Book.objects.filter(pk__in=[1, PK_JUNK])), id="in"),
        pytest.param(lambda: list(Book.objects.exclude(pk__gt=PK_JUNK)), id="exclude gt"),
        pytest.param(lambda: Book.objects.in_bulk([PK_JUNK]), id="in_bulk"),
        pytest.param(lambda: list(Book.objects.filter(author=PK_JUNK)), id="fk"),
        pytest.param(lambda: list(Book.objects.filter(author_id=PK_JUNK)), id="fk attname"),
        pytest.param(lambda: list(Book.objects.filter(author__pk=PK_JUNK)), id="fk__pk"),
        pytest.param(lambda: list(Author.objects.filter(books__pk=PK_JUNK)), id="reverse"),
        pytest.param(lambda: Book.objects.filter(pk=PK_JUNK).update(name="x"), id="update where"),
        pytest.param(lambda: Book.objects.filter(pk=PK_JUNK).delete(), id="delete where"),
    ],
)
def test_pk_abc(stored: Book, reject: Any, snapshot: Any, call: Any) -> None:
    before = snapshot(Book)
    with reject(ValueError, PK_MESSAGE):
        call()
    assert snapshot(Book) == before


@pytest.mark.parametrize("value,where", NON_JSON, ids=repr)
def test_non_json_is_typeerror(
    stored: Book, reject: Any, snapshot: Any, value: Any, where: str
) -> None:
    before = snapshot(Book)
    with reject(TypeError, f"Field 'data'.*{where}"):
        Book.objects.create(name="n", data=value)
    with reject(TypeError, "'data'"):
        Book.objects.update(data=value)
    with reject(TypeError, "'data'"):
        Book.objects.bulk_create([Book(name="n", data=value)])
    assert snapshot(Book) == before


def test_instance_of_other_model_into_fk(stored: Book, reject: Any, snapshot: Any) -> None:
    tag = Tag.objects.create(name="t")
    before = snapshot(Book)
    with reject(ValueError, r'"Book.author" must be a "Author" instance'):
        Book.objects.create(name="n", author=tag)
    with reject(ValueError, r'"Book.author" must be a "Author" instance'):
        Book(name="n", author=tag)
    with reject(ValueError, "'author'.*Author.*Tag"):
        list(Book.objects.filter(author=tag))
    with reject(ValueError, "'author'.*Author.*Tag"):
        list(Book.objects.filter(author__in=[stored.author, tag]))
    with reject(ValueError, "'author'.*Author.*Tag"):
        Book.objects.update(author=tag)
    assert snapshot(Book) == before


def test_unsaved_related_object_refused(stored: Book, reject: Any, snapshot: Any) -> None:
    before = snapshot(Book)
    with reject(ValueError, "unsaved related object 'author'"):
        Book.objects.create(name="n", author=Author(name="unsaved"))
    assert snapshot(Book) == before


@pytest.mark.parametrize("value", BYTES_VALUES, ids=repr)
def test_bytes_into_text(stored: Book, reject: Any, value: Any) -> None:
    with reject(TypeError, "'text' expected a str but got"):
        Sample.objects.create(text=value)
    with reject(TypeError, "'name' expected a str"):
        list(Book.objects.filter(name=value))
    assert Sample.objects.count() == 0


def test_control_right_types_accepted(stored: Book) -> None:
    assert Book.objects.get(pk=str(stored.pk)) == stored
    assert list(Book.objects.filter(author=stored.author)) == [stored]
    assert list(Book.objects.filter(author=stored.author.pk)) == [stored]
    assert Book.objects.get(pk=stored.pk).data == {"k": 1}


# ------------------------------------------------------------- A13 wrong types


def test_fk_lookup_with_other_models_instance(db: str, reject: Any) -> None:
    """A13 (minor): an instance of another model is a ValueError on assignment
    (``create(author=tag)``) but a TypeError in ``filter(author=tag)`` / ``update(author=tag)``;
    Django raises ValueError for both and A13 asks for ValueError-style messages.
    Expected: ValueError in every path."""
    from tests.security.models import Tag

    tag = Tag.objects.create(name="t")
    with reject(ValueError, "author"):
        list(Book.objects.filter(author=tag))
    with reject(ValueError, "author"):
        Book.objects.update(author=tag)


def test_none_into_not_null_checked_before_sql(db: str, reject: Any) -> None:
    """Design decision 5 (validate before write), minor: ``create(code=None)`` on a NOT NULL
    CharField reaches the database and fails there with IntegrityError (1 query).
    ``Field.check_write`` has a "cannot be None (null=False)" DataError, but it is dead code:
    ``get_db_prep_save`` calls ``check_write`` only for values that are not None.
    Checked before SQL since; the error is IntegrityError, the one the database gives
    (issue 11 item 13)."""
    with reject(orm.IntegrityError, "'code'"):
        Sample.objects.create(code=None)
