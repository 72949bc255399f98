"""What a query selects and how it orders: prepared here, assembled by the compiler.

These functions turn a ``Query``'s declarative state (default columns,
``only/defer``, ``select_related``, annotations, ordering names) into resolved
expressions, creating the joins they need. The compiler only renders them.
"""

from __future__ import annotations

from typing import Any

from orm.exceptions import FieldError
from orm.query.expressions import Col, Func, OrderBy, Ref
from orm.query.joins import path_infos
from orm.sql.compiler import SelectParts
from orm.sql.klass_info import KlassInfo
from orm.utils.text import short_repr, short_reprs


class Random(Func):
    """RANDOM() for ``order_by("?")``."""

    function = "RANDOM"
    template = "RANDOM()"


# Shared by every SelectParts that has none of a part; never mutated.
_NONE: list[Any] = []


def prepare_select(query: Any, lock_of: bool) -> SelectParts:
    """Everything the compiler renders for ``query``'s SELECT (see ``SelectParts``).

    The order is the order joins are created in (and so their aliases): the
    select list (``select_related``), then ordering, then ``distinct(*fields)``.
    ``select_for_update(of=...)`` names are resolved on a copy: a relation they
    name that the query does not already join is not joined for them.
    """
    select, klass_info, annotation_col_map = get_select(query)
    order_by = get_order_by(query, {alias for _expr, alias in select if alias})
    # The common query neither groups, nor distincts on fields, nor locks:
    # skip those calls on this per-statement path.
    distinct_on = [query.resolve_ref(name) for name in query.distinct_fields] if query.distinct_fields else _NONE
    group_by = get_group_by(query, select, order_by) if query.group_by is not None else _NONE
    return SelectParts(select, klass_info, annotation_col_map, order_by, group_by, distinct_on,
                       lock_aliases(query.clone()) if lock_of else _NONE)


def lock_aliases(query: Any) -> list[str]:
    """The table aliases ``select_for_update(of=(...))`` names (``"self"``: the queried table)."""
    aliases = []
    for name in query.select_for_update_of:
        if name == "self":
            aliases.append(query.get_initial_alias())
            continue
        field, _target, alias, rest, _ = query.setup_joins(name.split("__"), trim_last_fk=False)
        if rest or not field.is_relation:
            raise ValueError(f"select_for_update(of=...) needs relation names, got {short_repr(name)}.")
        aliases.append(alias)
    return aliases


def default_fields(query: Any, opts: Any, root: bool) -> list[Any]:
    """Concrete fields to load for ``opts`` honouring ``only()``/``defer()`` on the root model."""
    fields = opts.concrete_fields
    if not root:
        return list(fields)
    names, defer = query.deferred_loading
    if not names:
        return list(fields)
    if defer:
        return [fld for fld in fields if fld.name not in names or fld.primary_key]
    return [fld for fld in fields if fld.name in names or fld.attname in names or fld.primary_key]


def get_select(query: Any) -> tuple[list[tuple[Any, str | None]], KlassInfo | None, dict[str, int]]:
    """(select list of (expression, alias), layout of model rows, annotation positions)."""
    select: list[tuple[Any, str | None]] = []
    fields: list[Any] | None = None
    if query.default_cols:
        alias = query.get_initial_alias()
        fields = default_fields(query, query.model._meta, root=True)
        select.extend((Col(alias, fld), None) for fld in fields)
    for name, expr in query.select:
        select.append((expr, name))
    annotation_col_map: dict[str, int] = {}
    for name, annotation in query.annotation_select.items():
        annotation_col_map[name] = len(select)
        select.append((annotation, name))
    if fields is None:
        return select, None, annotation_col_map
    related: tuple[KlassInfo, ...] = ()
    if query.select_related:
        # Related columns follow the annotations, so their positions are known only now.
        requested = query.select_related if isinstance(query.select_related, dict) else None
        related = related_selections(
            query, select, query.model._meta, query.get_initial_alias(), requested, 1, False
        )
    return select, KlassInfo(query.model, tuple(fields), 0, len(fields), related), annotation_col_map


def related_selections(
    query: Any, select: list[Any], opts: Any, alias: str, requested: dict[str, Any] | None,
    depth: int, nullable_parent: bool,
) -> tuple[KlassInfo, ...]:
    """Join and select the models reached by ``select_related`` (validating names)."""
    infos: list[KlassInfo] = []
    if requested is None and depth > query.max_depth:
        return ()
    candidates = {fld.name: fld for fld in opts.concrete_fields if fld.is_relation}
    reverse = {rel.get_accessor_name(): rel for rel in opts.related_objects if rel.one_to_one}
    if requested is not None:
        unknown = [name for name in requested if name not in candidates and name not in reverse]
        if unknown:
            choices = ", ".join(sorted([*candidates, *reverse])) or "(none)"
            raise FieldError(
                f"Invalid field name(s) given in select_related: {short_reprs(unknown)}. "
                f"Choices are: {choices}"
            )
    for name, fld in candidates.items():
        if requested is not None and name not in requested:
            continue
        if requested is None and fld.null:
            continue  # select_related() without names follows non-null keys only, as Django
        nullable = nullable_parent or fld.null
        (info,) = path_infos(fld)
        rel_alias = query.join(info, alias, nullable)
        infos.append(_klass_info(query, select, fld.remote_field.model, rel_alias, fld, False,
                                 requested[name] if requested is not None else None, depth, nullable))
    for name, rel in reverse.items():
        if requested is None or name not in requested:
            continue
        (info,) = path_infos(rel)
        rel_alias = query.join(info, alias, True)
        infos.append(_klass_info(query, select, rel.related_model, rel_alias, rel, True,
                                 requested[name], depth, True))
    return tuple(infos)


def _klass_info(
    query: Any, select: list[Any], model: Any, alias: str, field: Any, reverse: bool,
    requested: dict[str, Any] | None, depth: int, nullable: bool,
) -> KlassInfo:
    fields = tuple(model._meta.concrete_fields)
    start = len(select)
    select.extend((Col(alias, fld), None) for fld in fields)
    end = len(select)
    related = related_selections(
        query, select, model._meta, alias, requested or ({} if requested is not None else None),
        depth + 1, nullable,
    ) if requested or requested is None else ()
    return KlassInfo(model, fields, start, end, related, field, reverse)


def get_order_by(query: Any, select_aliases: set[str]) -> list[Any]:
    """Resolved ``OrderBy`` terms (explicit ordering, else the model's ``Meta.ordering``)."""
    if query.order_by:
        ordering = query.order_by
    elif (query.default_ordering and query.model._meta.ordering and not query.combinator
          and query.group_by is None):
        ordering = query.model._meta.ordering
    else:
        return []
    result = []
    for term in ordering:
        if isinstance(term, str):
            if term == "?":
                result.append(OrderBy(Random()))
                continue
            descending = term.startswith("-")
            name = term.lstrip("-")
            related = _related_ordering(query, name, descending)
            if related is not None:
                result.extend(o if query.standard_ordering else o.reverse_ordering() for o in related)
                continue
            expr = _order_expr(query, name, select_aliases)
            order = OrderBy(expr, descending=descending)
        else:
            order = term if isinstance(term, OrderBy) else OrderBy(term)
            order = order.resolve_expression(query)
        if not query.standard_ordering:
            order = order.reverse_ordering()
        result.append(order)
    return result


def _related_ordering(query: Any, name: str, descending: bool, depth: int = 0) -> list[Any] | None:
    """``order_by("author")`` orders by Author's Meta.ordering, as Django does."""
    if name in query.annotations or depth > 3:
        return None
    parts = name.split("__")
    opts = query.model._meta
    field = None
    for part in parts:
        field = opts.get_field_or_none(part)
        if field is None or not field.is_relation or part != field.name:
            return None  # "author_id" (the attname) orders by the raw column, as Django
        opts = field.remote_field.model._meta if field.concrete else None
        if opts is None:
            return None
    if field is None or not field.concrete or field.many_to_many or not opts.ordering:
        return None
    terms = []
    for term in opts.ordering:
        if not isinstance(term, str) or term == "?":
            return None
        inner_desc = term.startswith("-")
        path = f"{name}__{term.lstrip('-')}"
        nested = _related_ordering(query, path, descending != inner_desc, depth + 1)
        if nested is not None:
            terms.extend(nested)
            continue
        expr = _order_expr(query, path, set())
        terms.append(OrderBy(expr, descending=descending != inner_desc))
    return terms


def _order_expr(query: Any, name: str, select_aliases: set[str]) -> Any:
    if name in query.annotations:
        if name in select_aliases:
            return Ref(name, query.annotations[name])
        return query.annotations[name]
    parts = name.split("__")
    field, target, alias, rest, _ = query.setup_joins(parts, nullable=True)
    return query.apply_transforms(Col(alias, target), rest, name)


def get_group_by(query: Any, select: list[Any], order_by: list[Any]) -> list[Any]:
    """GROUP BY expressions: the selected non-aggregates plus ordering columns."""
    if query.group_by is None:
        return []
    exprs: list[Any] = []
    if query.group_by is True:
        # Aggregates annotated per object: group by the primary key (every
        # column of the table depends on it), plus the selected columns below.
        exprs.append(Col(query.get_initial_alias(), query.model._meta.pk))
    else:
        for expr in query.group_by:
            exprs.extend(expr.get_group_by_cols() if hasattr(expr, "get_group_by_cols") else [expr])
    for expr, _alias in select:
        if getattr(expr, "contains_aggregate", False):
            continue
        exprs.extend(expr.get_group_by_cols())
    for order in order_by:
        if not getattr(order.expression, "contains_aggregate", False):
            exprs.extend(order.expression.get_group_by_cols())
    seen: list[Any] = []
    for expr in exprs:
        if not any(expr is s or (type(expr) is type(s) and expr == s) for s in seen):
            seen.append(expr)
    return seen
