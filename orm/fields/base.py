"""``Field``: how one model attribute maps to a column and back.

Fields hold no SQL text: the column type comes from the backend's
``data_types`` table, lookups are registered on field classes by
``orm.query.lookups``, and values are adapted by the backend's operations.
What fields do own is the Python side: coercion (``get_prep_value``), the
checks that run before every write so SQLite refuses what PostgreSQL would
(``check_write``), and validation for ``full_clean()``.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypedDict, TypeVar, overload

from orm.abc import Connection
from orm.exceptions import IntegrityError, ValidationError
from orm.fields.choices import (
    BaseChoiceIterator,
    CallableChoiceIterator,
    flatten_choices,
    get_field_display,
    normalize_choices,
)
from orm.fields.lookup_registry import RegisterLookupMixin
from orm.utils.text import short_repr


class _NotProvided:
    def __repr__(self) -> str:
        return "NOT_PROVIDED"

    # Fields inherited from abstract models are deep-copied; the sentinel must
    # stay the one object that has_default() compares against.
    def __copy__(self) -> _NotProvided:
        return self

    def __deepcopy__(self, memo: Any) -> _NotProvided:
        return self

    def __reduce__(self) -> str:
        return "NOT_PROVIDED"


NOT_PROVIDED: Any = _NotProvided()
_creation_counter = itertools.count()

# The value types a field's attribute takes on a model instance: _ST what may
# be assigned, _GT what is read back. They exist for type checkers only (the
# runtime attribute is a plain instance value behind DeferredAttribute); the
# defaults let internal code keep writing a bare ``Field``.
if TYPE_CHECKING:
    from typing import Self

    from typing_extensions import TypeVar as _DefaultTypeVar

    _ST = _DefaultTypeVar("_ST", default=Any)
    _GT = _DefaultTypeVar("_GT", default=Any)
else:
    _ST = TypeVar("_ST")
    _GT = TypeVar("_GT")
_F_co = TypeVar("_F_co", covariant=True)


class Expression(Protocol):
    """What may be assigned to any field besides its values: ``F("n") + 1``, ``Now()``, ...

    Matched by shape (``resolve_expression``) because the expression classes
    live in ``orm.query``, a layer above the fields.
    """

    # A read-only member, so any method signature matches.
    @property
    def resolve_expression(self) -> Callable[..., Any]:
        """Bind the expression to a query (``F``, ``Value``, ``Func``, ... define it)."""
        ...


class ClassAttribute(Protocol[_F_co]):
    """``Book.title`` on the class: the descriptor in front of the field (as Django).

    ``Book.title.field`` is the field; an instance gives the value instead.
    """

    @property
    def field(self) -> _F_co:
        """The model field this attribute reads and writes."""
        ...


class ModelInstance(Protocol):
    """A model instance, by shape (``_state``): the instances a field's ``__get__`` gives values to.

    Only models get the value type; a field stored on any other object (an
    ``Options``, an expression's ``output_field``) is read as the field itself.
    """

    @property
    def _state(self) -> Any: ...


class FieldOptions(TypedDict, total=False):
    """The keyword options every field takes (those of ``Field.__init__``), for typed signatures."""

    primary_key: bool
    max_length: int | None
    unique: bool
    blank: bool
    db_index: bool
    default: Any
    editable: bool
    choices: Any
    help_text: str
    db_column: str | None
    validators: Sequence[Callable[[Any], None]]
    auto_created: bool
    db_default: Any
    db_comment: str | None


class DatabaseDefault:
    """The value of a field left to its ``db_default`` on an unsaved instance (as Django).

    An INSERT leaves such a column out, so the database fills it in, and
    reads the stored value back with RETURNING onto the instance.
    """

    __slots__ = ("field",)

    def __init__(self, field: Field) -> None:
        self.field = field

    @property
    def expression(self) -> Any:
        """The ``db_default`` given (a value or an expression)."""
        return self.field.db_default

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatabaseDefault):
            return NotImplemented
        return self.field is other.field

    def __hash__(self) -> int:
        return hash(self.field)

    def __repr__(self) -> str:
        return f"DatabaseDefault({self.expression!r})"


class Field(RegisterLookupMixin, Generic[_ST, _GT]):
    """Base of every model field; the options are those of Django's ``Field``.

    For type checkers a field is a descriptor: ``book.title`` is the value
    type (``str``), ``book.title = ...`` accepts what the field takes, and
    ``Book.title`` is a :class:`ClassAttribute` whose ``.field`` is the field.
    Each field class picks its types (``null=True`` adds ``None``) with
    ``__init__`` overloads.
    """

    empty_values: ClassVar[tuple[Any, ...]] = (None, "", [], (), {})
    #: relation flags (overridden by relation fields)
    is_relation = False
    many_to_many = False
    many_to_one = False
    one_to_one = False
    one_to_many = False
    auto_created = False
    concrete = True
    #: only reverse relations can be hidden (``related_name='+'``)
    hidden = False
    #: True for GeneratedField: the database computes the column, writes skip it
    generated = False
    #: lookups and transforms registered on this class (see orm.query.lookups)
    class_lookups: ClassVar[dict[str, Any]] = {}
    remote_field: Any = None

    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        primary_key: bool = False,
        max_length: int | None = None,
        unique: bool = False,
        blank: bool = False,
        null: bool = False,
        db_index: bool = False,
        default: Any = NOT_PROVIDED,
        editable: bool = True,
        choices: Any = None,
        help_text: str = "",
        db_column: str | None = None,
        validators: Sequence[Callable[[Any], None]] = (),
        auto_created: bool = False,
        db_default: Any = NOT_PROVIDED,
        db_comment: str | None = None,
    ) -> None:
        self.verbose_name = verbose_name
        # What was given, for deconstruct(): verbose_name is filled in from
        # the name later, and some classes add their own validators.
        self._verbose_name = verbose_name
        self.name: str = name or ""
        self.primary_key = primary_key
        self.max_length = max_length
        self._unique = unique
        self.blank = blank
        self.null = null
        self.db_index = db_index
        self.default = default
        self.editable = editable
        self.choices = choices
        self.help_text = help_text
        self.db_column = db_column
        self.validators = list(validators)
        self._validators = list(validators)
        self.auto_created = auto_created
        #: Database-side default (Django 5.0): a value or an expression in the column's DDL.
        self.db_default = db_default
        if db_comment is not None and not isinstance(db_comment, str):
            raise TypeError(f"db_comment must be a str, not {short_repr(db_comment)}.")
        #: Column comment (COMMENT ON COLUMN where the backend supports comments).
        self.db_comment = db_comment
        self.creation_counter = next(_creation_counter)
        self.model: Any = None
        self.attname: str = ""
        self.column: str = ""
        self.db_constraint = False

    if TYPE_CHECKING:
        # Typing only: at run time the metaclass puts a DeferredAttribute (or a
        # relation descriptor) in front of the field, so a real __get__ here
        # would only slow attribute access down.
        @overload
        def __get__(self, instance: None, owner: Any) -> ClassAttribute[Self]: ...
        @overload
        def __get__(self, instance: ModelInstance, owner: Any) -> _GT: ...
        @overload
        def __get__(self, instance: object, owner: Any) -> Self: ...
        def __get__(self, instance: object | None, owner: Any) -> Any: ...
        @overload
        def __set__(self, instance: ModelInstance, value: _ST) -> None: ...
        @overload
        def __set__(self, instance: object, value: Self) -> None: ...
        def __set__(self, instance: object, value: Any) -> None: ...

    # -- choices -----------------------------------------------------------
    @property
    def choices(self) -> Any:
        """The normalized ``choices``: ``[(value, label), ...]`` (groups nested), or ``None``.

        A callable given as ``choices`` stays lazy: it is called each time the
        choices are read.
        """
        return self._choices

    @choices.setter
    def choices(self, value: Any) -> None:
        normalized = normalize_choices(value)
        if normalized is not None and not isinstance(normalized, BaseChoiceIterator):
            _check_choices_shape(normalized)
        self._choices = normalized

    @property
    def flatchoices(self) -> list[tuple[Any, Any]]:
        """``choices`` as one flat list of ``(value, label)`` pairs (groups opened)."""
        return list(flatten_choices(self.choices))

    # -- identity ----------------------------------------------------------
    def __repr__(self) -> str:
        path = f"{type(self).__module__}.{type(self).__qualname__}"
        return f"<{path}: {self.name}>" if self.name else f"<{path}>"

    def __str__(self) -> str:
        if self.model is not None:
            return f"{self.model._meta.label}.{self.name}"
        return repr(self)

    # As Django: a field is identified by its creation order and its model, so
    # the copies an abstract base gives two models are different fields, and
    # fields sort in declaration order. To compare two *definitions* (the
    # autodetector does), compare ``deep_deconstruct()`` of each instead.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Field):
            return NotImplemented
        return self.creation_counter == other.creation_counter and self.model is other.model

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Field):
            return NotImplemented
        if self.creation_counter != other.creation_counter or (
            self.model is None and other.model is None
        ):
            return self.creation_counter < other.creation_counter
        if self.model is None or other.model is None:  # exactly one: both None returned above
            return self.model is None  # fields not on a model first
        mine, theirs = self.model._meta, other.model._meta
        return (mine.app_label, mine.model_name) < (theirs.app_label, theirs.model_name)

    def __hash__(self) -> int:
        return hash(self.creation_counter)

    @property
    def unique(self) -> bool:
        """True for ``unique=True`` and primary keys."""
        return self._unique or self.primary_key

    def set_attributes_from_name(self, name: str) -> None:
        """Derive ``name``, ``attname``, ``column`` and ``verbose_name``."""
        self.name = self.name or name
        self.attname = self.get_attname()
        self.column = self.db_column or self.attname
        if self.verbose_name is None:
            self.verbose_name = self.name.replace("_", " ")

    def get_attname(self) -> str:
        """Instance attribute holding the raw value (``author_id`` for a ForeignKey)."""
        return self.name

    def contribute_to_class(self, cls: Any, name: str) -> None:
        """Attach the field to a model class (called by the model metaclass)."""
        self.set_attributes_from_name(name)
        self.model = cls
        cls._meta.add_field(self)
        if self.choices is not None:
            # As Django: a get_FOO_display() written on this very class wins;
            # one inherited is replaced, so a child may change the choices.
            method = f"get_{self.name}_display"
            if method not in cls.__dict__:
                setattr(cls, method, functools.partialmethod(get_field_display, field=self))

    @property
    def related_model(self) -> Any:
        """The model a relation field points at; ``None`` for other fields."""
        return None

    def storage_field(self) -> Field:
        """The field whose kind of values the column holds (a foreign key: its target's)."""
        return self

    def get_internal_type(self) -> str:
        """Key into the backend's ``data_types`` and everything that depends on the column type.

        Each built-in field class returns its own name as a literal, so a
        subclass (``class CashField(orm.DecimalField): pass``) gets its base's
        column, converters, lookups and checks unless it overrides this. A
        direct subclass of ``Field`` gets its class name and, unless the
        backend knows that name, must define ``db_type()`` itself.
        """
        return type(self).__name__

    # -- schema ------------------------------------------------------------
    def db_type_params(self) -> dict[str, Any]:
        """Values interpolated into the backend's column type pattern."""
        return {"max_length": self.max_length}

    def db_type(self, connection: Connection) -> str | None:
        """Column type on ``connection`` (``None``: this field has no column)."""
        pattern = connection.data_types.get(self.get_internal_type())
        if pattern is None:
            return None
        return str(pattern % self.db_type_params())

    def rel_db_type(self, connection: Connection) -> str | None:
        """Column type of a foreign key pointing at this field."""
        return self.db_type(connection)

    def db_check(self, connection: Connection) -> str | None:
        """CHECK expression for the column (e.g. ``>= 0`` for positive integers)."""
        pattern = connection.data_type_check_constraints.get(self.get_internal_type())
        if pattern is None:
            return None
        return str(pattern % {"column": connection.ops.quote_name(self.column)})

    # -- defaults ----------------------------------------------------------
    def has_default(self) -> bool:
        """True when a ``default`` was given."""
        return self.default is not NOT_PROVIDED

    def has_db_default(self) -> bool:
        """True when a ``db_default`` was given."""
        return self.db_default is not NOT_PROVIDED

    def get_default(self) -> Any:
        """The default value (callables are called each time).

        Without ``default`` but with ``db_default``: a :class:`DatabaseDefault`
        marker, replaced by the stored value when the instance is saved.
        """
        if self.has_default():
            return self.default() if callable(self.default) else self.default
        if self.db_default is not NOT_PROVIDED:
            return DatabaseDefault(self)
        if self.null or not self.empty_strings_allowed():
            return None
        return ""

    def empty_strings_allowed(self) -> bool:
        """Whether '' is this field's natural empty value (text fields)."""
        return False

    # -- values ------------------------------------------------------------
    def fail(self, value: Any, expected: str) -> ValueError:
        """The error for a value of the wrong shape: names field and value."""
        return ValueError(f"Field {self.name!r} expected {expected} but got {short_repr(value)}.")

    def to_python(self, value: Any) -> Any:
        """Coerce for validation; raise ``ValidationError`` when impossible."""
        if value is None:
            return value
        try:
            return self.get_prep_value(value)
        except (TypeError, ValueError) as error:
            raise ValidationError(str(error), code="invalid") from error

    def get_prep_value(self, value: Any) -> Any:
        """Python value used in queries and writes; raise TypeError/ValueError for bad input."""
        return value

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        """Driver value for ``connection`` (``prepared``: get_prep_value already ran)."""
        if not prepared:
            value = self.get_prep_value(value)
        return value

    def check_write(self, value: Any, connection: Connection) -> None:
        """Refuse a non-None value the column cannot hold exactly (before every write)."""

    def get_db_prep_save(self, value: Any, connection: Connection) -> Any:
        """Prepare, check and adapt a value for INSERT/UPDATE."""
        value = self.get_prep_value(value)
        if value is not None:
            self.check_write(value, connection)
        return self.get_db_prep_value(value, connection, prepared=True)

    def check_not_null(self, value: Any) -> None:
        """Refuse None for a NOT NULL column before an INSERT.

        Raises ``IntegrityError``, the error the database gives for the same
        violation (as Django), so one ``except IntegrityError`` catches it
        whichever side notices. An UPDATE is left to the database: one that
        matches no row must not fail.
        """
        if value is None and not self.null and not self.primary_key:
            raise IntegrityError(
                f"Field {self.name!r} of {self.model._meta.label if self.model else '?'} "
                "cannot be None: its column is NOT NULL (null=False)."
            )

    def pre_save(self, model_instance: ModelInstance, add: bool) -> Any:
        """The value to save (``auto_now`` fields set it here)."""
        return getattr(model_instance, self.attname)

    def get_db_converters(self, connection: Connection) -> list[Callable[[Any, Any, Any], Any]]:
        """Converters from the driver's value (``from_db_value`` when defined)."""
        from_db = getattr(self, "from_db_value", None)
        return [from_db] if from_db is not None else []

    def value_from_object(self, obj: object) -> Any:
        """The field's raw value on a model instance."""
        return getattr(obj, self.attname)

    # -- validation (full_clean) -------------------------------------------
    def validate(self, value: Any, model_instance: ModelInstance | None) -> None:
        """Check choices, null and blank."""
        if not self.editable:
            return
        if self.choices is not None and value not in self.empty_values:
            if not any(value == option for option, _ in self.flatchoices):
                raise ValidationError(
                    # Django's message, with the value quoted short (it may be huge).
                    f"Value {short_repr(value)} is not a valid choice.",
                    code="invalid_choice",
                    params={"value": value},
                )
        if value is None and not self.null:
            raise ValidationError("This field cannot be null.", code="null")
        if not self.blank and value in self.empty_values:
            raise ValidationError("This field cannot be blank.", code="blank")

    def run_validators(self, value: Any) -> None:
        """Run the field's ``validators`` and collect their errors."""
        if value in self.empty_values:
            return
        errors: list[str] = []
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)

    def clean(self, value: Any, model_instance: ModelInstance | None) -> Any:
        """Convert, validate and run validators; return the cleaned value."""
        value = self.to_python(value)
        self.validate(value, model_instance)
        self.run_validators(value)
        return value

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        """``(name, path, args, kwargs)``: ``import path`` then ``cls(*args, **kwargs)`` rebuilds it.

        ``path`` is ``orm.<Class>`` for built-in fields and ``module.Class``
        for others. Only options that differ from their defaults are in
        ``kwargs``, as given (not as derived: a ``verbose_name`` made from
        the field name, or a class's own validators, are left out).
        Subclasses whose ``__init__`` takes other arguments extend this.
        """
        kwargs: dict[str, Any] = {}
        for option, attr, default in _OPTIONS:
            value = getattr(self, attr)
            if isinstance(value, CallableChoiceIterator):
                value = value.func  # rebuilt lazily from the callable, as given
            if option in ("default", "db_default") and value is NOT_PROVIDED:
                continue
            if option in ("default", "db_default") or value != default:
                kwargs[option] = value
        klass = type(self)
        # Built-in fields are imported from ``orm``; a user's subclass from its module.
        builtin = klass.__module__.startswith("orm.")
        path = f"orm.{klass.__name__}" if builtin else f"{klass.__module__}.{klass.__qualname__}"
        return self.name, path, [], kwargs

    def clone(self) -> Field:
        """A new field built from :meth:`deconstruct` (not on any model)."""
        _, _, args, kwargs = self.deconstruct()
        return type(self)(*args, **kwargs)


#: (keyword, attribute, default) of every option ``Field.__init__`` takes but ``name``.
_OPTIONS: tuple[tuple[str, str, Any], ...] = (
    ("verbose_name", "_verbose_name", None),
    ("primary_key", "primary_key", False),
    ("max_length", "max_length", None),
    ("unique", "_unique", False),
    ("blank", "blank", False),
    ("null", "null", False),
    ("db_index", "db_index", False),
    ("default", "default", NOT_PROVIDED),
    ("editable", "editable", True),
    ("choices", "choices", None),
    ("help_text", "help_text", ""),
    ("db_column", "db_column", None),
    ("validators", "_validators", []),
    ("auto_created", "auto_created", False),
    ("db_default", "db_default", NOT_PROVIDED),
    ("db_comment", "db_comment", None),
)


def _check_choices_shape(choices: Any) -> None:
    """Refuse ``choices`` that are not ``(value, label)`` pairs or groups of them."""
    message = (
        "'choices' must be a mapping of actual values to human readable names or an iterable "
        "containing (actual value, human readable name) tuples; got {!r}."
    )
    if isinstance(choices, str) or not isinstance(choices, list):
        raise TypeError(message.format(choices))
    for item in choices:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(message.format(choices))
        label = item[1]
        if isinstance(label, list) and not all(
            isinstance(pair, tuple) and len(pair) == 2 and not isinstance(pair[1], list | tuple)
            for pair in label
        ):
            raise TypeError(message.format(choices))


def deep_deconstruct(value: Any) -> Any:
    """``value`` with everything that has ``deconstruct()`` replaced by its parts, recursively.

    A field becomes ``(path, args, kwargs)`` without its name, so
    ``deep_deconstruct(a) == deep_deconstruct(b)`` says whether two fields
    (or indexes, constraints, ``Q`` objects) are defined the same way; this
    is how migrations decide that a field was altered. Classes are kept as
    they are (they deconstruct to their import path when written).
    """
    if isinstance(value, list):
        return [deep_deconstruct(item) for item in value]
    if isinstance(value, tuple):
        return tuple(deep_deconstruct(item) for item in value)
    if isinstance(value, dict):
        return {key: deep_deconstruct(item) for key, item in value.items()}
    if isinstance(value, functools.partial):
        return (value.func, deep_deconstruct(value.args), deep_deconstruct(value.keywords))
    if isinstance(value, type) or not callable(getattr(value, "deconstruct", None)):
        return value
    parts = value.deconstruct()
    if isinstance(value, Field):
        parts = parts[1:]
    path, args, kwargs = parts
    return path, deep_deconstruct(list(args)), deep_deconstruct(kwargs)
