"""UPDATE, DELETE and INSERT statements.

The statement builders are called directly (``SQLUpdateCompiler``,
``SQLDeleteCompiler``, ``insert_sql``); the QuerySet entry points that build and
run in one call (``update()``, ``bulk_create()``, ``bulk_update()``) are checked
through ``captured_sql``, which records without executing.
"""

from __future__ import annotations

import decimal

import pytest

import orm
from orm import Case, Exists, F, OuterRef, Upper, Value, When
from orm.exceptions import EmptyResultSet
from orm.query.writes import update_values
from orm.sql.dml import SQLDeleteCompiler, SQLUpdateCompiler, insert_sql, update_by_pk_sql
from tests.sql.helpers import assert_sql
from tests.sql.models import Author, Book, Marker, Number, Publisher, Tag


def connection():
    return orm.connections["default"]


def update_sql(qs, **kwargs):
    """What ``qs.update(**kwargs)`` runs, built the way ``orm.query.writes.update`` builds it."""
    query = qs.query.chain()
    query.clear_ordering()
    query.annotations = {}
    values = update_values(query, kwargs, connection())
    return SQLUpdateCompiler(query, connection(), values).as_sql()


def delete_sql(qs):
    """The DELETE that ``QuerySet.delete()`` runs for a fast delete of ``qs``."""
    return SQLDeleteCompiler(qs.query, connection()).as_sql()


# -- UPDATE ------------------------------------------------------------------------------


def test_update_constant_values():
    assert_sql(
        update_sql(Book.objects.all(), pages=3, title="x"),
        'UPDATE "shared_book" SET "pages" = %s, "title" = %s',
        [3, "x"],
    )


def test_update_with_f_and_a_filter():
    assert_sql(
        update_sql(Book.objects.filter(title="a"), pages=F("pages") + 1),
        'UPDATE "shared_book" SET "pages" = ("shared_book"."pages" + %s) WHERE "shared_book"."title" = %s',
        [1, "a"],
    )


def test_update_with_a_function_and_a_case():
    assert_sql(
        update_sql(Book.objects.all(), title=Upper("title")),
        'UPDATE "shared_book" SET "title" = UPPER("shared_book"."title")',
    )
    assert_sql(
        update_sql(
            Book.objects.all(), pages=Case(When(pages__gt=5, then=Value(1)), default=Value(0))
        ),
        'UPDATE "shared_book" SET "pages" = CASE WHEN "shared_book"."pages" > %s THEN %s ELSE %s END',
        [5, 1, 0],
    )


def test_update_a_fk_by_pk_instance_or_none():
    assert_sql(
        update_sql(Book.objects.filter(title="a"), author=5),
        'UPDATE "shared_book" SET "author_id" = %s WHERE "shared_book"."title" = %s',
        [5, "a"],
    )
    assert_sql(
        update_sql(Book.objects.all(), author=Author(id=9, name="n")),
        'UPDATE "shared_book" SET "author_id" = %s',
        [9],
    )
    assert_sql(
        update_sql(Book.objects.all(), editor=None),
        'UPDATE "shared_book" SET "editor_id" = %s',
        [None],
    )


def test_update_value_is_prepared_for_saving():
    assert_sql(
        update_sql(Book.objects.all(), price=1.5),
        'UPDATE "shared_book" SET "price" = %s',
        ["1.50"],
    )
    assert_sql(
        update_sql(Book.objects.all(), price=decimal.Decimal("2.345")),
        'UPDATE "shared_book" SET "price" = %s',
        ["2.34"],
    )


def test_update_checks_values_before_any_sql():
    with pytest.raises(orm.DataError, match="out of range"):
        update_sql(Number.objects.all(), i=2**40)
    with pytest.raises(orm.DataError, match="max_length"):
        update_sql(Tag.objects.all(), name="x" * 31)


def test_update_drops_the_default_ordering():
    assert_sql(
        update_sql(Publisher.objects.filter(name="a"), name="b"),
        'UPDATE "shared_publisher" SET "name" = %s WHERE "shared_publisher"."name" = %s',
        ["b", "a"],
    )


def test_update_filtered_across_a_join_selects_pks_in_a_subquery():
    assert_sql(
        update_sql(Book.objects.filter(author__name="a"), pages=3),
        'UPDATE "shared_book" SET "pages" = %s WHERE "id" IN (SELECT "U1_0"."id" FROM "shared_book" "U1_0" '
        'INNER JOIN "shared_author" "U1_1" ON ("U1_0"."author_id" = "U1_1"."id") WHERE "U1_1"."name" = %s)',
        [3, "a"],
    )


def test_update_filtered_across_a_reverse_fk():
    assert_sql(
        update_sql(Author.objects.filter(books__title="a"), age=3),
        'UPDATE "shared_author" SET "age" = %s WHERE "id" IN (SELECT "U1_0"."id" FROM "shared_author" "U1_0" '
        'LEFT OUTER JOIN "shared_book" "U1_1" ON ("U1_0"."id" = "U1_1"."author_id") WHERE "U1_1"."title" = %s)',
        [3, "a"],
    )


def test_update_with_a_correlated_exists():
    assert_sql(
        update_sql(
            Book.objects.filter(Exists(Tag.objects.filter(books=OuterRef("pk"), name="t"))), pages=1
        ),
        'UPDATE "shared_book" SET "pages" = %s WHERE EXISTS (SELECT %s AS "a" FROM "shared_tag" "U1_0" '
        'LEFT OUTER JOIN "shared_book_tags" "U1_1" ON ("U1_0"."id" = "U1_1"."tag_id") '
        'LEFT OUTER JOIN "shared_book" "U1_2" ON ("U1_1"."book_id" = "U1_2"."id") '
        'WHERE ("U1_2"."id" = "shared_book"."id" AND "U1_0"."name" = %s) LIMIT 1)',
        [1, 1, "t"],
    )


def test_update_f_across_a_join_is_refused():
    with pytest.raises(orm.FieldError, match="Joined field references"):
        update_sql(Book.objects.all(), pages=F("author__age"))


def test_update_of_an_unknown_or_m2m_field_is_refused():
    with pytest.raises(orm.FieldError, match="Cannot update model field 'tags'"):
        update_sql(Book.objects.all(), tags=1)


def test_update_through_the_queryset(captured_sql):
    Book.objects.filter(title="a").update(pages=F("pages") + 1)
    assert captured_sql == [
        (
            'UPDATE "shared_book" SET "pages" = ("shared_book"."pages" + %s) WHERE "shared_book"."title" = %s',
            [1, "a"],
        )
    ]


def test_update_that_matches_nothing_runs_no_query():
    assert Book.objects.filter(pk__in=[]).update(pages=3) == 0
    with pytest.raises(EmptyResultSet):
        update_sql(Book.objects.filter(pk__in=[]), pages=3)
    assert connection().connection is None


def test_bulk_update_is_one_case_per_field(captured_sql):
    books = [
        Book(id=1, title="a", pages=2, author_id=1),
        Book(id=2, title="b", pages=3, author_id=1),
    ]
    Book.objects.bulk_update(books, ["title", "pages"])
    assert_sql(
        captured_sql[0],
        'UPDATE "shared_book" SET "title" = CASE WHEN "shared_book"."id" = %s THEN %s '
        'WHEN "shared_book"."id" = %s THEN %s ELSE NULL END, "pages" = CASE WHEN "shared_book"."id" = %s '
        'THEN %s WHEN "shared_book"."id" = %s THEN %s ELSE NULL END WHERE "shared_book"."id" IN (%s, %s)',
        [1, "a", 2, "b", 1, 2, 2, 3, 1, 2],
    )
    assert len(captured_sql) == 1


def test_update_by_pk_sql_for_save():
    assert (
        update_by_pk_sql(connection(), "shared_tag", ["name"], "id")
        == 'UPDATE "shared_tag" SET "name" = %s WHERE "id" = %s'
    )


# -- DELETE ------------------------------------------------------------------------------


def test_delete_all():
    assert_sql(delete_sql(Tag.objects.all()), 'DELETE FROM "shared_tag"')


def test_delete_filtered():
    assert_sql(
        delete_sql(Tag.objects.filter(name="a")),
        'DELETE FROM "shared_tag" WHERE "shared_tag"."name" = %s',
        ["a"],
    )


def test_delete_by_pks_as_the_collector_does():
    assert_sql(
        delete_sql(Tag.objects.filter(pk__in=[1, 2])),
        'DELETE FROM "shared_tag" WHERE "shared_tag"."id" IN (%s, %s)',
        [1, 2],
    )


def test_delete_filtered_across_a_join_selects_pks_in_a_subquery():
    assert_sql(
        delete_sql(Book.objects.filter(author__name="a")),
        'DELETE FROM "shared_book" WHERE "id" IN (SELECT "U1_0"."id" FROM "shared_book" "U1_0" '
        'INNER JOIN "shared_author" "U1_1" ON ("U1_0"."author_id" = "U1_1"."id") WHERE "U1_1"."name" = %s)',
        ["a"],
    )


def test_delete_of_a_slice_keeps_ordering_and_limit_in_the_subquery():
    assert_sql(
        delete_sql(Tag.objects.order_by("name")[:3]),
        'DELETE FROM "shared_tag" WHERE "id" IN (SELECT "U1_0"."id" FROM "shared_tag" "U1_0" '
        'ORDER BY "U1_0"."name" ASC LIMIT 3)',
    )


def test_delete_that_matches_nothing_raises_empty_result_set():
    with pytest.raises(EmptyResultSet):
        delete_sql(Tag.objects.filter(pk__in=[]))


def test_delete_of_nothing_runs_no_statement(captured_sql):
    # The deletion's atomic block still opens a transaction, but no statement is sent.
    assert Tag.objects.filter(pk__in=[]).delete() == (0, {})
    assert captured_sql == []


def test_delete_after_values_is_refused():
    with pytest.raises(TypeError, match="values"):
        Tag.objects.values("name").delete()


# -- INSERT ------------------------------------------------------------------------------


def test_insert_one_row_returning_the_pk():
    assert insert_sql(connection(), "shared_tag", ["name"], [["a"]], ["id"]) == [
        ('INSERT INTO "shared_tag" ("name") VALUES (%s) RETURNING "id"', ["a"])
    ]


def test_insert_many_rows_in_one_statement():
    assert insert_sql(connection(), "shared_tag", ["name"], [["a"], ["b"]], []) == [
        ('INSERT INTO "shared_tag" ("name") VALUES (%s), (%s)', ["a", "b"])
    ]


def test_insert_without_columns_is_default_values_per_row():
    assert insert_sql(connection(), "sqltests_marker", [], [[], []], ["id"]) == [
        ('INSERT INTO "sqltests_marker" DEFAULT VALUES RETURNING "id"', []),
        ('INSERT INTO "sqltests_marker" DEFAULT VALUES RETURNING "id"', []),
    ]


def test_insert_batches_stay_under_the_parameter_limit():
    limit = connection().features.max_query_params
    columns = ["i", "big", "small", "positive"]
    per_batch = limit // len(columns)
    rows = [[n, n, 1, 1] for n in range(per_batch + 3)]
    statements = insert_sql(connection(), "sqltests_number", columns, rows, ["id"])
    assert [len(params) for _sql, params in statements] == [per_batch * 4, 3 * 4]
    head = 'INSERT INTO "sqltests_number" ("i", "big", "small", "positive") VALUES '
    row = "(%s, %s, %s, %s)"
    assert statements[1] == (
        head + ", ".join([row] * 3) + ' RETURNING "id"',
        [n for r in rows[-3:] for n in r],
    )
    for sql, params in statements:
        assert sql.count("%s") == len(params) <= limit


def test_bulk_create_with_batch_size(captured_sql):
    Tag.objects.bulk_create([Tag(name="a"), Tag(name="b"), Tag(name="c")], batch_size=2)
    assert captured_sql == [
        ('INSERT INTO "shared_tag" ("name") VALUES (%s), (%s) RETURNING "id"', ["a", "b"]),
        ('INSERT INTO "shared_tag" ("name") VALUES (%s) RETURNING "id"', ["c"]),
    ]


def test_bulk_create_sends_explicit_pks_separately(captured_sql):
    Tag.objects.bulk_create([Tag(id=5, name="a"), Tag(name="b")])
    assert captured_sql == [
        ('INSERT INTO "shared_tag" ("id", "name") VALUES (%s, %s)', [5, "a"]),
        ('INSERT INTO "shared_tag" ("name") VALUES (%s) RETURNING "id"', ["b"]),
    ]


def test_bulk_create_of_pk_only_models_uses_default_values(captured_sql):
    Marker.objects.bulk_create([Marker(), Marker()])
    assert captured_sql == [('INSERT INTO "sqltests_marker" DEFAULT VALUES RETURNING "id"', [])] * 2


def test_create_inserts_prepared_values(captured_sql):
    Book.objects.create(title="t", author_id=1, price=decimal.Decimal("1.5"))
    assert captured_sql == [
        (
            'INSERT INTO "shared_book" ("title", "author_id", "editor_id", "publisher_id", "pages", "price", '
            '"rating", "published", "created") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING "id"',
            ["t", 1, None, None, 0, "1.50", None, None, None],
        )
    ]


def test_insert_checks_values_before_any_statement(captured_sql):
    with pytest.raises(orm.DataError, match="max_length"):
        Tag.objects.bulk_create([Tag(name="x" * 31)])
    assert captured_sql == []


def test_postgresql_bulk_insert_binds_one_array_per_column(pg):
    """On PostgreSQL many rows are one INSERT ... SELECT * FROM UNNEST(...) with an array
    parameter per column (typed from the fields), so the statement does not grow with rows."""
    from orm.sql.dml import insert_sql

    [(sql, params)] = insert_sql(
        pg,
        'we"ird',
        ["a", "b"],
        [[1, "x"], [2, None]],
        ["id"],
        column_types=["integer", "varchar(5)"],
    )
    assert sql == (
        'INSERT INTO "we""ird" ("a", "b") SELECT * FROM UNNEST(%s::integer[], %s::varchar(5)[]) '
        'RETURNING "id"'
    )
    assert params == [[1, 2], ["x", None]]
    assert pg.connection is None  # compiling opened nothing


def test_postgresql_bulk_insert_arrays_are_binary_for_plain_values_only(pg):
    """psycopg packs a binary array with its C dumpers; a column holding any other
    type (a ``Jsonb`` wrapper, a custom field's object) stays a text array."""
    import datetime
    import uuid

    from psycopg.types.json import Jsonb

    from orm.backends.postgresql.operations import BinaryArray

    plain = [
        ["x", None],
        [1, 2**70],
        [1.5, float("inf")],
        [True, None],
        [b"\x00", None],
        [decimal.Decimal("1.50"), decimal.Decimal("NaN")],
        [datetime.date(2020, 1, 1), datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)],
        [datetime.time(1, 2), datetime.timedelta(days=-1)],
        [uuid.UUID(int=1), None],
        [None, None],
    ]
    for column in plain:
        array = pg.ops.bulk_insert_column(column)
        assert type(array) is BinaryArray
        assert array == column
    for column in ([Jsonb([1]), None], ["x", object()], [orm.Value(1), 2]):
        assert type(pg.ops.bulk_insert_column(column)) is list
    [(_sql, params)] = insert_sql(
        pg, "t", ["a", "b"], [[1, Jsonb(1)], [2, Jsonb(2)]], [], column_types=["integer", "jsonb"]
    )
    assert [type(p) for p in params] == [BinaryArray, list]
