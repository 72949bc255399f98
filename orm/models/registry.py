"""The model registry: models by ``app_label.ModelName``, and lazy string references.

A relation to ``"Tag"`` (or ``"app.Tag"``) is resolved when that model is
defined; until then the work waits in ``_pending``.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_models: dict[tuple[str, str], Any] = {}
_pending: dict[tuple[str, str], list[Callable[[Any], None]]] = defaultdict(list)
# Model classes are usually defined at import time, but imports can race in
# threads; keep registration and the pending queue consistent.
_lock = threading.RLock()


def register(model: Any) -> None:
    """Record a model and run the operations that were waiting for it."""
    key = (model._meta.app_label, model._meta.model_name)
    with _lock:
        existing = _models.get(key)
        if existing is not None and existing.__module__ != model.__module__:
            raise RuntimeError(
                f"Conflicting '{model._meta.model_name}' models in application "
                f"'{model._meta.app_label}': {existing.__module__} and {model.__module__}. "
                "Give one of them another name or Meta.app_label."
            )
        _models[key] = model
        waiting = _pending.pop(key, [])
    for operation in waiting:
        operation(model)


def resolve_reference(reference: Any, app_label: str) -> tuple[str, str]:
    """``"Tag"`` / ``"app.Tag"`` -> (app_label, model_name)."""
    if "." in reference:
        label, name = reference.split(".", 1)
    else:
        label, name = app_label, reference
    return label, name.lower()


def lazy_model_operation(reference: Any, app_label: str, operation: Callable[[Any], None]) -> None:
    """Run ``operation(model)`` now if ``reference`` is defined, else once it is."""
    if not isinstance(reference, str):
        operation(reference)
        return
    key = resolve_reference(reference, app_label)
    with _lock:
        model = _models.get(key)
        if model is None:
            _pending[key].append(operation)
            return
    operation(model)


def get_model(label: str, model_name: str | None = None) -> Any:
    """Look a model up by ``"app.Model"`` or (app_label, model_name)."""
    if model_name is None:
        label, model_name = label.split(".", 1)
    try:
        return _models[(label, model_name.lower())]
    except KeyError:
        raise LookupError(f"No model {label}.{model_name} is defined.") from None


def get_models(app_label: str | None = None) -> list[Any]:
    """Every registered model (of one app when given)."""
    return [m for (label, _), m in _models.items() if app_label is None or label == app_label]


def pending_references() -> list[str]:
    """``app.model`` references still waiting for their model (for error messages)."""
    return [f"{label}.{name}" for (label, name) in _pending]
