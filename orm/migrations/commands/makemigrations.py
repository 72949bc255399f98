"""``orm makemigrations [app ...]``: write migration files for the changes in the models (Django's).

The state at the end of the migration files is compared with the current
models of the ``[tool.orm]`` apps; the autodetector's migrations are written
into each app's ``migrations/`` package (created with an ``__init__.py`` when
missing). ``--check`` exits 1 when there are changes and writes nothing,
``--dry-run`` prints without writing, ``--empty`` writes an empty migration
and ``--merge`` writes a merge migration for an app with two leaves.

Exit statuses: 0 success (or no changes); 1 a command error (conflicting
migrations without ``--merge``, changes under ``--check``, a value the writer
cannot serialize, a change migrations cannot express); 2 missing settings or
an unknown app label; 3 the questioner stopped (as Django).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
from pathlib import Path

from orm.migrations.autodetector import MigrationAutodetector
from orm.migrations.commands.base import CommandError, run, setup
from orm.migrations.loader import MigrationLoader
from orm.migrations.migration import Migration
from orm.migrations.questioner import (
    InteractiveMigrationQuestioner,
    MigrationQuestioner,
    MigrationQuestionError,
    NonInteractiveMigrationQuestioner,
)
from orm.migrations.serializer import SerializationError
from orm.migrations.state import ModelState, ProjectState
from orm.migrations.writer import MigrationWriter, merge_migration

HELP = "write migration files for model changes"

# The one-character mark Django 5.1+ prints before each operation.
_MARKS = (("Create", "+"), ("Add", "+"), ("Delete", "-"), ("Remove", "-"), ("RunPython", "p"),
          ("RunSQL", "s"), ("Rename", "~"), ("Alter", "~"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``orm makemigrations``."""
    parser.add_argument("app_label", nargs="*", help="make migrations for these apps only (default: every app)")
    parser.add_argument("-n", "--name", help="use this name for the migration file(s)")
    parser.add_argument("--empty", action="store_true", help="write an empty migration (needs app labels)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the models have changes without migrations; write nothing")
    parser.add_argument("--dry-run", action="store_true", help="show what would be written, write nothing")
    parser.add_argument("--merge", action="store_true", help="write a merge migration for conflicting leaves")
    parser.add_argument("--no-input", "--noinput", dest="interactive", action="store_false",
                        help="ask no question (also when standard input is not a terminal)")


def handle(args: argparse.Namespace) -> int:
    """Run ``orm makemigrations``; return the exit status."""
    return run("makemigrations", _make, args)


def _make(args: argparse.Namespace) -> int:
    settings = setup(args)
    # No connection: making migrations reads files and models only.
    loader = MigrationLoader(None, apps=settings.apps)
    unknown = [label for label in args.app_label if label not in loader.app_labels]
    if unknown:
        print(
            f"orm makemigrations: error: No app with label {', '.join(map(repr, unknown))}; the apps are: "
            f"{', '.join(loader.app_labels) or 'none'} (set them in [tool.orm] apps).", file=sys.stderr,
        )
        return 2
    if args.name is not None and not args.name.isidentifier():
        raise CommandError(f"The migration name {args.name!r} must be a valid Python identifier.")
    labels = list(args.app_label)
    conflicts = {app: leaves for app, leaves in loader.detect_conflicts().items() if not labels or app in labels}
    if conflicts and not args.merge:
        raise CommandError(loader.conflict_message(conflicts))
    if args.merge:
        return _merge(loader, conflicts, args)
    questioner = _questioner(args, labels)
    if args.empty:
        if not labels:
            raise CommandError("--empty needs at least one app label: orm makemigrations --empty APP.")
        changes = {label: [_empty(loader, label, args.name)] for label in labels}
    else:
        from_state = loader.project_state()
        autodetector = MigrationAutodetector(from_state, _current_state(loader), questioner)
        try:
            changes = autodetector.changes(loader.graph, trim_to_apps=labels or None, migration_name=args.name)
        except MigrationQuestionError as error:
            print(f"orm makemigrations: {error}", file=sys.stderr)
            return 3
        except (SerializationError, ValueError) as error:
            raise CommandError(str(error)) from None
    for warning in questioner.warnings:
        print(warning, file=sys.stderr)
    if not changes:
        if len(labels) == 1:
            print(f"No changes detected in app '{labels[0]}'")
        elif labels:
            print(f"No changes detected in apps '{', '.join(labels)}'")
        else:
            print("No changes detected")
        return 0
    _write(loader, changes, write=not (args.dry_run or args.check))
    return 1 if args.check else 0


def _questioner(args: argparse.Namespace, labels: list[str]) -> MigrationQuestioner:
    # Django asks only when a person can answer: not under --no-input and
    # not when standard input is a pipe or a file.
    if args.interactive and sys.stdin is not None and sys.stdin.isatty():
        return InteractiveMigrationQuestioner(specified_apps=labels, dry_run=args.dry_run or args.check)
    return NonInteractiveMigrationQuestioner(specified_apps=labels, dry_run=args.dry_run or args.check)


def _current_state(loader: MigrationLoader) -> ProjectState:
    """The state of the current models of the project's apps (join models left out)."""
    states = [
        ModelState.from_model(model)
        for config in loader.app_configs
        for model in config.get_models()
        if not model._meta.auto_created  # type: ignore[attr-defined]
    ]
    return ProjectState({state.key: state for state in states})


def _empty(loader: MigrationLoader, label: str, name: str | None) -> Migration:
    leaves = loader.graph.leaf_nodes(label)
    number = max((_number(leaf[1]) for leaf in leaves), default=0) + 1
    suffix = name or ("initial" if not leaves else "auto_" + datetime.datetime.now().strftime("%Y%m%d_%H%M"))
    subclass = type("Migration", (Migration,), {"dependencies": list(leaves), "operations": []})
    migration: Migration = subclass(f"{number:04d}_{suffix}", label)
    return migration


def _number(name: str) -> int:
    head = name.split("_", 1)[0]
    return int(head) if head.isdigit() else 0


def _merge(loader: MigrationLoader, conflicts: dict[str, list[str]], args: argparse.Namespace) -> int:
    if not conflicts:
        print("No conflicts detected to merge.")
        return 0
    changes = {app: [merge_migration(app, leaves, args.name)] for app, leaves in sorted(conflicts.items())}
    _write(loader, changes, write=not (args.dry_run or args.check))
    return 1 if args.check else 0


def migrations_dir(loader: MigrationLoader, label: str) -> Path:
    """The ``migrations`` package directory of app ``label`` (it may not exist yet)."""
    config = next(c for c in loader.app_configs if c.label == label)
    package = importlib.import_module(config.name)
    return Path(list(package.__path__)[0]) / "migrations"


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def _mark(operation: object) -> str:
    name = type(operation).__name__
    return next((mark for prefix, mark in _MARKS if name.startswith(prefix)), "?")


def _write(loader: MigrationLoader, changes: dict[str, list[Migration]], write: bool) -> None:
    """Print each migration (Django's format) and, when ``write``, write its file."""
    texts: dict[tuple[str, str], str] = {}
    for label, migrations in changes.items():
        for migration in migrations:
            try:
                # Every file is serialized before any is written: a value the
                # writer cannot handle leaves no half-written set of migrations.
                texts[label, migration.name] = MigrationWriter(migration).as_string()
            except SerializationError as error:
                raise CommandError(str(error)) from None
    for label, migrations in changes.items():
        print(f"Migrations for '{label}':")
        directory = migrations_dir(loader, label)
        for migration in migrations:
            path = directory / MigrationWriter(migration).filename
            print(f"  {_display(path)}")
            for operation in migration.operations:
                print(f"    {_mark(operation)} {operation.describe()}")
            if write:
                directory.mkdir(parents=True, exist_ok=True)
                init = directory / "__init__.py"
                if not init.exists():
                    init.write_text("")
                path.write_text(texts[label, migration.name])
