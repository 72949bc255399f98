"""Reading the schema back from the database: ``connection.introspection``.

What a table looks like *in the database* (its columns, keys, indexes and
constraints), as opposed to what the models say. The schema editor of the
migrations compares the two, and tests check that ``create_tables`` made
exactly what the models describe. Method names follow Django's
``connection.introspection``; results are small typed records instead of
Django's dicts and cursor descriptions.

Every method opens its own cursor on the wrapper's connection, so it runs on
the wrapper's thread like ``connection.cursor()`` (from async code, call it
inside ``orm.sync_to_async``). It only reads catalogs: outside ``atomic()``
each statement is its own autocommit transaction, so nothing stays open;
inside a block it sees the block's uncommitted DDL and leaves the block
usable. Table names are always bound as parameters or quoted through
``ops.quote_name``, so any name a model may have (``db_table='we"ird'``) works.

The contract of each method is documented here, once; the vendor classes
carry no docstrings of their own (Django's convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orm.exceptions import ProgrammingError

if TYPE_CHECKING:
    from orm.abc import Connection, Cursor

__all__ = [
    "BaseDatabaseIntrospection",
    "ConstraintInfo",
    "FieldInfo",
    "SequenceInfo",
    "TableInfo",
]


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One table or view: ``type`` is ``"t"`` (table), ``"v"`` (view) or ``"p"`` (partition)."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One column of a table, as the database describes it."""

    #: Column name, unquoted.
    name: str
    #: The column type as the database reports it: the declared type on SQLite
    #: (``varchar(100)``, ``integer unsigned``), ``format_type()`` on PostgreSQL
    #: (``character varying(100)``, ``numeric(8,2)``, ``timestamp with time zone``).
    data_type: str
    #: True when the column accepts NULL.
    null_ok: bool
    #: The DEFAULT expression as text (``'0'``, ``now()``), None without one.
    default: str | None
    #: True when the column is part of the primary key.
    pk: bool
    #: Length limit of a character column (``varchar(100)`` -> 100), else None.
    max_length: int | None = None
    #: Total digits and digits after the point of a numeric column, else None.
    precision: int | None = None
    scale: int | None = None
    #: The column's collation when it is not the default one, else None.
    collation: str | None = None
    #: True when the database fills the column if an INSERT leaves it out:
    #: an identity or serial column on PostgreSQL, the ``INTEGER PRIMARY KEY``
    #: (rowid alias) on SQLite.
    is_autofield: bool = False
    #: The type's OID on PostgreSQL (as in a cursor description), None on SQLite.
    type_code: int | None = None


@dataclass(frozen=True, slots=True)
class SequenceInfo:
    """A counter that numbers a column: ``name`` is None where it has none (SQLite)."""

    table: str
    column: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ConstraintInfo:
    """A primary key, unique constraint, foreign key, check constraint or index.

    A unique constraint is reported once, as a constraint (``unique=True``,
    ``index=False``), although the database backs it with an index; an index
    made with ``CREATE UNIQUE INDEX`` (a ``UniqueConstraint`` with a
    condition) is an index (``unique=True``, ``index=True``).
    """

    #: Columns covered, in key order (for a CHECK: the columns it reads, in
    #: table order). Expression entries of an index are left out.
    columns: list[str]
    primary_key: bool = False
    unique: bool = False
    #: ``(table, column)`` a foreign key points at (its first column), else None.
    foreign_key: tuple[str, str] | None = None
    check: bool = False
    index: bool = False
    #: ``"ASC"``/``"DESC"`` per column of an index (empty for constraints).
    orders: list[str] = field(default_factory=list)
    #: The index access method (``"btree"``, ``"gin"``, ...) of an index, else None.
    type: str | None = None
    #: The CHECK expression, or the CREATE INDEX statement, as the database
    #: stores it; None for other kinds.
    definition: str | None = None
    #: The WHERE condition of a partial index, else None.
    condition: str | None = None
    #: What a foreign key does on DELETE / UPDATE of the referenced row
    #: (``"CASCADE"``, ``"NO ACTION"``, ``"SET NULL"``, ...), else None.
    on_delete: str | None = None
    on_update: str | None = None
    #: Whether a foreign key may be checked at commit, and is by default; None
    #: for other kinds.
    deferrable: bool | None = None
    initially_deferred: bool | None = None


class BaseDatabaseIntrospection:
    """Schema facts read from the database's catalogs (one per connection wrapper)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- tables ----------------------------------------------------------------
    def table_names(self, include_views: bool = False) -> list[str]:
        """Names of the tables (and views with ``include_views``), sorted in Python.

        Sorting in Python, not with ORDER BY, keeps the order the same on every
        backend whatever the database's collation.
        """
        kinds = {"t", "v"} if include_views else {"t"}
        return sorted(info.name for info in self.get_table_list() if info.type in kinds)

    def get_table_list(self) -> list[TableInfo]:
        """Every table and view of the database (unsorted), without system tables."""
        raise NotImplementedError

    def get_table_description(self, table_name: str) -> list[FieldInfo]:
        """The columns of ``table_name`` in table order.

        Raises ``ProgrammingError`` when there is no such table or view.
        """
        raise NotImplementedError

    # -- keys -------------------------------------------------------------------
    def get_primary_key_columns(self, table_name: str) -> list[str]:
        """The primary key's columns in key order (empty without a primary key)."""
        for info in self.get_constraints(table_name).values():
            if info.primary_key:
                return list(info.columns)
        return []

    def get_primary_key_column(self, table_name: str) -> str | None:
        """The first primary key column, or None when the table has no primary key."""
        columns = self.get_primary_key_columns(table_name)
        return columns[0] if columns else None

    def get_relations(self, table_name: str) -> dict[str, tuple[str, str]]:
        """Foreign keys of ``table_name``: ``{column: (referenced_column, referenced_table)}``.

        ``on_delete``, ``on_update`` and deferrability are on the foreign
        keys' entries of :meth:`get_constraints`.
        """
        relations: dict[str, tuple[str, str]] = {}
        for info in self.get_constraints(table_name).values():
            if info.foreign_key is not None:
                to_table, to_column = info.foreign_key
                relations[info.columns[0]] = (to_column, to_table)
        return relations

    def get_sequences(self, table_name: str) -> list[SequenceInfo]:
        """The counters that number columns of ``table_name``.

        PostgreSQL: the sequence behind each identity or serial column.
        SQLite: the ``INTEGER PRIMARY KEY AUTOINCREMENT`` column, whose counter
        lives in ``sqlite_sequence`` (``name`` is None).
        """
        raise NotImplementedError

    def get_constraints(self, table_name: str) -> dict[str, ConstraintInfo]:
        """Every constraint and index of ``table_name`` by name, sorted by name.

        Names are the database's own. SQLite does not name some of them, so
        they get names that cannot clash with real ones: ``__primary__`` for
        the primary key, ``fk_<n>`` for an unnamed foreign key (n as in
        ``PRAGMA foreign_key_list``), ``__unnamed_constraint_<n>__`` for an
        unnamed CHECK (n counting them in CREATE TABLE order), and the
        ``sqlite_autoindex_<table>_<n>`` index name SQLite gives an unnamed
        UNIQUE constraint.
        """
        raise NotImplementedError

    # -- helpers for the vendor classes ------------------------------------------
    def _fetchall(self, sql: str, params: list[Any]) -> list[Any]:
        """Run one catalog query and return its rows.

        Always with a parameter list, so ``%%`` in the SQL reads as ``%``
        exactly as in every other statement.
        """
        cursor: Cursor
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    @staticmethod
    def _check_table_name(table_name: object) -> str:
        """Refuse a table name that is not a str, naming the likely mistake."""
        if isinstance(table_name, str) and table_name:
            return table_name
        raise TypeError(
            f"The table name must be a non-empty str, got {table_name!r}. orm's introspection "
            "methods open their own cursor: call get_constraints('table'), not Django's "
            "get_constraints(cursor, 'table')."
        )

    def _no_such_table(self, table_name: str) -> ProgrammingError:
        """The error for a table that does not exist."""
        return ProgrammingError(
            f"Table {table_name!r} does not exist on database alias "
            f"{self.connection.alias!r}; connection.introspection.table_names() lists its tables."
        )
