"""WHERE trees: AND/OR/XOR nodes that compile their children."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orm.abc import Compiler, Connection
from orm.exceptions import EmptyResultSet, FullResultSet


class WhereNode:
    """A node of the WHERE tree; children are lookups, expressions or nodes.

    A child that can never match raises ``EmptyResultSet`` and one that
    always matches ``FullResultSet``; the node folds those so an impossible
    filter (``pk__in=[]``) runs no query at all.
    """

    conditional = True
    contains_aggregate = False

    def __init__(
        self, children: list[Any] | None = None, connector: str = "AND", negated: bool = False
    ) -> None:
        self.children = list(children or [])
        self.connector = connector
        self.negated = negated

    def add(self, child: object, connector: str = "AND") -> None:
        """AND (or OR) ``child`` into this node."""
        if self.connector == connector or len(self.children) <= 1:
            self.connector = connector if self.children else self.connector
            self.children.append(child)
        else:
            inner = WhereNode(self.children, self.connector, self.negated)
            self.children = [inner, child]
            self.connector = connector
            self.negated = False

    def clone(self) -> WhereNode:
        """A deep-enough copy (child nodes copied, leaves shared)."""
        return WhereNode(
            [c.clone() if isinstance(c, WhereNode) else c for c in self.children],
            self.connector,
            self.negated,
        )

    def get_source_expressions(self) -> list[Any]:
        """The children (expression-tree protocol)."""
        return list(self.children)

    def set_source_expressions(self, children: list[Any]) -> None:
        """Replace the children (expression-tree protocol)."""
        self.children = list(children)

    def copy(self) -> WhereNode:
        """A shallow copy (expression-tree protocol)."""
        return WhereNode(list(self.children), self.connector, self.negated)

    def flatten(self) -> Any:
        """Every node and leaf of the tree."""
        yield self
        for child in self.children:
            if hasattr(child, "flatten"):
                yield from child.flatten()
            else:
                yield child

    def resolve_expression(self, *args: Any, **kwargs: Any) -> WhereNode:
        """Already resolved."""
        return self

    @property
    def output_field(self) -> Any:
        from orm.fields import BooleanField

        return BooleanField()

    # A condition that can match nothing, selected (annotate(b=Q(pk__in=[]))), is false.
    select_empty_sql = "(1 = 0)"

    def select_format(
        self, compiler: Compiler, sql: str, params: list[Any]
    ) -> tuple[str, list[Any]]:
        """A condition selected as a column (``annotate(big=Q(pages__gt=300))``): a boolean."""
        return sql, params

    def get_db_converters(self, connection: Connection) -> list[Any]:
        """SQLite answers 0/1: convert as a BooleanField column."""
        converters: list[Any] = connection.ops.get_db_converters(self)
        field_converters: list[Any] = self.output_field.get_db_converters(connection)
        return converters + field_converters

    def get_group_by_cols(self) -> list[Any]:
        cols: list[Any] = []
        for child in self.children:
            if hasattr(child, "get_group_by_cols"):
                cols.extend(child.get_group_by_cols())
        return cols

    def split_having(self) -> tuple[WhereNode | None, WhereNode | None]:
        """Split into (WHERE part, HAVING part) by whether children use aggregates."""
        if not self.contains_aggregates():
            return self, None
        if self.connector != "AND" or self.negated:
            return None, self
        where, having = [], []
        for child in self.children:
            if isinstance(child, WhereNode):
                w, h = child.split_having()
                if w is not None:
                    where.append(w)
                if h is not None:
                    having.append(h)
            elif getattr(child, "contains_aggregate", False):
                having.append(child)
            else:
                where.append(child)
        return (WhereNode(where) if where else None), (WhereNode(having) if having else None)

    def contains_over_clause(self) -> bool:
        """True when any part of the tree uses a window expression (filtered after the window runs)."""
        return any(getattr(node, "contains_over_clause", False) is True for node in _walk(self))

    def split_qualify(
        self, must_group_by: bool, negated: bool = False
    ) -> tuple[WhereNode | None, WhereNode | None]:
        """Split into (WHERE/HAVING part, QUALIFY part: conditions on window expressions).

        Django's rules: children joined so they must stay together (OR, XOR, or
        AND under NOT) go to QUALIFY as a whole, which is the same filter once
        the window has run, except when the query also groups: a non-window
        condition must then filter rows before they are aggregated, and the
        mix is refused with ``NotImplementedError``, as Django does.
        """
        if not self.contains_over_clause():
            return self, None
        in_negated = negated ^ self.negated
        connected = (
            (in_negated and self.connector == "AND")
            or (not in_negated and self.connector == "OR")
            or self.connector == "XOR"
        )
        where: list[Any] = []
        qualify: list[Any] = []
        for child in self.children:
            if isinstance(child, WhereNode):
                w, q = child.split_qualify(must_group_by, in_negated)
                if w is not None:
                    where.append(w)
                if q is not None:
                    qualify.append(q)
            elif any(getattr(node, "contains_over_clause", False) is True for node in _walk(child)):
                qualify.append(child)
            else:
                where.append(child)
        if connected:
            if where and must_group_by:
                raise NotImplementedError(
                    "Heterogeneous disjunctive predicates against window functions are "
                    "not implemented when performing conditional aggregation."
                )
            return None, self
        return (
            WhereNode(where, self.connector, self.negated) if where else None,
            WhereNode(qualify, self.connector, self.negated),
        )

    def map_leaves(self, replace: Callable[[Any], Any]) -> WhereNode:
        """A copy where each expression a condition compares is ``replace(expr)``.

        A lookup's left-hand side and an expression on its right-hand side are
        leaves, as is a condition that is not a lookup (``Exists``); plain
        values stay. The compiler uses it to point a QUALIFY condition at the
        columns of the subquery that computed them.
        """
        children: list[Any] = []
        for child in self.children:
            if isinstance(child, WhereNode):
                children.append(child.map_leaves(replace))
            elif hasattr(child, "lookup_name") and hasattr(child, "lhs"):
                clone = child.copy()
                clone.lhs = replace(child.lhs)
                if hasattr(child.rhs, "as_sql"):
                    clone.rhs = replace(child.rhs)
                children.append(clone)
            else:
                children.append(replace(child))
        return WhereNode(children, self.connector, self.negated)

    def contains_aggregates(self) -> bool:
        """True when any leaf uses an aggregate."""
        for child in self.children:
            if isinstance(child, WhereNode):
                if child.contains_aggregates():
                    return True
            elif getattr(child, "contains_aggregate", False):
                return True
        return False

    def as_sql(self, compiler: Compiler, connection: Connection) -> tuple[str, list[Any]]:
        """Compile; raises EmptyResultSet/FullResultSet when the node is constant."""
        result: list[str] = []
        params: list[Any] = []
        if self.connector == "AND":
            full_needed, empty_needed = len(self.children), 1
        else:
            full_needed, empty_needed = 1, len(self.children)
        if self.connector == "XOR":
            return self._as_xor(compiler)
        single_node = len(self.children) == 1 and isinstance(self.children[0], WhereNode)
        for child in self.children:
            try:
                sql, child_params = compiler.compile(child)
            except EmptyResultSet:
                empty_needed -= 1
            except FullResultSet:
                full_needed -= 1
            else:
                if sql:
                    result.append(sql)
                    params.extend(child_params)
                else:
                    full_needed -= 1
            if empty_needed == 0:
                if self.negated:
                    raise FullResultSet
                raise EmptyResultSet
            if full_needed == 0:
                if self.negated:
                    raise EmptyResultSet
                raise FullResultSet
        joiner = f" {self.connector} "
        sql = joiner.join(result)
        if not sql:
            raise FullResultSet
        if self.negated:
            # A lone child node already wraps itself in parentheses.
            wrapped = single_node and len(result) == 1 and sql.startswith("(")
            sql = f"NOT {sql}" if wrapped else f"NOT ({sql})"
        elif len(result) > 1:
            sql = f"({sql})"
        return sql, params

    def _as_xor(self, compiler: Compiler) -> tuple[str, list[Any]]:
        # Portable XOR: an odd number of true children.
        parts, params = [], []
        for child in self.children:
            try:
                sql, child_params = compiler.compile(child)
            except EmptyResultSet:
                sql, child_params = "1 = 0", []
            except FullResultSet:
                sql, child_params = "1 = 1", []
            parts.append(f"CASE WHEN {sql} THEN 1 ELSE 0 END")
            params.extend(child_params)
        sql = f"(({' + '.join(parts)}) %% 2) = 1"
        return (f"NOT ({sql})" if self.negated else sql), params


def _walk(node: Any) -> Any:
    """``node`` and every expression under it."""
    yield node
    children = (
        node.children
        if isinstance(node, WhereNode)
        else (node.get_source_expressions() if hasattr(node, "get_source_expressions") else [])
    )
    for child in children:
        if child is not None and not isinstance(child, str | int | float | bool | list | tuple):
            yield from _walk(child)


class NothingNode:
    """A condition that never matches (``none()``)."""

    contains_aggregate = False

    def as_sql(self, compiler: Compiler, connection: Connection) -> tuple[str, list[Any]]:
        raise EmptyResultSet

    def get_group_by_cols(self) -> list[Any]:
        return []
