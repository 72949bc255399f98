"""Django's ``django.db.models.lookups`` for orm: ``from orm.lookups import GreaterThan``.

The built-in lookup classes, for subclassing (custom lookups) and for using a
lookup directly as a condition, as Django allows: ``filter(GreaterThan(F("pages"),
300))`` or ``annotate(long=GreaterThan(F("pages"), 300))``. The classes live in
``orm.query.lookups``; this module is the public name.
"""

from orm.query.lookups import (
    Contains,
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IEndsWith,
    IExact,
    In,
    IRegex,
    IsNull,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
    Lookup,
    PatternLookup,
    Range,
    Regex,
    StartsWith,
    Transform,
)

__all__ = [
    "Contains",
    "EndsWith",
    "Exact",
    "GreaterThan",
    "GreaterThanOrEqual",
    "IContains",
    "IEndsWith",
    "IExact",
    "IRegex",
    "In",
    "IsNull",
    "IStartsWith",
    "LessThan",
    "LessThanOrEqual",
    "Lookup",
    "PatternLookup",
    "Range",
    "Regex",
    "StartsWith",
    "Transform",
]
