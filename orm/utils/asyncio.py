"""The async skin's two primitives: the thread-sensitive hop and the guard.

Every ``a*`` twin in `orm` is one line through :func:`to_async`; every sync
entry point that may touch the database first calls :func:`check_async_unsafe`
so a blocking call on the event loop's thread fails loudly instead of
freezing every other task.
"""

from __future__ import annotations

import asyncio
import functools
import os
import types
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import SyncToAsync, async_to_sync, sync_to_async

from orm.exceptions import SynchronousOnlyOperation

P = ParamSpec("P")
R = TypeVar("R")

ALLOW_ENV = "ORM_ALLOW_ASYNC_UNSAFE"

__all__ = [
    "async_to_sync",
    "async_unsafe",
    "call_boundary",
    "check_async_unsafe",
    "running_loop",
    "sync_to_async",
    "to_async",
]

# The frame of this asgiref function marks where a sync_to_async call entered
# its thread; see call_boundary().
_THREAD_HANDLER = SyncToAsync.thread_handler.__code__


@functools.lru_cache(maxsize=1024)
def _bridge(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    # One SyncToAsync per plain function, reused by every call (building one
    # costs ~5 us, a noticeable share of a point query).
    return sync_to_async(fn, thread_sensitive=True)


def to_async(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Return an awaitable version of ``fn`` that runs on the context's sync thread.

    Thread-sensitive mode is the point: every call of one context (the whole
    process outside ``connection_scope()``) lands on the same thread, which
    owns that thread's connections, so a twin and a caller's own
    ``sync_to_async(fn)`` share one connection and one transaction.
    """
    func = getattr(fn, "__func__", None)
    if func is not None and isinstance(fn, types.MethodType):
        return functools.partial(_bridge(func), fn.__self__)
    try:
        return _bridge(fn)
    except TypeError:  # unhashable callable
        return sync_to_async(fn, thread_sensitive=True)


def call_boundary(frame: Any) -> Any:
    """The frame where the current ``sync_to_async`` call entered this thread, or None.

    A transaction opened inside one such call must only see queries from that
    call (or calls nested inside it, whose stacks still contain its frame).
    The popular "async atomic" recipe enters the block in one call and runs
    queries in later ones, silently mixing in other tasks' writes.
    """
    while frame is not None:
        if frame.f_code is _THREAD_HANDLER:
            return frame
        frame = frame.f_back
    return None


#: The running event loop of this thread, or None (asyncio's low-level getter,
#: which returns None instead of raising). The hottest paths (every cursor and
#: statement) test ``running_loop() is not None`` themselves and call
#: :func:`check_async_unsafe` only then: one C call instead of two Python ones.
running_loop = asyncio._get_running_loop


def in_event_loop_thread() -> bool:
    """True when the calling thread is running an asyncio event loop."""
    # The low-level getter returns None instead of raising: every sync database
    # call asks this on its own thread (no loop), where raising and catching
    # RuntimeError cost more than the rest of the check.
    return asyncio._get_running_loop() is not None


def check_async_unsafe(call: str, twin: str | None = None) -> None:
    """Raise ``SynchronousOnlyOperation`` when called on an event loop's thread.

    ``call`` names the sync call (``"QuerySet.count()"``) and ``twin`` its
    awaitable replacement (``"acount()"``). Setting ``ORM_ALLOW_ASYNC_UNSAFE``
    turns the guard off (for notebooks and REPLs that run a loop).
    """
    if not in_event_loop_thread() or os.environ.get(ALLOW_ENV):
        return
    if twin is None:
        fix = "Wrap"
    elif twin.startswith("`"):
        fix = f"Use {twin} or wrap"
    else:
        fix = f"Use `await ...{twin}` or wrap"
    raise SynchronousOnlyOperation(
        f"`{call}` cannot run in async code: it would block the event loop. "
        f"{fix} the calling function in `orm.sync_to_async` "
        f"(set {ALLOW_ENV}=1 to disable this check)."
    )


def async_unsafe(call: str, twin: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a sync method that touches the database with the async guard."""

    def decorator(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            check_async_unsafe(call, twin)
            return fn(*args, **kwargs)

        return inner

    return decorator
