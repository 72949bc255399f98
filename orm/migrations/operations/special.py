"""``RunSQL``, ``RunPython`` and ``SeparateDatabaseAndState``.

``RunPython`` functions get the historical models of the state before the
operation (``apps.get_model("shop", "Book")``) and the schema editor, and run
on the migration's thread, inside the migration's transaction. An ``async
def`` function is run to completion by asgiref's ``async_to_sync`` from that
thread: asgiref then serves the function's thread-sensitive calls (every
``a*`` method of `orm`, and ``sync_to_async`` of the caller) *on this same
thread*, which holds the connection and its open transaction; so the
function's queries are part of the migration and roll back with it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync, iscoroutinefunction

from orm.db.routers import router
from orm.migrations.exceptions import IrreversibleError
from orm.migrations.operations.base import Operation

if TYPE_CHECKING:
    from orm.migrations.editor import MigrationSchemaEditor
    from orm.migrations.rendering import StateApps
    from orm.migrations.state import ProjectState

#: SQL for RunSQL: one string (several statements allowed), or a list of
#: strings and ``(sql, params)`` pairs.
SQL = str | Sequence[str | tuple[str, Sequence[Any]] | list[Any]]


class SeparateDatabaseAndState(Operation):
    """Change the state with ``state_operations`` and the database with
    ``database_operations`` (for changes the two must see differently)."""

    def __init__(self, database_operations: Sequence[Operation] | None = None,
                 state_operations: Sequence[Operation] | None = None) -> None:
        self.database_operations = list(database_operations or [])
        self.state_operations = list(state_operations or [])

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {}
        if self.database_operations:
            kwargs["database_operations"] = self.database_operations
        if self.state_operations:
            kwargs["state_operations"] = self.state_operations
        return type(self).__name__, [], kwargs

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        """Reversible when every database operation is."""
        return all(op.reversible for op in self.database_operations)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for operation in self.state_operations:
            operation.state_forwards(app_label, state)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        # The database operations run on states of their own, starting from
        # the state before this operation.
        for operation in self.database_operations:
            next_state = from_state.clone()
            operation.state_forwards(app_label, next_state)
            operation.database_forwards(app_label, schema_editor, from_state, next_state)
            from_state = next_state

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        states = [to_state]
        for operation in self.database_operations:
            states.append(states[-1].clone_without_apps())
            operation.state_forwards(app_label, states[-1])
        for index in range(len(self.database_operations), 0, -1):
            after, before = states[index], states[index - 1]
            if index == len(self.database_operations):
                after.inherit_apps(to_state)
            before.inherit_apps(after)
            self.database_operations[index - 1].database_backwards(app_label, schema_editor, after, before)

    def describe(self) -> str:
        return "Custom state/database change combination"


def split_sql(script: str) -> list[str]:
    """The statements of ``script``, comments stripped, empty ones dropped (via ``sqlparse``)."""
    import sqlparse  # only migrations with RunSQL scripts pay for the import

    statements = []
    for statement in sqlparse.split(script):
        text = sqlparse.format(statement, strip_comments=True).strip()
        if text and text != ";":
            statements.append(text)
    return statements


def _check_sql(sql: Any, role: str) -> None:
    if isinstance(sql, str) or sql is None:
        return
    if not isinstance(sql, list | tuple):
        raise TypeError(f"RunSQL {role} must be a string or a list, not {type(sql).__name__}.")
    for item in sql:
        if isinstance(item, str):
            continue
        if not isinstance(item, list | tuple) or len(item) != 2 or not isinstance(item[0], str):
            raise ValueError(
                f"RunSQL {role} list items must be SQL strings or (sql, params) pairs; got {item!r}."
            )


class RunSQL(Operation):
    """Run SQL: a string (split into statements), or a list of strings and ``(sql, params)``.

    Parameters use ``%s`` on every backend. A string without parameters is
    sent as written (a ``%`` is a percent sign). ``reverse_sql`` makes it
    reversible (``RunSQL.noop`` for "nothing to undo"); ``state_operations``
    tell the state what the SQL changed.
    """

    noop = ""

    def __init__(self, sql: SQL, reverse_sql: SQL | None = None,
                 state_operations: Sequence[Operation] | None = None, hints: dict[str, Any] | None = None,
                 elidable: bool = False) -> None:
        _check_sql(sql, "sql")
        _check_sql(reverse_sql, "reverse_sql")
        self.sql = sql
        self.reverse_sql = reverse_sql
        self.state_operations = list(state_operations or [])
        #: Passed to the routers' ``allow_migrate`` (e.g. ``{"model_name": "book"}``).
        self.hints = dict(hints or {})
        self.elidable = elidable

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"sql": self.sql}
        if self.reverse_sql is not None:
            kwargs["reverse_sql"] = self.reverse_sql
        if self.state_operations:
            kwargs["state_operations"] = self.state_operations
        if self.hints:
            kwargs["hints"] = self.hints
        if self.elidable:
            kwargs["elidable"] = True
        return type(self).__name__, [], kwargs

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        """Reversible when it has ``reverse_sql``."""
        return self.reverse_sql is not None

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for operation in self.state_operations:
            operation.state_forwards(app_label, state)

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if allowed(schema_editor, app_label, self.hints):
            self._run(schema_editor, self.sql)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if self.reverse_sql is None:
            raise IrreversibleError(f"{self!r} has no reverse_sql, so it cannot be unapplied.")
        if allowed(schema_editor, app_label, self.hints):
            self._run(schema_editor, self.reverse_sql)

    @staticmethod
    def _run(schema_editor: MigrationSchemaEditor, sql: SQL) -> None:
        if isinstance(sql, str):
            for statement in split_sql(sql):
                _execute_literal(schema_editor, statement)
            return
        for item in sql:
            if isinstance(item, str):
                _execute_literal(schema_editor, item)
            else:
                statement, params = item
                if params is None:
                    _execute_literal(schema_editor, statement)
                else:
                    schema_editor.execute(statement, list(params))

    def describe(self) -> str:
        return "Raw SQL operation"


def allowed(schema_editor: MigrationSchemaEditor, app_label: str, hints: dict[str, Any]) -> bool:
    """Whether the routers' ``allow_migrate`` lets RunSQL/RunPython run on the editor's database (Django's)."""
    if not router.routers:
        return True
    return router.allow_migrate(schema_editor.connection.alias, app_label, **hints)


def _execute_literal(schema_editor: MigrationSchemaEditor, sql: str) -> None:
    """Run SQL that has no parameters, its ``%`` signs meaning themselves.

    ``params=None`` tells ``schema_editor.execute`` to send the SQL exactly as
    written (and to collect it as written).
    """
    schema_editor.execute(sql, None)


RunPythonCode = Callable[[Any, Any], Any]


class RunPython(Operation):
    """Run ``code(apps, schema_editor)``: a function or an ``async def`` function.

    ``apps`` holds the historical models; ``reverse_code`` makes it reversible
    (``RunPython.noop`` for "nothing to undo"). ``atomic=True`` gives the
    function a transaction of its own when the migration is not atomic; in an
    atomic migration it runs inside the migration's transaction anyway.
    """

    reduces_to_sql = False

    def __init__(self, code: RunPythonCode, reverse_code: RunPythonCode | None = None,
                 atomic: bool | None = None, hints: dict[str, Any] | None = None, elidable: bool = False) -> None:
        if not callable(code):
            raise TypeError(f"RunPython needs a function (apps, schema_editor), got {code!r}.")
        if reverse_code is not None and not callable(reverse_code):
            raise TypeError(f"RunPython reverse_code must be a function or None, got {reverse_code!r}.")
        self.code = code
        self.reverse_code = reverse_code
        self.atomic = atomic
        #: Passed to the routers' ``allow_migrate``.
        self.hints = dict(hints or {})
        self.elidable = elidable

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"code": self.code}
        if self.reverse_code is not None:
            kwargs["reverse_code"] = self.reverse_code
        if self.atomic is not None:
            kwargs["atomic"] = self.atomic
        if self.hints:
            kwargs["hints"] = self.hints
        if self.elidable:
            kwargs["elidable"] = True
        return type(self).__name__, [], kwargs

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        """Reversible when it has ``reverse_code``."""
        return self.reverse_code is not None

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Nothing: combine with ``SeparateDatabaseAndState`` to change the state."""

    def database_forwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if allowed(schema_editor, app_label, self.hints):
            run_function(self.code, from_state.apps, schema_editor)

    def database_backwards(
        self, app_label: str, schema_editor: MigrationSchemaEditor, from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if self.reverse_code is None:
            raise IrreversibleError(f"{self!r} has no reverse_code, so it cannot be unapplied.")
        if allowed(schema_editor, app_label, self.hints):
            run_function(self.reverse_code, from_state.apps, schema_editor)

    def describe(self) -> str:
        return "Raw Python operation"

    @staticmethod
    def noop(apps: StateApps, schema_editor: MigrationSchemaEditor) -> None:
        """A function that does nothing (``RunPython(forwards, RunPython.noop)``)."""
        return None


def run_function(code: RunPythonCode, apps: StateApps, schema_editor: MigrationSchemaEditor) -> None:
    """Call a RunPython function, running an ``async def`` one to completion on this thread.

    ``async_to_sync`` runs the coroutine in an event loop of its own while this
    thread waits, serving the coroutine's thread-sensitive calls: `orm`'s
    ``a*`` methods land here, on the migration's connection and transaction.
    """
    if iscoroutinefunction(code):
        async_to_sync(code)(apps, schema_editor)
        return
    result = code(apps, schema_editor)
    if inspect.isawaitable(result):
        # A callable that returned an awaitable (a lambda around an async
        # function, a partial of one): run it here as well.
        async def wait() -> Any:
            return await result

        async_to_sync(wait)()
