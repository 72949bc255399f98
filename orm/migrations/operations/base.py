"""``Operation``: one step of a migration, on the state and on the database.

An operation changes a :class:`~orm.migrations.state.ProjectState`
(``state_forwards``) and the database (``database_forwards`` /
``database_backwards``, given the states before and after it), says what it
does (``describe``), how to rebuild it (``deconstruct``, written to
migration files) and how it merges with a later operation (``reduce``, used
by the optimizer). Operations are immutable once made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm.db.routers import router
from orm.fields import deep_deconstruct

if TYPE_CHECKING:
    from orm.migrations.editor import MigrationSchemaEditor
    from orm.migrations.state import ModelState, ProjectState


class Operation:
    """Base class of migration operations (Django's ``Operation``)."""

    #: Can this operation be unapplied?
    reversible = True
    #: Can this operation be written as SQL (``sqlmigrate``)? ``RunPython`` cannot.
    reduces_to_sql = True
    #: Run in its own transaction even when the migration is not atomic
    #: (``None``, on ``RunPython``: as the migration says).
    atomic: bool | None = False
    #: May the optimizer drop this operation (when squashing)?
    elidable = False
    _constructor_args: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # Keep the arguments as given: the default deconstruct() returns them.
        self = object.__new__(cls)
        self._constructor_args = (args, kwargs)
        return self

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        """``(class name, args, kwargs)``: ``migrations.<name>(*args, **kwargs)`` rebuilds it."""
        args, kwargs = self._constructor_args
        return type(self).__name__, list(args), dict(kwargs)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Change ``state`` the way this operation changes the models."""
        raise NotImplementedError(f"{type(self).__name__} must define state_forwards().")

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Change the database from ``from_state`` to ``to_state`` (the states around this operation)."""
        raise NotImplementedError(f"{type(self).__name__} must define database_forwards().")

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Undo :meth:`database_forwards`: ``from_state`` is the state after this operation."""
        raise NotImplementedError(f"{type(self).__name__} must define database_backwards().")

    def _model_name(self) -> str:
        """The name of the model this operation works on (for :meth:`_model`)."""
        raise NotImplementedError(f"{type(self).__name__} works on no single model.")

    def _model(self, app_label: str, state: ProjectState) -> Any:
        """This operation's model, as ``state`` renders it."""
        return state.apps.get_model(app_label, self._model_name())

    def _models(self, app_label: str, from_state: ProjectState, to_state: ProjectState) -> tuple[Any, Any]:
        """This operation's model before and after it: ``(from_model, to_model)``."""
        return self._model(app_label, from_state), self._model(app_label, to_state)

    def _model_state(self, app_label: str, state: ProjectState) -> ModelState:
        """This operation's model as plain data in ``state``."""
        return state.get_model_state(app_label, self._model_name())

    def allow_migrate_model(self, connection_alias: str, model: Any) -> bool:
        """Whether this operation may change ``model``'s table on ``connection_alias`` (Django's).

        A proxy model has no table of its own, so its operations change the
        state only; otherwise the routers' ``allow_migrate`` decides (hints
        ``model_name`` and ``model``). The state moves on either way.
        """
        if model._meta.proxy:
            return False
        if not router.routers:
            return True  # nothing to ask: skip the call on every operation
        return router.allow_migrate_model(connection_alias, model)

    def migrates(self, schema_editor: MigrationSchemaEditor, model: Any) -> bool:
        """:meth:`allow_migrate_model` on the editor's database."""
        return self.allow_migrate_model(schema_editor.connection.alias, model)

    def describe(self) -> str:
        """A one-line human description."""
        args, kwargs = self._constructor_args
        return f"{type(self).__name__}: {args!r} {kwargs!r}"

    @property
    def migration_name_fragment(self) -> str | None:
        """A part for an automatic migration name (``"book_isbn"``), or None."""
        return None

    def references_model(self, name: str, app_label: str) -> bool:
        """Could this operation refer to model ``app_label.name``? (True when unsure.)"""
        return True

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        """Could this operation refer to field ``name`` of that model? (True when unsure.)"""
        return self.references_model(model_name, app_label)

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Merge with a later ``operation``.

        A list replaces both operations (possibly by none); ``True`` says
        ``operation`` may be moved across this one; ``False`` neither.
        """
        if self.elidable:
            return [operation]
        if operation.elidable:
            return [self]
        return False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Operation):
            return NotImplemented
        return type(self) is type(other) and deep_deconstruct(self.deconstruct()) == deep_deconstruct(
            other.deconstruct())

    def __hash__(self) -> int:
        return hash(type(self).__qualname__)

    def __repr__(self) -> str:
        _, args, kwargs = self.deconstruct()
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"<{type(self).__name__} {', '.join(parts)}>"
