"""The compiler: a ``Query`` tree in, ``(sql, params)`` out, and rows back.

Every node compiles itself (``as_sql`` or a vendor ``as_<vendor>``); this
module assembles the clauses, renders table aliases (renamed inside
subqueries so inner and outer tables never collide) and applies per-column
converters chosen once per query.

The compiler resolves no names itself: it asks the query once for its
``SelectParts`` (``SelectSource.prepare_select``: select list, row layout,
ordering, grouping, DISTINCT ON and FOR UPDATE OF, with the joins they need)
and renders them; a combined query hands it a ``CombinedPlan`` the same way.
Conditions for DDL compile with ``DDLCompiler`` (unqualified columns).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from orm.abc import Connection, Cursor, SQLParams
from orm.exceptions import EmptyResultSet, FullResultSet, ProgrammingError
from orm.sql.klass_info import KlassInfo
from orm.utils import timezone
from orm.utils.caches import BoundedCache

MULTI = "multi"
SINGLE = "single"
CURSOR = "cursor"
ROW_COUNT = "row count"
GET_ITERATOR_CHUNK_SIZE = 100
# SQL of each combinator (the same keywords on every supported backend).
SET_OPERATORS = {"union": "UNION", "intersection": "INTERSECT", "difference": "EXCEPT"}


Select = list[tuple[Any, str | None]]


@dataclass(slots=True)
class Statement:
    """A compiled SELECT, reusable for every query with the same cache key.

    ``head`` and ``tail`` are the parameters before and after the WHERE
    clause's (constants of the key, such as ``Value(1)`` in the select list);
    the WHERE parameters are the ones the key pulled out of each query.
    ``converters`` is filled by the first compiler that needs them (choosing
    them may fail, e.g. ``Value(None)`` has no type: only when rows come back).
    """

    sql: str
    head: list[Any]
    tail: list[Any]
    select: Select
    klass_info: KlassInfo | None
    annotation_col_map: dict[str, int]
    converters: list[tuple[int, list[Any], Any]] | None = None
    #: The row functions' compiled factories for this statement, by result shape
    #: (``orm.query.row_makers``), made by the first query of each shape.
    row_code: dict[Hashable, Any] = field(default_factory=dict)


# The statement cache: one entry per query shape written in the code, so it
# stays small; the bound only stops a pathological caller (and the historical
# models migrations render). configure() empties it (orm.utils.caches).
STATEMENTS: BoundedCache[Hashable, Statement] = BoundedCache("compiled statements", 2048)
# An entry holds the row converters chosen when it was compiled, and those
# depend on use_tz (naive or aware datetimes): switching it forgets them all.
timezone.on_change(STATEMENTS.clear)


def full_key(connection: Connection, with_limits: bool, key: Hashable) -> Hashable:
    """The ``STATEMENTS`` key of a top-level SELECT whose source gave ``key`` (its ``statement_key``)."""
    return (connection.alias, connection.vendor, with_limits, key)


@dataclass(slots=True)
class SelectParts:
    """What a SELECT renders, resolved by the query layer before the compiler assembles it.

    ``select`` lists (expression, alias) pairs; ``klass_info`` is the model-row
    layout (None for ``values()`` rows) and ``annotation_col_map`` the position
    of each selected annotation. ``order_by``, ``group_by`` and ``distinct_on``
    are resolved expressions, ``lock_of`` the table aliases ``FOR UPDATE OF``
    names. Resolving them may add joins to the query, so the query layer does it
    once, in this order, before the FROM clause is rendered.
    """

    select: Select
    klass_info: KlassInfo | None
    annotation_col_map: dict[str, int]
    order_by: list[Any]
    group_by: list[Any]
    distinct_on: list[Any]
    lock_of: list[str]


class SelectSource(Protocol):
    """The one call the compiler makes into the query it compiles (``Query.prepare_select``)."""

    def prepare_select(self, lock_of: bool) -> SelectParts:
        """Resolve the parts; ``lock_of``: whether to resolve ``select_for_update(of=...)`` names."""
        ...

    def statement_key(self, connection: Connection) -> tuple[Hashable, list[Any]] | None:
        """(cache key, WHERE parameters) of this query, or None when it has no key."""
        ...


class Compilable(Protocol):
    """Any node the compiler compiles: an expression, a lookup, a WHERE tree, a query.

    A node may add ``as_<vendor>(compiler, connection)`` for one backend;
    :meth:`SQLCompiler.compile` prefers it.
    """

    def as_sql(self, compiler: SQLCompiler, connection: Connection, /) -> SQLParams:
        """The node's SQL and the values bound to its placeholders."""
        ...


class SQLCompiler:
    """Compiles one SELECT query for one connection."""

    # Set only for a combined query ordered by columns it does not return
    # (class defaults keep them out of every other query's setup).
    hidden_cols = 0
    row_width: int | None = None

    def __init__(
        self, query: Any, connection: Connection, outer: SQLCompiler | None = None
    ) -> None:
        self.query = query
        self.connection = connection
        self.outer = outer
        self.depth: int = 0 if outer is None else outer.depth + 1
        self._quote_cache: dict[str, str] = {}
        self._labels: dict[str, str] | None = None
        self.select: list[tuple[Any, str | None]] = []
        self.klass_info: KlassInfo | None = None
        self.annotation_col_map: dict[str, int] = {}
        self._converters: list[tuple[int, list[Any], Any]] | None = None
        self._statement: Statement | None = None  # the cache entry this compiler used or made

    # -- naming ------------------------------------------------------------------
    def quote_name(self, name: str) -> str:
        """Quote an identifier (cached; the backend escapes embedded quotes)."""
        quoted = self._quote_cache.get(name)
        if quoted is None:
            quoted = self._quote_cache[name] = self.connection.ops.quote_name(name)
        return quoted

    def alias_ref(self, alias: str) -> str:
        """SQL for a table alias; subqueries rename theirs to ``U<depth>_<n>``."""
        if self.depth == 0:
            return self.quote_name(alias)
        if self._labels is None:
            self._labels = {a: f"U{self.depth}_{i}" for i, a in enumerate(self.query.alias_map)}
        label = self._labels.get(alias)
        if label is None:
            label = self._labels[alias] = f"U{self.depth}_{len(self._labels)}"
        return self.quote_name(label)

    def compile(self, node: Compilable) -> SQLParams:
        """Compile any node, preferring its ``as_<vendor>`` override."""
        vendor_impl: Callable[[SQLCompiler, Connection], SQLParams] | None = getattr(
            node, "as_" + self.connection.vendor, None
        )
        if vendor_impl is not None:
            return vendor_impl(self, self.connection)
        return node.as_sql(self, self.connection)

    def compile_subquery(self, query: Any, single_column: bool = False) -> tuple[str, list[Any]]:
        """Compile another query nested in this one (``__in=qs``)."""
        if single_column and query.combinator and not query.values_select:
            query = query.clone()
            query.set_values(["pk"])  # applied to each combined query, as in Django
        elif single_column and query.default_cols and not query.select:
            query = query.clone()
            query.default_cols = False
            query.select = (("pk", _PkCol(query)),)
            query.annotation_select_mask = set()
            query.select_related = False
        if not query.is_sliced:
            query = query.clone()
            query.clear_ordering()
        sql, params = query.get_compiler(connection=self.connection, outer=self).as_sql()
        return sql, list(params)

    # -- SELECT -------------------------------------------------------------------
    def _prepare(self) -> SelectParts:
        source: SelectSource = self.query
        lock_of = bool(
            self.query.select_for_update and self.connection.features.has_select_for_update
        )
        parts = source.prepare_select(lock_of)
        self.select, self.klass_info = parts.select, parts.klass_info
        self.annotation_col_map = parts.annotation_col_map
        return parts

    def _select_sql(self) -> tuple[list[str], list[Any]]:
        params: list[Any] = []
        cols = []
        for expr, alias in self.select:
            try:
                sql, col_params = self.compile(expr)
            except EmptyResultSet:
                # A column that can match nothing (Exists over none()) is a constant.
                sql, col_params = getattr(expr, "select_empty_sql", "NULL"), []
            except FullResultSet:
                sql, col_params = "(1 = 1)", []
            sql, col_params = expr.select_format(self, sql, col_params)
            if alias:
                sql = f"{sql} AS {self.quote_name(alias)}"
            cols.append(sql)
            params.extend(col_params)
        return cols, params

    def _statement_key(self, with_limits: bool) -> tuple[Hashable, list[Any]] | None:
        # Only a top-level SELECT of this very class: a subquery renames its
        # aliases by depth, and subclasses render columns their own way.
        if self.outer is not None or type(self) is not SQLCompiler:
            return None
        source: SelectSource = self.query
        found = source.statement_key(self.connection)
        if found is None:
            return None
        return full_key(self.connection, with_limits, found[0]), found[1]

    def as_sql(self, with_limits: bool = True) -> tuple[str, list[Any]]:
        """The full SELECT statement; raises ``EmptyResultSet`` if it can match nothing.

        A query with a cache key (``statement_key``) compiles once per key:
        later ones take the text from ``STATEMENTS`` and bind their own WHERE
        parameters to it.
        """
        if self.query.combinator:
            return self.get_combinator_sql()
        keyed = self._statement_key(with_limits)
        if keyed is not None:
            entry = STATEMENTS.get(keyed[0])
            if entry is not None:
                self.select, self.klass_info = entry.select, entry.klass_info
                self.annotation_col_map, self._converters = (
                    entry.annotation_col_map,
                    entry.converters,
                )
                self._statement = entry
                return entry.sql, [*entry.head, *keyed[1], *entry.tail]
        if self.query.pending:
            # The key came from a QuerySet's pending filter terms
            # (orm.query.terms): compile the ordinary Query they stand for.
            self.query = self.query.build()
        sql, params, start, end = self._compile_select(with_limits)
        # Reusable only when the WHERE parameters are exactly the ones the
        # key pulled out, in order (anything else is a shape the key walk
        # does not describe: never reuse it).
        if keyed is not None and start <= end and params[start:end] == keyed[1]:
            self._statement = Statement(
                sql,
                params[:start],
                params[end:],
                self.select,
                self.klass_info,
                self.annotation_col_map,
            )
            STATEMENTS.put(keyed[0], self._statement)
        return sql, params

    def _compile_select(self, with_limits: bool) -> tuple[str, list[Any], int, int]:
        """(sql, params, start, end): ``params[start:end]`` are the WHERE clause's."""
        query = self.query
        prepared = self._prepare()
        where: Any = query.where
        # A window filter needs a window annotation: skip the tree walk without one.
        if query.annotations and where.children and where.contains_over_clause():
            where, qualify = where.split_qualify(query.group_by is not None)
            if qualify is not None:
                # Its parameters are split between the inner WHERE and the
                # outer filter: never cached (start > end says so).
                sql, params = self._qualify_sql(prepared, where, qualify, with_limits)
                return sql, params, 1, 0
        cols, params = self._select_sql()
        return self._select_statement(prepared, cols, params, where, prepared.order_by, with_limits)

    def _select_statement(
        self,
        prepared: SelectParts,
        cols: list[str],
        params: list[Any],
        where_node: Any,
        order_by: list[Any],
        with_limits: bool,
    ) -> tuple[str, list[Any], int, int]:
        """SELECT ``cols`` FROM ... WHERE ``where_node`` GROUP BY ... HAVING ... ORDER BY ... LIMIT ... FOR UPDATE.

        Returns (sql, params, start, end): ``params[start:end]`` are the WHERE clause's.
        """
        query = self.query
        where, having = where_node.split_having() if where_node is not None else (None, None)
        where_sql, where_params = self._compile_condition(where)
        having_sql, having_params = self._compile_condition(having)
        parts = ["SELECT"]
        if query.distinct:
            fields = [self.compile(expr)[0] for expr in prepared.distinct_on]
            parts.append(self.connection.ops.distinct_sql(fields))
        parts.append(", ".join(cols) if cols else "1")
        from_sql, from_params = self.get_from_clause()
        parts.append("FROM " + from_sql)
        params.extend(from_params)
        start = len(params)
        if where_sql:
            parts.append("WHERE " + where_sql)
            params.extend(where_params)
        end = len(params)
        group_by = prepared.group_by
        if group_by:
            group_sql = []
            for expr in group_by:
                sql, group_params = self.compile(expr)
                group_sql.append(sql)
                params.extend(group_params)
            parts.append("GROUP BY " + ", ".join(group_sql))
        if having_sql:
            parts.append("HAVING " + having_sql)
            params.extend(having_params)
        if order_by:
            order_sql = []
            for order in order_by:
                sql, order_params = self.compile(order)
                order_sql.append(sql)
                params.extend(order_params)
            parts.append("ORDER BY " + ", ".join(order_sql))
        if with_limits and query.is_sliced:
            parts.append(self.connection.ops.limit_offset_sql(query.low_mark, query.high_mark))
        if query.select_for_update:
            lock = self.for_update_sql(prepared.lock_of)
            if lock:
                parts.append(lock)
        return " ".join(parts), params, start, end

    def _qualify_sql(
        self,
        prepared: SelectParts,
        where: Any,
        qualify: Any,
        with_limits: bool,
    ) -> tuple[str, list[Any]]:
        """A filter on window expressions: the query runs as a subquery, filtered outside.

        Windows are computed after WHERE, so (as Django 4.2+) the query without
        that filter selects every column under a generated name (``col0``...),
        plus each expression the filter or the ordering needs (``qual0``...),
        and the outer query filters, orders and limits on those names. Rows
        keep the inner select's layout, so row building is unchanged.
        """
        inner_cols: list[str] = []
        params: list[Any] = []
        for position, (expr, _alias) in enumerate(self.select):
            sql, col_params = self.compile(expr)
            sql, col_params = expr.select_format(self, sql, col_params)
            inner_cols.append(f"{sql} AS {self.quote_name(f'col{position}')}")
            params.extend(col_params)
        extra: list[Any] = []

        def column(expr: Any) -> _QualifyRef:
            # An expression already selected (the annotation itself, a model
            # column) is referred to by its column; only others are added.
            for position, (selected, _alias) in enumerate(self.select):
                if selected is expr or (type(selected) is type(expr) and selected == expr):
                    return _QualifyRef(f"col{position}", expr)
            for position, added in enumerate(extra):
                if added is expr:  # an alias() used twice (``n__gt=1, n__lte=3``)
                    return _QualifyRef(f"qual{position}", expr)
            ref = _QualifyRef(f"qual{len(extra)}", expr)
            extra.append(expr)
            return ref

        outer_where = qualify.map_leaves(column)
        outer_order = []
        for order in prepared.order_by:
            order = order.copy()
            order.expression = column(order.expression)
            outer_order.append(order)
        for index, expr in enumerate(extra):
            sql, col_params = self.compile(expr)
            inner_cols.append(f"{sql} AS {self.quote_name(f'qual{index}')}")
            params.extend(col_params)
        inner_sql, params, _start, _end = self._select_statement(
            prepared, inner_cols, params, where, [], with_limits=False
        )
        qualify_sql, qualify_params = self.compile(outer_where)
        # Selected names survive the wrapping: an enclosing query may refer to them.
        cols = (
            ", ".join(
                self.quote_name(f"col{i}") + (f" AS {self.quote_name(alias)}" if alias else "")
                for i, (_expr, alias) in enumerate(self.select)
            )
            or "1"
        )
        parts = [
            f"SELECT {cols} FROM ({inner_sql}) {self.quote_name('qualify')} WHERE {qualify_sql}"
        ]
        params.extend(qualify_params)
        if outer_order:
            order_sql = []
            for order in outer_order:
                sql, order_params = self.compile(order)
                order_sql.append(sql)
                params.extend(order_params)
            parts.append("ORDER BY " + ", ".join(order_sql))
        if with_limits and self.query.is_sliced:
            parts.append(
                self.connection.ops.limit_offset_sql(self.query.low_mark, self.query.high_mark)
            )
        return " ".join(parts), params

    def _compile_condition(self, node: Compilable | None) -> SQLParams:
        if node is None:
            return "", []
        try:
            return self.compile(node)
        except FullResultSet:
            return "", []

    def for_update_sql(self, lock_of: list[str]) -> str:
        """FOR UPDATE clause with checked options (``lock_of``: the aliases ``of`` names)."""
        query = self.query
        features = self.connection.features
        if not features.has_select_for_update:
            return ""
        of = [self.alias_ref(alias) for alias in lock_of]
        return self.connection.ops.for_update_sql(
            nowait=query.select_for_update_nowait,
            skip_locked=query.select_for_update_skip_locked,
            of=of,
            no_key=query.select_for_update_no_key,
        )

    def get_from_clause(self) -> tuple[str, list[Any]]:
        """The FROM table followed by its joins."""
        query = self.query
        query.get_initial_alias()
        parts, params = [], []
        for table in query.alias_map.values():
            sql, table_params = self.compile(table)
            parts.append(sql)
            params.extend(table_params)
        return " ".join(parts), params

    def get_combinator_sql(self) -> tuple[str, list[Any]]:
        """UNION [ALL] / INTERSECT / EXCEPT of the combined queries, then ordering and limits.

        Every query is wrapped as ``SELECT * FROM (...)`` so that its own
        ORDER BY and LIMIT stay valid on SQLite too, and the ORDER BY of the
        combination names columns by position, which both backends accept.
        """
        query = self.query
        if query.is_empty_query:
            # none() (or an empty slice) on the combination itself: its WHERE
            # is not part of this statement, so honour it here.
            raise EmptyResultSet
        plan = query.combinator_plan()
        # The rows are described by the first query's columns (after values()).
        self.select, self.klass_info = plan.select, plan.klass_info
        self.annotation_col_map = plan.annotation_col_map
        if plan.hidden:
            # Rows carry the ordering columns after the visible ones: cut them off.
            self.hidden_cols, self.row_width = plan.hidden, len(plan.select)
        parts: list[str] = []
        params: list[Any] = []
        widths: list[int] = []
        for index, part in enumerate(plan.parts):
            compiler = part.get_compiler(connection=self.connection, outer=self.outer)
            try:
                sql, part_params = compiler.as_sql()
            except EmptyResultSet:
                # An empty query adds nothing to a union and takes nothing from
                # a difference; an intersection with it (or a difference from
                # it) is empty.
                if query.combinator == "union" or (query.combinator == "difference" and index):
                    continue
                raise
            widths.append(compiler.width())
            parts.append(f"SELECT * FROM ({sql}) AS {self.quote_name(f'_u{len(parts)}')}")
            params.extend(part_params)
        if not parts:
            raise EmptyResultSet
        if len(set(widths)) > 1:
            raise ProgrammingError(
                f"Each query combined by {query.combinator}() must select the same number of "
                f"columns, but they select {', '.join(map(str, widths))}. Select matching "
                "columns with values() or values_list() on each QuerySet."
            )
        keyword = SET_OPERATORS[query.combinator]
        if query.combinator_all:
            keyword += " ALL"
        sql = f" {keyword} ".join(parts)
        if plan.order:
            sql += " ORDER BY " + ", ".join(self.compile(order)[0] for order in plan.order)
        if query.is_sliced:
            sql += " " + self.connection.ops.limit_offset_sql(query.low_mark, query.high_mark)
        return sql, params

    def width(self) -> int:
        """Number of columns the compiled statement returns (hidden ordering ones included)."""
        return len(self.select) + self.hidden_cols or 1

    # -- execution -------------------------------------------------------------------
    def execute_sql(
        self,
        result_type: str = MULTI,
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
    ) -> Any:
        """Run the query: rows (``MULTI``), one row (``SINGLE``) or the cursor."""
        try:
            sql, params = self.as_sql()
        except EmptyResultSet:
            return None if result_type == SINGLE else iter(())
        if chunked_fetch:
            cursor = self.connection.chunked_cursor()
        else:
            cursor = self.connection.cursor()
            # A statement-cache entry is built from the key's allow-list of
            # nodes only (no raw SQL, no user functions): it cannot change the session.
            cursor.session_safe = self._statement is not None
        try:
            cursor.execute(sql, params)
        except BaseException:
            cursor.close()
            raise
        if result_type == CURSOR:
            return cursor
        if result_type == SINGLE:
            try:
                return cursor.fetchone()
            finally:
                cursor.close()
        if not chunked_fetch:
            try:
                return cursor.fetchall()
            finally:
                cursor.close()
        return _cursor_iter(cursor, chunk_size)

    def get_converters(self) -> list[tuple[int, list[Any], Any]]:
        """(position, converters, expression) for columns that need conversion."""
        if self._converters is None:
            converters = []
            for position, (expr, _alias) in enumerate(self.select):
                funcs = expr.get_db_converters(self.connection)
                if funcs:
                    converters.append((position, funcs, expr))
            self._converters = converters
            if self._statement is not None:
                self._statement.converters = converters
        return self._converters

    def results_iter(
        self,
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
    ) -> Iterator[Any]:
        """Run the query now and return its rows with every column converted.

        The statement executes before this returns, so ``self.select`` and
        ``self.klass_info`` describe the rows; fetching stays lazy.
        """
        rows, converters = self.raw_results(chunked_fetch, chunk_size)
        if not converters:
            return iter(rows)
        return convert_rows(rows, converters, self.connection)

    def raw_results(
        self,
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
    ) -> tuple[Iterable[Any], list[tuple[int, list[Any], Any]]]:
        """Run the query now: (the driver's rows, the converters their columns need).

        The caller applies the converters (the row functions of
        ``orm.query.row_makers`` fuse them with building the results).
        """
        rows = self.execute_sql(MULTI, chunked_fetch=chunked_fetch, chunk_size=chunk_size)
        if self.row_width is not None:
            rows = _trimmed(rows, self.row_width)
        return rows, (self.get_converters() if self.select else [])

    def has_results(self) -> bool:
        """Whether the (exists-reduced) query returns any row."""
        return self.execute_sql(SINGLE) is not None


class DDLCompiler(SQLCompiler):
    """Compiles a condition for DDL (a CHECK constraint, a partial index's WHERE).

    DDL names exactly one table, and SQLite rejects a qualified column in a
    CHECK or index condition, so columns are rendered unqualified.
    """

    def alias_ref(self, alias: str) -> str:
        """No table label: a bare column name (``Col`` renders just the column)."""
        return ""


def convert_rows(
    rows: Iterable[Sequence[Any]],
    converters: list[tuple[int, list[Any], Any]],
    connection: Connection,
) -> Iterator[list[Any]]:
    """Rows with each column passed through its converters (lazily; ``None`` skips single ones)."""
    single = [(pos, funcs[0], expr) for pos, funcs, expr in converters if len(funcs) == 1]
    multi = [(pos, funcs, expr) for pos, funcs, expr in converters if len(funcs) != 1]
    for row in rows:
        row = list(row)
        for position, func, expr in single:
            value = row[position]
            if value is not None:  # converters map None to None; skip the call
                row[position] = func(value, expr, connection)
        for position, funcs, expr in multi:
            value = row[position]
            for func in funcs:
                value = func(value, expr, connection)
            row[position] = value
        yield row


def _trimmed(rows: Iterable[Sequence[Any]], width: int) -> Iterator[Sequence[Any]]:
    """Rows without the columns after ``width`` (a combination's hidden ordering columns)."""
    try:
        for row in rows:
            yield row[:width]
    finally:
        # Closing this closes a streaming cursor under it at once, on this thread.
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _cursor_iter(cursor: Cursor, chunk_size: int) -> Iterator[Any]:
    # Closes the cursor when exhausted, when the consumer stops early
    # (generator close) or on error, so a server-side cursor never leaks.
    try:
        while True:
            rows = cursor.fetchmany(chunk_size)
            if not rows:
                return
            yield from rows
    finally:
        cursor.close()


class _QualifyRef:
    """A column of the subquery a window filter wraps, standing for ``expr`` outside it."""

    contains_aggregate = False
    contains_over_clause = False

    def __init__(self, name: str, expr: Any) -> None:
        self.name = name
        self.expr = expr
        self.output_field = expr.output_field

    def as_sql(self, compiler: SQLCompiler, connection: Connection) -> SQLParams:
        return compiler.quote_name(self.name), []

    def get_source_expressions(self) -> list[Any]:
        return []

    def get_group_by_cols(self) -> list[Any]:
        return []

    def get_db_converters(self, connection: Connection) -> list[Any]:
        return []


class _PkCol:
    """The primary key column of a query's base table (for ``__in=qs``)."""

    contains_aggregate = False

    def __init__(self, query: Any) -> None:
        self.alias = query.get_initial_alias()
        self.target = query.model._meta.pk
        self.output_field = self.target

    def as_sql(self, compiler: SQLCompiler, connection: Connection) -> SQLParams:
        return f"{compiler.alias_ref(self.alias)}.{compiler.quote_name(self.target.column)}", []

    def select_format(self, compiler: SQLCompiler, sql: str, params: list[Any]) -> SQLParams:
        return sql, params

    def get_group_by_cols(self) -> list[Any]:
        return [self]

    def get_db_converters(self, connection: Connection) -> list[Any]:
        return []
