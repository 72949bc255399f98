"""Model operations: create, delete, rename a model; change its table and ``Meta`` options.

Many-to-many join tables follow their model: ``CreateModel``/``DeleteModel``
create and drop them with the table (the schema editor does), ``RenameModel``
and ``AlterModelTable`` rename them and their columns through
``schema_editor.alter_field`` / ``alter_db_table``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm.fields import NOT_PROVIDED
from orm.migrations.operations.base import Operation
from orm.migrations.operations.fields import (
    AddField,
    AlterField,
    FieldOperation,
    RemoveField,
    RenameField,
)
from orm.migrations.operations.indexes import AddConstraint, AddIndex, RemoveConstraint, RemoveIndex
from orm.migrations.references import field_references
from orm.migrations.renaming import rename_field_in_options
from orm.migrations.state import ModelState, field_with, normalize_together
from orm.models import Model

if TYPE_CHECKING:
    from orm.migrations.editor import MigrationSchemaEditor
    from orm.migrations.state import ProjectState
    from orm.models.base import Model


def _check_unique(kind: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"CreateModel got the {kind} {name!r} twice.")
        seen.add(name)


def _alter_db_table(schema_editor: MigrationSchemaEditor, new_model: type[Model], old_model: type[Model]) -> None:
    """Rename the table of ``old_model`` to that of ``new_model`` when the names differ."""
    old_table, new_table = old_model._meta.db_table, new_model._meta.db_table
    if old_table != new_table:
        schema_editor.alter_db_table(new_model, old_table, new_table)


class ModelOperation(Operation):
    """An operation on one model, named ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _model_name(self) -> str:
        return self.name

    @property
    def name_lower(self) -> str:
        """The model name, lower-cased."""
        return self.name.lower()

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.name_lower

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        return super().reduce(operation, app_label) or self.can_reduce_through(operation, app_label)

    def can_reduce_through(self, operation: Operation, app_label: str) -> bool:
        """May ``operation`` be moved across this one?"""
        return not operation.references_model(self.name, app_label)


class CreateModel(ModelOperation):
    """Create a model: its table, many-to-many tables, indexes and constraints."""

    def __init__(
        self, name: str, fields: list[tuple[str, Any]], options: dict[str, Any] | None = None,
        bases: tuple[Any, ...] | None = None, managers: list[tuple[str, Any]] | None = None,
    ) -> None:
        self.fields = list(fields)
        self.options = dict(options or {})
        self.bases = tuple(bases or (Model,))
        self.managers = list(managers or [])
        super().__init__(name)
        _check_unique("field", [n for n, _ in self.fields])
        _check_unique("manager", [n for n, _ in self.managers])

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"name": self.name, "fields": self.fields}
        if self.options:
            kwargs["options"] = self.options
        if self.bases != (Model,):
            kwargs["bases"] = self.bases
        if self.managers:
            kwargs["managers"] = self.managers
        return type(self).__name__, [], kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_model(ModelState(app_label, self.name, self.fields, self.options, self.bases, self.managers))

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = self._model(app_label, to_state)
        if self.migrates(schema_editor, model):
            schema_editor.create_model(model)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = self._model(app_label, from_state)
        if self.migrates(schema_editor, model):
            schema_editor.delete_model(model)

    def describe(self) -> str:
        return f"Create model {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return self.name_lower

    def references_model(self, name: str, app_label: str) -> bool:
        if name.lower() == self.name_lower:
            return True
        own, other = (app_label, self.name_lower), (app_label, name.lower())
        return any(field_references(own, field, other) is not None for _, field in self.fields)

    def _with(self, **changes: Any) -> CreateModel:
        """A copy of this operation with some of its arguments replaced."""
        kwargs: dict[str, Any] = {
            "name": self.name, "fields": self.fields, "options": self.options,
            "bases": self.bases, "managers": self.managers,
        }
        kwargs.update(changes)
        return CreateModel(**kwargs)

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, ModelOperation) and operation.name_lower == self.name_lower:
            folded = self._fold_model_operation(operation)
            if folded is not None:
                return folded
        if isinstance(operation, RenameModel) and operation.old_name_lower == self.name_lower:
            return [self._with(name=operation.new_name)]
        if isinstance(operation, FieldOperation | AddIndex | RemoveIndex | AddConstraint | RemoveConstraint):
            if operation.model_name_lower == self.name_lower:
                folded = self._fold_model_part(operation)
                if folded is not None:
                    return folded
        return super().reduce(operation, app_label)

    def _fold_model_operation(self, operation: ModelOperation) -> list[Operation] | None:
        if isinstance(operation, DeleteModel):
            return []
        if isinstance(operation, AlterModelOptions):
            options = {**self.options, **operation.options}
            for key in operation.ALTER_OPTION_KEYS:
                if key not in operation.options:
                    options.pop(key, None)
            return [self._with(options=options)]
        if isinstance(operation, AlterModelTable):
            options = {**self.options, "db_table": operation.table}
            if operation.table is None:
                del options["db_table"]
            return [self._with(options=options)]
        if isinstance(operation, AlterUniqueTogether):
            return [self._with(options={**self.options, "unique_together": operation.unique_together})]
        return None

    def _fold_model_part(self, operation: Operation) -> list[Operation] | None:
        options = self.options
        if isinstance(operation, AddField):
            field = operation.field if operation.preserve_default else field_with(
                operation.field, default=NOT_PROVIDED)
            return [self._with(fields=[*self.fields, (operation.name, field)])]
        if isinstance(operation, AlterField):
            field = operation.field if operation.preserve_default else field_with(
                operation.field, default=NOT_PROVIDED)
            return [self._with(fields=[(n, field if n == operation.name else f) for n, f in self.fields])]
        if isinstance(operation, RemoveField):
            options = dict(options)
            together = {
                group for group in (tuple(n for n in g if n != operation.name)
                                    for g in normalize_together(options.pop("unique_together", ())))
                if group
            }
            if together:
                options["unique_together"] = together
            fields = [(n, f) for n, f in self.fields if n.lower() != operation.name_lower]
            return [self._with(fields=fields, options=options)]
        if isinstance(operation, RenameField):
            fields = [(operation.new_name if n == operation.old_name else n, f) for n, f in self.fields]
            renamed = rename_field_in_options(
                {"indexes": [], "constraints": [], **options}, operation.old_name, operation.new_name)
            return [self._with(fields=fields, options={k: v for k, v in renamed.items() if v or k in options})]
        if isinstance(operation, AddIndex | AddConstraint):
            key = "indexes" if isinstance(operation, AddIndex) else "constraints"
            item = operation.index if isinstance(operation, AddIndex) else operation.constraint
            return [self._with(options={**options, key: [*options.get(key, []), item]})]
        if isinstance(operation, RemoveIndex | RemoveConstraint):
            key = "indexes" if isinstance(operation, RemoveIndex) else "constraints"
            kept = [item for item in options.get(key, []) if item.name != operation.name]
            return [self._with(options={**options, key: kept})]
        return None


class DeleteModel(ModelOperation):
    """Delete a model: its table and many-to-many tables."""

    def __init__(self, name: str) -> None:
        super().__init__(name)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.remove_model(app_label, self.name_lower)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = self._model(app_label, from_state)
        if self.migrates(schema_editor, model):
            schema_editor.delete_model(model)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = self._model(app_label, to_state)
        if self.migrates(schema_editor, model):
            schema_editor.create_model(model)

    def references_model(self, name: str, app_label: str) -> bool:
        # The deleted model may have pointed at any model.
        return True

    def describe(self) -> str:
        return f"Delete model {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"delete_{self.name_lower}"


class RenameModel(ModelOperation):
    """Rename a model: its table (when named after the model), the relations
    pointing at it, and the join tables and columns named after it."""

    def __init__(self, old_name: str, new_name: str) -> None:
        self.old_name = old_name
        self.new_name = new_name
        super().__init__(old_name)

    @property
    def old_name_lower(self) -> str:
        """The old model name, lower-cased."""
        return self.old_name.lower()

    @property
    def new_name_lower(self) -> str:
        """The new model name, lower-cased."""
        return self.new_name.lower()

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"old_name": self.old_name, "new_name": self.new_name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.rename_model(app_label, self.old_name, self.new_name)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if self.migrates(schema_editor, to_state.apps.get_model(app_label, self.new_name)):
            self._rename(app_label, schema_editor, from_state, to_state, self.old_name, self.new_name)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if self.migrates(schema_editor, to_state.apps.get_model(app_label, self.old_name)):
            self._rename(app_label, schema_editor, from_state, to_state, self.new_name, self.old_name)

    @staticmethod
    def _rename(
        app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState, old_name: str, new_name: str,
    ) -> None:
        old_model = from_state.apps.get_model(app_label, old_name)
        new_model = to_state.apps.get_model(app_label, new_name)
        _alter_db_table(schema_editor, new_model, old_model)
        # Relations pointing at the model; a join model's foreign keys follow
        # its many-to-many field, altered as a whole (table and columns).
        for rel in old_model._meta.related_objects:
            source = rel.field.model
            if source._meta.auto_created:
                continue
            if source is old_model:
                model = new_model
            else:
                model = to_state.apps.get_model(source._meta.app_label, source._meta.model_name)
            schema_editor.alter_field(model, rel.field, model._meta.get_field(rel.field.name))
        # The model's own many-to-many fields: their join tables and columns are
        # named after it (self-referential ones were altered above).
        for old_field, new_field in zip(
            old_model._meta.local_many_to_many, new_model._meta.local_many_to_many, strict=True,
        ):
            if new_field.remote_field.model is new_model:
                continue
            if new_field.remote_field.through._meta.auto_created:
                schema_editor.alter_field(new_model, old_field, new_field)

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() in (self.old_name_lower, self.new_name_lower)

    def describe(self) -> str:
        return f"Rename model {self.old_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name_lower}_{self.new_name_lower}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, RenameModel) and self.new_name_lower == operation.old_name_lower:
            return [RenameModel(self.old_name, operation.new_name)]
        # Not ModelOperation.reduce: later operations use the new name.
        return Operation.reduce(self, operation, app_label) or not operation.references_model(
            self.new_name, app_label)


class ModelOptionOperation(ModelOperation):
    """An operation that sets model options; a later one of the same kind replaces it."""

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, type(self) | DeleteModel) and self.name_lower == operation.name_lower:
            return [operation]
        return super().reduce(operation, app_label)


class AlterModelTable(ModelOptionOperation):
    """Rename a model's table (``table=None``: back to the default name)."""

    def __init__(self, name: str, table: str | None) -> None:
        self.table = table
        super().__init__(name)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"name": self.name, "table": self.table}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        if self.table is None:
            state.alter_model_options(app_label, self.name_lower, {}, ["db_table"])
        else:
            state.alter_model_options(app_label, self.name_lower, {"db_table": self.table})

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        old_model = self._model(app_label, from_state)
        new_model = self._model(app_label, to_state)
        if not self.migrates(schema_editor, new_model):
            return
        _alter_db_table(schema_editor, new_model, old_model)
        # Automatic join tables are named after the model's table.
        for old_field, new_field in zip(
            old_model._meta.local_many_to_many, new_model._meta.local_many_to_many, strict=True,
        ):
            if new_field.remote_field.through._meta.auto_created:
                _alter_db_table(schema_editor, new_field.remote_field.through, old_field.remote_field.through)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Rename table for {self.name} to {self.table if self.table is not None else '(default)'}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_table"


class AlterModelOptions(ModelOptionOperation):
    """Set ``Meta`` options that do not change the schema (``ordering``, ...);
    historical models in ``RunPython`` see them."""

    #: The options this operation sets; any of them absent from ``options`` is removed.
    ALTER_OPTION_KEYS = ("get_latest_by", "ordering", "verbose_name", "verbose_name_plural")

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        unknown = set(options) - set(self.ALTER_OPTION_KEYS)
        if unknown:
            raise ValueError(
                f"AlterModelOptions cannot set {', '.join(sorted(unknown))}: it sets "
                f"{', '.join(self.ALTER_OPTION_KEYS)}. Use AlterModelTable, AlterUniqueTogether, "
                "AddIndex or AddConstraint for the others."
            )
        self.options = dict(options)
        super().__init__(name)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"name": self.name, "options": self.options}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.alter_model_options(app_label, self.name_lower, self.options, self.ALTER_OPTION_KEYS)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Nothing: these options do not reach the schema."""

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Nothing: these options do not reach the schema."""

    def describe(self) -> str:
        return f"Change Meta options on {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_options"


class AlterUniqueTogether(ModelOptionOperation):
    """Set ``Meta.unique_together`` (a set of field-name tuples; empty removes it)."""

    option_name = "unique_together"

    def __init__(self, name: str, unique_together: Any) -> None:
        self.unique_together = normalize_together(unique_together)
        super().__init__(name)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"name": self.name, "unique_together": self.unique_together}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        if self.unique_together:
            state.alter_model_options(app_label, self.name_lower, {"unique_together": self.unique_together})
        else:
            state.alter_model_options(app_label, self.name_lower, {}, ["unique_together"])

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        new_model = self._model(app_label, to_state)
        if not self.migrates(schema_editor, new_model):
            return
        old_state = self._model_state(app_label, from_state)
        new_state = self._model_state(app_label, to_state)
        schema_editor.alter_unique_together(
            new_model, old_state.options.get("unique_together") or set(),
            new_state.options.get("unique_together") or set(),
        )

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return self.references_model(model_name, app_label) and (
            not self.unique_together or any(name in group for group in self.unique_together))

    def describe(self) -> str:
        return f"Alter unique_together for {self.name} ({len(self.unique_together)} constraint(s))"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_unique_together"
