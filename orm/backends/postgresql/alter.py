"""PostgreSQL column alters: add, drop and change a column in place, as Django does.

Everything runs in the schema editor's transaction (PostgreSQL DDL is
transactional), so a refused or failing step leaves the table as it was.
Constraint and index names are read back from the catalog before they are
dropped. Each ``ALTER TABLE`` takes an ACCESS EXCLUSIVE lock on its table
until the transaction ends; a type change or a fill of existing rows also
rewrites the table (docs/migrations.md lists what each alter costs).
"""

from __future__ import annotations

from typing import Any

from orm.backends.base.schema import BaseDatabaseSchemaEditor
from orm.backends.base.shapes import SchemaField, SchemaModel

# Foreign keys of any table of the current schema that point at one column:
# (table, column, constraint name).
_INCOMING_FKS = """
SELECT src.relname, att.attname, con.conname
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class src ON src.oid = con.conrelid
JOIN pg_catalog.pg_class dst ON dst.oid = con.confrelid
JOIN pg_catalog.pg_namespace n ON n.oid = dst.relnamespace
JOIN pg_catalog.pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
JOIN pg_catalog.pg_attribute ref ON ref.attrelid = con.confrelid AND ref.attnum = con.confkey[1]
WHERE con.contype = 'f' AND n.nspname = current_schema() AND dst.relname = %s AND ref.attname = %s
ORDER BY src.relname, con.conname
"""


class AlterColumnEditor(BaseDatabaseSchemaEditor):
    """The column half of the PostgreSQL schema editor (see the module docstring)."""

    @staticmethod
    def like_opclass(field: SchemaField) -> str | None:
        """The operator class of the extra ``_like`` index ``field`` gets, or None."""
        raise NotImplementedError

    def like_index_sql(self, model: SchemaModel, field: SchemaField, opclass: str) -> str:
        """CREATE INDEX of the ``_like`` index of ``field``."""
        raise NotImplementedError

    def _table(self, model: SchemaModel) -> str:
        return self.quote_name(model._meta.db_table)

    # -- add / remove ------------------------------------------------------------
    def add_column(self, model: SchemaModel, field: SchemaField) -> None:
        self.flush_deferred_checks()
        has_default, default = self.effective_default(field)
        if has_default and not field.primary_key:
            self._add_filled_column(model, field, default)
        else:
            definition = self.column_sql(model, field)
            self.execute(
                f"ALTER TABLE {self._table(model)} ADD COLUMN {self.quote_name(field.column)} {definition}"
            )
        self._add_extras(model, field, index=True, like=True, fk=True)

    def _add_filled_column(self, model: SchemaModel, field: SchemaField, default: Any) -> None:
        """Add a column whose existing rows get ``default``; the column keeps no DEFAULT (as Django)."""
        table, column = self._table(model), self.quote_name(field.column)
        try:
            literal = self.quote_value(default).replace("%", "%%")
        except TypeError:
            literal = None
        if literal is not None:
            # A constant DEFAULT is stored in the catalog, not written into
            # every row (PostgreSQL 11+): adding it is instant at any size.
            db_type = field.db_type(self.connection)
            assert db_type is not None, f"{field!r} has no column to add"
            definition = str(self.column_sql(model, field))[len(db_type) :]
            self.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} {db_type} DEFAULT {literal}{definition}"
            )
            self.execute(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
            return
        # A value with no literal form: add the column NULL, fill it with the
        # value as a bound parameter (rewrites every row), then SET NOT NULL.
        self.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} {self.column_sql(model, field, null=True)}"
        )
        self.execute(f"UPDATE {table} SET {column} = %s", [default])
        self.flush_deferred_checks()
        if not field.null:
            self._set_not_null(model, field.column, True)

    def remove_column(self, model: SchemaModel, field: SchemaField) -> None:
        self.flush_deferred_checks()
        # CASCADE also drops foreign keys of other tables that point at this
        # column (a to_field target), as Django does.
        self.execute(
            f"ALTER TABLE {self._table(model)} DROP COLUMN {self.quote_name(field.column)} CASCADE"
        )

    def _add_extras(
        self, model: SchemaModel, field: SchemaField, *, index: bool, like: bool, fk: bool
    ) -> None:
        """The index, ``_like`` index and foreign key of a column, each when asked and wanted."""
        if index and field.db_index and not field.unique and not field.primary_key:
            self.execute(self.index_sql(model, [field.column], "idx"))
        opclass = self.like_opclass(field)
        if like and opclass is not None:
            self.execute(self.like_index_sql(model, field, opclass))
        if fk and self.fk_target(field) is not None:
            self.execute(self.sql_create_fk % self._fk_params(model, field))

    def _set_not_null(self, model: SchemaModel, column: str, not_null: bool) -> None:
        action = "SET" if not_null else "DROP"
        self.execute(
            f"ALTER TABLE {self._table(model)} ALTER COLUMN {self.quote_name(column)} {action} NOT NULL"
        )

    # -- alter ---------------------------------------------------------------------
    def flush_deferred_checks(self) -> None:
        """Run the deferred foreign key checks now, then defer them again.

        PostgreSQL refuses ``ALTER TABLE`` on a table with pending trigger
        events (rows written earlier in this transaction: a fill, RunPython),
        and the deferred checks of a foreign key are such events.
        """
        self.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.execute("SET CONSTRAINTS ALL DEFERRED")

    def alter_column(self, model: SchemaModel, old: SchemaField, new: SchemaField) -> None:
        table = model._meta.db_table
        self.flush_deferred_checks()
        old_type, new_type = old.db_type(self.connection), new.db_type(self.connection)
        type_changed = old_type != new_type
        self._check_fill(model, old, new)
        fk_dropped = self._drop_fk(model, old, new, type_changed)
        referencing = self.referencing_fields(old, new) if type_changed else []
        incoming = self._incoming_fks(table, old.column, referencing) if type_changed else []
        for src_table, _, name in incoming:
            self.execute(
                f"ALTER TABLE {self.quote_name(src_table)} DROP CONSTRAINT {self.quote_name(name)}"
            )
        dropped = self._drop_column_extras(model, old, new, type_changed)
        if old.column != new.column:
            self.execute(
                f"ALTER TABLE {self.quote_name(table)} RENAME COLUMN {self.quote_name(old.column)} "
                f"TO {self.quote_name(new.column)}"
            )
        if type_changed or self.is_auto(old) != self.is_auto(new):
            self._alter_type(model, old, new, new_type if type_changed else None)
        self._alter_null(model, old, new)
        self._alter_primary_key(model, old, new)
        self._add_column_extras(model, old, new, dropped)
        if self.fk_target(new) is not None and (fk_dropped or self.fk_target(old) is None):
            self.execute(self.sql_create_fk % self._fk_params(model, new))
        self._retype_references(table, new, incoming, referencing)

    def _retype_references(
        self,
        table: str,
        new: SchemaField,
        incoming: list[tuple[str, str, str]],
        referencing: list[Any],
    ) -> None:
        """Give the columns pointing at ``new`` its reference type, then put back the
        foreign keys dropped before the key changed.

        The columns are those of the live foreign keys (``incoming``, read from the
        catalog) and of the models' relations (``referencing``: a ``db_constraint=False``
        foreign key has no constraint to find, but its column follows the key too).
        """
        rel_type = new.rel_db_type(self.connection)
        columns = {(src_table, src_column) for src_table, src_column, _ in incoming}
        columns.update((field.model._meta.db_table, field.column) for field in referencing)
        for src_table, src_column in sorted(columns):
            self.execute(
                f"ALTER TABLE {self.quote_name(src_table)} ALTER COLUMN {self.quote_name(src_column)} "
                f"TYPE {rel_type} USING {self.quote_name(src_column)}::{rel_type}"
            )
        for src_table, src_column, name in incoming:
            self.execute(
                f"ALTER TABLE {self.quote_name(src_table)} ADD CONSTRAINT {self.quote_name(name)} "
                f"FOREIGN KEY ({self.quote_name(src_column)}) REFERENCES {self.quote_name(table)} "
                f"({self.quote_name(new.column)}) DEFERRABLE INITIALLY DEFERRED"
            )

    def _check_fill(self, model: SchemaModel, old: SchemaField, new: SchemaField) -> None:
        """Refuse, before any change, a NOT NULL column whose NULL rows no default can fill."""
        if old.null and not new.null and not new.primary_key:
            has_default, _ = self.effective_default(new)
            where = f"{self.quote_name(old.column)} IS NULL"
            if not has_default and self.has_rows(model._meta.db_table, where):
                self.refuse_missing_default(model, new, "make")

    def _incoming_fks(
        self, table: str, column: str, referencing: list[Any]
    ) -> list[tuple[str, str, str]]:
        """(table, column, constraint name) of the foreign keys pointing at ``table.column``."""
        if self.collect_sql:
            # Nothing is read while collecting: the models' foreign keys stand in
            # for the catalog, under the names this editor gives them.
            return [
                (
                    f.model._meta.db_table,
                    f.column,
                    self.make_name(f.model._meta.db_table, [f.column], "fk"),
                )
                for f in referencing
                if f.db_constraint
            ]
        return [(str(a), str(b), str(c)) for a, b, c in self._fetch(_INCOMING_FKS, [table, column])]

    def _drop_fk(
        self, model: SchemaModel, old: SchemaField, new: SchemaField, type_changed: bool
    ) -> bool:
        """Drop the column's own foreign key when its target or type changes; True if dropped."""
        old_target, new_target = self.fk_target(old), self.fk_target(new)
        if old_target is None:
            return False
        if old_target == new_target and not type_changed:
            return False
        if not type_changed and self.fk_points_at(model._meta.db_table, old.column, new_target):
            return False  # the target table was renamed; the key followed it
        names = self.constraint_names(model._meta.db_table, [old.column], foreign_key=True)
        for name in names:
            self.drop_constraint(model, name)
        return True

    def _drop_column_extras(
        self, model: SchemaModel, old: SchemaField, new: SchemaField, type_changed: bool
    ) -> set[str]:
        """Drop the unique, index, ``_like`` index and CHECK the new field no longer wants."""
        table, column, dropped = model._meta.db_table, old.column, set()
        keep = self.meta_names(model)
        if old.unique and not old.primary_key and not (new.unique and not new.primary_key):
            for name in self.constraint_names(
                table, [column], unique=True, primary_key=False, index=False, exclude=keep
            ):
                self.drop_constraint(model, name)
        old_index = old.db_index and not old.unique and not old.primary_key
        new_index = new.db_index and not new.unique and not new.primary_key
        old_like, new_like = self.like_opclass(old), self.like_opclass(new)
        for name in self.constraint_names(table, [column], unique=False, index=True, exclude=keep):
            is_like = name.endswith("_like")
            if (is_like and old_like is not None and (old_like != new_like or type_changed)) or (
                not is_like and old_index and not new_index
            ):
                self.execute(self.sql_delete_index % {"name": self.quote_name(name)})
                dropped.add("like" if is_like else "index")
        if old.db_check(self.connection) is not None and self._check_changed(old, new):
            for name in self.constraint_names(table, [column], check=True, exclude=keep):
                self.drop_constraint(model, name)
        return dropped

    def _check_changed(self, old: SchemaField, new: SchemaField) -> bool:
        return old.get_internal_type() != new.get_internal_type() and (
            old.db_check(self.connection) is not None or new.db_check(self.connection) is not None
        )

    def _alter_type(
        self, model: SchemaModel, old: SchemaField, new: SchemaField, new_type: str | None
    ) -> None:
        column = self.quote_name(new.column)
        prefix = f"ALTER TABLE {self._table(model)} ALTER COLUMN {column}"
        if self.is_auto(old) and not self.is_auto(new):
            self.execute(f"{prefix} DROP IDENTITY IF EXISTS")
        # USING makes conversions without an assignment cast explicit
        # (varchar -> integer); the identity sequence follows the new type.
        if new_type is not None:
            self.execute(f"{prefix} TYPE {new_type} USING {column}::{new_type}")
        if self.is_auto(new) and not self.is_auto(old):
            self.execute(f"{prefix} ADD GENERATED BY DEFAULT AS IDENTITY")
            # The identity starts at 1; move it past the ids already used.
            self.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({column}), 0) + 1, false) "
                f"FROM {self._table(model)}",
                # pg_get_serial_sequence parses its first argument as a
                # (quoted) identifier; here it is a value, so no '%' doubling.
                ['"' + model._meta.db_table.replace('"', '""') + '"', new.column],
            )

    def _alter_null(self, model: SchemaModel, old: SchemaField, new: SchemaField) -> None:
        if new.primary_key or old.null == new.null:
            return
        if not new.null:
            has_default, default = self.effective_default(new)
            if has_default:
                column = self.quote_name(new.column)
                self.execute(
                    f"UPDATE {self._table(model)} SET {column} = %s WHERE {column} IS NULL",
                    [default],
                )
                self.flush_deferred_checks()
        self._set_not_null(model, new.column, not new.null)

    def _alter_primary_key(self, model: SchemaModel, old: SchemaField, new: SchemaField) -> None:
        if old.primary_key == new.primary_key:
            return
        table = model._meta.db_table
        for name in self.constraint_names(table, primary_key=True):
            self.drop_constraint(model, name)
        if new.primary_key:
            self.execute(
                f"ALTER TABLE {self._table(model)} ADD PRIMARY KEY ({self.quote_name(new.column)})"
            )

    def _add_column_extras(
        self, model: SchemaModel, old: SchemaField, new: SchemaField, dropped: set[str]
    ) -> None:
        table = model._meta.db_table
        if new.unique and not new.primary_key and not (old.unique and not old.primary_key):
            self.add_unique(model, [new.column], self.make_name(table, [new.column], "uniq"))
        old_index = old.db_index and not old.unique and not old.primary_key
        new_index = new.db_index and not new.unique and not new.primary_key
        if new_index and (not old_index or "index" in dropped):
            self.execute(self.index_sql(model, [new.column], "idx"))
        opclass = self.like_opclass(new)
        if opclass is not None and (self.like_opclass(old) is None or "like" in dropped):
            self.execute(self.like_index_sql(model, new, opclass))
        check = new.db_check(self.connection)
        if check is not None and self._check_changed(old, new):
            name = self.quote_name(self.make_name(table, [new.column], "check"))
            self.execute(f"ALTER TABLE {self._table(model)} ADD CONSTRAINT {name} CHECK ({check})")
