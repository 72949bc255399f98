"""The model signals, as Django's ``django.db.models.signals``.

Each is a :class:`ModelSignal` (a :class:`~orm.dispatch.Signal` that caches
receivers per sender and accepts a lazy ``"app_label.ModelName"`` sender).
Where each one is sent, with which arguments, and on which thread its
receivers run is described in docs/models.md, "Signals".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, TypeVar

from orm.dispatch import Signal, receiver

_T = TypeVar("_T")

__all__ = [
    "ModelSignal",
    "Signal",
    "class_prepared",
    "m2m_changed",
    "post_delete",
    "post_init",
    "post_save",
    "pre_delete",
    "pre_init",
    "pre_save",
    "receiver",
]


class ModelSignal(Signal):
    """A signal whose sender may be given lazily as ``"app_label.ModelName"``.

    A string sender is resolved in ``apps`` (the global model registry by
    default); a receiver for a model not defined yet is connected as soon as
    the model is.
    """

    #: The registry string senders are looked up in; orm.models sets it to the
    #: global registry when it is imported (this module sits below it).
    default_apps: Any = None

    def _lazy(
        self, method: Callable[..., _T], apps: Any, receiver: Any, sender: Any, **kwargs: Any
    ) -> _T | None:
        bound = partial(method, receiver, **kwargs)
        if not isinstance(sender, str):
            return bound(sender)
        registry = apps if apps is not None else self.default_apps
        if registry is None or "." not in sender:
            raise ValueError(
                f"A lazy signal sender must be 'app_label.ModelName', got {sender!r}; "
                "or pass the model class itself."
            )
        label, name = sender.split(".", 1)
        registry.lazy_model_operation(bound, (label, name.lower()))
        return None

    def connect(
        self,
        receiver: Callable[..., Any],
        sender: Any = None,
        weak: bool = True,
        dispatch_uid: Hashable | None = None,
        apps: Any = None,
    ) -> None:
        """Connect ``receiver``; ``sender`` may be a model class or ``"app_label.ModelName"``."""
        self._lazy(super().connect, apps, receiver, sender, weak=weak, dispatch_uid=dispatch_uid)

    # Wider than Signal.disconnect's bool, as in Django: with a lazy sender nothing is
    # disconnected yet, and the answer is None (tests/integration/test_signals.py).
    def disconnect(  # type: ignore[override]
        self,
        receiver: Callable[..., Any] | None = None,
        sender: Any = None,
        dispatch_uid: Hashable | None = None,
        apps: Any = None,
    ) -> bool | None:
        """Disconnect ``receiver``; returns True if it was connected (None for a lazy sender)."""
        return self._lazy(super().disconnect, apps, receiver, sender, dispatch_uid=dispatch_uid)


#: Sent by ``Model.__init__`` (and for each row loaded, while it has receivers)
#: before the fields are set: ``sender`` (the model), ``args``, ``kwargs``.
pre_init = ModelSignal(use_caching=True)
#: Sent at the end of ``Model.__init__`` (and for each row loaded): ``sender``, ``instance``.
post_init = ModelSignal(use_caching=True)
#: Sent by ``save()`` before writing: ``sender``, ``instance``, ``raw``, ``using``, ``update_fields``.
pre_save = ModelSignal(use_caching=True)
#: Sent by ``save()`` after writing: the ``pre_save`` arguments plus ``created``.
post_save = ModelSignal(use_caching=True)
#: Sent for each object a deletion removes, before any row goes: ``sender``,
#: ``instance``, ``using``, ``origin`` (the model instance or QuerySet deleted).
pre_delete = ModelSignal(use_caching=True)
#: Sent for each deleted object after its rows went, inside the deletion's transaction.
post_delete = ModelSignal(use_caching=True)
#: Sent by many-to-many managers (``sender`` is the through model): ``instance``,
#: ``action`` (``pre_add``/``post_add``/``pre_remove``/``post_remove``/
#: ``pre_clear``/``post_clear``), ``reverse``, ``model``, ``pk_set``, ``using``.
m2m_changed = ModelSignal(use_caching=True)
#: Sent once a model class is fully built and registered: ``sender`` (the class).
class_prepared = Signal()
