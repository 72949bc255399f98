"""``Signal``: connect receivers (sync or ``async def``) to senders, then send.

Semantics follow Django 5.x's ``django.dispatch.Signal``: receivers are keyed
by ``(id(receiver) or dispatch_uid, id(sender))``; weak references by default
(a bound method through ``WeakMethod``); ``send``/``send_robust`` call sync
receivers in the calling thread and run async ones together through one
``async_to_sync`` call; ``asend``/``asend_robust`` run the sync ones in one
``sync_to_async`` call while the async ones are awaited concurrently.

Sending to no receiver costs one attribute test (``if not self.receivers``)
plus, with ``use_caching``, one dictionary lookup: model signals are sent on
every save and delete, and must not slow them when nobody listens.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async

logger = logging.getLogger("orm.dispatch")

_Key = tuple[Hashable, Hashable]
_Entry = tuple[_Key, Any, bool]
Responses = list[tuple[Callable[..., Any], Any]]

#: A receiver function, kept as its own type by ``@receiver`` (which returns it unchanged).
_Receiver = TypeVar("_Receiver", bound=Callable[..., Any])

# Cached for a sender with no live receiver, so the next send returns at once.
NO_RECEIVERS: Any = object()


def _make_id(target: Any) -> Hashable:
    # A bound method is a new object at each attribute access: key it by its
    # instance and function instead, so connect/disconnect of `obj.method` match.
    if hasattr(target, "__func__") and hasattr(target, "__self__"):
        return (id(target.__self__), id(target.__func__))
    return id(target)


NONE_ID = _make_id(None)


class _SenderCache(weakref.WeakKeyDictionary):  # type: ignore[type-arg]
    """Receivers per sender, forgotten with the sender; a sender without weak references is not cached."""

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return super().get(key, default)
        except TypeError:  # None, an int, ...: cannot be weakly referenced
            return default

    def __setitem__(self, key: Any, value: Any) -> None:
        try:
            super().__setitem__(key, value)
        except TypeError:
            pass


def _accepts_kwargs(func: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return True  # a builtin or C callable: nothing to check
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())


class Signal:
    """A hook that receivers connect to and that code sends to (Django's ``Signal``).

    ``use_caching=True`` remembers, per sender, which receivers apply until the
    next connect/disconnect; the sender must then be weak-referenceable (model
    classes are), since the cache is a ``WeakKeyDictionary``.
    """

    def __init__(self, use_caching: bool = False) -> None:
        self.receivers: list[_Entry] = []
        # Guards ``receivers`` and the cache: connect/disconnect may run in any
        # thread while another thread sends.
        self.lock = threading.Lock()
        self.use_caching = use_caching
        self.sender_receivers_cache: Any = _SenderCache() if use_caching else {}
        self._dead_receivers = False

    # -- connecting ------------------------------------------------------------------
    def connect(
        self,
        receiver: Callable[..., Any],
        sender: Any = None,
        weak: bool = True,
        dispatch_uid: Hashable | None = None,
    ) -> None:
        """Connect ``receiver`` (a callable taking ``sender`` and ``**kwargs``, sync or async).

        ``sender=None`` receives from every sender. With ``weak=True`` (the
        default) only a weak reference is kept: the receiver disappears with
        its last strong reference (define it at module level, or pass
        ``weak=False``). A second connect with the same key (receiver and
        sender, or ``dispatch_uid`` and sender) is ignored.
        """
        if not callable(receiver):
            raise TypeError(f"Signal receivers must be callable; got {receiver!r}.")
        if not _accepts_kwargs(receiver):
            raise ValueError(
                f"Signal receivers must accept keyword arguments (**kwargs); "
                f"{getattr(receiver, '__qualname__', receiver)!r} does not. "
                "Add **kwargs to its parameters."
            )
        if dispatch_uid:
            lookup_key: _Key = (dispatch_uid, _make_id(sender))
        else:
            lookup_key = (_make_id(receiver), _make_id(sender))
        is_async = iscoroutinefunction(receiver)
        stored: Any = receiver
        if weak:
            target: Any = receiver
            make_ref: Any = weakref.ref
            if hasattr(receiver, "__self__") and hasattr(receiver, "__func__"):
                make_ref = weakref.WeakMethod
                target = receiver.__self__
            stored = make_ref(receiver)
            # Only flag dead entries here: the finalizer runs during garbage
            # collection, possibly while this thread already holds self.lock.
            weakref.finalize(target, self._remove_receiver)
        with self.lock:
            self._clear_dead_receivers()
            if not any(key == lookup_key for key, _, _ in self.receivers):
                self.receivers.append((lookup_key, stored, is_async))
            self.sender_receivers_cache.clear()

    def disconnect(
        self,
        receiver: Callable[..., Any] | None = None,
        sender: Any = None,
        dispatch_uid: Hashable | None = None,
    ) -> bool:
        """Disconnect a receiver (or the one connected with ``dispatch_uid``); True if one was."""
        if dispatch_uid:
            lookup_key: _Key = (dispatch_uid, _make_id(sender))
        else:
            lookup_key = (_make_id(receiver), _make_id(sender))
        disconnected = False
        with self.lock:
            self._clear_dead_receivers()
            for index, (key, _, _) in enumerate(self.receivers):
                if key == lookup_key:
                    del self.receivers[index]
                    disconnected = True
                    break
            self.sender_receivers_cache.clear()
        return disconnected

    def has_listeners(self, sender: Any = None) -> bool:
        """Whether any live receiver would get a signal sent by ``sender``."""
        if not self.receivers:
            return False
        sync_receivers, async_receivers = self._live_receivers(sender)
        return bool(sync_receivers or async_receivers)

    # -- sending ---------------------------------------------------------------------
    def send(self, sender: Any, **named: Any) -> Responses:
        """Call every receiver; an exception stops the dispatch and propagates.

        Sync receivers run in the calling thread, in connection order. Async
        receivers then run together (``asyncio.gather``) through one
        ``async_to_sync`` call: from a thread that ``sync_to_async`` started,
        on the event loop that awaits it, while this thread waits. Returns
        ``[(receiver, response), ...]``.
        """
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        sync_receivers, async_receivers = self._live_receivers(sender)
        responses: Responses = []
        for receiver in sync_receivers:
            responses.append((receiver, receiver(signal=self, sender=sender, **named)))
        if async_receivers:

            async def gather() -> list[Any]:
                return list(
                    await asyncio.gather(
                        *(
                            receiver(signal=self, sender=sender, **named)
                            for receiver in async_receivers
                        )
                    )
                )

            responses.extend(zip(async_receivers, async_to_sync(gather)(), strict=True))
        return responses

    def send_robust(self, sender: Any, **named: Any) -> Responses:
        """Like :meth:`send`, but an ``Exception`` of a receiver becomes its response (and is logged)."""
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        sync_receivers, async_receivers = self._live_receivers(sender)
        responses: Responses = []
        for receiver in sync_receivers:
            try:
                response = receiver(signal=self, sender=sender, **named)
            except Exception as error:
                self._log_robust_failure(receiver, error)
                response = error
            responses.append((receiver, response))
        if async_receivers:

            async def gather() -> list[Any]:
                return list(
                    await asyncio.gather(
                        *(
                            self._robust_call(receiver, sender, named)
                            for receiver in async_receivers
                        )
                    )
                )

            responses.extend(zip(async_receivers, async_to_sync(gather)(), strict=True))
        return responses

    async def asend(self, sender: Any, **named: Any) -> Responses:
        """Async :meth:`send`: sync receivers in one ``sync_to_async`` call, async ones concurrently.

        The sync receivers run on the context's sync thread (thread-sensitive
        ``sync_to_async``, the thread `orm`'s own ``a*`` calls use), one after
        another; the async ones are awaited together alongside them.
        """
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        sync_receivers, async_receivers = self._live_receivers(sender)

        def sync_send() -> Responses:
            return [(r, r(signal=self, sender=sender, **named)) for r in sync_receivers]

        sync_part: Awaitable[Responses] = (
            sync_to_async(sync_send)() if sync_receivers else _nothing()
        )
        responses, async_responses = await asyncio.gather(
            sync_part,
            asyncio.gather(*(r(signal=self, sender=sender, **named) for r in async_receivers)),
        )
        responses.extend(zip(async_receivers, async_responses, strict=True))
        return responses

    async def asend_robust(self, sender: Any, **named: Any) -> Responses:
        """Async :meth:`send_robust`: errors of receivers are logged and returned, not raised."""
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        sync_receivers, async_receivers = self._live_receivers(sender)

        def sync_send() -> Responses:
            responses: Responses = []
            for receiver in sync_receivers:
                try:
                    response = receiver(signal=self, sender=sender, **named)
                except Exception as error:
                    self._log_robust_failure(receiver, error)
                    response = error
                responses.append((receiver, response))
            return responses

        sync_part: Awaitable[Responses] = (
            sync_to_async(sync_send)() if sync_receivers else _nothing()
        )
        responses, async_responses = await asyncio.gather(
            sync_part,
            asyncio.gather(*(self._robust_call(r, sender, named) for r in async_receivers)),
        )
        responses.extend(zip(async_receivers, async_responses, strict=True))
        return responses

    async def _robust_call(
        self, receiver: Callable[..., Any], sender: Any, named: dict[str, Any]
    ) -> Any:
        try:
            return await receiver(signal=self, sender=sender, **named)
        except Exception as error:
            self._log_robust_failure(receiver, error)
            return error

    def _log_robust_failure(self, receiver: Callable[..., Any], error: Exception) -> None:
        logger.error(
            "Error calling %s in Signal.send_robust() (%s)",
            getattr(receiver, "__qualname__", receiver),
            error,
            exc_info=error,
        )

    # -- receivers -------------------------------------------------------------------
    def _clear_dead_receivers(self) -> None:
        # The caller holds self.lock.
        if self._dead_receivers:
            self._dead_receivers = False
            self.receivers = [
                entry
                for entry in self.receivers
                if not (isinstance(entry[1], weakref.ReferenceType) and entry[1]() is None)
            ]

    def _live_receivers(self, sender: Any) -> tuple[list[Any], list[Any]]:
        """(sync receivers, async receivers) for ``sender``, weak references resolved."""
        receivers = None
        if self.use_caching and not self._dead_receivers:
            receivers = self.sender_receivers_cache.get(sender)
            if receivers is NO_RECEIVERS:
                return [], []
        if receivers is None:
            with self.lock:
                self._clear_dead_receivers()
                sender_key = _make_id(sender)
                receivers = [
                    (stored, is_async)
                    for (_, r_sender), stored, is_async in self.receivers
                    if r_sender == NONE_ID or r_sender == sender_key
                ]
                if self.use_caching:
                    # The weak references are cached, never the receivers themselves.
                    self.sender_receivers_cache[sender] = receivers or NO_RECEIVERS
        sync_receivers: list[Any] = []
        async_receivers: list[Any] = []
        for stored, is_async in receivers:
            receiver = stored() if isinstance(stored, weakref.ReferenceType) else stored
            if receiver is not None:
                (async_receivers if is_async else sync_receivers).append(receiver)
        return sync_receivers, async_receivers

    def _remove_receiver(self, receiver: Any = None) -> None:
        # Called by a weakref finalizer, maybe inside a locked section of this
        # very thread: only flag, the next locked operation cleans up.
        self._dead_receivers = True


async def _nothing() -> Responses:
    return []


def receiver(
    signal: Signal | list[Signal] | tuple[Signal, ...],
    **kwargs: Any,
) -> Callable[[_Receiver], _Receiver]:
    """Decorator connecting the function to ``signal`` (or each of a list of signals).

    ``@receiver(post_save, sender=Book)`` or ``@receiver([pre_save, post_save], sender=Book)``;
    keyword arguments go to :meth:`Signal.connect`. Returns the function unchanged.
    """

    def decorator(func: _Receiver) -> _Receiver:
        for each in signal if isinstance(signal, list | tuple) else (signal,):
            each.connect(func, **kwargs)
        return func

    return decorator
