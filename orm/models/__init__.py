"""Models: the metaclass, ``_meta``, managers, relation descriptors, deletion, constraints."""

from orm.fields.choices import Choices, IntegerChoices, TextChoices
from orm.models.base import DEFERRED, Model
from orm.models.constraints import CheckConstraint, Index, UniqueConstraint
from orm.models.deletion import CASCADE, DO_NOTHING, PROTECT, RESTRICT, SET_DEFAULT, SET_NULL
from orm.models.manager import BaseManager, Manager
from orm.models.registry import Apps
from orm.models.schema import acreate_tables, adrop_tables, create_tables, drop_tables

__all__ = [
    "CASCADE",
    "DEFERRED",
    "DO_NOTHING",
    "PROTECT",
    "RESTRICT",
    "SET_DEFAULT",
    "SET_NULL",
    "Apps",
    "BaseManager",
    "CheckConstraint",
    "Choices",
    "Index",
    "IntegerChoices",
    "Manager",
    "Model",
    "TextChoices",
    "UniqueConstraint",
    "acreate_tables",
    "adrop_tables",
    "create_tables",
    "drop_tables",
]
