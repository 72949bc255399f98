"""Field operations: ``AddField``, ``RemoveField``, ``AlterField``, ``RenameField``.

The database side hands the schema editor historical models and fields:
the model as it is before the operation (``from_state``) and the field as it
is after (``to_state``), as Django's operations do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm.fields import NOT_PROVIDED
from orm.migrations.operations.base import Operation
from orm.migrations.references import field_references

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.migrations.editor import MigrationSchemaEditor
    from orm.migrations.state import ProjectState


class FieldOperation(Operation):
    """An operation on one field of one model."""

    def __init__(self, model_name: str, name: str, field: Any = None) -> None:
        self.model_name = model_name
        self.name = name
        self.field = field

    def _model_name(self) -> str:
        return self.model_name

    @property
    def model_name_lower(self) -> str:
        """The model name, lower-cased."""
        return self.model_name.lower()

    @property
    def name_lower(self) -> str:
        """The field name, lower-cased."""
        return self.name.lower()

    def is_same_model_operation(self, operation: Operation) -> bool:
        """True when ``operation`` works on the same model."""
        return self.model_name_lower == getattr(operation, "model_name_lower", None)

    def is_same_field_operation(self, operation: Any) -> bool:
        """True when ``operation`` works on the same field."""
        return self.is_same_model_operation(operation) and self.name_lower == operation.name_lower

    def references_model(self, name: str, app_label: str) -> bool:
        name_lower = name.lower()
        if name_lower == self.model_name_lower:
            return True
        if self.field is None:
            return False
        return field_references((app_label, self.model_name_lower), self.field, (app_label, name_lower)) is not None

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        model_name_lower = model_name.lower()
        if model_name_lower == self.model_name_lower and name.lower() == self.name_lower:
            return True
        if self.field is None:
            return False
        return field_references(
            (app_label, self.model_name_lower), self.field, (app_label, model_name_lower), name,
        ) is not None

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        return super().reduce(operation, app_label) or not operation.references_field(
            self.model_name, self.name, app_label)


class AddField(FieldOperation):
    """Add a field (and its column) to a model.

    ``preserve_default=False``: the default only fills the rows that exist
    when the column is added; the state (and later migrations) keeps the
    field without it.
    """

    def __init__(self, model_name: str, name: str, field: Field, preserve_default: bool = True) -> None:
        self.preserve_default = preserve_default
        super().__init__(model_name, name, field)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model_name": self.model_name, "name": self.name, "field": self.field}
        if self.preserve_default is not True:
            kwargs["preserve_default"] = self.preserve_default
        return type(self).__name__, [], kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_field(app_label, self.model_name_lower, self.name, self.field, self.preserve_default)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        to_model = self._model(app_label, to_state)
        from_model = self._model(app_label, from_state)
        if not self.migrates(schema_editor, to_model):
            return
        field = to_model._meta.get_field(self.name)
        if not self.preserve_default:
            # The historical field has no default; existing rows still need this one.
            field.default = self.field.default
        try:
            schema_editor.add_field(from_model, field)
        finally:
            if not self.preserve_default:
                field.default = NOT_PROVIDED

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        from_model = self._model(app_label, from_state)
        if self.migrates(schema_editor, from_model):
            schema_editor.remove_field(from_model, from_model._meta.get_field(self.name))

    def describe(self) -> str:
        return f"Add field {self.name} to {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.name_lower}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, FieldOperation) and self.is_same_field_operation(operation):
            if isinstance(operation, AlterField):
                return [AddField(self.model_name, operation.name, operation.field)]
            if isinstance(operation, RemoveField):
                return []
            if isinstance(operation, RenameField):
                return [AddField(self.model_name, operation.new_name, self.field, self.preserve_default)]
        return super().reduce(operation, app_label)


class RemoveField(FieldOperation):
    """Remove a field (and its column, or its join table) from a model."""

    def __init__(self, model_name: str, name: str) -> None:
        super().__init__(model_name, name)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.remove_field(app_label, self.model_name_lower, self.name)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        from_model = self._model(app_label, from_state)
        if self.migrates(schema_editor, from_model):
            schema_editor.remove_field(from_model, from_model._meta.get_field(self.name))

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        to_model = self._model(app_label, to_state)
        from_model = self._model(app_label, from_state)
        if self.migrates(schema_editor, to_model):
            schema_editor.add_field(from_model, to_model._meta.get_field(self.name))

    def describe(self) -> str:
        return f"Remove field {self.name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.name_lower}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        from orm.migrations.operations.models import DeleteModel

        if isinstance(operation, DeleteModel) and operation.name_lower == self.model_name_lower:
            return [operation]
        return super().reduce(operation, app_label)


class AlterField(FieldOperation):
    """Change a field's definition (type, null, default, unique, index, target, column)."""

    def __init__(self, model_name: str, name: str, field: Field, preserve_default: bool = True) -> None:
        self.preserve_default = preserve_default
        super().__init__(model_name, name, field)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model_name": self.model_name, "name": self.name, "field": self.field}
        if self.preserve_default is not True:
            kwargs["preserve_default"] = self.preserve_default
        return type(self).__name__, [], kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.alter_field(app_label, self.model_name_lower, self.name, self.field, self.preserve_default)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        to_model = self._model(app_label, to_state)
        from_model = self._model(app_label, from_state)
        if not self.migrates(schema_editor, to_model):
            return
        from_field = from_model._meta.get_field(self.name)
        to_field = to_model._meta.get_field(self.name)
        if not self.preserve_default:
            to_field.default = self.field.default
        try:
            schema_editor.alter_field(from_model, from_field, to_field)
        finally:
            if not self.preserve_default:
                to_field.default = NOT_PROVIDED

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Alter field {self.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name_lower}_{self.name_lower}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, AlterField | RemoveField) and self.is_same_field_operation(operation):
            return [operation]
        if (isinstance(operation, RenameField) and self.is_same_field_operation(operation)
                and self.field.db_column is None):
            return [operation, AlterField(self.model_name, operation.new_name, self.field)]
        return super().reduce(operation, app_label)


class RenameField(FieldOperation):
    """Rename a field (and its column, unless ``db_column`` fixes it)."""

    def __init__(self, model_name: str, old_name: str, new_name: str) -> None:
        self.old_name = old_name
        self.new_name = new_name
        super().__init__(model_name, old_name)

    @property
    def old_name_lower(self) -> str:
        """The old field name, lower-cased."""
        return self.old_name.lower()

    @property
    def new_name_lower(self) -> str:
        """The new field name, lower-cased."""
        return self.new_name.lower()

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {
            "model_name": self.model_name, "old_name": self.old_name, "new_name": self.new_name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.rename_field(app_label, self.model_name_lower, self.old_name, self.new_name)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._alter(app_label, schema_editor, from_state, to_state, self.old_name, self.new_name)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._alter(app_label, schema_editor, from_state, to_state, self.new_name, self.old_name)

    def _alter(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState, from_name: str, to_name: str,
    ) -> None:
        to_model = self._model(app_label, to_state)
        from_model = self._model(app_label, from_state)
        if not self.migrates(schema_editor, to_model):
            return
        schema_editor.alter_field(
            from_model, from_model._meta.get_field(from_name), to_model._meta.get_field(to_name))

    def describe(self) -> str:
        return f"Rename field {self.old_name} on {self.model_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name_lower}_{self.model_name_lower}_{self.new_name_lower}"

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return self.references_model(model_name, app_label) and name.lower() in (
            self.old_name_lower, self.new_name_lower)

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if (isinstance(operation, RenameField) and self.is_same_model_operation(operation)
                and self.new_name_lower == operation.old_name_lower):
            return [RenameField(self.model_name, self.old_name, operation.new_name)]
        # Skip FieldOperation.reduce: references are checked against both names.
        return Operation.reduce(self, operation, app_label) or not (
            operation.references_field(self.model_name, self.old_name, app_label)
            or operation.references_field(self.model_name, self.new_name, app_label))
