"""Migrations: schema state, operations, the ``Migration`` class, the optimizer, and
the makemigrations engine (autodetector, questioners, writer).

Migration files use it as Django's do::

    import orm
    from orm import migrations

    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial")]
        operations = [migrations.AddField("book", "isbn", orm.CharField(max_length=13, default=""))]

This package is the top layer: it may import every other, none imports it.
"""

from orm.migrations import (
    autodetector,
    exceptions,
    migration,
    operations,
    optimizer,
    questioner,
    serializer,
    state,
    writer,
)
from orm.migrations.autodetector import *  # noqa: F403
from orm.migrations.exceptions import *  # noqa: F403
from orm.migrations.migration import *  # noqa: F403
from orm.migrations.operations import *  # noqa: F403
from orm.migrations.optimizer import *  # noqa: F403
from orm.migrations.questioner import *  # noqa: F403
from orm.migrations.serializer import *  # noqa: F403
from orm.migrations.state import *  # noqa: F403
from orm.migrations.writer import *  # noqa: F403

# Each submodule's __all__ is its public list; the package's is their union,
# so a new public name is declared once, beside its definition.
__all__: list[str] = []
__all__ += autodetector.__all__
__all__ += exceptions.__all__
__all__ += migration.__all__
__all__ += operations.__all__
__all__ += optimizer.__all__
__all__ += questioner.__all__
__all__ += serializer.__all__
__all__ += state.__all__
__all__ += writer.__all__
