"""``orm sqlmigrate app migration [--backwards]``: print the SQL a migration runs, running nothing.

The SQL is what the chosen database's schema editor writes (collected, not
executed), laid out with ``sqlparse``, between ``BEGIN;`` and ``COMMIT;``
when the migration is atomic. Operations that are not SQL (``RunPython``)
appear as a comment. Replaced migrations of a squash can be shown too.
"""

from __future__ import annotations

import argparse
from typing import Any

import sqlparse

from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.migrations.commands.base import CommandError, add_database_argument, run, setup
from orm.migrations.executor import resolve_target
from orm.migrations.loader import MigrationLoader
from orm.migrations.locks import Estimates, classify, describe_cost

HELP = "print the SQL of one migration"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``orm sqlmigrate``."""
    parser.add_argument("app_label", help="the app of the migration")
    parser.add_argument("migration_name", help="the migration (a unique prefix such as 0002 is enough)")
    parser.add_argument("--backwards", action="store_true", help="the SQL that unapplies the migration")
    add_database_argument(parser)


def handle(args: argparse.Namespace) -> int:
    """Run ``orm sqlmigrate``; return the exit status."""
    return run("sqlmigrate", _sqlmigrate, args)


def _sqlmigrate(args: argparse.Namespace) -> int:
    settings = setup(args)
    connection = connections[DEFAULT_DB_ALIAS]
    # Without folding squashes in, so a replaced migration can be shown as well.
    loader = MigrationLoader(connection, replace_migrations=False, apps=settings.apps)
    app_label, name = resolve_target(loader, args.app_label, args.migration_name)
    if name is None:
        raise CommandError("'zero' is not a migration: name the migration whose SQL to show.")
    migration = loader.get_migration(app_label, name)
    statements = loader.collect_sql([(migration, args.backwards)])
    if not statements:
        print("-- No operations found.")
        return 0
    body = annotate(connection, statements)
    # Both backends roll DDL back, so an atomic migration is one transaction.
    if migration.atomic:
        body = ["BEGIN;", *body, "COMMIT;"]
    print("\n".join(body))
    return 0


def annotate(connection: Any, statements: list[str]) -> list[str]:
    """The statements laid out, each one that locks, rewrites, scans or rebuilds a table after a ``-- cost:`` line."""
    costs = [classify(connection.vendor, statement) for statement in statements]
    estimates = Estimates.gather(connection, [cost for cost in costs if cost.costly])
    body: list[str] = []
    for statement, cost in zip(statements, costs, strict=True):
        line = describe_cost(connection.vendor, cost, estimates) if cost.costly else ""
        if line:
            body.append(f"-- cost: {line}")
        body.append(format_sql(statement))
    return body


def format_sql(statement: str) -> str:
    """One collected statement laid out for reading; comments are kept as they are."""
    if statement.startswith("--"):
        return statement
    if statement.upper().startswith("CREATE TABLE"):
        return _format_create_table(statement)
    return str(sqlparse.format(statement, reindent=True)).strip()


def _format_create_table(statement: str) -> str:
    """``CREATE TABLE t (`` then one column or constraint per line (sqlparse misaligns these)."""
    start = _first_paren(statement)
    end = statement.rstrip().rstrip(";").rstrip()
    if start is None or not end.endswith(")"):
        return statement
    head, inner, tail = statement[:start].rstrip(), end[start + 1:-1], statement[len(end):]
    parts = [part.strip() for part in _split_top_level(inner)]
    return head + " (\n" + ",\n".join(f"    {part}" for part in parts) + "\n)" + tail.strip()


def _first_paren(text: str) -> int | None:
    quote = None
    for index, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            return index
    return None


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside parentheses and quotes (a doubled quote stays inside)."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts
