"""The autodetector (issue 14): model changes in, Django's operations out.

Every case goes through ``detect()``, which also checks that replaying the
generated migrations on the old state gives the new one, and that nothing
is detected after that. Cases cover models and fields created, deleted,
altered and renamed (questions answered yes and no), relations inside one
app and across apps (ordering, dependencies, circular foreign keys split),
many-to-many fields, options, ``unique_together``, indexes and
constraints, naming and numbering.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

import orm
from orm.migrations import (
    AddField,
    AlterField,
    AlterModelOptions,
    AlterModelTable,
    AlterUniqueTogether,
    CreateModel,
    RenameField,
    RenameIndex,
    RenameModel,
)
from orm.migrations.autodetector import MigrationAutodetector
from orm.migrations.chopping import parse_number
from orm.migrations.questioner import (
    InteractiveMigrationQuestioner,
    MigrationQuestioner,
    MigrationQuestionError,
    NonInteractiveMigrationQuestioner,
)
from orm.migrations.state import ProjectState
from tests.migrations.autodetector_support import char, detect, fk, model, only, ops, state

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

AUTHOR = model("shop.Author", {"name": char()})
BOOK = model("shop.Book", {"title": char(100), "author": fk("shop.Author")})
BASE = state(AUTHOR, BOOK)
LEAVES = {"shop": "0001_initial"}


def answers(*replies: str) -> InteractiveMigrationQuestioner:
    """An interactive questioner reading ``replies`` in turn."""
    queue = list(replies)
    return InteractiveMigrationQuestioner(prompt_output=io.StringIO(), input_func=lambda _: queue.pop(0))


def book(**fields: Any) -> Any:
    """The Book model with ``fields`` added (``None`` removes one)."""
    merged = {"title": char(100), "author": fk("shop.Author"), **fields}
    return model("shop.Book", {k: v for k, v in merged.items() if v is not None})


# -- nothing to do ---------------------------------------------------------------------------
def test_unchanged_models_produce_nothing() -> None:
    assert detect(BASE, state(AUTHOR, BOOK)) == {}


def test_relation_spelled_differently_is_no_change() -> None:
    # A hand-written migration may say to="Author": the same target as "shop.author".
    before = ProjectState()
    CreateModel("Author", [("id", orm.BigAutoField(auto_created=True, primary_key=True, verbose_name="ID")),
                           ("name", char())]).state_forwards("shop", before)
    CreateModel("Book", [("id", orm.BigAutoField(auto_created=True, primary_key=True, verbose_name="ID")),
                         ("title", char(100)), ("author", fk("Author"))]).state_forwards("shop", before)
    assert MigrationAutodetector(before, BASE).changes() == {}


# -- models -----------------------------------------------------------------------------------
def test_initial_migration_creates_models_with_their_relations() -> None:
    changes = detect(ProjectState(), BASE)
    migration = changes["shop"][0]
    assert (migration.name, migration.initial, migration.dependencies) == ("0001_initial", True, [])
    assert ops(changes, "shop") == ["CreateModel", "CreateModel"]
    assert [name for name, _ in migration.operations[1].fields] == ["id", "title", "author"]


def test_added_model_is_numbered_after_the_leaf() -> None:
    changes = detect(BASE, state(AUTHOR, BOOK, model("shop.Review", {"stars": orm.IntegerField()})),
                     graph=LEAVES)
    migration = changes["shop"][0]
    assert (migration.name, migration.dependencies) == ("0002_review", [("shop", "0001_initial")])
    assert migration.initial is False
    assert ops(changes, "shop") == ["CreateModel"]


def test_deleted_model() -> None:
    changes = detect(state(AUTHOR, BOOK, model("shop.Review")), BASE, graph=LEAVES)
    assert ops(changes, "shop") == ["DeleteModel"]
    assert changes["shop"][0].name == "0002_delete_review"


def test_deleted_model_waits_for_fields_pointing_at_it() -> None:
    changes = detect(BASE, state(AUTHOR, book(author=None)), graph=LEAVES)
    assert ops(changes, "shop") == ["RemoveField"]
    changes = detect(BASE, state(model("shop.Book", {"title": char(100)})), graph=LEAVES)
    assert ops(changes, "shop") == ["RemoveField", "DeleteModel"]
    assert changes["shop"][0].operations[1].name == "Author"


def test_deleting_two_related_models_removes_the_relation_first() -> None:
    changes = detect(BASE, ProjectState(), graph=LEAVES)
    assert ops(changes, "shop") == ["RemoveField", "DeleteModel", "DeleteModel"]
    assert [op.name for op in changes["shop"][0].operations[1:]] == ["Author", "Book"]


def test_model_rename_answered_yes() -> None:
    writer = model("shop.Writer", {"name": char()})
    changes = detect(BASE, state(writer, model("shop.Book", {"title": char(100), "author": fk("shop.Writer")})),
                     answers("y"), graph=LEAVES)
    operations = only(changes, "shop")
    assert [type(op) for op in operations] == [RenameModel]
    assert (operations[0].old_name, operations[0].new_name) == ("Author", "Writer")
    assert changes["shop"][0].name == "0002_rename_author_writer"


def test_model_rename_answered_no_is_create_and_delete() -> None:
    writer = model("shop.Writer", {"name": char()})
    after = state(writer, model("shop.Book", {"title": char(100), "author": fk("shop.Writer")}))
    changes = detect(BASE, after, answers("n"), graph=LEAVES)
    assert ops(changes, "shop") == ["CreateModel", "AlterField", "DeleteModel"]


def test_model_rename_not_asked_when_fields_differ() -> None:
    questioner = answers()  # any question would fail: there are no replies
    changes = detect(BASE, state(model("shop.Writer", {"nick": orm.IntegerField()}), book()), questioner)
    assert "RenameModel" not in ops(changes, "shop")


# -- fields -----------------------------------------------------------------------------------
def test_added_field_with_default_names_the_migration() -> None:
    changes = detect(BASE, state(AUTHOR, book(isbn=char(13, default=""))), graph=LEAVES)
    (operation,) = only(changes, "shop")
    assert isinstance(operation, AddField) and operation.preserve_default
    assert changes["shop"][0].name == "0002_book_isbn"


def test_several_changes_name_the_migration_after_each() -> None:
    changes = detect(BASE, state(AUTHOR, book(isbn=char(13, null=True), pages=orm.IntegerField(default=0))),
                     graph=LEAVES)
    assert changes["shop"][0].name == "0002_book_isbn_book_pages"


def test_migration_name_is_chosen() -> None:
    changes = detect(BASE, state(AUTHOR, book(isbn=char(13, null=True))), graph=LEAVES,
                     migration_name="add_isbn")
    assert changes["shop"][0].name == "0002_add_isbn"


def test_not_null_field_without_default_default_questioner() -> None:
    changes = detect(BASE, state(AUTHOR, book(pages=orm.IntegerField())), MigrationQuestioner())
    (operation,) = only(changes, "shop")
    assert operation.preserve_default is False and operation.field.default is None


def test_not_null_field_without_default_refused_without_input() -> None:
    with pytest.raises(MigrationQuestionError) as caught:
        detect(BASE, state(AUTHOR, book(pages=orm.IntegerField())), NonInteractiveMigrationQuestioner())
    message = str(caught.value)
    assert "'pages'" in message and "Book" in message
    assert "default (or null=True)" in message and "without --no-input" in message


def test_not_null_field_gets_a_one_off_default_interactively() -> None:
    changes = detect(BASE, state(AUTHOR, book(pages=orm.IntegerField())), answers("1", "12"))
    (operation,) = only(changes, "shop")
    assert operation.preserve_default is False and operation.field.default == 12


def test_one_off_default_prompt_retries_after_a_typo() -> None:
    output = io.StringIO()
    replies = ["9", "1", "", "undefined_name", "datetime.date(2024, 1, 2)"]
    questioner = InteractiveMigrationQuestioner(prompt_output=output, input_func=lambda _: replies.pop(0))
    changes = detect(BASE, state(AUTHOR, book(published=orm.DateField())), questioner)
    import datetime
    assert only(changes, "shop")[0].field.default == datetime.date(2024, 1, 2)
    text = output.getvalue()
    assert "Please select a valid option" in text and "NameError" in text


def test_interactive_quit_on_not_null_field() -> None:
    with pytest.raises(MigrationQuestionError, match="'pages'"):
        detect(BASE, state(AUTHOR, book(pages=orm.IntegerField())), answers("2"))


def test_end_of_input_cancels_cleanly() -> None:
    def no_input(prompt: str) -> str:
        raise EOFError

    questioner = InteractiveMigrationQuestioner(prompt_output=io.StringIO(), input_func=no_input)
    with pytest.raises(MigrationQuestionError, match="no answer"):
        detect(BASE, state(AUTHOR, book(pages=orm.IntegerField())), questioner)


def test_fields_that_need_no_default() -> None:
    after = state(AUTHOR, book(
        subtitle=char(blank=True), updated=orm.DateTimeField(auto_now=True),
        tags=orm.ManyToManyField("shop.Author", related_name="tagged"), note=orm.TextField(null=True),
    ))
    operations = detect(BASE, after, NonInteractiveMigrationQuestioner())["shop"][0].operations
    assert sorted(op.name for op in operations) == ["note", "subtitle", "tags", "updated"]
    assert all(op.preserve_default for op in operations)


def test_auto_now_add_field_offers_timezone_now() -> None:
    changes = detect(BASE, state(AUTHOR, book(created=orm.DateTimeField(auto_now_add=True))),
                     answers("1", ""))
    from orm.fields.temporal import now
    assert only(changes, "shop")[0].field.default is now
    with pytest.raises(MigrationQuestionError, match="'created'"):
        detect(BASE, state(AUTHOR, book(created=orm.DateTimeField(auto_now_add=True))),
               NonInteractiveMigrationQuestioner())


def test_removed_field() -> None:
    changes = detect(state(AUTHOR, book(isbn=char(13, null=True))), BASE, graph=LEAVES)
    assert ops(changes, "shop") == ["RemoveField"]
    assert changes["shop"][0].name == "0002_remove_book_isbn"


def test_altered_field() -> None:
    changes = detect(BASE, state(AUTHOR, model("shop.Book", {"title": char(200), "author": fk("shop.Author")})))
    (operation,) = only(changes, "shop")
    assert isinstance(operation, AlterField) and operation.field.max_length == 200


def test_field_made_not_null_without_default() -> None:
    before = state(AUTHOR, book(isbn=char(13, null=True)))
    after = state(AUTHOR, book(isbn=char(13)))
    (operation,) = only(detect(before, after, NonInteractiveMigrationQuestioner()), "shop")
    assert operation.preserve_default is True
    (operation,) = only(detect(before, after, answers("1", "'unknown'")), "shop")
    assert (operation.preserve_default, operation.field.default) == (False, "unknown")
    questioner = NonInteractiveMigrationQuestioner()
    detect(before, after, questioner)
    assert "isbn" in questioner.warnings[0] and "NULL" in questioner.warnings[0]


def test_field_rename_answered_yes() -> None:
    changes = detect(BASE, state(AUTHOR, model("shop.Book", {"name": char(100), "author": fk("shop.Author")})),
                     answers("y"), graph=LEAVES)
    (operation,) = only(changes, "shop")
    assert isinstance(operation, RenameField) and (operation.old_name, operation.new_name) == ("title", "name")
    assert changes["shop"][0].name == "0002_rename_title_book_name"


def test_field_rename_answered_no_is_remove_and_add() -> None:
    after = state(AUTHOR, model("shop.Book", {"name": char(100, default=""), "author": fk("shop.Author")}))
    before = state(AUTHOR, book(title=char(100, default="")))
    assert ops(detect(before, after, answers("n")), "shop") == ["RemoveField", "AddField"]
    assert ops(detect(before, after, NonInteractiveMigrationQuestioner()), "shop") == ["RemoveField", "AddField"]


def test_field_rename_keeping_the_column_alters_first() -> None:
    after = state(AUTHOR, model("shop.Book", {"name": char(100, db_column="title"), "author": fk("shop.Author")}))
    operations = only(detect(BASE, after, answers("y")), "shop")
    assert [type(op) for op in operations] == [AlterField, RenameField]


def test_foreign_key_rename_keeping_its_column() -> None:
    after = state(AUTHOR, model("shop.Book", {"title": char(100), "writer": fk("shop.Author", db_column="author_id")}))
    operations = only(detect(BASE, after, answers("y")), "shop")
    assert [type(op) for op in operations] == [AlterField, RenameField]


def test_field_to_and_from_many_to_many_is_remove_and_add() -> None:
    after = state(AUTHOR, book(author=orm.ManyToManyField("shop.Author")))
    assert ops(detect(BASE, after), "shop") == ["RemoveField", "AddField"]


def test_added_foreign_key_to_a_new_model_in_the_same_app() -> None:
    after = state(AUTHOR, book(publisher=fk("shop.Publisher", null=True)), model("shop.Publisher", {"name": char()}))
    assert ops(detect(BASE, after), "shop") == ["CreateModel", "AddField"]


# -- relations between models ---------------------------------------------------------------------
def test_circular_foreign_keys_in_one_app() -> None:
    after = state(model("shop.Author", {"name": char(), "best": fk("shop.Book", null=True, related_name="+")}), BOOK)
    changes = detect(ProjectState(), after)
    assert ops(changes, "shop") == ["CreateModel", "CreateModel", "AddField"]
    author, book_op, add = changes["shop"][0].operations
    assert [n for n, _ in author.fields] == ["id", "name"]
    assert [n for n, _ in book_op.fields] == ["id", "title", "author"]
    assert (add.model_name, add.name) == ("author", "best")


def test_foreign_key_across_apps_orders_the_migrations() -> None:
    after = state(AUTHOR, model("shop.Book", {"title": char(), "press": fk("press.Publisher")}),
                  model("press.Publisher", {"name": char()}))
    changes = detect(ProjectState(), after)
    assert changes["press"][0].dependencies == []
    assert changes["shop"][0].dependencies == [("press", "0001_initial")]
    assert ops(changes, "shop") == ["CreateModel", "CreateModel"]


def test_foreign_key_to_an_app_without_changes_depends_on_its_leaf() -> None:
    before = state(AUTHOR, BOOK, model("press.Publisher", {"name": char()}))
    after = state(AUTHOR, book(press=fk("press.Publisher", null=True)), model("press.Publisher", {"name": char()}))
    changes = detect(before, after, graph={"shop": "0003_x", "press": "0007_y"})
    assert list(changes) == ["shop"]
    assert changes["shop"][0].name == "0004_book_press"
    assert changes["shop"][0].dependencies == [("press", "0007_y"), ("shop", "0003_x")]
    changes = detect(before, after)
    assert changes["shop"][0].dependencies == [("press", "__first__")]


def test_circular_foreign_keys_across_apps_are_split() -> None:
    after = state(model("shop.Book", {"title": char(), "press": fk("press.Publisher")}),
                  model("press.Publisher", {"name": char(), "bestseller": fk("shop.Book", null=True, related_name="+")}))
    changes = detect(ProjectState(), after)
    assert [m.name for m in changes["press"]] == ["0001_initial", "0002_initial"]
    assert ops(changes, "press", 0) == ["CreateModel"] and ops(changes, "press", 1) == ["AddField"]
    assert changes["shop"][0].dependencies == [("press", "0001_initial")]
    assert sorted(changes["press"][1].dependencies) == [("press", "0001_initial"), ("shop", "0001_initial")]


def test_many_to_many_between_new_models_is_folded() -> None:
    after = state(AUTHOR, model("shop.Tag", {"name": char()}), book(tags=orm.ManyToManyField("shop.Tag")))
    changes = detect(ProjectState(), after)
    assert ops(changes, "shop") == ["CreateModel", "CreateModel", "CreateModel"]
    by_name = {op.name: op for op in changes["shop"][0].operations}
    assert "tags" in dict(by_name["Book"].fields)


def test_many_to_many_across_apps() -> None:
    after = state(AUTHOR, book(tags=orm.ManyToManyField("tags.Tag")), model("tags.Tag", {"name": char()}))
    changes = detect(BASE, after, graph=LEAVES)
    assert changes["tags"][0].name == "0001_initial"
    assert changes["shop"][0].dependencies == [("shop", "0001_initial"), ("tags", "0001_initial")]
    assert ops(changes, "shop") == ["AddField"]


def test_many_to_many_through_a_model_is_created_after_it() -> None:
    membership = model("shop.Membership", {"author": fk("shop.Author"), "club": fk("shop.Club")})
    club = model("shop.Club", {"members": orm.ManyToManyField("shop.Author", through="shop.Membership")})
    operations = detect(ProjectState(), state(AUTHOR, membership, club))["shop"][0].operations

    def position(found: Any) -> int:
        return next(i for i, op in enumerate(operations) if found(op))

    membership_at = position(lambda op: isinstance(op, CreateModel) and op.name == "Membership")
    members_at = position(lambda op: (isinstance(op, AddField) and op.name == "members")
                          or (isinstance(op, CreateModel) and "members" in dict(op.fields)))
    assert membership_at < members_at


def test_deleting_a_through_model_waits_for_the_many_to_many() -> None:
    membership = model("shop.Membership", {"author": fk("shop.Author"), "club": fk("shop.Club")})
    club = model("shop.Club", {"members": orm.ManyToManyField("shop.Author", through="shop.Membership")})
    changes = detect(state(AUTHOR, membership, club), state(AUTHOR, model("shop.Club")), graph=LEAVES)
    kinds = [(type(op).__name__, getattr(op, "name", "")) for op in changes["shop"][0].operations]
    assert kinds.index(("RemoveField", "members")) < kinds.index(("DeleteModel", "Membership"))


def test_relation_to_a_renamed_model_is_not_altered() -> None:
    writer = model("shop.Writer", {"name": char()})
    after = state(writer, model("shop.Book", {"title": char(100), "author": fk("shop.Writer")}))
    operations = only(detect(BASE, after, MigrationQuestioner({"ask_rename_model": True})), "shop")
    assert [type(op) for op in operations] == [RenameModel]


# -- options ----------------------------------------------------------------------------------------
def test_altered_db_table() -> None:
    after = state(AUTHOR, model("shop.Book", BOOK[2], db_table="books"))
    (operation,) = only(detect(BASE, after), "shop")
    assert isinstance(operation, AlterModelTable) and operation.table == "books"
    (operation,) = only(detect(after, BASE), "shop")
    assert operation.table is None


def test_altered_ordering() -> None:
    after = state(AUTHOR, model("shop.Book", BOOK[2], ordering=["-title"]))
    (operation,) = only(detect(BASE, after), "shop")
    assert isinstance(operation, AlterModelOptions) and operation.options == {"ordering": ["-title"]}


def test_unique_together_added_and_removed_with_a_field() -> None:
    with_isbn = state(AUTHOR, model("shop.Book", {**BOOK[2], "isbn": char(13, null=True)},
                                    unique_together=[("title", "isbn")]))
    operations = only(detect(BASE, with_isbn), "shop")
    assert [type(op).__name__ for op in operations] == ["AddField", "AlterUniqueTogether"]
    operations = only(detect(with_isbn, BASE), "shop")
    assert [type(op).__name__ for op in operations] == ["AlterUniqueTogether", "RemoveField"]
    assert isinstance(operations[0], AlterUniqueTogether) and operations[0].unique_together == set()


def test_index_added_removed_renamed() -> None:
    indexed = state(AUTHOR, model("shop.Book", BOOK[2], indexes=[orm.Index(fields=["title"], name="book_t")]))
    assert ops(detect(BASE, indexed), "shop") == ["AddIndex"]
    assert ops(detect(indexed, BASE), "shop") == ["RemoveIndex"]
    renamed = state(AUTHOR, model("shop.Book", BOOK[2], indexes=[orm.Index(fields=["title"], name="book_title")]))
    (operation,) = only(detect(indexed, renamed), "shop")
    assert isinstance(operation, RenameIndex)
    assert (operation.old_name, operation.new_name) == ("book_t", "book_title")


def test_unnamed_index_must_be_named() -> None:
    unnamed = state(AUTHOR, model("shop.Book", BOOK[2], indexes=[orm.Index(fields=["title"])]))
    with pytest.raises(ValueError, match=r"has no name.*name="):
        MigrationAutodetector(BASE, unnamed).changes()
    # Naming it later is a RenameIndex from its fields.
    named = state(AUTHOR, model("shop.Book", BOOK[2], indexes=[orm.Index(fields=["title"], name="book_t")]))
    created = detect(ProjectState(), unnamed)
    assert ops(created, "shop") == ["CreateModel", "CreateModel"]
    (operation,) = only(detect(unnamed, named), "shop")
    assert isinstance(operation, RenameIndex) and operation.old_fields == ["title"]
    with pytest.raises(ValueError, match="cannot remove it"):
        MigrationAutodetector(unnamed, BASE).changes()


def test_constraints_added_and_removed() -> None:
    constrained = state(AUTHOR, model("shop.Book", BOOK[2], constraints=[
        orm.UniqueConstraint(fields=["title", "author"], name="book_uniq"),
        orm.CheckConstraint(condition=orm.Q(title__gt=""), name="book_title_set"),
    ]))
    assert ops(detect(BASE, constrained), "shop") == ["AddConstraint", "AddConstraint"]
    assert ops(detect(constrained, BASE), "shop") == ["RemoveConstraint", "RemoveConstraint"]


def test_new_model_keeps_indexes_and_constraints_in_create_model() -> None:
    after = state(AUTHOR, model("shop.Book", BOOK[2], unique_together=[("title", "author")],
                                indexes=[orm.Index(fields=["title"], name="book_t")],
                                constraints=[orm.CheckConstraint(condition=orm.Q(title__gt=""), name="c")]))
    changes = detect(ProjectState(), after)
    assert ops(changes, "shop") == ["CreateModel", "CreateModel"]
    options = changes["shop"][0].operations[1].options
    assert [i.name for i in options["indexes"]] == ["book_t"] and options["unique_together"] == {("title", "author")}


# -- graph, naming, trimming ---------------------------------------------------------------------
class FakeGraph:
    """A graph as the loader's: leaf_nodes(app_label)."""

    def leaf_nodes(self, app: str | None = None) -> list[tuple[str, str]]:
        leaves = [("shop", "0001_squashed_0004_auto"), ("press", "0002_b")]
        return [leaf for leaf in leaves if app is None or leaf[0] == app]


def test_graph_object_and_squashed_leaf_numbering() -> None:
    changes = detect(BASE, state(AUTHOR, book(isbn=char(13, null=True))), graph=FakeGraph())
    assert changes["shop"][0].name == "0005_book_isbn"
    assert changes["shop"][0].dependencies == [("shop", "0001_squashed_0004_auto")]
    assert (parse_number("0012_x"), parse_number("custom")) == (12, None)


def test_trim_to_apps_keeps_what_they_depend_on() -> None:
    after = state(AUTHOR, model("shop.Book", {"title": char(), "press": fk("press.Publisher")}),
                  model("press.Publisher", {"name": char()}), model("other.Thing"))
    changes = MigrationAutodetector(ProjectState(), after).changes(trim_to_apps=["shop"])
    assert sorted(changes) == ["press", "shop"]
    changes = MigrationAutodetector(ProjectState(), after).changes(trackable_apps=["press"])
    assert sorted(changes) == ["press"]
    with pytest.raises(TypeError, match="not both"):
        MigrationAutodetector(ProjectState(), after).changes(trim_to_apps=["a"], trackable_apps=["a"])


def test_ask_initial_no_leaves_the_app_out() -> None:
    questioner = MigrationQuestioner({"ask_initial": False}, specified_apps=["press"])
    after = state(AUTHOR, model("press.Publisher", {"name": char()}))
    assert sorted(MigrationAutodetector(ProjectState(), after, questioner).changes()) == ["press"]


def test_states_are_left_unchanged() -> None:
    before, after = state(AUTHOR, BOOK), state(AUTHOR, book(isbn=char(13, null=True)))
    def signature(project: ProjectState) -> dict[Any, Any]:
        return {key: model_state._signature() for key, model_state in project.models.items()}

    snapshot = (signature(before), signature(after))
    MigrationAutodetector(before, after, answers("1", "0")).changes()
    assert (signature(before), signature(after)) == snapshot


def test_renamed_field_keeps_its_index_constraint_and_unique_together() -> None:
    def books(name: str) -> Any:
        return state(AUTHOR, model("shop.Book", {name: char(100), "author": fk("shop.Author")},
                                   unique_together=[(name, "author")],
                                   indexes=[orm.Index(fields=[f"-{name}"], name="book_name_idx")],
                                   constraints=[orm.CheckConstraint(condition=orm.Q(**{f"{name}__gt": ""}),
                                                                    name="book_name_set")]))

    (operation,) = only(detect(books("title"), books("name"), answers("y")), "shop")
    assert isinstance(operation, RenameField)


def test_model_deleted_after_the_other_app_drops_its_foreign_key() -> None:
    before = state(AUTHOR, book(tag=fk("tags.Tag")), model("tags.Tag", {"name": char()}))
    changes = detect(before, BASE, graph={"shop": "0002_a", "tags": "0001_initial"})
    assert ops(changes, "shop") == ["RemoveField"] and ops(changes, "tags") == ["DeleteModel"]
    assert changes["tags"][0].dependencies == [("shop", "0003_remove_book_tag"), ("tags", "0001_initial")]


def test_chain_of_apps_is_created_in_dependency_order() -> None:
    after = state(model("c.Third", {"b": fk("b.Second")}), model("b.Second", {"a": fk("a.First")}),
                  model("a.First", {"name": char()}))
    changes = detect(ProjectState(), after)
    assert changes["a"][0].dependencies == []
    assert changes["b"][0].dependencies == [("a", "0001_initial")]
    assert changes["c"][0].dependencies == [("b", "0001_initial")]


def test_renamed_target_field_of_a_to_field_foreign_key_is_not_an_alteration() -> None:
    def models(code: str) -> Any:
        return state(model("shop.Author", {code: char(10, unique=True)}),
                     model("shop.Book", {"author": fk("shop.Author", to_field=code)}))

    (operation,) = only(detect(models("code"), models("ref"), answers("y")), "shop")
    assert isinstance(operation, RenameField) and operation.new_name == "ref"


def test_model_and_field_renamed_in_one_run() -> None:
    # Fields are compared in name order, so the renamed field keeps its place (as in Django).
    after = state(model("shop.Writer", {"nickname": char()}),
                  model("shop.Book", {"title": char(100), "author": fk("shop.Writer")}))
    operations = only(detect(BASE, after, answers("y", "y")), "shop")
    assert [type(op) for op in operations] == [RenameModel, RenameField]
    assert (operations[1].model_name, operations[1].old_name, operations[1].new_name) == (
        "writer", "name", "nickname")
