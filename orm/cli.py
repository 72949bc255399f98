"""The ``orm`` command line: a thin dispatcher to one module per subcommand.

``orm makemigrations``, ``orm migrate``, ``orm showmigrations``,
``orm sqlmigrate``, ``orm squashmigrations``, ``orm lintmigrations`` and
``orm checkmigrations`` run the modules of ``orm.migrations.commands``.
Adding a command is one line in :data:`COMMANDS` naming its
module, which provides ``HELP``, ``add_arguments(parser)`` and
``handle(args) -> int``. Also runnable as ``python -m orm``.

This module imports nothing else from ``orm`` at import time, and a command
module is imported only when that command runs, so ``orm --version`` and
``orm --help`` answer even when the database layers cannot be imported.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from orm._version import __version__

__all__ = ["COMMANDS", "__version__", "build_parser", "main"]


#: ``(name, module or None, one-line summary)`` of each subcommand; ``None``:
#: not yet available. The module is imported only when its command runs.
COMMANDS: tuple[tuple[str, str | None, str], ...] = (
    (
        "makemigrations",
        "orm.migrations.commands.makemigrations",
        "write migration files for model changes",
    ),
    ("migrate", "orm.migrations.commands.migrate", "apply (or unapply) migrations to the database"),
    (
        "showmigrations",
        "orm.migrations.commands.showmigrations",
        "list migrations and whether each is applied",
    ),
    ("sqlmigrate", "orm.migrations.commands.sqlmigrate", "print the SQL of one migration"),
    (
        "squashmigrations",
        "orm.migrations.commands.squashmigrations",
        "squash a run of an app's migrations into one",
    ),
    (
        "lintmigrations",
        "orm.migrations.commands.lintmigrations",
        "report migration operations that lock, rewrite or break a live database",
    ),
    (
        "checkmigrations",
        "orm.migrations.commands.checkmigrations",
        "check migrations for CI: one leaf per app, none missing, no drift, a clean round trip",
    ),
)


def _epilog() -> str:
    width = max(len(name) for name, _, _ in COMMANDS)
    lines = ["commands:"]
    for name, module, summary in COMMANDS:
        later = "" if module is not None else " (not yet available)"
        lines.append(f"  {name:<{width}}  {summary}{later}")
    lines.append("")
    lines.append("Run 'orm COMMAND --help' for the arguments of a command.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level argument parser of the ``orm`` command."""
    parser = argparse.ArgumentParser(
        prog="orm",
        description="Command line of orm, a Django-compatible ORM for SQLite and PostgreSQL.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "command", nargs="?", choices=[name for name, _, _ in COMMANDS], help=argparse.SUPPRESS
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``orm`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    With no arguments it prints the help and returns 0; ``--version`` and
    ``--help`` exit through ``SystemExit(0)`` as argparse does, and a usage
    error (including a command that is not yet available) through
    ``SystemExit(2)``. A command returns 0 on success, 1 on a command error
    and 2 when the settings are missing or broken. When stdout is closed
    early (``orm migrate --plan | head -1``) the command stops quietly and
    returns 1, without a ``BrokenPipeError`` traceback.
    """
    try:
        try:
            return _dispatch(argv)
        finally:
            # Flush here, inside the try: a pipe closed by the reader fails
            # now rather than at interpreter exit, where Python can only print
            # "Exception ignored ... BrokenPipeError" on stderr.
            sys.stdout.flush()
    except BrokenPipeError:
        # Python's documented recipe ("Note on SIGPIPE" in the signal module):
        # point stdout at devnull so that the interpreter's final flush of
        # what is still buffered cannot fail again, and exit 1 as Python
        # itself does on EPIPE. SIGPIPE stays ignored (Python's default), so
        # no signal kills the process halfway through a database operation.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1


def _dispatch(argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the command it names (the body of :func:`main`)."""
    parser = build_parser()
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        parser.print_help()
        return 0
    commands = {name: (module, summary) for name, module, summary in COMMANDS}
    if args[0] not in commands:
        parser.parse_args(args)  # --help, --version, or a usage error (exit 2)
        return 0
    name, rest = args[0], args[1:]
    module_name, summary = commands[name]
    if module_name is None:
        parser.exit(2, f"orm: '{name}' is not yet available\n")
    module = importlib.import_module(module_name)
    sub = argparse.ArgumentParser(
        prog=f"orm {name}", description=summary[:1].upper() + summary[1:] + "."
    )
    module.add_arguments(sub)
    status: int = module.handle(sub.parse_args(rest))
    return status


if __name__ == "__main__":
    sys.exit(main())
