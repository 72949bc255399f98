"""SQLite schema editor: foreign keys inline, FK checks off while tables change."""

from __future__ import annotations

from types import TracebackType

from orm.backends.base.schema import BaseDatabaseSchemaEditor
from orm.exceptions import NotSupportedError


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
                if str(self.connection.settings.options.get("foreign_keys", "on")).lower() in ("on", "1", "true"):
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
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if not self.collect_sql and not self.connection.in_atomic_block:
                if str(self.connection.settings.options.get("foreign_keys", "on")).lower() in ("on", "1", "true"):
                    with self.connection.cursor() as cursor:
                        cursor.execute("PRAGMA foreign_keys = ON")

    def _quote_bool(self, value: bool) -> str:
        return "1" if value else "0"
