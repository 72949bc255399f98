"""The book shop the compile-only SQL tests and the async-skin tests share (app ``shared``).

One set of ``Author``/``Book``/``Tag`` (with ``City`` and ``Publisher`` for the
relations the SQL tests join through) instead of a copy per test package.
The integration tests' ``tests/models.py`` keeps its own book shop: it covers
every field option of API.md (a unique e-mail, ``auto_now_add``, default
ordering), which these tests must not inherit. ``ALL_MODELS`` lists them in an
order ``orm.create_tables`` accepts.
"""

from __future__ import annotations

import orm


class City(orm.Model):
    name = orm.CharField(max_length=50)

    class Meta:
        app_label = "shared"


class Author(orm.Model):
    name = orm.CharField(max_length=100, unique=True)
    age = orm.IntegerField(null=True)
    hometown = orm.ForeignKey(City, on_delete=orm.SET_NULL, null=True, related_name="authors")
    data = orm.JSONField(null=True)

    class Meta:
        app_label = "shared"


class Publisher(orm.Model):
    """The only model with a default ordering."""

    name = orm.CharField(max_length=100)
    city = orm.ForeignKey(City, on_delete=orm.CASCADE, related_name="publishers")

    class Meta:
        app_label = "shared"
        ordering = ["name"]


class Tag(orm.Model):
    name = orm.CharField(max_length=30, unique=True)

    class Meta:
        app_label = "shared"


class Book(orm.Model):
    title = orm.CharField(max_length=200)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
    # A second, nullable key: remove()/clear() on a reverse FK need one.
    editor = orm.ForeignKey(Author, on_delete=orm.SET_NULL, null=True, related_name="edited")
    publisher = orm.ForeignKey(Publisher, on_delete=orm.SET_NULL, null=True, related_name="books")
    tags = orm.ManyToManyField(Tag, related_name="books")
    pages = orm.IntegerField(default=0)
    price = orm.DecimalField(max_digits=8, decimal_places=2, default=0)
    rating = orm.FloatField(null=True)
    published = orm.DateField(null=True)
    created = orm.DateTimeField(null=True)

    class Meta:
        app_label = "shared"
        get_latest_by = "published"


ALL_MODELS = (City, Author, Publisher, Tag, Book)
