"""``orm migrate [app [migration|zero]]``: bring the database to the migrations' state.

Prints Django's report: what will be done, then one line per migration
with its time (``Applying shop.0002_book_isbn... OK (0.012s)``). ``--plan``
lists each migration's operations and runs nothing; ``--check`` exits 1
when migrations are unapplied and runs nothing.
"""

from __future__ import annotations

import argparse
import sys
import time

from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.exceptions import DatabaseError
from orm.migrations.commands.base import CommandError, add_database_argument, run, setup
from orm.migrations.exceptions import IrreversibleError
from orm.migrations.executor import (
    DEFAULT_LOCK_RETRIES,
    DEFAULT_LOCK_TIMEOUT,
    MigrationExecutor,
    MigrationFailedError,
    Plan,
    resolve_target,
)
from orm.migrations.loader import MigrationLoader
from orm.migrations.locks import Estimates, OperationCost, costs_by_operation, describe_cost
from orm.migrations.migration import Migration
from orm.migrations.operations import Operation, RunPython, RunSQL

HELP = "apply (or unapply) migrations to the database"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``orm migrate``."""
    parser.add_argument("app_label", nargs="?", help="migrate this app only")
    parser.add_argument(
        "migration_name", nargs="?",
        help="target migration (a unique prefix such as 0002 is enough); 'zero' unapplies them all",
    )
    parser.add_argument("--plan", action="store_true", help="list what would run, with each operation, and stop")
    parser.add_argument("--fake", action="store_true", help="record migrations as (un)applied without running them")
    parser.add_argument(
        "--fake-initial", action="store_true",
        help="record an app's initial migration as applied when its tables already exist",
    )
    parser.add_argument("--check", action="store_true", help="exit with status 1 if migrations are unapplied")
    parser.add_argument(
        "--lock-timeout", default=DEFAULT_LOCK_TIMEOUT, metavar="DURATION",
        help=f"PostgreSQL: give up waiting for a table lock after this long (SET LOCAL lock_timeout), "
             f"then try again; '0' waits forever (default: {DEFAULT_LOCK_TIMEOUT})",
    )
    parser.add_argument(
        "--lock-retries", type=int, default=DEFAULT_LOCK_RETRIES, metavar="N",
        help=f"PostgreSQL: how many more times to try a migration whose lock wait timed out "
             f"(default: {DEFAULT_LOCK_RETRIES})",
    )
    add_database_argument(parser)


def handle(args: argparse.Namespace) -> int:
    """Run ``orm migrate`` (see the module docstring); return the exit status."""
    return run("migrate", _migrate, args)


def _migrate(args: argparse.Namespace) -> int:
    settings = setup(args)
    if args.migration_name is not None and args.app_label is None:
        raise CommandError("A target migration needs its app: orm migrate APP MIGRATION.")
    progress = Progress()
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS], progress, apps=settings.apps,
                                     lock_timeout=args.lock_timeout, lock_retries=args.lock_retries)
    except ValueError as error:
        raise CommandError(str(error)) from None
    loader = executor.loader
    loader.check_ready()
    if args.app_label is not None:
        targets = [resolve_target(loader, args.app_label, args.migration_name)]
    else:
        targets = executor.leaf_targets()
    plan = executor.migration_plan(targets)
    if args.plan:
        print_plan(plan, executor.loader)
        return 0
    if args.check:
        if plan:
            print("Unapplied migrations:")
            for migration, backwards in plan:
                print(f"  {'unapply' if backwards else 'apply'} {migration}")
            return 1
        print("No unapplied migrations.")
        return 0
    print("Operations to perform:")
    if args.app_label is None:
        print(f"  Apply all migrations: {', '.join(sorted(loader.migrated_apps)) or '(none)'}")
    elif targets[0][1] is None:
        print(f"  Unapply all migrations: {args.app_label}")
    else:
        print(f"  Target specific migration: {targets[0][1]}, from {args.app_label}")
    print("Running migrations:")
    if not plan:
        print("  No migrations to apply.")
        return 0
    try:
        executor.migrate(targets, fake=args.fake, fake_initial=args.fake_initial)
    except MigrationFailedError:
        print(" FAILED", flush=True)  # ends the "Applying ..." line; the error follows on stderr
        raise
    return 0


class Progress:
    """Prints one line per migration as the executor reports it, with its duration."""

    def __init__(self) -> None:
        self.started = 0.0
        self.line_open = False  # "Applying x..." printed, its outcome not yet

    def __call__(self, action: str, migration: Migration | None, fake: bool) -> None:
        if action == "lock_wait":
            # PostgreSQL waits before the first migration, SQLite at one of them
            # (on the line already printed for it).
            if self.line_open:
                print(" waiting for another migrate of this database to finish...", end="", flush=True)
            else:
                print("  Waiting for another migrate of this database to finish...", flush=True)
        elif action == "lock_retry":
            print(" lock wait timed out, trying again...", end="", flush=True)
        elif action.endswith("_start"):
            verb = "Applying" if action == "apply_start" else "Unapplying"
            print(f"  {verb} {migration}...", end="", flush=True)
            self.started, self.line_open = time.monotonic(), True
        elif action.endswith("_skipped"):
            print(" skipped (another migrate did it)", flush=True)
            self.line_open = False
        else:
            elapsed = time.monotonic() - self.started
            print(f" {'FAKED' if fake else 'OK'} ({elapsed:.3f}s)", flush=True)
            self.line_open = False


def describe_operation(operation: Operation, backwards: bool) -> tuple[str, bool]:
    """One line for ``--plan``, as Django writes it; True when the step is irreversible."""
    prefix = ""
    action: str | None
    if isinstance(operation, RunPython):
        code = operation.reverse_code if backwards else operation.code
        # RunPython.noop documents itself; its docstring says nothing about this step.
        action = (code.__doc__ or "") if code and code is not RunPython.noop else ("" if code else None)
    elif isinstance(operation, RunSQL):
        sql = operation.reverse_sql if backwards else operation.sql
        action = str(sql) if sql is not None else None
    else:
        action = ""
        if backwards:
            prefix = "Undo "
    irreversible = False
    if action is not None:
        action = " ".join(action.split())
    elif backwards:
        action, irreversible = "IRREVERSIBLE", True
    if action:
        action = " -> " + (action if len(action) <= 60 else action[:59] + "…")
    return f"{prefix}{operation.describe()}{action or ''}", irreversible


def print_plan(plan: Plan, loader: MigrationLoader | None = None) -> None:
    """Print ``--plan``: each migration, then its operations indented.

    With a ``loader`` that has a connection, an operation that locks,
    rewrites, scans or rebuilds an existing table gets a ``cost:`` line
    below it (see :mod:`orm.migrations.locks`).
    """
    print("Planned operations:")
    if not plan:
        print("  No planned migration operations.")
    for migration, backwards in plan:
        print(f"{migration}{' (unapply)' if backwards else ''}")
        operations = list(reversed(migration.operations) if backwards else migration.operations)
        costs = _costs(loader, migration, backwards, len(operations))
        for index, operation in enumerate(operations):
            message, irreversible = describe_operation(operation, backwards)
            print(f"    {message}", file=sys.stderr if irreversible else sys.stdout)
            if costs:
                vendor, estimates, cost = costs
                line = describe_cost(vendor, cost[index].merged(), estimates)
                if line:
                    print(f"        cost: {line}")


def _costs(
    loader: MigrationLoader | None, migration: Migration, backwards: bool, count: int,
) -> tuple[str, Estimates, list[OperationCost]] | None:
    """The cost of each operation of ``migration``; None when it cannot be told."""
    if loader is None or loader.connection is None:
        return None
    connection = loader.connection
    try:
        collected = loader.collect_sql([(migration, backwards)])
    except IrreversibleError:
        return None  # the plan already says IRREVERSIBLE
    except DatabaseError:
        # Its tables come from migrations earlier in this plan (PostgreSQL's
        # editor reads the live table to alter it): new tables block nobody.
        return None
    costs = costs_by_operation(connection.vendor, collected)
    if len(costs) != count:
        return None
    merged = [cost.merged() for cost in costs]
    return connection.vendor, Estimates.gather(connection, merged), costs
