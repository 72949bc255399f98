"""``orm lintmigrations [app ...]``: report migration operations that would hurt a live database.

The rules are in :mod:`orm.migrations.lint` (``--list-rules`` prints them).
Rules are switched off with ``--ignore M006`` or in ``pyproject.toml``::

    [tool.orm.lintmigrations]
    ignore = ["M006"]                          # everywhere
    ignore_migrations = ["shop.0001_initial"]  # these migrations entirely

and per migration with ``lint_ignore = ["M004"]`` on its ``Migration`` class.
Nothing connects to the database.

Exit statuses: 0 no finding; 1 findings (or a command error); 2 missing or
broken settings, an unknown app or rule code.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from typing import Any

from orm.conf import ProjectSettings
from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.exceptions import ImproperlyConfigured
from orm.migrations.commands.base import run, setup
from orm.migrations.lint import RULES, Finding, LintOptions, lint_migration
from orm.migrations.loader import MigrationLoader
from orm.migrations.state import ProjectState

HELP = "report migration operations that lock, rewrite or break a live database"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``orm lintmigrations``."""
    parser.add_argument("app_label", nargs="*", help="lint these apps only (default: every app)")
    parser.add_argument("--ignore", action="append", default=[], metavar="CODE",
                        help="leave out a rule (repeatable, or comma-separated: --ignore M006,M007)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--list-rules", action="store_true", help="print every rule and stop")


def handle(args: argparse.Namespace) -> int:
    """Run ``orm lintmigrations``; return the exit status."""
    return run("lintmigrations", _lint, args)


def _lint(args: argparse.Namespace) -> int:
    if args.list_rules:
        for rule in RULES.values():
            print(f"{rule.code} {rule.name}: {rule.explanation}\n    safe: {rule.alternative}")
        return 0
    settings = setup(args)
    options = _options(settings, args.ignore)
    loader = MigrationLoader(None, apps=settings.apps)
    unknown = [label for label in args.app_label if label not in loader.app_labels]
    if unknown:
        raise ImproperlyConfigured(
            f"No app with label {', '.join(map(repr, unknown))}; the apps are: "
            f"{', '.join(loader.app_labels) or 'none'} (set them in [tool.orm] apps)."
        )
    labels = set(args.app_label or loader.app_labels)
    connection = connections[DEFAULT_DB_ALIAS]  # its column types only; nothing connects
    findings: list[Finding] = []
    # Every migration in order, one state carried along: each is linted
    # against the state its predecessors left (other apps' too).
    plan = list(dict.fromkeys(key for leaf in loader.graph.leaf_nodes() for key in loader.graph.forwards_plan(leaf)))
    state = ProjectState()
    linted = 0
    for key in plan:
        migration = loader.graph.nodes[key]
        assert migration is not None
        if key[0] in labels:
            findings += lint_migration(migration, state, connection, options)
            linted += 1
        else:
            migration.mutate_state(state, preserve=False)
    _report(findings, linted, args.format)
    return 1 if findings else 0


def _options(settings: ProjectSettings, flags: list[str]) -> LintOptions:
    """The ignores of ``[tool.orm.lintmigrations]`` and ``--ignore``, checked against the rule codes."""
    table: dict[str, Any] = {}
    if settings.pyproject is not None:
        with settings.pyproject.open("rb") as file:
            table = tomllib.load(file).get("tool", {}).get("orm", {}).get("lintmigrations", {})
    where = f"[tool.orm.lintmigrations] in {settings.pyproject}"
    extra = sorted(set(table) - {"ignore", "ignore_migrations"})
    if extra:
        raise ImproperlyConfigured(f"Unknown key(s) {', '.join(map(repr, extra))} in {where}; "
                                   "the keys are ignore, ignore_migrations.")
    ignore = set(_strings(table.get("ignore", []), f"{where}: 'ignore'"))
    ignore |= {code.strip() for flag in flags for code in flag.split(",") if code.strip()}
    wrong = sorted(ignore - set(RULES))
    if wrong:
        raise ImproperlyConfigured(f"Unknown rule code(s) {', '.join(wrong)}; the rules are "
                                   f"{', '.join(RULES)} (orm lintmigrations --list-rules).")
    migrations = set(_strings(table.get("ignore_migrations", []), f"{where}: 'ignore_migrations'"))
    return LintOptions(ignore, migrations)


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ImproperlyConfigured(f"{where} must be a list of strings, not {value!r}.")
    return value


def _report(findings: list[Finding], linted: int, form: str) -> None:
    if form == "json":
        json.dump({"findings": [finding.as_dict() for finding in findings], "count": len(findings),
                   "migrations": linted}, sys.stdout, indent=2)
        print()
        return
    for finding in findings:
        print(f"{finding.migration}: {finding.code} [{finding.rule}] {finding.operation}: {finding.message}")
        print(f"    why: {finding.explanation}\n    safe: {finding.alternative}")
    if findings:
        count = len({finding.migration for finding in findings})
        print(f"Found {len(findings)} problem(s) in {count} migration(s) "
              "(silence one with --ignore CODE or lint_ignore on the Migration).")
    else:
        print(f"No problems found in {linted} migration(s).")
