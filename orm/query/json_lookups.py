"""JSON keys (``data__a__b``) and the lookups of a JSONField or of one of its keys.

A key transform never puts a key into SQL text: the backend binds the key path
as parameters (CVE-2019-14234). Past a JSON field every ``__`` part is a key
unless it names a lookup: ``exact``, ``isnull``, the text and ordering
lookups, ``in``, and the JSON lookups ``has_key``, ``has_keys``,
``has_any_keys``, ``contains`` and ``contained_by`` (a key spelled like one of
them is reached with ``__exact``, e.g. ``data__contains__exact="x"``).

Every value compared with a JSON document or key is checked first as a
written one would be (``check_json``): NUL characters, NaN and non-str keys
fail the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.exceptions import EmptyResultSet, NotSupportedError
from orm.fields.misc import check_json
from orm.query import json_vendor as vendor
from orm.query.expressions import SQLParams
from orm.query.lookups import (
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
    Regex,
    StartsWith,
    Transform,
)


class KeyTransform(Transform):
    """``data__key``: one key (or array index) of a JSON value; the key is a parameter."""

    _output_field: f.Field = f.JSONField()

    def __init__(self, key_name: str, lhs: Any) -> None:
        super().__init__(lhs)
        if not isinstance(key_name, str):
            raise TypeError("JSON keys must be str.")
        self.key_name = key_name

    def key_path(self) -> tuple[Any, list[str]]:
        """(the JSON column expression, the keys from outermost to innermost)."""
        keys = [self.key_name]
        lhs = self.lhs
        while isinstance(lhs, KeyTransform):
            keys.insert(0, lhs.key_name)
            lhs = lhs.lhs
        return lhs, keys

    def label(self) -> str:
        """``data__a__b``: how the user wrote the key path, for error messages."""
        base, keys = self.key_path()
        target = getattr(base, "target", None)
        return "__".join([getattr(target, "name", None) or "JSON", *keys])

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        base, keys = self.key_path()
        sql, params = compiler.compile(base)
        return connection.ops.json_key_sql(sql, params, keys, as_json=False)

    def as_order_by(self, compiler: Compiler, connection: Connection) -> SQLParams:
        """The key as ``ORDER BY`` compares it (``OrderBy`` asks): its JSON value."""
        base, keys = self.key_path()
        sql, params = compiler.compile(base)
        return connection.ops.json_key_order_sql(sql, list(params), keys)

    def select_format(self, compiler: Compiler, sql: str, params: list[Any]) -> SQLParams:
        base, keys = self.key_path()
        base_sql, base_params = compiler.compile(base)
        return compiler.connection.ops.json_key_sql(base_sql, base_params, keys, as_json=True)


class KeyTextTransform(KeyTransform):
    """A key's value as text, as Django's ``KeyTextTransform`` (PostgreSQL's ``->>``).

    ``KT("data__owner__name")`` builds one from a path. Strings, numbers and
    nested documents read as text on both backends; JSON booleans read
    ``'true'``/``'false'`` on SQLite too (its ``json_extract`` gives 1/0).
    """

    _output_field = f.TextField()

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        base, keys = self.key_path()
        sql, params = compiler.compile(base)
        ops = vendor.sqlite_ops(connection)
        type_sql, type_params = ops.json_expr(sql, list(params), keys, "type")
        value_sql, value_params = ops.json_expr(sql, list(params), keys, "value")
        return (
            f"CASE {type_sql} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            f"ELSE CAST({value_sql} AS TEXT) END",
            [*type_params, *value_params],
        )

    def select_format(self, compiler: Compiler, sql: str, params: list[Any]) -> SQLParams:
        return sql, params  # already text: not the JSON document KeyTransform selects

    def as_order_by(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return compiler.compile(self)  # text orders as text

    @classmethod
    def from_lookup(cls, lookup: str) -> KeyTextTransform:
        """``"data__a__b"`` -> the text of key ``b`` of key ``a`` of ``data``."""
        if not isinstance(lookup, str):
            raise TypeError(f"KT() takes a 'field__key' path, got {lookup!r}.")
        field, *keys = lookup.split("__")
        if not keys:
            raise ValueError("Lookup must contain key or index transforms.")
        transform: Any = field
        for key in keys[:-1]:
            transform = KeyTransform(key, transform)
        return cls(keys[-1], transform)


#: ``KT("data__owner__name")``: Django's shortcut for a key's text.
KT = KeyTextTransform.from_lookup


class JSONExact(Exact):
    """``data=value``; ``data=None`` matches a JSON ``null`` document, not SQL NULL.

    As in Django: ``data__isnull=True`` finds SQL NULL, ``data=None`` (and
    ``Value(None, JSONField())`` when saving) means the JSON null.
    """

    can_use_none_as_rhs = True

    def get_db_prep_lookup(self, value: object, connection: Connection) -> Any:
        if value is None:
            return connection.ops.adapt_json_value(None, getattr(self.lhs_field, "encoder", None))
        return super().get_db_prep_lookup(value, connection)

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return Lookup.as_sql(self, compiler, connection)  # never "IS NULL"


def _unsupported(connection: Connection) -> NotSupportedError:
    """The error of a JSON key lookup on a backend without an ``as_<vendor>`` for it."""
    return NotSupportedError(f"JSON key lookups are not supported on {connection.display_name}.")


def _label(lhs: Any) -> str:
    if isinstance(lhs, KeyTransform):
        return lhs.label()
    return str(
        getattr(getattr(lhs, "target", None), "name", None) or getattr(lhs.output_field, "name", "")
    )


def _check_value(lhs: Any, value: Any) -> None:
    """Refuse a value no stored JSON could equal (NUL, NaN, non-str keys) before SQL."""
    if value is not None and not hasattr(value, "resolve_expression"):
        check_json(value, _label(lhs))


class KeyTransformExact(Lookup):
    """``data__key=value``: compares the key's JSON value with ``value``.

    A key holding JSON null is unequal to any other value (so ``exclude()``
    keeps it, as on PostgreSQL); a missing key compares as unknown.
    """

    lookup_name = "exact"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        _check_value(self.lhs, self.rhs)
        return self.rhs

    # data__key=None matches a JSON null value (a missing key is __isnull=True).
    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        raise _unsupported(connection)

    def as_sqlite(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return vendor.sqlite_key_exact(vendor.sqlite_ops(connection), compiler, self.lhs, self.rhs)

    def as_postgresql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return vendor.pg_key_exact(vendor.postgres_ops(connection), compiler, self.lhs, self.rhs)


class KeyTransformIsNull(IsNull):
    """``data__key__isnull=True``: the key is absent."""

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        raise _unsupported(connection)

    def as_sqlite(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return vendor.sqlite_key_isnull(vendor.sqlite_ops(connection), compiler, self.lhs, self.rhs)

    def as_postgresql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return vendor.pg_key_isnull(vendor.postgres_ops(connection), compiler, self.lhs, self.rhs)


class _KeyTextMixin(Lookup):
    """Text and ordering lookups on a JSON key compare the key's scalar value.

    Mixed in before a lookup class (``_key_lookup``); a ``Lookup`` itself so
    it is typed as one, which leaves the MRO as it was (``Lookup`` comes last).
    """

    def get_prep_lookup(self) -> Any:
        _check_value(self.lhs, self.rhs)
        return self.rhs

    def get_db_prep_lookup(self, value: object, connection: Connection) -> Any:
        return connection.ops.json_scalar_param(value)


class _KeyCompareMixin(_KeyTextMixin):
    """gt/gte/lt/lte on a JSON key: PostgreSQL compares jsonb values (numbers as numbers)."""

    def as_postgresql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if hasattr(self.rhs, "as_sql"):
            return self.as_sql(compiler, connection)
        return vendor.pg_key_compare(
            vendor.postgres_ops(connection), compiler, self.lhs, self.lookup_name, self.rhs
        )


class KeyTransformIn(_KeyTextMixin, In):
    """``data__key__in=[...]``: the key's JSON value equals one of the values (as ``exact``)."""

    def get_prep_lookup(self) -> Any:
        rhs = self.rhs
        if hasattr(rhs, "resolve_expression") or hasattr(rhs, "query"):
            return rhs
        if isinstance(rhs, str | bytes) or not hasattr(rhs, "__iter__"):
            raise TypeError(f"The 'in' lookup needs an iterable of values, got {rhs!r}.")
        values = list(rhs)
        for value in values:
            _check_value(self.lhs, value)
        return values

    def _plain_values(self) -> bool:
        # Expressions in the list (or a subquery) compare as the ordinary IN does.
        if not self.rhs_is_direct_value() or any(hasattr(v, "as_sql") for v in self.rhs):
            return False
        if not self.rhs:
            raise EmptyResultSet
        return True

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if not self._plain_values():
            return super().as_sql(compiler, connection)
        raise _unsupported(connection)

    def as_sqlite(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if not self._plain_values():
            return super().as_sql(compiler, connection)
        return vendor.sqlite_key_in(
            vendor.sqlite_ops(connection), compiler, self.lhs, list(self.rhs)
        )

    def as_postgresql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        if not self._plain_values():
            return super().as_sql(compiler, connection)
        return vendor.pg_key_in(vendor.postgres_ops(connection), compiler, self.lhs, list(self.rhs))


def _key_lookup(base: type[Lookup], mixin: type[Lookup] = _KeyTextMixin) -> type[Lookup]:
    return type(f"KeyTransform{base.__name__}", (mixin, base), {"__doc__": base.__doc__})


# -- lookups of a whole document (or of a key holding one) -------------------------


class HasKey(Lookup):
    """``data__has_key="k"``: the object has the key ``k`` (a key of digits too;
    arrays and scalars have no keys). Nested: ``data__a__has_key="k"``."""

    lookup_name = "has_key"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        if not isinstance(self.rhs, str):
            raise TypeError(f"{self.lookup_name} needs a str key, got {self.rhs!r}.")
        return self.rhs

    def keys(self) -> list[str]:
        """The keys to look for."""
        return [self.rhs]

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        raise NotSupportedError(
            f"{self.lookup_name} is not supported on {connection.display_name}."
        )

    def as_sqlite(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return vendor.sqlite_has_keys(
            vendor.sqlite_ops(connection),
            compiler,
            self.lhs,
            self.keys(),
            self.lookup_name != "has_any_keys",
        )

    def as_postgresql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return vendor.pg_has_keys(
            vendor.postgres_ops(connection),
            compiler,
            self.lhs,
            self.keys(),
            self.lookup_name != "has_any_keys",
        )


class HasKeys(HasKey):
    """``data__has_keys=["a", "b"]``: the object has every one of the keys."""

    lookup_name = "has_keys"

    def get_prep_lookup(self) -> Any:
        keys = self.rhs
        if isinstance(keys, str | bytes) or not isinstance(keys, list | tuple | set | frozenset):
            raise TypeError(f"{self.lookup_name} needs a list of str keys, got {keys!r}.")
        keys = list(keys)
        if not keys:
            raise ValueError(f"{self.lookup_name} needs at least one key.")
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(
                    f"{self.lookup_name} needs a list of str keys; {key!r} is not a str."
                )
        return keys

    def keys(self) -> list[str]:
        return list(self.rhs)


class HasAnyKeys(HasKeys):
    """``data__has_any_keys=["a", "b"]``: the object has at least one of the keys."""

    lookup_name = "has_any_keys"


class DataContains(Lookup):
    """``data__contains={...}``: JSON containment (jsonb ``@>``; PostgreSQL only)."""

    lookup_name = "contains"
    prepare_rhs = False
    contained_by = False

    def get_prep_lookup(self) -> Any:
        _check_value(self.lhs, self.rhs)
        return self.rhs

    def as_sql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        raise NotSupportedError(
            f"{self.lookup_name} on a JSONField needs PostgreSQL (jsonb containment); "
            f"{connection.display_name} has no equivalent. Compare keys instead, e.g. "
            "data__key=value or data__has_keys=[...]."
        )

    def as_postgresql(self, compiler: Compiler, connection: Connection) -> SQLParams:
        return vendor.pg_containment(
            vendor.postgres_ops(connection), compiler, self.lhs, self.rhs, self.contained_by
        )


class ContainedBy(DataContains):
    """``data__contained_by={...}``: the document is contained in the value (``<@``)."""

    lookup_name = "contained_by"
    contained_by = True


_DOCUMENT_LOOKUPS: tuple[type[Lookup], ...] = (
    HasKey,
    HasKeys,
    HasAnyKeys,
    DataContains,
    ContainedBy,
)

#: The lookups of a key transform (the JSON field's own lookups are registered on it).
KEY_TRANSFORM_LOOKUPS: dict[str, type[Lookup]] = {
    cls.lookup_name: _key_lookup(cls)
    for cls in (IExact, IContains, StartsWith, IStartsWith, EndsWith, IEndsWith, Regex, IRegex)
}
KEY_TRANSFORM_LOOKUPS.update(
    {
        cls.lookup_name: _key_lookup(cls, _KeyCompareMixin)
        for cls in (GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual)
    }
)
KEY_TRANSFORM_LOOKUPS["exact"] = KeyTransformExact
KEY_TRANSFORM_LOOKUPS["isnull"] = KeyTransformIsNull
KEY_TRANSFORM_LOOKUPS["in"] = KeyTransformIn
# As in Django, ``contains`` past a key is JSON containment, not a substring
# match (``icontains`` still matches text).
KEY_TRANSFORM_LOOKUPS.update({cls.lookup_name: cls for cls in _DOCUMENT_LOOKUPS})

for _lookup in (*_DOCUMENT_LOOKUPS, JSONExact):
    f.JSONField.register_lookup(_lookup)

__all__ = [
    "KEY_TRANSFORM_LOOKUPS",
    "ContainedBy",
    "DataContains",
    "HasAnyKeys",
    "HasKey",
    "HasKeys",
    "JSONExact",
    "KT",
    "KeyTextTransform",
    "KeyTransform",
]
