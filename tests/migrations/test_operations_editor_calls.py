"""What the alter operations hand the schema editor (issue 13), forwards and backwards.

The editor's alter methods are built separately (Django's names and
signatures); here a recording editor stands in for them, so each operation
is checked to call the right method with the historical models of the right
states: the model before the operation, the field after it, the old and new
table names, the old and new ``unique_together``, and so on. The database
side of these operations is tested with the editor itself.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from tests.migrations.helpers import auto_id, replay

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "i13_calls"


def recording_editor() -> Any:
    """The backend's schema editor, collecting SQL, with the alter methods recorded."""
    base = orm.connection.schema_editor_class

    def recorder(name: str) -> Any:
        def method(self: Any, *args: Any) -> None:
            self.calls.append((name, *args))
        return method

    names = ("add_field", "remove_field", "alter_field", "alter_db_table", "alter_unique_together",
             "add_constraint", "remove_constraint", "rename_index", "create_model", "delete_model",
             "add_index", "remove_index")
    klass = type("RecordingEditor", (base,), {name: recorder(name) for name in names})
    editor = klass(orm.connection, collect_sql=True)
    editor.calls = []
    return editor


def initial() -> ProjectState:
    return replay(APP, [
        migrations.CreateModel("Author", [auto_id(), ("name", orm.CharField(max_length=50))]),
        migrations.CreateModel("Tag", [auto_id()]),
        migrations.CreateModel("Book", [
            auto_id(), ("title", orm.CharField(max_length=100)),
            ("author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE, related_name="books")),
            ("tags", orm.ManyToManyField(f"{APP}.tag", related_name="books")),
        ], options={"indexes": [orm.Index(fields=["title"])]}),
    ])


def run(operation: migrations.Operation, backwards: bool = False) -> tuple[list[tuple[Any, ...]], ProjectState,
                                                                           ProjectState]:
    migration = type("Migration", (migrations.Migration,), {"operations": [operation]})("0002", APP)
    before = initial()
    before.apps  # noqa: B018 - rendered, as the executor's state is
    after = migration.mutate_state(before)
    editor = recording_editor()
    with editor:
        if backwards:
            migration.unapply(before, editor)
        else:
            migration.apply(before.clone(), editor)
    return editor.calls, before, after


def test_add_field(backend: str) -> None:
    [(name, model, field)], before, after = run(migrations.AddField("Book", "pages", orm.IntegerField(default=1)))
    assert name == "add_field"
    assert [f.name for f in model._meta.local_fields] == ["id", "title", "author"]  # the model before
    assert field.name == "pages" and field.model._meta.get_field("pages") is field  # the field after
    [(name, model, field)], _, _ = run(migrations.AddField("Book", "pages", orm.IntegerField(default=1)),
                                       backwards=True)
    assert name == "remove_field" and field.name == "pages" and field.model is model


def test_add_field_without_preserving_the_default_passes_the_default_for_existing_rows(backend: str) -> None:
    seen: list[Any] = []
    editor = recording_editor()
    type(editor).add_field = lambda self, model, field: seen.append(field.get_default())
    state = initial()
    migration = type("Migration", (migrations.Migration,), {"operations": [
        migrations.AddField("Book", "pages", orm.IntegerField(default=7), preserve_default=False)]})("0002", APP)
    with editor:
        migration.apply(state, editor)
    assert seen == [7]
    assert not state.apps.get_model(APP, "Book")._meta.get_field("pages").has_default()


def test_remove_field(backend: str) -> None:
    [(name, model, field)], _, _ = run(migrations.RemoveField("Book", "title"))
    assert name == "remove_field" and field.name == "title" and field.model is model
    [(name, model, field)], _, _ = run(migrations.RemoveField("Book", "title"), backwards=True)
    assert name == "add_field"
    assert "title" not in [f.name for f in model._meta.local_fields] and field.name == "title"


def test_alter_field_and_rename_field(backend: str) -> None:
    [(name, model, old, new)], _, _ = run(migrations.AlterField("Book", "title", orm.TextField()))
    assert name == "alter_field" and old.get_internal_type() == "CharField"
    assert new.get_internal_type() == "TextField" and old.model is model and new.model is not model
    [(name, model, old, new)], _, _ = run(migrations.AlterField("Book", "title", orm.TextField()), backwards=True)
    assert old.get_internal_type() == "TextField" and new.get_internal_type() == "CharField"
    [(name, model, old, new)], _, _ = run(migrations.RenameField("Book", "title", "name"))
    assert (name, old.name, old.column, new.name, new.column) == ("alter_field", "title", "title", "name", "name")
    [(name, model, old, new)], _, _ = run(migrations.RenameField("Book", "title", "name"), backwards=True)
    assert (old.name, new.name) == ("name", "title")


def test_rename_model_renames_the_table_and_what_points_at_it(backend: str) -> None:
    calls, _, _ = run(migrations.RenameModel("Author", "Writer"))
    assert [(c[0], c[2], c[3]) for c in calls if c[0] == "alter_db_table"] == [
        ("alter_db_table", f"{APP}_author", f"{APP}_writer")]
    [(name, model, old, new)] = [c for c in calls if c[0] == "alter_field"]
    assert model.__name__ == "Book" and old.related_model.__name__ == "Author"
    assert new.related_model.__name__ == "Writer"
    calls, _, _ = run(migrations.RenameModel("Book", "Novel"))
    names = [(c[0], c[2], c[3]) if c[0] == "alter_db_table" else (c[0], c[2].name, c[3].name) for c in calls]
    # Its own many-to-many field: join table and column are named after it.
    assert names == [("alter_db_table", f"{APP}_book", f"{APP}_novel"), ("alter_field", "tags", "tags")]
    old_m2m, new_m2m = calls[1][2], calls[1][3]
    assert old_m2m.remote_field.through._meta.db_table == f"{APP}_book_tags"
    assert new_m2m.remote_field.through._meta.db_table == f"{APP}_novel_tags"
    back, _, _ = run(migrations.RenameModel("Book", "Novel"), backwards=True)
    assert (back[0][2], back[0][3]) == (f"{APP}_novel", f"{APP}_book")


def test_alter_model_table_moves_the_join_tables_too(backend: str) -> None:
    calls, _, _ = run(migrations.AlterModelTable("Book", "books"))
    assert [(c[0], c[2], c[3]) for c in calls] == [
        ("alter_db_table", f"{APP}_book", "books"), ("alter_db_table", f"{APP}_book_tags", "books_tags")]
    back, _, _ = run(migrations.AlterModelTable("Book", "books"), backwards=True)
    assert [(c[2], c[3]) for c in back] == [("books", f"{APP}_book"), ("books_tags", f"{APP}_book_tags")]
    same, _, _ = run(migrations.AlterModelTable("Book", f"{APP}_book"))
    assert same == []  # nothing to rename


def test_alter_unique_together(backend: str) -> None:
    [(name, model, old, new)], _, _ = run(migrations.AlterUniqueTogether("Book", {("title", "author")}))
    assert (name, old, new) == ("alter_unique_together", set(), {("title", "author")})
    assert model._meta.unique_together == (("title", "author"),)
    [(name, model, old, new)], _, _ = run(migrations.AlterUniqueTogether("Book", {("title", "author")}),
                                          backwards=True)
    assert (old, new) == ({("title", "author")}, set())


def test_constraints(backend: str) -> None:
    check = orm.CheckConstraint(condition=orm.Q(title__gt=""), name="title_not_empty")
    [(name, model, constraint)], _, _ = run(migrations.AddConstraint("Book", check))
    assert name == "add_constraint" and constraint is check
    [(name, model, constraint)], _, _ = run(migrations.AddConstraint("Book", check), backwards=True)
    assert name == "remove_constraint" and constraint is check


def test_rename_index_named_and_unnamed(backend: str) -> None:
    [(name, model, old, new)], _, after = run(migrations.RenameIndex("Book", "book_title", old_fields=["title"]))
    generated = orm.Index(fields=["title"]).get_name(model, orm.connection.schema_editor())
    assert (name, old.name, new.name, old.fields) == ("rename_index", generated, "book_title", ["title"])
    [(name, model, old, new)], _, _ = run(
        migrations.RenameIndex("Book", "book_title", old_fields=["title"]), backwards=True)
    assert (old.name, new.name) == ("book_title", generated)


@pytest.mark.parametrize("operation", [
    migrations.CreateModel("Shelf", [auto_id()]),
    migrations.AddIndex("Book", orm.Index(fields=["author"], name="book_author")),
])
def test_forwards_then_backwards_are_inverse_calls(backend: str, operation: migrations.Operation) -> None:
    forwards, _, _ = run(operation)
    backwards, _, _ = run(operation, backwards=True)
    inverse = {"create_model": "delete_model", "add_index": "remove_index"}
    assert [inverse[call[0]] for call in forwards] == [call[0] for call in backwards]
