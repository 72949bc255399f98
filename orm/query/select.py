"""What a query selects and how it orders: prepared here, assembled by the compiler.

These functions turn a ``Query``'s declarative state (default columns,
``only/defer``, ``select_related``, annotations, ordering names) into resolved
expressions, creating the joins they need. The compiler only renders them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orm.abc import ModelClass
from orm.exceptions import FieldError
from orm.query.expressions import Col, Func, OrderBy, Ref
from orm.query.joins import path_infos
from orm.sql.compiler import SelectParts
from orm.sql.klass_info import KlassInfo
from orm.utils.text import short_repr, short_reprs

if TYPE_CHECKING:
    from orm.query.query import Query


class Random(Func):
    """RANDOM() for ``order_by("?")``."""

    function = "RANDOM"
    template = "RANDOM()"


# Shared by every SelectParts that has none of a part; never mutated.
_NONE: list[Any] = []


def prepare_select(query: Query, lock_of: bool) -> SelectParts:
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
    distinct_on = (
        [query.resolve_ref(name) for name in query.distinct_fields]
        if query.distinct_fields
        else _NONE
    )
    group_by = get_group_by(query, select, order_by) if query.group_by is not None else _NONE
    return SelectParts(
        select,
        klass_info,
        annotation_col_map,
        order_by,
        group_by,
        distinct_on,
        lock_aliases(query.clone()) if lock_of else _NONE,
    )


def lock_aliases(query: Query) -> list[str]:
    """The table aliases ``select_for_update(of=(...))`` names (``"self"``: the queried table)."""
    aliases = []
    for name in query.select_for_update_of:
        if name == "self":
            aliases.append(query.get_initial_alias())
            continue
        field, _target, alias, rest, _ = query.setup_joins(name.split("__"), trim_last_fk=False)
        if rest or not field.is_relation:
            raise ValueError(
                f"select_for_update(of=...) needs relation names, got {short_repr(name)}."
            )
        aliases.append(alias)
    return aliases


def deferred_path(model: ModelClass, name: str) -> str:
    """Validate an ``only()``/``defer()`` name: a field, or a forward relation path to one (``"author__name"``).

    Returns it spelled with field names (``author_id`` becomes ``author``).
    """
    if not isinstance(name, str):
        raise TypeError(f"only()/defer() take field names, got {short_repr(name)}.")
    opts, spelled = model._meta, []
    parts = name.split("__")
    for pos, part in enumerate(parts):
        field = opts.get_field_or_none(opts.pk.name if part == "pk" else part)
        last = pos == len(parts) - 1
        if (
            field is None
            or not field.concrete
            or (not last and (not field.is_relation or field.many_to_many))
        ):
            raise FieldError(
                f"{opts.model.__name__} has no field named {short_repr(part)} (in {short_repr(name)}); only()/defer() "
                f"take its fields, or forward relation paths such as 'author__name': "
                f"{', '.join(f.name for f in opts.concrete_fields)}."
            )
        spelled.append(field.name)
        if not last:
            opts = field.remote_field.model._meta
    return "__".join(spelled)


def default_fields(query: Query, opts: Any, path: str = "") -> list[Any]:
    """Concrete fields to load for ``opts`` (reached by ``path`` from the root) honouring ``only()``/``defer()``.

    A name ``"author__name"`` applies to the model reached through ``author``;
    with ``only()``, naming a relation's field also loads the relation's key.
    """
    fields = opts.concrete_fields
    names, defer = query.deferred_loading
    if not names:
        return list(fields)
    # The model's own primary key is always loaded (an inherited parent's is not forced).
    pk = opts.pk
    prefix = f"{path}__" if path else ""
    own = {n[len(prefix) :] for n in names if n.startswith(prefix)}
    if defer:
        own = {n for n in own if "__" not in n}
        return [fld for fld in fields if fld.name not in own or fld is pk]
    own = {n.split("__", 1)[0] for n in own}
    if not own and path:
        return list(fields)  # only() named nothing of this model: Django loads it whole
    return [fld for fld in fields if fld.name in own or fld is pk]


def check_deferred_relation(query: Query, path: str, field: Any) -> None:
    """Refuse a relation ``select_related`` follows whose key ``only()``/``defer()`` leaves out (Django's error)."""
    names, defer = query.deferred_loading
    if not names or not field.concrete:
        return
    parent, _, _ = path.rpartition("__")
    loaded = default_fields(query, field.model._meta, parent)
    if field not in loaded:
        raise FieldError(
            f"Field {field.model.__name__}.{field.name} cannot be both deferred and traversed using "
            "select_related at the same time."
        )


def model_cols(query: Query, opts: Any, alias: str, fields: Any) -> list[Any]:
    """``Col``s of ``fields`` of model ``opts`` whose table is ``alias``; inherited
    fields read the parent's table, joined through the parent links."""
    if not opts.parents:
        return [Col(alias, fld) for fld in fields]
    aliases: dict[Any, str] = {}
    cols = []
    for fld in fields:
        owner = opts.owner_of(fld)
        if owner not in aliases:
            aliases[owner] = query.join_parent(opts, alias, owner)
        cols.append(Col(aliases[owner], fld))
    return cols


def get_select(
    query: Query,
) -> tuple[list[tuple[Any, str | None]], KlassInfo | None, dict[str, int]]:
    """(select list of (expression, alias), layout of model rows, annotation positions)."""
    select: list[tuple[Any, str | None]] = []
    fields: list[Any] | None = None
    if query.default_cols:
        alias = query.get_initial_alias()
        fields = default_fields(query, query.model._meta)
        select.extend((col, None) for col in model_cols(query, query.model._meta, alias, fields))
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
            query, select, query.model._meta, query.get_initial_alias(), requested, 1, False, ""
        )
    return (
        select,
        KlassInfo(query.model, tuple(fields), 0, len(fields), related),
        annotation_col_map,
    )


def related_selections(
    query: Query,
    select: list[Any],
    opts: Any,
    alias: str,
    requested: dict[str, Any] | None,
    depth: int,
    nullable_parent: bool,
    path: str | None = None,
) -> tuple[KlassInfo, ...]:
    """Join and select the models reached by ``select_related`` (validating names).

    ``path`` is the relation path from the queried model (``""`` for it), for
    ``only()``/``defer()`` names; None below a FilteredRelation, which loads whole.
    """
    infos: list[KlassInfo] = []
    if requested is None and depth > query.max_depth:
        return ()
    # A forward parent link is never followed (as Django's select_related_descend):
    # the parent's columns are already selected through the inheritance join.
    candidates = {fld.name: fld for fld in opts.concrete_fields if fld.is_relation}
    links = {fld.name for fld in candidates.values() if fld.remote_field.parent_link}
    # The parents' reverse one-to-ones are the child's too (Django's related_objects
    # includes them); the join walks up the parent links first.
    rels = opts.get_fields(include_hidden=True) if opts.parents else opts.related_objects
    reverse = {rel.get_accessor_name(): rel for rel in rels if rel.one_to_one and not rel.concrete}
    filtered = query.filtered_relations if depth == 1 else {}
    if requested is not None:
        unknown = [
            name
            for name in requested
            if name not in candidates and name not in reverse and name not in filtered
        ]
        if unknown:
            choices = ", ".join(sorted([*candidates, *reverse, *filtered])) or "(none)"
            raise FieldError(
                f"Invalid field name(s) given in select_related: {short_reprs(unknown)}. "
                f"Choices are: {choices}"
            )
    for name, fld in candidates.items():
        if (requested is not None and name not in requested) or name in links:
            continue
        if requested is None and fld.null:
            continue  # select_related() without names follows non-null keys only, as Django
        sub_path = None if path is None else f"{path}__{name}" if path else name
        if sub_path is not None and requested is not None:
            check_deferred_relation(query, sub_path, fld)
        elif path is not None and fld not in default_fields(query, opts, path):
            continue  # select_related() without names skips keys only()/defer() left out
        nullable = nullable_parent or fld.null
        (info,) = path_infos(fld)
        rel_alias = query.join(info, query.join_parent(opts, alias, opts.owner_of(fld)), nullable)
        infos.append(
            _klass_info(
                query,
                select,
                fld.remote_field.model,
                rel_alias,
                fld,
                False,
                requested[name] if requested is not None else None,
                depth,
                nullable,
                sub_path,
            )
        )
    for name, rel in reverse.items():
        if requested is None or name not in requested:
            continue
        (info,) = path_infos(rel)
        rel_alias = query.join(info, query.join_parent(opts, alias, opts.owner_of(rel)), True)
        infos.append(
            _klass_info(
                query,
                select,
                rel.related_model,
                rel_alias,
                rel,
                True,
                requested[name],
                depth,
                True,
                None if path is None else f"{path}__{name}" if path else name,
            )
        )
    for name in filtered:
        if requested is not None and name in requested:
            infos.append(_filtered_klass_info(query, select, name, requested[name], depth))
    return tuple(infos)


def _filtered_klass_info(
    query: Query, select: list[Any], name: str, requested: dict[str, Any], depth: int
) -> KlassInfo:
    """``select_related("<FilteredRelation alias>")``: the object is set as that attribute."""
    field, _target, alias, _rest, multivalued = query.setup_joins([name], trim_last_fk=False)
    if multivalued or field.many_to_many:
        raise FieldError(
            f"select_related({name!r}) needs a FilteredRelation over a single-valued relation "
            f"(a foreign key or one-to-one); {query.filtered_relations[name].relation_name!r} is multi-valued: "
            "use values() or prefetch_related() instead."
        )
    model = field.related_model
    info = _klass_info(query, select, model, alias, field, False, requested, depth, True)
    return KlassInfo(
        model, info.fields, info.start, info.end, info.related, field, False, attr_name=name
    )


def _klass_info(
    query: Query,
    select: list[Any],
    model: ModelClass,
    alias: str,
    field: Any,
    reverse: bool,
    requested: dict[str, Any] | None,
    depth: int,
    nullable: bool,
    path: str | None = None,
) -> KlassInfo:
    if path is None:
        fields = tuple(model._meta.concrete_fields)
    else:
        fields = tuple(default_fields(query, model._meta, path))
    start = len(select)
    select.extend((col, None) for col in model_cols(query, model._meta, alias, fields))
    end = len(select)
    related = (
        related_selections(
            query,
            select,
            model._meta,
            alias,
            requested or ({} if requested is not None else None),
            depth + 1,
            nullable,
            path,
        )
        if requested or requested is None
        else ()
    )
    return KlassInfo(model, fields, start, end, related, field, reverse)


def get_order_by(query: Query, select_aliases: set[str]) -> list[Any]:
    """Resolved ``OrderBy`` terms (explicit ordering, else the model's ``Meta.ordering``)."""
    if query.order_by:
        ordering = query.order_by
    elif (
        query.default_ordering
        and query.model._meta.ordering
        and not query.combinator
        and query.group_by is None
    ):
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
                result.extend(
                    o if query.standard_ordering else o.reverse_ordering() for o in related
                )
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


def _related_ordering(
    query: Query, name: str, descending: bool, depth: int = 0
) -> list[Any] | None:
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


def _order_expr(query: Query, name: str, select_aliases: set[str]) -> Any:
    if name in query.annotations:
        if name in select_aliases:
            return Ref(name, query.annotations[name])
        return query.annotations[name]
    parts = name.split("__")
    field, target, alias, rest, _ = query.setup_joins(parts, nullable=True)
    return query.apply_transforms(Col(alias, target), rest, name)


def get_group_by(query: Query, select: list[Any], order_by: list[Any]) -> list[Any]:
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
        # A selected alias (Ref) and the expression it names group the same rows:
        # keep one, the alias, so GROUP BY does not list LOWER(x) and "lower" both
        # (and PostgreSQL matches the SELECT column even when it binds parameters).
        target = _grouped(expr)
        same = [
            i
            for i, s in enumerate(seen)
            if target is _grouped(s)
            or (type(target) is type(_grouped(s)) and target == _grouped(s))
        ]
        if not same:
            seen.append(expr)
        elif isinstance(expr, Ref) and not isinstance(seen[same[0]], Ref):
            seen[same[0]] = expr
    return seen


def _grouped(expr: Any) -> Any:
    """What a GROUP BY term groups by: a Ref's source expression, or the term itself."""
    return expr.source if isinstance(expr, Ref) else expr
