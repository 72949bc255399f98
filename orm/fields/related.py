"""Relation fields: ForeignKey, OneToOneField, ManyToManyField and their ``rel`` objects.

Fields only *describe* relations. Resolving ``"Tag"``-style string targets,
installing descriptors and creating automatic many-to-many tables happen in
``orm.models`` (the layer above), which owns the model registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar, Unpack, overload

from orm.abc import Connection
from orm.fields.base import _GT, _ST, Expression, Field, FieldOptions, ModelInstance
from orm.utils.text import short_repr

RECURSIVE_RELATIONSHIP_CONSTANT = "self"


def model_reference(target: Any, owner: Any) -> str:
    """How ``deconstruct()`` names a relation target: ``"app_label.modelname"``.

    ``target`` is a model class or the string given; a string without an app
    label is qualified with the app of ``owner`` (the model holding the
    field) once there is one, so the reference means the same model wherever
    the field is rebuilt. ``"self"`` stays as it is until the field is on a
    model. Lower-cased as in Django; lookups of model names ignore case.
    """
    if not isinstance(target, str):
        return str(target._meta.label_lower)
    if "." in target:
        app_label, name = target.split(".", 1)
        return f"{app_label}.{name.lower()}"
    if owner is None:
        return target if target == RECURSIVE_RELATIONSHIP_CONSTANT else target.lower()
    if target == RECURSIVE_RELATIONSHIP_CONSTANT:
        return str(owner._meta.label_lower)
    return f"{owner._meta.app_label}.{target.lower()}"


#: The model a relation points at, taken from the class given as ``to``.
_To = TypeVar("_To")


class ForeignObjectRel:
    """The reverse side of a relation, stored as ``field.remote_field``.

    ``model`` is the target model (a string until the registry resolves it);
    ``related_model`` the model holding the field.
    """

    many_to_many = False
    many_to_one = False
    one_to_one = False
    is_relation = True
    concrete = False
    auto_created = True
    editable = False
    primary_key = False
    null = True

    def __init__(
        self,
        field: Field,
        to: Any,
        related_name: str | None = None,
        related_query_name: str | None = None,
        on_delete: Callable[..., Any] | None = None,
    ) -> None:
        self.field = field
        self.model = to
        self.related_name = related_name
        self.related_query_name = related_query_name
        self.on_delete = on_delete
        self.through: Any = None
        self.symmetrical = False
        #: The field links a child model to its concrete parent (multi-table inheritance).
        self.parent_link = False

    @property
    def related_model(self) -> Any:
        """The model that declares the relation field."""
        return self.field.model

    @property
    def name(self) -> str:
        """The name used in lookups (the related query name)."""
        return self.get_query_name()

    @property
    def one_to_many(self) -> bool:
        """True for the reverse side of a ForeignKey."""
        return not self.one_to_one and not self.many_to_many

    @property
    def remote_field(self) -> Field:
        """The relation field this is the reverse side of (as Django)."""
        return self.field

    @property
    def hidden(self) -> bool:
        """True when ``related_name`` ends in '+' (no accessor; left out of ``get_fields()``)."""
        return self.is_hidden()

    def is_hidden(self) -> bool:
        """A ``related_name`` ending in '+' hides the reverse accessor."""
        return bool(self.related_name and self.related_name.endswith("+"))

    def get_accessor_name(self) -> str:
        """Attribute name of the reverse accessor on the target model."""
        if self.related_name:
            return self.related_name
        name = self.field.model._meta.model_name
        return name if self.one_to_one else f"{name}_set"

    def get_query_name(self) -> str:
        """Name used in lookups from the target (``author.filter(book__title=...)``)."""
        return self.related_query_name or self.related_name or self.field.model._meta.model_name

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.field}>"


class ManyToOneRel(ForeignObjectRel):
    """Reverse side of a ForeignKey (``author.book_set``)."""

    field: ForeignKey[Any, Any]


class OneToOneRel(ManyToOneRel):
    """Reverse side of a OneToOneField (``place.restaurant``)."""

    one_to_one = True


class ManyToManyRel(ForeignObjectRel):
    """Reverse side of a ManyToManyField; ``through`` is the join model."""

    field: ManyToManyField[Any, Any]

    many_to_many = True


class ForeignKey(Field[_ST, _GT]):
    """A many-to-one relation stored in ``<name>_id``; ``on_delete`` is required."""

    is_relation = True
    many_to_one = True
    rel_class: type[ForeignObjectRel] = ManyToOneRel

    @overload
    def __init__(
        self: ForeignKey[_To | Expression, _To],
        to: type[_To],
        on_delete: Callable[..., Any],
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        *,
        parent_link: bool = False,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: ForeignKey[_To | Expression | None, _To | None],
        to: type[_To],
        on_delete: Callable[..., Any],
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        *,
        parent_link: bool = False,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    # A model named by a string ("Author", "self", "app.Model") is only known
    # once the registry resolves it: a checker sees Any.
    @overload
    def __init__(
        self: ForeignKey[Any, Any],
        to: str,
        on_delete: Callable[..., Any],
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        *,
        parent_link: bool = False,
        null: bool = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(
        self,
        to: Any,
        on_delete: Callable[..., Any] | None = None,
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        parent_link: bool = False,
        **kwargs: Any,
    ) -> None:
        if on_delete is None or not callable(on_delete):
            raise TypeError("ForeignKey needs on_delete (orm.CASCADE, orm.PROTECT, ...).")
        kwargs.setdefault("db_index", True)
        super().__init__(**kwargs)
        self.remote_field = self.rel_class(self, to, related_name, related_query_name, on_delete)
        self.remote_field.parent_link = bool(parent_link)
        self.to_field = to_field
        self.db_constraint = db_constraint

    @property
    def related_model(self) -> Any:
        """The target model class."""
        return self.remote_field.model

    @property
    def target_field(self) -> Field:
        """The field on the target the column points at (its pk by default)."""
        meta = self.remote_field.model._meta
        target: Field = meta.get_field(self.to_field) if self.to_field else meta.pk
        return target

    def storage_field(self) -> Field:
        return self.target_field.storage_field()

    def get_attname(self) -> str:
        return f"{self.name}_id"

    def get_internal_type(self) -> str:
        return "ForeignKey"

    def db_type(self, connection: Connection) -> str | None:
        return self.target_field.rel_db_type(connection)

    def db_check(self, connection: Connection) -> str | None:
        return None

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if hasattr(value, "_meta"):
            target = self.remote_field.model
            if not isinstance(value, target):
                raise ValueError(
                    f"Field {self.name!r} expects a {target.__name__} instance or its primary key, "
                    f"got a {type(value).__name__} instance."
                )
            value = getattr(value, self.target_field.attname)
        return self.target_field.get_prep_value(value)

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        return self.target_field.get_db_prep_value(value, connection, prepared=True)

    def check_write(self, value: Any, connection: Connection) -> None:
        self.target_field.check_write(value, connection)

    def get_db_converters(self, connection: Connection) -> list[Callable[[Any, Any, Any], Any]]:
        return self.target_field.get_db_converters(connection)

    def validate(self, value: Any, model_instance: ModelInstance | None) -> None:
        super().validate(value, model_instance)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        rel = self.remote_field
        kwargs["to"] = model_reference(rel.model, self.model)
        kwargs["on_delete"] = rel.on_delete
        if rel.related_name is not None:
            kwargs["related_name"] = rel.related_name
        if rel.related_query_name is not None:
            kwargs["related_query_name"] = rel.related_query_name
        if self.to_field is not None:
            kwargs["to_field"] = self.to_field
        if not self.db_constraint:
            kwargs["db_constraint"] = False
        if rel.parent_link:
            kwargs["parent_link"] = True
        # Relative to this class's default, db_index=True.
        if self.db_index:
            kwargs.pop("db_index", None)
        else:
            kwargs["db_index"] = False
        return name, path, args, kwargs


class OneToOneField(ForeignKey[_ST, _GT]):
    """A ForeignKey with ``unique=True``; the reverse accessor returns one object."""

    many_to_one = False
    one_to_one = True
    rel_class = OneToOneRel

    @overload
    def __init__(
        self: OneToOneField[_To | Expression, _To],
        to: type[_To],
        on_delete: Callable[..., Any],
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        *,
        parent_link: bool = False,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: OneToOneField[_To | Expression | None, _To | None],
        to: type[_To],
        on_delete: Callable[..., Any],
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        *,
        parent_link: bool = False,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    # A model named by a string ("Author", "self", "app.Model") is only known
    # once the registry resolves it: a checker sees Any.
    @overload
    def __init__(
        self: OneToOneField[Any, Any],
        to: str,
        on_delete: Callable[..., Any],
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        *,
        parent_link: bool = False,
        null: bool = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, to: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["unique"] = True
        super().__init__(to, *args, **kwargs)

    def get_internal_type(self) -> str:
        return "OneToOneField"

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        del kwargs["unique"]  # always True, not an option here
        return name, path, args, kwargs


class ManyToManyField(Field[_ST, _GT]):
    """A many-to-many relation through a join table (automatic, or ``through=``)."""

    is_relation = True
    many_to_many = True
    concrete = False

    def __init__(
        self,
        to: Any,
        related_name: str | None = None,
        related_query_name: str | None = None,
        through: Any = None,
        db_table: str | None = None,
        symmetrical: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("null"):
            raise TypeError("ManyToManyField cannot be null (there is no column).")
        super().__init__(**kwargs)
        self.remote_field = ManyToManyRel(self, to, related_name, related_query_name)
        self.remote_field.through = through
        # As Django: a relation to "self" links both ways unless told otherwise.
        if symmetrical is None:
            symmetrical = to == RECURSIVE_RELATIONSHIP_CONSTANT
        self.remote_field.symmetrical = bool(symmetrical)
        self.db_table = db_table
        # contribute_to_class() makes a hidden ("+") related_name unique;
        # deconstruct() gives back the one declared.
        self._related_name = related_name

    @property
    def related_model(self) -> Any:
        """The target model class."""
        return self.remote_field.model

    def get_attname(self) -> str:
        return self.name

    def db_type(self, connection: Connection) -> str | None:
        return None

    def contribute_to_class(self, cls: Any, name: str) -> None:
        self.set_attributes_from_name(name)
        self.model = cls
        rel = self.remote_field
        if rel.symmetrical:
            self._check_symmetrical(cls, name)
            # A symmetrical relation has no reverse accessor (the forward one
            # already sees both directions); it still needs a reverse query
            # name, hidden, that the related manager filters through.
            rel.related_name = f"{name}_rel_+"
        elif rel.is_hidden():
            # The related manager still filters the target model through this
            # reverse relation by name, so two hidden fields to one model must
            # not share "+": each gets its own name, still ending in '+'.
            rel.related_name = f"_{cls._meta.app_label}_{cls._meta.model_name}_{name}_+"
        cls._meta.add_field(self, private=False, m2m=True)

    def _check_symmetrical(self, cls: Any, name: str) -> None:
        """Refuse ``symmetrical=True`` on a relation to another model (it would mirror nonsense)."""
        target = self.remote_field.model
        if isinstance(target, str):
            lowered = target.lower()
            if lowered in ("self", cls.__name__.lower(), cls._meta.label_lower):
                return
        raise ValueError(
            f"{cls.__name__}.{name}: symmetrical=True is only for a ManyToManyField to its own "
            f'model (ManyToManyField("self")); a relation to {short_repr(target)} cannot link both ways. '
            "Remove symmetrical=True."
        )

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        rel = self.remote_field
        kwargs["to"] = model_reference(rel.model, self.model)
        if rel.symmetrical != (kwargs["to"] == RECURSIVE_RELATIONSHIP_CONSTANT):
            kwargs["symmetrical"] = rel.symmetrical
        if self._related_name is not None:
            kwargs["related_name"] = self._related_name
        if rel.related_query_name is not None:
            kwargs["related_query_name"] = rel.related_query_name
        through = rel.through
        if isinstance(through, str):
            kwargs["through"] = model_reference(through, self.model)
        elif through is not None and not through._meta.auto_created:
            kwargs["through"] = through._meta.label_lower
        if self.db_table is not None:
            kwargs["db_table"] = self.db_table
        return name, path, args, kwargs

    def m2m_field_names(self) -> tuple[str, str]:
        """Names of the through model's FK to the source and to the target model."""
        through = self.remote_field.through
        source, target = self.model, self.remote_field.model
        source_name = target_name = None
        for field in through._meta.local_fields:
            if not field.is_relation:
                continue
            related = field.remote_field.model
            if related is source and source_name is None:
                source_name = field.name
            elif related is target and target_name is None:
                target_name = field.name
        if source_name is None or target_name is None:
            raise ValueError(
                f"The through model {through.__name__} needs a ForeignKey to "
                f"{source.__name__} and one to {target.__name__}."
            )
        return source_name, target_name
