"""``Migration``: a named list of operations with dependencies, applied in one transaction.

A migration file defines ``class Migration(migrations.Migration)`` with
``dependencies``, ``operations`` and optionally ``atomic``, ``initial``,
``replaces``, ``run_before`` and ``lint_ignore``; the loader (next to come) instantiates it
with its name and app label.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from orm.db import transaction
from orm.migrations.exceptions import IrreversibleError
from orm.migrations.operations.base import Operation

if TYPE_CHECKING:
    from orm.migrations.editor import MigrationSchemaEditor
    from orm.migrations.state import ProjectState


__all__ = ["Migration"]


class Migration:
    """Base class of migrations (see the module docstring)."""

    #: The operations, applied in order.
    operations: list[Operation] = []
    #: ``(app_label, migration_name)`` of the migrations to apply first.
    dependencies: list[tuple[str, str]] = []
    #: ``(app_label, migration_name)`` of migrations that must wait for this one.
    run_before: list[tuple[str, str]] = []
    #: Names of the migrations of this app that this one replaces (a squash).
    replaces: list[str] = []
    #: Creates the app's first tables (``None``: when it has no dependency in its app).
    initial: bool | None = None
    #: Run in one transaction (``False``: each operation on its own).
    atomic: bool = True
    #: Rule codes ``orm lintmigrations`` leaves out for this migration (``"*"``: all of them).
    lint_ignore: list[str] = []

    def __init__(self, name: str, app_label: str) -> None:
        self.name = name
        self.app_label = app_label
        # Copies: the loader may change them on the instance.
        self.operations = list(type(self).operations)
        self.dependencies = list(type(self).dependencies)
        self.run_before = list(type(self).run_before)
        self.replaces = list(type(self).replaces)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Migration) and (self.name, self.app_label) == (other.name, other.app_label)

    def __hash__(self) -> int:
        return hash((self.app_label, self.name))

    def __repr__(self) -> str:
        return f"<Migration {self.app_label}.{self.name}>"

    def __str__(self) -> str:
        return f"{self.app_label}.{self.name}"

    def mutate_state(self, project_state: ProjectState, preserve: bool = True) -> ProjectState:
        """The state after this migration (a changed copy unless ``preserve=False``)."""
        state = project_state.clone() if preserve else project_state
        for operation in self.operations:
            operation.state_forwards(self.app_label, state)
        return state

    def apply(
        self, project_state: ProjectState, schema_editor: MigrationSchemaEditor, collect_sql: bool = False,
    ) -> ProjectState:
        """Apply every operation to the database, moving ``project_state`` along.

        ``project_state`` is the state before this migration; it is changed in
        place into the state after it, and returned. With ``collect_sql`` the
        editor only collects SQL (operations that cannot be SQL leave a comment).
        """
        for operation in self.operations:
            old_state = project_state.clone()
            operation.state_forwards(self.app_label, project_state)
            if collect_sql and not self._comment(schema_editor, operation):
                continue
            self._run(operation, operation.database_forwards, schema_editor, old_state, project_state)
        return project_state

    def unapply(
        self, project_state: ProjectState, schema_editor: MigrationSchemaEditor, collect_sql: bool = False,
    ) -> ProjectState:
        """Undo every operation, last first; ``project_state`` is the state *before* this migration.

        Raises ``IrreversibleError`` before anything runs when an operation
        cannot be unapplied. Returns ``project_state``.
        """
        for operation in self.operations:
            if not operation.reversible:
                raise IrreversibleError(
                    f"Operation {operation!r} in {self} cannot be unapplied (it has no reverse: "
                    "give RunPython a reverse_code or RunSQL a reverse_sql, or use their .noop)."
                )
        # The state around each operation; models no operation changed stay
        # shared, so each step below re-renders only what its operation changed.
        states = [project_state.clone_without_apps()]
        for operation in self.operations:
            state = states[-1].clone_without_apps()
            operation.state_forwards(self.app_label, state)
            states.append(state)
        states[-1].inherit_apps(project_state)
        for index in range(len(self.operations), 0, -1):
            operation, after, before = self.operations[index - 1], states[index], states[index - 1]
            before.inherit_apps(after)
            if collect_sql and not self._comment(schema_editor, operation):
                continue
            self._run(operation, operation.database_backwards, schema_editor, after, before)
        project_state.inherit_apps(states[0])
        return project_state

    def _run(
        self, operation: Operation, method: Callable[..., None], schema_editor: MigrationSchemaEditor,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        atomic_operation = operation.atomic or (self.atomic and operation.atomic is not False)
        if not schema_editor.atomic_migration and atomic_operation:
            # A non-atomic migration (or editor): this operation still gets a
            # transaction of its own.
            with transaction.atomic(schema_editor.connection.alias):
                method(self.app_label, schema_editor, from_state, to_state)
        else:
            method(self.app_label, schema_editor, from_state, to_state)

    @staticmethod
    def _comment(schema_editor: MigrationSchemaEditor, operation: Operation) -> bool:
        """Add the operation's description to the collected SQL; False when it has no SQL."""
        schema_editor.collected_sql.extend(["--", f"-- {operation.describe()}", "--"])
        if not operation.reduces_to_sql:
            schema_editor.collected_sql.append("-- THIS OPERATION CANNOT BE WRITTEN AS SQL")
            return False
        return True

    def suggest_name(self) -> str:
        """A name for a new migration file from its operations (``"book_isbn_and_more"``)."""
        if self.initial:
            return "initial"
        raw = [operation.migration_name_fragment for operation in self.operations]
        fragments = [re.sub(r"\W+", "_", name) for name in raw if name]
        if not fragments or len(fragments) != len(self.operations):
            return f"auto_{datetime.datetime.now().strftime('%Y%m%d_%H%M')}"
        name = fragments[0]
        for fragment in fragments[1:]:
            candidate = f"{name}_{fragment}"
            if len(candidate) > 52:
                return f"{name}_and_more"
            name = candidate
        return name
