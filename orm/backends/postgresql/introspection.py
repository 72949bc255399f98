"""PostgreSQL introspection: ``pg_catalog`` queries, the table found through the search path.

A table name is looked up once per call (``relname`` bound as a parameter,
``pg_table_is_visible`` picking the one the search path finds, as an
unqualified name in a query would), and the following queries take its OID,
so a name with quotes or any other character needs no quoting at all.
"""

from __future__ import annotations

from orm.backends.base.introspection import (
    BaseDatabaseIntrospection,
    ConstraintInfo,
    FieldInfo,
    SequenceInfo,
    TableInfo,
)

# pg_constraint.confdeltype / confupdtype codes.
_FK_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}

# 'p' a partition, 'v' a view or materialized view, 't' any other table.
_TABLE_TYPE = (
    "CASE WHEN c.relispartition THEN 'p' WHEN c.relkind IN ('v', 'm') THEN 'v' ELSE 't' END"
)

_TABLE_LIST_SQL = f"""
SELECT c.relname, {_TABLE_TYPE}
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND pg_catalog.pg_table_is_visible(c.oid)
"""

_TABLE_OID_SQL = """
SELECT c.oid::bigint FROM pg_catalog.pg_class c
WHERE c.relname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND pg_catalog.pg_table_is_visible(c.oid)
"""

# typmod of varchar(n)/char(n) is n + 4; of numeric(p, s) it is (p << 16 | s) + 4.
# A generated column's pg_attrdef row is its expression, not a default.
_COLUMNS_SQL = """
SELECT
    a.attname,
    pg_catalog.format_type(a.atttypid, a.atttypmod),
    NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)),
    CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END,
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_index i
        WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY (i.indkey)
    ),
    CASE WHEN a.atttypid IN ('pg_catalog.varchar'::regtype, 'pg_catalog.bpchar'::regtype)
         AND a.atttypmod > 0 THEN a.atttypmod - 4 END,
    CASE WHEN a.atttypid = 'pg_catalog.numeric'::regtype AND a.atttypmod > 0
         THEN ((a.atttypmod - 4) >> 16) & 65535 END,
    CASE WHEN a.atttypid = 'pg_catalog.numeric'::regtype AND a.atttypmod > 0
         THEN (a.atttypmod - 4) & 65535 END,
    CASE WHEN co.collname = 'default' THEN NULL ELSE co.collname END,
    a.attidentity <> '' OR COALESCE(
        starts_with(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), 'nextval('), false
    ),
    a.atttypid::bigint
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid = %s::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

# Sequences owned by a column: 'a' for serial (OWNED BY), 'i' for identity.
_SEQUENCES_SQL = """
SELECT s.relname, a.attname
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_catalog.pg_class'::regclass
  AND d.refclassid = 'pg_catalog.pg_class'::regclass
  AND d.refobjid = %s::oid AND d.deptype IN ('a', 'i')
ORDER BY a.attnum
"""

# Key columns in key order; a CHECK's columns (the ones it reads) in table order.
_CONSTRAINTS_SQL = """
SELECT
    c.conname,
    c.contype::text,
    ARRAY(
        SELECT a.attname::text
        FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        ORDER BY CASE WHEN c.contype = 'c' THEN k.attnum ELSE k.ord END
    ),
    f.relname,
    (SELECT a.attname FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = c.confrelid AND a.attnum = c.confkey[1]),
    c.confdeltype::text,
    c.confupdtype::text,
    c.condeferrable,
    c.condeferred,
    CASE WHEN c.contype = 'c' THEN pg_catalog.pg_get_expr(c.conbin, c.conrelid) END
FROM pg_catalog.pg_constraint c
LEFT JOIN pg_catalog.pg_class f ON f.oid = c.confrelid
WHERE c.conrelid = %s::oid AND c.contype IN ('p', 'u', 'f', 'c')
"""

# Key columns only (INCLUDE columns follow indnkeyatts); expression entries
# have attnum 0 and no pg_attribute row, so they drop out of both arrays.
# Bit 0 of indoption is DESC.
_INDEXES_SQL = """
SELECT
    ic.relname,
    i.indisunique,
    am.amname,
    keys.columns,
    keys.orders,
    pg_catalog.pg_get_indexdef(i.indexrelid),
    pg_catalog.pg_get_expr(i.indpred, i.indrelid)
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
LEFT JOIN LATERAL (
    SELECT
        array_agg(a.attname::text ORDER BY k.ord) AS columns,
        array_agg(CASE WHEN k.option & 1 = 1 THEN 'DESC' ELSE 'ASC' END ORDER BY k.ord) AS orders
    FROM unnest(i.indkey, i.indoption) WITH ORDINALITY AS k(attnum, option, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE k.ord <= i.indnkeyatts
) keys ON true
WHERE i.indrelid = %s::oid
"""


class DatabaseIntrospection(BaseDatabaseIntrospection):
    """PostgreSQL's catalogs, for the relations the search path finds."""

    def get_table_list(self) -> list[TableInfo]:
        return [TableInfo(name, kind) for name, kind in self._fetchall(_TABLE_LIST_SQL, [])]

    def _table_oid(self, table_name: str) -> int:
        """OID of the table or view ``table_name`` names through the search path."""
        self._check_table_name(table_name)
        rows = self._fetchall(_TABLE_OID_SQL, [table_name])
        if not rows:
            raise self._no_such_table(table_name)
        return int(rows[0][0])

    def get_table_description(self, table_name: str) -> list[FieldInfo]:
        rows = self._fetchall(_COLUMNS_SQL, [self._table_oid(table_name)])
        return [
            FieldInfo(
                name=name,
                data_type=data_type,
                null_ok=null_ok,
                default=default,
                pk=pk,
                max_length=max_length,
                precision=precision,
                scale=scale,
                collation=collation,
                is_autofield=is_autofield,
                type_code=type_code,
            )
            for (
                name,
                data_type,
                null_ok,
                default,
                pk,
                max_length,
                precision,
                scale,
                collation,
                is_autofield,
                type_code,
            ) in rows
        ]

    def get_sequences(self, table_name: str) -> list[SequenceInfo]:
        rows = self._fetchall(_SEQUENCES_SQL, [self._table_oid(table_name)])
        return [SequenceInfo(table=table_name, column=column, name=name) for name, column in rows]

    def get_constraints(self, table_name: str) -> dict[str, ConstraintInfo]:
        oid = self._table_oid(table_name)
        constraints: dict[str, ConstraintInfo] = {}
        for (
            name,
            kind,
            columns,
            to_table,
            to_column,
            on_delete,
            on_update,
            deferrable,
            deferred,
            check,
        ) in self._fetchall(_CONSTRAINTS_SQL, [oid]):
            is_fk = kind == "f"
            constraints[name] = ConstraintInfo(
                columns=list(columns),
                primary_key=kind == "p",
                unique=kind in ("p", "u"),
                foreign_key=(to_table, to_column) if is_fk else None,
                check=kind == "c",
                definition=check,
                on_delete=_FK_ACTIONS.get(on_delete) if is_fk else None,
                on_update=_FK_ACTIONS.get(on_update) if is_fk else None,
                deferrable=deferrable if is_fk else None,
                initially_deferred=deferred if is_fk else None,
            )
        for name, unique, method, columns, orders, definition, condition in self._fetchall(
            _INDEXES_SQL, [oid]
        ):
            if name in constraints:
                continue  # the index behind a primary key or unique constraint
            constraints[name] = ConstraintInfo(
                columns=list(columns or []),
                unique=unique,
                index=True,
                # Only a b-tree keeps its keys in an order.
                orders=list(orders or []) if method == "btree" else [],
                type=method,
                definition=definition,
                condition=condition,
            )
        return dict(sorted(constraints.items()))
