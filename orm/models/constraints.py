"""``Index``, ``UniqueConstraint`` and ``CheckConstraint`` for ``Meta``.

Their DDL is produced here (the schema editor calls ``constraint_sql`` /
``create_sql``); names are quoted by the editor, CHECK conditions are
compiled from ``Q`` objects with values rendered by ``quote_value``.

Each one ``deconstruct()``s to ``(path, args, kwargs)`` holding every option
it was given, and two are equal when those are: what migrations write to
files and compare.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from orm.query.q import Q
from orm.query.query import Query
from orm.sql.compiler import DDLCompiler
from orm.utils.identifiers import check_alias

if TYPE_CHECKING:
    from orm.backends.base.schema import BaseDatabaseSchemaEditor
    from orm.models.base import Model

_PLACEHOLDER = re.compile(r"%%|%s")


class Index:
    """``Meta.indexes`` entry: ``Index(fields=["-created", "title"], name="...")``."""

    def __init__(
        self,
        *,
        fields: list[str] | tuple[str, ...] = (),
        name: str | None = None,
        condition: Q | None = None,
    ) -> None:
        if not fields:
            raise ValueError("Index needs at least one field name.")
        if not all(isinstance(f, str) for f in fields):
            raise TypeError("Index.fields must be field names.")
        if name is not None:
            check_alias(name)
        self.fields = list(fields)
        self.name = name
        self.condition = condition

    def get_name(self, model: type[Model], schema_editor: BaseDatabaseSchemaEditor) -> str:
        """The name given, or the one generated for ``model`` on the editor's backend.

        A generated name is not stored: it depends on the backend's name
        length limit, and the index must stay equal to how it was declared.
        """
        if self.name is not None:
            return self.name
        return str(schema_editor.make_name(model._meta.db_table, self.columns(model)[0], "idx"))

    def columns(self, model: type[Model]) -> tuple[list[str], list[str]]:
        """(columns, orders) of the indexed fields."""
        columns, orders = [], []
        for name in self.fields:
            descending = name.startswith("-")
            columns.append(model._meta.get_field(name.lstrip("-")).column)
            orders.append(" DESC" if descending else "")
        return columns, orders

    def create_sql(self, model: type[Model], schema_editor: BaseDatabaseSchemaEditor) -> str:
        """CREATE INDEX statement."""
        columns, orders = self.columns(model)
        condition = _condition_sql(model, self.condition, schema_editor) if self.condition else ""
        return str(
            schema_editor.index_sql(
                model,
                columns,
                "idx",
                name=self.get_name(model, schema_editor),
                condition=condition,
                orders=orders,
            )
        )

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``(path, args, kwargs)``: ``import path`` then ``cls(*args, **kwargs)`` rebuilds it."""
        kwargs: dict[str, Any] = {"fields": list(self.fields)}
        if self.name is not None:
            kwargs["name"] = self.name
        if self.condition is not None:
            kwargs["condition"] = self.condition
        return _path(self), (), kwargs

    def clone(self) -> Index:
        """A new, equal index built from :meth:`deconstruct`."""
        _, args, kwargs = self.deconstruct()
        return type(self)(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.deconstruct() == other.deconstruct()

    def __hash__(self) -> int:
        return hash((type(self), self.name, tuple(self.fields)))

    def __repr__(self) -> str:
        condition = f" condition={self.condition}" if self.condition is not None else ""
        return f"<Index: fields={self.fields!r} name={self.name!r}{condition}>"


class BaseConstraint:
    """Shared by the constraint classes: a validated name."""

    def __init__(self, name: str) -> None:
        if not name:
            raise ValueError("A constraint needs a name.")
        check_alias(name)
        self.name = name

    def constraint_sql(
        self, model: type[Model], schema_editor: BaseDatabaseSchemaEditor
    ) -> str | None:
        """Inline ``CONSTRAINT ...`` for CREATE TABLE, or None to use create_sql()."""
        raise NotImplementedError

    def create_sql(self, model: type[Model], schema_editor: BaseDatabaseSchemaEditor) -> str:
        """A separate statement creating the constraint."""
        raise NotImplementedError

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``(path, args, kwargs)``: ``import path`` then ``cls(*args, **kwargs)`` rebuilds it."""
        return _path(self), (), {"name": self.name}

    def clone(self) -> BaseConstraint:
        """A new, equal constraint built from :meth:`deconstruct`."""
        _, args, kwargs = self.deconstruct()
        return type(self)(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.deconstruct() == other.deconstruct()

    def __hash__(self) -> int:
        return hash((type(self), self.name))


class UniqueConstraint(BaseConstraint):
    """``UNIQUE (fields)``; with ``condition=Q(...)`` a partial unique index."""

    def __init__(
        self, *, fields: list[str] | tuple[str, ...], name: str, condition: Q | None = None
    ) -> None:
        super().__init__(name)
        if not fields:
            raise ValueError("UniqueConstraint needs fields.")
        self.fields = list(fields)
        self.condition = condition

    def constraint_sql(
        self, model: type[Model], schema_editor: BaseDatabaseSchemaEditor
    ) -> str | None:
        if self.condition is not None:
            return None
        columns = ", ".join(
            schema_editor.quote_name(model._meta.get_field(f).column) for f in self.fields
        )
        return f"CONSTRAINT {schema_editor.quote_name(self.name)} UNIQUE ({columns})"

    def create_sql(self, model: type[Model], schema_editor: BaseDatabaseSchemaEditor) -> str:
        columns = [model._meta.get_field(f).column for f in self.fields]
        return str(
            schema_editor.index_sql(
                model,
                columns,
                "uniq",
                name=self.name,
                unique=True,
                condition=_condition_sql(model, self.condition, schema_editor),
            )
        )

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        kwargs["fields"] = list(self.fields)
        if self.condition is not None:
            kwargs["condition"] = self.condition
        return path, args, kwargs

    def __repr__(self) -> str:
        condition = f" condition={self.condition}" if self.condition is not None else ""
        return f"<UniqueConstraint: fields={self.fields!r} name={self.name!r}{condition}>"


class CheckConstraint(BaseConstraint):
    """``CHECK (condition)`` from a ``Q`` object: ``CheckConstraint(condition=Q(price__gte=0), name=...)``."""

    def __init__(self, *, name: str, condition: Q | None = None, check: Q | None = None) -> None:
        super().__init__(name)
        condition = condition if condition is not None else check
        if not isinstance(condition, Q):
            raise TypeError("CheckConstraint needs condition=Q(...).")
        self.condition = condition

    def constraint_sql(
        self, model: type[Model], schema_editor: BaseDatabaseSchemaEditor
    ) -> str | None:
        sql = _condition_sql(model, self.condition, schema_editor)
        return f"CONSTRAINT {schema_editor.quote_name(self.name)} CHECK ({sql})"

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        kwargs["condition"] = self.condition  # the current name of ``check=``
        return path, args, kwargs

    def __repr__(self) -> str:
        return f"<CheckConstraint: condition={self.condition!r} name={self.name!r}>"


def _path(obj: object) -> str:
    """``orm.<Class>`` for the built-in classes, ``module.Class`` for subclasses."""
    klass = type(obj)
    if klass.__module__ == __name__:
        return f"orm.{klass.__name__}"
    return f"{klass.__module__}.{klass.__qualname__}"


def _condition_sql(
    model: type[Model], condition: Q | None, schema_editor: BaseDatabaseSchemaEditor
) -> str:
    """Compile ``condition`` against ``model`` with literals inlined (DDL takes no parameters)."""
    if condition is None:
        return ""
    query = Query(model)
    where = query.build_where(condition, allow_joins=False)
    compiler = DDLCompiler(query, schema_editor.connection)
    sql, params = compiler.compile(where)
    # Inline each literal at its placeholder, keeping '%%' (from quoted names)
    # and doubling '%' inside literals: the DDL still goes through placeholder
    # processing, which reads '%%' as '%'.
    literals = iter([str(schema_editor.quote_value(p)).replace("%", "%%") for p in params])
    return _PLACEHOLDER.sub(lambda m: m.group() if m.group() == "%%" else next(literals), sql)
