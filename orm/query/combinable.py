"""Django's named arithmetic on expressions: ``**`` and the bitwise methods.

A mixin of ``Expression`` (kept here so expressions.py stays under its size
budget); every method builds a ``CombinedExpression`` through ``_combine``,
whose connector the backends compile (see ``CombinedExpression.as_sql``).
"""

from __future__ import annotations

from typing import Any


class Combinable:
    """``**`` plus ``bitand``/``bitor``/``bitxor``/``bitleftshift``/``bitrightshift``."""

    def _combine(self, other: object, connector: str, reversed_: bool) -> Any:
        raise NotImplementedError

    def __pow__(self, other: object) -> Any:
        return self._combine(other, "^", False)

    def __rpow__(self, other: object) -> Any:
        return self._combine(other, "^", True)

    def bitand(self, other: object) -> Any:
        """``self & other`` on integers (Django's name; ``&`` itself combines conditions)."""
        return self._combine(other, "&", False)

    def bitor(self, other: object) -> Any:
        """``self | other`` on integers."""
        return self._combine(other, "|", False)

    def bitxor(self, other: object) -> Any:
        """``self XOR other`` on integers (``#`` on PostgreSQL, ``(a | b) - (a & b)`` on SQLite)."""
        return self._combine(other, "#", False)

    def bitleftshift(self, other: object) -> Any:
        """``self << other``."""
        return self._combine(other, "<<", False)

    def bitrightshift(self, other: object) -> Any:
        """``self >> other``."""
        return self._combine(other, ">>", False)
