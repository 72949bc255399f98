"""SQLite capability flags."""

from __future__ import annotations

import sqlite3

from orm.backends.base.features import BaseDatabaseFeatures


class DatabaseFeatures(BaseDatabaseFeatures):
    """What SQLite supports (see the base class for each flag's question)."""

    can_return_rows_from_bulk_insert = True  # RETURNING exists since SQLite 3.35
    # SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766 since 3.32; stay well below.
    max_query_params = 999 * 30
    supported_explain_formats = frozenset()
    supported_explain_options = frozenset()
    can_add_foreign_key_later = False
    can_use_chunked_reads = True
    # SQLite takes any type name; "varchar" without a length has TEXT affinity.
    supports_unlimited_charfield = True
    # Generated columns exist since SQLite 3.31 (the stdlib's is newer on every
    # supported Python build), stored and virtual.
    supports_stored_generated_columns = True
    supports_virtual_generated_columns = True
    # group_concat(x, ';' ORDER BY y) arrived in SQLite 3.44.
    supports_aggregate_order_by_clause = sqlite3.sqlite_version_info >= (3, 44, 0)
    # group_concat(DISTINCT x) takes one argument only (its separator is then ",").
    supports_aggregate_distinct_multiple_argument = False
