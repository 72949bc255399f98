"""What the backends read from models, fields, indexes and constraints, by shape.

The backends sit below ``orm.fields`` and ``orm.models`` in the import
contract, so they cannot name ``Field``, ``Model`` or ``Index``, not even for
typing. These protocols list the members the schema editors and the
operations use, so mypy checks every access in the backends, and checks a
real ``Field``/model class against them wherever a typed one is passed in
(the migrations pass ``type[Model]`` and ``Field``).

Members are read-only properties: a protocol attribute would be invariant,
and the classes declare some of them wider (``Field.model`` is ``Any``
until the field is attached to a model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from orm.abc import Connection

__all__ = [
    "GeneratedSchemaField",
    "RelatedSchemaField",
    "SchemaConstraint",
    "SchemaField",
    "SchemaIndex",
    "SchemaMeta",
    "SchemaModel",
    "Selected",
]


class SchemaField(Protocol):
    """A model field as DDL reads it (``orm.fields.Field``): its column and its options."""

    @property
    def name(self) -> str: ...
    @property
    def column(self) -> str: ...
    @property
    def null(self) -> bool: ...
    @property
    def unique(self) -> bool: ...
    @property
    def primary_key(self) -> bool: ...
    @property
    def db_index(self) -> bool: ...
    @property
    def blank(self) -> bool: ...
    @property
    def concrete(self) -> bool: ...
    @property
    def generated(self) -> bool: ...
    @property
    def is_relation(self) -> bool: ...
    @property
    def many_to_many(self) -> bool: ...
    @property
    def db_constraint(self) -> bool: ...
    @property
    def db_comment(self) -> str | None: ...
    @property
    def db_default(self) -> Any:
        """A value or an expression (anything with ``as_sql``); user data."""
        ...

    @property
    def model(self) -> Any:
        """The model class the field is attached to (``None`` before that)."""
        ...

    @property
    def remote_field(self) -> Any:
        """The relation object of a relation field (``through``, ``model``), else ``None``."""
        ...

    def get_internal_type(self) -> str: ...
    def db_type(self, connection: Connection, /) -> str | None: ...
    def rel_db_type(self, connection: Connection, /) -> str | None: ...
    def db_check(self, connection: Connection, /) -> str | None: ...
    def has_default(self) -> bool: ...
    def has_db_default(self) -> bool: ...
    def get_default(self) -> Any: ...
    def empty_strings_allowed(self) -> bool: ...
    def get_db_prep_save(self, value: Any, connection: Connection, /) -> Any: ...


class RelatedSchemaField(SchemaField, Protocol):
    """A foreign key (``is_relation`` and not many-to-many): the field its column points at."""

    @property
    def target_field(self) -> SchemaField: ...


class GeneratedSchemaField(SchemaField, Protocol):
    """A ``GeneratedField`` (``generated`` is true): its expression and storage."""

    @property
    def db_persist(self) -> bool: ...
    def generated_sql(self, connection: Connection, /) -> tuple[str, list[Any]]: ...


class SchemaIndex(Protocol):
    """An ``orm.Index``: its name and CREATE INDEX for a model and a schema editor."""

    @property
    def fields(self) -> Sequence[str]:
        """Field names, ``"-name"`` for a descending column."""
        ...

    # Read-only members, so the index's own (model-typed) signatures match.
    @property
    def get_name(self) -> Callable[..., str]: ...
    @property
    def create_sql(self) -> Callable[..., str]: ...


class SchemaConstraint(Protocol):
    """A ``UniqueConstraint``/``CheckConstraint``: inline SQL (or ``None``), or its own statement."""

    @property
    def name(self) -> str: ...
    @property
    def constraint_sql(self) -> Callable[..., str | None]: ...
    @property
    def create_sql(self) -> Callable[..., str]: ...


class SchemaMeta(Protocol):
    """A model's ``_meta`` (``orm.models.options.Options``) as DDL reads it."""

    @property
    def db_table(self) -> str: ...
    @property
    def db_table_comment(self) -> str: ...
    @property
    def auto_created(self) -> bool: ...
    @property
    def local_fields(self) -> Sequence[SchemaField]: ...
    @property
    def local_many_to_many(self) -> Sequence[SchemaField]: ...
    @property
    def related_objects(self) -> Sequence[Any]: ...
    @property
    def unique_together(self) -> Sequence[Sequence[str]]: ...
    @property
    def indexes(self) -> Sequence[SchemaIndex]: ...
    @property
    def constraints(self) -> Sequence[SchemaConstraint]: ...
    def get_field(self, name: str, /) -> SchemaField: ...


class SchemaModel(Protocol):
    """A model class (``type[Model]``, or a historical one a migration renders)."""

    @property
    def _meta(self) -> SchemaMeta: ...


class Selected(Protocol):
    """A selected expression as the converters see it: its output field decides the conversion."""

    @property
    def output_field(self) -> Any:
        """The ``Field`` the value is read as (``storage_field()`` gives its column's field)."""
        ...
