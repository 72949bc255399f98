"""PostgreSQL capability flags (PostgreSQL 12 or newer, psycopg 3)."""

from __future__ import annotations

from orm.abc import Connection
from orm.backends.base.features import BaseDatabaseFeatures
from orm.conf import PGBOUNCER_TRANSACTION


class DatabaseFeatures(BaseDatabaseFeatures):
    """What PostgreSQL supports (see the base class for each flag's question)."""

    # Can INSERT ... RETURNING give back generated primary keys of many rows? Yes.
    can_return_rows_from_bulk_insert = True
    # Does SELECT ... FOR UPDATE exist, with NOWAIT, SKIP LOCKED and OF? All of them.
    has_select_for_update = True
    has_select_for_update_nowait = True
    has_select_for_update_skip_locked = True
    has_select_for_update_of = True
    # Does the backend support DISTINCT ON (fields)? Yes.
    can_distinct_on_fields = True
    # Native uuid, interval, jsonb and timestamptz columns? Yes.
    has_native_uuid_field = True
    has_native_duration_field = True
    has_native_json_field = True
    supports_timezones = True
    # Does JSON containment work? Yes, jsonb's @> operator.
    supports_json_field_contains = True
    # Most bound parameters per statement: the protocol counts them in 16 bits.
    max_query_params = 65535
    # Are savepoints available inside transactions? Yes.
    uses_savepoints = True
    # Can a server-side cursor stream rows? Yes: named cursors (DECLARE ... CURSOR).
    can_use_chunked_reads = True
    # Formats EXPLAIN accepts.
    supported_explain_formats = frozenset({"TEXT", "JSON", "XML", "YAML"})
    # EXPLAIN options besides FORMAT (Django's list): each takes a boolean, but
    # SERIALIZE takes TEXT or BINARY; GENERIC_PLAN needs PostgreSQL 16,
    # MEMORY and SERIALIZE 17 (an older server reports the syntax error).
    supported_explain_options = frozenset(
        {
            "ANALYZE",
            "BUFFERS",
            "COSTS",
            "GENERIC_PLAN",
            "MEMORY",
            "SERIALIZE",
            "SETTINGS",
            "SUMMARY",
            "TIMING",
            "VERBOSE",
            "WAL",
        }
    )
    # Partial indexes (CREATE INDEX ... WHERE)? Yes.
    supports_partial_indexes = True
    # Can a FOREIGN KEY be added with ALTER TABLE after creation? Yes: the schema
    # editor adds them after every table of the batch exists.
    can_add_foreign_key_later = True
    # Must the CASE that bulk_update() assigns be cast to the column type? Yes:
    # a CASE whose branches are all NULL (or untyped) is text to PostgreSQL.
    requires_casted_case_in_updates = True
    can_bulk_insert_unnest = True
    # varchar without a length is unlimited, like text.
    supports_unlimited_charfield = True
    # COMMENT ON TABLE / COMMENT ON COLUMN.
    supports_comments = True
    # Generated columns: STORED since PostgreSQL 12; VIRTUAL only from 18.
    supports_stored_generated_columns = True
    supports_virtual_generated_columns = False

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        # Behind PgBouncer in transaction mode each transaction may get
        # another server session (the pgbouncer=transaction URL option).
        pooling = connection.settings.options.get("pgbouncer") == PGBOUNCER_TRANSACTION
        self.has_persistent_session = not pooling
