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

from orm.migrations.autodetector import MigrationAutodetector
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
from orm.migrations.questioner import (
    InteractiveMigrationQuestioner,
    MigrationQuestioner,
    MigrationQuestionError,
    NonInteractiveMigrationQuestioner,
)
from orm.migrations.serializer import SerializationError
from orm.migrations.state import ModelState, ProjectState
from orm.migrations.writer import MigrationWriter, merge_migration

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
    "InteractiveMigrationQuestioner",
    "InvalidStateError",
    "IrreversibleError",
    "Migration",
    "MigrationAutodetector",
    "MigrationOptimizer",
    "MigrationQuestionError",
    "MigrationQuestioner",
    "MigrationWriter",
    "ModelState",
    "NonInteractiveMigrationQuestioner",
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
    "SerializationError",
    "merge_migration",
]
