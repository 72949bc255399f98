"""Managers: ``Model.objects``, the entry point to QuerySets.

Every public QuerySet method is available on a manager (delegating to
``get_queryset()``); every ``a``-twin on a manager calls the *manager's* sync
method through ``to_async``, so a related manager's own ``create()`` is what
``acreate()`` runs.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from orm.db.routers import router
from orm.query.queryset import QuerySet
from orm.utils.asyncio import to_async

M = TypeVar("M")

# QuerySet methods a manager does not offer (they only make sense on a QuerySet).
_NOT_ON_MANAGER = {"aiterator"}


class BaseManager(Generic[M]):
    """Holds the model and creates QuerySets; subclasses may override ``get_queryset``."""

    def __init__(self) -> None:
        self.model: Any = None
        self.name: str | None = None
        self._db: str | None = None

    def contribute_to_class(self, cls: Any, name: str) -> None:
        """Attach as ``cls.<name>`` (the metaclass calls this)."""
        self.model = cls
        self.name = name
        setattr(cls, name, ManagerDescriptor(self))
        cls._meta.managers.append(self)

    @property
    def db(self) -> str:
        """The alias this manager's QuerySets read from: ``db_manager()``'s, else the routers'."""
        return self._db or router.db_for_read(self.model)

    def db_manager(self, using: str) -> BaseManager[M]:
        """A copy of this manager bound to another alias."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._db = using
        return clone

    def get_queryset(self) -> QuerySet[M]:
        """A fresh QuerySet over every row of the model."""
        return QuerySet(self.model, using=self._db)

    def all(self) -> QuerySet[M]:
        """``get_queryset()`` itself, so a related manager's prefetched rows are kept."""
        return self.get_queryset()

    def aiterator(self, chunk_size: int = 2000) -> AsyncGenerator[M, None]:
        """Stream every row in chunks (see ``QuerySet.aiterator``)."""
        return self.get_queryset().aiterator(chunk_size)

    def __class_getitem__(cls, item: Any) -> Any:  # noqa: D105 - typing support
        return cls

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {getattr(self.model, '__name__', None)}>"


def _delegate(name: str) -> Callable[..., Any]:
    def method(self: BaseManager[Any], *args: Any, **kwargs: Any) -> Any:
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"Manager.{name}"
    method.__doc__ = getattr(QuerySet, name).__doc__
    return method


def _twin(name: str, sync_name: str) -> Callable[..., Any]:
    async def method(self: BaseManager[Any], *args: Any, **kwargs: Any) -> Any:
        return await to_async(getattr(self, sync_name))(*args, **kwargs)

    # Named like a method written in the class body, so that a forgotten
    # `await` warns "coroutine 'Manager.acount' was never awaited" and
    # tracebacks and debuggers name the method, not `_twin.<locals>.method`.
    method.__name__ = name
    method.__qualname__ = f"Manager.{name}"
    method.__doc__ = f"Async twin of :meth:`{sync_name}`."
    return method


def _install() -> None:
    for name, member in inspect.getmembers(QuerySet, predicate=inspect.isfunction):
        if name.startswith("_") or name in _NOT_ON_MANAGER or hasattr(BaseManager, name):
            continue
        if inspect.iscoroutinefunction(member) and name[1:] in vars(QuerySet):
            setattr(BaseManager, name, _twin(name, name[1:]))
        else:
            setattr(BaseManager, name, _delegate(name))


_install()

if TYPE_CHECKING:

    class Manager(BaseManager[M], QuerySet[M]):
        """The default manager (type-checkers see every QuerySet method on it)."""

else:

    class Manager(BaseManager):
        """The default manager: ``Model.objects``."""


class ManagerDescriptor:
    """Makes a manager reachable from the class only, as in Django."""

    def __init__(self, manager: BaseManager[Any]) -> None:
        self.manager = manager

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is not None:
            raise AttributeError(
                f"Manager isn't accessible via {type(instance).__name__} instances; use "
                f"{type(instance).__name__}.{self.manager.name}."
            )
        return self.manager
