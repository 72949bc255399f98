"""Custom lookups and transforms compile the same way on both dialects (compile-only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import orm
from orm import fields as f
from tests.sql.helpers import ASSERTED_SEPARATELY, assert_sql
from tests.sql.models import Tag


class NotEqual(orm.Lookup):
    lookup_name = "ne"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <> {rhs}", [*lhs_params, *rhs_params]


class Shout(orm.Transform):
    lookup_name = "shout"
    function = "UPPER"
    bilateral = True

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="%(function)s(%(expressions)s::text)")


@pytest.fixture
def registered() -> Iterator[None]:
    f.CharField.register_lookup(NotEqual)
    f.CharField.register_lookup(Shout)
    yield
    f.CharField._unregister_lookup(NotEqual)
    f.CharField._unregister_lookup(Shout)


HEAD = 'SELECT "shared_tag"."id", "shared_tag"."name" FROM "shared_tag" WHERE '


def test_sqlite(registered: None) -> None:
    assert_sql(Tag.objects.filter(name__ne="x"), HEAD + '"shared_tag"."name" <> %s', ["x"])
    assert_sql(
        Tag.objects.filter(name__shout__ne="x"),
        HEAD + 'UPPER("shared_tag"."name") <> UPPER(%s)',
        ["x"],
        postgresql=ASSERTED_SEPARATELY,
    )


def test_postgresql(registered: None, pg: Any) -> None:
    sql, params = (
        Tag.objects.filter(name__shout="x'; --").query.get_compiler(connection=pg).as_sql()
    )
    assert sql == HEAD + 'UPPER("shared_tag"."name"::text) = UPPER(%s::text)'
    assert list(params) == ["x'; --"]  # the value stays a parameter


def test_the_documented_replacements_of_extra(pg: Any) -> None:
    """docs/queries.md "QuerySet.extra() is left out": where=/select=/order_by= replacements."""
    qs = (
        Tag.objects.alias(ok=orm.RawSQL("name <> %s", ["x"], output_field=orm.BooleanField()))
        .filter(ok=True)
        .annotate(n=orm.RawSQL("length(name)", [], output_field=orm.IntegerField()))
        .order_by(orm.RawSQL("length(name)", []).desc())
    )
    expected = (
        'SELECT "shared_tag"."id", "shared_tag"."name", (length(name)) AS "n" FROM "shared_tag" '
        "WHERE (name <> %s) = %s ORDER BY (length(name)) DESC"
    )
    assert_sql(qs, expected, ["x", True])
    sql, params = qs.query.get_compiler(connection=pg).as_sql()
    assert sql == expected
    assert list(params) == ["x", True]


def test_func_takes_function_template_and_arg_joiner_per_call() -> None:
    """Django's ``Func(*expressions, **extra)``: the call's extra overrides the class attributes."""
    select = 'SELECT "shared_tag"."id", "shared_tag"."name", '
    name = '"shared_tag"."name"'
    assert_sql(
        Tag.objects.annotate(
            n=orm.Func("name", function="LENGTH", output_field=orm.IntegerField())
        ),
        f'{select}LENGTH({name}) AS "n" FROM "shared_tag"',
        postgresql=(f'{select}LENGTH({name}) AS "n" FROM "shared_tag"', []),
    )
    assert_sql(
        Tag.objects.annotate(
            n=orm.Func(
                "name",
                orm.Value("!"),
                template="(%(expressions)s)",
                arg_joiner=" || ",
                output_field=orm.CharField(),
            )
        ),
        f'{select}({name} || %s) AS "n" FROM "shared_tag"',
        ["!"],
    )
    # Any other key fills the template; a value stays a parameter.
    assert_sql(
        Tag.objects.annotate(
            n=orm.Func(
                "name",
                function="SUBSTR",
                template="%(function)s(%(expressions)s, %(start)s)",
                start=2,
                output_field=orm.CharField(),
            )
        ).filter(n="x"),
        f'{select}SUBSTR({name}, 2) AS "n" FROM "shared_tag" WHERE SUBSTR({name}, 2) = %s',
        ["x"],
    )


def test_func_extra_round_trips_through_deconstruct() -> None:
    func = orm.Func("name", function="LOWER", output_field=orm.CharField())
    path, args, kwargs = func.deconstruct()
    assert path == "orm.Func"
    assert kwargs["function"] == "LOWER"
    rebuilt = orm.Func(*args, **kwargs)
    assert rebuilt.extra == {"function": "LOWER"}
