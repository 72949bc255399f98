"""``orm.capture_queries()``: the statements of one alias, on every thread, in a block.

The recording itself is ``orm.db.querylog``'s (the cursor and the connection
wrapper hand it every statement); this module adds the public context
manager, which checks its alias against the configured databases.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import overload

from orm.db.connections import connections
from orm.db.querylog import CapturedQuery, Recorder, start_recording, stop_recording
from orm.exceptions import ImproperlyConfigured
from orm.utils.text import short_repr

__all__ = ["QueryCapture", "capture_queries"]


class QueryCapture(Sequence[CapturedQuery]):
    """The statements run on one alias, on any thread, while the block is open.

    Made by :func:`capture_queries`. A sequence of :class:`CapturedQuery`
    (``len()``, iteration, indexing), in the order the statements finished.
    It keeps its statements after the block ends; entering it again starts
    a new, empty record. Captures nest: an outer one also sees the statements
    of an inner one.
    """

    def __init__(self, using: str = "default") -> None:
        if not isinstance(using, str):
            raise TypeError(
                f"capture_queries(using=...) takes one database alias as a str, "
                f"not {short_repr(using)}; capture each alias in its own block."
            )
        self.using = using
        self._recorder = Recorder(using)
        self._open = False

    # -- the block -------------------------------------------------------------
    def __enter__(self) -> QueryCapture:
        if self._open:
            raise RuntimeError(
                "This capture_queries() block is already open; open a new "
                "orm.capture_queries() to capture inside it."
            )
        _check_alias(self.using)
        self._recorder = Recorder(self.using)
        self._open = True
        start_recording(self._recorder)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stop_recording(self._recorder)
        self._open = False

    async def __aenter__(self) -> QueryCapture:
        # No thread hop: registration is process-wide, so the statements of
        # the a* calls awaited in the block are seen on whichever thread runs them.
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- the record ------------------------------------------------------------
    @property
    def queries(self) -> list[CapturedQuery]:
        """A copy of the statements captured so far."""
        return list(self._recorder.entries)

    @property
    def sql(self) -> list[str]:
        """The SQL of each captured statement, in order."""
        return [query.sql for query in self._recorder.entries]

    def __len__(self) -> int:
        return len(self._recorder.entries)

    @overload
    def __getitem__(self, index: int) -> CapturedQuery: ...
    @overload
    def __getitem__(self, index: slice) -> list[CapturedQuery]: ...
    def __getitem__(self, index: int | slice) -> CapturedQuery | list[CapturedQuery]:
        return self._recorder.entries[index]

    def __iter__(self) -> Iterator[CapturedQuery]:
        return iter(list(self._recorder.entries))

    def numbered(self) -> str:
        """The captured SQL as a numbered list, one statement per line (for messages)."""
        return "\n".join(f"{i}. {query}" for i, query in enumerate(self._recorder.entries, 1))

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<QueryCapture using={self.using!r} {state} queries={len(self._recorder.entries)}>"


def capture_queries(using: str = "default") -> QueryCapture:
    """Record every statement run on ``using`` while the block is open, on any thread.

    ``with orm.capture_queries() as queries:`` or ``async with``; afterwards
    ``len(queries)``, ``queries[0].sql``, ``.params``, ``.duration`` (ms),
    ``.alias``, ``.thread``. Statements of other threads count too (another
    request served meanwhile, a background thread): capture around code
    that runs alone when the count matters.
    """
    return QueryCapture(using)


def _check_alias(alias: str) -> None:
    """Refuse an alias that is not configured (a capture of it would stay empty forever)."""
    if alias not in connections:
        raise ImproperlyConfigured(
            f"capture_queries(using={short_repr(alias)}): that database alias is not "
            f"configured; configured aliases: {', '.join(sorted(connections))}."
        )
