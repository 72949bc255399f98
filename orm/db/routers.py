"""Database routers: which alias a model reads from, writes to, and migrates on.

Django's protocol (``django.db.utils.ConnectionRouter``): each router may
define ``db_for_read(model, **hints)``, ``db_for_write(model, **hints)``,
``allow_relation(obj1, obj2, **hints)`` and
``allow_migrate(db, app_label, model_name=None, **hints)``. Routers are asked in
order; the first answer that is not ``None`` wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import Any

from orm.exceptions import ImproperlyConfigured

__all__ = ["ConnectionRouter", "router", "DEFAULT_DB_ALIAS"]

DEFAULT_DB_ALIAS = "default"


def _load(entry: object) -> Any:
    """A router instance from an instance, a class or a dotted path ``"pkg.mod.Router"``."""
    if isinstance(entry, str):
        module_name, _, attr = entry.rpartition(".")
        if not module_name:
            raise ImproperlyConfigured(
                f"Router {entry!r} is not a dotted path; write it as 'package.module.RouterClass'."
            )
        try:
            entry = getattr(import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ImproperlyConfigured(f"Cannot import router {entry!r}: {exc}.") from exc
    if isinstance(entry, type):
        # Django instantiates router classes named by path; do the same for classes.
        entry = entry()
    return entry


class ConnectionRouter:
    """``orm.db.routers.router``: asks the configured routers, then applies the defaults."""

    def __init__(self) -> None:
        self.routers: list[Any] = []

    def configure(self, routers: Sequence[Any] | None) -> None:
        """Replace the routers (instances, classes or dotted paths)."""
        if isinstance(routers, str):
            raise ImproperlyConfigured(
                "routers must be a list, e.g. routers=['myapp.routers.Router']."
            )
        self.routers = [_load(entry) for entry in routers or ()]

    def _route_db(self, action: str, model: Any, hints: dict[str, Any]) -> str:
        for r in self.routers:
            method = getattr(r, action, None)
            if method is not None:
                chosen = method(model, **hints)
                if chosen:
                    return str(chosen)
        instance = hints.get("instance")
        if instance is not None and instance._state.db:
            return str(instance._state.db)
        return DEFAULT_DB_ALIAS

    def db_for_read(self, model: Any, **hints: Any) -> str:
        """The alias to read ``model`` from."""
        return self._route_db("db_for_read", model, hints)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        """The alias to write ``model`` to."""
        return self._route_db("db_for_write", model, hints)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        """Whether ``obj1`` and ``obj2`` may be related; by default only on one database."""
        for r in self.routers:
            method = getattr(r, "allow_relation", None)
            if method is not None:
                allow = method(obj1, obj2, **hints)
                if allow is not None:
                    return bool(allow)
        return bool(obj1._state.db == obj2._state.db)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        """Whether migrations for ``app_label`` (and hints such as ``model_name``) run on ``db``."""
        for r in self.routers:
            method = getattr(r, "allow_migrate", None)
            if method is not None:
                allow = method(db, app_label, **hints)
                if allow is not None:
                    return bool(allow)
        return True

    def allow_migrate_model(self, db: str, model: Any) -> bool:
        """``allow_migrate`` for a model class; unmanaged models never migrate."""
        meta = model._meta
        if not getattr(meta, "managed", True):
            return False
        return self.allow_migrate(db, meta.app_label, model_name=meta.model_name, model=model)


router = ConnectionRouter()
