"""What a migration statement costs a live database: its table locks, rewrites, scans and rebuilds.

``orm migrate --plan`` and ``orm sqlmigrate`` annotate each operation and
statement with it. On PostgreSQL a statement is classified from its text
with the lock levels of the PostgreSQL manual ("Explicit Locking" and the
``ALTER TABLE`` page): the strongest lock it takes on each table, whether
it rewrites the table (every row copied) or scans it (every row read while
the lock is held). On SQLite the only costly step is the 12-step rebuild
(a copy of the table into ``new__<table>``), found by that name.

Row counts come from the database when it is reachable: PostgreSQL's
``pg_class.reltuples`` (the planner's estimate, no scan), SQLite's
``COUNT(*)`` (SQLite keeps no estimate; a rebuild reads every row anyway).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from orm.exceptions import DatabaseError

__all__ = [
    "ACCESS_EXCLUSIVE", "LOCK_MODES", "binary_compatible", "column_types", "refine", "OperationCost", "StatementCost", "classify", "classify_postgresql",
    "classify_sqlite", "costs_by_operation", "describe_cost", "Estimates", "index_tables", "row_estimates",
]

#: PostgreSQL's table lock modes, weakest first (the manual's conflict table order).
LOCK_MODES = (
    "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
    "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE",
)
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
_SUE = "SHARE UPDATE EXCLUSIVE"
_SRE = "SHARE ROW EXCLUSIVE"

# A quoted identifier ("a""b"), a bare one, each optionally schema-qualified.
_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))?'
# Defaults PostgreSQL must evaluate per row, so ADD COLUMN rewrites the table.
_VOLATILE = re.compile(r"\b(random|gen_random_uuid|uuid_generate_v[14]|clock_timestamp|nextval|timeofday)\s*\(", re.I)


@dataclass(frozen=True)
class StatementCost:
    """The cost of one statement: ``locks`` maps each relation to the strongest mode taken on it.

    ``index_locks`` are relations named by an index (``DROP INDEX``, ``ALTER
    INDEX``): the lock falls on the index's table, known only with a database.
    """

    sql: str
    locks: dict[str, str] = field(default_factory=dict)
    index_locks: dict[str, str] = field(default_factory=dict)
    rewrites: tuple[str, ...] = ()
    scans: tuple[str, ...] = ()
    rebuilds: tuple[str, ...] = ()
    creates: tuple[str, ...] = ()
    #: ``(table, column, new type)`` of each ``ALTER COLUMN ... TYPE``: with the
    #: current type from the database, a binary-compatible one is no rewrite.
    type_changes: tuple[tuple[str, str, str], ...] = ()

    @property
    def costly(self) -> bool:
        """Whether the statement locks, rewrites, scans or rebuilds an existing table."""
        return bool(self.locks or self.index_locks or self.rewrites or self.scans or self.rebuilds)


@dataclass
class OperationCost:
    """The statements of one operation of a migration, and what they cost together."""

    description: str
    statements: list[StatementCost] = field(default_factory=list)

    def merged(self) -> StatementCost:
        """One cost for the whole operation: the strongest lock per table, every rewrite and scan."""
        locks: dict[str, str] = {}
        index_locks: dict[str, str] = {}
        for cost in self.statements:
            _merge(locks, cost.locks)
            _merge(index_locks, cost.index_locks)
        created = {name for cost in self.statements for name in cost.creates}
        # A table the operation itself creates is new: locking it blocks nobody.
        locks = {name: mode for name, mode in locks.items() if name not in created}

        def union(attr: str) -> tuple[str, ...]:
            names = [name for cost in self.statements for name in getattr(cost, attr) if name not in created]
            return tuple(dict.fromkeys(names))

        changes = tuple(change for cost in self.statements for change in cost.type_changes)
        return StatementCost(
            "", locks, index_locks, union("rewrites"), union("scans"), union("rebuilds"), tuple(sorted(created)),
            changes,
        )


def _merge(into: dict[str, str], more: dict[str, str]) -> None:
    for name, mode in more.items():
        if name not in into or LOCK_MODES.index(mode) > LOCK_MODES.index(into[name]):
            into[name] = mode


def _unquote(name: str) -> str:
    """The relation name of an identifier as written (quotes and schema dropped)."""
    last = str(re.findall(r'"(?:[^"]|"")+"|[^."]+', name)[-1])
    return last[1:-1].replace('""', '"') if last.startswith('"') else last.lower()


def classify(vendor: str, sql: str) -> StatementCost:
    """The cost of ``sql`` on ``vendor`` (``"postgresql"`` or ``"sqlite"``)."""
    return classify_postgresql(sql) if vendor == "postgresql" else classify_sqlite(sql)


def classify_sqlite(sql: str) -> StatementCost:
    """On SQLite only the rebuild costs: a ``CREATE TABLE "new__<table>"`` copies the whole table."""
    match = re.match(rf"\s*CREATE\s+TABLE\s+({_NAME})", sql, re.I)
    if match is None:
        return StatementCost(sql)
    name = _unquote(match.group(1))
    if name.startswith("new__"):
        return StatementCost(sql, rebuilds=(name[len("new__"):],))
    return StatementCost(sql, creates=(name,))


def classify_postgresql(sql: str) -> StatementCost:
    """The locks, rewrites and scans of one PostgreSQL statement (read from its text, nothing runs).

    Statements this does not know (a ``RunSQL`` with a function call, say)
    have no lock listed; ``ALTER TABLE`` actions it does not know count as
    ``ACCESS EXCLUSIVE``, PostgreSQL's default for ``ALTER TABLE``.
    """
    text = " ".join(sql.strip().rstrip(";").split())
    upper = text.upper()
    for pattern, handler in _HANDLERS:
        match = re.match(pattern, text, re.I)
        if match is not None:
            return handler(sql, text, upper, match)
    return StatementCost(sql)


def _create_table(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    referenced = {_unquote(name): _SRE for name in re.findall(rf"\bREFERENCES\s+({_NAME})", text, re.I)}
    return StatementCost(sql, locks=referenced, creates=(_unquote(match.group(1)),))


def _create_index(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    table = _unquote(match.group(2))
    # CONCURRENTLY lets writes go on; it still reads the table (twice).
    mode = _SUE if match.group(1) else "SHARE"
    return StatementCost(sql, locks={table: mode}, scans=(table,))


def _drop_index(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    mode = _SUE if match.group(1) else ACCESS_EXCLUSIVE
    return StatementCost(sql, index_locks={_unquote(match.group(2)): mode})


def _alter_index(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    # PostgreSQL 12+ renames an index under SHARE UPDATE EXCLUSIVE on the
    # index alone: its table stays open to reads and writes (pg_locks agrees).
    if " RENAME TO " in upper:
        return StatementCost(sql, locks={_unquote(match.group(1)): _SUE})
    return StatementCost(sql, index_locks={_unquote(match.group(1)): ACCESS_EXCLUSIVE})


def _drop_table(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    return StatementCost(sql, locks={_unquote(match.group(1)): ACCESS_EXCLUSIVE})


def _dml(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    table = _unquote(match.group(2))
    verb = match.group(1).upper()
    # UPDATE/DELETE without WHERE touch every row; INSERT ... SELECT reads another table.
    whole = verb in ("UPDATE", "DELETE FROM") and " WHERE " not in upper
    return StatementCost(sql, locks={table: "ROW EXCLUSIVE"}, scans=(table,) if whole else ())


def _truncate(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    return StatementCost(sql, locks={_unquote(match.group(1)): ACCESS_EXCLUSIVE})


def _comment_on(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    name = _unquote(match.group(2).rsplit(".", 1)[0]) if match.group(1).upper() == "COLUMN" else _unquote(
        match.group(2))
    return StatementCost(sql, locks={name: _SUE})


def _alter_table(sql: str, text: str, upper: str, match: re.Match[str]) -> StatementCost:
    table = _unquote(match.group(1))
    locks = {table: "ACCESS SHARE"}
    rewrites: list[str] = []
    scans: list[str] = []
    changes: list[tuple[str, str, str]] = []
    for action in _split_actions(text[match.end():]):
        retype = re.match(rf"ALTER (?:COLUMN )?({_NAME}) (?:SET DATA )?TYPE (.+?)(?: USING .*)?$", action, re.I)
        if retype is not None:
            changes.append((table, _unquote(retype.group(1)), retype.group(2).strip()))
        mode, rewrite, scan, referenced = _alter_action(action)
        _merge(locks, {table: mode})
        if referenced is not None:
            _merge(locks, {referenced: _SRE})
        if rewrite:
            rewrites.append(table)
        if scan:
            scans.append(table)
    return StatementCost(sql, locks=locks, rewrites=tuple(dict.fromkeys(rewrites)), scans=tuple(dict.fromkeys(scans)),
                         type_changes=tuple(changes))


def _alter_action(action: str) -> tuple[str, bool, bool, str | None]:
    """(lock mode, rewrites, scans, referenced table) of one ``ALTER TABLE`` action."""
    upper = action.upper()
    not_valid = upper.endswith(" NOT VALID")
    references = re.search(rf"\bREFERENCES\s+({_NAME})", action, re.I)
    if upper.startswith("ADD") and references is not None and re.search(r"\bFOREIGN\s+KEY\b", upper):
        # Adding a foreign key takes SHARE ROW EXCLUSIVE on both tables and
        # checks every row unless NOT VALID.
        return _SRE, False, not not_valid, _unquote(references.group(1))
    if re.match(r"ADD (CONSTRAINT \S+ )?(CHECK|UNIQUE|PRIMARY KEY|EXCLUDE)\b", upper):
        builds = " USING INDEX " not in upper and not not_valid
        return ACCESS_EXCLUSIVE, False, builds, None
    if upper.startswith("VALIDATE CONSTRAINT"):
        return _SUE, False, True, None
    if upper.startswith("ADD"):  # ADD [COLUMN]
        rewrite = bool(_VOLATILE.search(action)) or " GENERATED ALWAYS AS (" in upper or " IDENTITY" in upper
        no_default = " DEFAULT " not in upper
        fails_when_rows = " NOT NULL" in upper and no_default and not rewrite
        return ACCESS_EXCLUSIVE, rewrite, fails_when_rows, references and _unquote(references.group(1))
    column = re.match(rf"ALTER (?:COLUMN )?{_NAME} (.*)", action, re.I)
    if column is not None:
        rest = column.group(1).upper()
        if rest.startswith(("TYPE", "SET DATA TYPE")):
            return ACCESS_EXCLUSIVE, True, False, None
        if rest.startswith("SET NOT NULL"):
            return ACCESS_EXCLUSIVE, False, True, None
        if rest.startswith(("SET STATISTICS", "SET (", "RESET (")):
            return _SUE, False, False, None
    if upper.startswith("SET (") or upper.startswith("RESET ("):
        return _SUE, False, False, None
    return ACCESS_EXCLUSIVE, False, False, None


def _split_actions(text: str) -> list[str]:
    """The comma-separated actions of an ``ALTER TABLE`` (commas inside parentheses or quotes stay)."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


_Handler = Callable[[str, str, str, "re.Match[str]"], StatementCost]
_HANDLERS: tuple[tuple[str, _Handler], ...] = (
    (rf"CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?({_NAME})", _create_table),
    (rf"CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?(?:{_NAME} )?ON (?:ONLY )?({_NAME})",
     _create_index),
    (rf"DROP INDEX (CONCURRENTLY )?(?:IF EXISTS )?({_NAME})", _drop_index),
    (rf"ALTER INDEX (?:IF EXISTS )?({_NAME})", _alter_index),
    (rf"DROP TABLE (?:IF EXISTS )?({_NAME})", _drop_table),
    (rf"ALTER TABLE (?:IF EXISTS )?(?:ONLY )?({_NAME})", _alter_table),
    (rf"(INSERT INTO|UPDATE|DELETE FROM) (?:ONLY )?({_NAME})", _dml),
    (rf"TRUNCATE (?:TABLE )?(?:ONLY )?({_NAME})", _truncate),
    (rf"COMMENT ON (TABLE|COLUMN) ({_NAME}(?:\.{_NAME})?)", _comment_on),
)


def costs_by_operation(vendor: str, collected: list[str]) -> list[OperationCost]:
    """Group the SQL a migration collected by operation and classify each statement.

    ``Migration.apply``/``unapply`` with ``collect_sql`` put ``--``,
    ``-- <description>``, ``--`` before each operation's statements; the
    schema editor's deferred statements (foreign keys added once the tables
    exist) come last and count towards the last operation.
    """
    operations: list[OperationCost] = []
    index = 0
    while index < len(collected):
        line = collected[index]
        if line == "--" and index + 2 < len(collected) and collected[index + 2] == "--":
            operations.append(OperationCost(collected[index + 1][3:]))
            index += 3
            continue
        if not line.startswith("--"):
            if not operations:
                operations.append(OperationCost(""))
            operations[-1].statements.append(classify(vendor, line))
        index += 1
    return operations


def row_estimates(connection: Any, names: set[str]) -> dict[str, int | None]:
    """Rows in each existing table of ``names`` (None: not known); tables that do not exist are left out.

    PostgreSQL: ``pg_class.reltuples`` (-1, never analyzed, gives None);
    SQLite: ``COUNT(*)``. A database that cannot be reached gives ``{}``.
    """
    if not names:
        return {}
    try:
        existing = set(connection.introspection.table_names())
        found = sorted(names & existing)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                return _pg_estimates(cursor, found)
            counts: dict[str, int | None] = {}
            for name in found:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}", [])
                counts[name] = int(cursor.fetchone()[0])
            return counts
    except DatabaseError:
        return {}


def _pg_estimates(cursor: Any, names: list[str]) -> dict[str, int | None]:
    estimates: dict[str, int | None] = {}
    for name in names:
        cursor.execute(
            "SELECT c.reltuples FROM pg_class c WHERE c.oid = to_regclass(quote_ident(%s))", [name],
        )
        row = cursor.fetchone()
        estimates[name] = None if row is None or row[0] is None or row[0] < 0 else int(row[0])
    return estimates


def index_tables(connection: Any, names: set[str]) -> dict[str, str]:
    """The table of each index in ``names`` that exists (PostgreSQL); ``{}`` when unreachable."""
    if not names or connection.vendor != "postgresql":
        return {}
    try:
        with connection.cursor() as cursor:
            tables: dict[str, str] = {}
            for name in sorted(names):
                cursor.execute(
                    "SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                    "WHERE i.indexrelid = to_regclass(quote_ident(%s))", [name],
                )
                row = cursor.fetchone()
                if row is not None:
                    tables[name] = row[0]
            return tables
    except DatabaseError:
        return {}


@dataclass
class Estimates:
    """What the database says about the tables a plan touches (empty without a database)."""

    rows: dict[str, int | None] = field(default_factory=dict)
    index_tables: dict[str, str] = field(default_factory=dict)
    #: ``(table, column) -> type`` as ``format_type`` writes it, for the columns retyped.
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def gather(cls, connection: Any, costs: list[StatementCost]) -> Estimates:
        """Ask ``connection`` (None: no database) about every table and index ``costs`` name."""
        if connection is None:
            return cls()
        indexes = {name for cost in costs for name in cost.index_locks}
        found = index_tables(connection, indexes)
        tables = {name for cost in costs for name in (*cost.locks, *cost.rewrites, *cost.scans, *cost.rebuilds)}
        columns = {(table, column) for cost in costs for table, column, _ in cost.type_changes}
        return cls(row_estimates(connection, tables | set(found.values())), found,
                   column_types(connection, columns))


def column_types(connection: Any, columns: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The current type of each existing ``(table, column)`` (PostgreSQL); ``{}`` when unreachable."""
    if not columns or connection.vendor != "postgresql":
        return {}
    try:
        with connection.cursor() as cursor:
            types: dict[tuple[str, str], str] = {}
            for table, column in sorted(columns):
                cursor.execute(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = to_regclass(quote_ident(%s)) AND attname = %s AND NOT attisdropped",
                    [table, column],
                )
                row = cursor.fetchone()
                if row is not None:
                    types[table, column] = row[0]
            return types
    except DatabaseError:
        return {}


def binary_compatible(old: str, new: str) -> bool:
    """Whether PostgreSQL changes a column from type ``old`` to ``new`` without rewriting the table.

    Its rules for the types migrations produce: the same type; a longer (or
    unbounded) ``varchar``; ``varchar`` to ``text`` and back to an unbounded
    ``varchar``; a ``numeric`` with more precision and the same scale, or
    unconstrained.
    """
    (old_base, old_args), (new_base, new_args) = _type_parts(old), _type_parts(new)
    if (old_base, old_args) == (new_base, new_args):
        return True
    if old_base == new_base == "varchar":
        return not new_args or (bool(old_args) and new_args[0] >= old_args[0])
    if old_base in ("varchar", "text") and new_base in ("varchar", "text"):
        return not new_args
    if old_base == new_base == "numeric":
        return not new_args or (len(old_args) == len(new_args) == 2 and new_args[0] >= old_args[0]
                                and new_args[1] == old_args[1])
    return False


def _type_parts(name: str) -> tuple[str, tuple[int, ...]]:
    """``("varchar", (100,))`` for ``character varying(100)`` or ``varchar(100)``."""
    text = " ".join(name.lower().split())
    base, _, args = text.partition("(")
    base = {"character varying": "varchar", "decimal": "numeric"}.get(base.strip(), base.strip())
    numbers = tuple(int(part) for part in re.findall(r"\d+", args))
    return base, numbers


def refine(cost: StatementCost, estimates: Estimates) -> StatementCost:
    """``cost`` without the rewrites the current column types show not to happen."""
    if not cost.type_changes or not estimates.column_types:
        return cost
    kept = []
    for table in cost.rewrites:
        changes = [(column, new) for name, column, new in cost.type_changes if name == table]
        known = [estimates.column_types.get((table, column)) for column, _ in changes]
        if changes and all(old is not None and binary_compatible(old, new)
                           for old, (_, new) in zip(known, changes, strict=True)):
            continue
        kept.append(table)
    return replace(cost, rewrites=tuple(kept))


def describe_cost(vendor: str, cost: StatementCost, estimates: Estimates) -> str:
    """One line saying what ``cost`` means, ``""`` when it costs nothing worth saying.

    PostgreSQL: ``ACCESS EXCLUSIVE on "shop_book" (~1200 rows); rewrites
    "shop_book"``. SQLite: ``rebuilds "shop_book" (12 rows)``.
    """
    if vendor != "postgresql":
        parts = [f"rebuilds {_table(name, vendor, estimates)}" for name in cost.rebuilds]
        return "; ".join(parts)
    cost = refine(cost, estimates)
    by_mode: dict[str, list[str]] = {}
    for name, mode in cost.locks.items():
        by_mode.setdefault(mode, []).append(_table(name, vendor, estimates))
    for index, mode in cost.index_locks.items():
        table = estimates.index_tables.get(index)
        target = _table(table, vendor, estimates) if table else f'the table of index "{index}"'
        by_mode.setdefault(mode, []).append(target)
    parts = [
        f"{mode} on {', '.join(targets)}"
        for mode, targets in sorted(by_mode.items(), key=lambda item: -LOCK_MODES.index(item[0]))
    ]
    parts += [f'rewrites "{name}"' for name in cost.rewrites]
    parts += [f'scans "{name}"' for name in cost.scans]
    return "; ".join(parts)


def _table(name: str, vendor: str, estimates: Estimates) -> str:
    if name not in estimates.rows:
        return f'"{name}"'
    rows = estimates.rows[name]
    if rows is None:
        return f'"{name}" (rows unknown: never analyzed)'
    return f'"{name}" ({"~" if vendor == "postgresql" else ""}{rows} rows)'
