"""Process-wide caches of compiled SQL: bounded, and emptied when `orm` is reconfigured.

The compiler keeps the statement text of each query shape
(``orm.sql.compiler.STATEMENTS``, keyed by ``orm.query.cache_key`` or, for
a manager's plain ``filter()`` call, ``orm.query.terms``). Its keys
hold model classes,
and migrations render a fresh set of historical model classes for every
state, so an unbounded cache would keep every one of them alive. A cache
that reaches its limit is emptied rather than pruned entry by entry: a miss
only costs a compilation, and the common case (a few hundred shapes) never
reaches the limit. ``orm.configure()`` empties every cache, since what was
compiled for the old databases may not suit the new ones.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

__all__ = ["BoundedCache", "clear_all"]

K = TypeVar("K")
V = TypeVar("V")

#: Every cache made, so configure() can empty them all.
_CACHES: list[BoundedCache[Any, Any]] = []


class BoundedCache(dict[K, V], Generic[K, V]):
    """A dict read with ``get`` as usual and written with :meth:`put`, which keeps it bounded."""

    def __init__(self, name: str, limit: int = 4096) -> None:
        super().__init__()
        self.name = name
        self.limit = limit
        _CACHES.append(self)

    def put(self, key: K, value: V) -> None:
        """Store ``value``; first empty the cache if it holds ``limit`` entries."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value


def clear_all() -> None:
    """Empty every cache (``orm.configure()`` calls it)."""
    for cache in _CACHES:
        cache.clear()
