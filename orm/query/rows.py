"""``Row``: the type checkers give a ``values_list(named=True)`` row.

Each such query builds its own ``namedtuple`` class from the selected names,
which no annotation can spell ahead of time. Checkers see a tuple whose
attributes are all ``Any`` (``row.title`` checks, with no type); at run time
``Row`` is ``tuple``, so ``isinstance(row, Row)`` holds for every row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Row"]

if TYPE_CHECKING:

    class Row(tuple[Any, ...]):
        """A named row of ``values_list(..., named=True)``."""

        def __getattr__(self, name: str) -> Any: ...

else:
    Row = tuple
