"""The interface every implementation fills in, one method per timed operation.

Each method is the idiomatic code a user of that library would write for the
operation, and returns what the harness needs to check the result. Results
are checked after the timed region (see ``operations.py``), so verification
costs nothing inside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar

from benchmarks.databases import Target
from benchmarks.workload import AuthorRow, BookRow


class Implementation:
    """Base class: ``name`` keys the results, ``label`` is shown in the table."""

    name: ClassVar[str]
    kind: ClassVar[str] = "peer"  # "orm", "peer" or "floor"
    # Named in the notes below the table, e.g. how aiterator is emulated.
    notes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, target: Target) -> None:
        self.target = target
        self.backend = target.backend

    @classmethod
    def unavailable(cls, backend: str) -> str | None:
        """None when this implementation can run on ``backend``, else why not."""
        return None

    @property
    def label(self) -> str:
        return self.name

    async def sqlite_settings(self) -> str | None:
        """``journal_mode=..., synchronous=...`` of this implementation's own connection.

        Read back after setup (untimed, SQLite only) so the report shows what
        each client really runs with, not what it was asked for; None when the
        implementation cannot tell.
        """
        return None

    def task_scope(self) -> AbstractAsyncContextManager[Any]:
        """Entered by each task of a concurrent operation around its calls.

        Most libraries need nothing (the default); one whose connection
        belongs to the task that first used it (django-async-backend) gives
        each task its own connection here, as its documentation prescribes.
        """
        return contextlib.nullcontext()

    def concurrency_variants(self) -> dict[str, tuple[str, Callable[[], Any]]]:
        """The series of the concurrency curve: key -> (label, scope each task enters).

        One series by default, with :meth:`task_scope`; `orm` adds a second,
        every task inside ``orm.connection_scope()``.
        """
        return {self.name: (self.label, self.task_scope)}

    # -- lifecycle (untimed) -----------------------------------------------
    async def setup(self) -> None:
        """Connect to ``self.target`` (already empty) and create the tables."""
        raise NotImplementedError

    async def teardown(self) -> None:
        """Close every connection opened by this implementation."""
        raise NotImplementedError

    async def seed_authors(self, rows: Sequence[AuthorRow]) -> None:
        raise NotImplementedError

    # -- timed operations --------------------------------------------------
    async def bulk_create_books(self, rows: Sequence[BookRow]) -> None:
        raise NotImplementedError

    async def get_book(self, pk: int) -> Any:
        """``aget(pk=pk)``: return the instance (checked with ``book_fields``)."""
        raise NotImplementedError

    def book_fields(self, obj: Any) -> tuple[int, str, Any, int]:
        """(id, title, price, pages) of what ``get_book`` returned (untimed)."""
        return (obj.id, obj.title, obj.price, obj.pages)

    async def iterate_books(self, max_id: int) -> tuple[int, int]:
        """``async for`` over books with ``id <= max_id``: (rows, sum of pages)."""
        raise NotImplementedError

    async def values_list_books(self) -> list[Any]:
        """``values_list("id", "title", "price")`` over every book."""
        raise NotImplementedError

    async def select_related_books(self, max_id: int) -> list[str]:
        """Books ``id <= max_id`` with their author joined: ``[book.author.name, ...]``."""
        raise NotImplementedError

    async def count_books(self, author_id: int) -> int:
        """``filter(author_id=...).acount()`` (the foreign key is indexed)."""
        raise NotImplementedError

    async def create_book(self, row: BookRow) -> int:
        """``acreate(...)`` one row in autocommit; return its primary key."""
        raise NotImplementedError

    async def update_books(self, max_id: int) -> int:
        """``filter(id__lte=max_id).aupdate(pages=F("pages") + 1)``; return the row count."""
        raise NotImplementedError

    async def create_author_with_books(self, author: AuthorRow, books: Sequence[BookRow]) -> int:
        """One transaction: create the author and its books; return the author's pk."""
        raise NotImplementedError

    async def stream_books(self, chunk_size: int) -> tuple[int, int]:
        """``aiterator(chunk_size)`` over every book: (rows, sum of pages)."""
        raise NotImplementedError
