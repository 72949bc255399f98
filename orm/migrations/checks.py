"""The four checks of ``orm checkmigrations``: leaves, missing migrations, drift, round trip.

Each returns a list of problems (one line each; empty: the check passes):

- :func:`check_leaves`: every app's migrations end in exactly one leaf;
- :func:`check_missing`: the migration files describe the models
  (``makemigrations`` would write nothing);
- :func:`check_drift`: the live database has the tables, columns, column
  types, nullability and named indexes and constraints the applied
  migrations made, read by introspection;
- :func:`check_round_trip`: on an empty (scratch) database the migrations
  apply, unapply to zero leaving no table behind, and apply again to the
  same schema.
"""

from __future__ import annotations

from collections.abc import Sequence

from orm.abc import Connection
from orm.exceptions import DatabaseError
from orm.migrations.autodetector import MigrationAutodetector
from orm.migrations.exceptions import IrreversibleError
from orm.migrations.executor import InvalidMigrationPlan, MigrationExecutor, MigrationFailedError
from orm.migrations.loader import MigrationLoader
from orm.migrations.questioner import NonInteractiveMigrationQuestioner
from orm.migrations.recorder import MigrationRecord
from orm.migrations.state import ModelState, ProjectState
from orm.models.options import Options

__all__ = [
    "Snapshot", "check_drift", "check_leaves", "check_missing", "check_round_trip", "normalize_type", "snapshot",
]

#: table -> column -> nullable, plus the index and constraint names of each table.
Snapshot = dict[str, tuple[dict[str, bool], frozenset[str]]]

# Spellings of one type: what PostgreSQL's format_type() writes -> what the schema editor writes.
_TYPE_SYNONYMS = (
    ("character varying", "varchar"), ("timestamp without time zone", "timestamp"),
    ("time without time zone", "time"), ("character", "char"), ("decimal", "numeric"),
)


def check_leaves(loader: MigrationLoader) -> list[str]:
    """Apps whose migrations have more than one leaf (two branches nobody merged)."""
    return [
        f"app '{app}' has {len(leaves)} leaf migrations ({', '.join(leaves)}); "
        "merge them with 'orm makemigrations --merge'"
        for app, leaves in sorted(loader.detect_conflicts().items())
    ]


def check_missing(loader: MigrationLoader) -> list[str]:
    """The operations ``makemigrations`` would write, one line per app (none: the files match the models)."""
    current = ProjectState({
        state.key: state
        for config in loader.app_configs
        for model in config.get_models()
        if not model._meta.auto_created
        for state in [ModelState.from_model(model)]
    })
    questioner = NonInteractiveMigrationQuestioner(dry_run=True)
    changes = MigrationAutodetector(loader.project_state(), current, questioner).changes(loader.graph)
    return [
        f"app '{app}' has model changes without a migration: "
        + "; ".join(operation.describe() for migration in migrations for operation in migration.operations)
        + " (run 'orm makemigrations')"
        for app, migrations in sorted(changes.items())
    ]


def snapshot(connection: Connection, tables: Sequence[str] | None = None) -> Snapshot:
    """Columns (name -> nullable) and index/constraint names of ``tables`` (default: every table)."""
    introspection = connection.introspection
    names = introspection.table_names() if tables is None else tables
    result: Snapshot = {}
    with connection.cursor():
        for table in names:
            columns = {info.name: info.null_ok for info in introspection.get_table_description(table)}
            result[table] = (columns, frozenset(introspection.get_constraints(table)))
    return result


def check_drift(loader: MigrationLoader) -> list[str]:
    """How the live database differs from what its applied migrations made (introspected)."""
    connection = loader.require_connection()
    applied = [key for key in loader.applied_migrations if key in loader.graph.nodes]
    state = loader.project_state(applied) if applied else ProjectState()
    existing = set(connection.introspection.table_names())
    problems: list[str] = []
    for model in state.apps.get_models(include_auto_created=True):
        meta = model._meta
        if not getattr(meta, "managed", True) or meta.proxy:
            continue
        table = meta.db_table
        if table not in existing:
            problems.append(f"table {table} ({meta.label}) is missing")
            continue
        described = connection.introspection.get_table_description(table)
        columns = {info.name: info.null_ok for info in described}
        names = frozenset(connection.introspection.get_constraints(table))
        problems += _column_drift(table, meta, columns)
        problems += _type_drift(table, meta, {info.name: info.data_type for info in described}, connection)
        expected = [item.name for item in (*meta.indexes, *meta.constraints) if item.name]
        problems += [f"{table}: index or constraint {name} is missing" for name in expected if name not in names]
    return problems


def _column_drift(table: str, meta: Options, columns: dict[str, bool]) -> list[str]:
    problems: list[str] = []
    expected: set[str] = set()
    for field in meta.local_concrete_fields:
        if field.column is None:
            continue
        expected.add(field.column)
        if field.column not in columns:
            problems.append(f"{table}: column {field.column} ({meta.label}.{field.name}) is missing")
        elif not getattr(field, "generated", False) and columns[field.column] != bool(field.null):
            wanted, found = ("NULL", "NOT NULL") if field.null else ("NOT NULL", "NULL")
            problems.append(f"{table}: column {field.column} is {found}, the migrations make it {wanted}")
    problems += [f"{table}: column {column} is not in the migrations" for column in sorted(set(columns) - expected)]
    return problems


def _type_drift(table: str, meta: Options, types: dict[str, str], connection: Connection) -> list[str]:
    """Columns whose type in the database is not the one their field makes."""
    problems: list[str] = []
    for field in meta.local_concrete_fields:
        expected = field.db_type(connection)
        found = types.get(field.column)
        if expected is None or found is None or getattr(field, "generated", False):
            continue
        if normalize_type(found) != normalize_type(expected):
            problems.append(f"{table}: column {field.column} is {found}, the migrations make it {expected}")
    return problems


def normalize_type(name: str) -> str:
    """One spelling of a column type: lower case, PostgreSQL's long names shortened, no inner spaces."""
    text = " ".join(name.lower().split())
    for long, short in _TYPE_SYNONYMS:
        if text.startswith(long):
            text = short + text[len(long):]
            break
    return text.replace(", ", ",").replace(" (", "(")


def check_round_trip(connection: Connection, apps: Sequence[str]) -> list[str]:
    """Apply every migration on the empty database of ``connection``, unapply to zero, apply again.

    The database must be a scratch one: it is migrated, emptied and migrated
    again. Problems: a migration that fails or cannot be unapplied, a table
    left after unapplying everything, a schema that differs the second time.
    """
    executor = MigrationExecutor(connection, apps=apps)
    errors = (MigrationFailedError, IrreversibleError, InvalidMigrationPlan, DatabaseError)
    try:
        executor.migrate()
        first = snapshot(connection)
    except errors as error:
        return [f"applying the migrations failed: {error}"]
    try:
        executor.loader.build_graph()
        executor.migrate([(app, None) for app in sorted(executor.loader.migrated_apps)])
    except errors as error:
        return [f"unapplying the migrations failed: {error}"]
    left = sorted(set(connection.introspection.table_names()) - {MigrationRecord._meta.db_table})
    problems = [f"table {table} is left after unapplying every migration" for table in left]
    try:
        executor.migrate()
        second = snapshot(connection)
    except errors as error:
        return [*problems, f"applying the migrations again failed: {error}"]
    for table in sorted(set(first) | set(second)):
        if first.get(table) != second.get(table):
            problems.append(f"table {table} differs after unapplying and applying again: "
                            f"{_describe(first.get(table))} then {_describe(second.get(table))}")
    return problems


def _describe(entry: tuple[dict[str, bool], frozenset[str]] | None) -> str:
    if entry is None:
        return "(absent)"
    columns, names = entry
    return f"columns {sorted(columns)}, indexes/constraints {sorted(names)}"
