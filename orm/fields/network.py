"""``GenericIPAddressField``: IPv4/IPv6 addresses as text, normalized as Django does.

IPv6 addresses are stored compressed and lower-case (``2001:db8::1``), an
IPv4-mapped address as ``::ffff:192.0.2.1`` (or as the IPv4 address with
``unpack_ipv4=True``). The column is ``inet`` on PostgreSQL and
``char(39)`` on SQLite; a value that is not an address is refused before the
write on both, where PostgreSQL alone would refuse it otherwise.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal, Unpack, overload

from orm.abc import Connection
from orm.exceptions import DataError, ValidationError
from orm.fields.base import _GT, _ST, Expression, Field, FieldOptions
from orm.utils.text import short_repr

#: Longest text form of an IPv6 address (eight groups of four digits and seven colons).
MAX_IPV6_ADDRESS_LENGTH = 39
_PROTOCOL_NAMES = {"both": "IPv4 or IPv6", "ipv4": "IPv4", "ipv6": "IPv6"}


def clean_ipv6_address(ip_str: str, unpack_ipv4: bool = False) -> str:
    """``ip_str`` as a compressed, lower-case IPv6 address; ``ValidationError`` if it is none.

    As Django's ``django.utils.ipv6.clean_ipv6_address``: an IPv4-mapped
    address keeps its dotted tail (``::ffff:1.2.3.4``), or becomes the plain
    IPv4 address with ``unpack_ipv4``.
    """
    try:
        if len(ip_str) > MAX_IPV6_ADDRESS_LENGTH:
            raise ValueError("too long")
        address = ipaddress.IPv6Address(int(ipaddress.IPv6Address(ip_str)))
    except ValueError:
        raise ValidationError(
            "Enter a valid IPv6 address.", code="invalid", params={"protocol": "IPv6"}
        ) from None
    mapped = address.ipv4_mapped
    if mapped is not None:
        return str(mapped) if unpack_ipv4 else f"::ffff:{mapped}"
    return str(address)


def _is_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _is_ipv6(value: str) -> bool:
    try:
        if len(value) > MAX_IPV6_ADDRESS_LENGTH:
            return False
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _address_validator(protocol: str) -> Any:
    accepts = {"both": (_is_ipv4, _is_ipv6), "ipv4": (_is_ipv4,), "ipv6": (_is_ipv6,)}[protocol]
    name = _PROTOCOL_NAMES[protocol]

    def validate(value: Any) -> None:
        if not isinstance(value, str) or not any(check(value) for check in accepts):
            raise ValidationError(
                f"Enter a valid {name} address.",
                code="invalid",
                params={"protocol": name, "value": value},
            )

    return validate


class GenericIPAddressField(Field[_ST, _GT]):
    """An IPv4 or IPv6 address; ``protocol`` is ``"both"``, ``"ipv4"`` or ``"ipv6"``.

    ``unpack_ipv4=True`` (only with ``protocol="both"``) stores an
    IPv4-mapped IPv6 address as the IPv4 address. An empty string is stored
    as NULL, so ``blank=True`` needs ``null=True`` (Django's check fields.E150).
    """

    @overload
    def __init__(
        self: GenericIPAddressField[str | Expression, str],
        verbose_name: str | None = None,
        name: str | None = None,
        protocol: str = "both",
        unpack_ipv4: bool = False,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: GenericIPAddressField[str | Expression | None, str | None],
        verbose_name: str | None = None,
        name: str | None = None,
        protocol: str = "both",
        unpack_ipv4: bool = False,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        protocol: str = "both",
        unpack_ipv4: bool = False,
        **kwargs: Any,
    ) -> None:
        if not isinstance(protocol, str) or protocol.lower() not in _PROTOCOL_NAMES:
            raise ValueError(
                f"The protocol {short_repr(protocol)} is unknown. Supported: {list(_PROTOCOL_NAMES)}"
            )
        if protocol.lower() != "both" and unpack_ipv4:
            raise ValueError("You can only use `unpack_ipv4` if `protocol` is set to 'both'")
        if kwargs.get("blank") and not kwargs.get("null"):
            raise ValueError(
                "GenericIPAddressFields cannot have blank=True if null=False, "
                "as blank values are stored as nulls."
            )
        self.protocol = protocol
        self.unpack_ipv4 = unpack_ipv4
        kwargs["max_length"] = MAX_IPV6_ADDRESS_LENGTH
        super().__init__(verbose_name, name, **kwargs)
        self.validators.append(_address_validator(protocol.lower()))

    def get_internal_type(self) -> str:
        return "GenericIPAddressField"

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_length"]  # always 39, not an option here
        if self.unpack_ipv4 is not False:
            kwargs["unpack_ipv4"] = self.unpack_ipv4
        if self.protocol != "both":
            kwargs["protocol"] = self.protocol
        return name, path, args, kwargs

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        value = self._as_text(value).strip()
        if ":" in value:
            return clean_ipv6_address(value, self.unpack_ipv4)
        return value

    def _as_text(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return str(value)
        raise TypeError(
            f"Field {self.name!r} expected an IP address as a str (or an ipaddress object) "
            f"but got {type(value).__name__} {short_repr(value)}."
        )

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        value = self._as_text(value)
        if value and ":" in value:
            try:
                return clean_ipv6_address(value, self.unpack_ipv4)
            except ValidationError:
                pass  # a partial address in a lookup (``__startswith="fe80:"``) stays as given
        return value

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        # As Django: '' is stored as NULL (an inet column has no empty value).
        if isinstance(value, str) and not value:
            return None
        return value

    def check_write(self, value: Any, connection: Connection) -> None:
        if isinstance(value, str) and value and not (_is_ipv4(value) or _is_ipv6(value)):
            raise DataError(
                f"Value {short_repr(value)} for field {self.name!r} is not an IPv4 or IPv6 address; "
                "PostgreSQL's inet column refuses it, and so does every backend here."
            )
