"""Model field classes."""

from orm.fields.base import NOT_PROVIDED, DatabaseDefault, Field, deep_deconstruct
from orm.fields.choices import Choices, IntegerChoices, TextChoices
from orm.fields.generated import GeneratedField
from orm.fields.misc import BinaryField, BooleanField, JSONField, UUIDField
from orm.fields.network import GenericIPAddressField
from orm.fields.numeric import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    DecimalField,
    FloatField,
    IntegerField,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallAutoField,
    SmallIntegerField,
)
from orm.fields.related import (
    ForeignKey,
    ForeignObjectRel,
    ManyToManyField,
    ManyToManyRel,
    ManyToOneRel,
    OneToOneField,
    OneToOneRel,
)
from orm.fields.temporal import DateField, DateTimeField, DurationField, TimeField
from orm.fields.text import CharField, EmailField, SlugField, TextField, URLField

__all__ = [
    "NOT_PROVIDED",
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BinaryField",
    "BooleanField",
    "CharField",
    "Choices",
    "DatabaseDefault",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "DurationField",
    "EmailField",
    "Field",
    "FloatField",
    "ForeignKey",
    "ForeignObjectRel",
    "GeneratedField",
    "GenericIPAddressField",
    "IntegerChoices",
    "IntegerField",
    "JSONField",
    "ManyToManyField",
    "ManyToManyRel",
    "ManyToOneRel",
    "OneToOneField",
    "OneToOneRel",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallAutoField",
    "SmallIntegerField",
    "TextChoices",
    "TextField",
    "TimeField",
    "URLField",
    "UUIDField",
    "deep_deconstruct",
]
