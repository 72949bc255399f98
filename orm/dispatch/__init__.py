"""Django's signal dispatcher, standalone: ``Signal`` and the ``receiver`` decorator.

This package imports nothing from the rest of `orm` (it sits at the bottom of
the layers), so any layer may define or send a signal.
"""

from orm.dispatch.dispatcher import Signal, receiver

__all__ = ["Signal", "receiver"]
