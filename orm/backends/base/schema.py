"""The schema editor: DDL for tables, many-to-many tables, indexes and constraints.

``orm.create_tables`` and (later) migrations both use it. Names always pass
through ``quote_name``; the only literals are default-free column types and,
in CHECK constraints, values rendered by :meth:`quote_value`.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, cast

from orm.abc import Connection
from orm.backends.base.shapes import (
    GeneratedSchemaField,
    RelatedSchemaField,
    SchemaConstraint,
    SchemaField,
    SchemaIndex,
    SchemaModel,
)
from orm.db import transaction
from orm.exceptions import IntegrityError, ProgrammingError
from orm.sql.compiler import SQLCompiler

# A placeholder or an escaped percent in SQL that travels with parameters.
_PLACEHOLDER = re.compile(r"%%|%s")
_AUTO_FIELDS = ("AutoField", "BigAutoField", "SmallAutoField")


class BaseDatabaseSchemaEditor:
    """Emit DDL for models; a context manager that runs in one transaction.

    Statements that depend on every table existing (foreign keys added later,
    indexes) are collected in ``deferred_sql`` and run at a clean exit.
    """

    sql_create_table = "CREATE TABLE %(if_not_exists)s%(table)s (%(definition)s)"
    sql_delete_table = "DROP TABLE %(if_exists)s%(table)s"
    sql_create_index = (
        "CREATE %(unique)sINDEX %(if_not_exists)s%(name)s ON %(table)s (%(columns)s)%(condition)s"
    )
    #: One row when the table ``%s`` exists where CREATE TABLE would put it.
    sql_table_exists = (
        "SELECT 1 FROM information_schema.tables"
        " WHERE table_schema = CURRENT_SCHEMA AND table_name = %s"
    )
    sql_delete_index = "DROP INDEX %(name)s"
    sql_create_fk = (
        "ALTER TABLE %(table)s ADD CONSTRAINT %(name)s FOREIGN KEY (%(column)s) "
        "REFERENCES %(to_table)s (%(to_column)s) DEFERRABLE INITIALLY DEFERRED"
    )
    sql_inline_fk = "REFERENCES %(to_table)s (%(to_column)s) DEFERRABLE INITIALLY DEFERRED"
    #: Appended to the column type of auto-incrementing primary keys.
    auto_field_suffix = ""
    #: True when foreign keys must be written inside CREATE TABLE.
    inline_foreign_keys = False

    def __init__(
        self, connection: Connection, atomic: bool = True, collect_sql: bool = False
    ) -> None:
        self.connection = connection
        self.atomic_migration = atomic
        self.collect_sql = collect_sql
        self.collected_sql: list[str] = []
        self.deferred_sql: list[str] = []
        self._atomic: Any = None
        # Set while create_model(if_not_exists=True) builds its statements, so
        # every CREATE it emits (indexes of Meta.indexes included) says IF NOT EXISTS.
        self._if_not_exists = False

    # -- context -------------------------------------------------------------
    def __enter__(self) -> BaseDatabaseSchemaEditor:
        self.deferred_sql = []
        if self.atomic_migration and not self.collect_sql:
            self._atomic = transaction.atomic(self.connection.alias)
            self._atomic.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                for sql in self.deferred_sql:
                    self.execute(sql)
        finally:
            if self._atomic is not None:
                atomic, self._atomic = self._atomic, None
                if exc_type is None:
                    atomic.__exit__(None, None, None)
                else:
                    atomic.__exit__(exc_type, exc, tb)

    # -- execution -----------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> None:
        """Run one statement (or collect it when ``collect_sql`` is set).

        With a parameter sequence (the default, empty), ``%s`` placeholders
        take the parameters and ``%%`` is a percent sign, as in every other
        statement; the DDL this editor generates is written that way (quoted
        names double their ``%``). With ``params=None`` the SQL is sent exactly
        as written, a lone ``%`` meaning itself (``RunSQL`` without params).
        Collected SQL has the parameters written in as literals.
        """
        if self.collect_sql:
            self.collected_sql.append(self._render_collected(sql, params) + ";")
            return
        with self.connection.cursor() as cursor:
            cursor.execute(sql, None if params is None else list(params))

    def _render_collected(self, sql: str, params: Sequence[Any] | None) -> str:
        if params is None:
            return sql
        values = iter(params)
        return _PLACEHOLDER.sub(
            lambda m: "%" if m.group() == "%%" else self.quote_value(next(values)), sql
        )

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read the editor needs to decide what DDL to run."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return list(cursor.fetchall())

    def _if_not_exists_sql(self) -> str:
        return "IF NOT EXISTS " if self._if_not_exists else ""

    def table_exists(self, table: str) -> bool:
        """True when ``table`` exists (in the schema where CREATE TABLE would put it)."""
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql_table_exists, [table])
            return cursor.fetchone() is not None

    def lock_schema(self) -> None:
        """Serialize concurrent ``create_tables(if_not_exists=True)`` calls until commit.

        The default does nothing: SQLite's schema editor starts with ``BEGIN
        IMMEDIATE``, which already holds the database's write lock.
        """

    def quote_name(self, name: str) -> str:
        """Quote an identifier through the one chokepoint."""
        return str(self.connection.ops.quote_name(name))

    def quote_value(self, value: Any) -> str:
        """Render a literal for DDL (CHECK constraints, partial indexes) safely."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self._quote_bool(value)
        if isinstance(value, int | float | decimal.Decimal):
            return str(value)
        if isinstance(value, datetime.date | datetime.time | uuid.UUID):
            value = str(value)
        if isinstance(value, bytes):
            return f"X'{value.hex()}'"
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("A NUL character cannot appear in a DDL literal.")
            return "'" + value.replace("'", "''") + "'"
        raise TypeError(f"Cannot render {type(value).__name__} as a DDL literal.")

    def _quote_bool(self, value: bool) -> str:
        return "true" if value else "false"

    def make_name(self, table: str, columns: list[str], suffix: str) -> str:
        """A deterministic index/constraint name that fits the backend's limit."""
        digest = hashlib.md5(
            "\x1f".join([table, *columns]).encode(), usedforsecurity=False
        ).hexdigest()[:8]
        base = f"{table}_{'_'.join(columns)}"
        limit = self.connection.ops.max_name_length() - len(suffix) - 10
        return f"{base[:limit]}_{digest}_{suffix}"

    # -- columns -------------------------------------------------------------
    def column_sql(
        self, model: SchemaModel, field: SchemaField, null: bool | None = None
    ) -> str | None:
        """The column definition after its name, or ``None`` for no column (M2M).

        ``null`` overrides ``field.null`` (a NOT NULL column is added as NULL,
        filled, then made NOT NULL).
        """
        db_type = field.db_type(self.connection)
        if db_type is None:
            return None
        parts = [db_type]
        if field.generated:
            generated = cast(GeneratedSchemaField, field)
            sql, params = generated.generated_sql(self.connection)
            sql %= tuple(self.quote_value(p) for p in params)
            parts.append(
                f"GENERATED ALWAYS AS ({sql}) {'STORED' if generated.db_persist else 'VIRTUAL'}"
            )
        if field.has_db_default():
            parts.append(f"DEFAULT {self.db_default_sql(field)}")
        if field.primary_key:
            parts.append("NOT NULL PRIMARY KEY")
            if self.is_auto(field) and self.auto_field_suffix:
                parts.append(self.auto_field_suffix)
        else:
            parts.append("NULL" if (field.null if null is None else null) else "NOT NULL")
            if field.unique:
                parts.append("UNIQUE")
        check = field.db_check(self.connection)
        if check:
            parts.append(f"CHECK ({check})")
        return " ".join(parts)

    def db_default_sql(self, field: SchemaField) -> str:
        """The DEFAULT clause body of ``field.db_default``, values rendered as literals.

        A plain value is prepared and checked by the field, as a written value
        is; an expression is compiled (it may not name columns) and wrapped in
        parentheses, which SQLite requires around an expression default.
        """
        default = field.db_default
        if hasattr(default, "as_sql"):
            # No query: a column default cannot refer to a table.
            sql, params = SQLCompiler(None, self.connection).compile(default)
            sql = f"({sql})"
        else:
            sql, params = "%s", [field.get_db_prep_save(default, self.connection)]
        return str(sql % tuple(self.quote_value(p) for p in params))

    def comment_sql(self, model: SchemaModel) -> list[str]:
        """COMMENT ON statements for ``Meta.db_table_comment`` and fields' ``db_comment``.

        Empty where the backend has no comments (SQLite): the options are then
        ignored, as Django's ``supports_comments`` flag makes them.
        """
        if not self.connection.features.supports_comments:
            return []
        meta = model._meta
        table = self.quote_name(meta.db_table)
        statements = []
        if meta.db_table_comment:
            statements.append(
                f"COMMENT ON TABLE {table} IS {self.quote_value(meta.db_table_comment)}"
            )
        for field in meta.local_fields:
            if field.db_comment and field.concrete:
                column = self.quote_name(field.column)
                statements.append(
                    f"COMMENT ON COLUMN {table}.{column} IS {self.quote_value(field.db_comment)}"
                )
        return statements

    def _fk_params(self, model: SchemaModel, field: SchemaField) -> dict[str, str]:
        # Called for a field whose fk_target() is not None: a foreign key.
        target = cast(RelatedSchemaField, field).target_field
        return {
            "table": self.quote_name(model._meta.db_table),
            "name": self.quote_name(self.make_name(model._meta.db_table, [field.column], "fk")),
            "column": self.quote_name(field.column),
            "to_table": self.quote_name(target.model._meta.db_table),
            "to_column": self.quote_name(target.column),
        }

    # -- tables ----------------------------------------------------------------
    def table_sql(self, model: SchemaModel) -> str:
        """CREATE TABLE for ``model``; queues its indexes and late foreign keys."""
        meta = model._meta
        definitions: list[str] = []
        for field in meta.local_fields:
            definition = self.column_sql(model, field)
            if definition is None:
                continue
            if field.is_relation and field.db_constraint:
                params = self._fk_params(model, field)
                if self.inline_foreign_keys:
                    definition += " " + self.sql_inline_fk % params
                else:
                    self.deferred_sql.append(self.sql_create_fk % params)
            definitions.append(f"{self.quote_name(field.column)} {definition}")
            if field.db_index and not field.unique and not field.primary_key:
                self.deferred_sql.append(self.index_sql(model, [field.column], "idx"))
        for names in meta.unique_together:
            columns = [meta.get_field(name).column for name in names]
            definitions.append("UNIQUE ({})".format(", ".join(self.quote_name(c) for c in columns)))
        for constraint in meta.constraints:
            inline = constraint.constraint_sql(model, self)
            if inline:
                definitions.append(inline)
            else:
                self.deferred_sql.append(constraint.create_sql(model, self))
        for index in meta.indexes:
            self.deferred_sql.append(index.create_sql(model, self))
        self.deferred_sql.extend(self.comment_sql(model))
        return self.sql_create_table % {
            "if_not_exists": self._if_not_exists_sql(),
            "table": self.quote_name(meta.db_table),
            "definition": ", ".join(definitions),
        }

    def index_sql(
        self,
        model: SchemaModel,
        columns: list[str],
        suffix: str,
        name: str | None = None,
        unique: bool = False,
        condition: str = "",
        orders: list[str] | None = None,
    ) -> str:
        """CREATE [UNIQUE] INDEX over ``columns`` (``orders`` holds '' or ' DESC' each)."""
        table = model._meta.db_table
        orders = orders or [""] * len(columns)
        return self.sql_create_index % {
            "unique": "UNIQUE " if unique else "",
            "if_not_exists": self._if_not_exists_sql(),
            "name": self.quote_name(name or self.make_name(table, columns, suffix)),
            "table": self.quote_name(table),
            "columns": ", ".join(
                self.quote_name(c) + o for c, o in zip(columns, orders, strict=True)
            ),
            "condition": f" WHERE {condition}" if condition else "",
        }

    def create_model(self, model: SchemaModel, if_not_exists: bool = False) -> None:
        """Create the table of ``model`` and its auto-created many-to-many tables.

        With ``if_not_exists``, a table that already exists is left exactly as
        it is (not compared, no index or constraint added to it), and the
        statements for the missing ones say ``IF NOT EXISTS``.
        """
        previous, self._if_not_exists = self._if_not_exists, if_not_exists
        try:
            if not (if_not_exists and self.table_exists(model._meta.db_table)):
                self.execute(self.table_sql(model))
            for field in model._meta.local_many_to_many:
                through = field.remote_field.through
                if through._meta.auto_created:
                    self.create_model(through, if_not_exists)
        finally:
            self._if_not_exists = previous

    def delete_model(self, model: SchemaModel, if_exists: bool = False) -> None:
        """Drop the table of ``model`` and its auto-created many-to-many tables.

        With ``if_exists``, a table that does not exist is not an error.
        """
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through._meta.auto_created:
                self.delete_model(through, if_exists)
        self.execute(
            self.sql_delete_table
            % {
                "if_exists": "IF EXISTS " if if_exists else "",
                "table": self.quote_name(model._meta.db_table),
            }
        )

    # -- reading the live schema ---------------------------------------------
    def constraint_names(
        self,
        table: str,
        columns: list[str] | None = None,
        *,
        unique: bool | None = None,
        primary_key: bool | None = None,
        index: bool | None = None,
        check: bool | None = None,
        foreign_key: bool | None = None,
        exclude: Iterable[str] = (),
    ) -> list[str]:
        """Names of the keys, constraints and indexes of ``table`` as the database has them.

        Names are read back from the catalog rather than recomputed, as Django
        does: the database may have named a constraint itself (PostgreSQL's
        ``<table>_<column>_key`` for an inline ``UNIQUE``), or an earlier
        rename kept an old name. Each keyword narrows the match; ``exclude``
        drops names (those of ``Meta.indexes``/``Meta.constraints``, which an
        alter of the column alone must not touch).
        """
        skip = set(exclude)
        names = []
        for name, info in self.connection.introspection.get_constraints(table).items():
            if name in skip or (columns is not None and info.columns != columns):
                continue
            wanted = (
                (unique, info.unique),
                (primary_key, info.primary_key),
                (index, info.index),
                (check, info.check),
                (foreign_key, info.foreign_key is not None),
            )
            if all(want is None or want == got for want, got in wanted):
                names.append(name)
        return names

    def meta_names(self, model: SchemaModel) -> set[str]:
        """Names of the ``Meta.indexes`` and ``Meta.constraints`` of ``model``."""
        names = {index.get_name(model, self) for index in model._meta.indexes}
        names.update(constraint.name for constraint in model._meta.constraints)
        return names

    def has_rows(self, table: str, where: str = "") -> bool:
        """True when ``table`` holds a row (matching ``where``); False when collecting SQL."""
        if self.collect_sql:
            return False
        condition = f" WHERE {where}" if where else ""
        return bool(self._fetch(f"SELECT 1 FROM {self.quote_name(table)}{condition} LIMIT 1"))

    def effective_default(self, field: SchemaField) -> tuple[bool, Any]:
        """``(True, value)`` for the value existing rows get in a new NOT NULL column.

        The field's ``default`` (called when callable), or ``""`` for a text
        field with ``blank=True`` (as Django does); ``(False, None)`` when
        there is none, and the caller refuses rows that would need one.
        """
        if field.has_default():
            value = field.get_default()
        elif not field.null and field.blank and field.empty_strings_allowed():
            value = ""
        else:
            return False, None
        return True, field.get_db_prep_save(value, self.connection)

    def refuse_missing_default(self, model: SchemaModel, field: SchemaField, action: str) -> None:
        """Raise for a NOT NULL column that rows need a value for and no default gives."""
        raise IntegrityError(
            f"Cannot {action} NOT NULL column {field.column!r} of table {model._meta.db_table!r}: "
            f"the table has rows that would need a value and field {field.name!r} has no default. "
            "Give the field a default (AddField/AlterField with preserve_default=False keeps it out "
            "of the model), make it null=True, or fill the rows in a RunPython step first."
        )

    @staticmethod
    def is_auto(field: SchemaField) -> bool:
        """True for the auto-incrementing key fields (``AutoField`` and its kin)."""
        return field.get_internal_type() in _AUTO_FIELDS

    @staticmethod
    def fk_target(field: SchemaField | None) -> tuple[str, str] | None:
        """``(table, column)`` a field's foreign key constraint points at, else None."""
        if field is None or not field.is_relation or field.many_to_many or not field.db_constraint:
            return None
        target = cast(RelatedSchemaField, field).target_field
        return target.model._meta.db_table, target.column

    def column_signature(self, model: SchemaModel, field: SchemaField) -> tuple[Any, ...]:
        """What of a field the database holds: two fields with equal signatures need no DDL.

        The default is not in it: like Django, defaults live in Python, not
        in the column (a changed default is a no-op for the database).
        """
        return (
            field.column,
            self.column_sql(model, field),
            self.fk_target(field),
            bool(field.db_index),
            bool(field.unique),
            bool(field.primary_key),
        )

    # -- fields ----------------------------------------------------------------
    def add_field(self, model: SchemaModel, field: SchemaField) -> None:
        """Add ``field``'s column (or its join table) to ``model``'s table.

        Existing rows get :meth:`effective_default` in a NOT NULL column; a
        table with rows and no default raises ``IntegrityError`` and changes
        nothing. Indexes, unique and foreign key constraints come with it.
        """
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.create_model(field.remote_field.through)
            return
        if field.db_type(self.connection) is None:
            return
        if not field.null and not field.primary_key:
            has_default, _ = self.effective_default(field)
            if not has_default and self.has_rows(model._meta.db_table):
                self.refuse_missing_default(model, field, "add")
        self.add_column(model, field)

    def remove_field(self, model: SchemaModel, field: SchemaField) -> None:
        """Drop ``field``'s column with its indexes and constraints (or its join table)."""
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.delete_model(field.remote_field.through)
            return
        if field.db_type(self.connection) is None:
            return
        self.remove_column(model, field)

    def alter_field(
        self,
        model: SchemaModel,
        old_field: SchemaField,
        new_field: SchemaField,
        strict: bool = False,
    ) -> None:
        """Change a column to match ``new_field``: name, type, null, unique, index, key, target.

        ``model`` is the model before the change. Many-to-many fields move
        their join table (and its columns). A column that becomes NOT NULL
        gets :meth:`effective_default` in rows holding NULL, or the alter is
        refused with ``IntegrityError`` before anything changes.
        """
        old_m2m, new_m2m = bool(old_field.many_to_many), bool(new_field.many_to_many)
        if old_m2m or new_m2m:
            if old_m2m != new_m2m:
                raise ValueError(
                    f"Cannot alter {old_field!r} into {new_field!r}: a many-to-many field cannot become "
                    "a column or the reverse. Remove the old field and add the new one (two operations)."
                )
            old_through, new_through = (
                old_field.remote_field.through,
                new_field.remote_field.through,
            )
            if old_through._meta.auto_created and new_through._meta.auto_created:
                self.alter_many_to_many(model, old_field, new_field)
            return
        if (
            old_field.db_type(self.connection) is None
            and new_field.db_type(self.connection) is None
        ):
            return
        if self.column_signature(model, old_field) == self.column_signature(
            model, new_field
        ) and not self.referencing_fields(old_field, new_field):
            return
        self.alter_column(model, old_field, new_field)

    def referencing_fields(
        self, old_field: SchemaField, new_field: SchemaField
    ) -> list[SchemaField]:
        """The foreign keys (of any model, join tables included) whose column must change
        type with ``new_field``: empty unless the type a reference to the field takes
        (``rel_db_type``) changes.

        The reference type can change while the key's own column does not: on SQLite
        an ``AutoField`` and a ``BigAutoField`` are both ``integer`` keys, but a foreign
        key to the second is ``bigint``. The fields are read from ``new_field``'s model
        (the state after the change), so their ``rel_db_type`` is already the new one
        (Django's ``_related_non_m2m_objects``).
        """
        if old_field.rel_db_type(self.connection) == new_field.rel_db_type(self.connection):
            return []
        model = getattr(new_field, "model", None)
        if model is None:
            return []
        return [
            rel.field
            for rel in model._meta.related_objects
            if not rel.field.many_to_many and rel.field.target_field.name == new_field.name
        ]

    def alter_many_to_many(
        self, model: SchemaModel, old_field: SchemaField, new_field: SchemaField
    ) -> None:
        """Move an automatic join table: its name, and its columns named after the models."""
        old_through, new_through = old_field.remote_field.through, new_field.remote_field.through
        if old_through._meta.db_table != new_through._meta.db_table:
            self.alter_db_table(old_through, old_through._meta.db_table, new_through._meta.db_table)
        old_fks = [f for f in old_through._meta.local_fields if f.is_relation]
        new_fks = [f for f in new_through._meta.local_fields if f.is_relation]
        for old_fk, new_fk in zip(old_fks, new_fks, strict=True):
            if old_fk.column != new_fk.column or self.fk_target(old_fk) != self.fk_target(new_fk):
                self.alter_field(new_through, old_fk, new_fk)

    def fk_points_at(self, table: str, column: str, target: tuple[str, str] | None) -> bool:
        """True when the live foreign key of ``table.column`` already points at ``target``.

        After ``alter_db_table`` renamed a referenced table, both backends
        have already moved the foreign keys pointing at it.
        """
        if target is None or self.collect_sql:
            return False
        relation = self.connection.introspection.get_relations(table).get(column)
        return relation is not None and (relation[1], relation[0]) == target

    def alter_db_table(self, model: SchemaModel, old_db_table: str, new_db_table: str) -> None:
        """Rename a table; foreign keys pointing at it follow on both backends."""
        if old_db_table == new_db_table:
            return
        self.execute(
            f"ALTER TABLE {self.quote_name(old_db_table)} RENAME TO {self.quote_name(new_db_table)}"
        )

    def alter_unique_together(
        self,
        model: SchemaModel,
        old_unique_together: Iterable[Sequence[str]] | None,
        new_unique_together: Iterable[Sequence[str]] | None,
    ) -> None:
        """Add and drop the ``UNIQUE (...)`` constraints of ``unique_together``."""
        olds = {tuple(names) for names in old_unique_together or ()}
        news = {tuple(names) for names in new_unique_together or ()}
        table = model._meta.db_table
        for names in sorted(olds - news):
            columns = [model._meta.get_field(name).column for name in names]
            found = self.constraint_names(
                table,
                columns,
                unique=True,
                primary_key=False,
                index=False,
                exclude=self.meta_names(model),
            )
            if len(found) != 1:
                raise ValueError(
                    f"Found {len(found)} unique constraints over {columns} of table {table!r} "
                    "where unique_together expects exactly one."
                )
            self.drop_constraint(model, found[0])
        for names in sorted(news - olds):
            columns = [model._meta.get_field(name).column for name in names]
            self.add_unique(model, columns, self.make_name(table, columns, "uniq"))

    # -- indexes and constraints -------------------------------------------------
    def add_index(self, model: SchemaModel, index: SchemaIndex) -> None:
        """Create one ``orm.Index``."""
        self.execute(index.create_sql(model, self))

    def remove_index(self, model: SchemaModel, index: SchemaIndex) -> None:
        """Drop one ``orm.Index``."""
        self.execute(self.sql_delete_index % {"name": self.quote_name(index.get_name(model, self))})

    def rename_index(
        self, model: SchemaModel, old_index: SchemaIndex, new_index: SchemaIndex
    ) -> None:
        """Give an index its new name (``ALTER INDEX ... RENAME TO``)."""
        self.execute(
            f"ALTER INDEX {self.quote_name(old_index.get_name(model, self))} "
            f"RENAME TO {self.quote_name(new_index.get_name(model, self))}"
        )

    def add_constraint(self, model: SchemaModel, constraint: SchemaConstraint) -> None:
        """Create a ``UniqueConstraint`` (an index when conditional) or ``CheckConstraint``."""
        inline = constraint.constraint_sql(model, self)
        if inline is None:
            self.execute(constraint.create_sql(model, self))
        else:
            self.execute(f"ALTER TABLE {self.quote_name(model._meta.db_table)} ADD {inline}")

    def remove_constraint(self, model: SchemaModel, constraint: SchemaConstraint) -> None:
        """Drop a constraint added by :meth:`add_constraint` (or ``Meta.constraints``)."""
        if constraint.constraint_sql(model, self) is None:
            self.execute(self.sql_delete_index % {"name": self.quote_name(constraint.name)})
        else:
            self.drop_constraint(model, constraint.name)

    def drop_constraint(self, model: SchemaModel, name: str) -> None:
        """``ALTER TABLE ... DROP CONSTRAINT name``."""
        self.execute(
            f"ALTER TABLE {self.quote_name(model._meta.db_table)} DROP CONSTRAINT {self.quote_name(name)}"
        )

    def add_unique(self, model: SchemaModel, columns: list[str], name: str) -> None:
        """``ALTER TABLE ... ADD CONSTRAINT name UNIQUE (columns)``."""
        self.execute(
            f"ALTER TABLE {self.quote_name(model._meta.db_table)} ADD CONSTRAINT {self.quote_name(name)} "
            f"UNIQUE ({', '.join(self.quote_name(c) for c in columns)})"
        )

    # -- backend hooks -----------------------------------------------------------
    def add_column(self, model: SchemaModel, field: SchemaField) -> None:
        """Backend part of :meth:`add_field` (rows already checked)."""
        raise NotImplementedError

    def remove_column(self, model: SchemaModel, field: SchemaField) -> None:
        """Backend part of :meth:`remove_field`."""
        raise NotImplementedError

    def alter_column(
        self, model: SchemaModel, old_field: SchemaField, new_field: SchemaField
    ) -> None:
        """Backend part of :meth:`alter_field` for two column fields that differ."""
        raise NotImplementedError

    def check_not_in_transaction(self) -> None:
        """Refuse DDL that cannot run inside an open transaction."""
        if self.connection.in_atomic_block:
            raise ProgrammingError("This schema operation cannot run inside an atomic block.")
