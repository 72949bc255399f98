"""Alter operations against a real database (issue 13), forwards and backwards, both backends.

AddField / RemoveField / AlterField / RenameField, RenameModel, AlterModelTable,
AlterUniqueTogether, Add/Remove/RenameIndex, Add/RemoveConstraint and
many-to-many fields, each applied then unapplied through ``Migration`` on
tables holding rows; the data, the live schema and the constraints the
database enforces are checked after each step.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from tests.migrations.helpers import auto_id

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "i13_alt"
INTRO = "orm.connection.introspection"


def make_migration(operations: list[migrations.Operation], name: str = "0002_alter") -> migrations.Migration:
    klass = type("Migration", (migrations.Migration,), {"operations": operations})
    return klass(name, APP)


def apply(migration: migrations.Migration, state: ProjectState) -> ProjectState:
    with orm.connection.schema_editor() as editor:
        return migration.apply(state, editor)


def unapply(migration: migrations.Migration, state: ProjectState) -> ProjectState:
    with orm.connection.schema_editor() as editor:
        return migration.unapply(state, editor)


def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def run(sql: str, params: list[Any] | None = None) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, params)


def columns(table: str) -> dict[str, Any]:
    return {c.name: c for c in orm.connection.introspection.get_table_description(table)}


def constraints(table: str) -> dict[str, Any]:
    return dict(orm.connection.introspection.get_constraints(table))


def kinds(table: str, column: str) -> set[str]:
    """What covers ``column`` alone: 'unique', 'index', 'check', 'fk', 'pk'."""
    found = set()
    for info in constraints(table).values():
        if info.columns != [column]:
            continue
        if info.primary_key:
            found.add("pk")
        elif info.foreign_key:
            found.add("fk")
        elif info.check:
            found.add("check")
        elif info.unique:
            found.add("unique")
        elif info.index:
            found.add("index")
    return found


def base_state() -> tuple[ProjectState, migrations.Migration]:
    """Author <- Book (FK), Book.tags -> Tag, with rows."""
    initial = make_migration([
        migrations.CreateModel("Author", [auto_id(), ("name", orm.CharField(max_length=50))]),
        migrations.CreateModel("Tag", [auto_id(), ("name", orm.CharField(max_length=20))]),
        migrations.CreateModel("Book", [
            auto_id(),
            ("title", orm.CharField(max_length=50)),
            ("pages", orm.IntegerField(null=True)),
            ("author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE, related_name="books")),
            ("tags", orm.ManyToManyField(f"{APP}.tag", related_name="books")),
        ]),
    ], "0001_initial")
    state = apply(initial, ProjectState())
    author = state.apps.get_model(APP, "Author")
    book = state.apps.get_model(APP, "Book")
    tag = state.apps.get_model(APP, "Tag").objects.create(name="t")
    ann = author.objects.create(name="Ann")
    for i, pages in enumerate([10, None, 30]):
        book.objects.create(title=f"B{i}", pages=pages, author=ann).tags.add(tag)
    return state, initial


def run_both_ways(operations: list[migrations.Operation], state: ProjectState) -> tuple[
        ProjectState, migrations.Migration]:
    migration = make_migration(operations)
    return apply(migration, state.clone()), migration


def assert_fk_rejects_orphan(table: str, column: str, values: dict[str, Any]) -> None:
    """An insert pointing at no row fails (at once or at COMMIT of the deferred check)."""
    names = ", ".join([column, *values])
    marks = ", ".join(["%s"] * (len(values) + 1))
    with pytest.raises(orm.IntegrityError):
        with orm.transaction.atomic():
            with orm.connection.cursor() as cursor:
                cursor.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', [999999, *values.values()])


def test_add_field_not_null_with_default_fills_rows_and_unapplies(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways(
        [migrations.AddField("Book", "isbn", orm.CharField(max_length=13, default="unknown"))], state)
    assert rows(f"SELECT isbn FROM {APP}_book ORDER BY id") == [("unknown",)] * 3
    assert columns(f"{APP}_book")["isbn"].null_ok is False
    assert columns(f"{APP}_book")["isbn"].default is None  # the default lives in Python only
    unapply(migration, state.clone())
    assert "isbn" not in columns(f"{APP}_book")
    assert rows(f"SELECT title, pages FROM {APP}_book ORDER BY id") == [("B0", 10), ("B1", None), ("B2", 30)]


def test_add_field_not_null_without_default_is_refused_and_changes_nothing(backend: str) -> None:
    state, _ = base_state()
    before = columns(f"{APP}_book")
    with pytest.raises(orm.IntegrityError, match=r"NOT NULL column 'isbn'.*has rows.*no default"):
        run_both_ways([migrations.AddField("Book", "isbn", orm.CharField(max_length=13))], state)
    assert columns(f"{APP}_book").keys() == before.keys()
    assert rows(f"SELECT count(*) FROM {APP}_book") == [(3,)]


def test_add_field_with_preserve_default_false_and_nullable_field(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways([
        migrations.AddField("Book", "rank", orm.IntegerField(default=7), preserve_default=False),
        migrations.AddField("Book", "note", orm.TextField(null=True)),
    ], state)
    assert rows(f"SELECT rank, note FROM {APP}_book ORDER BY id") == [(7, None)] * 3
    assert after.models[APP, "book"].fields["rank"].has_default() is False
    unapply(migration, state.clone())
    assert {"rank", "note"}.isdisjoint(columns(f"{APP}_book"))


def test_add_and_remove_foreign_key_field(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways([migrations.AddField(
        "Author", "mentor", orm.ForeignKey(f"{APP}.author", null=True, on_delete=orm.SET_NULL, db_index=True))], state)
    assert kinds(f"{APP}_author", "mentor_id") >= {"fk", "index"}
    assert_fk_rejects_orphan(f"{APP}_author", "mentor_id", {"name": "x"})
    remove = make_migration([migrations.RemoveField("Author", "mentor")], "0003_remove")
    apply(remove, after.clone())
    assert "mentor_id" not in columns(f"{APP}_author")
    unapply(remove, after.clone())
    assert kinds(f"{APP}_author", "mentor_id") >= {"fk", "index"}
    unapply(migration, state.clone())
    assert "mentor_id" not in columns(f"{APP}_author")


def test_remove_field_and_back(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways([migrations.RemoveField("Book", "pages")], state)
    assert "pages" not in columns(f"{APP}_book")
    unapply(migration, state.clone())
    # The column comes back empty (its data is gone), nullable as declared.
    assert rows(f"SELECT title, pages FROM {APP}_book ORDER BY id") == [("B0", None), ("B1", None), ("B2", None)]


@pytest.mark.parametrize("change", ["type", "unique", "index", "null"])
def test_alter_field_forwards_and_backwards(backend: str, change: str) -> None:
    state, _ = base_state()
    new = {
        "type": orm.CharField(max_length=200),
        "unique": orm.CharField(max_length=50, unique=True),
        "index": orm.CharField(max_length=50, db_index=True),
        "null": orm.CharField(max_length=50, null=True),
    }[change]
    after, migration = run_both_ways([migrations.AlterField("Book", "title", new)], state)
    title = columns(f"{APP}_book")["title"]
    if change == "type":
        assert title.max_length == 200
    elif change == "unique":
        assert "unique" in kinds(f"{APP}_book", "title")
        with pytest.raises(orm.IntegrityError):
            after.apps.get_model(APP, "Book").objects.create(title="B0", author_id=1)
    elif change == "index":
        assert "index" in kinds(f"{APP}_book", "title")
    else:
        assert title.null_ok is True
    unapply(migration, state.clone())
    assert kinds(f"{APP}_book", "title") == set()
    assert columns(f"{APP}_book")["title"].max_length == 50
    assert columns(f"{APP}_book")["title"].null_ok is False
    assert rows(f"SELECT title FROM {APP}_book ORDER BY id") == [("B0",), ("B1",), ("B2",)]


def test_alter_field_null_to_not_null_fills_with_default_or_refuses(backend: str) -> None:
    state, _ = base_state()
    with pytest.raises(orm.IntegrityError, match=r"Cannot make NOT NULL column 'pages'.*no default"):
        run_both_ways([migrations.AlterField("Book", "pages", orm.IntegerField())], state)
    assert columns(f"{APP}_book")["pages"].null_ok is True
    after, migration = run_both_ways([migrations.AlterField("Book", "pages", orm.IntegerField(default=0))], state)
    assert rows(f"SELECT pages FROM {APP}_book ORDER BY id") == [(10,), (0,), (30,)]
    assert columns(f"{APP}_book")["pages"].null_ok is False
    unapply(migration, state.clone())
    assert columns(f"{APP}_book")["pages"].null_ok is True


def test_alter_field_int_to_bigint_and_positive_check(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways(
        [migrations.AlterField("Book", "pages", orm.PositiveIntegerField(null=True))], state)
    assert "check" in kinds(f"{APP}_book", "pages")
    with pytest.raises(orm.IntegrityError), orm.transaction.atomic():
        run(f"UPDATE {APP}_book SET pages = -1")
    big, migration2 = run_both_ways([migrations.AlterField("Book", "pages", orm.BigIntegerField(null=True))], after)
    assert "check" not in kinds(f"{APP}_book", "pages")
    assert columns(f"{APP}_book")["pages"].data_type.lower() == "bigint"
    run(f"UPDATE {APP}_book SET pages = %s WHERE pages = 30", [2**40])
    assert rows(f"SELECT pages FROM {APP}_book ORDER BY id") == [(10,), (None,), (2**40,)]
    run(f"UPDATE {APP}_book SET pages = 30 WHERE pages = %s", [2**40])
    unapply(migration2, after.clone())
    unapply(migration, state.clone())
    assert kinds(f"{APP}_book", "pages") == set()
    assert rows(f"SELECT pages FROM {APP}_book ORDER BY id") == [(10,), (None,), (30,)]


def test_alter_field_foreign_key_target_and_db_column(backend: str) -> None:
    state, _ = base_state()
    setup = make_migration([
        migrations.CreateModel("Publisher", [auto_id(), ("name", orm.CharField(max_length=20))]),
        migrations.RunSQL(f"INSERT INTO {APP}_publisher (id, name) VALUES (1, 'P')", migrations.RunSQL.noop),
    ], "0002_publisher")
    with_publisher = apply(setup, state.clone())
    alter = make_migration([migrations.AlterField(
        "Book", "author", orm.ForeignKey(f"{APP}.publisher", on_delete=orm.CASCADE, db_column="pub"))], "0003")
    apply(alter, with_publisher.clone())
    assert orm.connection.introspection.get_relations(f"{APP}_book")["pub"] == ("id", f"{APP}_publisher")
    assert rows(f"SELECT pub FROM {APP}_book ORDER BY id") == [(1,), (1,), (1,)]
    assert_fk_rejects_orphan(f"{APP}_book", "pub", {"title": "x"})
    unapply(alter, with_publisher.clone())
    assert orm.connection.introspection.get_relations(f"{APP}_book")["author_id"] == ("id", f"{APP}_author")
    assert_fk_rejects_orphan(f"{APP}_book", "author_id", {"title": "x"})


def test_rename_field_keeps_data_and_unapplies(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways([migrations.RenameField("Book", "title", "name")], state)
    assert rows(f"SELECT name FROM {APP}_book ORDER BY id") == [("B0",), ("B1",), ("B2",)]
    assert after.apps.get_model(APP, "Book").objects.filter(name="B1").count() == 1
    unapply(migration, state.clone())
    assert "title" in columns(f"{APP}_book") and "name" not in columns(f"{APP}_book")


def test_rename_model_moves_table_join_table_and_keeps_foreign_keys(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways([migrations.RenameModel("Author", "Writer")], state)
    tables = set(orm.connection.introspection.table_names())
    assert {f"{APP}_writer", f"{APP}_book"} <= tables and f"{APP}_author" not in tables
    assert orm.connection.introspection.get_relations(f"{APP}_book")["author_id"] == ("id", f"{APP}_writer")
    assert_fk_rejects_orphan(f"{APP}_book", "author_id", {"title": "x"})
    book = after.apps.get_model(APP, "Book")
    assert [b.author.name for b in book.objects.order_by("id")] == ["Ann"] * 3
    unapply(migration, state.clone())
    assert orm.connection.introspection.get_relations(f"{APP}_book")["author_id"] == ("id", f"{APP}_author")

    tagged, renamed = run_both_ways([migrations.RenameModel("Tag", "Label")], state)
    assert f"{APP}_book_tags" in orm.connection.introspection.table_names()
    assert "label_id" in columns(f"{APP}_book_tags")
    assert [t.name for t in tagged.apps.get_model(APP, "Book").objects.get(title="B0").tags.all()] == ["t"]
    unapply(renamed, state.clone())
    assert "tag_id" in columns(f"{APP}_book_tags")


def test_alter_model_table(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways([migrations.AlterModelTable("Author", "people")], state)
    assert orm.connection.introspection.get_relations(f"{APP}_book")["author_id"] == ("id", "people")
    assert after.apps.get_model(APP, "Author").objects.get().name == "Ann"
    unapply(migration, state.clone())
    assert orm.connection.introspection.get_relations(f"{APP}_book")["author_id"] == ("id", f"{APP}_author")


def test_alter_unique_together(backend: str) -> None:
    state, _ = base_state()
    after, migration = run_both_ways([migrations.AlterUniqueTogether("Book", {("author", "title")})], state)
    book = after.apps.get_model(APP, "Book")
    with pytest.raises(orm.IntegrityError), orm.transaction.atomic():
        book.objects.create(title="B0", author_id=1)
    unapply(migration, state.clone())
    state.apps.get_model(APP, "Book").objects.create(title="B0", author_id=1)
    assert rows(f"SELECT count(*) FROM {APP}_book WHERE title = 'B0'") == [(2,)]


def test_add_remove_and_rename_index(backend: str) -> None:
    state, _ = base_state()
    add = make_migration([migrations.AddIndex("Book", orm.Index(fields=["title", "-pages"], name="book_tp"))])
    added = apply(add, state.clone())
    assert "book_tp" in constraints(f"{APP}_book")
    rename = make_migration([migrations.RenameIndex("Book", "book_tp2", old_name="book_tp")], "0003")
    apply(rename, added.clone())
    assert "book_tp2" in constraints(f"{APP}_book") and "book_tp" not in constraints(f"{APP}_book")
    unapply(rename, added.clone())
    assert "book_tp" in constraints(f"{APP}_book")
    remove = make_migration([migrations.RemoveIndex("Book", "book_tp")], "0004")
    apply(remove, added.clone())
    assert "book_tp" not in constraints(f"{APP}_book")
    unapply(remove, added.clone())
    assert constraints(f"{APP}_book")["book_tp"].columns == ["title", "pages"]
    unapply(add, state.clone())
    assert "book_tp" not in constraints(f"{APP}_book")


@pytest.mark.parametrize("kind", ["check", "unique", "partial"])
def test_add_and_remove_constraint(backend: str, kind: str) -> None:
    state, _ = base_state()
    constraint = {
        "check": orm.CheckConstraint(condition=orm.Q(pages__gte=0), name="pages_positive"),
        "unique": orm.UniqueConstraint(fields=["title"], name="title_unique"),
        # startswith compiles to LIKE, which SQLite refuses in a partial index
        # as written; the schema editor writes it with substr().
        "partial": orm.UniqueConstraint(fields=["title"], name="title_b_unique",
                                        condition=orm.Q(title__startswith="B%")),
    }[kind]
    after, migration = run_both_ways([migrations.AddConstraint("Book", constraint)], state)
    assert constraint.name in constraints(f"{APP}_book")
    book = after.apps.get_model(APP, "Book")
    bad = {"check": {"title": "x", "pages": -1}, "unique": {"title": "B0"}, "partial": {"title": "B%1"}}[kind]
    if kind == "partial":
        book.objects.create(title="B%1", author_id=1)
        book.objects.create(title="C", author_id=1)
        book.objects.create(title="C", author_id=1)  # outside the condition
    with pytest.raises(orm.IntegrityError), orm.transaction.atomic():
        book.objects.create(author_id=1, **bad)
    unapply(migration, state.clone())
    assert constraint.name not in constraints(f"{APP}_book")
    state.apps.get_model(APP, "Book").objects.create(author_id=1, **bad)


def test_many_to_many_field_added_renamed_and_removed(backend: str) -> None:
    state, _ = base_state()
    add = make_migration([migrations.AddField("Author", "fans", orm.ManyToManyField(f"{APP}.tag"))])
    added = apply(add, state.clone())
    assert f"{APP}_author_fans" in orm.connection.introspection.table_names()
    author = added.apps.get_model(APP, "Author").objects.get()
    author.fans.add(added.apps.get_model(APP, "Tag").objects.get())
    rename = make_migration([migrations.RenameField("Author", "fans", "likes")], "0003")
    renamed = apply(rename, added.clone())
    names = orm.connection.introspection.table_names()
    assert f"{APP}_author_likes" in names and f"{APP}_author_fans" not in names
    assert [t.name for t in renamed.apps.get_model(APP, "Author").objects.get().likes.all()] == ["t"]
    unapply(rename, added.clone())
    assert f"{APP}_author_fans" in orm.connection.introspection.table_names()
    remove = make_migration([migrations.RemoveField("Author", "fans")], "0004")
    apply(remove, added.clone())
    assert f"{APP}_author_fans" not in orm.connection.introspection.table_names()
    unapply(remove, added.clone())
    assert f"{APP}_author_fans" in orm.connection.introspection.table_names()
    unapply(add, state.clone())
    assert f"{APP}_author_fans" not in orm.connection.introspection.table_names()


def test_execute_without_params_sends_a_literal_percent(backend: str) -> None:
    with orm.connection.schema_editor() as editor:
        editor.execute(f"CREATE TABLE {APP}_pct (id integer PRIMARY KEY, label varchar(10) DEFAULT '5%')", None)
        editor.execute(f"INSERT INTO {APP}_pct (id) VALUES (%s)", [1])
    assert rows(f"SELECT label FROM {APP}_pct") == [("5%",)]


def test_collect_sql_writes_the_params_in(backend: str) -> None:
    with orm.connection.schema_editor(collect_sql=True) as editor:
        editor.execute('UPDATE "t%%" SET a = %s WHERE b = %s AND c LIKE \'x%%\'', ["it's", 3])
        editor.execute("SELECT '100%'", None)
    assert editor.collected_sql == [
        "UPDATE \"t%\" SET a = 'it''s' WHERE b = 3 AND c LIKE 'x%';",
        "SELECT '100%';",
    ]


def test_collect_sql_of_an_alter_runs_nothing(backend: str) -> None:
    state, _ = base_state()
    migration = make_migration([
        migrations.AddField("Book", "isbn", orm.CharField(max_length=13, default="n/a")),
        migrations.AlterField("Book", "title", orm.CharField(max_length=80, db_index=True)),
    ])
    with orm.connection.schema_editor(collect_sql=True) as editor:
        migration.apply(state.clone(), editor)
    text = "\n".join(editor.collected_sql)
    assert "isbn" in text and "'n/a'" in text and "80" in text
    assert "isbn" not in columns(f"{APP}_book")  # nothing ran
    assert columns(f"{APP}_book")["title"].max_length == 50
