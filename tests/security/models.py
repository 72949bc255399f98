"""Models for the hostile-input tests (``app_label = "security"``).

``Book`` (with a relation in each direction, a many-to-many and a JSON
column) is the target of the name corpora; ``Sample`` holds one column of
every value type the value corpora attack; ``Unique`` proves that a large
failing ``bulk_create`` writes nothing; ``Weird`` and ``WeirdChild`` carry
developer-supplied names with quote characters (A16) in the table, columns,
foreign key, many-to-many table, index and constraint DDL.
"""

from __future__ import annotations

from decimal import Decimal

import orm
from orm import Q

#: A string literal that must stay one literal inside CHECK DDL (A16).
EVIL_LITERAL = 'x\'); DROP TABLE "we""ird"; --'


class Author(orm.Model):
    name = orm.CharField(max_length=100)

    class Meta:
        app_label = "security"


class Tag(orm.Model):
    name = orm.CharField(max_length=100)

    class Meta:
        app_label = "security"


class Book(orm.Model):
    name = orm.CharField(max_length=100)
    rating = orm.IntegerField(default=0)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, null=True, related_name="books")
    tags = orm.ManyToManyField(Tag, related_name="books", blank=True)
    data = orm.JSONField(null=True)
    published = orm.DateTimeField(null=True)

    class Meta:
        app_label = "security"
        get_latest_by = "published"


class Sample(orm.Model):
    """One column per attacked value type (A8-A13)."""

    code = orm.CharField(max_length=5, default="")
    text = orm.TextField(default="")
    i = orm.IntegerField(default=0)
    small = orm.SmallIntegerField(default=0)
    big = orm.BigIntegerField(default=0)
    positive = orm.PositiveIntegerField(default=0)
    fl = orm.FloatField(default=0.0)
    dec = orm.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0.00"))
    ts = orm.DateTimeField(null=True)
    day = orm.DateField(null=True)
    tm = orm.TimeField(null=True)
    data = orm.JSONField(null=True)
    owner = orm.ForeignKey(Author, on_delete=orm.SET_NULL, null=True, related_name="samples")

    class Meta:
        app_label = "security"


class Unique(orm.Model):
    code = orm.IntegerField(unique=True)

    class Meta:
        app_label = "security"


class Weird(orm.Model):
    """Quote characters in every developer-supplied name (A16)."""

    ok = orm.CharField(max_length=60, db_column="o'k")
    quoted = orm.CharField(max_length=60, db_column='q"uo""ted', default="")
    back = orm.IntegerField(default=0, db_column="b`ack'\"")
    tags = orm.ManyToManyField(Tag, related_name="weirds", blank=True)

    class Meta:
        app_label = "security"
        db_table = 'we"ird'
        ordering = ["ok"]
        indexes = [orm.Index(fields=["ok", "-back"])]  # auto-named: the name holds the quotes too
        constraints = [
            orm.CheckConstraint(condition=~Q(ok=EVIL_LITERAL), name="weird_ok_not_evil"),
            orm.UniqueConstraint(fields=["ok", "quoted"], name="weird_ok_quoted_uniq"),
            orm.UniqueConstraint(
                fields=["back"], condition=Q(quoted="it's"), name="weird_partial_uniq"
            ),
        ]


class WeirdChild(orm.Model):
    parent = orm.ForeignKey(
        Weird, on_delete=orm.CASCADE, related_name="children", db_column="pa'rent\"id"
    )
    note = orm.CharField(max_length=60, db_column='no"te', db_index=True)

    class Meta:
        app_label = "security"
        db_table = "we\"ird'child"


ALL_MODELS = (Author, Tag, Book, Sample, Unique, Weird, WeirdChild)
