"""Models of the PgBouncer tests (app ``pgbouncertests``); tables come from the ``bouncer`` fixture."""

from __future__ import annotations

import orm


class Note(orm.Model):
    """A row written and read through PgBouncer."""

    title = orm.CharField(max_length=60)
    rank = orm.IntegerField(default=0)
    created = orm.DateTimeField(null=True)

    class Meta:
        app_label = "pgbouncertests"
        ordering = ["rank"]


ALL_MODELS = (Note,)
TABLES = tuple(model._meta.db_table for model in ALL_MODELS)
