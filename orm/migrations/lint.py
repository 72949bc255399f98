"""The migration linter behind ``orm lintmigrations``: operations that hurt a live database.

Each rule has a stable code (``M001``...), a one-line explanation and the
safe alternative. Rules read the operations and the migration state before
each of them; no database is touched (a column type is compared with the
configured database's column types). A table "exists" when an earlier
migration made it: operations on a model created earlier in the same
migration are left alone, since no running code can use that table yet.

Findings are switched off per rule (``ignore``), per migration
(``ignore_migrations``, or ``lint_ignore = ["M006"]`` on the ``Migration``
class: those codes, or ``"*"`` for all).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from orm.abc import Connection
from orm.migrations.migration import Migration
from orm.migrations.operations import (
    AddConstraint,
    AddField,
    AddIndex,
    AlterField,
    AlterModelTable,
    CreateModel,
    DeleteModel,
    Operation,
    RemoveField,
    RenameField,
    RenameModel,
    RunPython,
    RunSQL,
    SeparateDatabaseAndState,
)
from orm.migrations.state import ProjectState

if TYPE_CHECKING:
    from orm.fields.base import Field

__all__ = ["RULES", "Finding", "LintOptions", "Rule", "lint_migration"]


@dataclass(frozen=True)
class Rule:
    """A lint rule: its stable ``code``, a short ``name``, what is wrong and the safe alternative."""

    code: str
    name: str
    explanation: str
    alternative: str


RULES: dict[str, Rule] = {rule.code: rule for rule in (
    Rule("M001", "add-not-null-column",
         "NOT NULL column without a database default on an existing table: code still running inserts "
         "rows without it and fails.",
         "Give the field db_default=..., or add it with null=True, backfill, and make it NOT NULL in a "
         "later release."),
    Rule("M002", "index-not-concurrent",
         "Index created without CONCURRENTLY: CREATE INDEX holds a SHARE lock, blocking every write to the "
         "table until the whole index is built.",
         "Use AddIndexConcurrently in a migration with atomic = False (PostgreSQL builds the index while "
         "writes go on)."),
    Rule("M003", "column-type-rewrite",
         "Column type change that rewrites the table: every row is copied under an ACCESS EXCLUSIVE lock "
         "(SQLite rebuilds the table).",
         "Add a column of the new type, backfill it in batches, switch the code over, then drop the old "
         "column; widening a varchar or turning it into text does not rewrite."),
    Rule("M004", "rename-or-drop",
         "Rename or drop of a column or table: code still running the previous release queries the old "
         "name and fails.",
         "Deploy code that no longer uses it first; drop it in a later release (SeparateDatabaseAndState "
         "lets the state forget it first); rename as add, copy, switch, drop."),
    Rule("M005", "constraint-not-valid",
         "Unique, foreign key or check constraint added without NOT VALID: adding it checks every row "
         "while holding a lock that blocks writes.",
         "Add a check with AddConstraintNotValid and validate it in a later migration with "
         "ValidateConstraint (a foreign key: RunSQL ... NOT VALID, then VALIDATE CONSTRAINT); for a unique "
         "constraint build a unique index concurrently first."),
    Rule("M006", "runpython-in-atomic",
         "RunPython inside an atomic migration: a data migration over a whole table holds its row locks "
         "(and the migration's DDL locks) until the end of one long transaction.",
         "Set atomic = False on the migration and update in batches, each in its own transaction; ignore "
         "M006 for a migration that touches a few rows."),
    Rule("M007", "runsql-without-reverse",
         "RunSQL without reverse_sql: the migration cannot be unapplied, so a failed deploy cannot be "
         "rolled back.",
         "Give reverse_sql (RunSQL.noop when there is nothing to undo)."),
    Rule("M008", "concurrently-in-atomic",
         "AddIndexConcurrently or RemoveIndexConcurrently in an atomic migration: PostgreSQL cannot run "
         "CONCURRENTLY in a transaction, so the migration fails at that operation.",
         "Set atomic = False on the migration (and keep the concurrent operation its only one)."),
)}


@dataclass(frozen=True)
class Finding:
    """One rule broken by one operation of one migration."""

    code: str
    rule: str
    migration: str
    operation_index: int
    operation: str
    message: str
    explanation: str
    alternative: str

    def as_dict(self) -> dict[str, Any]:
        """The finding as a JSON-ready ``dict``."""
        return asdict(self)


@dataclass
class LintOptions:
    """What to leave out: rule codes everywhere, whole migrations (``"app.name"``)."""

    ignore: set[str] = field(default_factory=set)
    ignore_migrations: set[str] = field(default_factory=set)


def lint_migration(migration: Migration, state: ProjectState, connection: Connection,
                   options: LintOptions | None = None) -> list[Finding]:
    """The findings of ``migration``, whose state before it is ``state`` (changed in place).

    ``connection`` gives the column types M003 compares (nothing is run on it).
    """
    options = options or LintOptions()
    own: Iterable[str] = getattr(migration, "lint_ignore", ()) or ()
    ignored = options.ignore | set(own)
    if str(migration) in options.ignore_migrations or "*" in ignored:
        for operation in migration.operations:
            operation.state_forwards(migration.app_label, state)
        return []
    findings: list[Finding] = []
    created: set[str] = set()  # models made earlier in this migration
    for index, operation in enumerate(migration.operations):
        for code, message in _check(operation, migration, state, created, connection):
            if code not in ignored:
                rule = RULES[code]
                findings.append(Finding(code, rule.name, str(migration), index, operation.describe(), message,
                                        rule.explanation, rule.alternative))
        if isinstance(operation, CreateModel):
            created.add(operation.name.lower())
        operation.state_forwards(migration.app_label, state)
    return findings


def _check(operation: Operation, migration: Migration, state: ProjectState, created: set[str],
           connection: Connection) -> Iterator[tuple[str, str]]:
    """``(code, message)`` of each rule ``operation`` breaks."""
    if isinstance(operation, SeparateDatabaseAndState):
        # Only the database half touches the database.
        for inner in operation.database_operations:
            yield from _check(inner, migration, state, created, connection)
        return
    if isinstance(operation, RunPython):
        atomic = operation.atomic or (migration.atomic and operation.atomic is not False)
        if atomic and operation.code is not RunPython.noop:
            yield "M006", f"{_code_name(operation.code)} runs inside the migration's transaction"
        return
    if isinstance(operation, RunSQL):
        if operation.reverse_sql is None:
            yield "M007", "RunSQL has no reverse_sql"
        return
    if getattr(operation, "concurrently", False) and migration.atomic:
        yield "M008", f"{type(operation).__name__} cannot run in the migration's transaction"
    model = getattr(operation, "model_name", None) or getattr(operation, "name", None) or ""
    if not isinstance(model, str) or model.lower() in created:
        return  # a table this migration made: nothing else can use it yet
    yield from _schema_rules(operation, migration, state, connection)


def _schema_rules(operation: Operation, migration: Migration, state: ProjectState,
                  connection: Connection) -> Iterator[tuple[str, str]]:
    app = migration.app_label
    if isinstance(operation, AddField):
        yield from _new_column(operation.model_name, operation.name, operation.field)
    elif isinstance(operation, AlterField):
        old = state.models[app, operation.model_name_lower].get_field(operation.name)
        yield from _changed_column(operation.model_name, operation.name, old, operation.field, connection)
    elif isinstance(operation, AddIndex) and not getattr(operation, "concurrently", False):
        yield "M002", f"index {operation.index.name} on {operation.model_name} is built without CONCURRENTLY"
    elif isinstance(operation, AddConstraint) and not getattr(operation, "not_valid", False):
        yield "M005", f"constraint {operation.constraint.name} on {operation.model_name} checks every row"
    elif isinstance(operation, (RemoveField, RenameField)):
        yield "M004", "the old column disappears while running code still uses it"
    elif isinstance(operation, (DeleteModel, RenameModel, AlterModelTable)):
        yield "M004", "the old table disappears while running code still uses it"


def _new_column(model: str, name: str, new: Field) -> Iterator[tuple[str, str]]:
    if getattr(new, "many_to_many", False):
        return  # a join table, not a column
    from orm.fields.base import NOT_PROVIDED

    if not new.null and new.db_default is NOT_PROVIDED and not getattr(new, "generated", False):
        yield "M001", f"{model}.{name} is NOT NULL without db_default"
    if getattr(new, "remote_field", None) is not None and getattr(new, "db_constraint", True):
        yield "M005", f"the foreign key {model}.{name} is checked against every row"
    if new.unique and not new.primary_key:
        yield "M005", f"the unique constraint of {model}.{name} checks every row"
    elif new.db_index:
        yield "M002", f"the index of {model}.{name} is built without CONCURRENTLY"


def _changed_column(model: str, name: str, old: Field, new: Field, connection: Connection) -> Iterator[tuple[str, str]]:
    old_type, new_type = old.db_type(connection), new.db_type(connection)
    if old_type != new_type and not _widens(old_type, new_type):
        yield "M003", f"{model}.{name} changes type from {old_type} to {new_type}"
    if old.null and not new.null:
        yield "M001", f"{model}.{name} becomes NOT NULL (every row is scanned)"
    if new.unique and not old.unique and not new.primary_key:
        yield "M005", f"the unique constraint of {model}.{name} checks every row"
    elif new.db_index and not old.db_index and not new.unique:
        yield "M002", f"the index of {model}.{name} is built without CONCURRENTLY"
    if getattr(new, "remote_field", None) is not None and getattr(old, "remote_field", None) is None:
        yield "M005", f"the foreign key {model}.{name} is checked against every row"


def _widens(old: str | None, new: str | None) -> bool:
    """Whether PostgreSQL changes ``old`` into ``new`` without a rewrite (binary-coercible widening)."""
    if old is None or new is None:
        return False
    old_base, _, old_rest = old.partition("(")
    new_base, _, new_rest = new.partition("(")
    if old_base == "varchar" and new_base in ("text", "varchar"):
        if new_base == "text":
            return True
        return int(new_rest.rstrip(")")) >= int(old_rest.rstrip(")"))
    return False


def _code_name(code: Any) -> str:
    return str(getattr(code, "__qualname__", None) or getattr(code, "__name__", None) or "RunPython code")
