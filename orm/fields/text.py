"""Text fields: CharField, TextField, EmailField, SlugField, URLField."""

from __future__ import annotations

import re
from typing import Any, Literal, Unpack, overload

from orm.abc import Connection
from orm.exceptions import DataError, NotSupportedError, ValidationError
from orm.fields.base import _GT, _ST, Expression, Field, FieldOptions
from orm.utils.text import short_repr


class TextField(Field[_ST, _GT]):
    """Unbounded text. Only ``str`` is accepted (no ``str()`` coercion)."""

    @overload
    def __init__(
        self: TextField[str | Expression, str],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: TextField[str | Expression | None, str | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "TextField"

    def empty_strings_allowed(self) -> bool:
        return True

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                # PostgreSQL cannot bind text holding NUL at all, so a filter
                # value with one fails there; refusing it here makes SQLite
                # fail the same way instead of silently matching nothing.
                raise DataError(
                    f"Field {self.name!r} cannot store a NUL character (\\x00), and "
                    "PostgreSQL cannot compare one either; strip it or use a BinaryField."
                )
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as error:
                    raise DataError(
                        f"Field {self.name!r} got text that is not valid Unicode ({error.reason} "
                        f"at position {error.start}); lone surrogates cannot be stored or compared."
                    ) from None
            return value
        if value is None or hasattr(value, "resolve_expression"):
            return value
        raise TypeError(
            f"Field {self.name!r} expected a str but got {type(value).__name__} {short_repr(value)}; "
            "convert it explicitly."
        )

    def check_write(self, value: Any, connection: Connection) -> None:
        if not isinstance(value, str):
            return
        if "\x00" in value:
            raise DataError(
                f"Field {self.name!r} cannot store a NUL character (\\x00): PostgreSQL "
                "refuses it in text; strip it or use a BinaryField."
            )
        if self.max_length is not None and len(value) > self.max_length:
            raise DataError(
                f"Value for field {self.name!r} is {len(value)} characters long; "
                f"max_length is {self.max_length}."
            )


class CharField(TextField[_ST, _GT]):
    """Text of at most ``max_length`` characters, enforced before every write.

    Without ``max_length`` (Django 4.2+) the column is ``varchar`` with no
    length, which both SQLite and PostgreSQL accept; nothing limits the length.
    """

    def get_internal_type(self) -> str:
        return "CharField"

    @overload
    def __init__(
        self: CharField[str | Expression, str],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: CharField[str | Expression | None, str | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        max_length = kwargs.get("max_length")
        if max_length is not None and (
            isinstance(max_length, bool) or not isinstance(max_length, int) or max_length <= 0
        ):
            raise TypeError(
                f"CharField's max_length must be a positive integer (or omitted for no limit), "
                f"not {short_repr(max_length)}."
            )
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types

    def db_type(self, connection: Connection) -> str | None:
        if self.max_length is not None or self.get_internal_type() != "CharField":
            return super().db_type(connection)
        if not connection.features.supports_unlimited_charfield:
            raise NotSupportedError(
                f"CharField {self.name!r} has no max_length, which {connection.vendor} does not "
                "support; give it a max_length."
            )
        return "varchar"

    def run_validators(self, value: Any) -> None:
        if isinstance(value, str) and self.max_length is not None and len(value) > self.max_length:
            raise ValidationError(
                f"Ensure this value has at most {self.max_length} characters (it has {len(value)}).",
                code="max_length",
            )
        super().run_validators(value)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_URL = re.compile(r"^(?:http|ftp)s?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)


def _regex_validator(pattern: re.Pattern[str], message: str) -> Any:
    def validate(value: Any) -> None:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValidationError(message, code="invalid")

    return validate


class EmailField(CharField[_ST, _GT]):
    """A CharField (default max_length 254) validated as an e-mail address."""

    @overload
    def __init__(
        self: EmailField[str | Expression, str],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: EmailField[str | Expression | None, str | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types
        self.validators.append(_regex_validator(_EMAIL, "Enter a valid email address."))

    def get_internal_type(self) -> str:
        return "CharField"


class SlugField(CharField[_ST, _GT]):
    """A CharField (default max_length 50, indexed) of letters, digits, - and _."""

    @overload
    def __init__(
        self: SlugField[str | Expression, str],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: SlugField[str | Expression | None, str | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 50)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types
        self.validators.append(_regex_validator(_SLUG, "Enter a valid slug."))

    def get_internal_type(self) -> str:
        return "CharField"

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        # Relative to this class's defaults (max_length 50, indexed).
        if kwargs.get("max_length") == 50:
            del kwargs["max_length"]
        if self.db_index:
            kwargs.pop("db_index", None)
        else:
            kwargs["db_index"] = False
        return name, path, args, kwargs


class URLField(CharField[_ST, _GT]):
    """A CharField (default max_length 200) validated as an http(s)/ftp(s) URL."""

    @overload
    def __init__(
        self: URLField[str | Expression, str],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: URLField[str | Expression | None, str | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)  # type: ignore[misc]  # overloads bind concrete self types
        self.validators.append(_regex_validator(_URL, "Enter a valid URL."))

    def get_internal_type(self) -> str:
        return "CharField"

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 200:
            del kwargs["max_length"]
        return name, path, args, kwargs
