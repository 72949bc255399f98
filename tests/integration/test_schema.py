"""``create_tables`` / ``drop_tables``: tables, many-to-many tables, indexes and constraints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import orm
from tests.models import ALL_MODELS, Article, Author, Book, Group, Membership, Person, Tag

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the tests check what the database enforces on real commits and drops.
pytestmark = pytest.mark.transactional


def table_names() -> set[str]:
    with orm.connection.cursor() as cursor:
        if orm.connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {row[0] for row in cursor.fetchall()}


def index_names(table: str) -> set[str]:
    with orm.connection.cursor() as cursor:
        if orm.connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table]
            )
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def index_columns(table: str) -> list[tuple[str, ...]]:
    """Column tuples of every index on ``table`` (including unique constraints)."""
    result = []
    with orm.connection.cursor() as cursor:
        if orm.connection.vendor == "sqlite":
            for name in index_names(table):
                cursor.execute(f'PRAGMA index_info("{name}")')
                result.append(tuple(row[2] for row in cursor.fetchall()))
        else:
            cursor.execute(
                "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_index i"
                " JOIN pg_class t ON t.oid = i.indrelid"
                " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
                " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
                " WHERE t.relname = %s GROUP BY i.indexrelid",
                [table],
            )
            result = [tuple(row[0]) for row in cursor.fetchall()]
    return result


@pytest.fixture
def empty(backend: str) -> Iterator[str]:
    """A configured database without any table."""
    yield backend


# --------------------------------------------------------------- create/drop


def test_create_tables_creates_tables_and_automatic_m2m_tables(empty: str) -> None:
    orm.create_tables(*ALL_MODELS)
    names = table_names()
    expected = {m._meta.db_table for m in ALL_MODELS} | {"tests_book_tags"}
    assert expected <= names
    # The custom through model's table is the model's own, no extra one.
    assert "tests_group_members" not in names


def test_drop_tables_removes_tables_and_m2m_tables(empty: str) -> None:
    orm.create_tables(Author, Tag, Book)
    Author.objects.create(name="A", email="a@example.com")
    orm.drop_tables(Book, Tag, Author)
    names = table_names()
    assert not {"tests_author", "tests_tag", "tests_book", "tests_book_tags"} & names
    with pytest.raises(orm.DatabaseError) as excinfo:
        Author.objects.count()
    assert excinfo.value.__cause__ is not None
    # And they can be created again, empty.
    orm.create_tables(Author, Tag, Book)
    assert Author.objects.count() == 0


def test_create_tables_twice_raises_and_keeps_data(empty: str) -> None:
    orm.create_tables(Author)
    Author.objects.create(name="A", email="a@example.com")
    with pytest.raises(orm.DatabaseError):
        orm.create_tables(Author)
    assert Author.objects.count() == 1


def test_create_tables_is_atomic(empty: str) -> None:
    # Tag then Tag again: the second CREATE fails, the first is rolled back.
    with pytest.raises(orm.DatabaseError):
        orm.create_tables(Tag, Tag)
    assert "tests_tag" not in table_names()


def test_create_tables_refuses_abstract_models(empty: str) -> None:
    from tests.models import TimestampedModel

    with pytest.raises(TypeError):
        orm.create_tables(TimestampedModel)


def test_create_tables_on_another_alias(tmp_path, empty: str) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    orm.configure(databases={"default": f"sqlite:///{tmp_path / 'main.sqlite3'}", "other": url})
    orm.create_tables(Author, using="other")
    Author.objects.using("other").create(name="A", email="a@example.com")
    assert Author.objects.using("other").count() == 1
    orm.drop_tables(Author, using="other")
    with pytest.raises(orm.DatabaseError):
        Author.objects.using("other").count()


# ------------------------------------------------------------------- indexes


def test_db_index_unique_and_meta_indexes_are_created(db: str) -> None:
    book_indexes = index_columns("tests_book")
    assert ("title",) in book_indexes  # db_index=True
    assert ("author_id",) in book_indexes  # foreign keys are indexed
    assert ("email",) in index_columns("tests_author")  # unique=True
    article = index_names("tests_article")
    assert "tests_article_head_rating_idx" in article
    assert ("headline", "score") in index_columns("tests_article")
    assert "tests_article_published_slug" in article  # partial unique index
    assert ("person_id", "group_id") in index_columns("tests_membership")  # unique_together
    assert ("book_id", "tag_id") in index_columns("tests_book_tags")


def test_index_is_used_by_the_planner(db: str) -> None:
    plan = Book.objects.filter(title="x").explain()
    assert "title" in plan.lower() or "index" in plan.lower()


# --------------------------------------------------------------- constraints


def test_check_constraint_violation_raises_integrity_error_with_driver_cause(db: str) -> None:
    with pytest.raises(orm.IntegrityError) as excinfo:
        Article.objects.create(headline="h", slug="h", rating=6)
    cause = excinfo.value.__cause__
    assert cause is not None
    assert type(cause).__module__.split(".")[0] in ("sqlite3", "psycopg")
    assert "tests_article_rating_0_5" in str(excinfo.value) or "CHECK" in str(excinfo.value).upper()
    assert Article.objects.count() == 0
    Article.objects.create(headline="h", slug="h", rating=5)
    with pytest.raises(orm.IntegrityError):
        Article.objects.update(rating=-1)
    assert Article.objects.get().rating == 5


def test_positive_integer_check_in_database(db: str) -> None:
    article = Article.objects.create(headline="h", slug="h")
    table = Article._meta.db_table
    with orm.connection.cursor() as cursor, pytest.raises(orm.IntegrityError):
        cursor.execute(f'UPDATE "{table}" SET word_count = %s WHERE id = %s', [-2, article.pk])


def test_unique_constraint_violation(db: str) -> None:
    Article.objects.create(headline="same", slug="a", rating=1)
    Article.objects.create(headline="same", slug="b", rating=2)
    with pytest.raises(orm.IntegrityError) as excinfo:
        Article.objects.create(headline="same", slug="c", rating=1)
    assert excinfo.value.__cause__ is not None
    assert Article.objects.count() == 2


def test_partial_unique_constraint_applies_only_to_matching_rows(db: str) -> None:
    Article.objects.create(headline="a", slug="dup", status="d")
    Article.objects.create(headline="b", slug="dup", status="d")
    Article.objects.create(headline="c", slug="dup", status="p")
    with pytest.raises(orm.IntegrityError):
        Article.objects.create(headline="d", slug="dup", status="p")
    assert Article.objects.filter(slug="dup").count() == 3


def test_unique_together_violation(db: str) -> None:
    import datetime

    ann = Person.objects.create(name="Ann")
    club = Group.objects.create(name="Club")
    Membership.objects.create(person=ann, group=club, date_joined=datetime.date(2024, 1, 1))
    with pytest.raises(orm.IntegrityError):
        Membership.objects.create(person=ann, group=club, date_joined=datetime.date(2024, 2, 1))
    with pytest.raises(orm.ValidationError) as excinfo:
        Membership(person=ann, group=club, date_joined=datetime.date(2024, 2, 1)).full_clean()
    assert "__all__" in excinfo.value.message_dict


def test_foreign_key_constraint_is_enforced(db: str) -> None:
    with pytest.raises(orm.IntegrityError):
        Book.objects.create(title="orphan", author_id=12345)
    assert Book.objects.count() == 0


def test_not_null_constraint_is_enforced_before_the_database(db: str) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    with pytest.raises((orm.IntegrityError, orm.DataError)):
        Book.objects.create(title=None, author=author)
    assert Book.objects.count() == 0


def test_schema_editor_collects_ddl(db: str) -> None:
    editor = orm.connection.schema_editor()
    sql = editor.table_sql(Article)
    assert sql.startswith("CREATE TABLE")
    assert '"tests_article"' in sql
    assert "tests_article_rating_0_5" in sql
    assert '"score"' in sql
