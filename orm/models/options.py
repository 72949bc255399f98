"""``Model._meta``: table name, fields by name, relations, ordering, indexes, constraints."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from orm.exceptions import FieldDoesNotExist, FieldError
from orm.fields.base import NOT_PROVIDED, Field
from orm.models.registry import Apps
from orm.models.registry import apps as global_apps
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.fields.related import ForeignObjectRel
    from orm.models.base import Model
    from orm.models.deletion import Collector

ORDERING_PATTERN = re.compile(r"^-?(?:[A-Za-z_][A-Za-z0-9_]*)(?:__[A-Za-z0-9_]+)*$")
# The cached_property names of Options that Options.expire_cache() forgets.
_DERIVED = ("concrete_fields", "local_concrete_fields", "save_plan", "init_plan")
DEFAULT_NAMES = frozenset(
    {
        "db_table",
        "app_label",
        "ordering",
        "indexes",
        "constraints",
        "unique_together",
        "abstract",
        "get_latest_by",
        "verbose_name",
        "verbose_name_plural",
        "auto_created",
        "apps",
        "db_table_comment",
        "proxy",
        "base_manager_name",
        "default_manager_name",
    }
)
#: Where ``camel_case_to_spaces`` puts a space: before a capital that follows a
#: lower-case letter, or one that starts a word (``HTTPServer`` -> ``http server``).
_CAMEL_CASE = re.compile(r"(((?<=[a-z])[A-Z])|([A-Z](?![A-Z]|$)))")


def camel_case_to_spaces(value: str) -> str:
    """``"BookAuthor"`` -> ``"book author"``: how Django derives a model's verbose_name."""
    return _CAMEL_CASE.sub(r" \1", value).strip().lower()


def _normalize_together(value: Iterable[Any] | None) -> tuple[tuple[str, ...], ...]:
    if not value:
        return ()
    value = tuple(value)
    if all(isinstance(v, str) for v in value):
        return (value,)
    return tuple(tuple(v) for v in value)


class SavePlan(NamedTuple):
    """The field lists every ``save()`` of a model reads, built once (``Options.save_plan``)."""

    #: attnames of every concrete field but the primary key: all present = nothing deferred.
    value_attnames: frozenset[str]
    #: this table's own columns but the primary key, in table order: what an UPDATE writes.
    local_value_fields: tuple[Any, ...]
    #: every concrete relation field: what the unsaved-related-object check walks.
    relations: tuple[Any, ...]


class InitPlan(NamedTuple):
    """What ``Model(**kwargs)`` does when every keyword is a column's attname or a relation's name (``Options.init_plan``)."""

    #: The keywords stored as they are: every concrete field's attname (a
    #: relation's name, ``author`` beside ``author_id``, goes through its descriptor).
    direct: frozenset[str]
    #: attname -> default of each field whose default is the same object every
    #: time (``Field.get_default`` returns it without calling anything).
    constant: dict[str, Any]
    #: (attname, field) of the fields whose ``get_default()`` runs per instance.
    computed: tuple[tuple[str, Any], ...]
    #: (name, attname) of the relations given by name (``author=``) set through
    #: their descriptors; one with a computed default is left to the general loop.
    relations: tuple[tuple[str, str], ...]
    #: ``direct`` and those relation names: the keywords this plan handles.
    accepted: frozenset[str]

    def pop_related(self, kwargs: dict[str, Any]) -> list[tuple[str, Any]] | None:
        """Take the relation keywords out of ``kwargs``; None (and nothing taken) when a
        relation is given both ways (``author=`` and ``author_id=``), which the
        general loop reports."""
        related: list[tuple[str, Any]] = []
        for name, attname in self.relations:
            if name in kwargs:
                if attname in kwargs:
                    kwargs.update(related)
                    return None
                related.append((name, kwargs.pop(name)))
        return related


def _init_plan(fields: list[Any]) -> InitPlan:
    constant: dict[str, Any] = {}
    computed = []
    for f in fields:
        if type(f).get_default is not Field.get_default or f.db_default is not NOT_PROVIDED:
            computed.append((f.attname, f))
        elif f.default is not NOT_PROVIDED and callable(f.default):
            computed.append((f.attname, f))
        else:
            constant[f.attname] = f.get_default()  # the shared default, None or ""
    direct = frozenset(f.attname for f in fields)
    relations = tuple(
        (f.name, f.attname) for f in fields if f.is_relation and f.attname in constant
    )
    return InitPlan(
        direct,
        constant,
        tuple(computed),
        relations,
        direct | {name for name, _attname in relations},
    )


class Options:
    """Everything about a model class that is not an instance attribute."""

    def __init__(self, meta: type | None, app_label: str) -> None:
        names = {k for k in vars(meta) if not k.startswith("_")} if meta is not None else set()
        unknown = names - DEFAULT_NAMES
        if unknown:
            raise TypeError(f"'class Meta' got invalid attribute(s): {', '.join(sorted(unknown))}")

        def get(key: str, default: Any) -> Any:
            return getattr(meta, key, default) if meta is not None else default

        #: The Meta attributes as given (inherited ones included), as Django keeps them.
        self.original_attrs: dict[str, Any] = (
            {name: getattr(meta, name) for name in sorted(DEFAULT_NAMES) if hasattr(meta, name)}
            if meta is not None
            else {}
        )

        self.app_label: str = get("app_label", None) or app_label
        self.db_table: str = get("db_table", "")
        self.ordering: list[Any] = list(get("ordering", []) or [])
        self.indexes: list[Any] = list(get("indexes", []) or [])
        self.constraints: list[Any] = list(get("constraints", []) or [])
        self.unique_together = _normalize_together(get("unique_together", ()))
        self.abstract: bool = bool(get("abstract", False))
        self.get_latest_by: Any = get("get_latest_by", None)
        self.verbose_name: str | None = get("verbose_name", None)
        self.verbose_name_plural: str | None = get("verbose_name_plural", None)
        #: COMMENT ON TABLE text, on backends that support comments (PostgreSQL).
        self.db_table_comment: str = get("db_table_comment", "") or ""
        self.auto_created: bool = bool(get("auto_created", False))
        #: ``Meta.proxy``: the model shares the table, fields and relations of its concrete base.
        self.proxy: bool = bool(get("proxy", False))
        #: For a proxy, the model it proxies (maybe itself a proxy); else None.
        self.proxy_for_model: Any = None
        #: The model owning the table (the model itself unless a proxy).
        self.concrete_model: Any = None
        #: Concrete parents and their parent link fields (empty: no multi-table inheritance).
        self.parents: dict[Any, Any] = {}
        #: Managers chosen by name for ``_base_manager`` / ``_default_manager`` (None: Django's defaults).
        self.base_manager_name: str | None = get("base_manager_name", None)
        self.default_manager_name: str | None = get("default_manager_name", None)
        #: The registry the model is registered in, and resolves string relations in.
        apps = get("apps", None)
        self.apps: Apps = global_apps if apps is None else apps
        if not isinstance(self.apps, Apps):
            raise TypeError(
                f"Meta.apps must be an orm.models.registry.Apps, not {short_repr(self.apps)}."
            )
        self.model: Any = None
        self.object_name = ""
        self.model_name = ""
        self.pk: Any = None
        self.local_fields: list[Any] = []
        self.local_many_to_many: list[Any] = []
        self.related_objects: list[Any] = []
        #: Every manager, inherited ones included, default first unless Meta names another.
        self.managers: list[Any] = []
        #: The managers this class itself declares (children inherit copies of them).
        self.local_managers: list[Any] = []
        self.abstract_fields: dict[str, Any] = {}
        self._forward: dict[str, Any] = {}
        self._reverse: dict[str, Any] = {}
        for term in self.ordering:
            if isinstance(term, str) and term != "?" and not ORDERING_PATTERN.match(term):
                raise FieldError(
                    f"Invalid Meta.ordering term {short_repr(term)}: use a field name, optionally prefixed "
                    "with '-' and followed by '__'-separated related field names."
                )

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        """Bind to the model class and derive names."""
        self.model = cls
        self.concrete_model = cls
        self.object_name = name
        self.model_name = name.lower()
        if self.verbose_name is None:
            self.verbose_name = camel_case_to_spaces(name)
        if self.verbose_name_plural is None:
            self.verbose_name_plural = f"{self.verbose_name}s"
        if not self.db_table:
            self.db_table = f"{self.app_label}_{self.model_name}"

    def setup_proxy(self, target: type[Model]) -> None:
        """Share the table, fields and relations of ``target`` (a concrete model or proxy).

        The lists and maps are the target's own objects, not copies, so a
        relation added to the concrete model later shows on its proxies too.
        """
        source = target._meta
        self.proxy_for_model = target
        self.concrete_model = source.concrete_model
        self.db_table = source.db_table
        self.pk = source.pk
        self.parents = source.parents
        self.local_fields = source.local_fields
        self.local_many_to_many = source.local_many_to_many
        self.related_objects = source.related_objects
        self._forward = source._forward
        self._reverse = source._reverse

    @property
    def label(self) -> str:
        """``app_label.ModelName``."""
        return f"{self.app_label}.{self.object_name}"

    @property
    def label_lower(self) -> str:
        """``app_label.modelname``."""
        return f"{self.app_label}.{self.model_name}"

    def add_field(self, field: Field, private: bool = False, m2m: bool = False) -> None:
        """Register a field (in declaration order; the pk is kept first)."""
        if m2m:
            self.local_many_to_many.append(field)
        elif field.primary_key and field.auto_created:
            self.local_fields.insert(0, field)
        else:
            self.local_fields.append(field)
        if field.primary_key:
            if self.pk is not None and self.pk is not field:
                raise FieldError(f"{self.object_name} has more than one primary key.")
            self.pk = field
        self._forward[field.name] = field
        if field.attname != field.name:
            self._forward[field.attname] = field
        self.expire_cache()

    def add_related_object(self, rel: ForeignObjectRel) -> None:
        """Register a reverse relation pointing at this model."""
        self.related_objects.append(rel)
        if not rel.is_hidden() or rel.many_to_many:
            self._reverse[rel.get_query_name()] = rel

    def forget_relations_from(self, model: type[Model]) -> None:
        """Drop the reverse relations ``model`` installed here (it is being unregistered)."""
        gone = [rel for rel in self.related_objects if rel.field.model is model]
        if not gone:
            return
        self.related_objects = [rel for rel in self.related_objects if rel.field.model is not model]
        self._reverse = {
            name: rel for name, rel in self._reverse.items() if rel.field.model is not model
        }
        for rel in gone:
            # Only the accessor this relation installed: another relation
            # may have been given the same name since.
            accessor = None if rel.is_hidden() else rel.get_accessor_name()
            if (
                accessor is not None
                and getattr(self.model.__dict__.get(accessor), "rel", None) is rel
            ):
                delattr(self.model, accessor)
        self.expire_cache()

    def expire_cache(self) -> None:
        """Forget the field lists derived from the fields (rebuilt on next use)."""
        for name in _DERIVED:
            self.__dict__.pop(name, None)

    # The lists and plans derived from the fields are cached_property: once
    # built they are plain instance attributes, read with no call (every
    # save, insert and Model(...) reads some); expire_cache() drops them.
    @cached_property
    def concrete_fields(self) -> list[Any]:
        """Fields with a column: the concrete parents' first (multi-table inheritance), then this table's."""
        return [f for f in self.fields if f.concrete]

    @cached_property
    def local_concrete_fields(self) -> list[Any]:
        """Fields with a column in this model's own table, in table order."""
        return [f for f in self.local_fields if f.concrete]

    @cached_property
    def save_plan(self) -> SavePlan:
        """What ``save()`` of a whole instance reads and writes (derived once per model)."""
        value_fields = [f for f in self.concrete_fields if not f.primary_key]
        return SavePlan(
            frozenset(f.attname for f in value_fields),
            tuple(f for f in self.local_concrete_fields if not f.primary_key),
            tuple(f for f in self.concrete_fields if f.is_relation),
        )

    @cached_property
    def init_plan(self) -> InitPlan:
        """How ``Model(**kwargs)`` fills an instance without a per-field loop (derived once per model)."""
        return _init_plan(self.concrete_fields)

    @property
    def fields(self) -> list[Any]:
        """Forward fields but many-to-many ones, inherited ones first, as Django's ``_meta.fields``."""
        if not self.parents:
            return list(self.local_fields)
        return _unique(
            [*(f for parent in self.parents for f in parent._meta.fields), *self.local_fields]
        )

    @property
    def many_to_many(self) -> list[Any]:
        """The many-to-many fields of the model, inherited ones first."""
        if not self.parents:
            return list(self.local_many_to_many)
        return _unique(
            [
                *(f for parent in self.parents for f in parent._meta.many_to_many),
                *self.local_many_to_many,
            ]
        )

    # -- multi-table inheritance ---------------------------------------------------
    def get_parent_list(self) -> list[Any]:
        """Every concrete ancestor, nearest first (Django's ``get_parent_list``)."""
        result: list[Any] = []
        for parent in self.parents:
            for model in (parent, *parent._meta.get_parent_list()):
                if model not in result:
                    result.append(model)
        return result

    def get_ancestor_link(self, ancestor: type[Model]) -> Any:
        """The parent link field leading towards ``ancestor`` (None when it is no ancestor).

        For a direct parent it is this model's own link; for a grandparent,
        the link the parent on the way holds (as Django's ``get_ancestor_link``).
        """
        if ancestor in self.parents:
            return self.parents[ancestor]
        for parent in self.parents:
            link = parent._meta.get_ancestor_link(ancestor)
            if link is not None:
                return link
        return None

    def get_path_to_parent(self, parent: type[Model]) -> list[Any]:
        """The parent link fields from this model up to ``parent``, nearest first ([] if none)."""
        if parent is self.concrete_model or not self.parents:
            return []
        for direct, link in self.parents.items():
            if direct is parent:
                return [link]
            rest = direct._meta.get_path_to_parent(parent)
            if rest:
                return [link, *rest]
        return []

    def owner_of(self, field: Field) -> Any:
        """The concrete model whose table holds ``field`` (a forward field or reverse relation)."""
        model = field.model
        return model._meta.concrete_model if hasattr(model, "_meta") else self.concrete_model

    @property
    def fields_map(self) -> dict[str, Any]:
        """Every field and reverse relation by name (and forward fields by attname too)."""
        found: dict[str, Any] = {}
        for field in self.get_fields(include_hidden=True):
            found[field.name] = field
            attname = getattr(field, "attname", None)
            if attname:
                found[attname] = field
        return found

    def get_fields(self, include_parents: bool = True, include_hidden: bool = False) -> list[Any]:
        """Reverse relations pointing here, then forward fields (concrete, then many-to-many).

        As Django: reverse relations whose ``related_name`` ends in ``'+'`` are
        left out unless ``include_hidden``. With ``include_parents`` the fields
        and reverse relations of concrete parents are included (the reverse
        side of a parent link only on the parent itself).
        """
        if not isinstance(include_parents, bool):
            raise TypeError(f"Invalid argument for include_parents: {include_parents!r}")
        reverse = [rel for rel in self.related_objects if include_hidden or not rel.is_hidden()]
        if include_parents and self.parents:
            inherited = [
                rel for rel in self._parent_relations() if include_hidden or not rel.is_hidden()
            ]
            return _unique([*reverse, *inherited, *self.fields, *self.many_to_many])
        return [*reverse, *self.local_fields, *self.local_many_to_many]

    def _parent_relations(self) -> list[Any]:
        # The reverse side of a parent link (``place.restaurant``) belongs to
        # the parent only, as Django's _get_fields leaves it out of children.
        return [
            rel
            for parent in self.get_parent_list()
            for rel in parent._meta.related_objects
            if not getattr(rel, "parent_link", False)
        ]

    def get_field_or_none(self, name: str) -> Any:
        """A forward field (by name or attname) or reverse relation (by query name), inherited ones too."""
        if name == "pk" and self.pk is not None:
            return self.pk
        found = self._forward.get(name)
        if found is None:
            found = self._reverse.get(name)
        if found is None and self.parents:
            for parent in self.parents:
                found = parent._meta.get_field_or_none(name)
                # A reverse relation's parent_link: the parent's ``restaurant``.
                if found is not None and not getattr(found, "parent_link", False):
                    return found
            return None
        return found

    def get_field(self, name: str) -> Any:
        """The field or reverse relation called ``name``; raise ``FieldDoesNotExist`` listing the choices.

        Forward fields are found by name or attname, reverse relations by
        their query name; ``"pk"`` gives the primary key (Django's
        ``get_field`` refuses it; the query layer here relies on it).
        """
        found = self.get_field_or_none(name)
        if found is None:
            raise FieldDoesNotExist(
                f"{self.object_name} has no field named {short_repr(name)}. "
                f"Choices are: {', '.join(self.query_names())}"
            )
        return found

    def query_names(self) -> list[str]:
        """Every name usable in lookups, sorted (hidden reverse names, ending in '+', left out)."""
        names = (
            {f.name for f in (*self.local_fields, *self.local_many_to_many)}
            | {n for n in self._reverse if not n.endswith("+")}
            | {"pk"}
        )
        for parent in self.parents:
            names |= set(parent._meta.query_names())
        return sorted(names)

    def new_collector(self, using: str) -> Collector:
        """A deletion collector (``QuerySet.delete`` reaches the models layer through this)."""
        from orm.models.deletion import Collector

        return Collector(using)

    def __repr__(self) -> str:
        return f"<Options for {self.object_name}>"


def _unique(items: list[Any]) -> list[Any]:
    """``items`` without repeats (a field reached through two parents), first occurrence kept."""
    seen: set[int] = set()
    result = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            result.append(item)
    return result
