"""A model registry is an object (``Apps``): historical copies live beside the real models.

Issue 12 item 6: a second registry holds models of the same app label and
name as the global one; relations (string references too) resolve inside the
model's own registry; its models are queried like any other (foreign keys,
select_related, prefetch_related, reverse accessors, many-to-many) on both
backends without touching the global registry, whose conflict check still
raises as before.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

import orm
from orm.models import registry
from orm.models.registry import Apps

APP = "i12_apps"


class Author(orm.Model):
    name = orm.CharField(max_length=50)

    class Meta:
        app_label = APP


class Tag(orm.Model):
    name = orm.CharField(max_length=20)

    class Meta:
        app_label = APP


class Book(orm.Model):
    title = orm.CharField(max_length=100)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
    tags = orm.ManyToManyField(Tag, related_name="books")

    class Meta:
        app_label = APP


def meta(apps: Apps, **options: Any) -> type:
    return type("Meta", (), {"app_label": APP, "apps": apps, **options})


def render(apps: Apps) -> dict[str, Any]:
    """Historical copies of Author, Tag and Book in ``apps``, as migrations render them.

    Book comes first, so its string references wait until their models exist.
    """
    models = {}
    models["Book"] = type(
        "Book",
        (orm.Model,),
        {
            "__module__": "__fake__",
            "Meta": meta(apps),
            "title": orm.CharField(max_length=100),
            "author": orm.ForeignKey("Author", on_delete=orm.CASCADE, related_name="books"),
            "tags": orm.ManyToManyField(f"{APP}.Tag", related_name="books"),
        },
    )
    models["Author"] = type(
        "Author",
        (orm.Model,),
        {"__module__": "__fake__", "Meta": meta(apps), "name": orm.CharField(max_length=50)},
    )
    models["Tag"] = type(
        "Tag",
        (orm.Model,),
        {"__module__": "__fake__", "Meta": meta(apps), "name": orm.CharField(max_length=20)},
    )
    return models


def global_snapshot() -> tuple[Any, ...]:
    """What the global registry holds and what its models point back at."""
    return (
        tuple(registry.get_models()),
        tuple(registry.pending_references()),
        tuple(rel.field for rel in Author._meta.related_objects),
        tuple(rel.field for rel in Tag._meta.related_objects),
        Author.books.rel.field.model,
        Tag.books.rel.field.model,
    )


# --------------------------------------------------------------- registry contents


def test_a_second_registry_holds_models_named_as_global_ones() -> None:
    before = global_snapshot()
    apps = Apps()
    old = render(apps)
    assert old["Book"] is not Book and old["Book"]._meta.label == Book._meta.label == f"{APP}.Book"
    assert apps.get_model(APP, "Book") is old["Book"]
    assert apps.get_model(f"{APP}.book") is old["Book"]
    assert registry.get_model(APP, "Book") is Book
    assert registry.apps.get_model(f"{APP}.Book") is Book
    assert apps.get_models(APP) == [old["Book"], old["Author"], old["Tag"]]
    assert [m.__name__ for m in apps.get_models(include_auto_created=True)][-1] == "Book_tags"
    assert old["Book"]._meta.apps is apps and Book._meta.apps is registry.apps
    assert global_snapshot() == before
    with pytest.raises(LookupError, match="No model i12_apps.Missing"):
        apps.get_model(APP, "Missing")


def test_relations_resolve_inside_their_registry() -> None:
    before = global_snapshot()
    apps = Apps()
    old = render(apps)
    author = old["Book"]._meta.get_field("author")
    tags = old["Book"]._meta.get_field("tags")
    assert author.remote_field.model is old["Author"]
    assert tags.remote_field.model is old["Tag"]
    through = tags.remote_field.through
    assert through._meta.apps is apps and apps.get_model(APP, "Book_tags") is through
    assert {f.remote_field.model for f in through._meta.local_fields if f.is_relation} == {
        old["Book"],
        old["Tag"],
    }
    # Reverse relations are on the historical models only.
    assert old["Author"].books.rel is author.remote_field
    assert old["Tag"].books.rel is tags.remote_field
    assert [rel.field for rel in old["Author"]._meta.related_objects] == [author]
    assert global_snapshot() == before


def test_a_class_of_another_registry_stands_for_the_model_of_the_same_label() -> None:
    """As Django: a registry is self-contained, so a historical model never points at a live one."""
    apps = Apps()
    old = render(apps)
    review = type(
        "Review",
        (orm.Model,),
        {
            "__module__": "__fake__",
            "Meta": meta(apps),
            "book": orm.ForeignKey(Book, on_delete=orm.CASCADE),  # the global class
        },
    )
    assert review._meta.get_field("book").remote_field.model is old["Book"]
    assert not any(rel.related_model is review for rel in Book._meta.related_objects)
    # Until that model exists in the registry, the relation holds its label.
    pending = type(
        "Note",
        (orm.Model,),
        {
            "__module__": "__fake__",
            "Meta": meta(Apps()),
            "book": orm.ForeignKey(Book, on_delete=orm.CASCADE),
        },
    )
    assert pending._meta.get_field("book").remote_field.model == f"{APP}.Book"
    assert pending._meta.apps.pending_references() == [f"{APP}.book"]


def test_a_reference_missing_from_a_registry_waits_there_only() -> None:
    apps = Apps()
    lonely = type(
        "Lonely",
        (orm.Model,),
        {
            "__module__": "__fake__",
            "Meta": meta(apps),
            "ghost": orm.ForeignKey("Ghost", on_delete=orm.CASCADE),
        },
    )
    assert apps.pending_references() == [f"{APP}.ghost"]
    assert f"{APP}.ghost" not in registry.pending_references()
    with pytest.raises(ValueError, match="not defined yet"):
        orm.create_tables(lonely)
    ghost = type("Ghost", (orm.Model,), {"__module__": "__fake__", "Meta": meta(apps)})
    assert lonely._meta.get_field("ghost").remote_field.model is ghost
    assert apps.pending_references() == []


def test_managers_of_historical_models_query_their_own_class() -> None:
    old = render(Apps())
    for name in ("Author", "Tag", "Book"):
        model = old[name]
        assert model.objects.model is model
        assert model._default_manager.model is model and model._base_manager.model is model
        assert model.objects.all().model is model
        assert issubclass(model.DoesNotExist, orm.ObjectDoesNotExist)
        assert model.DoesNotExist is not globals()[name].DoesNotExist


def test_querying_models_of_a_second_registry(backend: str) -> None:
    before = global_snapshot()
    old = render(Apps())
    h_author, h_tag, h_book = old["Author"], old["Tag"], old["Book"]
    orm.create_tables(h_author, h_tag, h_book)
    ann = h_author.objects.create(name="Ann")
    ben = h_author.objects.create(name="Ben")
    py = h_tag.objects.create(name="py")
    db = h_tag.objects.create(name="db")
    first = h_book.objects.create(title="First", author=ann)
    second = h_book.objects.create(title="Second", author=ben)
    first.tags.add(py, db)
    second.tags.add(db)

    assert list(h_book.objects.filter(author__name="Ann")) == [first]
    got = h_book.objects.select_related("author").get(title="Second")
    assert type(got) is h_book and type(got._state.fields_cache["author"]) is h_author
    assert got.author.name == "Ben"
    books = list(h_book.objects.prefetch_related("tags").order_by("title"))
    assert [sorted(t.name for t in b.tags.all()) for b in books] == [["db", "py"], ["db"]]
    assert all(type(t) is h_tag for b in books for t in b.tags.all())
    assert list(ann.books.all()) == [first]
    assert sorted(b.title for b in db.books.all()) == ["First", "Second"]
    assert list(h_tag.objects.filter(books__author__name="Ben")) == [db]
    assert list(h_author.objects.filter(books__tags__name="py")) == [ann]
    assert h_author.objects.prefetch_related("books").get(name="Ben").books.all()[0] == second
    ann.delete()  # cascades through the historical relations
    assert list(h_book.objects.values_list("title", flat=True)) == ["Second"]
    # The rows are in the same tables the global models use.
    assert list(Book.objects.values_list("title", flat=True)) == ["Second"]
    assert global_snapshot() == before


# --------------------------------------------------------------- conflicts and re-rendering


def test_the_global_registry_still_refuses_a_conflicting_model() -> None:
    with pytest.raises(RuntimeError, match="Conflicting 'book' models in application 'i12_apps'"):
        type(
            "Book",
            (orm.Model,),
            {"__module__": "elsewhere.models", "Meta": type("Meta", (), {"app_label": APP})},
        )
    assert registry.get_model(APP, "Book") is Book


def test_conflict_check_of_a_second_registry() -> None:
    apps = Apps()
    render(apps)
    with pytest.raises(RuntimeError, match="Conflicting 'book' models"):
        type("Book", (orm.Model,), {"__module__": "elsewhere", "Meta": meta(apps)})
    lenient = Apps(check_conflicts=False)
    render(lenient)
    replacement = type("Book", (orm.Model,), {"__module__": "elsewhere", "Meta": meta(lenient)})
    assert lenient.get_model(APP, "Book") is replacement


def test_unregistering_a_model_removes_its_reverse_relations_and_join_model() -> None:
    apps = Apps()
    old = render(apps)
    removed = apps.unregister_model(APP, "Book")
    assert removed is old["Book"]
    assert [m.__name__ for m in apps.get_models(include_auto_created=True)] == ["Author", "Tag"]
    assert old["Author"]._meta.related_objects == [] and old["Tag"]._meta.related_objects == []
    assert not hasattr(old["Author"], "books") and not hasattr(old["Tag"], "books")
    with pytest.raises(orm.FieldError):
        old["Author"]._meta.get_field("books")
    # A new version of the model can then be rendered in its place.
    new = type(
        "Book",
        (orm.Model,),
        {
            "__module__": "__fake__",
            "Meta": meta(apps),
            "author": orm.ForeignKey("Author", on_delete=orm.PROTECT, related_name="works"),
        },
    )
    assert old["Author"].works.rel.field.model is new
    assert [rel.related_model for rel in old["Author"]._meta.related_objects] == [new]
    with pytest.raises(LookupError):
        apps.unregister_model(APP, "Missing")


def test_meta_apps_must_be_a_registry() -> None:
    with pytest.raises(TypeError, match="Meta.apps must be an orm.models.registry.Apps"):
        type("Odd", (orm.Model,), {"__module__": "__fake__", "Meta": meta({})})  # type: ignore[arg-type]


def test_lazy_model_operation_waits_for_every_model() -> None:
    apps = Apps()
    seen: list[tuple[Any, ...]] = []
    apps.lazy_model_operation(lambda *models: seen.append(models), (APP, "Left"), (APP, "right"))
    left = type("Left", (orm.Model,), {"__module__": "__fake__", "Meta": meta(apps)})
    assert seen == []
    right = type("Right", (orm.Model,), {"__module__": "__fake__", "Meta": meta(apps)})
    assert seen == [(left, right)]
    apps.lazy_model_operation(lambda *models: seen.append(models), (APP, "right"))
    assert seen[-1] == (right,)


def test_global_module_functions_keep_their_behaviour() -> None:
    through = Book._meta.get_field("tags").remote_field.through
    assert set(registry.get_models(APP)) == {Author, Tag, Book, through}  # join models included
    assert registry.apps.get_models(APP) == [Author, Tag, Book]
    seen: list[Any] = []
    registry.lazy_model_operation("Author", APP, seen.append)
    registry.lazy_model_operation(Tag, APP, seen.append)
    assert seen == [Author, Tag]


# --------------------------------------------------------------- concurrency


def test_registries_filled_from_many_threads_stay_consistent() -> None:
    """Threads define models (with references in both directions) at once, in one
    shared registry and in a registry each: every reference resolves, in its own registry."""
    shared = Apps()
    count = 12
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    own: list[tuple[Apps, dict[str, Any]]] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            barrier.wait()
            type(
                f"Node{i}",
                (orm.Model,),
                {
                    "__module__": "__fake__",
                    "Meta": meta(shared),
                    "next": orm.ForeignKey(
                        f"Node{(i + 1) % count}", on_delete=orm.CASCADE, related_name="+"
                    ),
                    "peers": orm.ManyToManyField(
                        f"Node{(i + 5) % count}", related_name=f"peer_of_{i}"
                    ),
                },
            )
            apps = Apps()
            models = render(apps)
            with lock:
                own.append((apps, models))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert shared.pending_references() == []
    for i in range(count):
        node = shared.get_model(APP, f"Node{i}")
        assert node._meta.get_field("next").remote_field.model is shared.get_model(
            APP, f"Node{(i + 1) % count}"
        )
        peer = shared.get_model(APP, f"Node{(i + 5) % count}")
        assert getattr(peer, f"peer_of_{i}").rel.field.model is node
    assert len(own) == count
    for apps, models in own:
        assert models["Book"]._meta.get_field("author").remote_field.model is models["Author"]
        assert models["Tag"].books.rel.field.model is models["Book"]
        assert apps.pending_references() == []
