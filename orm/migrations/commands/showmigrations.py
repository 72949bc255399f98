"""``orm showmigrations [app ...]``: every migration, ``[X]`` applied or ``[ ]`` not (Django's list).

A squashed migration shows how many it replaces; ``[-]`` marks one whose
replaced migrations are all applied but that is not recorded itself yet
(the next ``migrate`` records it). Reading never creates ``orm_migrations``.
"""

from __future__ import annotations

import argparse

from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.migrations.commands.base import CommandError, add_database_argument, run, setup
from orm.migrations.loader import MigrationLoader
from orm.migrations.recorder import MigrationRecorder

HELP = "list migrations and whether each is applied"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``orm showmigrations``."""
    parser.add_argument("app_label", nargs="*", help="show these apps only (default: every app with migrations)")
    add_database_argument(parser)


def handle(args: argparse.Namespace) -> int:
    """Run ``orm showmigrations``; return the exit status."""
    return run("showmigrations", _show, args)


def _show(args: argparse.Namespace) -> int:
    settings = setup(args)
    connection = connections[DEFAULT_DB_ALIAS]
    loader = MigrationLoader(connection, apps=settings.apps)
    recorded = MigrationRecorder(connection).applied_migrations()
    unknown = [label for label in args.app_label if label not in loader.app_labels]
    if unknown:
        raise CommandError(
            f"No app with label {', '.join(map(repr, unknown))}; the apps are: "
            f"{', '.join(loader.app_labels) or 'none'} (set them in [tool.orm] apps)."
        )
    labels = args.app_label or sorted(loader.migrated_apps)
    graph = loader.graph
    for label in labels:
        print(label)
        shown: set[tuple[str, str]] = set()
        for leaf in graph.leaf_nodes(label):
            for key in graph.forwards_plan(leaf):
                if key in shown or key[0] != label:
                    continue
                shown.add(key)
                migration = graph.nodes[key]
                assert migration is not None
                title = key[1]
                if migration.replaces:
                    title += f" ({len(migration.replaces)} squashed migrations)"
                if key in recorded:
                    print(f" [X] {title}")
                elif key in loader.applied_migrations:
                    print(f" [-] {title} Run 'orm migrate' to finish recording.")
                else:
                    print(f" [ ] {title}")
        if not shown:
            print(" (no migrations)")
    return 0
