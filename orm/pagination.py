"""Pagination: Django's ``Paginator`` and ``Page``, and the async pair Django 6.0 added.

``Paginator(object_list, per_page)`` splits a QuerySet (or any sliceable
sequence) into numbered pages: ``page(n)`` slices the QuerySet (a
``LIMIT``/``OFFSET`` query, run when the page is read) and ``count`` runs one
``COUNT(*)``. ``AsyncPaginator`` has the same arithmetic with awaitable
methods (``apage()``, ``acount()``, ``anum_pages()``, ...) that reach the
database only through the QuerySet's own ``a*`` twins, so the pagination
logic itself never leaves the event loop and never blocks it.

The module sits above the query layer and imports nothing from it: a
QuerySet is recognised by what it offers (``count``/``acount``, ``ordered``,
``model``, slicing, ``async for``), as Django's paginator does, so plain
lists and tuples paginate too.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Mapping
from math import ceil
from typing import Any, Generic, Protocol, TypeVar, cast, overload

from orm.utils.asyncio import check_async_unsafe, to_async

__all__ = [
    "AsyncPage",
    "AsyncPaginator",
    "EmptyPage",
    "InvalidPage",
    "ObjectList",
    "Page",
    "PageNotAnInteger",
    "Paginator",
    "UnorderedObjectListWarning",
]


_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class ObjectList(Protocol[_T_co]):
    """What a paginator accepts: a ``QuerySet[Book]``, ``list[Book]``, ``tuple``, ...

    Sized, iterable and sliceable into the same kind of thing. Only for type
    checkers: at run time the paginator duck-types (``count()``, ``ordered``).
    """

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[_T_co]: ...

    def __getitem__(self, index: slice[Any, Any, None], /) -> ObjectList[_T_co]: ...


class UnorderedObjectListWarning(RuntimeWarning):
    """Paginating an unordered QuerySet: pages may overlap or skip rows.

    Without ``ORDER BY`` the database may return rows in a different order for
    each page's query. Add ``order_by()`` or a ``Meta.ordering``.
    """


class InvalidPage(Exception):
    """Base class of the errors ``page()`` and ``validate_number()`` raise."""


class PageNotAnInteger(InvalidPage):
    """The page number is not an integer (``"abc"``, ``None``, ``2.5``)."""


class EmptyPage(InvalidPage):
    """The page number is below 1 or beyond the last page."""


# Keys of ``error_messages``; a key outside this set is a typo, refused.
DEFAULT_ERROR_MESSAGES: dict[str, str] = {
    "invalid_page": "That page number is not an integer",
    "min_page": "That page number is less than 1",
    "no_results": "That page contains no results",
}


def _has_no_args(method: Callable[..., Any]) -> bool:
    """Whether ``method`` can be called without arguments (``list.count`` cannot)."""
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params
    )


class BasePaginator(Generic[_T]):
    """What ``Paginator`` and ``AsyncPaginator`` share: arguments, checks, arithmetic.

    Nothing here touches ``object_list`` beyond reading ``ordered``/``model``,
    so it is safe on the event loop.
    """

    #: Stands for the omitted page numbers in ``get_elided_page_range()``.
    ELLIPSIS = "…"
    default_error_messages = DEFAULT_ERROR_MESSAGES

    def __init__(
        self,
        object_list: ObjectList[_T],
        per_page: int | str,
        orphans: int | str = 0,
        allow_empty_first_page: bool = True,
        error_messages: Mapping[str, str] | None = None,
    ) -> None:
        self.object_list: ObjectList[_T] = object_list
        self._check_object_list_is_ordered()
        self.per_page = int(per_page)
        self.orphans = int(orphans)
        self.allow_empty_first_page = allow_empty_first_page
        unknown = sorted(set(error_messages or ()) - set(self.default_error_messages))
        if unknown:
            raise ValueError(
                f"Unknown error_messages key(s) {unknown}; the keys are "
                f"{sorted(self.default_error_messages)}."
            )
        self.error_messages: dict[str, str] = (
            dict(self.default_error_messages)
            if error_messages is None
            else {**self.default_error_messages, **error_messages}
        )
        if self.per_page < 1:
            raise ValueError(f"per_page must be at least 1, got {self.per_page}.")
        if self.orphans < 0:
            raise ValueError(f"orphans cannot be negative, got {self.orphans}.")
        # Django 6.0 deprecates orphans >= per_page and Django 7.0 refuses it
        # with this error; a new API has no old callers to warn first.
        if self.per_page <= self.orphans:
            raise ValueError(
                "The orphans argument cannot be larger than or equal to the per_page argument."
            )

    def _check_object_list_is_ordered(self) -> None:
        """Warn (``UnorderedObjectListWarning``) if ``object_list`` is an unordered QuerySet."""
        # Duck-typed: ``ordered`` and ``model`` are a QuerySet's, not ObjectList's.
        duck: Any = self.object_list
        ordered = getattr(duck, "ordered", None)
        if ordered is not None and not ordered:
            what = (
                f"{duck.model} {type(duck).__name__}"
                if hasattr(duck, "model")
                else repr(self.object_list)
            )
            # stacklevel 3: the warning points at the line that built the paginator.
            warnings.warn(
                f"Pagination may yield inconsistent results with an unordered object_list: "
                f"{what}. Add order_by() or a Meta.ordering.",
                UnorderedObjectListWarning,
                stacklevel=3,
            )

    def _validate_number(self, number: object, num_pages: int) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            value: int = int(number)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if value < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if value > num_pages:
            raise EmptyPage(self.error_messages["no_results"])
        return value

    def _num_pages(self, count: int) -> int:
        if count == 0 and not self.allow_empty_first_page:
            return 0
        # Up to `orphans` trailing objects join the previous page instead of
        # making a page of their own.
        hits = max(1, count - self.orphans)
        return ceil(hits / self.per_page)

    def _bounds(self, number: int, count: int) -> tuple[int, int]:
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= count:
            top = count
        return bottom, top

    def _elided_page_range(
        self, number: int, num_pages: int, on_each_side: int, on_ends: int
    ) -> Iterator[int | str]:
        if num_pages <= (on_each_side + on_ends) * 2:
            yield from range(1, num_pages + 1)
            return
        if number > (1 + on_each_side + on_ends) + 1:
            yield from range(1, on_ends + 1)
            yield self.ELLIPSIS
            yield from range(number - on_each_side, number + 1)
        else:
            yield from range(1, number + 1)
        if number < (num_pages - on_each_side - on_ends) - 1:
            yield from range(number + 1, number + on_each_side + 1)
            yield self.ELLIPSIS
            yield from range(num_pages - on_ends + 1, num_pages + 1)
        else:
            yield from range(number + 1, num_pages + 1)


class Paginator(BasePaginator[_T]):
    """Split ``object_list`` (an ordered QuerySet, list or tuple) into pages of ``per_page``.

    ``orphans``: a last page of that many objects or fewer is merged into the
    page before it. ``allow_empty_first_page=False`` makes page 1 of an empty
    list ``EmptyPage``. ``error_messages`` overrides the texts of the
    ``invalid_page``, ``min_page`` and ``no_results`` errors.

    Sync only: in async code use :class:`AsyncPaginator` (``count`` of a
    QuerySet refuses the event loop's thread with ``SynchronousOnlyOperation``).
    Iterating the paginator yields every page in order.
    """

    def __iter__(self) -> Iterator[Page[_T]]:
        for number in self.page_range:
            yield self.page(number)

    def validate_number(self, number: object) -> int:
        """The 1-based page number as an int, or ``PageNotAnInteger``/``EmptyPage``."""
        return self._validate_number(number, self.num_pages)

    def get_page(self, number: object) -> Page[_T]:
        """Like ``page()``, but never raises: a bad number gives page 1, one too large the last."""
        try:
            value = self.validate_number(number)
        except PageNotAnInteger:
            value = 1
        except EmptyPage:
            value = self.num_pages
        return self.page(value)

    def page(self, number: object) -> Page[_T]:
        """The ``Page`` with that 1-based number; its objects are queried when it is read."""
        value = self.validate_number(number)
        bottom, top = self._bounds(value, self.count)
        return self._get_page(self.object_list[bottom:top], value, self)

    def _get_page(
        self, object_list: ObjectList[_T], number: int, paginator: Paginator[_T]
    ) -> Page[_T]:
        """Build one page; a subclass may override it to return its own ``Page`` class."""
        return Page(object_list, number, paginator)

    @functools.cached_property
    def count(self) -> int:
        """The number of objects on all pages: ``object_list.count()`` (one query), else ``len()``.

        Computed once per paginator, then cached.
        """
        return self._compute_count()

    def _compute_count(self) -> int:
        # Duck-typed: QuerySet.count(), or a list's count(x), which the checks below refuse.
        count: Callable[[], Any] | None = getattr(self.object_list, "count", None)
        if callable(count) and not inspect.isbuiltin(count) and _has_no_args(count):
            if hasattr(self.object_list, "acount"):
                # A QuerySet: name the async paginator, not just QuerySet.acount().
                check_async_unsafe("Paginator.count", "`orm.AsyncPaginator`")
            return int(count())
        return len(self.object_list)

    @functools.cached_property
    def num_pages(self) -> int:
        """The number of pages (0 only for an empty list with ``allow_empty_first_page=False``)."""
        return self._num_pages(self.count)

    @property
    def page_range(self) -> range:
        """``range(1, num_pages + 1)``."""
        return range(1, self.num_pages + 1)

    def get_elided_page_range(
        self, number: object = 1, *, on_each_side: int = 3, on_ends: int = 2
    ) -> Iterator[int | str]:
        """Page numbers around ``number`` with the long stretches replaced by ``ELLIPSIS``.

        With 50 pages and page 43: ``1, 2, '…', 40, 41, 42, 43, 44, 45, 46, '…', 49, 50``.
        A generator, as Django's: the number is validated when it is first advanced.
        """
        value = self.validate_number(number)
        yield from self._elided_page_range(value, self.num_pages, on_each_side, on_ends)


class AsyncPaginator(BasePaginator[_T]):
    """The awaitable ``Paginator`` (Django 6.0): same arguments, ``a``-prefixed methods.

    ``count``, ``num_pages`` and ``page_range`` become ``await acount()``,
    ``await anum_pages()`` and ``await apage_range()``; ``page()``,
    ``get_page()``, ``validate_number()`` and ``get_elided_page_range()``
    become ``apage()``, ``aget_page()``, ``avalidate_number()`` and the async
    generator ``aget_elided_page_range()``. Pages are :class:`AsyncPage`.
    The count runs once per paginator (``QuerySet.acount()``, else ``len()``).
    ``async for page in paginator`` yields every page.
    """

    # Set on the instance by the first acount(). A class default rather than an
    # __init__ override keeps the unordered warning pointing at the caller.
    _cache_acount: int | None = None

    async def __aiter__(self) -> AsyncIterator[AsyncPage[_T]]:
        for number in await self.apage_range():
            yield await self.apage(number)

    async def avalidate_number(self, number: object) -> int:
        """The 1-based page number as an int, or ``PageNotAnInteger``/``EmptyPage``."""
        return self._validate_number(number, await self.anum_pages())

    async def aget_page(self, number: object) -> AsyncPage[_T]:
        """Like ``apage()``, but never raises: a bad number gives page 1, one too large the last."""
        try:
            value = await self.avalidate_number(number)
        except PageNotAnInteger:
            value = 1
        except EmptyPage:
            value = await self.anum_pages()
        return await self.apage(value)

    async def apage(self, number: object) -> AsyncPage[_T]:
        """The ``AsyncPage`` with that number; load its objects with ``async for`` or
        ``await page.aget_object_list()``."""
        value = await self.avalidate_number(number)
        bottom, top = self._bounds(value, await self.acount())
        return self._get_page(self.object_list[bottom:top], value, self)

    def _get_page(
        self, object_list: ObjectList[_T], number: int, paginator: AsyncPaginator[_T]
    ) -> AsyncPage[_T]:
        """Build one page; a subclass may override it to return its own ``AsyncPage`` class."""
        return AsyncPage(object_list, number, paginator)

    async def acount(self) -> int:
        """The number of objects on all pages: ``await object_list.acount()``, else ``len()``."""
        if self._cache_acount is None:
            acount = getattr(self.object_list, "acount", None)
            if (
                inspect.iscoroutinefunction(acount)
                and not inspect.isbuiltin(acount)
                and _has_no_args(acount)
            ):
                self._cache_acount = int(await acount())
            else:
                self._cache_acount = len(self.object_list)
        return self._cache_acount

    async def anum_pages(self) -> int:
        """The number of pages (0 only for an empty list with ``allow_empty_first_page=False``)."""
        return self._num_pages(await self.acount())

    async def apage_range(self) -> range:
        """``range(1, await anum_pages() + 1)``."""
        return range(1, await self.anum_pages() + 1)

    async def aget_elided_page_range(
        self, number: object = 1, *, on_each_side: int = 3, on_ends: int = 2
    ) -> AsyncIterator[int | str]:
        """``get_elided_page_range()`` as an async generator: ``async for n in ...``."""
        value = await self.avalidate_number(number)
        num_pages = await self.anum_pages()
        for item in self._elided_page_range(value, num_pages, on_each_side, on_ends):
            yield item


class BasePage(Generic[_T]):
    """What ``Page`` and ``AsyncPage`` share: the objects, the number, the paginator."""

    def __init__(self, object_list: ObjectList[_T], number: int, paginator: Any) -> None:
        # A QuerySet slice, list or tuple, and a list once loaded.
        self.object_list: ObjectList[_T] = object_list
        self.number = number
        self.paginator = paginator

    @staticmethod
    def _check_index(index: object) -> None:
        if not isinstance(index, (int, slice)):
            raise TypeError(f"Page indices must be integers or slices, not {type(index).__name__}.")


class Page(BasePage[_T], collections.abc.Sequence[_T]):
    """One page of a :class:`Paginator`: a sequence of its objects plus navigation.

    The objects are queried the first time the page is indexed, measured or
    iterated, then kept as a list, so reading a page runs one query.
    """

    paginator: Paginator[_T]

    def __repr__(self) -> str:
        return f"<Page {self.number} of {self.paginator.num_pages}>"

    def __len__(self) -> int:
        return len(self.object_list)

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | list[_T]:
        self._check_index(index)
        # A list, so that a QuerySet is not queried again per index.
        if not isinstance(self.object_list, list):
            self.object_list = list(self.object_list)
        loaded: list[_T] = self.object_list
        return loaded[index]

    def has_next(self) -> bool:
        """Whether a page follows this one."""
        return self.number < self.paginator.num_pages

    def has_previous(self) -> bool:
        """Whether a page precedes this one."""
        return self.number > 1

    def has_other_pages(self) -> bool:
        """Whether there is a previous or a next page."""
        return self.has_previous() or self.has_next()

    def next_page_number(self) -> int:
        """The next page's number; ``EmptyPage`` on the last page."""
        return self.paginator.validate_number(self.number + 1)

    def previous_page_number(self) -> int:
        """The previous page's number; ``EmptyPage`` on the first page."""
        return self.paginator.validate_number(self.number - 1)

    def start_index(self) -> int:
        """The 1-based position of this page's first object among all objects (0 if none)."""
        if self.paginator.count == 0:
            return 0
        return self.paginator.per_page * (self.number - 1) + 1

    def end_index(self) -> int:
        """The 1-based position of this page's last object among all objects."""
        # The last page may hold the orphans too.
        if self.number == self.paginator.num_pages:
            return self.paginator.count
        return self.number * self.paginator.per_page


class AsyncPage(BasePage[_T]):
    """One page of an :class:`AsyncPaginator`, with ``a``-prefixed navigation.

    ``async for obj in page`` reads the objects (one query for a QuerySet);
    ``await page.aget_object_list()`` loads them as a list, after which
    ``len(page)``, ``page[i]`` and ``for obj in page`` work without awaiting.
    """

    paginator: AsyncPaginator[_T]

    def __repr__(self) -> str:
        # The page count needs an await, which __repr__ cannot do.
        return f"<Async Page {self.number}>"

    async def __aiter__(self) -> AsyncIterator[_T]:
        if hasattr(self.object_list, "__aiter__"):
            # A QuerySet: its async iteration runs the query off the event loop.
            async for obj in cast("AsyncIterable[_T]", self.object_list):
                yield obj
        else:
            for obj in self.object_list:
                yield obj

    async def aget_object_list(self) -> list[_T]:
        """Load the page's objects (one query for a QuerySet) and return them as a list."""
        if not isinstance(self.object_list, list):
            if hasattr(self.object_list, "__aiter__"):
                self.object_list = [
                    obj async for obj in cast("AsyncIterable[_T]", self.object_list)
                ]
            else:
                self.object_list = await to_async(list)(self.object_list)
        loaded: list[_T] = self.object_list
        return loaded

    def _loaded(self, operation: str) -> list[_T]:
        if isinstance(self.object_list, list):
            loaded: list[_T] = self.object_list
            return loaded
        raise TypeError(
            f"{operation} of an AsyncPage needs its objects loaded first: "
            f"`await page.aget_object_list()`, or read them with `async for obj in page`."
        )

    def __len__(self) -> int:
        return len(self._loaded("len()"))

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | list[_T]:
        self._check_index(index)
        return self._loaded("Indexing")[index]

    def __iter__(self) -> Iterator[_T]:
        return iter(self._loaded("Iterating (use `async for`)"))

    async def ahas_next(self) -> bool:
        """Whether a page follows this one."""
        return self.number < await self.paginator.anum_pages()

    async def ahas_previous(self) -> bool:
        """Whether a page precedes this one."""
        return self.number > 1

    async def ahas_other_pages(self) -> bool:
        """Whether there is a previous or a next page."""
        return await self.ahas_previous() or await self.ahas_next()

    async def anext_page_number(self) -> int:
        """The next page's number; ``EmptyPage`` on the last page."""
        return await self.paginator.avalidate_number(self.number + 1)

    async def aprevious_page_number(self) -> int:
        """The previous page's number; ``EmptyPage`` on the first page."""
        return await self.paginator.avalidate_number(self.number - 1)

    async def astart_index(self) -> int:
        """The 1-based position of this page's first object among all objects (0 if none)."""
        if await self.paginator.acount() == 0:
            return 0
        return self.paginator.per_page * (self.number - 1) + 1

    async def aend_index(self) -> int:
        """The 1-based position of this page's last object among all objects."""
        if self.number == await self.paginator.anum_pages():
            return await self.paginator.acount()
        return self.number * self.paginator.per_page
