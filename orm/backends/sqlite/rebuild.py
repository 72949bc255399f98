"""SQLite's 12-step table rebuild, for the alters ``ALTER TABLE`` cannot do.

From https://www.sqlite.org/lang_altertable.html section 7: create the new
table under a temporary name, copy the rows with ``INSERT ... SELECT``
(mapping kept, altered and added columns), drop the old table, rename the new
one, then recreate its indexes, the triggers and views, and run
``PRAGMA foreign_key_check``. The schema editor has already switched
foreign-key enforcement off *outside* the transaction (the pragma is a no-op
inside one) and switches it back on after it; the foreign keys of other
tables name the table, not the copy, so they point at the rebuilt table and
are enforced again afterwards.

A renamed column is rebuilt under its old name, then renamed with the native
``ALTER TABLE ... RENAME COLUMN``, which also rewrites the indexes, CHECKs,
foreign keys, triggers and views that name it.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orm.exceptions import IntegrityError

if TYPE_CHECKING:
    from orm.backends.base.schema import BaseDatabaseSchemaEditor
    from orm.backends.base.shapes import SchemaConstraint, SchemaField, SchemaModel

# Objects of the schema that a rebuild drops and must put back: every view
# (a view may read the table through another view), and the triggers of the
# table or that mention it.
_SAVED_OBJECTS = (
    "SELECT type, name, tbl_name, sql FROM sqlite_master"
    " WHERE type IN ('view', 'trigger', 'index') AND sql IS NOT NULL ORDER BY rowid"
)
_REFERENCING_TABLES = (
    "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f"
    " WHERE m.type = 'table' AND f.\"table\" = %s AND m.name <> %s"
)


@dataclass
class Change:
    """What a rebuild changes; every part optional (none: rebuild from ``model`` as it is)."""

    create_field: SchemaField | None = None
    delete_field: SchemaField | None = None
    old_field: SchemaField | None = None
    new_field: SchemaField | None = None
    #: Constraint added (not yet in ``model._meta.constraints``) or dropped by name.
    add_constraint: SchemaConstraint | None = None
    drop_constraint: str | None = None
    #: The ``unique_together`` to build with, when it changes.
    unique_together: Collection[Sequence[str]] | None = None


class TableRebuild:
    """One rebuild of ``model``'s table by ``editor`` (a SQLite schema editor)."""

    def __init__(
        self, editor: BaseDatabaseSchemaEditor, model: SchemaModel, change: Change
    ) -> None:
        self.editor = editor
        self.model = model
        self.change = change
        self.table: str = model._meta.db_table
        self.temp = f"new__{self.table}"
        self.q = editor.quote_name

    # -- the plan --------------------------------------------------------------
    def _fields(self) -> list[tuple[Any, str | None, list[Any]]]:
        """(field as the new table defines it, SELECT expression or None, params) per column."""
        change, plan = self.change, []
        for f in self.model._meta.local_fields:
            if f.db_type(self.editor.connection) is None:
                continue
            if change.delete_field is not None and f.name == change.delete_field.name:
                continue
            if change.old_field is not None and f.name == change.old_field.name:
                assert change.new_field is not None, "old_field and new_field come together"
                plan.append(self._altered(change.old_field, change.new_field))
                continue
            plan.append((f, self.q(f.column), []))
        created = change.create_field
        if created is not None:
            has_default, default = self.editor.effective_default(created)
            plan.append((created, "%s" if has_default else None, [default] if has_default else []))
        return plan

    def _altered(self, old: SchemaField, new: SchemaField) -> tuple[Any, str | None, list[Any]]:
        # The new definition under the old column name (renamed afterwards).
        # A copy of the real field (its column is writable, unlike the protocol's).
        defined: Any = copy.copy(new)
        defined.column = old.column
        expression = self.q(old.column)
        if old.null and not new.null and not new.primary_key:
            has_default, default = self.editor.effective_default(new)
            if has_default:
                return defined, f"coalesce({expression}, %s)", [default]
        return defined, expression, []

    def _create_table_sql(
        self, plan: list[tuple[Any, str | None, list[Any]]]
    ) -> tuple[str, list[str]]:
        """CREATE TABLE of the copy, and the CREATE INDEX statements to run after the rename."""
        editor, model = self.editor, self.model
        definitions, indexes = [], []
        for f, _, _ in plan:
            definition = editor.column_sql(model, f)
            # The plan holds the table's concrete columns; only an M2M field has none.
            assert definition is not None, f"{f!r} has no column to copy"
            if editor.fk_target(f) is not None:
                definition += " " + editor.sql_inline_fk % editor._fk_params(model, f)
            definitions.append(f"{self.q(f.column)} {definition}")
            if f.db_index and not f.unique and not f.primary_key:
                indexes.append(editor.index_sql(model, [f.column], "idx"))
        gone = {self.change.delete_field.name} if self.change.delete_field is not None else set()
        together = self.change.unique_together
        together = model._meta.unique_together if together is None else together
        for names in sorted(tuple(n) for n in together):
            if gone.isdisjoint(names):
                columns = [model._meta.get_field(name).column for name in names]
                definitions.append("UNIQUE ({})".format(", ".join(self.q(c) for c in columns)))
        for constraint in self._constraints():
            if gone.isdisjoint(getattr(constraint, "fields", ())):
                inline = constraint.constraint_sql(model, editor)
                if inline:
                    definitions.append(inline)
                else:
                    indexes.append(constraint.create_sql(model, editor))
        for index in model._meta.indexes:
            if gone.isdisjoint(name.lstrip("-") for name in index.fields):
                indexes.append(index.create_sql(model, editor))
        sql = f"CREATE TABLE {self.q(self.temp)} ({', '.join(definitions)})"
        return sql, indexes

    def _constraints(self) -> list[Any]:
        constraints = [
            c for c in self.model._meta.constraints if c.name != self.change.drop_constraint
        ]
        added = self.change.add_constraint
        if added is not None and all(c.name != added.name for c in constraints):
            constraints.append(added)
        return constraints

    def _known_index_names(self) -> set[str]:
        """Indexes the model accounts for (rebuilt from it, never replayed from their saved SQL)."""
        editor, model = self.editor, self.model
        names = {editor.make_name(self.table, [f.column], "idx") for f in model._meta.local_fields}
        names.update(editor.meta_names(model))
        if self.change.add_constraint is not None:
            names.add(self.change.add_constraint.name)
        return names

    # -- running it --------------------------------------------------------------
    def run(self) -> None:
        """Rebuild the table (see the module docstring), then check foreign keys."""
        editor = self.editor
        plan = self._fields()
        create_sql, index_sqls = self._create_table_sql(plan)
        saved = [] if editor.collect_sql else editor._fetch(_SAVED_OBJECTS)
        sequence = self._sequence()
        editor.execute(create_sql)
        copied = [(f, expr, params) for f, expr, params in plan if expr is not None]
        params = [p for _, _, ps in copied for p in ps]
        editor.execute(
            f"INSERT INTO {self.q(self.temp)} ({', '.join(self.q(f.column) for f, _, _ in copied)}) "
            f"SELECT {', '.join(str(expr) for _, expr, _ in copied)} FROM {self.q(self.table)}",
            params,
        )
        # Views and the triggers that name the table would break the rename
        # (SQLite checks the whole schema): drop them, put them back after.
        replay = self._dependents(saved)
        # (Indexes and triggers of the table itself go with DROP TABLE: each
        # schema change makes SQLite re-read the whole schema, so none is spent.)
        for kind, name, table, _ in reversed(replay):
            if kind == "view" or (kind == "trigger" and table != self.table):
                editor.execute(f"DROP {kind.upper()} {self.q(name)}")
        editor.execute(f"DROP TABLE {self.q(self.table)}")
        editor.execute(f"ALTER TABLE {self.q(self.temp)} RENAME TO {self.q(self.table)}")
        if sequence is not None:
            # AUTOINCREMENT never reuses an id; keep the counter the old table had.
            editor.execute(
                "UPDATE sqlite_sequence SET seq = max(seq, %s) WHERE name = %s",
                [sequence, self.table],
            )
        for sql in index_sqls:
            editor.execute(sql)
        known = self._known_index_names()
        for kind, name, _, sql in replay:
            if kind != "index" or name not in known:
                editor.execute(sql, None)
        for kind, name, _, _ in replay:
            if kind == "view":
                # CREATE VIEW does not resolve columns; reading it does, so a
                # view left reading a dropped column fails here, not later.
                editor.execute(f"SELECT * FROM {self.q(name)} LIMIT 0")
        self.check_foreign_keys()

    def _sequence(self) -> Any:
        """The table's AUTOINCREMENT counter, or None (none yet, or collecting SQL)."""
        editor = self.editor
        if editor.collect_sql or not editor._fetch(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
        ):
            return None
        rows = editor._fetch("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
        return rows[0][0] if rows else None

    def _dependents(self, saved: list[tuple[Any, ...]]) -> list[tuple[str, str, str, str]]:
        """(kind, name, table, sql) of the views, triggers and indexes to put back."""
        lowered = self.table.lower()
        dependents = []
        for kind, name, table, sql in saved:
            if (
                kind == "view"
                or (kind == "trigger" and (table == self.table or lowered in sql.lower()))
                or (kind == "index" and table == self.table)
            ):
                dependents.append((str(kind), str(name), str(table), str(sql)))
        return dependents

    def check_foreign_keys(self) -> None:
        """``PRAGMA foreign_key_check`` of the table and of the tables pointing at it."""
        editor = self.editor
        if editor.collect_sql:
            return
        tables = [self.table] + [
            row[0] for row in editor._fetch(_REFERENCING_TABLES, [self.table, self.table])
        ]
        for table in tables:
            rows = editor._fetch(f"PRAGMA foreign_key_check({self.q(table)})")
            if rows:
                sample = ", ".join(f"{r[0]} rowid {r[1]} -> {r[2]}" for r in rows[:5])
                raise IntegrityError(
                    f"Rebuilding table {self.table!r} left {len(rows)} row(s) whose foreign key points "
                    f"at no row ({sample}); nothing was changed. Fix or delete those rows first."
                )
