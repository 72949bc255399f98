"""The ``orm`` subcommands, one module each (``orm.cli`` imports a module when its command runs).

A command module provides ``HELP`` (one line), ``add_arguments(parser)`` and
``handle(args) -> int`` (the exit status); :mod:`.base` holds what they share.
"""
