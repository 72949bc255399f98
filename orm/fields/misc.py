"""BooleanField, UUIDField, JSONField and BinaryField."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any, Literal, Unpack, overload
from uuid import UUID

from orm.abc import Connection
from orm.exceptions import DataError
from orm.fields.base import _GT, _ST, Expression, Field, FieldOptions, ModelInstance
from orm.utils.text import MAX_SHOWN, short_repr


class BooleanField(Field[_ST, _GT]):
    """True/False (``null=True`` allows None). Accepts bools and the integers 0/1."""

    @overload
    def __init__(
        self: BooleanField[bool | int | str | Expression, bool],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: BooleanField[bool | int | str | Expression | None, bool | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "BooleanField"

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, bool) or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "t", "f", "1", "0"):
            return value.lower() in ("true", "t", "1")
        raise self.fail(value, "a boolean")

    def validate(self, value: Any, model_instance: ModelInstance | None) -> None:
        if value is False:
            return  # False is not "blank"
        super().validate(value, model_instance)


class UUIDField(Field[_ST, _GT]):
    """A UUID (native ``uuid`` on PostgreSQL, 32 hex characters on SQLite)."""

    @overload
    def __init__(
        self: UUIDField[UUID | int | str | Expression, UUID],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: UUIDField[UUID | int | str | Expression | None, UUID | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "UUIDField"

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, uuid.UUID) or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return uuid.UUID(int=value)
            except ValueError:
                raise self.fail(value, "a UUID") from None
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                raise self.fail(value, "a UUID") from None
        raise TypeError(
            f"Field {self.name!r} expected a UUID but got {type(value).__name__} {short_repr(value)}."
        )

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, uuid.UUID):
            return connection.ops.adapt_uuidfield_value(value)
        return value


def _where(path: str) -> str:
    # The path is made of the document's own keys, which may be any size.
    if not path:
        return "top level"
    return path if len(path) <= MAX_SHOWN else short_repr(path)


def _refuse_nul(text: str, name: str, what: str, path: str) -> None:
    # jsonb cannot hold \u0000 in a string or a key; refusing it on every
    # backend keeps a document SQLite accepted from failing on PostgreSQL.
    if "\x00" in text:
        raise DataError(
            f"Field {name!r}: the {what} at {_where(path)} contains a NUL character "
            "(\\x00), which PostgreSQL's jsonb cannot hold; strip it or encode the data."
        )


def check_json(value: Any, name: str, path: str = "") -> None:
    """Refuse what is not storable JSON on every backend (before a write or a lookup).

    Walks once so the error names the offending key (``json.dumps`` alone
    would say only "not JSON serializable"): non-str keys, NaN and infinities
    (``TypeError``/``ValueError``), and NUL in a string or key (``DataError``).
    """
    if isinstance(value, str):
        _refuse_nul(value, name, "string", path)
        return
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(
                f"Field {name!r}: {short_repr(value)} at {_where(path)} is not valid JSON."
            )
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"Field {name!r}: JSON object keys must be str, got {short_repr(key)}."
                )
            _refuse_nul(key, name, f"key {short_repr(key)}", path)
            check_json(item, name, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_json(item, name, f"{path}[{index}]")
        return
    raise TypeError(
        f"Field {name!r}: {type(value).__name__} at {_where(path)} is not JSON "
        "serializable (use a list instead of a set, str for dates)."
    )


class JSONField(Field[_ST, _GT]):
    """A JSON document (``jsonb`` on PostgreSQL, validated text on SQLite).

    Python ``None`` is SQL NULL. NaN and infinities are refused; keys must be str.
    """

    def get_internal_type(self) -> str:
        return "JSONField"

    @overload
    def __init__(
        self: JSONField[Any, Any],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        encoder: type[json.JSONEncoder] | None = None,
        decoder: type[json.JSONDecoder] | None = None,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: JSONField[Any | None, Any | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        encoder: type[json.JSONEncoder] | None = None,
        decoder: type[json.JSONDecoder] | None = None,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(
        self,
        *args: Any,
        encoder: type[json.JSONEncoder] | None = None,
        decoder: type[json.JSONDecoder] | None = None,
        **kwargs: Any,
    ) -> None:
        self.encoder = encoder
        self.decoder = decoder
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.encoder is not None:
            kwargs["encoder"] = self.encoder
        if self.decoder is not None:
            kwargs["decoder"] = self.decoder
        return name, path, args, kwargs

    def get_prep_value(self, value: Any) -> Any:
        if value is not None and not hasattr(value, "resolve_expression") and self.encoder is None:
            check_json(value, self.name)
        return value

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or hasattr(value, "resolve_expression"):
            return value
        return connection.ops.adapt_json_value(value, self.encoder)

    def from_db_value(self, value: Any, expression: object, connection: Connection) -> Any:
        """Decode the stored JSON text."""
        if value is None or not isinstance(value, str | bytes):
            return value
        return json.loads(value, cls=self.decoder)


class BinaryField(Field[_ST, _GT]):
    """Raw bytes (``bytea`` / BLOB). Not editable by default, as in Django."""

    def get_internal_type(self) -> str:
        return "BinaryField"

    @overload
    def __init__(
        self: BinaryField[bytes | bytearray | memoryview | Expression, bytes],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryField[bytes | bytearray | memoryview | Expression | None, bytes | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        # Relative to this class's default, editable=False.
        if self.editable:
            kwargs["editable"] = True
        else:
            kwargs.pop("editable", None)
        return name, path, args, kwargs

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise TypeError(
            f"Field {self.name!r} expected bytes but got {type(value).__name__} {short_repr(value)}."
        )

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        return connection.ops.adapt_binaryfield_value(value) if value is not None else None

    def from_db_value(self, value: Any, expression: object, connection: Connection) -> Any:
        """Return ``bytes`` whatever buffer type the driver gives."""
        return bytes(value) if value is not None else None
