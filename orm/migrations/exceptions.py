"""Errors raised by migrations."""

from __future__ import annotations

__all__ = ["InvalidStateError", "IrreversibleError"]


class IrreversibleError(RuntimeError):
    """An operation (or a migration holding one) cannot be unapplied.

    Raised before anything runs: ``Migration.unapply`` checks every operation
    first, so a migration is never left half reversed for this reason.
    """


class InvalidStateError(ValueError):
    """A migration state that cannot be rendered: a relation to a model the state
    does not have, an option ``Meta`` does not know, a field bound to a model."""
