"""SQLite introspection: the ``pragma_*`` table functions plus the stored CREATE TABLE.

Columns, indexes and foreign keys come from ``pragma_table_xinfo``,
``pragma_index_list``, ``pragma_index_xinfo`` and ``pragma_foreign_key_list``,
called as table-valued functions so the table name is a bound parameter.
What no pragma reports (CHECK constraints, constraint names, collations,
AUTOINCREMENT, a foreign key's deferrability) is read from the CREATE TABLE
statement SQLite keeps in ``sqlite_master``, tokenized with ``sqlparse``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlparse.lexer
from sqlparse import tokens as T

from orm.backends.base.introspection import (
    BaseDatabaseIntrospection,
    ConstraintInfo,
    FieldInfo,
    SequenceInfo,
    TableInfo,
)

# "varchar(100)", "decimal(8, 2)": the numbers of a declared type.
_TYPE_ARGS = re.compile(r"^\s*([^(]*?)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$")
# Words that start a table constraint rather than a column definition.
_TABLE_CONSTRAINT_START = frozenset(
    {"CONSTRAINT", "PRIMARY KEY", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN KEY", "FOREIGN"}
)


# ------------------------------------------------------------ CREATE TABLE parsing

# sqlparse's lexer (untyped): SQL text -> (token type, text) pairs.
_tokenize: Callable[[str], Iterable[tuple[Any, str]]] = sqlparse.lexer.tokenize


class Token(NamedTuple):
    """One lexical token of a statement."""

    ttype: Any
    value: str

    @property
    def is_significant(self) -> bool:
        return not (self.ttype in T.Whitespace or self.ttype in T.Comment)

    def is_punctuation(self, char: str) -> bool:
        return bool(self.ttype in T.Punctuation and self.value == char)


def _lex(sql: str) -> list[Token]:
    return [Token(ttype, value) for ttype, value in _tokenize(sql)]


@dataclass
class _Check:
    name: str | None
    expression: str
    identifiers: list[str]


@dataclass
class _ForeignKey:
    name: str | None
    columns: list[str]
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass
class _TableDDL:
    """What the stored CREATE TABLE says that no pragma reports."""

    checks: list[_Check] = field(default_factory=list)
    #: (constraint name or None, columns) of each UNIQUE, in statement order.
    uniques: list[tuple[str | None, list[str]]] = field(default_factory=list)
    foreign_keys: list[_ForeignKey] = field(default_factory=list)
    primary_key_name: str | None = None
    collations: dict[str, str] = field(default_factory=dict)
    autoincrement: set[str] = field(default_factory=set)


def _unquote(value: str) -> str:
    """The name an identifier token stands for (``"a""b"`` -> ``a"b``)."""
    if len(value) >= 2:
        first, last = value[0], value[-1]
        if first == last and first in "\"'`":
            return value[1:-1].replace(first * 2, first)
        if first == "[" and last == "]":
            return value[1:-1]
    return value


def _word(token: Token) -> str:
    """A keyword's normalized text ("primary   key" -> "PRIMARY KEY")."""
    return " ".join(token.value.upper().split())


def _is_identifier(token: Token) -> bool:
    """A name, a quoted name or a keyword (unquoted names may be keywords)."""
    return bool(
        token.ttype in T.Name or token.ttype in T.Literal.String.Symbol or token.ttype in T.Keyword
    )


class _Definition:
    """One column or table-constraint definition: its tokens, whitespace kept."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        #: Positions (in ``tokens``) of the tokens that mean something.
        self.significant = [i for i, t in enumerate(tokens) if t.is_significant]

    def closing(self, open_at: int) -> int:
        """Position of the ``)`` matching the ``(`` at ``open_at``."""
        depth = 0
        for i in range(open_at, len(self.tokens)):
            token = self.tokens[i]
            if token.is_punctuation("("):
                depth += 1
            elif token.is_punctuation(")"):
                depth -= 1
                if depth == 0:
                    return i
        return len(self.tokens)

    def text(self, start: int, end: int) -> str:
        return "".join(t.value for t in self.tokens[start:end]).strip()

    def identifiers(self, start: int, end: int) -> list[str]:
        return [
            _unquote(t.value)
            for t in self.tokens[start:end]
            if t.is_significant and _is_identifier(t)
        ]


def _split_definitions(sql: str) -> Iterator[_Definition]:
    """The comma-separated definitions between the outer parentheses of CREATE TABLE."""
    depth = 0
    current: list[Token] = []
    for token in _lex(sql):
        if token.is_punctuation("("):
            depth += 1
            if depth == 1:
                continue
        elif token.is_punctuation(")"):
            depth -= 1
            if depth == 0:
                yield _Definition(current)
                return
        elif depth == 1 and token.is_punctuation(","):
            yield _Definition(current)
            current = []
            continue
        if depth >= 1:
            current.append(token)


def parse_create_table(sql: str) -> _TableDDL:
    """Read checks, uniques, foreign keys, collations and AUTOINCREMENT from CREATE TABLE."""
    ddl = _TableDDL()
    for definition in _split_definitions(sql):
        if not definition.significant:
            continue
        first = definition.tokens[definition.significant[0]]
        if first.ttype in T.Keyword and _word(first) in _TABLE_CONSTRAINT_START:
            _parse_clauses(definition, 0, None, ddl)
        else:
            _parse_clauses(definition, 1, _unquote(first.value), ddl)
    return ddl


def _parse_clauses(definition: _Definition, start: int, column: str | None, ddl: _TableDDL) -> None:
    """Walk the constraint clauses of one definition (``column`` None: a table constraint)."""
    tokens, sig = definition.tokens, definition.significant
    name: str | None = None  # from a preceding CONSTRAINT <name>
    fk_columns: list[str] = [column] if column is not None else []
    k = start
    while k < len(sig):
        word = _word(tokens[sig[k]]) if _is_identifier(tokens[sig[k]]) else ""
        two_words = k + 1 < len(sig) and _word(tokens[sig[k + 1]]) == "KEY"
        if word in ("FOREIGN", "PRIMARY") and two_words:
            word, k = word + " KEY", k + 1  # the lexer may give "FOREIGN" "KEY" as two tokens
        following = sig[k + 1] if k + 1 < len(sig) else len(tokens)
        opens = following < len(tokens) and tokens[following].is_punctuation("(")
        end = definition.closing(following) if opens else following
        if word == "CONSTRAINT" and following < len(tokens):
            name = _unquote(tokens[following].value)
            k += 2
            continue
        if word == "CHECK" and opens:
            expression = definition.text(following + 1, end)
            ddl.checks.append(_Check(name, expression, definition.identifiers(following + 1, end)))
        elif word == "UNIQUE":
            columns = [column] if column is not None else _column_list(definition, following, end)
            ddl.uniques.append((name, columns))
        elif word == "PRIMARY KEY":
            ddl.primary_key_name = name
        elif word == "FOREIGN KEY" and opens:
            fk_columns = _column_list(definition, following, end)
        elif word == "REFERENCES":
            fk = _ForeignKey(name, fk_columns)
            ddl.foreign_keys.append(fk)
            _read_deferrable(definition, k + 1, fk)
        elif word == "COLLATE" and column is not None and following < len(tokens):
            ddl.collations[column] = _unquote(tokens[following].value)
            k += 2
            continue
        elif word == "AUTOINCREMENT" and column is not None:
            ddl.autoincrement.add(column)
        else:
            k += 1
            continue
        # A clause ended: the next one may have its own CONSTRAINT name.
        if word != "FOREIGN KEY":
            name = None
        k = _next_after(sig, end) if opens and word in ("CHECK", "UNIQUE", "FOREIGN KEY") else k + 1


def _next_after(sig: list[int], position: int) -> int:
    """Index in ``sig`` of the first significant token after token ``position``."""
    for k, i in enumerate(sig):
        if i > position:
            return k
    return len(sig)


def _column_list(definition: _Definition, open_at: int, close_at: int) -> list[str]:
    """Column names of ``(a, "b" DESC, c COLLATE x)``: the first identifier of each item."""
    columns: list[str] = []
    expect_name = True
    for token in definition.tokens[open_at + 1 : close_at]:
        if token.is_punctuation(","):
            expect_name = True
        elif expect_name and token.is_significant:
            columns.append(_unquote(token.value))
            expect_name = False
    return columns


def _read_deferrable(definition: _Definition, k: int, fk: _ForeignKey) -> None:
    """Read ``[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]`` after REFERENCES."""
    sig = [_word(definition.tokens[i]) for i in definition.significant[k:]]
    for j, word in enumerate(sig):
        if word in ("CONSTRAINT", "CHECK", "UNIQUE", "REFERENCES", "COLLATE") or (
            word == "DEFAULT" and (j == 0 or sig[j - 1] != "SET")  # not ON DELETE SET DEFAULT
        ):
            return  # the next clause of the column: deferrability ends with REFERENCES
        if word == "DEFERRABLE":
            fk.deferrable = not (j > 0 and sig[j - 1] == "NOT")
        elif word == "INITIALLY" and j + 1 < len(sig):
            fk.initially_deferred = fk.deferrable and sig[j + 1] == "DEFERRED"


def _index_condition(sql: str | None) -> str | None:
    """The WHERE condition of a CREATE INDEX statement, None without one."""
    if not sql:
        return None
    depth = 0
    tokens = _lex(sql)
    for i, token in enumerate(tokens):
        if token.is_punctuation("("):
            depth += 1
        elif token.is_punctuation(")"):
            depth -= 1
        elif depth == 0 and token.ttype in T.Keyword and _word(token) == "WHERE":
            return "".join(t.value for t in tokens[i + 1 :]).strip() or None
    return None


def _type_args(data_type: str) -> tuple[int | None, int | None, int | None]:
    """(max_length, precision, scale) read from a declared type."""
    match = _TYPE_ARGS.match(data_type)
    if match is None:
        return None, None, None
    base, first, second = match[1].lower(), int(match[2]), match[3]
    if "char" in base:
        return first, None, None
    if base in ("decimal", "numeric"):
        return None, first, int(second) if second is not None else 0
    return None, None, None


def _pk_rank(row: tuple[Any, ...]) -> int:
    # pragma_table_xinfo's pk: the column's 1-based position in the key, 0 outside it.
    return int(row[5])


# --------------------------------------------------------------- introspection


class DatabaseIntrospection(BaseDatabaseIntrospection):
    """SQLite's catalogs: pragma table functions and ``sqlite_master``."""

    def get_table_list(self) -> list[TableInfo]:
        # sqlite_sequence and sqlite_stat* are SQLite's own bookkeeping tables.
        rows = self._fetchall(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite\\_%%' ESCAPE '\\'",
            [],
        )
        return [TableInfo(name, kind[0]) for name, kind in rows]

    def _table(self, table_name: str) -> tuple[str, str, str]:
        """(name as stored, 'table' or 'view', CREATE statement) of ``table_name``."""
        self._check_table_name(table_name)
        # SQLite compares identifiers case-insensitively (ASCII only, as NOCASE does).
        rows = self._fetchall(
            "SELECT name, type, sql FROM sqlite_master "
            "WHERE name = %s COLLATE NOCASE AND type IN ('table', 'view')",
            [table_name],
        )
        if not rows:
            raise self._no_such_table(table_name)
        name, kind, sql = rows[0]
        return str(name), str(kind), str(sql or "")

    def _columns(self, table_name: str) -> list[tuple[Any, ...]]:
        # hidden: 0 a column, 1 hidden (virtual tables), 2/3 generated columns.
        return [
            row
            for row in self._fetchall(
                'SELECT cid, name, type, "notnull", dflt_value, pk, hidden '
                "FROM pragma_table_xinfo(%s)",
                [table_name],
            )
            if row[6] != 1
        ]

    def _index_list(self, table_name: str) -> list[tuple[str, bool, str]]:
        """(name, unique, origin) of each index: origin 'c' CREATE INDEX, 'u' UNIQUE, 'pk'."""
        rows = self._fetchall(
            'SELECT name, "unique", origin FROM pragma_index_list(%s)', [table_name]
        )
        return [(str(name), bool(unique), str(origin)) for name, unique, origin in rows]

    def get_table_description(self, table_name: str) -> list[FieldInfo]:
        name, kind, sql = self._table(table_name)
        columns = self._columns(name)
        ddl = parse_create_table(sql) if kind == "table" else _TableDDL()
        rowid_alias = self._rowid_alias(name, columns)
        description = []
        for _cid, column, data_type, notnull, default, pk, _hidden in columns:
            max_length, precision, scale = _type_args(data_type or "")
            description.append(
                FieldInfo(
                    name=column,
                    data_type=data_type or "",
                    null_ok=not notnull,
                    default=default,
                    pk=bool(pk),
                    max_length=max_length,
                    precision=precision,
                    scale=scale,
                    collation=ddl.collations.get(column),
                    is_autofield=column == rowid_alias,
                )
            )
        return description

    def _rowid_alias(self, table_name: str, columns: list[tuple[Any, ...]]) -> str | None:
        """The column that is an alias of the rowid, if any.

        That is a lone primary key column declared exactly ``INTEGER``, unless
        SQLite backs it with an index of its own (``WITHOUT ROWID`` tables and
        the ``INTEGER PRIMARY KEY DESC`` quirk), which then is not an alias.
        """
        pk = [row for row in columns if row[5]]
        if len(pk) != 1 or str(pk[0][2]).upper() != "INTEGER":
            return None
        if any(origin == "pk" for _, _, origin in self._index_list(table_name)):
            return None
        return str(pk[0][1])

    def get_primary_key_columns(self, table_name: str) -> list[str]:
        name, _kind, _sql = self._table(table_name)
        key = sorted((row for row in self._columns(name) if row[5]), key=_pk_rank)
        return [str(row[1]) for row in key]

    def get_sequences(self, table_name: str) -> list[SequenceInfo]:
        name, kind, sql = self._table(table_name)
        if kind != "table":
            return []
        alias = self._rowid_alias(name, self._columns(name))
        if alias is None or alias not in parse_create_table(sql).autoincrement:
            return []
        return [SequenceInfo(table=name, column=alias)]

    def get_constraints(self, table_name: str) -> dict[str, ConstraintInfo]:
        name, kind, sql = self._table(table_name)
        if kind != "table":
            return {}
        ddl = parse_create_table(sql)
        columns = [str(row[1]) for row in self._columns(name)]
        constraints: dict[str, ConstraintInfo] = {}
        pk_columns = self.get_primary_key_columns(name)
        if pk_columns:
            constraints[ddl.primary_key_name or "__primary__"] = ConstraintInfo(
                columns=pk_columns, primary_key=True, unique=True
            )
        constraints.update(self._checks(ddl, columns))
        constraints.update(self._indexes(name, ddl))
        constraints.update(self._foreign_keys(name, ddl))
        return dict(sorted(constraints.items()))

    @staticmethod
    def _checks(ddl: _TableDDL, columns: list[str]) -> dict[str, ConstraintInfo]:
        by_folded = {c.casefold(): c for c in columns}
        result: dict[str, ConstraintInfo] = {}
        unnamed = 0
        for check in ddl.checks:
            used = {by_folded[i.casefold()] for i in check.identifiers if i.casefold() in by_folded}
            if check.name is None:
                unnamed += 1
            name = check.name or f"__unnamed_constraint_{unnamed}__"
            result[name] = ConstraintInfo(
                columns=[c for c in columns if c in used], check=True, definition=check.expression
            )
        return result

    def _indexes(self, table_name: str, ddl: _TableDDL) -> dict[str, ConstraintInfo]:
        statements = dict(
            self._fetchall(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
                [table_name],
            )
        )
        named_uniques = [(n, cols) for n, cols in ddl.uniques if n is not None]
        result: dict[str, ConstraintInfo] = {}
        for index, unique, origin in self._index_list(table_name):
            if origin == "pk":
                continue  # the primary key's own index: reported as the primary key
            keys = self._fetchall(
                'SELECT name, "desc" FROM pragma_index_xinfo(%s) WHERE "key" = 1 ORDER BY seqno',
                [index],
            )
            # An expression has no column name; its text is in the definition.
            index_columns = [str(column) for column, _ in keys if column is not None]
            if origin == "u":
                # SQLite names the index; the constraint's own name, if it had
                # one, is only in CREATE TABLE: match it by its columns.
                name = next((n for n, cols in named_uniques if cols == index_columns), index)
                named_uniques = [(n, c) for n, c in named_uniques if n != name]
                result[name] = ConstraintInfo(columns=index_columns, unique=True)
                continue
            sql = statements.get(index)
            result[index] = ConstraintInfo(
                columns=index_columns,
                unique=unique,
                index=True,
                orders=["DESC" if desc else "ASC" for column, desc in keys if column is not None],
                type="btree",
                definition=sql,
                condition=_index_condition(sql),
            )
        return result

    def _foreign_keys(self, table_name: str, ddl: _TableDDL) -> dict[str, ConstraintInfo]:
        rows = self._fetchall(
            'SELECT id, seq, "table", "from", "to", on_update, on_delete '
            "FROM pragma_foreign_key_list(%s) ORDER BY id, seq",
            [table_name],
        )
        grouped: dict[int, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(int(row[0]), []).append(row)
        result: dict[str, ConstraintInfo] = {}
        for fk_id, parts in grouped.items():
            from_columns = [str(part[3]) for part in parts]
            to_table, to_column = str(parts[0][2]), parts[0][4]
            if to_column is None:
                # REFERENCES t without a column list means t's primary key.
                to_column = self._target_primary_key(to_table)
            clause = next((fk for fk in ddl.foreign_keys if fk.columns == from_columns), None)
            name = clause.name if clause is not None and clause.name else f"fk_{fk_id}"
            result[name] = ConstraintInfo(
                columns=from_columns,
                foreign_key=(to_table, str(to_column)),
                on_delete=str(parts[0][6]),
                on_update=str(parts[0][5]),
                deferrable=clause.deferrable if clause is not None else False,
                initially_deferred=clause.initially_deferred if clause is not None else False,
            )
        return result

    def _target_primary_key(self, table_name: str) -> str:
        # SQLite accepts a foreign key to a table that does not exist (yet).
        rows = self._fetchall("SELECT name FROM pragma_table_info(%s) WHERE pk = 1", [table_name])
        return str(rows[0][0]) if rows else ""
