"""Choices: the ``TextChoices``/``IntegerChoices`` enums and how ``choices=`` is normalized.

As Django 5.0: ``choices=`` may be an enum class, a mapping, an iterable of
``(value, label)`` pairs, grouped choices (``(group_label, [(value,
label), ...])``) or a callable returning any of those. Fields keep the
normalized form (a list of pairs, or a lazy :class:`CallableChoiceIterator`
that calls the callable each time it is iterated).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice, zip_longest
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orm.fields.base import Field

__all__ = [
    "BaseChoiceIterator",
    "CallableChoiceIterator",
    "Choices",
    "ChoicesType",
    "IntegerChoices",
    "TextChoices",
    "flatten_choices",
    "make_hashable",
    "normalize_choices",
]

#: ``choices`` when the class defines no ``__empty__`` label (which may itself be None).
_NO_EMPTY: Any = object()


class ChoicesType(enum.EnumType):
    """Metaclass of :class:`Choices`: takes a label from each member, makes members unique.

    A member written ``NAME = value, "Label"`` (a tuple whose last item is a
    str) gets that label and the rest as its value; otherwise the label is the
    name with underscores as spaces, title-cased.
    """

    def __new__(
        metacls,
        classname: str,
        bases: tuple[type, ...],
        classdict: Any,
        **kwds: Any,  # noqa: N804
    ) -> Any:
        labels = []
        for key in classdict._member_names:
            value = classdict[key]
            if isinstance(value, list | tuple) and len(value) > 1 and isinstance(value[-1], str):
                *parts, label = value
                value = tuple(parts)
            else:
                label = key.replace("_", " ").title()
            labels.append(label)
            # dict.__setitem__: enum's class dict refuses a second assignment.
            dict.__setitem__(classdict, key, value)
        cls: Any = super().__new__(metacls, classname, bases, classdict, **kwds)
        for member, label in zip(cls.__members__.values(), labels, strict=False):
            member._label_ = label
        return enum.unique(cls)

    def __contains__(cls, member: object) -> bool:
        # Python 3.11 raises TypeError for a non-member; Django (and 3.12)
        # answer whether it is one of the members' values.
        if not isinstance(member, enum.Enum):
            return any(x.value == member for x in cls)  # type: ignore[var-annotated]
        return super().__contains__(member)

    @property
    def names(cls) -> list[str]:
        """Member names (``"__empty__"`` first when the class defines one)."""
        empty = ["__empty__"] if hasattr(cls, "__empty__") else []
        return empty + [member.name for member in cls]  # type: ignore[var-annotated]

    @property
    def choices(cls) -> list[tuple[Any, str]]:
        """``[(value, label), ...]`` for ``choices=`` (``(None, __empty__)`` first if defined)."""
        label = getattr(cls, "__empty__", _NO_EMPTY)
        empty = [] if label is _NO_EMPTY else [(None, label)]
        return empty + [(member.value, member.label) for member in cls]  # type: ignore[var-annotated]

    @property
    def labels(cls) -> list[str]:
        """The labels, in member order."""
        return [label for _, label in cls.choices]

    @property
    def values(cls) -> list[Any]:
        """The values, in member order."""
        return [value for value, _ in cls.choices]


class Choices(enum.Enum, metaclass=ChoicesType):
    """Base of enumerated choices: each member has a ``label``."""

    # Templates call callables; an enum class must be used as it is.
    do_not_call_in_templates = enum.nonmember(True)

    @enum.property
    def label(self) -> str:
        """The human-readable name of the member."""
        return str(self._label_)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}.{self._name_}"


class IntegerChoices(Choices, enum.IntEnum):
    """Integer choices: ``class Suit(orm.IntegerChoices): HEART = 1, "Heart"``."""

    if TYPE_CHECKING:
        # `HEART = 1, "Heart"` gives the arguments a member is built from, not
        # its value: declaring them keeps pyright from checking the tuple
        # against `_value_` (int). Typing only; the metaclass builds members.
        def __init__(self, value: int, label: str = ...) -> None: ...


class TextChoices(Choices, enum.StrEnum):
    """String choices; ``enum.auto()`` gives the member's name as its value."""

    if TYPE_CHECKING:
        # As IntegerChoices: `FRESHMAN = "FR", "Freshman"` are a member's arguments.
        def __init__(self, value: str, label: str = ...) -> None: ...

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> str:
        return name


class BaseChoiceIterator:
    """Lazy choices: compares equal to the list it yields, and can be indexed."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Iterable):
            return all(a == b for a, b in zip_longest(self, other, fillvalue=object()))
        return super().__eq__(other)

    __hash__ = object.__hash__

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice) or index < 0:
            return list(self)[index]
        try:
            return next(islice(self, index, index + 1))
        except StopIteration:
            raise IndexError("index out of range") from None

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError("BaseChoiceIterator subclasses must implement __iter__().")


class CallableChoiceIterator(BaseChoiceIterator):
    """Choices from a callable, called (and normalized) each time they are iterated."""

    def __init__(self, func: Callable[[], Any]) -> None:
        self.func = func

    def __iter__(self) -> Iterator[Any]:
        yield from normalize_choices(self.func())


def normalize_choices(value: Any, *, depth: int = 0) -> Any:
    """``value`` as a list of ``(value, label)`` pairs, groups as ``(name, [pairs])``.

    Enum classes give their ``.choices``, mappings their items; a callable at
    the top level becomes a lazy :class:`CallableChoiceIterator`. A value of
    another shape is returned as it is.
    """
    match value:
        case BaseChoiceIterator() | bytes() | str():
            return value
        case ChoicesType():
            return value.choices
        case Mapping() if depth < 2:
            value = value.items()
        case Iterator() if depth < 2:
            pass  # checked for strings below would consume it
        case Iterable() if depth < 2 and not any(isinstance(x, bytes | str) for x in value):
            pass
        case Callable() if depth == 0:
            return CallableChoiceIterator(value)
        case Callable() if depth < 2:
            value = value()
        case _:
            return value
    try:
        return [(key, normalize_choices(item, depth=depth + 1)) for key, item in value]
    except (TypeError, ValueError):
        # Not pairs: kept as given, refused by the field's own check.
        return value


def flatten_choices(choices: Any) -> Iterator[tuple[Any, Any]]:
    """The ``(value, label)`` pairs of ``choices``, groups opened."""
    for value_or_group, label_or_nested in choices or ():
        if isinstance(label_or_nested, list | tuple):
            yield from label_or_nested
        else:
            yield value_or_group, label_or_nested


def make_hashable(value: Any) -> Any:
    """``value`` made usable as a dict key (dicts and lists become tuples)."""
    if isinstance(value, dict):
        return tuple((key, make_hashable(item)) for key, item in sorted(value.items()))
    try:
        hash(value)
    except TypeError:
        if isinstance(value, Iterable):
            return tuple(map(make_hashable, value))
        raise
    return value


def get_field_display(instance: object, field: Field) -> Any:
    """``instance.get_FOO_display()``: the label of the field's value, or the value itself."""
    value = getattr(instance, field.attname)
    labels = dict(make_hashable(field.flatchoices))
    try:
        return labels.get(make_hashable(value), value)
    except TypeError:
        return value
