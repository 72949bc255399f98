"""What a backend can do, as data: one question-comment per flag."""

from __future__ import annotations

from orm.abc import Connection


class BaseDatabaseFeatures:
    """Capability flags; tests and the compiler branch on these, never on vendor names."""

    # Can INSERT ... RETURNING give back generated primary keys of many rows?
    can_return_rows_from_bulk_insert = False
    # Does SELECT ... FOR UPDATE exist?
    has_select_for_update = False
    # Does FOR UPDATE accept NOWAIT / SKIP LOCKED / OF?
    has_select_for_update_nowait = False
    has_select_for_update_skip_locked = False
    has_select_for_update_of = False
    # Can an aggregate take ORDER BY inside its call (STRING_AGG(x, ',' ORDER BY y))?
    supports_aggregate_order_by_clause = True
    # Can DISTINCT apply to an aggregate of several arguments (STRING_AGG(DISTINCT x, ';'))?
    supports_aggregate_distinct_multiple_argument = True
    # Does the backend support DISTINCT ON (fields)?
    can_distinct_on_fields = False
    # Can a CharField have no max_length (a varchar column without a length)?
    supports_unlimited_charfield = False
    # Can a column be GENERATED ALWAYS AS (...) STORED / VIRTUAL?
    supports_stored_generated_columns = False
    supports_virtual_generated_columns = False
    # Can a column have a comment (COMMENT ON COLUMN / TABLE)?
    supports_comments = False
    # Does the backend distinguish between '' and None?
    interprets_empty_strings_as_nulls = False
    # Is there a native UUID / interval / JSON / time-zone-aware datetime type?
    has_native_uuid_field = False
    has_native_duration_field = False
    has_native_json_field = False
    supports_timezones = False
    # Does JSON containment (``contains`` on a JSONField) work?
    supports_json_field_contains = False
    # Most bound parameters one statement may carry (None: no practical limit).
    max_query_params: int | None = None
    # Are savepoints available inside transactions?
    uses_savepoints = True
    # Can a server-side cursor stream rows without loading them all?
    can_use_chunked_reads = True
    # Formats EXPLAIN accepts (upper-case), empty when it takes none.
    supported_explain_formats: frozenset[str] = frozenset()
    # Option names EXPLAIN accepts (upper-case) besides FORMAT.
    supported_explain_options: frozenset[str] = frozenset()
    # Does the backend support partial (conditional) unique indexes?
    supports_partial_indexes = True
    # Can a FOREIGN KEY be added with ALTER TABLE after creation?
    can_add_foreign_key_later = True
    # Does a CASE in UPDATE ... SET need a cast to the column type (all-NULL branches)?
    requires_casted_case_in_updates = False
    # Can many rows be inserted from one array parameter per column (INSERT ... UNNEST)?
    can_bulk_insert_unnest = False
    # Do statements outside a transaction run in one server session, so session
    # state (SET, session advisory locks, WITH HOLD cursors) lasts between them?
    # Not behind a PgBouncer in transaction pooling mode.
    has_persistent_session = True

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
