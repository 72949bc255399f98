"""Index and constraint operations: ``AddIndex``, ``RemoveIndex``, ``RenameIndex``,
``AddConstraint``, ``RemoveConstraint`` (on ``Meta.indexes`` / ``Meta.constraints``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm.migrations.operations.base import Operation

if TYPE_CHECKING:
    from orm.migrations.editor import MigrationSchemaEditor
    from orm.migrations.state import ProjectState


class IndexOperation(Operation):
    """An operation on an index or constraint of model ``model_name``."""

    model_name: str

    @property
    def model_name_lower(self) -> str:
        """The model name, lower-cased."""
        return self.model_name.lower()

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.model_name_lower


class AddIndex(IndexOperation):
    """Add a named ``orm.Index`` to a model."""

    def __init__(self, model_name: str, index: Any) -> None:
        if not getattr(index, "name", None):
            raise ValueError(
                f"AddIndex needs a named index, and {index!r} has no name: "
                "give it one, e.g. orm.Index(fields=[...], name='book_title_idx')."
            )
        self.model_name = model_name
        self.index = index

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name, "index": self.index}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_index(app_label, self.model_name_lower, self.index)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.migrates(schema_editor, model):
            schema_editor.add_index(model, self.index)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.migrates(schema_editor, model):
            schema_editor.remove_index(model, self.index)

    def describe(self) -> str:
        return (f"Create index {self.index.name} on field(s) {', '.join(self.index.fields)} "
                f"of model {self.model_name}")

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.index.name.lower()}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, RemoveIndex) and operation.model_name_lower == self.model_name_lower:
            if operation.name == self.index.name:
                return []
        if isinstance(operation, RenameIndex) and operation.model_name_lower == self.model_name_lower:
            if operation.old_name == self.index.name:
                path, args, kwargs = self.index.deconstruct()
                kwargs["name"] = operation.new_name
                return [AddIndex(self.model_name, type(self.index)(*args, **kwargs))]
        return super().reduce(operation, app_label)


class RemoveIndex(IndexOperation):
    """Remove the index named ``name`` from a model."""

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.remove_index(app_label, self.model_name_lower, self.name)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        index = from_state.get_model_state(app_label, self.model_name).get_index_by_name(self.name)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.migrates(schema_editor, model):
            schema_editor.remove_index(model, index)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        index = to_state.get_model_state(app_label, self.model_name).get_index_by_name(self.name)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.migrates(schema_editor, model):
            schema_editor.add_index(model, index)

    def describe(self) -> str:
        return f"Remove index {self.name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.name.lower()}"


class RenameIndex(IndexOperation):
    """Rename an index: the one named ``old_name``, or the unnamed ``Meta.indexes``
    entry over ``old_fields`` (whose generated name the backend made)."""

    def __init__(
        self, model_name: str, new_name: str, old_name: str | None = None,
        old_fields: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        if not old_name and not old_fields:
            raise ValueError("RenameIndex needs old_name (a named index) or old_fields (an unnamed one).")
        if old_name and old_fields:
            raise ValueError("RenameIndex takes old_name or old_fields, not both.")
        self.model_name = model_name
        self.new_name = new_name
        self.old_name = old_name
        self.old_fields = list(old_fields) if old_fields else None

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model_name": self.model_name, "new_name": self.new_name}
        if self.old_name:
            kwargs["old_name"] = self.old_name
        if self.old_fields:
            kwargs["old_fields"] = self.old_fields
        return type(self).__name__, [], kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        if self.old_fields:
            state.name_unnamed_index(app_label, self.model_name_lower, self.old_fields, self.new_name)
        else:
            assert self.old_name is not None
            state.rename_index(app_label, self.model_name_lower, self.old_name, self.new_name)

    def _index(self, state: ProjectState, app_label: str, schema_editor: MigrationSchemaEditor,
               name: str | None) -> Any:
        """The index as ``state`` has it; an unnamed one gets its generated name."""
        model_state = state.get_model_state(app_label, self.model_name)
        if name is not None:
            return model_state.get_index_by_name(name)
        for index in model_state.options["indexes"]:
            if index.name is None and list(index.fields) == self.old_fields:
                model = state.apps.get_model(app_label, self.model_name)
                path, args, kwargs = index.deconstruct()
                kwargs["name"] = index.get_name(model, schema_editor)
                return type(index)(*args, **kwargs)
        raise ValueError(f"No unnamed index over {self.old_fields!r} on model {app_label}.{self.model_name}.")

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        old_index = self._index(from_state, app_label, schema_editor, self.old_name)
        new_index = self._index(to_state, app_label, schema_editor, self.new_name)
        if old_index.name != new_index.name:
            model = to_state.apps.get_model(app_label, self.model_name)
            if self.migrates(schema_editor, model):
                schema_editor.rename_index(model, old_index, new_index)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        # Back to the old name, or to the generated name of the unnamed index.
        old_index = self._index(from_state, app_label, schema_editor, self.new_name)
        new_index = self._index(to_state, app_label, schema_editor, self.old_name)
        if old_index.name != new_index.name:
            model = to_state.apps.get_model(app_label, self.model_name)
            if self.migrates(schema_editor, model):
                schema_editor.rename_index(model, old_index, new_index)

    def describe(self) -> str:
        if self.old_name:
            return f"Rename index {self.old_name} on {self.model_name} to {self.new_name}"
        return f"Rename unnamed index for {self.old_fields} on {self.model_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        if self.old_name:
            return f"rename_{self.old_name.lower()}_{self.new_name.lower()}"
        return f"rename_{self.model_name_lower}_{'_'.join(self.old_fields or [])}_{self.new_name.lower()}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if (isinstance(operation, RenameIndex) and operation.model_name_lower == self.model_name_lower
                and operation.old_name and self.new_name.lower() == operation.old_name.lower()):
            return [RenameIndex(self.model_name, operation.new_name, self.old_name, self.old_fields)]
        return super().reduce(operation, app_label)


class AddConstraint(IndexOperation):
    """Add an ``orm.UniqueConstraint`` or ``orm.CheckConstraint`` to a model."""

    def __init__(self, model_name: str, constraint: Any) -> None:
        self.model_name = model_name
        self.constraint = constraint

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name, "constraint": self.constraint}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_constraint(app_label, self.model_name_lower, self.constraint)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.migrates(schema_editor, model):
            schema_editor.add_constraint(model, self.constraint)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.migrates(schema_editor, model):
            schema_editor.remove_constraint(model, self.constraint)

    def describe(self) -> str:
        return f"Create constraint {self.constraint.name} on model {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.constraint.name.lower()}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if (isinstance(operation, RemoveConstraint) and operation.model_name_lower == self.model_name_lower
                and operation.name == self.constraint.name):
            return []
        return super().reduce(operation, app_label)


class RemoveConstraint(IndexOperation):
    """Remove the constraint named ``name`` from a model."""

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.remove_constraint(app_label, self.model_name_lower, self.name)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        constraint = from_state.get_model_state(app_label, self.model_name).get_constraint_by_name(self.name)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.migrates(schema_editor, model):
            schema_editor.remove_constraint(model, constraint)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        constraint = to_state.get_model_state(app_label, self.model_name).get_constraint_by_name(self.name)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.migrates(schema_editor, model):
            schema_editor.add_constraint(model, constraint)

    def describe(self) -> str:
        return f"Remove constraint {self.name} from model {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.name.lower()}"
