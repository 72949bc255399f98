"""Model instances: construction, pk, equality, validation, save/update, refresh, errors."""

from __future__ import annotations

import datetime
import pickle
import uuid
from decimal import Decimal
from typing import Any

import pytest

import orm
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import AllFields, Article, Author, Book, Place, Tag, Token

# ------------------------------------------------------------------ __init__


def test_init_with_unknown_keyword_raises_type_error_naming_it() -> None:
    with pytest.raises(TypeError) as excinfo:
        Author(name="x", nickname="y")
    assert "'nickname'" in str(excinfo.value)


def test_init_with_many_to_many_keyword_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"tags\.set\(\)"):
        Book(title="x", tags=[])


def test_init_applies_defaults_and_accepts_attname_or_instance() -> None:
    book = Book(title="x", author_id=5)
    assert book.price == 0
    assert book.pages is None
    assert book.author_id == 5
    author = Author(pk=7, name="A", email="a@example.com")
    assert Book(title="y", author=author).author_id == 7


def test_init_calls_a_callable_default_only_for_a_value_not_given() -> None:
    calls: list[int] = []

    def make() -> uuid.UUID:
        calls.append(1)
        return uuid.uuid4()

    field = Token._meta.get_field("id")
    original = field.default
    field.default = make
    Token._meta.expire_cache()  # the plan of Model(**kwargs) reads the defaults once
    try:
        given = uuid.UUID(int=1)
        assert Token(id=given, label="x").id == given
        assert calls == []
        assert isinstance(Token(label="y").id, uuid.UUID)
        assert calls == [1]
    finally:
        field.default = original
        Token._meta.expire_cache()


def test_init_keeps_constant_defaults_apart_per_instance_and_runs_post_init() -> None:
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append((instance.char_value, instance.bool_value, instance.int_value))

    orm.signals.post_init.connect(receiver, sender=AllFields)
    try:
        first = AllFields(int_value=3)
        second = AllFields()
    finally:
        orm.signals.post_init.disconnect(receiver, sender=AllFields)
    assert seen == [("", False, 3), ("", False, None)]
    first.char_value = "changed"
    assert second.char_value == ""
    assert AllFields(char_value="given").char_value == "given"


def test_init_with_a_relation_given_both_ways_raises_naming_the_attname() -> None:
    author = Author(pk=7, name="A", email="a@example.com")
    with pytest.raises(TypeError, match="unexpected keyword arguments: 'author_id'"):
        Book(title="x", author=author, author_id=7)
    book = Book(title="x", author=author, pages=3)
    assert (book.author_id, book.author, book.pages, book.price) == (7, author, 3, 0)


def test_assigning_wrong_instance_type_to_foreign_key_raises() -> None:
    with pytest.raises(ValueError, match='must be a "Author" instance'):
        Book(title="x", author=Tag(name="t"))


def test_manager_is_not_reachable_from_instances() -> None:
    with pytest.raises(AttributeError, match="Manager isn't accessible"):
        Author(name="a").objects  # noqa: B018


# ----------------------------------------------------------------- identity


def test_pk_is_none_before_save_and_set_after(db: str) -> None:
    author = Author(name="A", email="a@example.com")
    assert author.pk is None
    author.save()
    assert isinstance(author.pk, int)
    assert author.pk == author.id


def test_equality_and_hashing_by_class_and_pk(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    again = Author.objects.get(pk=author.pk)
    assert author == again
    assert author is not again
    assert hash(author) == hash(again)
    assert len({author, again}) == 1
    # Same pk value, different model: not equal.
    tag = Tag.objects.create(name="t")
    assert tag.pk == author.pk
    assert tag != author
    # Unsaved instances are equal only to themselves and are unhashable.
    a, b = Author(name="x"), Author(name="x")
    assert a == a
    assert a != b
    with pytest.raises(TypeError):
        hash(a)


def test_str_and_repr(db: str) -> None:
    token = Token.objects.create(label="t")
    assert str(token) == f"Token object ({token.pk})"
    assert repr(token) == f"<Token: Token object ({token.pk})>"
    author = Author.objects.create(name="Ann", email="ann@example.com")
    assert repr(author) == "<Author: Ann>"


def test_pickle_round_trip(db: str) -> None:
    author = Author.objects.create(name="P", email="p@example.com")
    clone = pickle.loads(pickle.dumps(author))
    assert clone == author
    assert clone.name == "P"
    clone.name = "Q"
    clone.save()  # the state (database, not adding) survives pickling
    assert Author.objects.count() == 1
    assert Author.objects.get().name == "Q"


# ----------------------------------------------------------------- full_clean


def test_full_clean_collects_errors_per_field(db: str) -> None:
    author = Author(name="", email="not-an-email")
    with pytest.raises(orm.ValidationError) as excinfo:
        author.full_clean()
    errors = excinfo.value.message_dict
    assert set(errors) == {"name", "email"}
    assert errors["email"] == ["Enter a valid email address."]


def test_full_clean_checks_max_length_choices_validators_and_null(db: str) -> None:
    article = Article(headline="h" * 101, slug="not a slug", status="x", word_count=3, rating=None)
    with pytest.raises(orm.ValidationError) as excinfo:
        article.full_clean()  # the inherited auto_now fields are skipped (editable=False)
    errors = excinfo.value.message_dict
    assert set(errors) == {"headline", "slug", "status", "word_count", "rating"}
    assert errors["word_count"] == ["3 is not an even number."]


def test_full_clean_passes_for_valid_instance_and_coerces(db: str) -> None:
    article = Article(headline="Fine", slug="fine", status="p", word_count="4", rating=3)
    article.full_clean()
    assert article.word_count == 4  # cleaned values are stored back
    obj = AllFields(decimal_value="1.5", date_value="2024-01-02")
    # null=True without blank=True: empty values are errors, as in Django.
    others = [
        f.name
        for f in AllFields._meta.concrete_fields
        if f.name not in ("id", "decimal_value", "date_value")
    ]
    obj.full_clean(exclude=others)
    assert obj.decimal_value == Decimal("1.5")
    assert obj.date_value == datetime.date(2024, 1, 2)


def test_full_clean_checks_uniqueness_against_the_database(db: str) -> None:
    existing = Author.objects.create(name="A", email="taken@example.com")
    duplicate = Author(name="B", email="taken@example.com")
    with pytest.raises(orm.ValidationError) as excinfo:
        duplicate.full_clean()
    assert set(excinfo.value.message_dict) == {"email"}
    existing.full_clean()  # an object does not conflict with itself
    duplicate.full_clean(exclude=["email"])
    duplicate.full_clean(validate_unique=False)


def test_full_clean_exclude_skips_fields(db: str) -> None:
    Author(name="", email="x@example.com").full_clean(exclude=["name"])


# --------------------------------------------------------------------- save()


def test_save_inserts_then_updates(db: str, count_queries: type[QueryCounter]) -> None:
    author = Author(name="A", email="a@example.com")
    with count_queries() as ctx:
        author.save()
    assert len(ctx.queries) == 1
    assert ctx.queries[0][0].lstrip().upper().startswith("INSERT")
    pk = author.pk
    author.name = "B"
    with count_queries() as ctx:
        author.save()
    assert author.pk == pk
    assert [sql.lstrip().split()[0].upper() for sql, _ in ctx.queries] == ["UPDATE"]
    assert Author.objects.count() == 1
    assert Author.objects.get().name == "B"


def test_save_with_explicit_pk_inserts_when_missing(db: str) -> None:
    Author(pk=100, name="Explicit", email="e@example.com").save()
    assert Author.objects.get(pk=100).name == "Explicit"


def test_save_update_fields_writes_only_those_fields(db: str) -> None:
    author = Author.objects.create(name="Old", email="old@example.com")
    author.name = "New"
    author.email = "new@example.com"
    author.save(update_fields=["name"])
    fresh = Author.objects.get(pk=author.pk)
    assert fresh.name == "New"
    assert fresh.email == "old@example.com"


def test_save_update_fields_rejects_unknown_names(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    with pytest.raises(ValueError, match="nope"):
        author.save(update_fields=["nope"])


def test_save_update_fields_empty_is_a_no_op(db: str, count_queries: type[QueryCounter]) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    with count_queries() as ctx:
        author.save(update_fields=[])
    assert ctx.queries == []


def test_save_update_fields_on_deleted_row_raises(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    Author.objects.filter(pk=author.pk).delete()
    with pytest.raises(orm.DatabaseError):
        author.save(update_fields=["name"])


@pytest.mark.transactional  # a database error inside the test's transaction
def test_force_insert_of_existing_row_raises_integrity_error(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    with pytest.raises(orm.IntegrityError):
        author.save(force_insert=True)
    assert Author.objects.count() == 1


def test_force_update_of_missing_row_raises(db: str) -> None:
    with pytest.raises(orm.DatabaseError):
        Author(pk=42, name="Ghost", email="g@example.com").save(force_update=True)


@pytest.mark.transactional  # a database error inside the test's transaction
def test_unique_violation_raises_integrity_error_with_driver_cause(db: str) -> None:
    Author.objects.create(name="A", email="same@example.com")
    with pytest.raises(orm.IntegrityError) as excinfo:
        Author.objects.create(name="B", email="same@example.com")
    assert excinfo.value.__cause__ is not None
    assert Author.objects.count() == 1


def test_saving_with_unsaved_related_object_is_refused(db: str) -> None:
    author = Author(name="Unsaved", email="u@example.com")
    with pytest.raises(ValueError, match="unsaved related object 'author'"):
        Book(title="x", author=author).save()


def test_related_object_saved_after_assignment_is_picked_up(db: str) -> None:
    author = Author(name="Later", email="later@example.com")
    book = Book(title="x", author=author)
    author.save()
    book.save()
    assert Book.objects.get().author_id == author.pk


def test_auto_now_updates_on_every_save_and_auto_now_add_does_not(db: str) -> None:
    article = Article.objects.create(headline="H", slug="h")
    created, modified = article.created, article.modified
    assert created is not None and modified is not None
    article.headline = "H2"
    article.save()
    fresh = Article.objects.get(pk=article.pk)
    assert fresh.created == created
    assert fresh.modified >= modified
    assert fresh.modified == article.modified


def test_db_column_is_used_for_the_column(db: str) -> None:
    Article.objects.create(headline="H", slug="h", rating=4)
    table = Article._meta.db_table
    with orm.connection.cursor() as cursor:
        cursor.execute(f'SELECT "score" FROM "{table}"')
        assert cursor.fetchone()[0] == 4
    assert Article.objects.filter(rating=4).count() == 1
    assert list(Article.objects.values_list("rating", flat=True)) == [4]


def test_field_options_are_kept_on_the_field() -> None:
    headline = Article._meta.get_field("headline")
    assert headline.verbose_name == "head line"
    assert headline.help_text == "Shown on the front page."
    assert Article._meta.get_field("internal_note").editable is False
    assert Article._meta.get_field("rating").column == "score"
    assert Article._meta.db_table == "tests_article"
    assert Book.tags.through._meta.db_table == "tests_book_tags"


# ---------------------------------------------------------------- refresh


def test_refresh_from_db_reloads_all_or_some_fields(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    Author.objects.filter(pk=author.pk).update(name="B", email="b@example.com")
    author.refresh_from_db(fields=["name"])
    assert author.name == "B"
    assert author.email == "a@example.com"
    author.refresh_from_db()
    assert author.email == "b@example.com"


def test_refresh_from_db_clears_cached_relation(library: Library) -> None:
    book = Book.objects.select_related("author").get(pk=library.basics.pk)
    assert book.author.name == "Alice"
    Book.objects.filter(pk=book.pk).update(author=library.bob)
    book.refresh_from_db()
    assert book.author_id == library.bob.pk
    assert book.author.name == "Bob"


def test_refresh_from_db_of_deleted_row_raises_does_not_exist(db: str) -> None:
    place = Place.objects.create(name="Gone")
    Place.objects.all().delete()
    with pytest.raises(Place.DoesNotExist):
        place.refresh_from_db()


# --------------------------------------------------------- DoesNotExist etc.


def test_does_not_exist_is_per_model_and_an_object_does_not_exist(db: str) -> None:
    with pytest.raises(Author.DoesNotExist) as excinfo:
        Author.objects.get(pk=999)
    assert isinstance(excinfo.value, orm.ObjectDoesNotExist)
    assert not issubclass(Author.DoesNotExist, Book.DoesNotExist)
    assert not issubclass(Book.DoesNotExist, Author.DoesNotExist)
    assert "Author matching query does not exist" in str(excinfo.value)


def test_multiple_objects_returned(db: str) -> None:
    Author.objects.create(name="Same", email="1@example.com")
    Author.objects.create(name="Same", email="2@example.com")
    with pytest.raises(Author.MultipleObjectsReturned) as excinfo:
        Author.objects.get(name="Same")
    assert isinstance(excinfo.value, orm.MultipleObjectsReturned)
    assert "returned 2" in str(excinfo.value)


def test_deleting_an_instance_clears_its_pk(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    result = author.delete()
    assert result == (1, {"tests.Author": 1})
    assert author.pk is None
    with pytest.raises(ValueError):
        author.delete()
