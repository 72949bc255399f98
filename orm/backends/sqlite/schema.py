"""SQLite schema editor: foreign keys inline, FK checks off while tables change.

Alters use SQLite's native ``ALTER TABLE ... ADD COLUMN`` / ``DROP COLUMN`` /
``RENAME COLUMN`` / ``RENAME TO`` where they can do the change, and the
12-step rebuild of :mod:`orm.backends.sqlite.rebuild` for everything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

from orm.backends.base.schema import BaseDatabaseSchemaEditor
from orm.backends.base.shapes import SchemaConstraint, SchemaField, SchemaIndex, SchemaModel
from orm.backends.sqlite.rebuild import Change, TableRebuild
from orm.exceptions import NotSupportedError

# A LIKE the lookups compile (literal inlined, '%' doubled for placeholder
# processing): column or UPPER(column), pattern or UPPER(pattern), ESCAPE '\'.
_LIKE = re.compile(
    r"""(?P<lhs>UPPER\("(?:[^"]|"")*"\)|"(?:[^"]|"")*") LIKE """
    r"""(?P<upper>UPPER\()?'(?P<pattern>(?:[^']|'')*)'(?(upper)\)) ESCAPE '\\'"""
)


class DatabaseSchemaEditor(BaseDatabaseSchemaEditor):
    """SQLite DDL: inline foreign keys, FK checks off while tables change."""

    auto_field_suffix = "AUTOINCREMENT"
    sql_table_exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s"
    # SQLite cannot ALTER TABLE ... ADD CONSTRAINT, so foreign keys go inline.
    inline_foreign_keys = True

    def __enter__(self) -> DatabaseSchemaEditor:
        # Dropping or rebuilding a referenced table would trip foreign-key checks;
        # the pragma is a no-op inside a transaction, so it must be set first.
        if not self.collect_sql:
            if self.connection.in_atomic_block:
                if str(self.connection.settings.options.get("foreign_keys", "on")).lower() in (
                    "on",
                    "1",
                    "true",
                ):
                    raise NotSupportedError(
                        "SQLite schema changes cannot run inside transaction.atomic(): "
                        "foreign key checks must be turned off outside a transaction first."
                    )
            else:
                with self.connection.cursor() as cursor:
                    cursor.execute("PRAGMA foreign_keys = OFF", [])
        super().__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if not self.collect_sql and not self.connection.in_atomic_block:
                if str(self.connection.settings.options.get("foreign_keys", "on")).lower() in (
                    "on",
                    "1",
                    "true",
                ):
                    with self.connection.cursor() as cursor:
                        cursor.execute("PRAGMA foreign_keys = ON")

    def _quote_bool(self, value: bool) -> str:
        return "1" if value else "0"

    # -- partial index conditions --------------------------------------------------
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
        # SQLite refuses LIKE in a partial index's WHERE: the case_sensitive_like
        # pragma could change its meaning, so it counts as non-deterministic.
        # The same test written with substr()/instr() is deterministic.
        condition = _LIKE.sub(self._deterministic_like, condition) if condition else condition
        return super().index_sql(model, columns, suffix, name, unique, condition, orders)

    def _deterministic_like(self, match: re.Match[str]) -> str:
        lhs = match.group("lhs")
        text = match.group("pattern").replace("''", "'").replace("%%", "%")
        starts, ends = (
            not text.startswith("%"),
            not (text.endswith("%") and not text.endswith("\\%")),
        )
        core = text[0 if starts else 1 : len(text) if ends else -1]
        if re.search(r"(?<!\\)[%_]", core.replace("\\\\", "")):
            return match.group()  # a wildcard inside: not one of the lookups' patterns
        needle = re.sub(r"\\(.)", r"\1", core)
        literal = self.quote_value(needle).replace("%", "%%")
        if match.group("upper"):
            literal = f"UPPER({literal})"
        size = len(needle)
        if starts and ends:
            return f"{lhs} = {literal}"
        if starts:
            return f"substr({lhs}, 1, {size}) = {literal}"
        if ends:
            return (
                f"(length({lhs}) >= {size} AND substr({lhs}, -{size}) = {literal})"
                if size
                else f"{lhs} IS NOT NULL"
            )
        return f"instr({lhs}, {literal}) > 0"

    # -- alters ------------------------------------------------------------------------
    def rebuild(self, model: SchemaModel, change: Change | None = None) -> None:
        """Rebuild ``model``'s table with ``change`` (SQLite's 12 steps, see rebuild.py)."""
        TableRebuild(self, model, change or Change()).run()

    def add_column(self, model: SchemaModel, field: SchemaField) -> None:
        has_default, _ = self.effective_default(field)
        # Native ADD COLUMN cannot add a key or a UNIQUE column, and would need a
        # DEFAULT clause in the column for rows to get a value: rebuild then.
        if field.null and not has_default and not field.unique and not field.primary_key:
            definition = self.column_sql(model, field)
            if self.fk_target(field) is not None:
                definition = f"{definition} {self.sql_inline_fk % self._fk_params(model, field)}"
            self.execute(
                f"ALTER TABLE {self.quote_name(model._meta.db_table)} "
                f"ADD COLUMN {self.quote_name(field.column)} {definition}"
            )
            if field.db_index:
                self.execute(self.index_sql(model, [field.column], "idx"))
        else:
            self.rebuild(model, Change(create_field=field))

    def remove_column(self, model: SchemaModel, field: SchemaField) -> None:
        if self._can_drop_natively(model, field):
            table = model._meta.db_table
            if field.db_index:
                # DROP COLUMN refuses an indexed column: drop the index first.
                name = self.quote_name(self.make_name(table, [field.column], "idx"))
                self.execute(f"DROP INDEX IF EXISTS {name}")
            self.execute(
                f"ALTER TABLE {self.quote_name(table)} DROP COLUMN {self.quote_name(field.column)}"
            )
        else:
            self.rebuild(model, Change(delete_field=field))

    def _can_drop_natively(self, model: SchemaModel, field: SchemaField) -> bool:
        # DROP COLUMN refuses a key or UNIQUE column, and a column that an
        # index, a table CHECK, a view or a trigger names. Its own REFERENCES
        # and CHECK go with it; its db_index is dropped first.
        if field.primary_key or field.unique:
            return False
        meta = model._meta
        named = {n for names in meta.unique_together for n in names}
        named.update(n.lstrip("-") for index in meta.indexes for n in index.fields)
        named.update(n for c in meta.constraints for n in getattr(c, "fields", ()))
        if meta.constraints or field.name in named:
            return False
        if self.collect_sql:
            return True
        if self._fetch("SELECT 1 FROM sqlite_master WHERE type IN ('view', 'trigger') LIMIT 1"):
            return False
        # An index made by hand (RunSQL) over the column would refuse it too.
        return not self._fetch(
            "SELECT 1 FROM sqlite_master m, pragma_index_info(m.name) i WHERE m.type = 'index'"
            " AND m.tbl_name = %s AND i.name = %s AND m.name <> %s LIMIT 1",
            [meta.db_table, field.column, self.make_name(meta.db_table, [field.column], "idx")],
        )

    def alter_column(self, model: SchemaModel, old: SchemaField, new: SchemaField) -> None:
        table = model._meta.db_table
        if old.null and not new.null and not new.primary_key:
            has_default, _ = self.effective_default(new)
            if not has_default and self.has_rows(table, f"{self.quote_name(old.column)} IS NULL"):
                self.refuse_missing_default(model, new, "make")
        old_sig = list(self.column_signature(model, old))
        new_sig = list(self.column_signature(model, new))
        if old_sig[2] != new_sig[2] and self.fk_points_at(table, old.column, new_sig[2]):
            old_sig[2] = new_sig[2]  # the target table was renamed; the key followed it
        old_sig[0] = new_sig[0] = None
        # column_sql() includes a CHECK naming the column: compare without it.
        old_sig[1], new_sig[1] = self._definition(model, old), self._definition(model, new)
        if old_sig[:3] + old_sig[4:] == new_sig[:3] + new_sig[4:] and not (
            new.unique or new.primary_key
        ):
            self._alter_index(model, old, new)  # only db_index differs: no rebuild needed
        elif old_sig != new_sig:
            self.rebuild(model, Change(old_field=old, new_field=new))
        if old.column != new.column:
            self.execute(
                f"ALTER TABLE {self.quote_name(table)} RENAME COLUMN {self.quote_name(old.column)} "
                f"TO {self.quote_name(new.column)}"
            )
        # SQLite cannot change a column's type in place: the tables whose foreign
        # keys point at the key are rebuilt from their models in the new state
        # (a self-reference too: the rebuild above used the model before the change).
        rebuilt: list[Any] = []
        for field in self.referencing_fields(old, new):
            if field.model not in rebuilt:
                rebuilt.append(field.model)
                self.rebuild(field.model)

    def _alter_index(self, model: SchemaModel, old: SchemaField, new: SchemaField) -> None:
        if new.db_index and not old.db_index:
            self.execute(self.index_sql(model, [old.column], "idx"))
        elif old.db_index and not new.db_index:
            table = model._meta.db_table
            names = (
                [self.make_name(table, [old.column], "idx")]
                if self.collect_sql
                else self.constraint_names(
                    table, [old.column], unique=False, index=True, exclude=self.meta_names(model)
                )
            )
            for name in names:
                self.execute(self.sql_delete_index % {"name": self.quote_name(name)})

    def _definition(self, model: SchemaModel, field: SchemaField) -> tuple[Any, ...]:
        return (
            field.db_type(self.connection),
            field.null,
            self.is_auto(field),
            field.get_internal_type() in (self.connection.data_type_check_constraints),
        )

    def alter_unique_together(
        self,
        model: SchemaModel,
        old_unique_together: Iterable[Sequence[str]] | None,
        new_unique_together: Iterable[Sequence[str]] | None,
    ) -> None:
        olds = {tuple(names) for names in old_unique_together or ()}
        news = {tuple(names) for names in new_unique_together or ()}
        if olds != news:
            self.rebuild(model, Change(unique_together=news))

    def add_constraint(self, model: SchemaModel, constraint: SchemaConstraint) -> None:
        if constraint.constraint_sql(model, self) is None:
            super().add_constraint(model, constraint)  # a partial unique index
        else:
            self.rebuild(model, Change(add_constraint=constraint))

    def remove_constraint(self, model: SchemaModel, constraint: SchemaConstraint) -> None:
        if constraint.constraint_sql(model, self) is None:
            super().remove_constraint(model, constraint)
        else:
            self.rebuild(model, Change(drop_constraint=constraint.name))

    def rename_index(
        self, model: SchemaModel, old_index: SchemaIndex, new_index: SchemaIndex
    ) -> None:
        # SQLite has no ALTER INDEX: drop it and create it under the new name.
        self.remove_index(model, old_index)
        self.add_index(model, new_index)
