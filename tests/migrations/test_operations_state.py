"""Every operation (issue 13): its effect on the state, ``deconstruct()``, ``describe()``,
``migration_name_fragment`` and ``references_model`` / ``references_field``.

``deconstruct()`` is what the writer puts in migration files, so rebuilding an
operation from it must give an equal operation, for every operation and
every optional argument.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import IrreversibleError, Operation, ProjectState
from tests.migrations.helpers import auto_id, replay

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "i13_ops"


def forwards(apps: Any, schema_editor: Any) -> None:
    pass


async def aforwards(apps: Any, schema_editor: Any) -> None:
    pass


def base_state() -> ProjectState:
    return replay(APP, [
        migrations.CreateModel("Author", [auto_id(), ("name", orm.CharField(max_length=50))]),
        migrations.CreateModel("Book", [
            auto_id(), ("title", orm.CharField(max_length=100)),
            ("author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE, related_name="books")),
        ], options={"indexes": [orm.Index(fields=["title"])]}),
    ])


# (operation, describe(), migration_name_fragment)
OPERATIONS: list[tuple[Operation, str, str | None]] = [
    (migrations.CreateModel("Tag", [auto_id(), ("name", orm.CharField(max_length=20))],
                            options={"ordering": ["name"]}), "Create model Tag", "tag"),
    (migrations.DeleteModel("Book"), "Delete model Book", "delete_book"),
    (migrations.RenameModel("Book", "Novel"), "Rename model Book to Novel", "rename_book_novel"),
    (migrations.AlterModelTable("Book", "books"), "Rename table for Book to books", "alter_book_table"),
    (migrations.AlterModelTable("Book", None), "Rename table for Book to (default)", "alter_book_table"),
    (migrations.AlterModelOptions("Book", {"ordering": ["-title"], "verbose_name": "novel"}),
     "Change Meta options on Book", "alter_book_options"),
    (migrations.AlterUniqueTogether("Book", [("title", "author")]),
     "Alter unique_together for Book (1 constraint(s))", "alter_book_unique_together"),
    (migrations.AddField("Book", "isbn", orm.CharField(max_length=13, default="")),
     "Add field isbn to Book", "book_isbn"),
    (migrations.AddField("Book", "pages", orm.IntegerField(default=1), preserve_default=False),
     "Add field pages to Book", "book_pages"),
    (migrations.RemoveField("Book", "title"), "Remove field title from Book", "remove_book_title"),
    (migrations.AlterField("Book", "title", orm.CharField(max_length=200)),
     "Alter field title on Book", "alter_book_title"),
    (migrations.AlterField("Book", "title", orm.CharField(max_length=200, default="x"), preserve_default=False),
     "Alter field title on Book", "alter_book_title"),
    (migrations.RenameField("Book", "title", "name"), "Rename field title on Book to name",
     "rename_title_book_name"),
    (migrations.AddIndex("Book", orm.Index(fields=["-title"], name="book_title_desc")),
     "Create index book_title_desc on field(s) -title of model Book", "book_book_title_desc"),
    (migrations.RemoveIndex("Book", "book_title_desc"), "Remove index book_title_desc from Book",
     "remove_book_book_title_desc"),
    (migrations.RenameIndex("Book", "book_title_new", old_name="book_title_desc"),
     "Rename index book_title_desc on Book to book_title_new", "rename_book_title_desc_book_title_new"),
    (migrations.RenameIndex("Book", "book_title_idx", old_fields=["title"]),
     "Rename unnamed index for ['title'] on Book to book_title_idx", "rename_book_title_book_title_idx"),
    (migrations.AddConstraint("Book", orm.UniqueConstraint(fields=["title"], name="book_title_uniq")),
     "Create constraint book_title_uniq on model Book", "book_book_title_uniq"),
    (migrations.RemoveConstraint("Book", "book_title_uniq"), "Remove constraint book_title_uniq from model Book",
     "remove_book_book_title_uniq"),
    (migrations.RunSQL("UPDATE t SET a = 1; UPDATE t SET b = 2", reverse_sql=["SELECT 1", ("SELECT %s", [1])],
                       state_operations=[migrations.AddField("Book", "a", orm.IntegerField(null=True))]),
     "Raw SQL operation", None),
    (migrations.RunPython(forwards, migrations.RunPython.noop, atomic=False, elidable=True),
     "Raw Python operation", None),
    (migrations.RunPython(aforwards), "Raw Python operation", None),
    (migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunSQL("SELECT 1", migrations.RunSQL.noop)],
        state_operations=[migrations.DeleteModel("Book")]),
     "Custom state/database change combination", None),
]


@pytest.mark.parametrize(("operation", "description", "fragment"), OPERATIONS,
                         ids=[type(op).__name__ + str(i) for i, (op, _, _) in enumerate(OPERATIONS)])
def test_deconstruct_rebuilds_an_equal_operation(operation: Operation, description: str, fragment: str | None) -> None:
    name, args, kwargs = operation.deconstruct()
    assert name == type(operation).__name__ and getattr(migrations, name) is type(operation)
    rebuilt = getattr(migrations, name)(*args, **kwargs)
    assert rebuilt == operation
    assert rebuilt.deconstruct()[0] == name
    assert operation.describe() == description
    assert operation.migration_name_fragment == fragment
    assert repr(operation).startswith(f"<{name} ")


def test_operations_that_differ_are_not_equal() -> None:
    assert migrations.AddField("Book", "a", orm.IntegerField()) != migrations.AddField(
        "Book", "a", orm.IntegerField(null=True))
    assert migrations.AddField("Book", "a", orm.IntegerField()) == migrations.AddField(
        "Book", "a", orm.IntegerField())
    assert migrations.RemoveField("Book", "a") != migrations.DeleteModel("Book")
    assert migrations.RunPython(forwards) != migrations.RunPython(aforwards)


def test_deconstruct_leaves_out_defaults() -> None:
    assert migrations.CreateModel("X", [auto_id()]).deconstruct()[2].keys() == {"name", "fields"}
    assert migrations.AddField("X", "a", orm.IntegerField()).deconstruct()[2].keys() == {
        "model_name", "name", "field"}
    assert migrations.RunSQL("SELECT 1").deconstruct()[2] == {"sql": "SELECT 1"}
    assert migrations.RunPython(forwards).deconstruct()[2] == {"code": forwards}
    assert migrations.SeparateDatabaseAndState().deconstruct()[2] == {}


def model(state: ProjectState, name: str) -> Any:
    return state.models[APP, name.lower()]


def test_model_operations_change_the_state() -> None:
    state = base_state()
    migrations.CreateModel("Tag", [auto_id()], options={"ordering": ["id"]}).state_forwards(APP, state)
    assert model(state, "tag").options["ordering"] == ["id"]
    migrations.AlterModelTable("Tag", "tags").state_forwards(APP, state)
    assert state.apps.get_model(APP, "Tag")._meta.db_table == "tags"
    migrations.AlterModelTable("Tag", None).state_forwards(APP, state)
    assert state.apps.get_model(APP, "Tag")._meta.db_table == f"{APP}_tag"
    migrations.AlterModelOptions("Tag", {"verbose_name": "label"}).state_forwards(APP, state)
    assert model(state, "tag").options.get("ordering") is None  # not given: removed
    assert state.apps.get_model(APP, "Tag")._meta.verbose_name == "label"
    migrations.AlterUniqueTogether("Book", ("title", "author")).state_forwards(APP, state)
    assert state.apps.get_model(APP, "Book")._meta.unique_together == (("title", "author"),)
    migrations.AlterUniqueTogether("Book", set()).state_forwards(APP, state)
    assert "unique_together" not in model(state, "book").options
    migrations.RenameModel("Tag", "Label").state_forwards(APP, state)
    assert state.apps.get_model(APP, "Label")._meta.db_table == f"{APP}_label"
    migrations.DeleteModel("Label").state_forwards(APP, state)
    assert set(state.models) == {(APP, "author"), (APP, "book")}
    with pytest.raises(ValueError, match="already has a model i13_ops.Book"):
        migrations.CreateModel("Book", [auto_id()]).state_forwards(APP, state)


def test_field_operations_change_the_state() -> None:
    state = base_state()
    migrations.AddField("Book", "pages", orm.IntegerField(default=0)).state_forwards(APP, state)
    migrations.AlterField("Book", "pages", orm.BigIntegerField(null=True)).state_forwards(APP, state)
    book = state.apps.get_model(APP, "Book")
    assert book._meta.get_field("pages").get_internal_type() == "BigIntegerField"
    assert book._meta.get_field("pages").null
    migrations.RenameField("Book", "pages", "page_count").state_forwards(APP, state)
    assert list(model(state, "book").fields)[-1] == "page_count"
    migrations.RemoveField("Book", "page_count").state_forwards(APP, state)
    assert list(model(state, "book").fields) == ["id", "title", "author"]
    with pytest.raises(ValueError, match="already has a field named 'title'"):
        migrations.AddField("Book", "title", orm.TextField()).state_forwards(APP, state)
    with pytest.raises(orm.FieldError, match="no field named 'nope'.*Its fields are: id, title, author"):
        migrations.RemoveField("Book", "nope").state_forwards(APP, state)


def test_index_and_constraint_operations_change_the_state() -> None:
    state = base_state()
    migrations.RenameIndex("Book", "book_title_idx", old_fields=["title"]).state_forwards(APP, state)
    assert model(state, "book").options["indexes"] == [orm.Index(fields=["title"], name="book_title_idx")]
    migrations.RenameIndex("Book", "book_title", old_name="book_title_idx").state_forwards(APP, state)
    migrations.AddIndex("Book", orm.Index(fields=["author", "-title"], name="book_by_author")).state_forwards(
        APP, state)
    assert [i.name for i in state.apps.get_model(APP, "Book")._meta.indexes] == ["book_title", "book_by_author"]
    migrations.RemoveIndex("Book", "book_title").state_forwards(APP, state)
    migrations.AddConstraint("Book", orm.CheckConstraint(
        condition=orm.Q(title__startswith="A"), name="title_a")).state_forwards(APP, state)
    assert [c.name for c in state.apps.get_model(APP, "Book")._meta.constraints] == ["title_a"]
    migrations.RemoveConstraint("Book", "title_a").state_forwards(APP, state)
    assert model(state, "book").options["constraints"] == []
    with pytest.raises(ValueError, match="No index named 'ghost'"):
        migrations.RemoveIndex("Book", "ghost").state_forwards(APP, state)
    with pytest.raises(ValueError, match="No constraint named 'ghost'"):
        migrations.RemoveConstraint("Book", "ghost").state_forwards(APP, state)
    with pytest.raises(ValueError, match="No unnamed index over"):
        migrations.RenameIndex("Book", "x", old_fields=["author"]).state_forwards(APP, state)


def test_special_operations_change_the_state_only_through_state_operations() -> None:
    state = base_state()
    migrations.RunPython(forwards).state_forwards(APP, state)
    migrations.RunSQL("SELECT 1").state_forwards(APP, state)
    assert state == base_state()
    migrations.RunSQL("ALTER ...", state_operations=[
        migrations.AddField("Book", "a", orm.IntegerField(null=True))]).state_forwards(APP, state)
    migrations.SeparateDatabaseAndState(
        database_operations=[migrations.DeleteModel("Author")],
        state_operations=[migrations.AlterModelOptions("Author", {"ordering": ["name"]})],
    ).state_forwards(APP, state)
    assert "a" in model(state, "book").fields and model(state, "author").options["ordering"] == ["name"]


def test_bad_arguments_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="needs a named index.*name="):
        migrations.AddIndex("Book", orm.Index(fields=["title"]))
    with pytest.raises(ValueError, match="old_name .* or old_fields"):
        migrations.RenameIndex("Book", "x")
    with pytest.raises(ValueError, match="not both"):
        migrations.RenameIndex("Book", "x", old_name="a", old_fields=["b"])
    with pytest.raises(ValueError, match="got the field 'a' twice"):
        migrations.CreateModel("X", [("a", orm.IntegerField()), ("a", orm.IntegerField())])
    with pytest.raises(ValueError, match="cannot set db_table.*AlterModelTable"):
        migrations.AlterModelOptions("Book", {"db_table": "x"})
    with pytest.raises(TypeError, match="needs a function"):
        migrations.RunPython("not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(sql, params\) pairs"):
        migrations.RunSQL(["SELECT 1", ("SELECT %s", [1], "extra")])
    with pytest.raises(TypeError, match="string or a list"):
        migrations.RunSQL(42)  # type: ignore[arg-type]


def test_reversibility() -> None:
    assert not migrations.RunPython(forwards).reversible
    assert migrations.RunPython(forwards, migrations.RunPython.noop).reversible
    assert not migrations.RunSQL("SELECT 1").reversible
    assert migrations.RunSQL("SELECT 1", migrations.RunSQL.noop).reversible
    assert not migrations.SeparateDatabaseAndState([migrations.RunSQL("SELECT 1")]).reversible
    assert migrations.SeparateDatabaseAndState(state_operations=[migrations.RunSQL("SELECT 1")]).reversible
    assert issubclass(IrreversibleError, RuntimeError)


def test_references() -> None:
    add_fk = migrations.AddField("Review", "book", orm.ForeignKey(f"{APP}.book", on_delete=orm.CASCADE))
    assert add_fk.references_model("Review", APP) and add_fk.references_model("Book", APP)
    assert not add_fk.references_model("Author", APP)
    assert add_fk.references_field("Review", "book", APP)
    assert add_fk.references_field("Book", "id", APP)  # the target's primary key
    to_title = migrations.AddField("Review", "book", orm.ForeignKey(
        f"{APP}.book", on_delete=orm.CASCADE, to_field="title"))
    assert to_title.references_field("Book", "title", APP) and not to_title.references_field("Book", "pages", APP)
    m2m = migrations.AddField("Book", "tags", orm.ManyToManyField(f"{APP}.tag", through=f"{APP}.tagging"))
    assert m2m.references_model("Tag", APP) and m2m.references_model("Tagging", APP)
    create = migrations.CreateModel("Review", [auto_id(), ("book", orm.ForeignKey(
        f"{APP}.book", on_delete=orm.CASCADE))])
    assert create.references_model("Book", APP) and not create.references_model("Author", APP)
    assert migrations.DeleteModel("Book").references_model("Anything", APP)
    rename = migrations.RenameModel("Book", "Novel")
    assert rename.references_model("book", APP) and rename.references_model("NOVEL", APP)
    rename_field = migrations.RenameField("Book", "title", "name")
    assert rename_field.references_field("Book", "name", APP) and not rename_field.references_field(
        "Book", "pages", APP)
    together = migrations.AlterUniqueTogether("Book", [("title", "author")])
    assert together.references_field("Book", "title", APP) and not together.references_field("Book", "pages", APP)
    index = migrations.AddIndex("Book", orm.Index(fields=["title"], name="i"))
    assert index.references_model("Book", APP) and not index.references_model("Author", APP)
    assert migrations.RunSQL("SELECT 1").references_model("Book", APP)  # unknown: assume it does
