"""Integer, auto, float and decimal fields."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from typing import Any, Literal, Unpack, overload

from orm.abc import Connection
from orm.exceptions import DataError, ValidationError
from orm.fields.base import _GT, _ST, Expression, Field, FieldOptions
from orm.utils.text import short_repr, short_str

INTEGER_RANGES = {
    "SmallIntegerField": (-32768, 32767),
    "IntegerField": (-2147483648, 2147483647),
    "BigIntegerField": (-9223372036854775808, 9223372036854775807),
    "PositiveIntegerField": (0, 2147483647),
    "PositiveSmallIntegerField": (0, 32767),
    "PositiveBigIntegerField": (0, 9223372036854775807),
    "AutoField": (-2147483648, 2147483647),
    "BigAutoField": (-9223372036854775808, 9223372036854775807),
    "SmallAutoField": (-32768, 32767),
}


class IntegerField(Field[_ST, _GT]):
    """A 32-bit integer. Booleans and fractional floats are refused, never truncated."""

    @overload
    def __init__(
        self: IntegerField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: IntegerField[int | float | Decimal | str | Expression | None, int | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "IntegerField"

    @property
    def range(self) -> tuple[int, int]:
        """Inclusive (min, max) of the column type."""
        return INTEGER_RANGES[self.get_internal_type()]

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, bool):
            raise TypeError(
                f"Field {self.name!r} expected an integer but got a bool ({short_repr(value)})."
            )
        if isinstance(value, int):
            return value
        if isinstance(value, float | decimal.Decimal):
            if isinstance(value, float) and not math.isfinite(value):
                raise self.fail(value, "a number")
            if value != int(value):
                raise self.fail(value, "an integer (fractional values are not rounded)")
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise self.fail(value, "a number") from None
        raise TypeError(
            f"Field {self.name!r} expected a number but got {type(value).__name__} {short_repr(value)}."
        )

    def check_write(self, value: Any, connection: Connection) -> None:
        if isinstance(value, int):
            low, high = self.range
            if not low <= value <= high:
                raise DataError(
                    f"Value {short_str(value)} for field {self.name!r} is out of range for "
                    f"{self.get_internal_type()} ({low}..{high})."
                )


class SmallIntegerField(IntegerField[_ST, _GT]):
    """A 16-bit integer."""

    @overload
    def __init__(
        self: SmallIntegerField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: SmallIntegerField[int | float | Decimal | str | Expression | None, int | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def get_internal_type(self) -> str:
        return "SmallIntegerField"


class BigIntegerField(IntegerField[_ST, _GT]):
    """A 64-bit integer."""

    @overload
    def __init__(
        self: BigIntegerField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: BigIntegerField[int | float | Decimal | str | Expression | None, int | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def get_internal_type(self) -> str:
        return "BigIntegerField"


class PositiveIntegerField(IntegerField[_ST, _GT]):
    """An integer from 0 to 2**31-1 (a CHECK constraint enforces it too)."""

    @overload
    def __init__(
        self: PositiveIntegerField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveIntegerField[int | float | Decimal | str | Expression | None, int | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def get_internal_type(self) -> str:
        return "PositiveIntegerField"


class PositiveSmallIntegerField(IntegerField[_ST, _GT]):
    """An integer from 0 to 32767 (a CHECK constraint enforces it too)."""

    @overload
    def __init__(
        self: PositiveSmallIntegerField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveSmallIntegerField[
            int | float | Decimal | str | Expression | None, int | None
        ],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def get_internal_type(self) -> str:
        return "PositiveSmallIntegerField"


class PositiveBigIntegerField(IntegerField[_ST, _GT]):
    """An integer from 0 to 2**63-1 (a CHECK constraint enforces it too)."""

    @overload
    def __init__(
        self: PositiveBigIntegerField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveBigIntegerField[int | float | Decimal | str | Expression | None, int | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def get_internal_type(self) -> str:
        return "PositiveBigIntegerField"


class AutoField(IntegerField[_ST, _GT]):
    """An auto-incrementing 32-bit primary key."""

    def get_internal_type(self) -> str:
        return "AutoField"

    @overload
    def __init__(
        self: AutoField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: AutoField[int | float | Decimal | str | Expression | None, int | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blank"] = True
        kwargs.setdefault("primary_key", True)
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def rel_db_type(self, connection: Connection) -> str | None:
        return IntegerField().db_type(connection)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        del kwargs["blank"]  # always True, not an option here
        kwargs["primary_key"] = self.primary_key  # the default is True here
        return name, path, args, kwargs


class BigAutoField(AutoField[_ST, _GT]):
    """An auto-incrementing 64-bit primary key (the implicit ``id``)."""

    @overload
    def __init__(
        self: BigAutoField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: BigAutoField[int | float | Decimal | str | Expression | None, int | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def get_internal_type(self) -> str:
        return "BigAutoField"

    def rel_db_type(self, connection: Connection) -> str | None:
        return BigIntegerField().db_type(connection)


class SmallAutoField(AutoField[_ST, _GT]):
    """An auto-incrementing 16-bit primary key."""

    @overload
    def __init__(
        self: SmallAutoField[int | float | Decimal | str | Expression, int],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: SmallAutoField[int | float | Decimal | str | Expression | None, int | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def get_internal_type(self) -> str:
        return "SmallAutoField"

    def rel_db_type(self, connection: Connection) -> str | None:
        return SmallIntegerField().db_type(connection)


class FloatField(Field[_ST, _GT]):
    """A double-precision float. NaN and infinities are refused on every backend
    (SQLite would store NaN as NULL)."""

    @overload
    def __init__(
        self: FloatField[float | Decimal | str | Expression, float],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: FloatField[float | Decimal | str | Expression | None, float | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "FloatField"

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, bool):
            raise TypeError(
                f"Field {self.name!r} expected a number but got a bool ({short_repr(value)})."
            )
        try:
            result = float(value)
        except (TypeError, ValueError, OverflowError):
            raise self.fail(value, "a number that fits a double") from None
        if not math.isfinite(result):
            raise ValueError(
                f"Field {self.name!r} cannot store {short_repr(value)}: NaN and infinity are refused "
                "because SQLite would store them as NULL."
            )
        return result


class DecimalField(Field[_ST, _GT]):
    """A fixed-precision decimal. Extra places round half-even; too many digits raise."""

    def get_internal_type(self) -> str:
        return "DecimalField"

    @overload
    def __init__(
        self: DecimalField[Decimal | float | str | Expression, Decimal],
        verbose_name: str | None = None,
        name: str | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: DecimalField[Decimal | float | str | Expression | None, Decimal | None],
        verbose_name: str | None = None,
        name: str | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        **kwargs: Any,
    ) -> None:
        if max_digits is None or decimal_places is None:
            raise TypeError("DecimalField needs max_digits and decimal_places.")
        if decimal_places > max_digits:
            raise ValueError("DecimalField's decimal_places cannot exceed max_digits.")
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        self.quantum = decimal.Decimal(1).scaleb(-decimal_places)
        super().__init__(verbose_name, name, **kwargs)

    def db_type_params(self) -> dict[str, Any]:
        return {"max_digits": self.max_digits, "decimal_places": self.decimal_places}

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs["max_digits"] = self.max_digits
        kwargs["decimal_places"] = self.decimal_places
        return name, path, args, kwargs

    def to_python(self, value: Any) -> Any:
        if value is None:
            return value
        try:
            result = self.get_prep_value(value)
        except (TypeError, ValueError) as error:
            raise ValidationError(str(error), code="invalid") from error
        if isinstance(result, decimal.Decimal) and not result.is_finite():
            raise ValidationError(
                f"Field {self.name!r}: {short_repr(value)} is not a finite decimal.", code="invalid"
            )
        return result

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, bool):
            raise TypeError(
                f"Field {self.name!r} expected a decimal but got a bool ({short_repr(value)})."
            )
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValidationError(
                    f"Field {self.name!r}: {short_repr(value)} is not a finite decimal.",
                    code="invalid",
                )
            value = repr(value)
        try:
            result = decimal.Decimal(value)
        except (decimal.InvalidOperation, TypeError, ValueError):
            raise self.fail(value, "a decimal number") from None
        if not result.is_finite():
            raise ValidationError(
                f"Field {self.name!r}: {short_repr(value)} is not a finite decimal.", code="invalid"
            )
        return result

    def check_write(self, value: Any, connection: Connection) -> None:
        if isinstance(value, decimal.Decimal):
            quantized = value.quantize(self.quantum, rounding=decimal.ROUND_HALF_EVEN)
            digits = len(quantized.as_tuple().digits)
            integer_digits = max(digits - self.decimal_places, 0) if quantized else 0
            if integer_digits > self.max_digits - self.decimal_places:
                raise DataError(
                    f"Value {short_str(value)} for field {self.name!r} has too many digits: at most "
                    f"{self.max_digits - self.decimal_places} before the point "
                    f"(max_digits={self.max_digits}, decimal_places={self.decimal_places})."
                )

    def get_db_prep_save(self, value: Any, connection: Connection) -> Any:
        value = self.get_prep_value(value)
        if isinstance(value, decimal.Decimal):
            value = self._quantize_checked(value)
        return self.get_db_prep_value(value, connection, prepared=True)

    def _quantize_checked(self, value: decimal.Decimal) -> decimal.Decimal:
        # One quantize (half-even) and one digit check on its result.
        try:
            quantized = value.quantize(self.quantum, rounding=decimal.ROUND_HALF_EVEN)
        except decimal.InvalidOperation:
            quantized = None
        if quantized is None or (
            quantized and quantized.adjusted() >= self.max_digits - self.decimal_places
        ):
            raise DataError(
                f"Value {short_str(value)} for field {self.name!r} has too many digits: at most "
                f"{self.max_digits - self.decimal_places} before the point "
                f"(max_digits={self.max_digits}, decimal_places={self.decimal_places})."
            )
        return quantized

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, decimal.Decimal):
            return connection.ops.adapt_decimalfield_value(
                value, self.max_digits, self.decimal_places
            )
        return value
