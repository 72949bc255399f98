"""Models for the connection-scope tests (app ``scopetests``)."""

from __future__ import annotations

import orm


class Item(orm.Model):
    """A row the load test creates, updates and deletes; ``name`` is its ledger key."""

    name = orm.CharField(max_length=60, unique=True)
    qty = orm.IntegerField(default=0)

    class Meta:
        app_label = "scopetests"


ALL_MODELS = (Item,)
