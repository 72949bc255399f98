"""Index and constraint operations: ``AddIndex``, ``RemoveIndex``, ``RenameIndex``,
``AddConstraint``, ``RemoveConstraint`` (on ``Meta.indexes`` / ``Meta.constraints``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from orm.migrations.operations.base import Operation

if TYPE_CHECKING:
    from orm.migrations.editor import MigrationSchemaEditor
    from orm.migrations.state import ProjectState
    from orm.models.constraints import BaseConstraint, Index


class IndexOperation(Operation):
    """An operation on an index or constraint of model ``model_name``."""

    model_name: str

    def _model_name(self) -> str:
        return self.model_name

    @property
    def model_name_lower(self) -> str:
        """The model name, lower-cased."""
        return self.model_name.lower()

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.model_name_lower


class _KindOperation(IndexOperation):
    """An index or constraint operation; ``kind`` (``"index"`` or ``"constraint"``)
    names the state and schema-editor methods it calls: ``ProjectState.add_<kind>``
    / ``remove_<kind>``, ``ModelState.get_<kind>_by_name`` and the editor's
    ``add_<kind>`` / ``remove_<kind>``."""

    kind: ClassVar[str]
    #: describe()'s text, formatted with the operation's attributes.
    description: ClassVar[str]

    def describe(self) -> str:
        return self.description.format_map(vars(self))

    def _by_name(self, state: ProjectState, app_label: str, name: str) -> Any:
        """The index or constraint called ``name`` on this model in ``state``."""
        return getattr(self._model_state(app_label, state), f"get_{self.kind}_by_name")(name)

    def _create(self, schema_editor: MigrationSchemaEditor, state: ProjectState, app_label: str,
                obj: Any) -> None:
        """Create ``obj`` in the database on this model as ``state`` renders it."""
        model = self._model(app_label, state)
        if self.migrates(schema_editor, model):
            getattr(schema_editor, f"add_{self.kind}")(model, obj)

    def _drop(self, schema_editor: MigrationSchemaEditor, state: ProjectState, app_label: str,
              obj: Any) -> None:
        """Drop ``obj`` from the database on this model as ``state`` renders it."""
        model = self._model(app_label, state)
        if self.migrates(schema_editor, model):
            getattr(schema_editor, f"remove_{self.kind}")(model, obj)


class _AddOperation(_KindOperation):
    """Add the index or constraint held in the attribute named ``kind``."""

    remove_operation: ClassVar[type[_RemoveOperation]]

    @property
    def _object(self) -> Any:
        return getattr(self, self.kind)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name, self.kind: self._object}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        getattr(state, f"add_{self.kind}")(app_label, self.model_name_lower, self._object)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._create(schema_editor, to_state, app_label, self._object)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._drop(schema_editor, from_state, app_label, self._object)

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self._object.name.lower()}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        # Adding then removing the same object is nothing at all.
        if (isinstance(operation, self.remove_operation) and operation.model_name_lower == self.model_name_lower
                and operation.name == self._object.name):
            return []
        return super().reduce(operation, app_label)


class _RemoveOperation(_KindOperation):
    """Remove the index or constraint called ``name``; the object itself comes
    from the state that still has it."""

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        getattr(state, f"remove_{self.kind}")(app_label, self.model_name_lower, self.name)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._drop(schema_editor, from_state, app_label, self._by_name(from_state, app_label, self.name))

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._create(schema_editor, to_state, app_label, self._by_name(to_state, app_label, self.name))

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.name.lower()}"


class RemoveIndex(_RemoveOperation):
    """Remove the index named ``name`` from a model."""

    kind = "index"
    description = "Remove index {name} from {model_name}"


class AddIndex(_AddOperation):
    """Add a named ``orm.Index`` to a model."""

    kind = "index"
    remove_operation = RemoveIndex

    def __init__(self, model_name: str, index: Index) -> None:
        if not getattr(index, "name", None):
            raise ValueError(
                f"AddIndex needs a named index, and {index!r} has no name: "
                "give it one, e.g. orm.Index(fields=[...], name='book_title_idx')."
            )
        self.model_name = model_name
        self.index = index

    def describe(self) -> str:
        return (f"Create index {self.index.name} on field(s) {', '.join(self.index.fields)} "
                f"of model {self.model_name}")

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if (isinstance(operation, RenameIndex) and operation.model_name_lower == self.model_name_lower
                and operation.old_name == self.index.name):
            path, args, kwargs = self.index.deconstruct()
            kwargs["name"] = operation.new_name
            return [AddIndex(self.model_name, type(self.index)(*args, **kwargs))]
        return super().reduce(operation, app_label)


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
        model_state = self._model_state(app_label, state)
        if name is not None:
            return model_state.get_index_by_name(name)
        for index in model_state.options["indexes"]:
            if index.name is None and list(index.fields) == self.old_fields:
                model = self._model(app_label, state)
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
            model = self._model(app_label, to_state)
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
            model = self._model(app_label, to_state)
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


class RemoveConstraint(_RemoveOperation):
    """Remove the constraint named ``name`` from a model."""

    kind = "constraint"
    description = "Remove constraint {name} from model {model_name}"


class AddConstraint(_AddOperation):
    """Add an ``orm.UniqueConstraint`` or ``orm.CheckConstraint`` to a model."""

    kind = "constraint"
    description = "Create constraint {constraint.name} on model {model_name}"
    remove_operation = RemoveConstraint

    def __init__(self, model_name: str, constraint: BaseConstraint) -> None:
        self.model_name = model_name
        self.constraint = constraint
