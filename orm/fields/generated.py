"""``GeneratedField`` (Django 5.0): a column the database computes from the row's other columns.

The column is ``GENERATED ALWAYS AS (expression) STORED`` (``db_persist=True``)
or ``VIRTUAL`` (``db_persist=False``, SQLite only: PostgreSQL before 18 has
stored generated columns only). Writes never send it; an INSERT reads the
computed value back with RETURNING.

Compiling ``expression`` needs the query layer, which sits above this one:
``orm.query.generated`` installs :attr:`GeneratedField.expression_compiler`
when ``orm.query`` is imported (as lookups are registered onto field classes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Never, TypeVar, Unpack

from orm.abc import Connection
from orm.exceptions import NotSupportedError
from orm.fields.base import _GT, _ST, NOT_PROVIDED, Field, FieldOptions
from orm.utils.text import short_repr

#: The value type of the output field, which the generated attribute gives.
_Out = TypeVar("_Out")


class GeneratedField(Field[_ST, _GT]):
    """``GeneratedField(expression=..., output_field=..., db_persist=...)``, as Django's.

    ``expression`` may name columns of the same model (``F("price") *
    F("quantity")``) but no relation; ``output_field`` is a field instance
    giving the column type, conversions and lookups. The field is never
    editable nor has a default.
    """

    generated = True
    #: ``(field, connection) -> (sql, params)``, installed by ``orm.query.generated``.
    expression_compiler: ClassVar[Callable[[Any, Any], tuple[str, list[Any]]] | None] = None

    # Reads give the output field's type (``None`` included when it has
    # null=True); writes are refused by the checker (``Never``): the database
    # computes the column and an assigned value would never be saved.
    def __init__(
        self: GeneratedField[Never, _Out],
        *,
        expression: Any,
        output_field: Field[Any, _Out],
        db_persist: Any = None,
        **kwargs: Unpack[FieldOptions],
    ) -> None:
        if kwargs.setdefault("editable", False):
            raise ValueError("GeneratedField cannot be editable.")
        if not kwargs.setdefault("blank", True):
            raise ValueError("GeneratedField must be blank.")
        if kwargs.get("default", NOT_PROVIDED) is not NOT_PROVIDED:
            raise ValueError("GeneratedField cannot have a default.")
        if kwargs.get("db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            raise ValueError("GeneratedField cannot have a database default.")
        if db_persist not in (True, False):
            raise ValueError("GeneratedField.db_persist must be True or False.")
        if not isinstance(output_field, Field) or isinstance(output_field, GeneratedField):
            raise TypeError(
                f"GeneratedField's output_field must be a field instance such as orm.IntegerField(), "
                f"not {short_repr(output_field)}."
            )
        if not hasattr(expression, "resolve_expression"):
            raise TypeError(
                f"GeneratedField's expression must be an expression such as F('a') + F('b'), "
                f"not {short_repr(expression)}."
            )
        self.expression = expression
        self.output_field = output_field
        self.db_persist = db_persist
        super().__init__(**kwargs)

    def contribute_to_class(self, cls: Any, name: str) -> None:
        super().contribute_to_class(cls, name)
        # Its errors name the column it converts for (it stays on no model).
        self.output_field.set_attributes_from_name(name)

    # The output field decides the column type and every conversion.
    def get_internal_type(self) -> str:
        return self.output_field.get_internal_type()

    def db_type_params(self) -> dict[str, Any]:
        return self.output_field.db_type_params()

    def db_type(self, connection: Connection) -> str | None:
        return self.output_field.db_type(connection)

    def db_check(self, connection: Connection) -> str | None:
        return None  # the expression decides the value; a CHECK on it belongs in Meta.constraints

    def get_prep_value(self, value: Any) -> Any:
        return self.output_field.get_prep_value(value)

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        return self.output_field.get_db_prep_value(value, connection, prepared)

    def get_db_converters(self, connection: Connection) -> list[Callable[[Any, Any, Any], Any]]:
        return self.output_field.get_db_converters(connection)

    def to_python(self, value: Any) -> Any:
        return self.output_field.to_python(value)

    def get_lookup(self, name: str) -> Any:
        """Lookups of the output field's class (``__gt`` on a generated integer)."""
        return self.output_field.get_lookup(name)

    def get_transform(self, name: str) -> Any:
        """Transforms of the output field's class (``__year`` on a generated date)."""
        return self.output_field.get_transform(name)

    def generated_sql(self, connection: Connection) -> tuple[str, list[Any]]:
        """The expression as SQL for ``connection``, columns unqualified."""
        compiler = type(self).expression_compiler
        if compiler is None:  # pragma: no cover - orm.query is always imported with orm
            raise NotSupportedError(
                "GeneratedField needs orm.query imported to compile its expression."
            )
        if not self.db_persist and not connection.features.supports_virtual_generated_columns:
            raise NotSupportedError(
                f"GeneratedField {self.name!r}: {connection.vendor} supports stored generated columns "
                "only; use db_persist=True."
            )
        return compiler(self, connection)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        del kwargs["blank"]  # always True, not an option here
        del kwargs["editable"]  # always False
        kwargs["expression"] = self.expression
        kwargs["output_field"] = self.output_field
        kwargs["db_persist"] = self.db_persist
        return name, path, args, kwargs
