"""Historical model classes rendered from a migration state, re-rendered incrementally.

Django re-renders, after each operation, the changed model and every model
related to it (recursively when a relation changed), and expires the caches
of all models; projects with hundreds of models pay seconds per operation.
Here a change re-renders a bounded set and relinks the rest:

- the **changed** models (new classes from their ``ModelState``);
- their **direct neighbours** (models they point at, before or after the
  change, and models pointing at them): new classes too, so every class an
  operation reads from the *previous* state (``from_state.apps``) is left
  exactly as it was, its fields, targets and reverse relations included;
- every other model is shared with the previous registry. Those next to a
  re-rendered model are **relinked**: their relations are pointed at the new
  class (``orm.models.base.relink_relation``) and the reverse relations of
  the replaced classes are removed from them. No class is rendered for them.

So the cost of a change depends on the changed models and their neighbours,
not on the number of models in the project.

Registries made by :meth:`StateApps.fork` share classes. Relinking changes
shared classes, so only one registry of a family may do it: each re-render
bumps a counter the family shares, and a registry that is no longer the
latest renders from scratch when it must change. Until then it can still be
read: its changed models and their neighbours are exact, and only relations
of models two steps away from a change may already point at newer classes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from orm.migrations.exceptions import InvalidStateError
from orm.migrations.references import ModelKey, resolve_relation
from orm.models.base import relink_relation
from orm.models.registry import Apps

if TYPE_CHECKING:
    from orm.migrations.state import ModelState


def _key(model: Any) -> ModelKey:
    return model._meta.app_label, model._meta.model_name


def _relation_fields(model: Any) -> list[Any]:
    meta = model._meta
    return [f for f in (*meta.local_fields, *meta.local_many_to_many) if f.remote_field is not None]


def _targets(model: Any) -> set[Any]:
    """Model classes the relations of ``model`` point at (targets and join models)."""
    found: set[Any] = set()
    for field in _relation_fields(model):
        rel = field.remote_field
        for target in (rel.model, getattr(rel, "through", None)):
            if target is not None and not isinstance(target, str):
                found.add(target)
    return found


def _neighbours(model: Any) -> set[ModelKey]:
    """Keys of the models ``model`` points at and of those pointing at it (join models
    stand for the model that declares the many-to-many field)."""
    keys = {_key(target) for target in _targets(model) if not target._meta.auto_created}
    for rel in model._meta.related_objects:
        source = rel.field.model
        if not source._meta.auto_created:
            keys.add(_key(source))
    return keys


def _auto_throughs(model: Any) -> list[Any]:
    throughs = []
    for field in model._meta.local_many_to_many:
        through = field.remote_field.through
        if through is not None and not isinstance(through, str) and through._meta.auto_created:
            throughs.append(through)
    return throughs


def check_references(states: Mapping[ModelKey, ModelState], keys: Collection[ModelKey]) -> None:
    """Refuse a relation of the models ``keys`` to a model ``states`` does not have."""
    for key in keys:
        state = states[key]
        for name, field in state.fields.items():
            rel = getattr(field, "remote_field", None)
            if rel is None:
                continue
            for role, target in (("to", rel.model), ("through", getattr(rel, "through", None))):
                if target is None:
                    continue
                target_key = resolve_relation(target, *key)
                if target_key not in states:
                    raise InvalidStateError(
                        f"Field {state.app_label}.{state.name}.{name} refers to model "
                        f"'{target_key[0]}.{target_key[1]}' ({role}=), which is not in the migration "
                        "state. Create that model first: add the migration that creates it to "
                        "`dependencies`, or move the operation after its CreateModel."
                    )


def _families(states: Mapping[ModelKey, ModelState]) -> set[ModelKey]:
    """Keys of the models that inherit from a model of ``states`` (children, proxies) and of their parents."""
    found: set[ModelKey] = set()
    for key, state in states.items():
        parents = state.parent_keys()
        if parents:
            found.add(key)
            found.update(parents)
    return found


def _parents_first(states: Mapping[ModelKey, ModelState]) -> list[ModelState]:
    """``states`` ordered so a concrete parent renders before the models inheriting from it."""
    ordered: list[ModelState] = []
    done: set[ModelKey] = set()

    def visit(key: ModelKey, path: tuple[ModelKey, ...]) -> None:
        if key in done or key not in states:
            return
        if key in path:
            raise InvalidStateError(f"Model {key[0]}.{key[1]} inherits from itself through its bases.")
        for parent in states[key].parent_keys():
            visit(parent, (*path, key))
        done.add(key)
        ordered.append(states[key])

    for key in states:
        visit(key, ())
    return ordered


class StateApps(Apps):
    """A registry of historical models rendered from a state (see the module docstring)."""

    def __init__(self) -> None:
        # Historical models of one state are rendered under one pseudo-module,
        # and a model is re-rendered in place of its previous class.
        super().__init__(check_conflicts=False)
        self._lineage: list[int] = [0]
        self._version = 0

    @classmethod
    def render(cls, states: Mapping[ModelKey, ModelState]) -> StateApps:
        """A new registry with a class for every model of ``states``."""
        check_references(states, states.keys())
        apps = cls()
        for state in _parents_first(states):
            state.render(apps)
        apps._check_pending()
        return apps

    def fork(self) -> StateApps:
        """A registry with the same classes, to be changed independently (see the module docstring)."""
        fork = StateApps()
        fork.all_models = defaultdict(dict, {label: dict(models) for label, models in self.all_models.items()})
        fork._lineage, fork._version = self._lineage, self._version
        return fork

    @property
    def is_latest(self) -> bool:
        """False once a registry sharing these classes has re-rendered after this one."""
        return self._version == self._lineage[0]

    def rerender(self, states: Mapping[ModelKey, ModelState], changed: Collection[ModelKey]) -> StateApps:
        """Bring the registry up to date with ``states`` after the models ``changed`` changed.

        Returns this registry, or a new one rendered from scratch when this one
        is no longer the latest of its family.
        """
        if not self.is_latest:
            return StateApps.render(states)
        closure = self._closure(states, changed)
        if closure & _families(states):
            # A child or proxy model is a subclass of its parent's class:
            # re-rendering part of such a family would leave stale subclasses.
            return StateApps.render(states)
        check_references(states, [key for key in closure if key in states])
        # From here on, shared classes change: every other registry of the
        # family must render from scratch if it is changed later.
        self._lineage[0] += 1
        self._version = self._lineage[0]
        olds = {key: model for key in closure if (model := self._registered(key)) is not None}
        old_classes = set(olds.values())
        for model in olds.values():
            old_classes.update(_auto_throughs(model))
        for model in old_classes:
            self.all_models[model._meta.app_label].pop(model._meta.model_name, None)
        relink_throughs = self._strip_outside(old_classes)
        news = {key: states[key].render(self) for key in closure if key in states}
        self._relink_outside(olds, old_classes, news, relink_throughs)
        self._check_pending()
        return self

    # -- helpers -----------------------------------------------------------------
    def _registered(self, key: ModelKey) -> Any:
        return self.all_models.get(key[0], {}).get(key[1])

    def _closure(self, states: Mapping[ModelKey, ModelState], changed: Collection[ModelKey]) -> set[ModelKey]:
        """The changed models and their direct neighbours, before and after the change."""
        closure = set(changed)
        for key in changed:
            old = self._registered(key)
            if old is not None:
                closure |= _neighbours(old)
            state = states.get(key)
            if state is not None:
                closure |= state.relation_keys() & states.keys()
        return closure

    @staticmethod
    def _strip_outside(old_classes: set[Any]) -> list[tuple[Any, Any]]:
        """Remove the reverse relations of the replaced classes from the models that
        stay; return the many-to-many fields of those models whose join model is
        being replaced, with that old join model."""
        relink_throughs: list[tuple[Any, Any]] = []
        for old in old_classes:
            for target in _targets(old) - old_classes:
                target._meta.forget_relations_from(old)
                for field in target._meta.local_many_to_many:
                    if field.remote_field.through is old:
                        relink_throughs.append((field, old))
        return relink_throughs

    @staticmethod
    def _relink_outside(
        olds: dict[ModelKey, Any], old_classes: set[Any], news: dict[ModelKey, Any],
        relink_throughs: list[tuple[Any, Any]],
    ) -> None:
        """Point the relations of the models that stay at the new classes."""
        for key, old in olds.items():
            for rel in list(old._meta.related_objects):
                if rel.field.model in old_classes:
                    continue
                new = news.get(key)
                if new is None:
                    raise InvalidStateError(
                        f"Field {rel.field} still refers to model {key[0]}.{key[1]}, which was "
                        "removed from the migration state. Remove or alter that field first."
                    )
                relink_relation(rel, new)
        for field, old_through in relink_throughs:
            new_through = news.get(_key(old_through))
            if new_through is None:
                raise InvalidStateError(
                    f"Field {field} uses join model {old_through._meta.label}, which was removed "
                    "from the migration state. Remove or alter that field first."
                )
            field.remote_field.through = new_through

    def _check_pending(self) -> None:
        pending = self.pending_references()
        if pending:
            raise InvalidStateError(
                "Models of the migration state refer to models it does not have: "
                f"{', '.join(sorted(pending))}."
            )
