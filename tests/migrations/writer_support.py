"""Module-level values a migration file refers to by import path (writer tests)."""

from __future__ import annotations

import enum
import json
from typing import Any

import orm


class Color(enum.Enum):
    """An enum whose members are written as ``Color["RED"]``."""

    RED = "r"
    GREEN = "g"


class Level(enum.IntEnum):
    """An int enum (written by member name too)."""

    LOW = 1
    HIGH = 2


def not_blank(value: Any) -> None:
    """A validator function."""
    if not str(value).strip():
        raise orm.ValidationError("blank")


def default_title() -> str:
    """A callable default."""
    return "untitled"


def scaled(value: int, factor: int = 1) -> int:
    """A function used through functools.partial."""
    return value * factor


class Defaults:
    """A class whose classmethod is a default."""

    @classmethod
    def tags(cls) -> list[str]:
        """The default tags."""
        return []


class Encoder(json.JSONEncoder):
    """A JSONField encoder."""


class Decoder(json.JSONDecoder):
    """A JSONField decoder."""


class Mixin:
    """A model mixin (a base of a CreateModel)."""


class BookManager(orm.Manager):  # type: ignore[type-arg]
    """A manager historical models keep."""

    use_in_migrations = True


class UpperCharField(orm.CharField):
    """A project's own field class (written with its module path)."""


def forwards(apps: Any, schema_editor: Any) -> None:
    """A RunPython function."""
