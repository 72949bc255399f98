"""``Query``: the SQL-neutral tree behind a QuerySet.

It resolves names against the model (``FieldError`` listing the choices for
anything unknown), creates joins for relation paths and holds the WHERE tree,
annotations, ordering, limits and selection. ``get_compiler()`` hands it to
``orm.sql.compiler`` to become SQL text and parameters.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from orm import fields as f
from orm.abc import Connection, ModelClass
from orm.exceptions import FieldError, NotSupportedError
from orm.query import cache_key, combinators, join_promotion, outer_refs
from orm.query import select as select_mod
from orm.query.expressions import (
    Col,
    Expression,
    F,
    OrderBy,
    Ref,
    Value,
)
from orm.query.filtered_relation import FilteredRelation, check_filtered_relation
from orm.query.joins import INNER, LOUTER, BaseTable, Join, PathInfo, parent_path_infos, path_infos
from orm.query.json_lookups import KEY_TRANSFORM_LOOKUPS, KeyTransform
from orm.query.lookups import Lookup, Transform
from orm.query.q import Q
from orm.query.where import NothingNode, WhereNode
from orm.utils.identifiers import check_alias
from orm.utils.text import short_repr, short_str

if TYPE_CHECKING:
    from orm.sql.compiler import SQLCompiler

ORDER_PATTERN = re.compile(r"^-?(?:[A-Za-z_][A-Za-z0-9_]*)(?:__[A-Za-z0-9_]+)*$")
MAX_SLICE = 2**63 - 1


def field_choices(opts: Any, annotations: Iterable[str] = ()) -> str:
    """Comma-separated valid names for error messages."""
    return ", ".join(sorted({*opts.query_names(), *annotations}))


class Query:
    """The query tree of one QuerySet; cloned on every chained call."""

    #: Not a QuerySet's pending filter terms (``orm.query.terms.PendingQuery``):
    #: the compiler compiles this tree as it is.
    pending = False

    def __init__(self, model: ModelClass) -> None:
        self.model = model
        self.alias_map: dict[str, BaseTable | Join] = {}
        self.where = WhereNode()
        self.select: tuple[tuple[str, Any], ...] = ()
        self.default_cols = True
        self.values_select: tuple[str, ...] = ()
        self.annotations: dict[str, Any] = {}
        #: FilteredRelation aliases (replaced, never mutated: clones share it).
        self.filtered_relations: dict[str, Any] = {}
        self.annotation_select_mask: set[str] | None = None
        self.group_by: Literal[True] | tuple[Any, ...] | None = None
        self.order_by: tuple[Any, ...] = ()
        self.default_ordering = True
        self.standard_ordering = True
        self.distinct = False
        self.distinct_fields: tuple[str, ...] = ()
        self.low_mark = 0
        self.high_mark: int | None = None
        self.select_related: bool | dict[str, Any] = False
        self.max_depth = 5
        self.select_for_update = False
        self.select_for_update_nowait = False
        self.select_for_update_skip_locked = False
        self.select_for_update_of: tuple[str, ...] = ()
        self.select_for_update_no_key = False
        self.deferred_loading: tuple[frozenset[str], bool] = (frozenset(), True)
        self.combinator: str | None = None
        self.combinator_all = False
        self.combined_queries: tuple[Query, ...] = ()
        self.subquery = False
        self.is_empty_query = False
        #: Number of the filter() call being built (None outside filter()).
        self.filter_call: int | None = None
        self.filter_calls = 0

    # -- cloning -------------------------------------------------------------------
    def clone(self) -> Query:
        """A copy that can be changed without touching this one."""
        # __dict__ copy instead of copy.copy(): several times faster, and a
        # QuerySet clones its Query on every chained call.
        obj = Query.__new__(Query)
        obj.__dict__ = self.__dict__.copy()
        obj.alias_map = dict(self.alias_map)
        obj.where = self.where.clone()
        obj.annotations = dict(self.annotations)
        if self.annotation_select_mask is not None:
            obj.annotation_select_mask = set(self.annotation_select_mask)
        if isinstance(self.select_related, dict):
            obj.select_related = copy.deepcopy(self.select_related)
        return obj

    def chain(self) -> Query:
        """Clone for the next QuerySet in a chain."""
        return self.clone()

    @property
    def base_table(self) -> str:
        """The alias of the FROM table."""
        return self.get_initial_alias()

    def get_initial_alias(self) -> str:
        """Alias of the model's table, created on first use."""
        if not self.alias_map:
            table: str = self.model._meta.db_table
            self.alias_map[table] = BaseTable(table, table)
            return table
        return next(iter(self.alias_map))

    # -- joins ---------------------------------------------------------------------
    def _new_alias(self, table: str) -> str:
        if table not in self.alias_map:
            return table
        return f"T{len(self.alias_map) + 1}"

    def join(
        self,
        info: PathInfo,
        parent_alias: str,
        nullable: bool,
        filtered: FilteredRelation | None = None,
    ) -> str:
        """Join one path step from ``parent_alias``, reusing an identical join.

        Django's rule for a multi-valued step (reverse foreign key, many-to-many):
        a filter() call reuses only the joins it made itself, so
        ``filter(books__a=1).filter(books__b=2)`` may match two different books
        and a filter() after ``annotate(n=Count("books"))`` does not restrict
        the count. Everything else (annotate, order_by, values) reuses any
        identical join, the most recent first, so an annotate() after a
        filter() aggregates over the rows that filter kept.

        A ``FilteredRelation`` (``filtered``) has one join, reused by every path
        through its alias and aliased by its own name, as in Django. It starts
        LEFT OUTER (its condition decides which rows join); a filter that needs
        a joined row makes it INNER (see ``demote_required_joins``).
        """
        if info.parent_link:
            nullable = False
        table = info.to_opts.db_table
        fr_alias = None if filtered is None else filtered.alias
        identity = (table, parent_alias, info.lhs_col, info.rhs_col, fr_alias)
        found: str | None = None
        found_join: Join | None = None
        for alias, existing in self.alias_map.items():
            if isinstance(existing, Join) and existing.identity() == identity:
                if (
                    info.multivalued
                    and fr_alias is None
                    and self.filter_call is not None
                    and existing.filter_call != self.filter_call
                ):
                    continue
                found, found_join = alias, existing
        if found is not None and found_join is not None:
            if nullable and found_join.join_type == INNER:
                # Replace, never mutate: clones share Join objects.
                self.alias_map[found] = found_join.promoted()
            return found
        alias = fr_alias if fr_alias and fr_alias not in self.alias_map else self._new_alias(table)
        parent = self.alias_map[parent_alias]
        outer = nullable or info.nullable or parent.join_type == LOUTER or filtered is not None
        join = Join(
            table,
            parent_alias,
            alias,
            LOUTER if outer else INNER,
            info.lhs_col,
            info.rhs_col,
            outer,
        )
        join.filter_call = self.filter_call if info.multivalued and filtered is None else None
        # A filtered relation is outer only so its condition cannot remove the
        # row; a filter requiring one of its rows may join it INNER, as Django.
        join.demotable = info.reverse_single or info.parent_link or filtered is not None
        self.alias_map[alias] = join
        if filtered is not None:
            join.filtered_relation = fr_alias
            # Resolved once the join is in alias_map: the condition's paths
            # start with the relation's alias and so reuse this very join.
            # NOT in the condition negates it in the ON clause: no subquery.
            join.condition = self.build_where(filtered.condition, in_join=True)
        return alias

    def setup_joins(
        self,
        names: list[str],
        allow_joins: bool = True,
        nullable: bool = False,
        trim_last_fk: bool = True,
    ) -> tuple[Any, Any, str, list[str], bool]:
        """Resolve a ``__`` path: (final field, column field, alias, rest, multivalued).

        Joins are created for every relation the path walks through; a final
        forward foreign key is compared on its own column without a join.
        """
        alias = self.get_initial_alias()
        opts = self.model._meta
        field: Any = None
        pending: list[PathInfo] | None = None
        multivalued = False
        rest: list[str] = []
        filtered = None
        for pos, name in enumerate(names):
            lookup_opts = pending[-1].to_opts if pending else opts
            found = lookup_opts.get_field_or_none(lookup_opts.pk.name if name == "pk" else name)
            if found is None and pos == 0 and name in self.filtered_relations:
                filtered = self.filtered_relations[name]
                alias, opts, found, multivalued = self._filtered_start(
                    filtered, nullable, allow_joins
                )
            if found is None:
                if field is None:
                    raise FieldError(
                        f"Cannot resolve keyword {short_repr(name)} into field. "
                        f"Choices are: {field_choices(opts, [*self.annotations, *self.filtered_relations])}"
                    )
                rest = list(names[pos:])
                break
            if lookup_opts.parents and filtered is None:
                # A field inherited from a concrete parent lives in the parent's
                # table: walk the parent links there first (Django's path_to_parent).
                hops = parent_path_infos(lookup_opts, lookup_opts.owner_of(found))
                if hops:
                    pending = [*(pending or []), *hops]
            if pending:
                alias, opts, multivalued = self._join_all(
                    pending, alias, nullable, allow_joins, multivalued, filtered
                )
                pending, filtered = None, None
            field = found
            if not field.is_relation:
                # Past a plain field only transforms, lookups or JSON keys follow,
                # even when one is spelled like a field of the model.
                rest = list(names[pos + 1 :])
                break
            pending = path_infos(field)
        if pending:
            forward_fk = field.concrete and not field.many_to_many
            if forward_fk and trim_last_fk and filtered is None:
                return field, field, alias, rest, multivalued
            alias, opts, multivalued = self._join_all(
                pending, alias, nullable, allow_joins, multivalued, filtered
            )
            return field, pending[-1].target_field or opts.pk, alias, rest, multivalued
        return field, field, alias, rest, multivalued

    def join_parent(self, opts: Any, alias: str, owner: Any) -> str:
        """The alias of ancestor ``owner``'s table, joined from ``alias`` (a table of ``opts``)."""
        for info in parent_path_infos(opts, owner):
            alias = self.join(info, alias, False)
        return alias

    def _join_all(
        self,
        infos: list[PathInfo],
        alias: str,
        nullable: bool,
        allow_joins: bool,
        multivalued: bool,
        filtered: FilteredRelation | None = None,
    ) -> tuple[str, Any, bool]:
        if not allow_joins:
            raise FieldError("Joined field references are not permitted in this query.")
        last = len(infos) - 1
        for pos, info in enumerate(infos):
            # A many-to-many relation joins its through table first; the
            # condition belongs on the join that reaches the related model.
            alias = self.join(info, alias, nullable, filtered if pos == last else None)
            multivalued = multivalued or info.multivalued
        return alias, infos[-1].to_opts, multivalued

    def _filtered_start(
        self, filtered: FilteredRelation, nullable: bool, allow_joins: bool
    ) -> tuple[str, Any, Any, bool]:
        """(alias, opts, relation field, multivalued) where a FilteredRelation's own join starts.

        The relations before its last one (``"author__books"``) are plain joins.
        """
        *prefix, last = filtered.relation_name.split("__")
        alias, opts, multivalued = self.get_initial_alias(), self.model._meta, False
        if prefix:
            field, _target, alias, _rest, multivalued = self.setup_joins(
                prefix, allow_joins, nullable, trim_last_fk=False
            )
            opts = path_infos(field)[-1].to_opts
        found = opts.get_field_or_none(last)
        if found is not None and opts.parents:
            # A relation inherited from a concrete parent starts at the parent's table.
            alias = self.join_parent(opts, alias, opts.owner_of(found))
        return alias, opts, found, multivalued

    def solve_lookup_type(self, key: str) -> tuple[list[str], list[str]]:
        """Split a ``__`` path into (field names, the lookups/transforms after them); no joins made."""
        parts = key.split("__")
        if parts[0] in self.annotations:
            return [], parts[1:]
        opts: Any = self.model._meta
        fields: list[str] = []
        for pos, name in enumerate(parts):
            if opts is None:
                break
            if pos == 0 and name in self.filtered_relations:
                *_, found = self._relation_path(self.filtered_relations[name].relation_name)
            else:
                found = opts.get_field_or_none(opts.pk.name if name == "pk" else name)
            if found is None:
                if not fields:
                    choices = field_choices(opts, [*self.annotations, *self.filtered_relations])
                    raise FieldError(
                        f"Cannot resolve keyword {short_repr(name)} into field. Choices are: {choices}"
                    )
                break
            fields.append(name)
            opts = path_infos(found)[-1].to_opts if found.is_relation else None
        return fields, parts[len(fields) :]

    def _relation_path(self, path: str) -> list[Any]:
        """The fields a ``__`` path of relations names (no joins made); FieldError when it breaks."""
        opts, found = self.model._meta, []
        for name in path.split("__"):
            field = opts.get_field_or_none(name) if opts is not None else None
            if field is None:
                raise FieldError(
                    f"Cannot resolve keyword {short_repr(name)} into field in {short_repr(path)}."
                )
            found.append(field)
            opts = path_infos(field)[-1].to_opts if field.is_relation else None
        return found

    def add_filtered_relation(self, relation: FilteredRelation, alias: str) -> None:
        """Register ``FilteredRelation`` ``relation`` as ``alias`` (validated; joined when first used)."""
        check_alias(alias)
        if self.model._meta.get_field_or_none(alias) is not None:
            raise ValueError(
                f"The annotation {short_repr(alias)} conflicts with a field on the model."
            )
        bound = check_filtered_relation(self, relation, alias)
        if not self._relation_path(relation.relation_name)[-1].is_relation:
            raise ValueError(
                f"FilteredRelation's relation_name must name a relation, got {relation.relation_name!r}."
            )
        self.filtered_relations = {**self.filtered_relations, alias: bound}

    def path_is_multivalued(self, key: str) -> bool:
        """Whether a lookup path crosses a reverse or many-to-many relation (no joins made)."""
        opts = self.model._meta
        names = key.split("__")
        if names[0] in self.filtered_relations and opts.get_field_or_none(names[0]) is None:
            # A FilteredRelation name stands for its whole relation path.
            names = [*self.filtered_relations[names[0]].relation_name.split("__"), *names[1:]]
        for name in names:
            found = opts.get_field_or_none(opts.pk.name if name == "pk" else name)
            if found is None or not found.is_relation:
                return False
            infos = path_infos(found)
            if any(info.multivalued for info in infos):
                return True
            opts = infos[-1].to_opts
        return False

    # -- references --------------------------------------------------------------
    def resolve_ref(
        self,
        name: str,
        allow_joins: bool = True,
        reuse: set[str] | None = None,
        summarize: bool = False,
    ) -> Any:
        """What ``F(name)`` means in this query: an annotation or a column."""
        if name in self.annotations:
            if summarize:
                return Ref(name, self.annotations[name])
            return self.annotations[name]
        parts = name.split("__")
        if parts[0] in self.annotations:
            return self.apply_transforms(self.annotations[parts[0]], parts[1:], name)
        field, target, alias, rest, _ = self.setup_joins(parts, allow_joins)
        if field.many_to_many and not rest and target is field:
            raise FieldError(f"Cannot refer to the many-to-many field {short_repr(name)} directly.")
        col = Col(alias, target)
        return self.apply_transforms(col, rest, name)

    def apply_transforms(self, expr: Expression, names: list[str], full: str) -> Any:
        """Apply ``__year``-style transforms (or JSON keys) to ``expr``."""
        for name in names:
            expr = self._transform(expr, name, full)
        return expr

    def _transform(self, lhs: Expression, name: str, full: str) -> Any:
        output = lhs.output_field
        # Registered on the transform itself (Abs.register_lookup(...)) first, then its output field.
        own = lhs.get_transform(name) if isinstance(lhs, Transform) else None
        transform = own or output.get_transform(name)
        if transform is not None:
            return transform(lhs)
        if isinstance(output, f.JSONField):
            return KeyTransform(name, lhs)
        raise FieldError(
            f"Unsupported lookup or transform {short_repr(name)} in {short_repr(full)} for {type(output).__name__}; "
            f"choose from: {', '.join(output.lookup_names())}."
        )

    # -- filters -------------------------------------------------------------------
    def build_lookup(self, lhs: Expression, names: list[str], value: Any, full: str) -> Any:
        """The lookup for ``lhs__<names>=value`` (``exact`` when no name is given)."""
        *transforms, last = names or ["exact"]
        lhs = self.apply_transforms(lhs, transforms, full)
        lookup_class = self._lookup_class(lhs, last)
        if lookup_class is None:
            lhs = self._transform(lhs, last, full)
            lookup_class = self._lookup_class(lhs, "exact")
        if value is None and lookup_class.lookup_name not in ("exact", "iexact"):
            if lookup_class.lookup_name != "isnull":
                raise ValueError(f"Cannot use None as a query value for {short_repr(full)}.")
        if (
            value is None
            and lookup_class.lookup_name in ("exact", "iexact")
            and not isinstance(lhs, KeyTransform)
            and not getattr(lookup_class, "can_use_none_as_rhs", False)
        ):
            lookup_class = self._lookup_class(lhs, "isnull")
            value = True
        return lookup_class(lhs, value)

    @staticmethod
    def _lookup_class(lhs: Expression, name: str) -> Any:
        if isinstance(lhs, KeyTransform):
            return KEY_TRANSFORM_LOOKUPS.get(name)
        own = lhs.get_lookup(name) if isinstance(lhs, Transform) else None
        return own or lhs.output_field.get_lookup(name)

    def resolve_lookup_value(self, value: Any, allow_joins: bool) -> Any:
        """Resolve expressions in a filter value; model instances become their pk."""
        if hasattr(value, "resolve_expression") and not hasattr(value, "_iterable_class"):
            return value.resolve_expression(self, allow_joins=allow_joins)
        if isinstance(value, list | tuple):
            return type(value)(self.resolve_lookup_value(v, allow_joins) for v in value)
        return value

    def build_filter(
        self, key: str, value: Any, allow_joins: bool = True, negated: bool = False
    ) -> Any:
        """One ``key=value`` condition as a lookup node (joins are created here).

        Under an odd number of negations, a condition on a nullable column (or
        through a nullable join) becomes ``cond AND col IS NOT NULL``, so
        ``exclude(age=5)`` keeps rows whose age is NULL, as in Django.
        """
        if not isinstance(key, str):
            raise TypeError(f"Filter keywords must be str, got {short_repr(key)}.")
        if key in ("_connector", "_negated"):
            raise TypeError(f"{short_repr(key)} is not a valid filter keyword.")
        parts = key.split("__")
        value = self.resolve_lookup_value(value, allow_joins)
        if parts[0] in self.annotations:
            lhs = self.annotations[parts[0]]
            return self.build_lookup(lhs, parts[1:], value, key)
        field, target, alias, rest, _ = self.setup_joins(parts, allow_joins, nullable=False)
        if field.is_relation:
            value = _instances_to_pk(value, field, target)
        lhs = Col(alias, target)
        lookup = self.build_lookup(lhs, rest, value, key)
        if negated and lookup.lookup_name != "isnull" and lookup.rhs is not None:
            join = self.alias_map.get(alias)
            if target.null or getattr(join, "join_type", None) == LOUTER:
                not_null = lhs.output_field.get_lookup("isnull")(lhs, False)
                return WhereNode([lookup, not_null])
        return lookup

    def build_where(
        self, q: Any, allow_joins: bool = True, negated: bool = False, in_join: bool = False
    ) -> Any:
        """Turn a ``Q`` (or condition expression) into a resolved WHERE node.

        ``in_join``: the condition of a ``FilteredRelation``'s ON clause, where
        a negation applies to the joined row itself, never as a subquery.
        """
        if not isinstance(q, Q):
            resolved = q.resolve_expression(self, allow_joins=allow_joins)
            if isinstance(resolved, WhereNode | Lookup) or getattr(resolved, "conditional", False):
                return resolved
            raise TypeError(f"Cannot filter against a non-conditional expression {short_repr(q)}.")
        if (
            q.negated
            and not in_join
            and any(
                isinstance(child, tuple) and self.path_is_multivalued(child[0])
                for child in q.flatten()
            )
        ):
            return self._negated_subquery(q)
        node = WhereNode(connector=q.connector, negated=q.negated)
        branch_negated = negated ^ q.negated
        for child in q.children:
            if isinstance(child, Q):
                node.children.append(self.build_where(child, allow_joins, branch_negated, in_join))
            elif isinstance(child, tuple):
                node.children.append(
                    self.build_filter(child[0], child[1], allow_joins, branch_negated)
                )
            else:
                node.children.append(self.build_where(child, allow_joins, branch_negated))
        return node

    def _negated_subquery(self, q: Q) -> Any:
        # NOT over a multi-valued relation means "no related row matches", which a
        # join cannot express: use pk NOT IN (rows that match).
        inner = Query(self.model)
        # The condition may go through a FilteredRelation name: the subquery
        # joins it with its condition, as Django's exclude() does.
        inner.filtered_relations = self.filtered_relations
        positive = q.copy()
        positive.negated = False
        inner.add_q(positive)
        inner.set_values(["pk"])
        inner.clear_ordering()
        inner.distinct = True
        lookup = self.build_filter("pk__in", _QueryValue(inner))
        return WhereNode([lookup], negated=True)

    def add_q(self, q: Q) -> None:
        """AND a condition into the WHERE clause."""
        node = self.build_where(q)
        self.demote_required_joins(node)
        self.where.add(node)

    def demote_required_joins(self, node: object) -> None:
        """Make INNER the demotable joins a condition ANDed at the top requires (see
        ``orm.query.join_promotion``)."""
        join_promotion.demote_required_joins(self.alias_map, node)

    def add_filter(self, q: Q) -> None:
        """AND ``q`` in as one ``filter()``/``exclude()`` call (its own multi-valued joins)."""
        self.filter_calls += 1
        self.filter_call = self.filter_calls
        try:
            self.add_q(q)
        finally:
            self.filter_call = None

    def set_empty(self) -> None:
        """Make the query match nothing (``none()``)."""
        self.where.add(NothingNode())
        self.is_empty_query = True

    def resolve_outer_refs(self, outer: Any, depth: int = 1) -> None:
        """Replace ``OuterRef`` placeholders by columns of ``outer`` (for subqueries)."""
        outer_refs.resolve_outer_refs(self, outer, depth)

    # -- annotations and selection -------------------------------------------------
    def add_annotation(self, expression: Any, alias: str, select: bool = True) -> None:
        """Resolve ``expression`` and store it as ``alias`` (validated)."""
        check_alias(alias)
        if self.combinator:  # e.g. values(x=F("y")) after union()
            raise NotSupportedError(
                f"Calling QuerySet.annotate() after {self.combinator}() is not supported."
            )
        if self.model._meta.get_field_or_none(alias) is not None:
            raise ValueError(
                f"The annotation {short_repr(alias)} conflicts with a field on the model."
            )
        if not hasattr(expression, "resolve_expression"):
            raise TypeError(
                f"{short_str(alias)}={short_repr(expression)} is not an expression; wrap values in Value()."
            )
        resolved = expression.resolve_expression(self, allow_joins=True, summarize=False)
        self.annotations[alias] = resolved
        if select:
            if self.annotation_select_mask is not None:
                self.annotation_select_mask.add(alias)
        else:
            if self.annotation_select_mask is None:
                self.annotation_select_mask = set(self.annotations) - {alias}
            else:
                self.annotation_select_mask.discard(alias)
        if getattr(resolved, "contains_aggregate", False):
            if self.values_select:
                self.group_by = tuple(expr for _, expr in self.select)
            elif self.group_by is None:
                self.group_by = True

    @property
    def annotation_select(self) -> dict[str, Any]:
        """Annotations that appear in the SELECT list."""
        if self.annotation_select_mask is None:
            return self.annotations
        return {k: v for k, v in self.annotations.items() if k in self.annotation_select_mask}

    def set_values(self, names: Iterable[str]) -> None:
        """Select only ``names`` (fields, paths or annotations), as ``values()`` does."""
        self.default_cols = False
        self.select_related = False
        names = list(names)
        selected: list[tuple[str, Any]] = []
        annotation_names = []
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"values() field names must be str, got {short_repr(name)}.")
            if name in self.annotations:
                annotation_names.append(name)
                continue
            expr = self.resolve_ref(name, allow_joins=True)
            if isinstance(expr, KeyTransform):
                check_alias(name.replace("__", "_"))
            selected.append((name, expr))
        if self.combinator:  # checked once the names are known to be valid
            combinators.check_values(self, names)
        self.values_select = tuple(names)
        self.select = tuple(selected)
        self.annotation_select_mask = set(annotation_names)

    def output_field_for_subquery(self) -> f.Field:
        field: f.Field
        if self.select:
            field = self.select[0][1].output_field
        elif self.annotation_select:
            field = next(iter(self.annotation_select.values())).output_field
        else:
            field = self.model._meta.pk
        return field

    @property
    def output_field(self) -> f.Field:
        """The type of the single column a subquery returns."""
        return self.output_field_for_subquery()

    # -- ordering, limits ------------------------------------------------------------
    def add_ordering(self, *ordering: Any) -> None:
        """Validate and append ordering terms (``"-name"``, ``"author__name"``, ``"?"``, expressions)."""
        for term in ordering:
            if isinstance(term, str):
                if term == "?":
                    continue
                if not ORDER_PATTERN.match(term):
                    raise FieldError(
                        f"Invalid order_by term {short_repr(term)}: use a field name, optionally prefixed "
                        "with '-' and followed by '__'-separated related field names."
                    )
                name = term.lstrip("-")
                if name.split("__")[0] not in self.annotations:
                    self.setup_joins(name.split("__"), nullable=True)
            elif hasattr(term, "resolve_expression"):
                if isinstance(term, F):
                    self.resolve_ref(term.name)
            else:
                raise FieldError(f"Invalid order_by term {short_repr(term)}.")
        self.order_by += tuple(ordering)

    def clear_ordering(self, force: bool = True) -> None:
        """Remove ordering (and default ordering when ``force``)."""
        self.order_by = ()
        if force:
            self.default_ordering = False

    def set_limits(self, low: int | None = None, high: int | None = None) -> None:
        """Apply a slice on top of any existing one."""
        for bound in (low, high):
            if bound is not None and bound > MAX_SLICE:
                raise ValueError(f"Slice bound {bound} is larger than the maximum {MAX_SLICE}.")
        if high is not None:
            if self.high_mark is not None:
                self.high_mark = min(self.high_mark, self.low_mark + high)
            else:
                self.high_mark = self.low_mark + high
        if low is not None:
            if self.high_mark is not None:
                self.low_mark = min(self.high_mark, self.low_mark + low)
            else:
                self.low_mark = self.low_mark + low
        for bound in (self.low_mark, self.high_mark):
            if bound is not None and bound > MAX_SLICE:
                raise ValueError(f"Slice bound {bound} is larger than the maximum {MAX_SLICE}.")
        if self.low_mark == self.high_mark:
            self.set_empty()

    def clear_limits(self) -> None:
        """Remove any slice."""
        self.low_mark, self.high_mark = 0, None

    @property
    def is_sliced(self) -> bool:
        """True when LIMIT/OFFSET apply."""
        return self.low_mark != 0 or self.high_mark is not None

    def has_filters(self) -> bool:
        """True when the WHERE clause has conditions."""
        return bool(self.where.children)

    def exists_query(self) -> Query:
        """This query reduced to ``SELECT 1 ... LIMIT 1``."""
        if self.combinator:
            return combinators.exists_query(self)
        q = self.clone()
        q.select_related = False
        if q.is_sliced:
            # The slice (with its ordering) decides which rows count, and with
            # DISTINCT so do the selected columns: keep them.
            if q.distinct:
                return q
        else:
            q.set_limits(0, 1)
            q.clear_ordering()
        q.default_cols = False
        q.select = (("a", Value(1)),)
        q.values_select = ()
        q.annotation_select_mask = set()
        return q

    # -- hooks for the compiler (orm.sql sits below this layer) ----------------------
    #: What the compiler renders for this SELECT, resolved once
    #: (``orm.sql.compiler.SelectSource``); the function itself, not a wrapper,
    #: since every statement calls it.
    prepare_select = select_mod.prepare_select
    #: The statement-cache key and WHERE parameters (``orm.query.cache_key``).
    statement_key = cache_key.statement_key

    def combinator_plan(self) -> combinators.CombinedPlan:
        """Parts, visible columns and ordering of a combined query (``union()``...)."""
        return combinators.plan(self)

    def get_compiler(
        self,
        using: str | None = None,
        connection: Connection | None = None,
        outer: SQLCompiler | None = None,
    ) -> SQLCompiler:
        """The compiler of this query for a connection (``using`` alias or wrapper)."""
        from orm.db.connections import connections
        from orm.sql.compiler import SQLCompiler

        if connection is None:
            connection = connections[using or "default"]
        return SQLCompiler(self, connection, outer=outer)

    def sql_with_params(self, using: str | None = None) -> tuple[str, tuple[Any, ...]]:
        """(sql, params) for the default connection."""
        sql, params = self.get_compiler(using).as_sql()
        return sql, tuple(params)

    def __str__(self) -> str:
        """The SQL with parameters interpolated, for debugging only (never execute it)."""
        sql, params = self.sql_with_params()
        return sql % tuple(repr(p) for p in params) if params else sql.replace("%%", "%")


class _QueryValue:
    """A Query passed as the right-hand side of ``__in``."""

    def __init__(self, query: Query) -> None:
        self.query = query


def _instances_to_pk(value: Any, field: Any, target: Any) -> Any:
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        if field is target:  # a trimmed forward foreign key: the field checks the type
            return value
        if not target.primary_key and isinstance(value, target.model):
            return getattr(value, target.attname)  # a many-to-many through to_field
        return value.pk
    if isinstance(value, list | tuple | set | frozenset):
        return [_instances_to_pk(v, field, target) for v in value]
    return value


__all__ = ["OrderBy", "Query"]
