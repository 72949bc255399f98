"""Migrations: schema state, operations, the ``Migration`` class and the optimizer.

Migration files use it as Django's do::

    import orm
    from orm import migrations

    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial")]
        operations = [migrations.AddField("book", "isbn", orm.CharField(max_length=13, default=""))]

This package is the top layer: it may import every other, none imports it.
"""

from orm.migrations.exceptions import InvalidStateError, IrreversibleError
from orm.migrations.migration import Migration
from orm.migrations.operations import (
    AddConstraint,
    AddField,
    AddIndex,
    AlterField,
    AlterModelOptions,
    AlterModelTable,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    Operation,
    RemoveConstraint,
    RemoveField,
    RemoveIndex,
    RenameField,
    RenameIndex,
    RenameModel,
    RunPython,
    RunSQL,
    SeparateDatabaseAndState,
)
from orm.migrations.optimizer import MigrationOptimizer
from orm.migrations.state import ModelState, ProjectState

__all__ = [
    "AddConstraint",
    "AddField",
    "AddIndex",
    "AlterField",
    "AlterModelOptions",
    "AlterModelTable",
    "AlterUniqueTogether",
    "CreateModel",
    "DeleteModel",
    "InvalidStateError",
    "IrreversibleError",
    "Migration",
    "MigrationOptimizer",
    "ModelState",
    "Operation",
    "ProjectState",
    "RemoveConstraint",
    "RemoveField",
    "RemoveIndex",
    "RenameField",
    "RenameIndex",
    "RenameModel",
    "RunPython",
    "RunSQL",
    "SeparateDatabaseAndState",
]
