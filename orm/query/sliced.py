"""``F("name")[:3]``: a slice of a text field, compiled as ``Substr`` (Django's ``Sliced``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm import fields as f
from orm.exceptions import NotSupportedError
from orm.query.expressions import F, no_query
from orm.query.functions.text import Substr

if TYPE_CHECKING:
    from orm.query.query import Query


class Sliced(F):
    """A slice (or one character) of a field: positions are 0-based as in Python.

    ``[2:5]`` is ``SUBSTRING(name, 3, 3)``; ``[0]`` the first character. Negative
    positions and steps are refused, as in Django: SQL cannot count from the end.
    """

    def __init__(self, obj: F, subscript: Any) -> None:
        super().__init__(obj.name)
        self.obj = obj
        self.start, self.length = _bounds(subscript)

    def __repr__(self) -> str:
        start = self.start - 1
        stop = None if self.length is None else start + self.length
        return f"{type(self).__qualname__}({self.obj!r}, {slice(start, stop)!r})"

    def resolve_expression(
        self,
        query: Query | None = None,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        if type(self.obj) is not F:
            # A slice of a slice, or of an OuterRef (resolved by the outer query later).
            expr = self.obj.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        elif query is None:
            raise no_query(self)
        else:
            expr = query.resolve_ref(self.name, allow_joins, reuse, summarize)
            field = expr.output_field
            if not isinstance(field, f.CharField | f.TextField):
                raise NotSupportedError(
                    f"{self.name!r} ({type(field).__name__}) does not support slicing; only text "
                    "fields (CharField, TextField) do."
                )
        return Substr(expr, self.start, self.length).resolve_expression(
            query, allow_joins, reuse, summarize, for_save
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sliced) and (self.obj, self.start, self.length) == (
            other.obj,
            other.start,
            other.length,
        )

    def __hash__(self) -> int:
        return hash((type(self), self.obj, self.start, self.length))


def _bounds(subscript: Any) -> tuple[int, int | None]:
    """(1-based start, length or None) of a Python index or slice; Django's errors."""
    if isinstance(subscript, int) and not isinstance(subscript, bool):
        if subscript < 0:
            raise ValueError("Negative indexing is not supported.")
        return subscript + 1, 1
    if not isinstance(subscript, slice):
        raise TypeError("Argument to slice must be either int or slice instance.")
    start, stop = subscript.start, subscript.stop
    if (start is not None and start < 0) or (stop is not None and stop < 0):
        raise ValueError("Negative indexing is not supported.")
    if subscript.step is not None:
        raise ValueError("Step argument is not supported.")
    if stop and start and stop < start:
        raise ValueError("Slice stop must be greater than slice start.")
    return (1 if start is None else start + 1), (None if stop is None else stop - (start or 0))
