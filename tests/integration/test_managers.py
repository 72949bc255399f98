"""Managers (issue 16 item 5): several per model, Meta's manager names, from_queryset,
as_manager, inheritance from abstract parents, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm.models.manager import Manager


class PostQuerySet(orm.QuerySet[Any]):
    """A custom QuerySet: chainable filters and one method that hits the database."""

    def published(self) -> PostQuerySet:
        return self.filter(published=True)

    def titled(self, prefix: str) -> PostQuerySet:
        return self.filter(title__startswith=prefix)

    def publish_all(self) -> int:
        return self.update(published=True)

    async def apublish_all(self) -> int:
        return await orm.sync_to_async(self.publish_all)()

    def _private(self) -> str:
        return "private"

    def hidden(self) -> str:
        return "hidden"

    hidden.queryset_only = True  # type: ignore[attr-defined]


class PublishedManager(Manager[Any]):
    def get_queryset(self) -> orm.QuerySet[Any]:
        return super().get_queryset().filter(published=True)


class Post(orm.Model):
    title = orm.CharField(max_length=50)
    published = orm.BooleanField(default=False)

    posts = PostQuerySet.as_manager()
    live = PublishedManager()

    class Meta:
        app_label = "managers_tests"
        ordering = ["title"]


class Article(orm.Model):
    title = orm.CharField(max_length=50)
    published = orm.BooleanField(default=False)

    live = PublishedManager()
    objects = Manager.from_queryset(PostQuerySet)()

    class Meta:
        app_label = "managers_tests"
        default_manager_name = "objects"
        base_manager_name = "objects"


class Timestamped(orm.Model):
    title = orm.CharField(max_length=50)
    published = orm.BooleanField(default=False)

    live = PublishedManager()
    objects = Manager()

    class Meta:
        abstract = True


class Note(Timestamped):
    class Meta:
        app_label = "managers_tests"


class Memo(Timestamped):
    live = Manager()  # shadows the parent's manager of the same name

    class Meta:
        app_label = "managers_tests"


MODELS = (Post, Article, Note, Memo)


@pytest.fixture
def posts(db: str) -> str:
    orm.create_tables(*MODELS)
    for model in MODELS:
        model._base_manager.create(title="a draft", published=False)
        model._base_manager.create(title="b live", published=True)
    return db


def test_first_declared_manager_is_default_and_objects_is_not_added(posts: str) -> None:
    assert Post._default_manager is Post.posts
    assert not hasattr(Post, "objects")
    assert [m.name for m in Post._meta.managers] == ["posts", "live"]
    assert [p.title for p in Post.live.all()] == ["b live"]
    assert Post.posts.count() == 2


def test_meta_manager_names_choose_default_and_base(posts: str) -> None:
    assert Article._default_manager is Article.objects
    assert Article._base_manager is Article.objects
    assert Article.live.count() == 1 and Article._default_manager.count() == 2


def test_base_manager_is_plain_by_default_and_ignores_filtering_default(posts: str) -> None:
    assert type(Post._base_manager) is Manager
    assert Post._base_manager.count() == 2
    assert Post._base_manager.auto_created


def test_from_queryset_copies_public_methods_only(posts: str) -> None:
    assert [p.title for p in Post.posts.published()] == ["b live"]
    assert list(Post.posts.published().titled("b").values_list("title", flat=True)) == ["b live"]
    assert not hasattr(Post.posts, "_private")
    assert not hasattr(Post.posts, "hidden")
    assert not hasattr(Post.posts, "as_manager")
    assert type(Post.posts).__name__ == "ManagerFromPostQuerySet"
    assert isinstance(Post.posts.all(), PostQuerySet)
    assert Post.posts.publish_all() == 2
    assert Post.live.count() == 2


async def test_custom_queryset_in_async_code(posts: str) -> None:
    titles = [p.title async for p in Post.posts.published()]
    assert titles == ["b live"]
    assert await Post.posts.published().acount() == 1
    assert await Post.posts.apublish_all() == 2
    assert await Post.live.acount() == 2


def test_managers_inherited_from_abstract_parent(posts: str) -> None:
    assert [m.name for m in Note._meta.managers] == ["live", "objects"]
    assert Note._default_manager is Note.live
    assert Note.live.model is Note and Note.live is not Timestamped.__dict__["live"].manager
    assert Note.live.count() == 1 and Note.objects.count() == 2
    assert type(Memo.live) is Manager and Memo.live.count() == 2
    assert Memo._default_manager is Memo.live


def test_abstract_model_manager_is_unavailable() -> None:
    with pytest.raises(AttributeError, match="Manager isn't available; Timestamped is abstract"):
        Timestamped.objects  # noqa: B018


def test_manager_not_reachable_from_instance(posts: str) -> None:
    post = Post.posts.first()
    with pytest.raises(AttributeError, match="Manager isn't accessible via Post instances"):
        post.posts  # type: ignore[union-attr]  # noqa: B018


def test_field_named_objects_requires_custom_manager() -> None:
    with pytest.raises(
        ValueError, match="must specify a custom Manager, because it has a field named 'objects'"
    ):
        type(
            "Bad",
            (orm.Model,),
            {
                "__module__": __name__,
                "objects": orm.IntegerField(),
                "Meta": type("Meta", (), {"app_label": "managers_bad"}),
            },
        )


def test_manager_clashing_with_field_is_refused() -> None:
    # One class body cannot hold both; inheritance can bring them together.
    parent = type(
        "Titled",
        (orm.Model,),
        {
            "__module__": __name__,
            "title": orm.CharField(max_length=5),
            "Meta": type("Meta", (), {"abstract": True}),
        },
    )
    with pytest.raises(ValueError, match="declares both a field and a manager named 'title'"):
        type(
            "Clash",
            (parent,),
            {
                "__module__": __name__,
                "title": Manager(),
                "Meta": type("Meta", (), {"app_label": "managers_bad"}),
            },
        )
    with_manager = type(
        "Managed",
        (orm.Model,),
        {
            "__module__": __name__,
            "name": Manager(),
            "Meta": type("Meta", (), {"abstract": True}),
        },
    )
    with pytest.raises(ValueError, match="declares both a field and a manager named 'name'"):
        type(
            "Clash2",
            (with_manager,),
            {
                "__module__": __name__,
                "name": orm.CharField(max_length=5),
                "Meta": type("Meta", (), {"app_label": "managers_bad"}),
            },
        )


def test_unknown_manager_name_in_meta() -> None:
    with pytest.raises(ValueError, match="Bad3 has no manager named 'nope'"):
        type(
            "Bad3",
            (orm.Model,),
            {
                "__module__": __name__,
                "objects": Manager(),
                "Meta": type(
                    "Meta", (), {"app_label": "managers_bad", "default_manager_name": "nope"}
                ),
            },
        )


def test_from_queryset_refuses_a_non_queryset() -> None:
    with pytest.raises(TypeError, match="takes a QuerySet subclass"):
        Manager.from_queryset(dict)  # type: ignore[arg-type]
