"""``Q``: filter conditions combined with ``&``, ``|``, ``^`` and ``~``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm.query.expressions import no_query
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.query.query import Query

CONNECTORS = ("AND", "OR", "XOR")


class Q:
    """A tree of ``field__lookup=value`` conditions.

    ``_connector`` only accepts ``None``, ``"AND"``, ``"OR"`` or ``"XOR"``
    (an arbitrary string here once reached SQL text in Django, CVE-2025-64459).
    """

    AND = "AND"
    OR = "OR"
    XOR = "XOR"
    conditional = True

    def __init__(
        self, *args: Any, _connector: str | None = None, _negated: bool = False, **kwargs: Any
    ) -> None:
        if _connector is not None and _connector not in CONNECTORS:
            raise ValueError(
                f"Invalid Q connector {short_repr(_connector)}; use 'AND', 'OR' or 'XOR'."
            )
        if not isinstance(_negated, bool):
            raise TypeError("Q(_negated=...) must be a bool.")
        self.connector = _connector or self.AND
        self.negated = _negated
        self.children: list[Any] = [*args, *sorted(kwargs.items())]
        for child in args:
            if not isinstance(child, Q | tuple) and not getattr(child, "conditional", False):
                raise TypeError(
                    f"Q() positional arguments must be Q objects or conditions, got {short_repr(child)}."
                )

    def _combine(self, other: object, connector: str) -> Q:
        if getattr(other, "conditional", False) is False:
            raise TypeError(f"Cannot combine Q with {short_repr(other)}.")
        if not isinstance(other, Q):
            other = Q(other)
        assert isinstance(other, Q)
        if not other.children:
            return self.copy()
        if not self.children:
            return other.copy()
        obj = Q(_connector=connector)
        obj.children = [self, other]
        return obj

    def copy(self) -> Q:
        """A shallow copy."""
        obj = Q(_connector=self.connector, _negated=self.negated)
        obj.children = list(self.children)
        return obj

    def __and__(self, other: object) -> Q:
        return self._combine(other, self.AND)

    def __or__(self, other: object) -> Q:
        return self._combine(other, self.OR)

    def __xor__(self, other: object) -> Q:
        return self._combine(other, self.XOR)

    def __invert__(self) -> Q:
        obj = self.copy()
        obj.negated = not self.negated
        return obj

    def __bool__(self) -> bool:
        return bool(self.children)

    def __len__(self) -> int:
        return len(self.children)

    def flatten(self) -> Any:
        """Every child condition, recursively."""
        yield self
        for child in self.children:
            if isinstance(child, Q):
                yield from child.flatten()
            else:
                yield child

    def resolve_expression(self, query: Query | None = None, *args: Any, **kwargs: Any) -> Any:
        """Resolve into a WHERE node of ``query`` (used by When, filter=, Exists)."""
        if query is None:
            raise no_query(self)
        return query.build_where(self)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``(path, args, kwargs)`` with ``Q(*args, **kwargs) == self`` (migrations write conditions)."""
        kwargs: dict[str, Any] = {}
        if self.connector != self.AND:
            kwargs["_connector"] = self.connector
        if self.negated:
            kwargs["_negated"] = True
        path = "orm.Q" if type(self) is Q else f"{type(self).__module__}.{type(self).__qualname__}"
        return path, tuple(self.children), kwargs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Q) and (self.connector, self.negated, self.children) == (
            other.connector,
            other.negated,
            other.children,
        )

    def __hash__(self) -> int:
        return hash((self.connector, self.negated, repr(self.children)))

    def __repr__(self) -> str:
        template = "(NOT (%s: %s))" if self.negated else "(%s: %s)"
        return template % (self.connector, ", ".join(str(c) for c in self.children))
