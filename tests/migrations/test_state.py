"""Migration state (issue 13): models as data, states built two ways, historical models.

- A state taken from model classes equals the state built by replaying the
  operations that create them; a difference in any field or option shows.
- ``state.apps`` renders historical models into a registry of their own,
  with relations, reverse accessors and join models between them.
- After a change only the changed models and their direct neighbours get new
  classes; models further away are shared and relinked, and a clone taken
  before the change keeps exact classes for what the change touched.
- States that cannot be rendered (a relation to a model the state lacks, a
  bound field, an unknown option) fail with an error saying what to fix.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.fields import deep_deconstruct
from orm.migrations import InvalidStateError, ModelState, ProjectState
from orm.models import registry
from orm.models.registry import Apps
from tests.migrations.helpers import auto_id, meta, replay

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "i13_state"


class BookManager(orm.Manager):  # type: ignore[type-arg]
    use_in_migrations = True


def declare_models(apps: Apps) -> dict[str, Any]:
    """The models the operations of ``initial_operations()`` describe."""
    author = type("Author", (orm.Model,), {
        "__module__": __name__, "Meta": meta(APP, apps),
        "name": orm.CharField(max_length=50),
        "email": orm.EmailField(unique=True),
    })
    tag = type("Tag", (orm.Model,), {
        "__module__": __name__, "Meta": meta(APP, apps, db_table="i13_tags"),
        "name": orm.CharField(max_length=20, db_index=True),
    })
    book = type("Book", (orm.Model,), {
        "__module__": __name__,
        "Meta": meta(
            APP, apps, ordering=["title"], unique_together=[("title", "author")],
            indexes=[orm.Index(fields=["-price"], name="book_price_idx")],
            constraints=[orm.CheckConstraint(condition=orm.Q(price__gte=0), name="book_price_gte_0")],
        ),
        "title": orm.CharField(max_length=100),
        "author": orm.ForeignKey("Author", on_delete=orm.CASCADE, related_name="books"),
        "tags": orm.ManyToManyField("Tag", related_name="books", blank=True),
        "price": orm.DecimalField(max_digits=8, decimal_places=2, default=0),
        "objects": BookManager(),
    })
    return {"Author": author, "Tag": tag, "Book": book}


def initial_operations() -> list[migrations.Operation]:
    return [
        migrations.CreateModel("Author", [
            auto_id(), ("name", orm.CharField(max_length=50)), ("email", orm.EmailField(unique=True)),
        ]),
        migrations.CreateModel("Tag", [auto_id(), ("name", orm.CharField(max_length=20, db_index=True))],
                               options={"db_table": "i13_tags"}),
        migrations.CreateModel(
            "Book",
            [auto_id(), ("title", orm.CharField(max_length=100)),
             ("author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE, related_name="books"))],
            options={"ordering": ["title"]},
            managers=[("objects", BookManager())],
        ),
        migrations.AddField("book", "tags", orm.ManyToManyField(f"{APP}.tag", related_name="books", blank=True)),
        migrations.AddField("book", "price", orm.DecimalField(max_digits=8, decimal_places=2, default=0)),
        migrations.AlterUniqueTogether("book", {("title", "author")}),
        migrations.AddIndex("book", orm.Index(fields=["-price"], name="book_price_idx")),
        migrations.AddConstraint(
            "book", orm.CheckConstraint(condition=orm.Q(price__gte=0), name="book_price_gte_0")),
    ]


def test_state_from_models_equals_state_replayed_from_operations() -> None:
    from_models = ProjectState.from_apps(Apps_with_models())
    replayed = replay(APP, initial_operations())
    assert set(from_models.models) == {(APP, "author"), (APP, "tag"), (APP, "book")}
    assert from_models == replayed
    # Rendering after each operation builds the same state.
    assert replay(APP, initial_operations(), render=True) == from_models


@pytest.mark.parametrize("change", [
    migrations.AlterField("author", "name", orm.CharField(max_length=51)),
    migrations.AlterModelOptions("book", {"ordering": ["-title"]}),
    migrations.AlterModelTable("tag", None),
    migrations.RemoveIndex("book", "book_price_idx"),
    migrations.AddField("tag", "slug", orm.SlugField(default="")),
])
def test_states_differ_when_one_model_differs(change: migrations.Operation) -> None:
    replayed = replay(APP, [*initial_operations(), change])
    assert replayed != ProjectState.from_apps(Apps_with_models())


def Apps_with_models() -> Apps:  # noqa: N802 - reads as a noun in the tests
    apps = Apps()
    declare_models(apps)
    return apps


def test_model_state_keeps_fields_options_and_migration_managers() -> None:
    apps = Apps()
    book = declare_models(apps)["Book"]
    state = ModelState.from_model(book)
    assert list(state.fields) == ["id", "title", "author", "price", "tags"]
    assert all(field.model is None for field in state.fields.values())
    assert state.fields["author"].remote_field.model == f"{APP}.author"
    assert state.options["unique_together"] == {("title", "author")}
    assert state.options["ordering"] == ["title"]
    assert state.options["indexes"] == [orm.Index(fields=["-price"], name="book_price_idx")]
    assert state.options["indexes"][0] is not book._meta.indexes[0]
    assert [(name, type(m)) for name, m in state.managers] == [("objects", BookManager)]
    assert ModelState.from_model(declare_models(Apps())["Author"]).managers == []


def test_a_custom_default_manager_name_is_kept_as_a_plain_manager() -> None:
    people = type("Person", (orm.Model,), {
        "__module__": __name__, "Meta": meta(APP, Apps()), "people": orm.Manager()})
    state = ModelState.from_model(people)
    assert [(name, type(m)) for name, m in state.managers] == [("people", orm.Manager)]
    rendered = ProjectState({state.key: state}).apps.get_model(APP, "person")
    assert rendered.people.model is rendered and rendered._default_manager is rendered.people


def test_rendered_models_live_in_their_own_registry_with_their_relations() -> None:
    before = (tuple(registry.get_models()), tuple(registry.pending_references()))
    state = replay(APP, initial_operations())
    apps = state.apps
    author, tag, book = (apps.get_model(APP, name) for name in ("Author", "Tag", "Book"))
    assert book._meta.apps is apps and book.__module__ == "__fake__"
    assert book._meta.get_field("author").related_model is author
    assert author.books.rel is book._meta.get_field("author").remote_field
    through = book._meta.get_field("tags").remote_field.through
    assert through._meta.auto_created and apps.get_model(APP, "Book_tags") is through
    assert tag.books.rel.field is book._meta.get_field("tags")
    assert book._meta.db_table == f"{APP}_book" and tag._meta.db_table == "i13_tags"
    assert book._meta.ordering == ["title"] and book._meta.unique_together == (("title", "author"),)
    assert type(book.objects) is BookManager and book.objects.model is book
    assert (tuple(registry.get_models()), tuple(registry.pending_references())) == before
    assert state.apps is apps  # rendered once, then reused


def test_a_clone_is_independent_of_its_original() -> None:
    state = replay(APP, initial_operations())
    state.apps  # noqa: B018
    clone = state.clone()
    migrations.AlterField("author", "name", orm.CharField(max_length=80)).state_forwards(APP, clone)
    migrations.AddField("tag", "slug", orm.SlugField(default="")).state_forwards(APP, clone)
    assert state.models[APP, "author"].fields["name"].max_length == 50
    assert "slug" not in state.models[APP, "tag"].fields
    assert state.apps.get_model(APP, "author")._meta.get_field("name").max_length == 50
    assert clone.apps.get_model(APP, "author")._meta.get_field("name").max_length == 80
    assert clone.models[APP, "book"] is state.models[APP, "book"]  # unchanged: shared
    # Changing the original now does not leak into the clone either.
    migrations.RemoveField("book", "price").state_forwards(APP, state)
    assert "price" in clone.models[APP, "book"].fields
    assert [f.name for f in state.apps.get_model(APP, "book")._meta.local_fields] == [
        "id", "title", "author"]


def chain_state(unrelated: int) -> ProjectState:
    """A -> B -> C -> D by foreign keys, plus ``unrelated`` models with no relation to them."""
    operations: list[migrations.Operation] = [
        migrations.CreateModel("D", [auto_id()]),
        migrations.CreateModel("C", [auto_id(), ("d", orm.ForeignKey(f"{APP}.d", on_delete=orm.CASCADE))]),
        migrations.CreateModel("B", [auto_id(), ("c", orm.ForeignKey(f"{APP}.c", on_delete=orm.CASCADE))]),
        migrations.CreateModel("A", [auto_id(), ("b", orm.ForeignKey(f"{APP}.b", on_delete=orm.CASCADE))]),
    ]
    operations += [migrations.CreateModel(f"Other{i}", [auto_id()]) for i in range(unrelated)]
    return replay(APP, operations)


def classes(state: ProjectState) -> dict[str, Any]:
    return {key[1]: state.apps.get_model(*key) for key in state.models}


def test_a_change_renders_only_the_changed_model_and_its_neighbours() -> None:
    state = chain_state(unrelated=20)
    before = classes(state)
    migrations.AddField("c", "note", orm.TextField(default="")).state_forwards(APP, state)
    after = classes(state)
    rendered = {name for name in after if after[name] is not before[name]}
    assert rendered == {"b", "c", "d"}  # C, the model it points at, the model pointing at it
    # A is two steps away: shared, and relinked to the new B.
    a_fk = after["a"]._meta.get_field("b")
    assert a_fk.related_model is after["b"]
    assert after["b"]._meta.get_field("c").related_model is after["c"]
    assert after["c"]._meta.get_field("d").related_model is after["d"]
    assert [rel.field for rel in after["b"]._meta.related_objects] == [a_fk]
    assert after["b"].a_set.rel is a_fk.remote_field
    # Nothing points at a replaced class any more.
    assert before["b"] not in {rel.model for rel in (a_fk.remote_field,)}
    assert after["d"]._meta.related_objects == [after["c"]._meta.get_field("d").remote_field]


def test_rendering_cost_does_not_grow_with_unrelated_models() -> None:
    counts = []
    for unrelated in (5, 200):
        state = chain_state(unrelated)
        before = classes(state)
        migrations.AlterField("a", "b", orm.ForeignKey(f"{APP}.b", on_delete=orm.PROTECT)).state_forwards(
            APP, state)
        after = classes(state)
        counts.append(sum(after[name] is not before[name] for name in after))
    assert counts == [2, 2]  # A and B, whatever the size of the project


def test_a_clone_taken_before_a_change_keeps_exact_classes_for_what_changed() -> None:
    state = chain_state(unrelated=3)
    state.apps  # noqa: B018
    old = state.clone()
    migrations.AlterField("c", "d", orm.ForeignKey(f"{APP}.d", on_delete=orm.PROTECT)).state_forwards(
        APP, state)
    new_c, old_c = state.apps.get_model(APP, "c"), old.apps.get_model(APP, "c")
    assert new_c is not old_c
    assert old_c._meta.get_field("d").remote_field.on_delete is orm.CASCADE
    assert new_c._meta.get_field("d").remote_field.on_delete is orm.PROTECT
    # The neighbours of C in the old registry still point at the old C, and back.
    old_b, old_d = old.apps.get_model(APP, "b"), old.apps.get_model(APP, "d")
    assert old_b._meta.get_field("c").related_model is old_c
    assert [rel.field.model for rel in old_c._meta.related_objects] == [old_b]
    assert [rel.field.model for rel in old_d._meta.related_objects] == [old_c]
    assert [rel.field.model for rel in state.apps.get_model(APP, "d")._meta.related_objects] == [new_c]


def test_a_registry_that_is_no_longer_the_latest_renders_from_scratch() -> None:
    state = chain_state(unrelated=2)
    first = classes(state)
    clone = state.clone()
    migrations.AddField("b", "x", orm.IntegerField(default=0)).state_forwards(APP, clone)
    clone.apps  # noqa: B018 - the clone re-renders first and relinks shared classes
    migrations.AddField("d", "y", orm.IntegerField(default=0)).state_forwards(APP, state)
    again = classes(state)
    assert all(again[name] is not first[name] for name in again)
    assert again["a"]._meta.get_field("b").related_model is again["b"]
    assert [f.name for f in again["d"]._meta.local_fields] == ["id", "y"]
    assert [f.name for f in clone.apps.get_model(APP, "b")._meta.local_fields] == ["id", "c", "x"]


def test_join_models_follow_a_re_rendered_target() -> None:
    state = replay(APP, initial_operations())
    state.apps  # noqa: B018
    migrations.AddField("tag", "slug", orm.SlugField(default="")).state_forwards(APP, state)
    apps = state.apps
    tag, book = apps.get_model(APP, "tag"), apps.get_model(APP, "book")
    tags = book._meta.get_field("tags")
    assert tags.related_model is tag
    assert {f.remote_field.model for f in tags.remote_field.through._meta.local_fields if f.is_relation} == {
        book, tag}
    assert tag.books.rel is tags.remote_field


# ------------------------------------------------------------------ refused states


def test_a_relation_to_a_model_missing_from_the_state_is_refused() -> None:
    state = replay(APP, [migrations.CreateModel("Book", [
        auto_id(), ("author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE))])])
    with pytest.raises(InvalidStateError, match=r"i13_state\.Book\.author refers to model 'i13_state\.author'"):
        state.apps  # noqa: B018


def test_deleting_a_model_that_is_still_referenced_is_refused() -> None:
    state = replay(APP, initial_operations())
    state.apps  # noqa: B018
    migrations.DeleteModel("Author").state_forwards(APP, state)
    with pytest.raises(InvalidStateError, match="refers to model 'i13_state.author'"):
        state.apps  # noqa: B018


def test_model_states_refuse_bound_fields_model_classes_and_unknown_options() -> None:
    book = declare_models(Apps())["Book"]
    with pytest.raises(InvalidStateError, match=r"bound to model Book.*field.clone\(\)"):
        ModelState(APP, "X", [("title", book._meta.get_field("title"))])
    with pytest.raises(InvalidStateError, match=r"to='i13_state.book'"):
        ModelState(APP, "X", [("book", orm.ForeignKey(book, on_delete=orm.CASCADE))])
    with pytest.raises(InvalidStateError, match="Unknown option.*managed"):
        ModelState(APP, "X", [auto_id()], options={"managed": False})
    with pytest.raises(InvalidStateError, match=r"names a concrete parent model with a string, bases=\(.i13_state.book.,\)"):
        ModelState(APP, "X", [auto_id()], bases=(book,))


def test_a_missing_model_is_named_in_the_error() -> None:
    with pytest.raises(LookupError, match="(?i)has no model i13_state.Ghost.*CreateModel"):
        migrations.AddField("Ghost", "x", orm.IntegerField()).state_forwards(APP, ProjectState())


# ------------------------------------------------------------------ renames


def test_rename_model_repoints_every_relation_to_it() -> None:
    state = replay(APP, initial_operations())
    migrations.RenameModel("Author", "Writer").state_forwards(APP, state)
    migrations.RenameModel("Tag", "Label").state_forwards(APP, state)
    book = state.models[APP, "book"]
    assert book.fields["author"].remote_field.model == f"{APP}.writer"
    assert book.fields["tags"].remote_field.model == f"{APP}.label"
    assert (APP, "author") not in state.models and state.models[APP, "writer"].name == "Writer"
    apps = state.apps
    assert apps.get_model(APP, "book")._meta.get_field("author").related_model is apps.get_model(APP, "Writer")
    with pytest.raises(LookupError):
        apps.get_model(APP, "Author")


def test_rename_field_follows_indexes_constraints_together_and_to_field() -> None:
    state = replay(APP, [
        *initial_operations(),
        migrations.AddConstraint("book", orm.UniqueConstraint(
            fields=["price", "title"], name="book_price_title", condition=orm.Q(price__gt=orm.F("price")))),
        migrations.CreateModel("Review", [auto_id(), ("book", orm.ForeignKey(
            f"{APP}.book", on_delete=orm.CASCADE, to_field="title"))]),
    ])
    migrations.RenameField("book", "price", "cost").state_forwards(APP, state)
    migrations.RenameField("book", "title", "name").state_forwards(APP, state)
    book = state.models[APP, "book"]
    assert list(book.fields) == ["id", "name", "author", "tags", "cost"]
    assert book.options["unique_together"] == {("name", "author")}
    assert book.options["indexes"] == [orm.Index(fields=["-cost"], name="book_price_idx")]
    assert book.options["constraints"] == [
        orm.CheckConstraint(condition=orm.Q(cost__gte=0), name="book_price_gte_0"),
        orm.UniqueConstraint(fields=["cost", "name"], name="book_price_title",
                             condition=orm.Q(cost__gt=orm.F("cost"))),
    ]
    assert state.models[APP, "review"].fields["book"].to_field == "name"
    assert state.apps.get_model(APP, "review")._meta.get_field("book").target_field.name == "name"


def test_add_field_without_preserving_its_default_keeps_none_in_the_state() -> None:
    state = replay(APP, [*initial_operations(), migrations.AddField(
        "tag", "rank", orm.IntegerField(default=5), preserve_default=False)])
    assert not state.models[APP, "tag"].fields["rank"].has_default()
    assert deep_deconstruct(state.models[APP, "tag"].fields["rank"]) == deep_deconstruct(orm.IntegerField())


# ------------------------------------------------------------------ relinked relations on a database


def m2m_state() -> ProjectState:
    """X; P with tags (to X, automatic join table) and picks (to X, through M); C -> M; W -> X."""
    return replay(APP, [
        migrations.CreateModel("X", [auto_id(), ("name", orm.CharField(max_length=10))]),
        migrations.CreateModel("P", [auto_id(), ("tags", orm.ManyToManyField(
            f"{APP}.x", related_name="ps"))]),
        migrations.CreateModel("M", [
            auto_id(), ("p", orm.ForeignKey(f"{APP}.p", on_delete=orm.CASCADE)),
            ("x", orm.ForeignKey(f"{APP}.x", on_delete=orm.CASCADE)),
        ]),
        migrations.AddField("P", "picks", orm.ManyToManyField(f"{APP}.x", through=f"{APP}.m",
                                                               related_name="picked_by")),
        migrations.CreateModel("C", [auto_id(), ("m", orm.ForeignKey(f"{APP}.m", on_delete=orm.CASCADE))]),
        migrations.CreateModel("W", [auto_id(), ("x", orm.ForeignKey(f"{APP}.x", on_delete=orm.CASCADE))]),
    ])


def test_relinked_many_to_many_relations_and_join_models_work(backend: str) -> None:
    state = m2m_state()
    with orm.connection.schema_editor() as editor:
        for key in state.models:
            editor.create_model(state.apps.get_model(*key))
    first = classes(state)
    # W changes: X is re-rendered, P (pointing at X) stays and is relinked.
    migrations.AlterModelOptions("W", {"ordering": ["id"]}).state_forwards(APP, state)
    second = classes(state)
    assert second["p"] is first["p"] and second["x"] is not first["x"]
    tags = second["p"]._meta.get_field("tags")
    assert tags.related_model is second["x"]
    assert {f.related_model for f in tags.remote_field.through._meta.local_fields if f.is_relation} == {
        second["p"], second["x"]}
    assert second["x"].ps.rel is tags.remote_field
    # C changes: M (the join model of P.picks) is re-rendered, P stays.
    migrations.AlterModelOptions("C", {"ordering": ["id"]}).state_forwards(APP, state)
    third = classes(state)
    assert third["p"] is first["p"] and third["m"] is not second["m"]
    picks = third["p"]._meta.get_field("picks")
    assert picks.remote_field.through is third["m"]
    assert [rel.field.model for rel in third["p"]._meta.related_objects
            if not rel.field.model._meta.auto_created] == [third["m"]]
    # The relinked classes query the database correctly.
    x_model, p_model, m_model = third["x"], third["p"], third["m"]
    x1, x2 = x_model.objects.create(name="a"), x_model.objects.create(name="b")
    p = p_model.objects.create()
    p.tags.add(x1, x2)
    m_model.objects.create(p=p, x=x2)
    assert sorted(x.name for x in p.tags.all()) == ["a", "b"]
    assert [x.name for x in p.picks.all()] == ["b"]
    assert list(x_model.objects.filter(ps=p, picked_by=p).values_list("name", flat=True)) == ["b"]
    assert [q.pk for q in x2.picked_by.all()] == [p.pk]
    x2.delete()  # cascades through the relinked join models
    assert m_model.objects.count() == 0 and [x.name for x in p.tags.all()] == ["a"]
