"""What the migration commands share: project settings, the database, errors and exit statuses.

Exit statuses: 0 success; 1 a command error (unknown or ambiguous migration,
conflicting migrations, a failed migration, ``migrate --check`` with
migrations to apply); 2 missing or broken settings (and usage errors, from
argparse).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

from orm.conf import ProjectSettings, load_project_settings
from orm.db.connections import configure, connections
from orm.exceptions import DatabaseError, ImproperlyConfigured
from orm.migrations.exceptions import IrreversibleError
from orm.migrations.executor import InvalidMigrationPlan, MigrationFailedError
from orm.migrations.graph import CircularDependencyError
from orm.migrations.loader import (
    BadMigrationError,
    ConflictingMigrationsError,
    InconsistentMigrationHistory,
)

__all__ = ["CommandError", "add_database_argument", "run", "setup"]

class CommandError(Exception):
    """A command cannot do what was asked; the message says why (exit status 1)."""


# Errors that are the user's to fix: shown as one message, exit status 1.
_COMMAND_ERRORS: tuple[type[Exception], ...] = (
    CommandError, LookupError, BadMigrationError, CircularDependencyError, ConflictingMigrationsError,
    InconsistentMigrationHistory, InvalidMigrationPlan, IrreversibleError, MigrationFailedError,
    DatabaseError,
)


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--database URL``, which replaces the ``default`` database of the settings."""
    parser.add_argument(
        "--database", metavar="URL",
        help="database URL for the default alias (overrides [tool.orm] and ORM_DATABASE_URL)",
    )


def setup(args: argparse.Namespace) -> ProjectSettings:
    """Read the project's settings, configure ``orm`` with them and make its apps importable."""
    settings = load_project_settings(getattr(args, "database", None))
    root = str(settings.root)
    # The `orm` script does not put the working directory on sys.path (as
    # `python -m` does); the apps are packages of the project directory.
    if root not in sys.path:
        sys.path.insert(0, root)
    configure(databases=settings.databases, routers=settings.routers, use_tz=settings.use_tz)
    return settings


def run(name: str, handler: Callable[[argparse.Namespace], int], args: argparse.Namespace,
        stderr: TextIO | None = None) -> int:
    """Run ``handler(args)``; turn settings and command errors into a message and a status.

    Every connection the command opened is closed at the end, so an
    in-process ``orm.cli.main()`` leaves none behind.
    """
    err: Any = sys.stderr if stderr is None else stderr
    try:
        return handler(args)
    except ImproperlyConfigured as error:
        print(f"orm {name}: error: {error}", file=err)
        return 2
    except _COMMAND_ERRORS as error:
        print(f"orm {name}: error: {error}", file=err)
        return 1
    finally:
        connections.close_all()
