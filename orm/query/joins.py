"""Table references in a query: the base table and joins, plus relation path steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orm.abc import Compiler, Connection
from orm.exceptions import EmptyResultSet, FullResultSet
from orm.query.expressions import Col

INNER = "INNER JOIN"
LOUTER = "LEFT OUTER JOIN"


@dataclass(frozen=True)
class PathInfo:
    """One join step: from ``from_opts`` to ``to_opts`` on ``lhs_col = rhs_col``."""

    from_opts: Any
    to_opts: Any
    lhs_col: str
    rhs_col: str
    nullable: bool
    multivalued: bool
    # The field of ``to_opts`` a lookup on the relation compares (None: its
    # primary key). A many-to-many relation compares the join table's key,
    # which holds the target's ``to_field`` value when it has one.
    target_field: Any = None
    # A step up a parent link (multi-table inheritance): every child row has
    # its parent row, so the join is INNER unless the child's own join is outer.
    parent_link: bool = False
    # The reverse side of a one-to-one: outer only because the related row may
    # be missing, so a filter that requires that row may join it INNER (Django's
    # JoinPromoter demotes it).
    reverse_single: bool = False


def path_infos(field: Any) -> list[PathInfo]:
    """The join steps that follow a relation field or reverse relation."""
    if field.many_to_many:
        if getattr(field, "concrete", True) is False and hasattr(field, "field"):
            # Reverse side of a ManyToManyField (``tag.books``).
            m2m = field.field
            through = m2m.remote_field.through
            source_name, target_name = m2m.m2m_field_names()
            source = through._meta.get_field(source_name)
            target = through._meta.get_field(target_name)
            return [
                PathInfo(
                    target.remote_field.model._meta,
                    through._meta,
                    target.target_field.column,
                    target.column,
                    True,
                    True,
                ),
                PathInfo(
                    through._meta,
                    source.remote_field.model._meta,
                    source.column,
                    source.target_field.column,
                    True,
                    True,
                    source.target_field,
                ),
            ]
        through = field.remote_field.through
        source_name, target_name = field.m2m_field_names()
        source = through._meta.get_field(source_name)
        target = through._meta.get_field(target_name)
        return [
            PathInfo(
                field.model._meta,
                through._meta,
                source.target_field.column,
                source.column,
                True,
                True,
            ),
            PathInfo(
                through._meta,
                target.remote_field.model._meta,
                target.column,
                target.target_field.column,
                True,
                True,
                target.target_field,
            ),
        ]
    if hasattr(field, "field"):
        # Reverse side of a ForeignKey / OneToOneField (``author.books``).
        fk = field.field
        return [
            PathInfo(
                fk.remote_field.model._meta,
                fk.model._meta,
                fk.target_field.column,
                fk.column,
                True,
                not fk.one_to_one,
                reverse_single=fk.one_to_one,
            )
        ]
    return [
        PathInfo(
            field.model._meta,
            field.remote_field.model._meta,
            field.column,
            field.target_field.column,
            field.null,
            False,
        )
    ]


def parent_path_infos(opts: Any, owner: Any) -> list[PathInfo]:
    """The join steps from ``opts``'s table up the parent links to ancestor ``owner``'s table.

    Empty when ``owner`` is the model itself (or no ancestor). A child row
    always has its parent rows, so the steps are not nullable.
    """
    return [
        PathInfo(
            link.model._meta,
            link.remote_field.model._meta,
            link.column,
            link.target_field.column,
            False,
            False,
            parent_link=True,
        )
        for link in opts.get_path_to_parent(owner)
    ]


class BaseTable:
    """The FROM table."""

    join_type = None
    parent_alias = None
    nullable = False

    def __init__(self, table_name: str, alias: str) -> None:
        self.table_name = table_name
        self.table_alias = alias

    def as_sql(self, compiler: Compiler, connection: Connection) -> tuple[str, list[Any]]:
        table = compiler.quote_name(self.table_name)
        label = compiler.alias_ref(self.table_alias)
        return (table if label == table else f"{table} {label}"), []

    def identity(self) -> tuple[Any, ...]:
        return (self.table_name,)


class Join:
    """``<join_type> table alias ON (parent.lhs_col = alias.rhs_col)``."""

    def __init__(
        self,
        table_name: str,
        parent_alias: str,
        alias: str,
        join_type: str,
        lhs_col: str,
        rhs_col: str,
        nullable: bool,
    ) -> None:
        self.table_name = table_name
        self.parent_alias = parent_alias
        self.table_alias = alias
        self.join_type = join_type
        self.lhs_col = lhs_col
        self.rhs_col = rhs_col
        self.nullable = nullable
        self.filter_call: int | None = None
        #: The alias of the ``FilteredRelation`` this join is for (None: a plain join).
        self.filtered_relation: str | None = None
        #: That relation's resolved condition, ANDed into the ON clause.
        self.condition: Any = None
        # A reverse one-to-one or parent-link step: a condition requiring a row
        # of this table may make it INNER (see Query.demote_required_joins).
        self.demotable = False

    def promoted(self) -> Join:
        """A LEFT OUTER copy of this join."""
        join = Join(
            self.table_name,
            self.parent_alias,
            self.table_alias,
            LOUTER,
            self.lhs_col,
            self.rhs_col,
            True,
        )
        join.filter_call = self.filter_call
        join.filtered_relation, join.condition = self.filtered_relation, self.condition
        join.demotable = self.demotable
        return join

    def demoted(self) -> Join:
        """An INNER copy of this join."""
        join = Join(
            self.table_name,
            self.parent_alias,
            self.table_alias,
            INNER,
            self.lhs_col,
            self.rhs_col,
            False,
        )
        join.filter_call = self.filter_call
        join.filtered_relation, join.condition = self.filtered_relation, self.condition
        join.demotable = self.demotable
        return join

    def identity(self) -> tuple[Any, ...]:
        """What makes two joins the same join (for reuse).

        A filtered relation's join is only ever the same as itself: a plain path
        through the relation must not pick up its condition, nor it theirs.
        """
        return (
            self.table_name,
            self.parent_alias,
            self.lhs_col,
            self.rhs_col,
            self.filtered_relation,
        )

    def as_sql(self, compiler: Compiler, connection: Connection) -> tuple[str, list[Any]]:
        qn = compiler.quote_name
        alias = compiler.alias_ref(self.table_alias)
        table = qn(self.table_name)
        target = table if alias == table else f"{table} {alias}"
        on = f"{compiler.alias_ref(self.parent_alias)}.{qn(self.lhs_col)} = {alias}.{qn(self.rhs_col)}"
        params: list[Any] = []
        if self.condition is not None:
            try:
                cond_sql, params = compiler.compile(self.condition)
            except FullResultSet:  # FilteredRelation(condition=Q()): nothing to add
                pass
            except EmptyResultSet:  # a condition that matches nothing: no row joins
                on += " AND (1 = 0)"
            else:
                on += f" AND ({cond_sql})"
        return f"{self.join_type} {target} ON ({on})", list(params)

    def relabeled(self, change_map: dict[str, str]) -> Join:
        """The same join with aliases renamed, its ``FilteredRelation`` condition included.

        The condition's columns name this join's own alias (and the aliases
        above it), so ``change_map`` should map this join's alias too.
        """
        join = Join(
            self.table_name,
            change_map.get(self.parent_alias, self.parent_alias),
            change_map.get(self.table_alias, self.table_alias),
            self.join_type,
            self.lhs_col,
            self.rhs_col,
            self.nullable,
        )
        join.filter_call = self.filter_call
        join.demotable = self.demotable
        join.filtered_relation = self.filtered_relation
        if self.condition is not None:
            join.condition = relabeled_node(self.condition, change_map)
        return join


def relabeled_node(node: Any, change_map: dict[str, str]) -> Any:
    """A copy of an expression or WHERE tree with every column's table alias renamed."""
    if isinstance(node, Col):
        return node.relabeled_clone(change_map)
    if not hasattr(node, "get_source_expressions"):
        return node
    sources = node.get_source_expressions()
    if not sources:
        return node
    clone = node.copy()
    clone.set_source_expressions([relabeled_node(source, change_map) for source in sources])
    return clone
