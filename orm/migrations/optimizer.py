"""``MigrationOptimizer``: merge operations of a migration into fewer (Django's algorithm).

Each operation is compared with every later one through ``reduce()``: a list
replaces the pair (``CreateModel`` + ``AddField`` -> one ``CreateModel``,
``AddField`` + ``RemoveField`` -> nothing); ``True`` means the later one may
be moved across it. The pass repeats until the list stops changing.
"""

from __future__ import annotations

from collections.abc import Sequence

from orm.migrations.operations.base import Operation

__all__ = ["MigrationOptimizer"]


class MigrationOptimizer:
    """Shortens a list of operations without changing what it does."""

    def __init__(self) -> None:
        #: Passes made by the last ``optimize()`` (for tests).
        self.iterations = 0

    def optimize(self, operations: Sequence[Operation], app_label: str) -> list[Operation]:
        """An equivalent list of operations, as short as ``reduce()`` can make it."""
        if not isinstance(app_label, str):
            raise TypeError("app_label must be a str.")
        self.iterations = 0
        current = list(operations)
        while True:
            result = self.optimize_inner(current, app_label)
            self.iterations += 1
            if result == current:
                return result
            current = result

    def optimize_inner(self, operations: list[Operation], app_label: str) -> list[Operation]:
        """One pass: the first reduction found, applied."""
        for i, operation in enumerate(operations):
            right = True  # reduce into the later operation's place, or the earlier one's
            for j, other in enumerate(operations[i + 1:]):
                result = operation.reduce(other, app_label)
                if isinstance(result, list):
                    between = operations[i + 1:i + j + 1]
                    if right:
                        return [*operations[:i], *between, *result, *operations[i + j + 2:]]
                    if all(op.reduce(other, app_label) is True for op in between):
                        # Every operation in between can move across ``other``.
                        return [*operations[:i], *result, *between, *operations[i + j + 2:]]
                    break
                if not result:
                    right = False
        return list(operations)
