"""Models for the async-skin tests (app ``asynctests``)."""

from __future__ import annotations

import orm


class Author(orm.Model):
    name = orm.CharField(max_length=100, unique=True)
    age = orm.IntegerField(null=True)

    class Meta:
        app_label = "asynctests"


class Tag(orm.Model):
    name = orm.CharField(max_length=30, unique=True)

    class Meta:
        app_label = "asynctests"


class Book(orm.Model):
    title = orm.CharField(max_length=200)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
    # A second, nullable key: remove()/clear() on a reverse FK need one.
    editor = orm.ForeignKey(Author, on_delete=orm.SET_NULL, null=True, related_name="edited")
    tags = orm.ManyToManyField(Tag, related_name="books")
    pages = orm.IntegerField(default=0)
    published = orm.DateField(null=True)

    class Meta:
        app_label = "asynctests"
        get_latest_by = "published"


ALL_MODELS = (Author, Tag, Book)
