"""Models for the compile-only SQL tests (no table is ever created).

The book shop comes from ``tests/shared_models.py`` (app ``shared``); the
models only these tests need (app ``sqltests``) are defined here.
"""

from __future__ import annotations

import orm
from tests.shared_models import Author, Book, City, Publisher, Tag

__all__ = ["Author", "Book", "City", "Marker", "Number", "Publisher", "Tag", "Weird", "WeirdChild"]


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
