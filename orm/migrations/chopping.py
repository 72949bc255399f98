"""Cutting the autodetector's queued operations into numbered migrations (Django's algorithm).

Each queued operation carries :class:`Dependency` records: "model X of app
A created", "field f of X removed", ... An operation whose dependency is
met by an operation of *another* app still queued must wait; everything
before it in its app becomes a migration, and the migrations of other apps
that it needed become that migration's dependencies. When every app is
waiting on another (a cycle of foreign keys across apps), the queues are
cut where they stand, which splits a model's creation from its relation
fields.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, NamedTuple, Protocol

from orm.migrations.migration import Migration
from orm.migrations.operations import (
    AddField,
    AlterField,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    Operation,
    RemoveField,
)

if TYPE_CHECKING:
    from orm.migrations.questioner import MigrationQuestioner


class GraphLike(Protocol):
    """What the autodetector needs of a migration graph: each app's leaf migrations."""

    def leaf_nodes(self, app_label: str, /) -> Sequence[tuple[str, str]]:
        """``[(app_label, migration_name)]`` of the app's latest migrations."""
        ...


class DepType(enum.Enum):
    """What an operation waits for."""

    CREATE = "create"
    REMOVE = "remove"
    ALTER = "alter"
    ALTER_TOGETHER = "alter_together"


class Dependency(NamedTuple):
    """An operation needs ``type`` done to model ``model_name`` (lower case) of
    ``app_label``, or to its field ``field_name``."""

    app_label: str
    model_name: str
    field_name: str | None
    type: DepType


class PendingOperation(NamedTuple):
    """A queued operation and what it waits for."""

    operation: Operation
    dependencies: list[Dependency]


def check_dependency(operation: Operation, dependency: Dependency) -> bool:
    """Whether ``operation`` is what ``dependency`` waits for."""
    model, field, kind = dependency.model_name.lower(), dependency.field_name, dependency.type
    field_lower = (field or "").lower()
    if kind is DepType.CREATE and field is None:
        return isinstance(operation, CreateModel) and operation.name_lower == model
    if kind is DepType.CREATE:
        return (isinstance(operation, CreateModel) and operation.name_lower == model
                and any(name == field for name, _ in operation.fields)) or (
            isinstance(operation, AddField) and operation.model_name_lower == model
            and operation.name_lower == field_lower)
    if kind is DepType.REMOVE and field is None:
        return isinstance(operation, DeleteModel) and operation.name_lower == model
    if kind is DepType.REMOVE:
        return (isinstance(operation, RemoveField) and operation.model_name_lower == model
                and operation.name_lower == field_lower)
    if kind is DepType.ALTER:
        return (isinstance(operation, AlterField) and operation.model_name_lower == model
                and operation.name_lower == field_lower)
    return isinstance(operation, AlterUniqueTogether) and operation.name_lower == model


def sort_operations(app_label: str, pending: list[PendingOperation]) -> list[PendingOperation]:
    """``pending`` ordered so each operation follows those of its app it depends on."""
    sorter: TopologicalSorter[int] = TopologicalSorter()
    for index, item in enumerate(pending):
        sorter.add(index)
        for dep in item.dependencies:
            if dep.app_label != app_label:
                continue
            sorter.add(index, *(other for other, candidate in enumerate(pending)
                                if other != index and check_dependency(candidate.operation, dep)))
    return [pending[index] for index in sorter.static_order()]


def _leaf(graph: GraphLike | Mapping[str, str] | None, app_label: str) -> tuple[str, str] | None:
    """The app's current leaf migration in ``graph``, or None."""
    if graph is None:
        return None
    if isinstance(graph, Mapping):
        name = graph.get(app_label)
        return (app_label, name) if name else None
    leaves = sorted(graph.leaf_nodes(app_label))
    return tuple(leaves[0]) if leaves else None  # type: ignore[return-value]


def build_migration_list(
    generated: dict[str, list[PendingOperation]], graph: GraphLike | Mapping[str, str] | None,
    existing_apps: set[str],
) -> dict[str, list[Migration]]:
    """Cut each app's queue into migrations (see the module docstring); ``generated`` is emptied.

    Migrations are named ``auto_1``, ``auto_2``... per app until
    :func:`arrange_for_graph` numbers them. ``ValueError`` if the
    dependencies cannot be met at all.
    """
    migrations: dict[str, list[Migration]] = {}
    num_ops = sum(len(queue) for queue in generated.values())
    chop_mode = False
    while num_ops:
        for app_label in sorted(generated):
            chopped, dependencies = _take_ready(app_label, generated, migrations, graph, chop_mode)
            if not (dependencies or chopped):
                continue
            if not generated[app_label] or chop_mode:
                migration = type("Migration", (Migration,), {"operations": [], "dependencies": []})(
                    f"auto_{len(migrations.get(app_label, [])) + 1}", app_label)
                migration.dependencies = sorted(dependencies)
                migration.operations = [item.operation for item in chopped]
                migration.initial = app_label not in existing_apps
                migrations.setdefault(app_label, []).append(migration)
                chop_mode = False
            else:
                # Not all of the app is ready: wait and cut it whole if possible.
                generated[app_label] = chopped + generated[app_label]
        new_num_ops = sum(len(queue) for queue in generated.values())
        if new_num_ops == num_ops:
            if chop_mode:
                raise ValueError(f"Cannot resolve operation dependencies: {generated!r}")
            chop_mode = True
        num_ops = new_num_ops
    for app_label, app_migrations in migrations.items():
        for previous, migration in zip(app_migrations, app_migrations[1:], strict=False):
            migration.dependencies = sorted({*migration.dependencies, (app_label, previous.name)})
    return migrations


def _take_ready(
    app_label: str, generated: dict[str, list[PendingOperation]], migrations: dict[str, list[Migration]],
    graph: GraphLike | Mapping[str, str] | None, chop_mode: bool,
) -> tuple[list[PendingOperation], set[tuple[str, str]]]:
    """Take operations off the front of the app's queue while their dependencies on
    other apps are met; return them and the migrations they depend on."""
    chopped: list[PendingOperation] = []
    dependencies: set[tuple[str, str]] = set()
    for item in list(generated[app_label]):
        satisfied = True
        needed: set[tuple[str, str]] = set()
        for dep in item.dependencies:
            if dep.app_label == app_label:
                continue
            if any(check_dependency(other.operation, dep) for other in generated.get(dep.app_label, [])):
                satisfied = False
                break
            if dep.app_label in migrations:
                needed.add((dep.app_label, migrations[dep.app_label][-1].name))
            elif chop_mode:
                # The other app has nothing queued: depend on its latest
                # migration, or on its first when it has none yet.
                needed.add(_leaf(graph, dep.app_label) or (dep.app_label, "__first__"))
            else:
                satisfied = False
        if not satisfied:
            break
        chopped.append(item)
        dependencies |= needed
        del generated[app_label][0]
    return chopped, dependencies


def parse_number(name: str) -> int | None:
    """The number a migration name starts with (the last one for ``0001_squashed_0004_...``)."""
    squashed = re.search(r".*_squashed_(\d+)", name)
    if squashed:
        return int(squashed[1])
    match = re.match(r"^\d+", name)
    return int(match[0]) if match else None


def arrange_for_graph(
    changes: dict[str, list[Migration]], graph: GraphLike | Mapping[str, str] | None,
    questioner: MigrationQuestioner, migration_name: str | None = None,
) -> dict[str, list[Migration]]:
    """Name and number the new migrations after each app's leaf (``0001_initial``,
    ``0002_book_isbn``...), make the first one depend on that leaf, and rename
    the dependencies between new migrations to match."""
    name_map: dict[tuple[str, str], tuple[str, str]] = {}
    for app_label, migrations in list(changes.items()):
        if not migrations:
            continue
        leaf = _leaf(graph, app_label)
        if leaf is None and not questioner.ask_initial(app_label):
            for migration in migrations:
                name_map[app_label, migration.name] = (app_label, "__first__")
            del changes[app_label]
            continue
        number = 1 if leaf is None else (parse_number(leaf[1]) or 0) + 1
        for i, migration in enumerate(migrations):
            if i == 0 and leaf is not None:
                migration.dependencies.append(leaf)
            if migration_name:
                suffix = migration_name
            elif i == 0 and leaf is None:
                suffix = "initial"
            else:
                suffix = migration.suggest_name()[:100]
            new_name = f"{number:04d}_{suffix}"
            name_map[app_label, migration.name] = (app_label, new_name)
            migration.name = new_name
            number += 1
    for migrations in changes.values():
        for migration in migrations:
            migration.dependencies = sorted({name_map.get(dep, dep) for dep in migration.dependencies})
    return changes


def trim_to_apps(changes: dict[str, list[Migration]], app_labels: set[str]) -> dict[str, list[Migration]]:
    """Only the migrations of ``app_labels`` and of the apps they (transitively) depend on."""
    app_dependencies: dict[str, set[str]] = {}
    for app_label, migrations in changes.items():
        for migration in migrations:
            for dep_app, _ in migration.dependencies:
                app_dependencies.setdefault(app_label, set()).add(dep_app)
    required = set(app_labels)
    previous: set[str] = set()
    while previous != required:
        previous = set(required)
        for app_label in previous:
            required |= app_dependencies.get(app_label, set())
    return {app_label: migrations for app_label, migrations in changes.items() if app_label in required}
