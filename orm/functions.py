"""Django's ``django.db.models.functions`` for orm: ``from orm.functions import Lower, Concat``.

The classes live in ``orm.query.functions``; this module is the public name.
"""

from orm.query.functions import *  # noqa: F403 - the public name of every function
from orm.query.functions import __all__ as __all__  # one list, kept beside the classes
