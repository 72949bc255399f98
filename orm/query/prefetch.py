"""``prefetch_related``: one extra query per relation level, joined up in Python."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from orm.abc import ModelClass
from orm.exceptions import FieldError
from orm.query.expressions import F
from orm.query.window import RowNumber, Window
from orm.utils.asyncio import check_async_unsafe, to_async
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.query.queryset import QuerySet


class PrefetchResult(NamedTuple):
    """What a relation descriptor's ``prefetch(instances, queryset)`` returns.

    ``groups`` maps a key to the related objects fetched for it, and
    ``key_of(instance)`` gives an instance's key; ``single`` relations (forward
    foreign key, one-to-one) cache one object (or None) under ``cache_name``
    in the instance's ``fields_cache``, the others a list in its prefetch cache.
    """

    groups: dict[Any, list[Any]]
    key_of: Callable[[Any], Any]
    single: bool
    cache_name: str


class Prefetch:
    """A prefetch lookup with a custom queryset and/or ``to_attr``."""

    def __init__(
        self, lookup: str, queryset: QuerySet[Any] | None = None, to_attr: str | None = None
    ) -> None:
        self.prefetch_through = lookup
        self.queryset = queryset
        self.to_attr = to_attr

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prefetch) and other.prefetch_through == self.prefetch_through

    def __hash__(self) -> int:
        return hash(self.prefetch_through)


def filter_prefetch_queryset(
    queryset: QuerySet[Any], lookup: str, values: list[Any], partition: str
) -> Any:
    """``queryset`` restricted to ``lookup=values``; a slice applies per related group.

    ``Prefetch("books", queryset=Book.objects.order_by("-pages")[:3])`` means the
    first three books of each author, so, as Django does, the slice becomes a
    row number per ``partition`` (the key the rows are grouped by) filtered
    after the window runs, instead of a LIMIT on the whole query.
    """
    query = queryset.query
    if not query.is_sliced:
        return queryset.filter(**{lookup: values})
    low, high = query.low_mark, query.high_mark
    queryset = queryset._chain()
    queryset.query.clear_limits()
    ordering = query.order_by or (query.model._meta.ordering if query.default_ordering else ())
    window = Window(RowNumber(), partition_by=F(partition), order_by=list(ordering) or None)
    queryset = queryset.filter(**{lookup: values}).alias(_prefetch_row=window)
    queryset = queryset.filter(_prefetch_row__gt=low)
    if high is not None:
        queryset = queryset.filter(_prefetch_row__lte=high)
    return queryset


def to_attr_paths(lookups: Iterable[Any]) -> dict[str, str]:
    """``{"books__top": "books__tags"}`` for each ``Prefetch(..., to_attr=)``: the path a to_attr stands for."""
    paths: dict[str, str] = {}
    for lookup in lookups:
        if (
            isinstance(lookup, Prefetch)
            and lookup.to_attr
            and isinstance(lookup.prefetch_through, str)
        ):
            head, _, _last = lookup.prefetch_through.rpartition("__")
            real = expand_path(lookup.prefetch_through, paths)
            paths[f"{head}__{lookup.to_attr}" if head else lookup.to_attr] = real
    return paths


def expand_path(path: str, to_attrs: dict[str, str]) -> str:
    """``path`` with a leading earlier ``to_attr`` replaced by the relations it names."""
    parts = path.split("__")
    for end in range(len(parts) - 1, 0, -1):
        head = "__".join(parts[:end])
        if head in to_attrs:
            return "__".join([to_attrs[head], *parts[end:]])
    return path


def check_prefetch_path(
    model: ModelClass, lookup: Any, to_attrs: dict[str, str] | None = None
) -> None:
    """Validate a prefetch lookup against the models before any query runs.

    A path may go on through the ``to_attr`` of an earlier ``Prefetch``
    (``Prefetch("books", to_attr="top"), "top__tags"``), as in Django.
    """
    path = lookup.prefetch_through if isinstance(lookup, Prefetch) else lookup
    if not isinstance(path, str):
        raise TypeError(
            f"prefetch_related() takes names or Prefetch objects, got {short_repr(lookup)}."
        )
    path = expand_path(path, to_attrs or {})
    current = model
    for name in path.split("__"):
        descriptor = getattr(current, name, None) if name.isidentifier() else None
        target = _descriptor_target(descriptor)
        if target is None:
            choices = sorted(
                n for n in dir(current) if _descriptor_target(getattr(current, n, None))
            )
            raise FieldError(
                f"Cannot find {short_repr(name)} on {current.__name__} object, {short_repr(path)} is an invalid "
                f"parameter to prefetch_related(). Choices are: {', '.join(choices) or '(none)'}"
            )
        current = target


def _descriptor_target(descriptor: Any) -> Any:
    if descriptor is None or not hasattr(descriptor, "prefetch"):
        return None
    if hasattr(descriptor, "field"):  # forward FK / one-to-one
        return descriptor.field.remote_field.model
    rel = descriptor.rel
    if getattr(descriptor, "reverse", None) is False:  # forward many-to-many
        return rel.field.remote_field.model
    if getattr(descriptor, "reverse", None) is True:  # reverse many-to-many
        return rel.field.model
    return rel.related_model  # reverse FK / one-to-one


def prefetch_related_objects(instances: Iterable[Any], *lookups: Any) -> None:
    """Fetch the related objects named by ``lookups`` for every instance."""
    check_async_unsafe("orm.prefetch_related_objects()", "aprefetch_related_objects()")
    instances = list(instances)
    if not instances:
        return
    for lookup in lookups:
        prefetch = lookup if isinstance(lookup, Prefetch) else Prefetch(lookup)
        if not isinstance(prefetch.prefetch_through, str):
            raise TypeError(
                f"prefetch_related() takes names or Prefetch objects, got {short_repr(lookup)}."
            )
        parts = prefetch.prefetch_through.split("__")
        level = instances
        for depth, name in enumerate(parts):
            if not level:
                break
            last = depth == len(parts) - 1
            if not last and _already_loaded(level, name):
                # An earlier Prefetch's to_attr (or a property): walk what it holds.
                level = _loaded_objects(level, name)
                continue
            level = _prefetch_one_level(
                level, name, prefetch if last else None, prefetch.prefetch_through
            )


def _already_loaded(instances: list[Any], name: str) -> bool:
    descriptor = getattr(type(instances[0]), name, None)
    if descriptor is not None and hasattr(descriptor, "prefetch"):
        return False
    return all(name in inst.__dict__ or isinstance(descriptor, property) for inst in instances)


def _loaded_objects(instances: list[Any], name: str) -> list[Any]:
    found: list[Any] = []
    seen: set[int] = set()
    for inst in instances:
        value = getattr(inst, name)
        values = value if isinstance(value, list | tuple) else [] if value is None else [value]
        for obj in values:
            if id(obj) not in seen:
                seen.add(id(obj))
                found.append(obj)
    return found


async def aprefetch_related_objects(instances: Iterable[Any], *lookups: Any) -> None:
    """Async twin of :func:`prefetch_related_objects`."""
    return await to_async(prefetch_related_objects)(instances, *lookups)


def _prefetch_one_level(
    instances: list[Any], name: str, prefetch: Prefetch | None, full: str
) -> list[Any]:
    model = type(instances[0])
    descriptor = getattr(model, name, None)
    if descriptor is None or not hasattr(descriptor, "prefetch"):
        raise FieldError(
            f"Cannot find {short_repr(name)} on {model.__name__} object, {short_repr(full)} is an invalid parameter "
            "to prefetch_related()"
        )
    queryset = prefetch.queryset if prefetch is not None else None
    to_attr = prefetch.to_attr if prefetch is not None else None
    fetched: PrefetchResult = descriptor.prefetch(instances, queryset)
    groups, key_of, cache_name = fetched.groups, fetched.key_of, fetched.cache_name
    next_level: list[Any] = []
    seen: set[int] = set()
    for instance in instances:
        values = groups.get(key_of(instance), [])
        if fetched.single:
            value = values[0] if values else None
            instance._state.fields_cache[cache_name] = value
            found = [value] if value is not None else []
        else:
            if to_attr:
                setattr(instance, to_attr, list(values))
            else:
                cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
                cache[cache_name] = list(values)
            found = values
        for obj in found:
            if id(obj) not in seen:
                seen.add(id(obj))
                next_level.append(obj)
    return next_level
