"""Which migrations a database has applied: the table ``orm_migrations(app, name, applied)``.

The table is created on first use (``ensure_schema``), outside the
migration's own transaction, because SQLite's schema editor must switch
foreign-key checks off before a transaction starts. Its model lives in a
registry of its own, so it never shows up among a project's models (nor in
``makemigrations``).
"""

from __future__ import annotations

import datetime
from typing import Any

from orm.abc import Connection
from orm.fields import BigAutoField, CharField, DateTimeField
from orm.models import Apps, Model

__all__ = ["MigrationRecorder"]

Key = tuple[str, str]

# A registry of its own: the recorder's model is not one of the project's.
_recorder_apps = Apps()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class MigrationRecord(Model):
    """One applied migration."""

    id = BigAutoField(primary_key=True)
    app = CharField(max_length=255)
    name = CharField(max_length=255)
    applied = DateTimeField(default=_now)

    class Meta:
        apps = _recorder_apps
        app_label = "orm_migrations"
        db_table = "orm_migrations"

    def __str__(self) -> str:
        return f"Migration {self.name} for {self.app}"


class MigrationRecorder:
    """Reads and writes the applied-migrations table of one connection (Django's recorder).

    Every method works on ``connection`` (a wrapper of the calling thread);
    reads before the table exists see no migration applied.
    """

    Migration = MigrationRecord

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @property
    def migration_qs(self) -> Any:
        """A QuerySet of the records on this recorder's database."""
        return MigrationRecord.objects.using(self.connection.alias)

    def has_table(self) -> bool:
        """True when ``orm_migrations`` exists."""
        return MigrationRecord._meta.db_table in self.connection.introspection.table_names()

    def ensure_schema(self) -> None:
        """Create ``orm_migrations`` unless it exists (safe when two processes race to it)."""
        if self.has_table():
            return
        # Another migrate may create it between the check and here: IF NOT
        # EXISTS, under the schema lock (PostgreSQL's IF NOT EXISTS alone still
        # fails on the catalog when two transactions race).
        with self.connection.schema_editor() as editor:
            editor.lock_schema()
            editor.create_model(MigrationRecord, if_not_exists=True)

    def applied_migrations(self) -> dict[Key, Any]:
        """``{(app, name): record}`` of every applied migration (empty before the table exists)."""
        if not self.has_table():
            return {}
        return {(row.app, row.name): row for row in self.migration_qs.order_by("id")}

    def is_applied(self, app: str, name: str) -> bool:
        """Whether ``app.name`` is recorded as applied (one query; no table means no)."""
        return bool(self.migration_qs.filter(app=app, name=name).exists())

    def record_applied(self, app: str, name: str) -> None:
        """Record ``app.name`` as applied now."""
        self.ensure_schema()
        self.migration_qs.create(app=app, name=name)

    def record_unapplied(self, app: str, name: str) -> None:
        """Forget that ``app.name`` was applied."""
        self.ensure_schema()
        self.migration_qs.filter(app=app, name=name).delete()

    def flush(self) -> None:
        """Forget every applied migration (the table stays)."""
        self.migration_qs.all().delete()
