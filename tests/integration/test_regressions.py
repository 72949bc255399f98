"""Regression tests for bugs found while writing the integration tests (all fixed).

Each test names the behaviour a user relies on that was once broken.
"""

from __future__ import annotations

import pytest

import orm
from orm import F, Q
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import AllFields, Article, Author, Book


def titles(qs: orm.QuerySet[Book]) -> list[str]:
    return [b.title for b in qs]


# ---------------------------------------------------------------------- BUG 1


class PendingBase(orm.Model):
    name = orm.CharField(max_length=20)
    count = orm.IntegerField(null=True)

    class Meta:
        abstract = True
        app_label = "pending"


class PendingChild(PendingBase):
    class Meta:
        app_label = "pending"


def test_bug1_abstract_inherited_field_without_default_gets_normal_default(backend: str) -> None:
    child = PendingChild()
    assert child.name == ""  # CharField without default: ""   (actual: NOT_PROVIDED)
    assert child.count is None  # null=True without default: None
    orm.create_tables(PendingChild)
    PendingChild.objects.create(name="x")  # actual: TypeError "Field 'count' expected a number
    assert PendingChild.objects.get().count is None  # but got _NotProvided NOT_PROVIDED."


def test_bug1_full_clean_of_inherited_auto_now_fields(db: str) -> None:
    # actual: ValidationError {'created': [...NOT_PROVIDED...], 'modified': [...]}
    Article(headline="Fine", slug="fine").full_clean()


# ---------------------------------------------------------------------- BUG 2


def test_bug2_prefetch_many_to_many_takes_one_extra_query(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        list(Book.objects.prefetch_related("tags"))
    assert len(ctx) == 2  # actual: 3 (books, link table, tags)


# ---------------------------------------------------------------------- BUG 3


def test_bug3_f_expression_assigned_to_an_instance_is_saved(library: Library) -> None:
    book = Book.objects.get(pk=library.basics.pk)
    book.pages = F("pages") + 1
    book.save()  # actual: orm.ProgrammingError "Error binding parameter 4: type 'CombinedExpression'..."
    book.refresh_from_db()
    assert book.pages == 201


# ---------------------------------------------------------------------- BUG 4


def test_bug4_joined_reference_in_when_inside_update_raises_field_error(library: Library) -> None:
    with pytest.raises(orm.FieldError):  # actual: orm.OperationalError "no such column: tests_book.name"
        Book.objects.update(pages=orm.Case(
            orm.When(Q(author__name="Alice"), then=orm.Value(1)), default=F("pages"),
        ))


# ---------------------------------------------------------------------- BUG 5


def test_bug5_case_without_default_is_null(library: Library) -> None:
    # actual: FieldError("Cannot determine the output type of Value(None); pass output_field=...")
    rows = dict(Book.objects.annotate(x=orm.Case(orm.When(pages=200, then=orm.Value(1))))
                .values_list("title", "x"))
    assert rows["Python Basics"] == 1
    assert rows["SQL 101"] is None


# ---------------------------------------------------------------------- BUG 6


def test_bug6_json_key_with_double_quote(db: str) -> None:
    AllFields.objects.create(json_value={'quo"te': 2})
    # Expected: the row (or a clear NotSupportedError); actual on SQLite: 0 rows, silently.
    assert AllFields.objects.filter(**{'json_value__quo"te': 2}).count() == 1


# ---------------------------------------------------------------------- BUG 7


def test_bug7_order_by_foreign_key_uses_related_meta_ordering(db: str) -> None:
    zed = Author.objects.create(name="Zed", email="z@example.com")
    amy = Author.objects.create(name="Amy", email="a@example.com")
    Book.objects.create(title="by zed", author=zed)
    Book.objects.create(title="by amy", author=amy)
    # Author.Meta.ordering = ["name"]: Amy's book first (Django's documented behaviour).
    assert titles(Book.objects.order_by("author")) == ["by amy", "by zed"]  # actual: by zed first


# ---------------------------------------------------------------------- BUG 8


def test_bug8_meta_inheritance_from_abstract_base() -> None:
    class Base(orm.Model):
        rank = orm.IntegerField(default=0)

        class Meta:
            abstract = True
            app_label = "pending_meta"
            ordering = ["rank"]

    # actual: AttributeError: type object 'Base' has no attribute 'Meta'
    class Child(Base):
        class Meta(Base.Meta):  # type: ignore[name-defined]
            db_table = "pending_meta_child"

    assert Child._meta.abstract is False
    assert Child._meta.ordering == ["rank"]
    assert Child._meta.app_label == "pending_meta"


# ------------------------------------------------ BUG 9-10 (PostgreSQL only)


def test_bug9_json_key_compared_with_a_number(library: Library) -> None:
    # PostgreSQL actual: ProgrammingError "operator does not exist: text >= smallint"
    assert sorted(titles(Book.objects.filter(data__rating__gte=4))) == ["Advanced Python", "Python Basics"]


def test_bug10_bulk_update_to_null_of_an_integer_column(library: Library) -> None:
    books = list(Book.objects.all())
    for book in books:
        book.pages = None
    # PostgreSQL actual: ProgrammingError 'column "pages" is of type integer but expression is of type text'
    assert Book.objects.bulk_update(books, ["pages"]) == 4
    assert set(Book.objects.values_list("pages", flat=True)) == {None}

