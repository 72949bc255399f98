"""Compatibility: the base connection wrapper lives in ``orm.db.wrapper`` now.

Backends subclass ``orm.db.wrapper.BaseDatabaseWrapper`` directly; this name is
kept for code written against the old path.
"""

from orm.db.wrapper import BaseDatabaseWrapper

__all__ = ["BaseDatabaseWrapper"]
