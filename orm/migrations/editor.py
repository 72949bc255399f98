"""The schema editor as operations use it: Django's method names and signatures.

Operations receive ``connection.schema_editor()`` (documented on
``orm.backends.base.schema.BaseDatabaseSchemaEditor``); this protocol lists
the methods they call, so ``mypy`` checks every call against one contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from orm.abc import Connection

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.models.base import Model
    from orm.models.constraints import BaseConstraint, Index


class MigrationSchemaEditor(Protocol):
    """What operations need from a schema editor (see the module docstring)."""

    connection: Connection
    collect_sql: bool
    collected_sql: list[str]
    atomic_migration: bool

    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> None: ...
    def create_model(self, model: type[Model]) -> None: ...
    def delete_model(self, model: type[Model]) -> None: ...
    def add_field(self, model: type[Model], field: Field) -> None: ...
    def remove_field(self, model: type[Model], field: Field) -> None: ...
    def alter_field(self, model: type[Model], old_field: Field, new_field: Field, strict: bool = False) -> None: ...
    def alter_db_table(self, model: type[Model], old_db_table: str, new_db_table: str) -> None: ...
    def alter_unique_together(
        self, model: type[Model], old_unique_together: Iterable[Sequence[str]] | None,
        new_unique_together: Iterable[Sequence[str]] | None,
    ) -> None: ...
    def add_index(self, model: type[Model], index: Index) -> None: ...
    def remove_index(self, model: type[Model], index: Index) -> None: ...
    def rename_index(self, model: type[Model], old_index: Index, new_index: Index) -> None: ...
    def add_constraint(self, model: type[Model], constraint: BaseConstraint) -> None: ...
    def remove_constraint(self, model: type[Model], constraint: BaseConstraint) -> None: ...
