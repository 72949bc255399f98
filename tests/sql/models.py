"""Models for the compile-only SQL tests (app ``sqltests``; no table is ever created)."""

from __future__ import annotations

import orm


class City(orm.Model):
    name = orm.CharField(max_length=50)

    class Meta:
        app_label = "sqltests"


class Author(orm.Model):
    name = orm.CharField(max_length=100)
    age = orm.IntegerField(null=True)
    hometown = orm.ForeignKey(City, on_delete=orm.SET_NULL, null=True, related_name="authors")
    data = orm.JSONField(null=True)

    class Meta:
        app_label = "sqltests"


class Publisher(orm.Model):
    """The only model with a default ordering."""

    name = orm.CharField(max_length=100)
    city = orm.ForeignKey(City, on_delete=orm.CASCADE, related_name="publishers")

    class Meta:
        app_label = "sqltests"
        ordering = ["name"]


class Tag(orm.Model):
    name = orm.CharField(max_length=30)

    class Meta:
        app_label = "sqltests"


class Book(orm.Model):
    title = orm.CharField(max_length=200)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
    editor = orm.ForeignKey(Author, on_delete=orm.SET_NULL, null=True, related_name="edited")
    publisher = orm.ForeignKey(Publisher, on_delete=orm.SET_NULL, null=True, related_name="books")
    tags = orm.ManyToManyField(Tag, related_name="books")
    pages = orm.IntegerField(default=0)
    price = orm.DecimalField(max_digits=8, decimal_places=2, default=0)
    rating = orm.FloatField(null=True)
    published = orm.DateField(null=True)
    created = orm.DateTimeField(null=True)

    class Meta:
        app_label = "sqltests"


class Number(orm.Model):
    i = orm.IntegerField()
    big = orm.BigIntegerField(null=True)
    small = orm.SmallIntegerField(null=True)
    positive = orm.PositiveIntegerField(null=True)

    class Meta:
        app_label = "sqltests"


class Weird(orm.Model):
    """Identifiers with quote characters in them: they must be doubled, never break out."""

    ok = orm.CharField(max_length=10, db_column="o'k")
    said = orm.CharField(max_length=10, db_column='sa"id')

    class Meta:
        app_label = "sqltests"
        db_table = 'we"ird'


class WeirdChild(orm.Model):
    parent = orm.ForeignKey(
        Weird, on_delete=orm.CASCADE, db_column='pa"rent', related_name="children"
    )

    class Meta:
        app_label = "sqltests"
        db_table = "child's"


class Marker(orm.Model):
    """Only the generated primary key: inserts use DEFAULT VALUES."""

    class Meta:
        app_label = "sqltests"
