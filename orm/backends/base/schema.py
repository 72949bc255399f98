"""The schema editor: DDL for tables, many-to-many tables, indexes and constraints.

``orm.create_tables`` and (later) migrations both use it. Names always pass
through ``quote_name``; the only literals are default-free column types and,
in CHECK constraints, values rendered by :meth:`quote_value`.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import uuid
from types import TracebackType
from typing import Any

from orm.db import transaction
from orm.exceptions import ProgrammingError
from orm.sql.compiler import SQLCompiler


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

    def __init__(self, connection: Any, atomic: bool = True, collect_sql: bool = False) -> None:
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
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
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
    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        """Run one DDL statement (or collect it when ``collect_sql`` is set)."""
        if self.collect_sql:
            self.collected_sql.append(sql + ";")
            return
        with self.connection.cursor() as cursor:
            # Always with a parameter list, so '%%' in quoted names is read as
            # '%' exactly as in every other statement.
            cursor.execute(sql, params or [])

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
        digest = hashlib.md5("\x1f".join([table, *columns]).encode(), usedforsecurity=False).hexdigest()[:8]
        base = f"{table}_{'_'.join(columns)}"
        limit = self.connection.ops.max_name_length() - len(suffix) - 10
        return f"{base[:limit]}_{digest}_{suffix}"

    # -- columns -------------------------------------------------------------
    def column_sql(self, model: Any, field: Any) -> str | None:
        """The column definition after its name, or ``None`` for no column (M2M)."""
        db_type = field.db_type(self.connection)
        if db_type is None:
            return None
        parts = [db_type]
        if field.generated:
            sql, params = field.generated_sql(self.connection)
            sql %= tuple(self.quote_value(p) for p in params)
            parts.append(f"GENERATED ALWAYS AS ({sql}) {'STORED' if field.db_persist else 'VIRTUAL'}")
        if field.has_db_default():
            parts.append(f"DEFAULT {self.db_default_sql(field)}")
        if field.primary_key:
            parts.append("NOT NULL PRIMARY KEY")
            if field.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField"):
                if self.auto_field_suffix:
                    parts.append(self.auto_field_suffix)
        else:
            parts.append("NULL" if field.null else "NOT NULL")
            if field.unique:
                parts.append("UNIQUE")
        check = field.db_check(self.connection)
        if check:
            parts.append(f"CHECK ({check})")
        return " ".join(parts)

    def db_default_sql(self, field: Any) -> str:
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

    def comment_sql(self, model: Any) -> list[str]:
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
            statements.append(f"COMMENT ON TABLE {table} IS {self.quote_value(meta.db_table_comment)}")
        for field in meta.local_fields:
            if field.db_comment and field.concrete:
                column = self.quote_name(field.column)
                statements.append(f"COMMENT ON COLUMN {table}.{column} IS {self.quote_value(field.db_comment)}")
        return statements

    def _fk_params(self, model: Any, field: Any) -> dict[str, str]:
        target = field.target_field
        return {
            "table": self.quote_name(model._meta.db_table),
            "name": self.quote_name(self.make_name(model._meta.db_table, [field.column], "fk")),
            "column": self.quote_name(field.column),
            "to_table": self.quote_name(target.model._meta.db_table),
            "to_column": self.quote_name(target.column),
        }

    # -- tables ----------------------------------------------------------------
    def table_sql(self, model: Any) -> str:
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
        self, model: Any, columns: list[str], suffix: str, name: str | None = None,
        unique: bool = False, condition: str = "", orders: list[str] | None = None,
    ) -> str:
        """CREATE [UNIQUE] INDEX over ``columns`` (``orders`` holds '' or ' DESC' each)."""
        table = model._meta.db_table
        orders = orders or [""] * len(columns)
        return self.sql_create_index % {
            "unique": "UNIQUE " if unique else "",
            "if_not_exists": self._if_not_exists_sql(),
            "name": self.quote_name(name or self.make_name(table, columns, suffix)),
            "table": self.quote_name(table),
            "columns": ", ".join(self.quote_name(c) + o for c, o in zip(columns, orders, strict=True)),
            "condition": f" WHERE {condition}" if condition else "",
        }

    def create_model(self, model: Any, if_not_exists: bool = False) -> None:
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

    def delete_model(self, model: Any, if_exists: bool = False) -> None:
        """Drop the table of ``model`` and its auto-created many-to-many tables.

        With ``if_exists``, a table that does not exist is not an error.
        """
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through._meta.auto_created:
                self.delete_model(through, if_exists)
        self.execute(self.sql_delete_table % {
            "if_exists": "IF EXISTS " if if_exists else "",
            "table": self.quote_name(model._meta.db_table),
        })

    def add_index(self, model: Any, index: Any) -> None:
        """Create one ``orm.Index``."""
        self.execute(index.create_sql(model, self))

    def remove_index(self, model: Any, index: Any) -> None:
        """Drop one ``orm.Index``."""
        self.execute(self.sql_delete_index % {"name": self.quote_name(index.get_name(model, self))})

    def check_not_in_transaction(self) -> None:
        """Refuse DDL that cannot run inside an open transaction."""
        if self.connection.in_atomic_block:
            raise ProgrammingError("This schema operation cannot run inside an atomic block.")
