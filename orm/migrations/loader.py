"""The migration loader: reads each app's migration files and builds the graph (Django's loader).

For every app of the project it imports ``<package>.migrations`` and each
module in it (names starting with ``_`` or ``~`` are skipped); each must
define ``class Migration``. With a connection it also reads which
migrations are applied, which decides how a squashed migration
(``replaces``) is used: when all or none of the migrations it replaces are
applied it stands in for them; when only some are, it is left out and they
run one by one.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from orm.abc import Connection
from orm.conf import load_project_settings
from orm.migrations.apps import AppConfig, load_apps
from orm.migrations.graph import Key, MigrationGraph, NodeNotFoundError
from orm.migrations.migration import Migration
from orm.migrations.recorder import MigrationRecorder
from orm.migrations.state import ProjectState

if TYPE_CHECKING:
    from orm.migrations.editor import MigrationSchemaEditor

__all__ = [
    "AmbiguityError",
    "BadMigrationError",
    "ConflictingMigrationsError",
    "InconsistentMigrationHistory",
    "MigrationLoader",
    "MigrationNotFoundError",
]


class BadMigrationError(Exception):
    """A migration file that cannot be used (no ``Migration`` class, a bad ``replaces``)."""


class AmbiguityError(LookupError):
    """A migration name prefix matches several migrations (the message lists them)."""


class MigrationNotFoundError(LookupError):
    """No migration of an app has this name or prefix (the message lists the app's migrations)."""


class InconsistentMigrationHistory(Exception):
    """A migration is recorded as applied while one of its dependencies is not."""


class ConflictingMigrationsError(Exception):
    """An app has more than one leaf migration (the message names the files)."""


def project_packages() -> list[str]:
    """The app packages of ``[tool.orm] apps`` (found from the working directory).

    Puts the project directory on ``sys.path`` so they import, as ``python -m``
    would from there.
    """
    settings = load_project_settings(require_database=False)
    root = str(settings.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    return settings.apps


class MigrationLoader:
    """Loads migration files from disk and, given a connection, which are applied.

    ``apps`` lists app packages (default: ``[tool.orm] apps``); ``connection``
    may be ``None`` (then nothing counts as applied). After construction:
    ``disk_migrations`` (``{(app_label, name): Migration}``),
    ``applied_migrations``, ``graph``, ``migrated_apps``, ``unmigrated_apps``
    and ``replacements`` (the squashed migrations).
    """

    def __init__(
        self, connection: Connection | None, load: bool = True, ignore_no_migrations: bool = False,
        replace_migrations: bool = True, apps: Sequence[str] | None = None,
    ) -> None:
        self.connection = connection
        self.ignore_no_migrations = ignore_no_migrations
        self.replace_migrations = replace_migrations
        self.app_configs: list[AppConfig] = load_apps(list(project_packages() if apps is None else apps))
        self.disk_migrations: dict[Key, Migration] = {}
        self.migration_files: dict[Key, str] = {}
        self.applied_migrations: dict[Key, Any] = {}
        self.replacements: dict[Key, Migration] = {}
        self.replaced: dict[Key, list[Key]] = {}
        self.migrated_apps: set[str] = set()
        self.unmigrated_apps: set[str] = set()
        self.graph = MigrationGraph()
        if load:
            self.build_graph()

    @property
    def app_labels(self) -> list[str]:
        """The labels of the project's apps, in settings order."""
        return [config.label for config in self.app_configs]

    # -- files ---------------------------------------------------------------------
    def load_disk(self) -> None:
        """Import every app's migration modules into ``disk_migrations``."""
        self.disk_migrations, self.migration_files = {}, {}
        self.migrated_apps, self.unmigrated_apps = set(), set()
        # Files written since the last import (by makemigrations, or a test) in
        # the same second would be missed by the import system's directory cache.
        importlib.invalidate_caches()
        for config in self.app_configs:
            module = self._migrations_package(config)
            if module is None:
                self.unmigrated_apps.add(config.label)
                continue
            self.migrated_apps.add(config.label)
            names = sorted(
                name for _, name, is_package in pkgutil.iter_modules(module.__path__)
                if not is_package and name[0] not in "_~"
            )
            for name in names:
                self._load_file(config, name)

    @staticmethod
    def _migrations_package(config: AppConfig) -> Any:
        name = config.migrations_module
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name in (name, config.name):
                return None
            raise
        # A plain migrations.py module (not a package) holds no migration files.
        return module if hasattr(module, "__path__") else None

    def _load_file(self, config: AppConfig, name: str) -> None:
        module = importlib.import_module(f"{config.migrations_module}.{name}")
        klass = getattr(module, "Migration", None)
        if not (isinstance(klass, type) and issubclass(klass, Migration)):
            raise BadMigrationError(
                f"Migration file {module.__file__} (app {config.label!r}) has no class Migration "
                "derived from orm.migrations.Migration."
            )
        key = (config.label, name)
        migration = klass(name, config.label)
        self.disk_migrations[key] = migration
        self.migration_files[key] = str(module.__file__)
        if migration.replaces:
            self.replaced[key] = [self._replaced_key(migration, item) for item in migration.replaces]

    @staticmethod
    def _replaced_key(migration: Migration, item: Any) -> Key:
        # Django writes (app_label, name) pairs; a bare name means this app.
        if isinstance(item, str):
            return migration.app_label, item
        if isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(p, str) for p in item):
            return item[0], item[1]
        raise BadMigrationError(
            f"Migration {migration} has an invalid entry in replaces: {item!r}; use "
            "'0001_initial' or ('app_label', '0001_initial')."
        )

    def file_of(self, key: Key) -> str:
        """The path of a migration's file, relative to the working directory when inside it."""
        path = Path(self.migration_files.get(key, f"{key[0]}/migrations/{key[1]}.py"))
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    # -- lookups -------------------------------------------------------------------
    def get_migration(self, app_label: str, name_prefix: str) -> Migration:
        """The migration of the graph called ``name_prefix`` in ``app_label``."""
        migration = self.graph.nodes[app_label, name_prefix]
        assert migration is not None
        return migration

    def get_migration_by_prefix(self, app_label: str, name_prefix: str) -> Migration:
        """The one migration of ``app_label`` whose name starts with ``name_prefix``.

        An exact name always wins. Raises :class:`AmbiguityError` or
        :class:`MigrationNotFoundError`, each listing the candidates.
        """
        names = sorted(name for label, name in self.disk_migrations if label == app_label)
        if name_prefix in names:
            return self.disk_migrations[app_label, name_prefix]
        matches = [name for name in names if name.startswith(name_prefix)]
        if len(matches) > 1:
            raise AmbiguityError(
                f"More than one migration of app {app_label!r} starts with {name_prefix!r}: "
                f"{', '.join(matches)}. Give more of the name."
            )
        if not matches:
            raise MigrationNotFoundError(
                f"App {app_label!r} has no migration named {name_prefix!r} (nor starting with it). "
                f"Its migrations: {', '.join(names) or 'none'}."
            )
        return self.disk_migrations[app_label, matches[0]]

    # -- graph ---------------------------------------------------------------------
    def build_graph(self) -> None:
        """Load the files (and the applied migrations), then build and check ``graph``."""
        self.load_disk()
        if self.connection is None:
            self.applied_migrations = {}
        else:
            self.applied_migrations = MigrationRecorder(self.connection).applied_migrations()
        self.graph = MigrationGraph()
        self.replacements = {}
        for key, migration in self.disk_migrations.items():
            self.graph.add_node(key, migration)
            if key in self.replaced:
                self.replacements[key] = migration
        for key, migration in self.disk_migrations.items():
            self._add_dependencies(key, migration, internal=True)
        for key, migration in self.disk_migrations.items():
            self._add_dependencies(key, migration, internal=False)
        if self.replace_migrations:
            self._fold_replacements()
        self.graph.validate_consistency()
        self.graph.ensure_not_cyclic()

    def _add_dependencies(self, key: Key, migration: Migration, internal: bool) -> None:
        # Dependencies inside the app first, so '__first__'/'__latest__' of
        # another app can be resolved against a complete app.
        for raw in migration.dependencies:
            parent = self._dependency_key(migration, raw)
            if internal and (parent[0] != key[0] or parent[1] in ("__first__", "__latest__")):
                continue
            if not internal and parent[0] == key[0]:
                continue
            resolved = parent if internal else self._check_key(parent, key[0])
            if resolved is not None:
                self.graph.add_dependency(migration, key, resolved, skip_validation=True)
        if not internal:
            for raw in migration.run_before:
                child = self._check_key(self._dependency_key(migration, raw), key[0])
                if child is not None:
                    self.graph.add_dependency(migration, child, key, skip_validation=True)

    @staticmethod
    def _dependency_key(migration: Migration, raw: Any) -> Key:
        if isinstance(raw, (tuple, list)) and len(raw) == 2 and all(isinstance(p, str) for p in raw):
            return raw[0], raw[1]
        raise BadMigrationError(
            f"Migration {migration} has an invalid dependency {raw!r}; use ('app_label', '0001_initial')."
        )

    def _check_key(self, key: Key, current_app: str) -> Key | None:
        """Resolve ``__first__``/``__latest__`` of another app; ``None`` for an app without migrations."""
        if key[1] not in ("__first__", "__latest__") or key in self.graph:
            return key
        if key[0] == current_app:
            return None  # '__first__' of the app itself: no edge
        if key[0] in self.unmigrated_apps:
            return None  # depends on an app whose tables come from create_tables
        if key[0] in self.migrated_apps:
            nodes = self.graph.root_nodes(key[0]) if key[1] == "__first__" else self.graph.leaf_nodes(key[0])
            if nodes:
                return nodes[0]
        raise NodeNotFoundError(f"Dependency on app {key[0]!r}, which has no migrations: {key!r}", key)

    def _fold_replacements(self) -> None:
        for key, replaced in self.replaced.items():
            statuses = [target in self.applied_migrations for target in replaced]
            if all(statuses):
                self.applied_migrations[key] = self.disk_migrations[key]
            else:
                self.applied_migrations.pop(key, None)
            if all(statuses) or not any(statuses):
                self.graph.remove_replaced_nodes(key, replaced)
            else:
                # Partly applied: the replaced migrations must finish one by one.
                self.graph.remove_replacement_node(key, replaced)

    def check_consistent_history(self) -> None:
        """Raise :class:`InconsistentMigrationHistory` if an applied migration has an unapplied dependency."""
        applied = self.applied_migrations
        for key in applied:
            if key not in self.graph.nodes:
                continue
            for parent in self.graph.node_map[key].parents:
                if parent.key in applied:
                    continue
                replaced = self.replaced.get(parent.key)
                if replaced is not None and all(m in applied for m in replaced):
                    continue
                alias = getattr(self.connection, "alias", "default")
                raise InconsistentMigrationHistory(
                    f"Migration {key[0]}.{key[1]} is applied before its dependency "
                    f"{parent.key[0]}.{parent.key[1]} on database {alias!r}."
                )

    def detect_conflicts(self) -> dict[str, list[str]]:
        """``{app_label: [leaf names]}`` of every app with more than one leaf migration."""
        leaves: dict[str, list[str]] = {}
        for app, name in self.graph.leaf_nodes():
            leaves.setdefault(app, []).append(name)
        return {app: sorted(names) for app, names in leaves.items() if len(names) > 1}

    def conflict_message(self, conflicts: dict[str, list[str]]) -> str:
        """A message naming the files of each app's leaves and how to merge them."""
        parts = []
        for app, names in sorted(conflicts.items()):
            files = " and ".join(self.file_of((app, name)) for name in names)
            parts.append(f"app {app!r}: {files}")
        return (
            "Conflicting migrations: more than one leaf migration (no other migration depends "
            f"on them) in {'; '.join(parts)}. Run 'orm makemigrations --merge' to write a merge "
            "migration that depends on both, then migrate."
        )

    def check_ready(self) -> None:
        """Refuse to migrate with two leaves in an app or an inconsistent history."""
        conflicts = self.detect_conflicts()
        if conflicts:
            raise ConflictingMigrationsError(self.conflict_message(conflicts))
        if self.connection is not None:
            self.check_consistent_history()

    def require_connection(self) -> Connection:
        """The connection this loader reads, for the steps that need one."""
        if self.connection is None:
            raise ValueError(
                "This MigrationLoader was built without a database connection; pass one, "
                "as MigrationLoader(connections[alias]), to read or write the schema."
            )
        return self.connection

    def collect_sql(self, plan: list[tuple[Migration, bool]]) -> list[str]:
        """The SQL ``plan`` would run, as the schema editor writes it (nothing runs).

        Each migration starts from the state its files give just before it.
        """
        statements: list[str] = []
        state: ProjectState | None = None
        connection = self.require_connection()
        for migration, backwards in plan:
            with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as opened:
                # The abc protocol names what the layers below use; every backend's
                # editor (BaseDatabaseSchemaEditor) also has what migrations need.
                editor = cast("MigrationSchemaEditor", opened)
                if state is None:
                    state = self.project_state((migration.app_label, migration.name), at_end=False)
                if backwards:
                    state = migration.unapply(state, editor, collect_sql=True)
                else:
                    state = migration.apply(state, editor, collect_sql=True)
            statements.extend(editor.collected_sql)
        return statements

    def project_state(self, nodes: Key | list[Key] | None = None, at_end: bool = True) -> ProjectState:
        """The project state at the end of the migration files (or up to ``nodes``).

        ``at_end=False`` stops just before ``nodes``. This is what the
        autodetector compares the models with.
        """
        return self.graph.make_state(nodes=nodes, at_end=at_end)
