"""Custom lookups and transforms (docs/queries.md "Custom lookups and transforms"), both backends.

Registered as in Django: on a field class, on one field instance, or on a
transform; a bilateral transform applies to the value too. Values stay
parameters; the SQL shape is pinned per dialect.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import orm
from orm import fields as f

APP = "i17_lookups"


class Gadget(orm.Model):
    name = orm.CharField(max_length=30)
    size = orm.IntegerField()
    label = orm.CharField(max_length=30, default="")

    class Meta:
        app_label = APP


class NotEqual(orm.Lookup):
    lookup_name = "ne"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <> {rhs}", [*lhs_params, *rhs_params]


class Negated(orm.Transform):
    lookup_name = "neg"
    template = "(-%(expressions)s)"


class Doubled(orm.Transform):
    lookup_name = "doubled"
    function = "ABS"  # replaced per vendor below, to show as_<vendor>

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="(%(expressions)s * 2)")

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="(2 * %(expressions)s)")


class UpperCase(orm.Transform):
    lookup_name = "upper"
    function = "UPPER"
    bilateral = True


@pytest.fixture
def gadgets(backend: str) -> Iterator[str]:
    orm.create_tables(Gadget)
    Gadget.objects.bulk_create(
        [Gadget(name="Ab", size=1), Gadget(name="cd", size=2), Gadget(name="AB", size=3)]
    )
    yield backend


@pytest.fixture
def registered() -> Iterator[None]:
    f.Field.register_lookup(NotEqual)
    f.IntegerField.register_lookup(Negated)
    f.IntegerField.register_lookup(Doubled)
    f.CharField.register_lookup(UpperCase)
    yield
    f.Field._unregister_lookup(NotEqual)
    f.IntegerField._unregister_lookup(Negated)
    f.IntegerField._unregister_lookup(Doubled)
    f.CharField._unregister_lookup(UpperCase)


def _sizes(qs: Any) -> list[int]:
    return sorted(qs.values_list("size", flat=True))


def test_a_class_level_lookup_filters_on_both_backends(gadgets: str, registered: None) -> None:
    assert _sizes(Gadget.objects.filter(size__ne=2)) == [1, 3]
    assert _sizes(Gadget.objects.filter(name__ne="cd")) == [
        1,
        3,
    ]  # registered on Field: every field
    sql, params = Gadget.objects.filter(size__ne=2).query.sql_with_params()
    assert sql.endswith('"i17_lookups_gadget"."size" <> %s')
    assert list(params) == [2]


def test_transforms_chain_into_lookups(gadgets: str, registered: None) -> None:
    assert _sizes(Gadget.objects.filter(size__neg__lt=-1)) == [2, 3]
    assert _sizes(Gadget.objects.filter(size__neg=-3)) == [3]
    assert _sizes(Gadget.objects.filter(size__doubled__gte=4)) == [2, 3]
    sql, _ = Gadget.objects.filter(size__doubled__gte=4).query.sql_with_params()
    assert ("* 2)" in sql) if gadgets == "sqlite" else ("(2 *" in sql)


def test_bilateral_transform_applies_to_the_value_as_a_parameter(
    gadgets: str, registered: None
) -> None:
    assert _sizes(Gadget.objects.filter(name__upper="ab")) == [1, 3]
    sql, params = Gadget.objects.filter(name__upper="ab").query.sql_with_params()
    assert sql.endswith('UPPER("i17_lookups_gadget"."name") = UPPER(%s)')
    assert list(params) == ["ab"]


def test_bilateral_transform_with_a_pattern_lookup_is_refused(
    gadgets: str, registered: None
) -> None:
    with pytest.raises(orm.NotSupportedError, match="Bilateral transforms are not supported"):
        Gadget.objects.filter(name__upper__contains="a")


def test_instance_level_registration_affects_only_that_field(gadgets: str) -> None:
    size = Gadget._meta.get_field("size")
    size.register_lookup(Negated)
    try:
        assert _sizes(Gadget.objects.filter(size__neg=-2)) == [2]
        assert f.IntegerField.get_transform("neg") is None
        assert f.IntegerField().get_transform("neg") is None
    finally:
        size._unregister_lookup(Negated)
    with pytest.raises(orm.FieldError, match="Unsupported lookup or transform 'neg'"):
        Gadget.objects.filter(size__neg=-2)


def test_a_lookup_registered_on_a_transform(gadgets: str, registered: None) -> None:
    class Below(orm.Lookup):
        lookup_name = "below"
        prepare_rhs = False  # the value is a flag, not an integer of the field

        def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
            lhs, params = self.process_lhs(compiler, connection)
            return f"{lhs} < -1", params

    Negated.register_lookup(Below)
    try:
        assert _sizes(Gadget.objects.filter(size__neg__below=True)) == [2, 3]
        assert f.IntegerField.get_lookup("below") is None
    finally:
        Negated._unregister_lookup(Below)
    with pytest.raises(orm.FieldError):
        Gadget.objects.filter(size__neg__below=True)


def test_bad_registrations_say_what_to_fix() -> None:
    class Nameless(orm.Lookup):
        pass

    with pytest.raises(ValueError, match="lookup_name"):
        f.Field.register_lookup(Nameless)
    with pytest.raises(ValueError, match="cannot contain '__'"):
        f.Field.register_lookup(NotEqual, lookup_name="a__b")
    with pytest.raises(TypeError, match="not a Lookup or Transform"):
        f.Field.register_lookup(str, lookup_name="x")
    assert f.Field.get_lookup("a__b") is None
