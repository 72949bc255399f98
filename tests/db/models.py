"""Models of the statement-log and capture tests (app ``querylogtests``)."""

from __future__ import annotations

import orm


class Note(orm.Model):
    text = orm.TextField()
    rank = orm.IntegerField(default=0, unique=True)

    class Meta:
        app_label = "querylogtests"
