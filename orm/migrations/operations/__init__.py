"""Migration operations (Django's names): ``migrations.CreateModel(...)`` and the rest."""

from orm.migrations.operations.base import Operation
from orm.migrations.operations.fields import (
    AddField,
    AlterField,
    FieldOperation,
    RemoveField,
    RenameField,
)
from orm.migrations.operations.indexes import (
    AddConstraint,
    AddIndex,
    IndexOperation,
    RemoveConstraint,
    RemoveIndex,
    RenameIndex,
)
from orm.migrations.operations.models import (
    AlterModelOptions,
    AlterModelTable,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    ModelOperation,
    ModelOptionOperation,
    RenameModel,
)
from orm.migrations.operations.online import (
    AddConstraintNotValid,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    ValidateConstraint,
)
from orm.migrations.operations.special import RunPython, RunSQL, SeparateDatabaseAndState

__all__ = [
    "AddConstraint",
    "AddConstraintNotValid",
    "AddField",
    "AddIndex",
    "AddIndexConcurrently",
    "AlterField",
    "AlterModelOptions",
    "AlterModelTable",
    "AlterUniqueTogether",
    "CreateModel",
    "DeleteModel",
    "FieldOperation",
    "IndexOperation",
    "ModelOperation",
    "ModelOptionOperation",
    "Operation",
    "RemoveConstraint",
    "RemoveField",
    "RemoveIndex",
    "RemoveIndexConcurrently",
    "RenameField",
    "RenameIndex",
    "RenameModel",
    "RunPython",
    "RunSQL",
    "SeparateDatabaseAndState",
    "ValidateConstraint",
]
