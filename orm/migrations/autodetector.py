"""``MigrationAutodetector``: the operations that turn one project state into another.

Given the state at the end of the migration files (``from_state``) and the
state of the current models (``to_state``), :meth:`MigrationAutodetector.changes`
returns new migrations per app, Django's way:

1. Each ``generate_*`` step compares the two states and queues operations
   per app, each with the dependencies it needs (a model must exist before
   a foreign key points at it, a field must be gone before its model is
   deleted, ...). Ambiguous changes (a rename, a NOT NULL field without a
   default) are put to the questioner.
2. Each app's queue is sorted so dependencies inside the app come first.
3. The queues are cut into migrations (:mod:`orm.migrations.chopping`):
   an operation that needs another app's operation waits until that one is in
   a migration, which the new migration then depends on; circular
   foreign keys across apps get split into ``CreateModel`` now and
   ``AddField`` later.
4. The optimizer shortens each migration (``CreateModel`` + ``AddField`` ->
   one ``CreateModel``), and migrations are numbered after each app's leaf.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from orm.fields import NOT_PROVIDED, deep_deconstruct
from orm.migrations.chopping import (
    Dependency,
    DepType,
    GraphLike,
    PendingOperation,
    arrange_for_graph,
    build_migration_list,
    sort_operations,
)
from orm.migrations.chopping import trim_to_apps as trim_changes_to_apps
from orm.migrations.migration import Migration
from orm.migrations.operations import (
    AddConstraint,
    AddField,
    AddIndex,
    AlterField,
    AlterModelOptions,
    AlterModelTable,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    Operation,
    RemoveConstraint,
    RemoveField,
    RemoveIndex,
    RenameField,
    RenameIndex,
    RenameModel,
)
from orm.migrations.optimizer import MigrationOptimizer
from orm.migrations.questioner import MigrationQuestioner
from orm.migrations.references import ModelKey, get_references, resolve_relation
from orm.migrations.renaming import rename_field_in_options
from orm.migrations.state import ModelState, ProjectState, field_with

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.models.constraints import Index

__all__ = ["MigrationAutodetector"]

FieldKey = tuple[str, str, str]


def _related_target(field: Field) -> Any:
    """The ``to`` of a relation field, or None for other fields."""
    rel = getattr(field, "remote_field", None)
    return getattr(rel, "model", None) if rel is not None else None


def _through(field: Field) -> Any:
    rel = getattr(field, "remote_field", None)
    return getattr(rel, "through", None) if rel is not None else None


class MigrationAutodetector:
    """Compares ``from_state`` with ``to_state`` (both :class:`ProjectState`).

    ``questioner`` answers what cannot be decided from the states alone
    (default: :class:`MigrationQuestioner`, which never asks). Neither state
    is changed.
    """

    def __init__(self, from_state: ProjectState, to_state: ProjectState,
                 questioner: MigrationQuestioner | None = None) -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.questioner = questioner or MigrationQuestioner()
        self.existing_apps = {app_label for app_label, _ in from_state.models}

    # -- entry point ---------------------------------------------------------------
    def changes(
        self, graph: GraphLike | Mapping[str, str] | None = None, trim_to_apps: Iterable[str] | None = None,
        migration_name: str | None = None, *, trackable_apps: Iterable[str] | None = None,
    ) -> dict[str, list[Migration]]:
        """New migrations per app label, named and numbered after each app's leaf.

        ``graph`` tells each app's latest migration: an object with
        ``leaf_nodes(app_label) -> [(app_label, name)]`` (the migration graph),
        a mapping ``{app_label: leaf_name}``, or None when no app has
        migrations yet. ``trim_to_apps`` (or its alias ``trackable_apps``)
        keeps only migrations of those apps and of the apps they depend on.
        ``migration_name`` replaces the suggested name of every new migration.
        Raises :class:`~orm.migrations.questioner.MigrationQuestionError` when
        the questioner refuses, ``ValueError`` for changes that migrations
        cannot express (the message says what to change).
        """
        if trim_to_apps is not None and trackable_apps is not None:
            raise TypeError("Pass trim_to_apps or its alias trackable_apps, not both.")
        apps = trim_to_apps if trim_to_apps is not None else trackable_apps
        changes = self._detect_changes(graph)
        changes = arrange_for_graph(changes, graph, self.questioner, migration_name)
        if apps is not None:
            changes = trim_changes_to_apps(changes, set(apps))
        return changes

    def _detect_changes(self, graph: GraphLike | Mapping[str, str] | None) -> dict[str, list[Migration]]:
        self.generated: dict[str, list[PendingOperation]] = {}
        self.old_model_keys: set[ModelKey] = set(self.from_state.models)
        self.new_model_keys: set[ModelKey] = set(self.to_state.models)
        self.generate_renamed_models()
        self._prepare_field_lists()
        self._generate_through_model_map()
        self.generate_deleted_models()
        self.generate_created_models()
        self.generate_altered_options()
        self.create_renamed_fields()
        self.create_altered_indexes()
        self.create_altered_constraints()
        self.generate_removed_constraints()
        self.generate_removed_indexes()
        self.generate_renamed_fields()
        self.generate_renamed_indexes()
        self.generate_removed_altered_unique_together()
        self.generate_removed_fields()
        self.generate_added_fields()
        self.generate_altered_fields()
        self.generate_altered_unique_together()
        self.generate_added_indexes()
        self.generate_added_constraints()
        self.generate_altered_db_table()
        for app_label, pending in self.generated.items():
            self.generated[app_label] = sort_operations(app_label, pending)
        migrations = build_migration_list(self.generated, graph, self.existing_apps)
        for app_label, app_migrations in migrations.items():
            for migration in app_migrations:
                migration.operations = MigrationOptimizer().optimize(migration.operations, app_label)
        return migrations

    def add_operation(self, app_label: str, operation: Operation,
                      dependencies: Iterable[Dependency] = (), beginning: bool = False) -> None:
        """Queue ``operation`` for ``app_label`` (first with ``beginning``)."""
        pending = PendingOperation(operation, sorted(set(dependencies), key=repr))
        queue = self.generated.setdefault(app_label, [])
        if beginning:
            queue.insert(0, pending)
        else:
            queue.append(pending)

    # -- helpers -------------------------------------------------------------------
    def _old_model(self, app_label: str, model_name: str) -> ModelState:
        """The old state of a kept model (under its old name when it was renamed)."""
        return self.from_state.models[app_label, self.renamed_models.get((app_label, model_name), model_name)]

    def _old_options(self, app_label: str, model_name: str) -> dict[str, Any]:
        """The old options of a kept model with its confirmed field renames applied
        (``RenameField`` renames them in indexes, constraints and ``unique_together``)."""
        options = self._old_model(app_label, model_name).options
        for (app, model, new_name), old_name in sorted(self.renamed_fields.items()):
            if (app, model) == (app_label, model_name):
                options = rename_field_in_options(options, old_name, new_name)
        return options

    def _new_model(self, app_label: str, model_name: str) -> ModelState:
        return self.to_state.models[app_label, model_name]

    @staticmethod
    def foreign_key_dependencies(app_label: str, model_name: str, field: Field) -> list[Dependency]:
        """A relation field needs its target (and its ``through`` model) created first."""
        dep_app, dep_model = resolve_relation(_related_target(field), app_label, model_name)
        dependencies = [Dependency(dep_app, dep_model, None, DepType.CREATE)]
        through = _through(field)
        if through is not None:
            through_app, through_model = resolve_relation(through, app_label, model_name)
            dependencies.append(Dependency(through_app, through_model, None, DepType.CREATE))
        return dependencies

    def _comparable(self, field: Field, app_label: str, model_name: str, *, old: bool) -> Any:
        """``deep_deconstruct(field)`` with relation targets spelled ``"app.model"``;
        for an ``old`` field, model and field renames already detected applied
        (``RenameModel``/``RenameField`` take care of those)."""
        path, args, kwargs = deep_deconstruct(field)
        for key in ("to", "through"):
            target = kwargs.get(key)
            if isinstance(target, str):
                target_key = resolve_relation(target, app_label, model_name)
                if old:
                    target_key = self.renamed_models_rel.get(target_key, target_key)
                kwargs[key] = f"{target_key[0]}.{target_key[1]}"
                if key == "to" and old and kwargs.get("to_field") is not None:
                    renamed = {old_name: new for (a, m, new), old_name in self.renamed_fields.items()
                               if (a, m) == target_key}
                    kwargs["to_field"] = renamed.get(kwargs["to_field"], kwargs["to_field"])
        return path, args, kwargs

    def only_relation_agnostic_fields(self, fields: Mapping[str, Any]) -> list[Any]:
        """Field definitions (names left out, relation targets too) to spot a renamed model."""
        definitions = []
        for _name, field in sorted(fields.items()):
            path, args, kwargs = deep_deconstruct(field)
            if _related_target(field) is not None:
                kwargs.pop("to", None)
            definitions.append((path, args, kwargs))
        return definitions

    # -- models --------------------------------------------------------------------
    def generate_renamed_models(self) -> None:
        """A new model defined like a removed one of the same app may be a rename: ask."""
        self.renamed_models: dict[ModelKey, str] = {}
        self.renamed_models_rel: dict[ModelKey, ModelKey] = {}
        for app_label, model_name in sorted(self.new_model_keys - self.old_model_keys):
            model_state = self.to_state.models[app_label, model_name]
            definition = self.only_relation_agnostic_fields(model_state.fields)
            for rem_app, rem_name in sorted(self.old_model_keys - self.new_model_keys):
                if rem_app != app_label:
                    continue
                rem_state = self.from_state.models[rem_app, rem_name]
                if definition != self.only_relation_agnostic_fields(rem_state.fields):
                    continue
                if not self.questioner.ask_rename_model(rem_state, model_state):
                    continue
                dependencies: list[Dependency] = []
                for field in model_state.fields.values():
                    if _related_target(field) is not None:
                        dependencies.extend(self.foreign_key_dependencies(app_label, model_name, field))
                self.add_operation(app_label, RenameModel(rem_state.name, model_state.name), dependencies)
                self.renamed_models[app_label, model_name] = rem_name
                self.renamed_models_rel[rem_app, rem_name] = (app_label, model_name)
                self.old_model_keys.remove((rem_app, rem_name))
                self.old_model_keys.add((app_label, model_name))
                break

    def _prepare_field_lists(self) -> None:
        self.kept_model_keys = self.old_model_keys & self.new_model_keys
        self.old_field_keys: set[FieldKey] = {
            (app_label, model_name, name) for app_label, model_name in self.kept_model_keys
            for name in self._old_model(app_label, model_name).fields
        }
        self.new_field_keys: set[FieldKey] = {
            (app_label, model_name, name) for app_label, model_name in self.kept_model_keys
            for name in self._new_model(app_label, model_name).fields
        }
        self.renamed_fields: dict[FieldKey, str] = {}

    def _generate_through_model_map(self) -> None:
        """Which old M2M field uses each ``through`` model (deleting it waits for that field)."""
        self.through_users: dict[ModelKey, FieldKey] = {}
        for app_label, model_name in sorted(self.old_model_keys):
            old_name = self.renamed_models.get((app_label, model_name), model_name)
            for field_name, field in self.from_state.models[app_label, old_name].fields.items():
                through = _through(field)
                if through is not None:
                    key = resolve_relation(through, app_label, old_name)
                    self.through_users[key] = (app_label, old_name, field_name)

    def generate_deleted_models(self) -> None:
        """``DeleteModel`` after the model's own relations and every field pointing at it are gone."""
        for app_label, model_name in sorted(self.old_model_keys - self.new_model_keys):
            model_state = self.from_state.models[app_label, model_name]
            related = sorted(name for name, field in model_state.fields.items()
                             if _related_target(field) is not None or _through(field) is not None)
            if model_state.options.get("unique_together"):
                self.add_operation(app_label, AlterUniqueTogether(model_name, set()))
            for name in related:
                self.add_operation(app_label, RemoveField(model_name, name))
            dependencies = [Dependency(app_label, model_name, name, DepType.REMOVE) for name in related]
            for referring, name, field, _found in get_references(self.from_state, (app_label, model_name)):
                if referring.key == (app_label, model_name):
                    continue
                dependencies.append(Dependency(*referring.key, name, DepType.REMOVE))
                if not field.many_to_many:
                    dependencies.append(Dependency(*referring.key, name, DepType.ALTER))
            for child in self.from_state.models.values():
                # A child or proxy of this model goes first.
                if (app_label, model_name) in child.parent_keys() and child.key not in self.new_model_keys:
                    dependencies.append(Dependency(*child.key, None, DepType.REMOVE))
            through_user = self.through_users.get((app_label, model_name))
            if through_user is not None:
                dependencies.append(Dependency(*through_user, DepType.REMOVE))
            self.add_operation(app_label, DeleteModel(model_state.name), dependencies)

    def generate_created_models(self) -> None:
        """``CreateModel`` without its relations, then one ``AddField`` per relation
        and the indexes, constraints and ``unique_together`` (the optimizer folds
        them back in unless a circular reference keeps them apart)."""
        for app_label, model_name in sorted(self.new_model_keys - self.old_model_keys, reverse=True):
            model_state = self.to_state.models[app_label, model_name]
            related = {name: field for name, field in model_state.fields.items()
                       if (_related_target(field) is not None and not field.primary_key)
                       or _through(field) is not None}
            options = {key: value for key, value in model_state.options.items()
                       if key not in ("indexes", "constraints", "unique_together")}
            named_indexes = [index for index in model_state.options["indexes"] if index.name]
            unnamed = [index for index in model_state.options["indexes"] if not index.name]
            if unnamed:
                # AddIndex needs a name; an unnamed index stays in CreateModel.
                options["indexes"] = unnamed
            # A child or proxy is created after the models it inherits from.
            dependencies = [Dependency(*parent, None, DepType.CREATE) for parent in model_state.parent_keys()]
            for field in model_state.fields.values():
                if _related_target(field) is not None and field.primary_key:
                    dependencies.extend(self.foreign_key_dependencies(app_label, model_name, field))
            fields = [(name, field) for name, field in model_state.fields.items() if name not in related]
            self.add_operation(app_label, CreateModel(
                model_state.name, fields, options, model_state.bases, model_state.managers,
            ), dependencies, beginning=True)
            created = Dependency(app_label, model_name, None, DepType.CREATE)
            for name, field in sorted(related.items()):
                field_deps = [*self.foreign_key_dependencies(app_label, model_name, field), created]
                self.add_operation(app_label, AddField(model_name, name, field), field_deps)
            related_deps = [Dependency(app_label, model_name, name, DepType.CREATE) for name in sorted(related)]
            related_deps.append(created)
            for index in named_indexes:
                self.add_operation(app_label, AddIndex(model_name, index), related_deps)
            for constraint in model_state.options["constraints"]:
                self.add_operation(app_label, AddConstraint(model_name, constraint), related_deps)
            if model_state.options.get("unique_together"):
                self.add_operation(app_label, AlterUniqueTogether(
                    model_name, model_state.options["unique_together"]), related_deps)

    def generate_altered_options(self) -> None:
        """``AlterModelOptions`` when ``ordering``, ``verbose_name``, ... differ."""
        keys = AlterModelOptions.ALTER_OPTION_KEYS
        for app_label, model_name in sorted(self.kept_model_keys):
            old = {k: v for k, v in self._old_model(app_label, model_name).options.items() if k in keys}
            new_state = self._new_model(app_label, model_name)
            new = {k: v for k, v in new_state.options.items() if k in keys}
            if deep_deconstruct(old) != deep_deconstruct(new):
                self.add_operation(app_label, AlterModelOptions(model_name, new))

    def generate_altered_db_table(self) -> None:
        """``AlterModelTable`` when ``db_table`` differs."""
        for app_label, model_name in sorted(self.kept_model_keys):
            old = self._old_model(app_label, model_name).options.get("db_table")
            new_state = self._new_model(app_label, model_name)
            new = new_state.options.get("db_table")
            if old != new:
                self.add_operation(app_label, AlterModelTable(model_name, new))

    # -- fields --------------------------------------------------------------------
    def create_renamed_fields(self) -> None:
        """Pair each new field with a removed one of the same model defined the same
        way (or only pinned to the old column with ``db_column``), and ask."""
        self.renamed_operations: list[tuple[FieldKey, str | None, str, Any]] = []
        old_field_keys = set(self.old_field_keys)
        for app_label, model_name, field_name in sorted(self.new_field_keys - old_field_keys):
            old_state = self._old_model(app_label, model_name)
            field = self._new_model(app_label, model_name).fields[field_name]
            field_dec = self._comparable(field, app_label, model_name, old=False)
            for rem_app, rem_model, rem_name in sorted(old_field_keys - self.new_field_keys):
                if (rem_app, rem_model) != (app_label, model_name):
                    continue
                old_field = old_state.fields[rem_name]
                old_dec = self._comparable(old_field, app_label, old_state.name_lower, old=True)
                old_column = old_field.db_column or (
                    f"{rem_name}_id" if old_field.many_to_one or getattr(old_field, "one_to_one", False)
                    else rem_name)
                same = old_dec == field_dec or (
                    old_dec[:2] == field_dec[:2] and {**old_dec[2], "db_column": old_column} == field_dec[2])
                if same and self.questioner.ask_rename(model_name, rem_name, field_name, field):
                    self.renamed_operations.append(
                        ((app_label, model_name, rem_name), old_field.db_column, field_name, field))
                    old_field_keys.remove((rem_app, rem_model, rem_name))
                    old_field_keys.add((app_label, model_name, field_name))
                    self.renamed_fields[app_label, model_name, field_name] = rem_name
                    break

    def generate_renamed_fields(self) -> None:
        """``RenameField`` for each confirmed rename (after an ``AlterField`` pinning
        the old column when the new definition sets ``db_column``)."""
        for (app_label, model_name, rem_name), rem_db_column, field_name, field in self.renamed_operations:
            if rem_db_column != field.db_column:
                self.add_operation(app_label, AlterField(model_name, rem_name, field))
            self.add_operation(app_label, RenameField(model_name, rem_name, field_name))
            self.old_field_keys.remove((app_label, model_name, rem_name))
            self.old_field_keys.add((app_label, model_name, field_name))

    def generate_added_fields(self) -> None:
        """``AddField`` for each new field of a kept model."""
        for key in sorted(self.new_field_keys - self.old_field_keys):
            self._generate_added_field(*key)

    def _generate_added_field(self, app_label: str, model_name: str, field_name: str) -> None:
        model_state = self._new_model(app_label, model_name)
        field = model_state.fields[field_name]
        dependencies = [Dependency(app_label, model_name, field_name, DepType.REMOVE)]
        if _related_target(field) is not None:
            dependencies.extend(self.foreign_key_dependencies(app_label, model_name, field))
        preserve_default = (
            field.null or field.has_default() or field.many_to_many
            or (field.blank and field.empty_strings_allowed()) or getattr(field, "auto_now", False)
        )
        if not preserve_default:
            if getattr(field, "auto_now_add", False):
                default = self.questioner.ask_auto_now_add_addition(field_name, model_state.name)
            else:
                default = self.questioner.ask_not_null_addition(field_name, model_state.name)
            field = field_with(field, default=default)
        if field.unique and field.has_default() and callable(field.default):
            self.questioner.ask_unique_callable_default_addition(field_name, model_state.name)
        self.add_operation(app_label, AddField(model_name, field_name, field, preserve_default),
                           dependencies)

    def generate_removed_fields(self) -> None:
        """``RemoveField`` for each field gone from a kept model (after ``unique_together`` lets go)."""
        for key in sorted(self.old_field_keys - self.new_field_keys):
            self._generate_removed_field(*key)

    def _generate_removed_field(self, app_label: str, model_name: str, field_name: str) -> None:
        self.add_operation(app_label, RemoveField(model_name, field_name), [
            Dependency(app_label, model_name, field_name, DepType.ALTER_TOGETHER),
        ])

    def generate_altered_fields(self) -> None:
        """``AlterField`` for each kept field defined differently (a switch between
        many-to-many and not is a removal plus an addition)."""
        for app_label, model_name, field_name in sorted(self.old_field_keys & self.new_field_keys):
            old_state = self._old_model(app_label, model_name)
            old_name = self.renamed_fields.get((app_label, model_name, field_name), field_name)
            old_field = old_state.fields[old_name]
            new_state = self._new_model(app_label, model_name)
            new_field = new_state.fields[field_name]
            old_dec = self._comparable(old_field, app_label, old_state.name_lower, old=True)
            if old_dec == self._comparable(new_field, app_label, model_name, old=False) or old_name != field_name:
                continue
            dependencies: list[Dependency] = []
            if _related_target(new_field) is not None:
                dependencies = self.foreign_key_dependencies(app_label, model_name, new_field)
            if old_field.many_to_many != new_field.many_to_many:
                self._generate_removed_field(app_label, model_name, field_name)
                self._generate_added_field(app_label, model_name, field_name)
                continue
            preserve_default, field = True, new_field
            if old_field.null and not new_field.null and not new_field.has_default() \
                    and not new_field.many_to_many:
                default = self.questioner.ask_not_null_alteration(field_name, new_state.name)
                if default is not NOT_PROVIDED:
                    field, preserve_default = field_with(new_field, default=default), False
            self.add_operation(app_label, AlterField(model_name, field_name, field, preserve_default),
                               dependencies)

    # -- unique_together -------------------------------------------------------------
    def _altered_together(self) -> list[tuple[set[tuple[str, ...]], set[tuple[str, ...]], str, str, list[Dependency]]]:
        found = []
        for app_label, model_name in sorted(self.kept_model_keys):
            new_state = self._new_model(app_label, model_name)
            old_value = set(self._old_options(app_label, model_name).get("unique_together", set()))
            new_value = set(new_state.options.get("unique_together", set()))
            if old_value == new_value:
                continue
            dependencies: list[Dependency] = []
            for group in sorted(new_value):
                for name in group:
                    field = new_state.fields.get(name)
                    if field is not None and _related_target(field) is not None:
                        dependencies.extend(self.foreign_key_dependencies(app_label, model_name, field))
            found.append((old_value, new_value, app_label, model_name, dependencies))
        return found

    def generate_removed_altered_unique_together(self) -> None:
        """First keep only the groups that stay (so removed fields can go)."""
        for old_value, new_value, app_label, name, dependencies in self._altered_together():
            kept = new_value & old_value
            if kept or old_value:
                self.add_operation(app_label, AlterUniqueTogether(name, kept), dependencies)

    def generate_altered_unique_together(self) -> None:
        """Then set the new groups (after added fields exist)."""
        for old_value, new_value, app_label, name, dependencies in self._altered_together():
            if new_value != new_value & old_value:
                self.add_operation(app_label, AlterUniqueTogether(name, new_value), dependencies)

    # -- indexes and constraints -------------------------------------------------------
    def create_altered_indexes(self) -> None:
        """Added, removed and renamed indexes of each kept model (same definition,
        another name: a rename)."""
        self.altered_indexes: dict[ModelKey, dict[str, list[Any]]] = {}
        for app_label, model_name in sorted(self.kept_model_keys):
            old_indexes = self._old_options(app_label, model_name)["indexes"]
            new_indexes = self._new_model(app_label, model_name).options["indexes"]
            added = [index for index in new_indexes if index not in old_indexes]
            removed = [index for index in old_indexes if index not in new_indexes]
            renamed = []
            for new_index in list(added):
                _, new_args, new_kwargs = new_index.deconstruct()
                new_name = new_kwargs.pop("name", None)
                for old_index in removed:
                    _, old_args, old_kwargs = old_index.deconstruct()
                    old_name = old_kwargs.pop("name", None)
                    if (new_args, new_kwargs) == (old_args, old_kwargs) and new_name and new_name != old_name:
                        renamed.append((old_name, new_name, None if old_name else new_index.fields))
                        added.remove(new_index)
                        removed.remove(old_index)
                        break
            self.altered_indexes[app_label, model_name] = {
                "added_indexes": added, "removed_indexes": removed, "renamed_indexes": renamed}

    def _unnamed(self, index: Index, app_label: str, model_name: str, what: str) -> ValueError:
        label = f"{app_label}.{self._new_model(app_label, model_name).name}"
        return ValueError(
            f"The index over {index.fields!r} of model {label} has no name, so a migration "
            f"cannot {what} it: migrations add, rename and remove indexes by name. Give it one, "
            "e.g. orm.Index(fields=[...], name=\"...\"), and make migrations again "
            "(naming an existing unnamed index is written as a RenameIndex)."
        )

    def generate_added_indexes(self) -> None:
        """``AddIndex`` for each new index of a kept model."""
        for (app_label, model_name), altered in sorted(self.altered_indexes.items()):
            for index in altered["added_indexes"]:
                if not index.name:
                    raise self._unnamed(index, app_label, model_name, "add")
                self.add_operation(app_label, AddIndex(model_name, index))

    def generate_removed_indexes(self) -> None:
        """``RemoveIndex`` for each index gone from a kept model."""
        for (app_label, model_name), altered in sorted(self.altered_indexes.items()):
            for index in altered["removed_indexes"]:
                if not index.name:
                    raise self._unnamed(index, app_label, model_name, "remove")
                self.add_operation(app_label, RemoveIndex(model_name, index.name))

    def generate_renamed_indexes(self) -> None:
        """``RenameIndex`` for each index defined the same way under a new name."""
        for (app_label, model_name), altered in sorted(self.altered_indexes.items()):
            for old_name, new_name, old_fields in altered["renamed_indexes"]:
                self.add_operation(app_label, RenameIndex(model_name, new_name, old_name, old_fields))

    def create_altered_constraints(self) -> None:
        """Added and removed constraints of each kept model."""
        self.altered_constraints: dict[ModelKey, tuple[list[Any], list[Any]]] = {}
        for app_label, model_name in sorted(self.kept_model_keys):
            old = self._old_options(app_label, model_name)["constraints"]
            new = self._new_model(app_label, model_name).options["constraints"]
            self.altered_constraints[app_label, model_name] = (
                [c for c in new if c not in old], [c for c in old if c not in new])

    def generate_added_constraints(self) -> None:
        """``AddConstraint`` for each new constraint of a kept model."""
        for (app_label, model_name), (added, _) in sorted(self.altered_constraints.items()):
            for constraint in added:
                self.add_operation(app_label, AddConstraint(model_name, constraint))

    def generate_removed_constraints(self) -> None:
        """``RemoveConstraint`` for each constraint gone from a kept model."""
        for (app_label, model_name), (_, removed) in sorted(self.altered_constraints.items()):
            for constraint in removed:
                self.add_operation(app_label, RemoveConstraint(model_name, constraint.name))
