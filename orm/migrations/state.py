"""Migration state: models as plain data (``ModelState``), a project of them (``ProjectState``).

A state is never read from the database: it is built by replaying
operations (each one's ``state_forwards``) or taken from model classes
(``ProjectState.from_apps``). Fields are kept as unbound clones whose
relations name their targets with strings, options as ``Meta`` would hold
them. ``state.apps`` renders historical model classes, lazily, into a
registry of their own (see ``orm.migrations.rendering``).

A ``ModelState`` that belongs to a state is treated as immutable: a change
copies it first (copy-on-write), so ``clone()`` of a project costs a
dictionary copy, and two states share every model neither has changed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from orm.exceptions import FieldError
from orm.fields import NOT_PROVIDED, deep_deconstruct
from orm.migrations.exceptions import InvalidStateError
from orm.migrations.references import ModelKey, get_references, relation_keys, resolve_relation
from orm.migrations.renaming import rename_field_in_options
from orm.migrations.rendering import StateApps
from orm.models import Model
from orm.models.manager import BaseManager, Manager

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.models.base import Model
    from orm.models.constraints import BaseConstraint, Index
    from orm.models.registry import Apps

__all__ = ["ModelState", "ProjectState"]

#: ``Meta`` options a state keeps (``app_label`` and ``apps`` are the renderer's).
STATE_OPTIONS = frozenset({
    "db_table", "ordering", "indexes", "constraints", "unique_together",
    "get_latest_by", "verbose_name", "verbose_name_plural", "proxy",
})


def normalize_together(value: Any) -> set[tuple[str, ...]]:
    """``unique_together`` as a set of name tuples (``("a", "b")`` means one group)."""
    if not value:
        return set()
    value = tuple(value)
    if all(isinstance(item, str) for item in value):
        return {value}
    return {tuple(group) for group in value}


def _normalize_options(options: dict[str, Any]) -> None:
    """``unique_together`` as a set, and left out when empty (as models leave it)."""
    if "unique_together" in options:
        options["unique_together"] = normalize_together(options["unique_together"])
        if not options["unique_together"]:
            del options["unique_together"]


def field_with(field: Field, **changes: Any) -> Any:
    """A new unbound field like ``field`` with some constructor arguments changed.

    A change to ``NOT_PROVIDED`` removes the argument (``default=NOT_PROVIDED``).
    """
    _, _, args, kwargs = field.deconstruct()
    for key, value in changes.items():
        if value is NOT_PROVIDED:
            kwargs.pop(key, None)
        else:
            kwargs[key] = value
    return type(field)(*args, **kwargs)


class ModelState:
    """One model as data: app label, name, fields, ``Meta`` options, bases, managers.

    ``fields`` maps names to unbound fields; a relation names its target as
    ``"app_label.model"`` (or ``"Model"``, ``"self"``), never as a class, so
    the state can be rendered into any registry. ``options`` holds the
    ``Meta`` options of :data:`STATE_OPTIONS` (``indexes`` and
    ``constraints`` always, as lists). ``managers`` is a list of
    ``(name, manager)``; empty means the default ``objects``.
    """

    def __init__(
        self, app_label: str, name: str, fields: Iterable[tuple[str, Any]] | Mapping[str, Any],
        options: Mapping[str, Any] | None = None, bases: Iterable[Any] | None = None,
        managers: Iterable[tuple[str, Any]] | None = None,
    ) -> None:
        self.app_label = app_label
        self.name = name
        self.fields: dict[str, Any] = dict(fields)
        self.options: dict[str, Any] = dict(options or {})
        self.options.setdefault("indexes", [])
        self.options.setdefault("constraints", [])
        _normalize_options(self.options)
        self.bases: tuple[Any, ...] = tuple(bases or (Model,))
        self.managers: list[tuple[str, Any]] = list(managers or [])
        self._check()

    def _check(self) -> None:
        label = f"{self.app_label}.{self.name}"
        unknown = set(self.options) - STATE_OPTIONS
        if unknown:
            raise InvalidStateError(
                f"Unknown option(s) {', '.join(sorted(unknown))} for model {label}; "
                f"a migration state keeps {', '.join(sorted(STATE_OPTIONS))}."
            )
        for name, field in self.fields.items():
            if getattr(field, "model", None) is not None:
                raise InvalidStateError(
                    f"Field {label}.{name} is bound to model {field.model.__name__}; "
                    "a migration state needs an unbound field (use field.clone())."
                )
            rel = getattr(field, "remote_field", None)
            if rel is None:
                continue
            for role, target in (("to", rel.model), ("through", getattr(rel, "through", None))):
                if target is not None and not isinstance(target, str):
                    raise InvalidStateError(
                        f"Field {label}.{name} refers to a model class through {role!r}; a migration "
                        f"state names models with strings: {role}={target._meta.label_lower!r}."
                    )
        for base in self.bases:
            if isinstance(base, str):
                if "." not in base:
                    raise InvalidStateError(
                        f"Model {label} has the base {base!r}: name a concrete parent model as "
                        "'app_label.modelname' (multi-table inheritance)."
                    )
            elif (isinstance(base, type) and issubclass(base, Model)
                    and base is not Model and not base._meta.abstract):
                raise InvalidStateError(
                    f"Model {label} has the base {base!r}: a migration state names a concrete parent "
                    f"model with a string, bases=({base._meta.label_lower!r},)."
                )
        seen = set()
        for manager_name, _ in self.managers:
            if manager_name in seen:
                raise InvalidStateError(f"Model {label} has two managers named {manager_name!r}.")
            seen.add(manager_name)

    @property
    def name_lower(self) -> str:
        """The model name, lower-cased (how states and registries key models)."""
        return self.name.lower()

    @property
    def key(self) -> ModelKey:
        """``(app_label, name_lower)``."""
        return self.app_label, self.name.lower()

    def get_field(self, name: str) -> Any:
        """The field called ``name``; ``FieldError`` listing the fields when there is none."""
        try:
            return self.fields[name]
        except KeyError:
            raise FieldError(
                f"{self.app_label}.{self.name} has no field named {name!r} in this migration state. "
                f"Its fields are: {', '.join(self.fields)}."
            ) from None

    def get_index_by_name(self, name: str) -> Any:
        """The index named ``name``; ``ValueError`` when there is none."""
        for index in self.options["indexes"]:
            if index.name == name:
                return index
        raise ValueError(f"No index named {name!r} on model {self.app_label}.{self.name}.")

    def get_constraint_by_name(self, name: str) -> Any:
        """The constraint named ``name``; ``ValueError`` when there is none."""
        for constraint in self.options["constraints"]:
            if constraint.name == name:
                return constraint
        raise ValueError(f"No constraint named {name!r} on model {self.app_label}.{self.name}.")

    def relation_keys(self) -> set[ModelKey]:
        """The models this model's fields point at (targets and join models)."""
        return relation_keys(self.key, self.fields.values()) | set(self.parent_keys())

    # -- building ----------------------------------------------------------------
    @classmethod
    def from_model(cls, model: type[Model]) -> ModelState:
        """The state of a model class: its own fields (cloned), options, bases and managers."""
        meta = model._meta
        options: dict[str, Any] = {}
        if meta.proxy:
            # As Django: no fields (they are the concrete model's), the proxied
            # model as the base, and Meta's own options only.
            fields: list[tuple[str, Any]] = []
            options["proxy"] = True
        else:
            fields = [(f.name, f.clone()) for f in [*meta.local_fields, *meta.local_many_to_many]]
            if meta.db_table != f"{meta.app_label}_{meta.model_name}":
                options["db_table"] = meta.db_table
        if meta.ordering and (not meta.proxy or "ordering" in meta.original_attrs):
            options["ordering"] = list(meta.ordering)
        if meta.unique_together:
            options["unique_together"] = normalize_together(meta.unique_together)
        if meta.get_latest_by is not None and (not meta.proxy or "get_latest_by" in meta.original_attrs):
            options["get_latest_by"] = meta.get_latest_by
        if "verbose_name" in meta.original_attrs:
            options["verbose_name"] = meta.verbose_name
        options["indexes"] = [index.clone() for index in meta.indexes]
        options["constraints"] = [constraint.clone() for constraint in meta.constraints]
        return cls(meta.app_label, meta.object_name, fields, options, _flat_bases(model), _managers(model))

    def clone(self) -> ModelState:
        """A copy whose dictionaries and lists may be changed; fields, indexes and
        constraints are shared (they are replaced, never changed in place)."""
        clone = ModelState.__new__(ModelState)
        clone.app_label = self.app_label
        clone.name = self.name
        clone.fields = dict(self.fields)
        clone.options = {k: (list(v) if isinstance(v, list) else v) for k, v in self.options.items()}
        clone.bases = self.bases
        clone.managers = list(self.managers)
        return clone

    def render(self, apps: Apps) -> Any:
        """Define the historical model class in registry ``apps`` and return it."""
        attrs: dict[str, Any] = {"app_label": self.app_label, "apps": apps}
        for key, value in self.options.items():
            if key in ("indexes", "constraints"):
                value = [item.clone() for item in value]
            elif key == "unique_together":
                value = tuple(sorted(value))
            attrs[key] = value
        body: dict[str, Any] = {name: field.clone() for name, field in self.fields.items()}
        body["Meta"] = type("Meta", (), attrs)
        body["__module__"] = "__fake__"
        for name, manager in self.managers:
            body[name] = _copy_manager(manager)
        return type(self.name, self.render_bases(apps), body)

    def parent_keys(self) -> list[ModelKey]:
        """The concrete parents this model inherits from (multi-table inheritance), as keys."""
        return [resolve_relation(base, self.app_label, self.name_lower) for base in self.bases
                if isinstance(base, str)]

    def render_bases(self, apps: Apps) -> tuple[Any, ...]:
        """The bases with each ``"app.model"`` string replaced by that historical model of ``apps``."""
        if not any(isinstance(base, str) for base in self.bases):
            return self.bases
        bases = []
        for base in self.bases:
            if isinstance(base, str):
                app_label, model_name = resolve_relation(base, self.app_label, self.name_lower)
                try:
                    base = apps.get_model(app_label, model_name)
                except LookupError:
                    raise InvalidStateError(
                        f"Model {self.app_label}.{self.name} inherits from '{app_label}.{model_name}', which "
                        "is not in the migration state. Create the parent model first."
                    ) from None
            bases.append(base)
        return tuple(bases)

    # -- comparison --------------------------------------------------------------
    def _signature(self) -> tuple[Any, ...]:
        fields = sorted((name, deep_deconstruct(field)) for name, field in self.fields.items())
        options = {k: v for k, v in self.options.items() if v or k not in ("indexes", "constraints")}
        managers = [(name, type(manager)) for name, manager in self.managers]
        return self.app_label, self.name, fields, deep_deconstruct(options), self.bases, managers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelState):
            return NotImplemented
        return self._signature() == other._signature()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"<ModelState: '{self.app_label}.{self.name}'>"


def _flat_bases(model: type[Model]) -> tuple[Any, ...]:
    """Bases of ``model`` with abstract models replaced by their own bases (their
    fields are already the model's), ordered as in the MRO; at least ``orm.Model``."""

    def flatten(klass: type) -> list[Any]:
        bases: list[Any] = []
        for base in klass.__bases__:
            meta = getattr(base, "_meta", None)
            bases.extend(flatten(base) if meta is not None and meta.abstract else [base])
        return bases

    flat = sorted(set(flatten(model)), key=model.__mro__.index)
    if not any(isinstance(base, type) and issubclass(base, Model) for base in flat):
        flat.insert(0, Model)
    # A concrete parent (multi-table inheritance) is named by label, as Django's states do.
    return tuple(base._meta.label_lower if getattr(base, "_meta", None) is not None and not base._meta.abstract
                 else base for base in flat)


def _managers(model: type[Model]) -> list[tuple[str, Any]]:
    """Managers a historical model needs: those marked ``use_in_migrations = True``,
    and a plain ``Manager`` under the default manager's name when it is not ``objects``."""
    managers: list[tuple[str, Any]] = []
    for manager in model._meta.managers:
        if getattr(manager, "use_in_migrations", False):
            managers.append((manager.name, manager))
        elif manager is model._default_manager:
            # A custom default manager is shimmed: its queryset methods may use
            # code the historical model does not have.
            managers.append((manager.name, Manager()))
    if [(name, type(m)) for name, m in managers] == [("objects", Manager)]:
        return []
    return managers


def _copy_manager(manager: BaseManager[Any]) -> BaseManager[Any]:
    """A fresh copy of a manager for a new model class (contribute_to_class binds it)."""
    clone = copy.copy(manager)
    clone.model = None
    clone.name = None
    return clone


class ProjectState:
    """Every model of a project at one point of its migration history.

    ``models`` maps ``(app_label, model_name_lower)`` to a :class:`ModelState`.
    Change it with the methods below (operations do); code that replaces an
    entry itself must call :meth:`reload_model` so ``apps`` follows.
    """

    def __init__(self, models: Mapping[ModelKey, ModelState] | None = None) -> None:
        self.models: dict[ModelKey, ModelState] = dict(models or {})
        # Keys whose ModelState this state may change in place (not shared
        # with a clone or the caller); any other is copied before its first change.
        self._owned: set[ModelKey] = set()
        self._apps: StateApps | None = None
        # Models changed since ``_apps`` was last brought up to date.
        self._dirty: set[ModelKey] = set()

    # -- rendering ---------------------------------------------------------------
    @property
    def apps(self) -> StateApps:
        """The registry of historical models of this state, rendered on first use.

        After a change, only the changed models and their direct neighbours are
        rendered again (see ``orm.migrations.rendering``).
        """
        if self._apps is None:
            self._apps = StateApps.render(self.models)
            self._dirty.clear()
        elif self._dirty:
            try:
                self._apps = self._apps.rerender(self.models, self._dirty)
            except BaseException:
                self._apps = None  # half re-rendered: start over on the next use
                raise
            self._dirty.clear()
        return self._apps

    def reload_model(self, app_label: str, model_name: str, delay: bool = False) -> None:
        """Mark a model changed so ``apps`` renders it again (``delay`` is accepted for Django parity)."""
        self._dirty.add((app_label, model_name.lower()))

    def reload_models(self, models: Iterable[ModelKey], delay: bool = True) -> None:
        """:meth:`reload_model` for several ``(app_label, model_name)``."""
        for app_label, model_name in models:
            self.reload_model(app_label, model_name)

    def clone(self) -> ProjectState:
        """An independent copy: same models (shared until either side changes one).

        When this state's models are rendered, the copy gets a fork of the
        registry, brought up to date first. The two registries share the
        classes of unchanged models; whichever state changes and renders first
        keeps rendering incrementally, and the other, if changed later, renders
        from scratch.
        """
        new = ProjectState.__new__(ProjectState)
        new.models = dict(self.models)
        new._owned = set()
        self._owned = set()
        new._dirty = set()
        new._apps = None
        if self._apps is not None:
            new._apps = self.apps.fork()
        return new

    def clone_without_apps(self) -> ProjectState:
        """Like :meth:`clone`, without the registry (for states only compared or replayed)."""
        new = ProjectState(self.models)
        self._owned = set()
        return new

    def inherit_apps(self, donor: ProjectState) -> None:
        """Render this state from a fork of ``donor``'s registry, re-rendering only
        the models whose states differ (by identity: unchanged ones are shared)."""
        registry = donor.apps
        keys = self.models.keys() | donor.models.keys()
        self._apps = registry.fork()
        self._dirty = {key for key in keys if self.models.get(key) is not donor.models.get(key)}

    @classmethod
    def from_apps(cls, apps: Apps) -> ProjectState:
        """The state of every model of a registry (automatic join models excluded).

        Proxy models are included, as Django includes them: ``options={"proxy":
        True}`` and the proxied model as base (their operations touch no table).
        """
        states = [ModelState.from_model(model) for model in apps.get_models()]
        return cls({state.key: state for state in states})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProjectState):
            return NotImplemented
        return self.models == other.models

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"<ProjectState: {len(self.models)} models>"

    # -- changes (called by operations) -----------------------------------------
    def get_model_state(self, app_label: str, model_name: str) -> ModelState:
        """The state of a model; ``LookupError`` saying so when the state has none."""
        try:
            return self.models[app_label, model_name.lower()]
        except KeyError:
            raise LookupError(
                f"The migration state has no model {app_label}.{model_name}: is an operation "
                "missing (CreateModel), out of order, or in a migration this one does not depend on?"
            ) from None

    def _edit(self, app_label: str, model_name: str) -> ModelState:
        """The model's state, copied first unless this state owns it; marked changed."""
        key = (app_label, model_name.lower())
        state = self.get_model_state(*key)
        if key not in self._owned:
            state = self.models[key] = state.clone()
            self._owned.add(key)
        self._dirty.add(key)
        return state

    def add_model(self, model_state: ModelState) -> None:
        """Add a model (``CreateModel``); ``ValueError`` if one of that name exists."""
        key = model_state.key
        if key in self.models:
            raise ValueError(f"The migration state already has a model {key[0]}.{model_state.name}.")
        self.models[key] = model_state
        self._owned.add(key)
        self._dirty.add(key)

    def remove_model(self, app_label: str, model_name: str) -> None:
        """Remove a model (``DeleteModel``)."""
        key = self.get_model_state(app_label, model_name).key
        del self.models[key]
        self._owned.discard(key)
        self._dirty.add(key)

    def rename_model(self, app_label: str, old_name: str, new_name: str) -> None:
        """Rename a model and repoint every relation (``to`` and ``through``) that names it."""
        old_key = self.get_model_state(app_label, old_name).key
        new_key = (app_label, new_name.lower())
        if new_key in self.models and new_key != old_key:
            raise ValueError(f"The migration state already has a model {app_label}.{new_name}.")
        renamed = self.models.pop(old_key).clone()
        renamed.name = new_name
        self._owned.discard(old_key)
        self._dirty.add(old_key)
        self.add_model(renamed)
        reference = f"{app_label}.{new_name.lower()}"
        for model_state, name, field, found in list(get_references(self, old_key)):
            changes = {"to": reference} if found.to else {}
            if found.through:
                changes["through"] = reference
            self._edit(*model_state.key).fields[name] = field_with(field, **changes)
        self._rename_bases(f"{app_label}.{old_name.lower()}", reference)

    def _rename_bases(self, old: str, new: str) -> None:
        # A multi-table child names its parent in ``bases`` by label: without
        # this the renamed parent could not be found when the child is rendered
        # (Django 5.2 leaves bases alone and its re-rendering fails).
        for key, model_state in list(self.models.items()):
            if any(isinstance(base, str) and base.lower() == old for base in model_state.bases):
                state = self._edit(*key)
                state.bases = tuple(new if isinstance(base, str) and base.lower() == old else base
                                    for base in state.bases)

    def alter_model_options(
        self, app_label: str, model_name: str, options: Mapping[str, Any],
        option_keys: Iterable[str] = (),
    ) -> None:
        """Set ``options``; keys of ``option_keys`` absent from ``options`` are removed."""
        state = self._edit(app_label, model_name)
        updated = {**state.options, **options}
        for key in option_keys:
            if key not in options:
                updated.pop(key, None)
        _normalize_options(updated)
        state.options = updated
        state._check()

    def add_index(self, app_label: str, model_name: str, index: Index) -> None:
        """Append an index to ``Meta.indexes``."""
        state = self._edit(app_label, model_name)
        state.options["indexes"] = [*state.options["indexes"], index]

    def remove_index(self, app_label: str, model_name: str, index_name: str) -> None:
        """Remove the index named ``index_name``; ``ValueError`` when there is none."""
        state = self._edit(app_label, model_name)
        state.get_index_by_name(index_name)
        state.options["indexes"] = [i for i in state.options["indexes"] if i.name != index_name]

    def rename_index(self, app_label: str, model_name: str, old_name: str, new_name: str) -> None:
        """Give the index named ``old_name`` the name ``new_name``."""
        state = self._edit(app_label, model_name)
        old = state.get_index_by_name(old_name)
        self._replace_index(state, old, _renamed(old, new_name))

    def name_unnamed_index(self, app_label: str, model_name: str, fields: list[str], name: str) -> None:
        """Give the unnamed index over ``fields`` the name ``name`` (``RenameIndex(old_fields=...)``)."""
        state = self._edit(app_label, model_name)
        for index in state.options["indexes"]:
            if index.name is None and list(index.fields) == list(fields):
                self._replace_index(state, index, _renamed(index, name))
                return
        raise ValueError(
            f"No unnamed index over {fields!r} on model {app_label}.{model_name}; "
            "name the index with RenameIndex(old_name=...) instead."
        )

    @staticmethod
    def _replace_index(state: ModelState, old: Index, new: Index) -> None:
        state.options["indexes"] = [new if index is old else index for index in state.options["indexes"]]

    def add_constraint(self, app_label: str, model_name: str, constraint: BaseConstraint) -> None:
        """Append a constraint to ``Meta.constraints``."""
        state = self._edit(app_label, model_name)
        state.options["constraints"] = [*state.options["constraints"], constraint]

    def remove_constraint(self, app_label: str, model_name: str, constraint_name: str) -> None:
        """Remove the constraint named ``constraint_name``; ``ValueError`` when there is none."""
        state = self._edit(app_label, model_name)
        state.get_constraint_by_name(constraint_name)
        state.options["constraints"] = [
            c for c in state.options["constraints"] if c.name != constraint_name
        ]

    def add_field(self, app_label: str, model_name: str, name: str, field: Field, preserve_default: bool) -> None:
        """Add a field; with ``preserve_default=False`` the state keeps it without its default."""
        state = self._edit(app_label, model_name)
        if name in state.fields:
            raise ValueError(f"Model {app_label}.{model_name} already has a field named {name!r}.")
        state.fields[name] = field if preserve_default else field_with(field, default=NOT_PROVIDED)
        state._check()

    def remove_field(self, app_label: str, model_name: str, name: str) -> None:
        """Remove a field."""
        state = self._edit(app_label, model_name)
        state.get_field(name)
        del state.fields[name]

    def alter_field(self, app_label: str, model_name: str, name: str, field: Field, preserve_default: bool) -> None:
        """Replace a field by a new definition."""
        state = self._edit(app_label, model_name)
        state.get_field(name)
        state.fields[name] = field if preserve_default else field_with(field, default=NOT_PROVIDED)
        state._check()

    def rename_field(self, app_label: str, model_name: str, old_name: str, new_name: str) -> None:
        """Rename a field, in place (its position is kept), in the model's
        ``unique_together``, indexes and constraints, and in ``to_field`` of
        foreign keys that point at it."""
        state = self._edit(app_label, model_name)
        state.get_field(old_name)
        if new_name in state.fields:
            raise ValueError(f"Model {app_label}.{model_name} already has a field named {new_name!r}.")
        state.fields = {(new_name if n == old_name else n): f for n, f in state.fields.items()}
        state.options = rename_field_in_options(state.options, old_name, new_name)
        for referring, name, field, found in list(get_references(self, state.key, old_name)):
            if found.to and getattr(field, "to_field", None) == old_name:
                self._edit(*referring.key).fields[name] = field_with(field, to_field=new_name)


def _renamed(index: Index, name: str) -> Index:
    path, args, kwargs = index.deconstruct()
    kwargs["name"] = name
    return type(index)(*args, **kwargs)
