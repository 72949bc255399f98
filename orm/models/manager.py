"""Managers: ``Model.objects``, the entry point to QuerySets.

Every public QuerySet method is available on a manager (delegating to
``get_queryset()``); every ``a``-twin on a manager calls the *manager's* sync
method through ``to_async``, so a related manager's own ``create()`` is what
``acreate()`` runs.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from orm.db.routers import router
from orm.query import queryset as queryset_module
from orm.query.queryset import QuerySet
from orm.utils.asyncio import to_async

if TYPE_CHECKING:
    from orm.models.base import Model

M = TypeVar("M")
_QS = TypeVar("_QS", bound=QuerySet[Any])

# QuerySet methods a manager does not offer (they only make sense on a QuerySet).
_NOT_ON_MANAGER = {"aiterator", "as_manager"}

# Declaration order of managers across classes, as Django's creation_counter:
# the first manager declared (not the first alphabetically) is the default.
_creation_counter = itertools.count()


class BaseManager(Generic[M]):
    """Holds the model and creates QuerySets; subclasses may override ``get_queryset``."""

    #: The QuerySet class ``get_queryset()`` builds (``from_queryset`` sets it).
    _queryset_class: type[QuerySet[Any]] = QuerySet
    #: True for the ``objects`` added to a model that declares no manager.
    auto_created = False
    #: Set to True on a manager class to keep it in migration states (as Django).
    use_in_migrations = False
    #: True on the manager ``QuerySet.as_manager()`` made (set only there, as Django).
    _built_with_as_manager: bool

    def __init__(self) -> None:
        self.model: Any = None
        self.name: str | None = None
        self._db: str | None = None
        self.creation_counter = next(_creation_counter)

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        """Attach as ``cls.<name>`` (the metaclass calls this)."""
        field = cls._meta._forward.get(name)
        if field is not None and field.name == name:
            raise ValueError(
                f"{cls.__name__} declares both a field and a manager named {name!r}; "
                "rename one of them (a manager is reached as Model.<name>, a field as instance.<name>)."
            )
        self.model = cls
        self.name = name
        setattr(cls, name, ManagerDescriptor(self))
        cls._meta.local_managers.append(self)

    @classmethod
    def from_queryset(cls, queryset_class: type[_QS], class_name: str | None = None) -> type[_QS]:
        """A manager class whose QuerySets are ``queryset_class`` and that offers its methods.

        Type checkers see the class as ``queryset_class`` (they see every
        ``Manager`` as a ``QuerySet``), so the copied methods stay typed; methods
        of a custom manager class itself are not on that type. Public methods of ``queryset_class`` (and those marked ``queryset_only =
        False``) are copied unless the manager already has one of that name; a
        method marked ``queryset_only = True`` or named with ``_`` is not.
        """
        if not (isinstance(queryset_class, type) and issubclass(queryset_class, QuerySet)):
            raise TypeError(
                f"from_queryset() takes a QuerySet subclass, not {queryset_class!r}: "
                "write class MyQuerySet(orm.QuerySet) and pass MyQuerySet."
            )
        if class_name is None:
            class_name = f"{cls.__name__}From{queryset_class.__name__}"
        manager_class = type(
            class_name,
            (cls,),
            {
                "_queryset_class": queryset_class,
                **_queryset_methods(cls, queryset_class),
            },
        )
        return cast("type[_QS]", manager_class)

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
        return self._queryset_class(self.model, using=self._db)

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


def _queryset_methods(manager_class: type, queryset_class: type) -> dict[str, Any]:
    """Manager methods delegating to the custom QuerySet's own (as Django's from_queryset)."""
    methods: dict[str, Any] = {}
    for name, member in inspect.getmembers(queryset_class, predicate=inspect.isfunction):
        if hasattr(manager_class, name):
            continue
        queryset_only = getattr(member, "queryset_only", None)
        if queryset_only or (queryset_only is None and name.startswith("_")):
            continue
        methods[name] = _copied(name, member)
    return methods


def _copied(name: str, member: Callable[..., Any]) -> Callable[..., Any]:
    # An `async def` on the QuerySet stays a coroutine function on the
    # manager, so inspect.iscoroutinefunction() and awaiting both behave alike.
    if inspect.iscoroutinefunction(member):

        @functools.wraps(member)
        async def async_method(self: BaseManager[Any], *args: Any, **kwargs: Any) -> Any:
            return await getattr(self.get_queryset(), name)(*args, **kwargs)

        return async_method

    @functools.wraps(member)
    def method(self: BaseManager[Any], *args: Any, **kwargs: Any) -> Any:
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    return method


_install()

if TYPE_CHECKING:

    class Manager(BaseManager[M], QuerySet[M]):
        """The default manager (type-checkers see every QuerySet method on it)."""

        # On a QuerySet the chainable methods return Self (a custom QuerySet
        # keeps its methods); on a manager they start a QuerySet, which Self
        # (the manager) would misname. Typing only: at run time they delegate.
        def all(self) -> QuerySet[M]: ...  # type: ignore[override]
        def filter(self, *args: Any, **kwargs: Any) -> QuerySet[M]: ...  # type: ignore[override]
        def exclude(self, *args: Any, **kwargs: Any) -> QuerySet[M]: ...  # type: ignore[override]
        def complex_filter(self, filter_obj: Any) -> QuerySet[M]: ...  # type: ignore[override]
        def order_by(self, *field_names: Any) -> QuerySet[M]: ...  # type: ignore[override]
        def reverse(self) -> QuerySet[M]: ...  # type: ignore[override]
        def distinct(self, *field_names: str) -> QuerySet[M]: ...  # type: ignore[override]
        def only(self, *fields: str) -> QuerySet[M]: ...  # type: ignore[override]
        def defer(self, *fields: str) -> QuerySet[M]: ...  # type: ignore[override]
        def select_related(self, *fields: str) -> QuerySet[M]: ...  # type: ignore[override]
        def prefetch_related(self, *lookups: Any) -> QuerySet[M]: ...  # type: ignore[override]
        def annotate(self, *args: Any, **kwargs: Any) -> QuerySet[M]: ...  # type: ignore[override]
        def alias(self, *args: Any, **kwargs: Any) -> QuerySet[M]: ...  # type: ignore[override]
        def none(self) -> QuerySet[M]: ...  # type: ignore[override]
        def union(self, *other_qs: QuerySet[Any], all: bool = False) -> QuerySet[M]: ...  # type: ignore[override]
        def intersection(self, *other_qs: QuerySet[Any]) -> QuerySet[M]: ...  # type: ignore[override]
        def difference(self, *other_qs: QuerySet[Any]) -> QuerySet[M]: ...  # type: ignore[override]
        def using(self, alias: str) -> QuerySet[M]: ...  # type: ignore[override]
        def select_for_update(  # type: ignore[override]
            self,
            nowait: bool = False,
            skip_locked: bool = False,
            of: Sequence[str] = (),
            no_key: bool = False,
        ) -> QuerySet[M]: ...

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


class AbstractManagerDescriptor:
    """A manager declared on an abstract model: inherited by concrete children, unusable itself."""

    def __init__(self, manager: BaseManager[Any]) -> None:
        self.manager = manager

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        name = (owner if owner is not None else type(instance)).__name__
        raise AttributeError(
            f"Manager isn't available; {name} is abstract. Use the manager of a concrete "
            f"subclass, e.g. Child.{self.manager.name}."
        )


def _as_manager(queryset_class: type[QuerySet[Any]]) -> Any:
    # from_queryset() is typed for users (the QuerySet class); here it is the manager it is.
    manager_class: type[BaseManager[Any]] = Manager.from_queryset(queryset_class)  # type: ignore[assignment]
    manager = manager_class()
    manager._built_with_as_manager = True
    return manager


# QuerySet.as_manager() lives in the query layer, which may not import this
# one; it reaches Manager through this hook, set when orm.models loads.
queryset_module.AS_MANAGER_HOOK = _as_manager


def add_abstract_managers(cls: Any, attrs: dict[str, Any]) -> None:
    """Record the managers an abstract model declares; its concrete children inherit copies."""
    for name, value in attrs.items():
        if isinstance(value, BaseManager):
            value.model = cls
            value.name = name
            setattr(cls, name, AbstractManagerDescriptor(value))
            cls._meta.local_managers.append(value)


def install_managers(cls: Any) -> None:
    """Finish a concrete model's managers, as Django's Options does.

    Managers of parents (abstract or not) are inherited as copies bound to
    ``cls`` unless ``cls`` declares one of the same name; ``objects`` is added
    only when the model ends up with none. ``_default_manager`` is
    ``Meta.default_manager_name`` or the first declared, ``_base_manager``
    ``Meta.base_manager_name`` or a plain ``Manager``; a parent's names apply
    when the model sets none.
    """
    opts = cls._meta
    declared = list(opts.local_managers)
    own = {manager.name for manager in declared}
    ranked = [(0, m.creation_counter, m) for m in opts.local_managers]
    parents = [base for base in cls.__mro__[1:] if getattr(base, "_meta", None) is not None]
    for depth, parent in enumerate(parents, start=1):
        for inherited in parent._meta.local_managers:
            if inherited.name in own:
                continue
            own.add(inherited.name)
            clone = copy.copy(inherited)
            clone.contribute_to_class(cls, inherited.name)
            ranked.append((depth, inherited.creation_counter, clone))
    # Inherited copies are not the model's own: a child of this model must
    # inherit them from where they were declared, at their depth there.
    opts.local_managers = declared
    if not ranked:
        if opts.get_field_or_none("objects") is not None:
            raise ValueError(
                f"Model {cls.__name__} must specify a custom Manager, because it has a "
                "field named 'objects'."
            )
        manager: BaseManager[Any] = Manager()
        manager.auto_created = True
        manager.contribute_to_class(cls, "objects")
        ranked.append((0, manager.creation_counter, manager))
        opts.local_managers = [manager]
    opts.managers = [m for _, _, m in sorted(ranked, key=lambda item: item[:2])]
    cls._default_manager = (
        _named_manager(cls, "default_manager_name", parents, bool(declared)) or opts.managers[0]
    )
    base = _named_manager(cls, "base_manager_name", parents, False)
    if base is None:
        base = Manager()
        base.model = cls
        base.name = "_base_manager"
        base.auto_created = True
    cls._base_manager = base


def _named_manager(cls: Any, option: str, parents: list[Any], declares_managers: bool) -> Any:
    """The manager ``Meta.<option>`` names, the first parent's choice when unset (as Django:
    not for the default manager of a model declaring its own), or None."""
    opts = cls._meta
    name = getattr(opts, option)
    if not name and parents and not declares_managers:
        name = getattr(parents[0]._meta, option)
    if not name:
        return None
    for manager in opts.managers:
        if manager.name == name:
            return manager
    raise ValueError(
        f"{cls.__name__} has no manager named {name!r} (Meta.{option}); "
        f"its managers are: {', '.join(repr(m.name) for m in opts.managers)}."
    )
