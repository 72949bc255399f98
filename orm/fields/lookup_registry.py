"""Where lookups and transforms are registered: Django's ``RegisterLookupMixin``.

``register_lookup`` works on a class (every field of that class and its
subclasses) or on one instance (that field only), as in Django 4.2+. Lookups
are resolved by name on every filter, so the merged class tables are cached
per class; any (un)registration empties the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

#: A lookup or transform class (``register_lookup`` hands it back, as a decorator).
_L = TypeVar("_L", bound=type)

# class -> merged {name: lookup}; emptied on every registration change.
_CLASS_TABLES: dict[type, dict[str, Any]] = {}


class class_or_instance_method:  # noqa: N801 - named as Django's helper
    """A method bound to the class when read from it, to the instance when read from one."""

    def __init__(
        self, class_method: Callable[..., Any], instance_method: Callable[..., Any]
    ) -> None:
        self.class_method = class_method
        self.instance_method = instance_method

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self.class_method.__get__(owner, owner)
        return self.instance_method.__get__(instance, owner)


def _class_table(cls: type) -> dict[str, Any]:
    table = _CLASS_TABLES.get(cls)
    if table is None:
        table = {}
        for klass in reversed(cls.__mro__):  # a subclass's registration wins over its bases'
            table.update(klass.__dict__.get("class_lookups", {}))
        _CLASS_TABLES[cls] = table
    return table


class RegisterLookupMixin:
    """Lookup/transform registry for fields and transforms (``Field.register_lookup``)."""

    class_lookups: ClassVar[dict[str, Any]] = {}

    # -- reading ---------------------------------------------------------------
    def _get_lookups(self) -> dict[str, Any]:
        table = _class_table(type(self))
        instance_lookups = self.__dict__.get("instance_lookups")
        return {**table, **instance_lookups} if instance_lookups else table

    @classmethod
    def _get_class_lookups(cls) -> dict[str, Any]:
        return _class_table(cls)

    get_lookups = class_or_instance_method(_get_class_lookups, _get_lookups)
    get_lookups.__doc__ = (
        "Every registered lookup and transform, by name (class- and instance-level)."
    )

    @classmethod
    def _get_class_lookup(cls, name: str) -> Any:
        return _pick(_class_table(cls), name, "is_lookup")

    def _get_instance_lookup(self, name: str) -> Any:
        return _pick(self._get_lookups(), name, "is_lookup")

    get_lookup = class_or_instance_method(_get_class_lookup, _get_instance_lookup)
    get_lookup.__doc__ = (
        "The lookup class registered as ``name`` (instance, class or a base), or None."
    )

    @classmethod
    def _get_class_transform(cls, name: str) -> Any:
        return _pick(_class_table(cls), name, "is_transform")

    def _get_instance_transform(self, name: str) -> Any:
        return _pick(self._get_lookups(), name, "is_transform")

    get_transform = class_or_instance_method(_get_class_transform, _get_instance_transform)
    get_transform.__doc__ = (
        "The transform class registered as ``name`` (instance, class or a base), or None."
    )

    @classmethod
    def _class_lookup_names(cls) -> list[str]:
        return sorted(_class_table(cls))

    def _instance_lookup_names(self) -> list[str]:
        return sorted(self._get_lookups())

    lookup_names = class_or_instance_method(_class_lookup_names, _instance_lookup_names)
    lookup_names.__doc__ = "Every lookup and transform name available, sorted (for error messages)."

    # -- registering -------------------------------------------------------------
    @classmethod
    def _register_class_lookup(cls, lookup: _L, lookup_name: str | None = None) -> _L:
        name = _lookup_name(lookup, lookup_name)
        if "class_lookups" not in cls.__dict__:
            cls.class_lookups = {}
        cls.class_lookups[name] = lookup
        _CLASS_TABLES.clear()
        return lookup

    def _register_instance_lookup(self, lookup: _L, lookup_name: str | None = None) -> _L:
        name = _lookup_name(lookup, lookup_name)
        self.__dict__.setdefault("instance_lookups", {})[name] = lookup
        return lookup

    register_lookup = class_or_instance_method(_register_class_lookup, _register_instance_lookup)

    @classmethod
    def _unregister_class_lookup(cls, lookup: Any, lookup_name: str | None = None) -> None:
        # For tests, as Django's: undo a class-level register_lookup().
        name = lookup_name or lookup.lookup_name
        cls.__dict__.get("class_lookups", {}).pop(name, None)
        _CLASS_TABLES.clear()

    def _unregister_instance_lookup(self, lookup: Any, lookup_name: str | None = None) -> None:
        name = lookup_name or lookup.lookup_name
        self.__dict__.get("instance_lookups", {}).pop(name, None)

    _unregister_lookup = class_or_instance_method(
        _unregister_class_lookup, _unregister_instance_lookup
    )


def _pick(table: dict[str, Any], name: str, flag: str) -> Any:
    found = table.get(name)
    return found if found is not None and getattr(found, flag, False) else None


def _lookup_name(lookup: type, lookup_name: str | None) -> str:
    """The name to register under; a clear error when neither is given."""
    name = lookup_name or getattr(lookup, "lookup_name", "")
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"Cannot register {lookup!r}: give it a lookup_name class attribute or pass "
            "register_lookup(lookup, lookup_name='...')."
        )
    if "__" in name:
        raise ValueError(f"Lookup name {name!r} cannot contain '__' (it separates lookups).")
    if not (getattr(lookup, "is_lookup", False) or getattr(lookup, "is_transform", False)):
        raise TypeError(f"{lookup!r} is not a Lookup or Transform subclass.")
    return name
