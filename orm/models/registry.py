"""Model registries: ``Apps`` holds models by (app_label, model_name) and lazy references.

Every model class belongs to exactly one registry, chosen by ``Meta.apps``
(default: the global :data:`apps`). A relation to ``"Tag"`` (or
``"app.Tag"``) is resolved in the registry of the model that declares it,
when that model is defined; until then the work waits in the registry's
pending operations. A second registry can therefore hold historical copies
of models (same app label, same name) beside the real ones, which is what
migrations render their states into.

The module-level functions (``register``, ``get_model``, ``get_models``,
``lazy_model_operation``, ``pending_references``) act on the global registry.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orm.models.base import Model

ModelKey = tuple[str, str]


def resolve_reference(reference: str, app_label: str) -> ModelKey:
    """``"Tag"`` / ``"app.Tag"`` -> (app_label, model_name), the name lower-cased."""
    if "." in reference:
        label, name = reference.split(".", 1)
    else:
        label, name = app_label, reference
    return label, name.lower()


class Apps:
    """A registry of model classes, looked up by ``(app_label, model_name)``.

    ``check_conflicts`` refuses a second model of the same app label and name
    from another module (the global registry does: two modules defining
    ``shop.Book`` is a mistake). A registry of historical models, which
    re-renders models under one pseudo-module, may turn it off.
    """

    def __init__(self, check_conflicts: bool = True) -> None:
        #: app_label -> {model_name: model class}, in registration order.
        self.all_models: defaultdict[str, dict[str, Any]] = defaultdict(dict)
        self.check_conflicts = check_conflicts
        self._pending_operations: defaultdict[ModelKey, list[Callable[[Any], None]]] = defaultdict(
            list
        )
        # Model classes are usually defined at import time, but imports can
        # race in threads; keep registration and the pending queue consistent.
        # Re-entrant: an operation run on registration may define a model
        # (an automatic many-to-many join model) in the same registry.
        self._lock = threading.RLock()

    # -- registration ----------------------------------------------------------------
    def register_model(self, app_label: str, model: type[Model]) -> None:
        """Record ``model`` under ``app_label`` and run the operations waiting for it.

        Raises ``RuntimeError`` when ``check_conflicts`` is on and another
        module already registered a model of the same name in ``app_label``.
        Registering again from the same module (a reloaded module, a class
        redefined in a test) replaces the earlier class.
        """
        model_name = model._meta.model_name
        with self._lock:
            existing = self.all_models[app_label].get(model_name)
            if (
                self.check_conflicts
                and existing is not None
                and existing.__module__ != model.__module__
            ):
                raise RuntimeError(
                    f"Conflicting '{model_name}' models in application '{app_label}': "
                    f"{existing.__module__} and {model.__module__}. "
                    "Give one of them another name or Meta.app_label."
                )
            self.all_models[app_label][model_name] = model
        # No clear_cache(): nothing _meta caches depends on other models;
        # reverse relations are added to their targets as they resolve.
        self.do_pending_operations(model)

    def unregister_model(self, app_label: str, model_name: str) -> Any:
        """Remove a model (to render a new version of it) and return it.

        Its automatic many-to-many join models go with it, and the reverse
        relations they installed on other models of this registry too, so
        nothing left here points back at the removed classes. Raises
        ``LookupError`` when no such model is registered.
        """
        with self._lock:
            try:
                model = self.all_models[app_label].pop(model_name.lower())
            except KeyError:
                raise LookupError(f"No model {app_label}.{model_name} is registered.") from None
            removed = [model]
            for field in model._meta.local_many_to_many:
                through = field.remote_field.through
                if isinstance(through, str) or not through._meta.auto_created:
                    continue
                through_meta = through._meta
                if self.all_models[through_meta.app_label].get(through_meta.model_name) is through:
                    removed.append(
                        self.all_models[through_meta.app_label].pop(through_meta.model_name)
                    )
            others = [m for models in self.all_models.values() for m in models.values()]
        for other in others:
            for gone in removed:
                other._meta.forget_relations_from(gone)
        return model

    # -- lookups ---------------------------------------------------------------------
    def get_model(self, app_label: str, model_name: str | None = None) -> Any:
        """The model ``"app.Model"`` or (app_label, model_name); ``LookupError`` if absent.

        The model name is case-insensitive, as in Django.
        """
        if model_name is None:
            if "." not in app_label:
                raise ValueError(f"Use 'app_label.ModelName', not {app_label!r}.")
            app_label, model_name = app_label.split(".", 1)
        try:
            return self.all_models[app_label][model_name.lower()]
        except KeyError:
            raise LookupError(f"No model {app_label}.{model_name} is defined.") from None

    def get_models(
        self, app_label: str | None = None, include_auto_created: bool = False
    ) -> list[Any]:
        """Registered models (of one app when given), in registration order.

        Automatic many-to-many join models are left out unless
        ``include_auto_created`` is set, as in Django.
        """
        with self._lock:
            labels = [app_label] if app_label is not None else list(self.all_models)
            models = [m for label in labels for m in self.all_models.get(label, {}).values()]
        return [m for m in models if include_auto_created or not m._meta.auto_created]

    def reference_key(self, reference: str | type[Model], app_label: str) -> ModelKey:
        """The key of a relation target: a model class, ``"Model"`` or ``"app.Model"``."""
        if isinstance(reference, str):
            return resolve_reference(reference, app_label)
        return reference._meta.app_label, reference._meta.model_name

    # -- lazy references -------------------------------------------------------------
    def lazy_model_operation(self, function: Callable[..., None], *model_keys: ModelKey) -> None:
        """Call ``function(*models)`` once every ``(app_label, model_name)`` is registered.

        Runs at once when they all are; otherwise the call waits in this
        registry until the last of them is registered.
        """
        if not model_keys:
            function()
            return
        first, *rest = model_keys

        def apply_next(model: type[Model]) -> None:
            self.lazy_model_operation(partial(function, model), *rest)

        key = (first[0], first[1].lower())
        with self._lock:
            model = self.all_models.get(key[0], {}).get(key[1])
            if model is None:
                self._pending_operations[key].append(apply_next)
                return
        apply_next(model)

    def do_pending_operations(self, model: type[Model]) -> None:
        """Run (and forget) the operations that waited for ``model``."""
        key = (model._meta.app_label, model._meta.model_name)
        with self._lock:
            waiting = self._pending_operations.pop(key, [])
        for operation in waiting:
            operation(model)

    def pending_references(self) -> list[str]:
        """``app.model`` references still waiting for their model (for error messages)."""
        with self._lock:
            return [
                f"{label}.{name}" for (label, name), ops in self._pending_operations.items() if ops
            ]

    def clear_cache(self) -> None:
        """Forget what ``_meta`` of every registered model derived and cached."""
        with self._lock:
            models = [m for models in self.all_models.values() for m in models.values()]
        for model in models:
            model._meta.expire_cache()

    def __repr__(self) -> str:
        count = sum(len(models) for models in self.all_models.values())
        return f"<{type(self).__name__}: {count} models>"


#: The global registry: every model without ``Meta.apps`` is registered here.
apps = Apps()


def register(model: type[Model]) -> None:
    """Record a model in the global registry (see :meth:`Apps.register_model`)."""
    apps.register_model(model._meta.app_label, model)


def lazy_model_operation(
    reference: str | type[Model], app_label: str, operation: Callable[[Any], None]
) -> None:
    """Run ``operation(model)`` now if ``reference`` is a class or a defined model, else once it is.

    ``reference`` is a model class (used as it is) or ``"Model"`` /
    ``"app.Model"`` looked up in the global registry.
    """
    if not isinstance(reference, str):
        operation(reference)
        return
    apps.lazy_model_operation(operation, resolve_reference(reference, app_label))


def get_model(label: str, model_name: str | None = None) -> Any:
    """Look a model of the global registry up by ``"app.Model"`` or (app_label, model_name)."""
    return apps.get_model(label, model_name)


def get_models(app_label: str | None = None) -> list[Any]:
    """Every model of the global registry (of one app when given), join models included."""
    return apps.get_models(app_label, include_auto_created=True)


def pending_references() -> list[str]:
    """References of the global registry still waiting for their model."""
    return apps.pending_references()
