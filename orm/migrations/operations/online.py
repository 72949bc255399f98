"""Operations that keep a PostgreSQL table online: Django's ``django.contrib.postgres`` four.

- ``AddIndexConcurrently`` / ``RemoveIndexConcurrently``: ``CREATE INDEX
  CONCURRENTLY`` / ``DROP INDEX CONCURRENTLY``, which let writes go on
  (``SHARE UPDATE EXCLUSIVE`` instead of ``SHARE`` / ``ACCESS EXCLUSIVE``).
  PostgreSQL cannot run them in a transaction, so the migration needs
  ``atomic = False``; inside a transaction they refuse with
  ``NotSupportedError`` before running anything. A failed concurrent build
  leaves an INVALID index behind; the next run drops it first and builds
  again.
- ``AddConstraintNotValid`` + ``ValidateConstraint``: a CHECK constraint
  added ``NOT VALID`` (new rows are checked, old ones are not: no scan, a
  brief lock), validated later under ``SHARE UPDATE EXCLUSIVE``, which
  lets reads and writes go on.

On SQLite, which has neither, they do what the plain operations do (an
index, a constraint checked when added; ``ValidateConstraint`` nothing), so
one migration file serves both backends; the transaction rule holds there
too, for the same reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from orm.exceptions import NotSupportedError
from orm.migrations.operations.base import Operation
from orm.migrations.operations.indexes import AddConstraint, AddIndex, RemoveIndex
from orm.utils.identifiers import quote_name

if TYPE_CHECKING:
    from orm.backends.base.schema import BaseDatabaseSchemaEditor
    from orm.migrations.editor import MigrationSchemaEditor
    from orm.migrations.state import ProjectState
    from orm.models.base import Model
    from orm.models.constraints import BaseConstraint

__all__ = ["AddConstraintNotValid", "AddIndexConcurrently", "RemoveIndexConcurrently", "ValidateConstraint"]


def _ensure_not_in_transaction(operation: Operation, schema_editor: MigrationSchemaEditor) -> None:
    # Collecting SQL opens no transaction, but the migration would run in one.
    collecting_atomic = schema_editor.collect_sql and schema_editor.atomic_migration
    if schema_editor.connection.in_atomic_block or collecting_atomic:
        raise NotSupportedError(
            f"The {type(operation).__name__} operation cannot be executed inside a transaction "
            "(set atomic = False on the migration)."
        )


def _postgresql(schema_editor: MigrationSchemaEditor) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


def _concurrently(operation: Operation, schema_editor: MigrationSchemaEditor) -> bool:
    """Refuse inside a transaction (on both backends); True where CONCURRENTLY exists (PostgreSQL)."""
    _ensure_not_in_transaction(operation, schema_editor)
    return _postgresql(schema_editor)


def _create_concurrently(schema_editor: MigrationSchemaEditor, model: type[Model], index: Any) -> None:
    name = index.get_name(model, schema_editor) if hasattr(index, "get_name") else index.name
    if not schema_editor.collect_sql:
        # A concurrent build that failed (or was cancelled) leaves an INVALID
        # index of that name; building again would fail on the name.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = %s AND NOT i.indisvalid AND pg_catalog.pg_table_is_visible(c.oid)", [name],
            )
            invalid = cursor.fetchone() is not None
        if invalid:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote_name(name)}")
    sql = index.create_sql(model, schema_editor)
    schema_editor.execute(sql.replace("CREATE INDEX ", "CREATE INDEX CONCURRENTLY ", 1))


def _drop_concurrently(schema_editor: MigrationSchemaEditor, model: type[Model], index: Any) -> None:
    name = index.get_name(model, schema_editor) if hasattr(index, "get_name") else index.name
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote_name(name)}")


class AddIndexConcurrently(AddIndex):
    """Create an index with PostgreSQL's ``CREATE INDEX CONCURRENTLY`` (needs ``atomic = False``)."""

    atomic = False
    #: Read by ``orm lintmigrations`` (rule M002 does not apply).
    concurrently = True

    def describe(self) -> str:
        return (f"Concurrently create index {self.index.name} on field(s) {', '.join(self.index.fields)} "
                f"of model {self.model_name}")

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if _concurrently(self, schema_editor):
            _create_concurrently(schema_editor, self._model(app_label, to_state), self.index)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if _concurrently(self, schema_editor):
            _drop_concurrently(schema_editor, self._model(app_label, from_state), self.index)
        else:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrently(RemoveIndex):
    """Drop an index with PostgreSQL's ``DROP INDEX CONCURRENTLY`` (needs ``atomic = False``)."""

    atomic = False
    concurrently = True
    description = "Concurrently remove index {name} from {model_name}"

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if _concurrently(self, schema_editor):
            index = self._by_name(from_state, app_label, self.name)
            _drop_concurrently(schema_editor, self._model(app_label, from_state), index)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if _concurrently(self, schema_editor):
            index = self._by_name(to_state, app_label, self.name)
            _create_concurrently(schema_editor, self._model(app_label, to_state), index)
        else:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AddConstraintNotValid(AddConstraint):
    """Add a CHECK constraint ``NOT VALID`` on PostgreSQL: rows already there are not checked yet."""

    description = "Create not valid constraint {constraint.name} on model {model_name}"
    #: Read by ``orm lintmigrations`` (rule M005 does not apply).
    not_valid = True

    def __init__(self, model_name: str, constraint: BaseConstraint) -> None:
        from orm.models.constraints import CheckConstraint

        if not isinstance(constraint, CheckConstraint):
            raise TypeError("AddConstraintNotValid.constraint must be a check constraint.")
        super().__init__(model_name, constraint)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if not _postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = self._model(app_label, to_state)
        # The editor behind the migration protocol is the backend's (what constraints take).
        inline = self.constraint.constraint_sql(model, cast("BaseDatabaseSchemaEditor", schema_editor))
        table = quote_name(model._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} ADD {inline} NOT VALID")

    @property
    def migration_name_fragment(self) -> str:
        return super().migration_name_fragment + "_not_valid"


class ValidateConstraint(Operation):
    """Check the rows a ``NOT VALID`` constraint skipped (PostgreSQL's ``VALIDATE CONSTRAINT``)."""

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def _model_name(self) -> str:
        return self.model_name

    def describe(self) -> str:
        return f"Validate constraint {self.name} on model {self.model_name}"

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Nothing: the state does not track validation."""

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if not _postgresql(schema_editor):
            return  # SQLite checked the constraint when it was added
        model = self._model(app_label, from_state)
        table = quote_name(model._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote_name(self.name)}")

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Nothing: PostgreSQL has no way to make a constraint invalid again."""

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_validate_{self.name.lower()}"

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.model_name.lower()
