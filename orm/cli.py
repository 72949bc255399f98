"""The ``orm`` command line: ``orm --version`` and ``orm --help`` for now.

The migration commands (``makemigrations``, ``migrate``, ``showmigrations``,
``sqlmigrate``) arrive with the migrations work; until then ``--help`` lists
them as not yet available. Also runnable as ``python -m orm``.

This module imports nothing else from ``orm`` so that the command answers
``--version`` and ``--help`` even when the database layers cannot be imported.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["__version__", "build_parser", "main"]

__version__ = "0.1.0"

# (name, one-line summary) of each subcommand the migrations work will add.
_FUTURE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("makemigrations", "write migration files for model changes"),
    ("migrate", "apply (or unapply) migrations to the database"),
    ("showmigrations", "list migrations and whether each is applied"),
    ("sqlmigrate", "print the SQL of one migration"),
)


def _epilog() -> str:
    width = max(len(name) for name, _ in _FUTURE_COMMANDS)
    lines = ["commands (not yet available):"]
    lines += [f"  {name:<{width}}  {summary}" for name, summary in _FUTURE_COMMANDS]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``orm`` command."""
    parser = argparse.ArgumentParser(
        prog="orm",
        description="Command line of orm, a Django-compatible ORM for SQLite and PostgreSQL.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__}",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=[name for name, _ in _FUTURE_COMMANDS],
        help=argparse.SUPPRESS,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``orm`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the process exit status. With no arguments it prints the help and
    returns 0; ``--version`` and ``--help`` exit through ``SystemExit(0)`` as
    argparse does, and a usage error (including a command that is not yet
    available) through ``SystemExit(2)``.
    """
    parser = build_parser()
    args = list(sys.argv[1:] if argv is None else argv)
    # Arguments after a future command belong to it; keep them out of the
    # top-level parser so the message names the command, not its arguments.
    namespace, _ = parser.parse_known_args(args)
    command: str | None = namespace.command
    if command is not None:
        parser.exit(2, f"orm: '{command}' is not yet available (it comes with migrations)\n")
    if args:
        parser.parse_args(args)  # reports unrecognized arguments, exit 2
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
