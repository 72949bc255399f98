"""``orm checkmigrations``: the CI gate for migrations, four checks with their own exit codes.

In this order (see :mod:`orm.migrations.checks`):

=========  ====  ==========================================================
check      code  fails when
=========  ====  ==========================================================
leaves        4  an app's migrations have more than one leaf
missing       8  the models have changes no migration file describes
drift        16  the live database differs from what its applied
                 migrations made (tables, columns, types, NULL, index names)
roundtrip    32  on a scratch database, applying, unapplying to zero and
                 applying again fails, leaves a table or changes the schema
=========  ====  ==========================================================

The exit status is the sum of the codes of the checks that failed (0: all
passed), so CI can tell them apart; 1 is a command error and 2 missing or
broken settings, as for the other commands. ``--skip CHECK`` leaves a check
out. With two leaves, drift and roundtrip are skipped (nothing can migrate).

The scratch database of ``roundtrip`` is a new SQLite file in a temporary
directory, or on PostgreSQL a new schema ``orm_check_<pid>`` of the live
database, alone on the search path of the scratch connections and dropped
afterwards (the role needs the CREATE privilege on the database).
``--scratch-database URL`` names one instead: it must be empty, and is left
migrated.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from orm.conf import ProjectSettings
from orm.db.connections import DEFAULT_DB_ALIAS, configure, connections
from orm.migrations.checks import check_drift, check_leaves, check_missing, check_round_trip
from orm.migrations.commands.base import CommandError, add_database_argument, run, setup
from orm.migrations.loader import MigrationLoader
from orm.utils.identifiers import quote_name

HELP = "check migrations for CI: one leaf per app, none missing, no drift, a clean round trip"

#: ``(name, exit code)`` of each check, in the order they run.
CHECKS = (("leaves", 4), ("missing", 8), ("drift", 16), ("roundtrip", 32))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``orm checkmigrations``."""
    parser.add_argument("--skip", action="append", default=[], choices=[name for name, _ in CHECKS],
                        help="leave a check out (repeatable)")
    parser.add_argument("--scratch-database", metavar="URL",
                        help="an empty database for the round trip (default: a temporary one)")
    add_database_argument(parser)


def handle(args: argparse.Namespace) -> int:
    """Run ``orm checkmigrations``; return the exit status."""
    return run("checkmigrations", _check, args)


def _check(args: argparse.Namespace) -> int:
    settings = setup(args)
    skip = set(args.skip)
    offline = MigrationLoader(None, apps=settings.apps)
    checks: dict[str, Callable[[], list[str]]] = {
        "leaves": lambda: check_leaves(offline),
        "missing": lambda: check_missing(offline),
        "drift": lambda: check_drift(MigrationLoader(connections[DEFAULT_DB_ALIAS], apps=settings.apps)),
        "roundtrip": lambda: _round_trip(settings, args.scratch_database),
    }
    status = 0
    for name, code in CHECKS:
        if name in skip:
            print(f"{name}: skipped")
            continue
        if name in ("drift", "roundtrip") and status & 4:
            print(f"{name}: skipped (two leaves in an app: nothing can migrate)")
            continue
        problems = checks[name]()
        if problems:
            status |= code
            print(f"{name}: FAILED (exit code {code})")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"{name}: OK")
    return status


def _round_trip(settings: ProjectSettings, url: str | None) -> list[str]:
    # The scratch database becomes the default alias while the round trip
    # runs: RunPython code uses Model.objects, which goes to the default
    # alias, and must not touch the live database.
    live = dict(settings.databases)
    with _scratch(live[DEFAULT_DB_ALIAS], url) as scratch:
        configure(databases={**live, DEFAULT_DB_ALIAS: scratch}, routers=settings.routers, use_tz=settings.use_tz)
        try:
            connection = connections[DEFAULT_DB_ALIAS]
            if url is not None and connection.introspection.table_names():
                raise CommandError(f"The scratch database {_shown(url)} is not empty; give an empty one.")
            return check_round_trip(connection, settings.apps)
        finally:
            configure(databases=live, routers=settings.routers, use_tz=settings.use_tz)


@contextmanager
def _scratch(live: str, url: str | None) -> Iterator[str]:
    """The URL of an empty database for the round trip, removed afterwards when made here."""
    if url is not None:
        yield url
        return
    if not live.startswith(("postgres://", "postgresql://")):
        with tempfile.TemporaryDirectory(prefix="orm-check-") as directory:
            yield f"sqlite:///{os.path.join(directory, 'scratch.sqlite3')}"
        return
    # A schema of the live database, first and only on the search path of
    # the scratch connections: made and dropped at once, where a database of
    # its own would need CREATEDB and a checkpoint (seconds) to drop.
    name = f"orm_check_{os.getpid()}"
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_name(name)} CASCADE", [])
        cursor.execute(f"CREATE SCHEMA {quote_name(name)}", [])
    try:
        parts = urlsplit(live)
        query = dict(parse_qsl(parts.query))
        query["options"] = f"{query.get('options', '')} -c search_path={name}".strip()
        yield urlunsplit(parts._replace(query=urlencode(query)))
    finally:
        connections.close_all()
        # Looked up again: the round trip configured (and closed) the aliases in between.
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {quote_name(name)} CASCADE", [])


def _shown(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username + '@' if parts.username else ''}{netloc}"))
