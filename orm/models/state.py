"""What an instance carries besides its field values: ``ModelState`` and the ``DEFERRED`` marker."""

from __future__ import annotations

from typing import Any


class ModelState:
    """Per-instance bookkeeping: database alias, unsaved flag, loaded relations."""

    __slots__ = ("adding", "db", "fields_cache")
    fields_cache: dict[str, Any]

    def __init__(self, db: str | None = None, adding: bool = True) -> None:
        self.db = db
        self.adding = adding
        # Made here for Model(...) (save() reads it); rows from the database
        # skip __init__ and get it on first use (__getattr__ below).
        self.fields_cache = {}

    def __getattr__(self, name: str) -> Any:
        # fields_cache is created on first use: most rows never need one.
        if name == "fields_cache":
            cache: dict[str, Any] = {}
            self.fields_cache = cache
            return cache
        raise AttributeError(name)


class Deferred:
    """The type of :data:`DEFERRED`."""

    def __repr__(self) -> str:
        return "<Deferred field>"


#: Passed positionally to ``Model(...)`` in place of a value that was not
#: loaded (Django's ``DEFERRED``): the field stays deferred and loads on access.
#: Overrides of ``from_db`` use it to build instances with ``cls(*values)``.
DEFERRED = Deferred()
