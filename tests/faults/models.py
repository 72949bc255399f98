"""Models for the fault-injection tests (app ``faulttests``); tables come from the ``tables`` fixture."""

from __future__ import annotations

import orm


class Item(orm.Model):
    """A row a fault test writes; ``name`` tells which step wrote it."""

    name = orm.CharField(max_length=60)
    qty = orm.IntegerField(default=0)

    class Meta:
        app_label = "faulttests"


ALL_MODELS = (Item,)
TABLES = tuple(model._meta.db_table for model in ALL_MODELS)
