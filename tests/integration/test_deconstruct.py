"""``deconstruct()`` rebuilds every field, index and constraint exactly (issue 12 item 6).

For each field class and each of its options: ``deconstruct()`` -> import the
path -> call it with the args and kwargs gives a field with the same
deconstruction and the same option attributes, and on an equivalent model in a
fresh registry it produces the same CREATE TABLE / CREATE INDEX statements,
on both backends. The same for ``Index``, ``UniqueConstraint`` and
``CheckConstraint`` (whose conditions are ``Q`` objects), and ``Field``'s
``__eq__`` / ``__lt__`` / ``__hash__`` behave as Django's.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import inspect
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import orm
from orm import Q
from orm import fields as orm_fields
from orm.fields import deep_deconstruct
from orm.models.registry import Apps

APP = "i12_dec"


def must_not_be_blank(value: Any) -> None:
    """A user validator (validators are part of a field's definition)."""
    if value == "":
        raise orm.ValidationError("blank")


class TaggedEncoder(json.JSONEncoder):
    """A JSON encoder given to JSONField(encoder=...)."""


class TaggedDecoder(json.JSONDecoder):
    """A JSON decoder given to JSONField(decoder=...)."""


class MoneyField(orm.DecimalField):
    """A user subclass: it deconstructs to this module's path."""


# --------------------------------------------------------------- the cases

Options = dict[str, Any]
COMMON: list[Options] = [
    {},
    {"null": True},
    {"blank": True},
    {"unique": True},
    {"db_index": True},
    {"editable": False},
    {"help_text": "shown in forms"},
    {"db_column": "subject_col"},
    {"verbose_name": "the subject"},
    {"validators": [must_not_be_blank]},
    {"null": True, "blank": True, "unique": True, "db_column": "both", "verbose_name": "x"},
]
CHOICES = {"choices": [(1, "one"), (2, "two")]}
AUTO: list[Options] = [
    {},
    {"verbose_name": "ID"},
    {"db_column": "ident"},
    {"help_text": "key"},
    {"primary_key": True, "auto_created": True, "verbose_name": "ID"},
]
TEMPORAL: list[Options] = [
    {"auto_now": True},
    {"auto_now_add": True},
    {"auto_now": True, "null": True},
    {"auto_now_add": True, "db_index": True},
]
ON_DELETE: list[Options] = [
    {"on_delete": orm.CASCADE},
    {"on_delete": orm.PROTECT},
    {"on_delete": orm.RESTRICT},
    {"on_delete": orm.DO_NOTHING},
    {"on_delete": orm.SET_NULL, "null": True},
    {"on_delete": orm.SET_DEFAULT, "default": 1},
]


def relation_cases(to_field: bool) -> list[Options]:
    """Options of ForeignKey / OneToOneField, each with a ``to`` and ``on_delete``."""
    cases: list[Options] = []
    for to in ("Target", f"{APP}.Target", f"{APP}.target", "self", "TARGET_CLASS"):
        cases.append({"to": to, "on_delete": orm.CASCADE})
    cases += [{"to": "Target", **options} for options in ON_DELETE]
    for options in COMMON:
        if "validators" not in options:
            cases.append({"to": "Target", "on_delete": orm.CASCADE, **options})
    cases += [
        {"to": "Target", "on_delete": orm.CASCADE, "related_name": "hosts"},
        {"to": "Target", "on_delete": orm.CASCADE, "related_name": "+"},
        {"to": "Target", "on_delete": orm.CASCADE, "related_query_name": "host_q"},
        {"to": "self", "on_delete": orm.CASCADE, "related_name": "children", "null": True},
        {"to": "Target", "on_delete": orm.CASCADE, "db_constraint": False},
        {"to": "Target", "on_delete": orm.CASCADE, "db_index": False},
        {"to": "Target", "on_delete": orm.CASCADE, "db_index": False, "db_constraint": False},
    ]
    if to_field:
        cases.append({"to": "Target", "on_delete": orm.CASCADE, "to_field": "code"})
    return cases


FIELD_CASES: dict[type[orm.Field], list[Options]] = {
    orm.AutoField: AUTO,
    orm.BigAutoField: AUTO,
    orm.SmallAutoField: AUTO,
    orm.SmallIntegerField: [*COMMON, {"default": 7}, CHOICES, {"primary_key": True}],
    orm.IntegerField: [
        *COMMON,
        {"default": 0},
        {"default": 7, "null": True},
        CHOICES,
        {"primary_key": True},
        {"db_default": 0},
        {"default": 1, "db_default": 2},
        {"db_comment": "count"},
    ],
    orm.BigIntegerField: [*COMMON, {"default": 2**40}, CHOICES],
    orm.PositiveIntegerField: [*COMMON, {"default": 3}, CHOICES],
    orm.GeneratedField: [
        {
            "expression": orm.F("label"),
            "output_field": orm.CharField(max_length=5),
            "db_persist": True,
        },
        {
            "expression": orm.Upper(orm.F("label")),
            "output_field": orm.CharField(max_length=5),
            "db_persist": True,
            "null": True,
            "db_comment": "shouted",
            "verbose_name": "loud",
        },
        {
            "expression": orm.Length(orm.F("label")) + 1,
            "output_field": orm.IntegerField(),
            "db_persist": True,
        },
    ],
    orm.PositiveSmallIntegerField: [*COMMON, {"default": 3}, CHOICES, {"db_default": 4}],
    orm.PositiveBigIntegerField: [
        *COMMON,
        {"default": 2**40},
        {"db_default": 2**40, "db_comment": "big"},
    ],
    orm.GenericIPAddressField: [
        *[o for o in COMMON if not o.get("blank") or o.get("null")],
        {"protocol": "ipv4"},
        {"protocol": "IPv6", "null": True, "blank": True},
        {"unpack_ipv4": True},
        {"default": "127.0.0.1"},
        {"db_default": "::1"},
    ],
    orm.FloatField: [*COMMON, {"default": 1.5}],
    orm.DecimalField: [{"max_digits": 7, "decimal_places": 2, **o} for o in COMMON]
    + [
        {"max_digits": 10, "decimal_places": 0},
        {"max_digits": 5, "decimal_places": 5},
        {"max_digits": 8, "decimal_places": 2, "default": 0},
        {"max_digits": 8, "decimal_places": 2, "default": decimal.Decimal("1.50")},
    ],
    orm.BooleanField: [*COMMON, {"default": True}, {"default": False}],
    orm.CharField: [{"max_length": 20, **o} for o in COMMON]
    + [
        {"max_length": 1},
        {"max_length": 20, "default": "x"},
        {"max_length": 5, "choices": [("a", "A"), ("b", "B")]},
        {"max_length": 20, "primary_key": True},
        {},
        {"null": True, "db_default": "x"},
        {"max_length": 9, "db_default": "it's", "db_comment": "a 'note'"},
        {"max_length": 5, "choices": {"a": "A", "Group": {"b": "B"}}},
        {"max_length": 5, "db_default": orm.Lower(orm.Value("AB"))},
    ],
    orm.TextField: [*COMMON, {"max_length": 500}, {"default": ""}],
    orm.EmailField: [*COMMON, {"max_length": 100}, {"max_length": 254}],
    orm.SlugField: [
        *COMMON,
        {"max_length": 80},
        {"max_length": 50},
        {"db_index": False},
        {"db_index": False, "unique": True},
    ],
    orm.URLField: [*COMMON, {"max_length": 300}, {"max_length": 200}],
    orm.UUIDField: [*COMMON, {"default": uuid.uuid4}, {"primary_key": True, "default": uuid.uuid4}],
    orm.DateField: [*COMMON, *TEMPORAL, {"default": datetime.date(2024, 1, 2)}],
    orm.DateTimeField: [*COMMON, *TEMPORAL],
    orm.TimeField: [*COMMON, *TEMPORAL, {"default": datetime.time(12, 30)}],
    orm.DurationField: [*COMMON, {"default": datetime.timedelta(days=1)}],
    orm.JSONField: [
        *COMMON,
        {"default": dict},
        {"encoder": TaggedEncoder},
        {"decoder": TaggedDecoder},
        {"encoder": TaggedEncoder, "decoder": TaggedDecoder, "null": True},
    ],
    orm.BinaryField: [*COMMON, {"editable": True}, {"default": b""}, {"max_length": 16}],
    orm.ForeignKey: relation_cases(to_field=True),
    orm.OneToOneField: [
        *relation_cases(to_field=True),
        {"to": "Target", "on_delete": orm.CASCADE, "primary_key": True},
    ],
    orm.ManyToManyField: [
        {"to": "Target"},
        {"to": f"{APP}.Target"},
        {"to": "TARGET_CLASS"},
        {"to": "self"},
        {"to": "Target", "related_name": "hosts"},
        {"to": "Target", "related_name": "+"},
        {"to": "Target", "related_query_name": "host_q"},
        {"to": "Target", "blank": True},
        {"to": "Target", "db_table": "i12_dec_custom_join"},
        {"to": "Target", "help_text": "tags"},
        {"to": "Target", "verbose_name": "targets"},
        {"to": "Target", "through": "Membership"},
        {"to": "Target", "through": f"{APP}.Membership", "related_name": "members"},
        {"to": "Target", "through": "MEMBERSHIP_CLASS"},
    ],
}
#: A user subclass, by its own module path.
FIELD_CASES[MoneyField] = [
    {"max_digits": 12, "decimal_places": 2},
    {"max_digits": 6, "decimal_places": 1, "null": True},
]


def field_classes() -> list[type[orm.Field]]:
    """Every public field class of ``orm.fields`` (a new one without cases fails the test)."""
    found = []
    for name in orm_fields.__all__:
        value = getattr(orm_fields, name)
        if inspect.isclass(value) and issubclass(value, orm.Field) and value is not orm.Field:
            found.append(value)
    return found


# --------------------------------------------------------------- helpers


def meta(apps: Apps, **options: Any) -> type:
    return type("Meta", (), {"app_label": APP, "apps": apps, **options})


def new_registry(
    make_subject: Callable[[dict[str, Any]], orm.Field] | None = None,
) -> tuple[Apps, Any]:
    """A fresh registry holding Target, Host (with ``subject`` when given) and Membership."""
    apps = Apps()
    classes: dict[str, Any] = {}
    classes["Target"] = type(
        "Target",
        (orm.Model,),
        {
            "__module__": __name__,
            "code": orm.CharField(max_length=10, unique=True),
            "Meta": meta(apps),
        },
    )
    # The through model is declared before Host: "Host" resolves once Host exists.
    classes["Membership"] = type(
        "Membership",
        (orm.Model,),
        {
            "__module__": __name__,
            "Meta": meta(apps),
            "host": orm.ForeignKey("Host", on_delete=orm.CASCADE, related_name="+"),
            "target": orm.ForeignKey("Target", on_delete=orm.CASCADE, related_name="+"),
        },
    )
    body: dict[str, Any] = {
        "__module__": __name__,
        "label": orm.CharField(max_length=5),
        "Meta": meta(apps),
    }
    if make_subject is not None:
        body["subject"] = make_subject(classes)
    classes["Host"] = type("Host", (orm.Model,), body)
    assert not apps.pending_references(), apps.pending_references()
    return apps, classes["Host"]


def concrete(options: Options, classes: dict[str, Any]) -> Options:
    """The options with the class placeholders replaced by this registry's classes."""
    names = {"TARGET_CLASS": "Target", "MEMBERSHIP_CLASS": "Membership"}
    return {
        k: classes[names[v]] if isinstance(v, str) and v in names else v for k, v in options.items()
    }


def rebuild(
    parts: tuple[str, str, list[Any], dict[str, Any]] | tuple[str, Any, dict[str, Any]],
) -> Any:
    """Import the path of a deconstruction and call it, as a migration file does."""
    path, args, kwargs = parts[-3:]
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


def label(model: Any) -> Any:
    """A relation target by name (model names are case-insensitive)."""
    if model is None:
        return None
    return model.lower() if isinstance(model, str) else model._meta.label_lower


def state(field: orm.Field) -> dict[str, Any]:
    """What a field was built with: its attributes, with models named by label."""
    skip = {"creation_counter", "model", "remote_field", "validators", "_db_converters"}
    data = {key: value for key, value in vars(field).items() if key not in skip}
    rel = field.remote_field
    if rel is not None:
        through = rel.through
        data["rel"] = {
            "class": type(rel),
            "model": label(rel.model),
            "related_name": rel.related_name,
            "related_query_name": rel.related_query_name,
            "on_delete": rel.on_delete,
            "through": "auto"
            if through is not None and not isinstance(through, str) and through._meta.auto_created
            else label(through),
        }
    return data


def ddl(model: Any) -> list[str]:
    """The statements creating ``model``'s table(s) and indexes, collected, not run."""
    connection = orm.connection
    editor = connection.schema_editor_class(connection, collect_sql=True)
    with editor:
        editor.create_model(model)
    assert editor.collected_sql
    return list(editor.collected_sql)


# --------------------------------------------------------------- fields


def test_every_field_class_has_cases() -> None:
    missing = [c.__name__ for c in field_classes() if c not in FIELD_CASES]
    assert not missing, f"add deconstruct cases for {missing}"


@pytest.mark.parametrize("field_class", list(FIELD_CASES), ids=lambda c: c.__name__)
def test_field_round_trips_through_deconstruct(backend: str, field_class: type[orm.Field]) -> None:
    failures = []
    for options in FIELD_CASES[field_class]:
        try:
            check_field_round_trip(field_class, options)
        except AssertionError as error:
            failures.append(f"{field_class.__name__}({options}): {error}")
    assert not failures, "\n".join(failures)


def check_field_round_trip(field_class: type[orm.Field], options: Options) -> None:
    declared: list[orm.Field] = []

    def declare(classes: dict[str, Any]) -> orm.Field:
        field = field_class(**concrete(options, classes))
        declared.append(field)
        return field

    # Before it is on a model (class targets given by name): rebuilt from its
    # deconstruction, it is the same.
    unbound = field_class(**concrete(options, {"Target": "Target", "Membership": "Membership"}))
    unbound_parts = unbound.deconstruct()
    rebuilt_unbound = rebuild(unbound_parts)
    assert deep_deconstruct(rebuilt_unbound) == deep_deconstruct(unbound)
    assert state(rebuilt_unbound) == state(unbound)

    _, host = new_registry(declare)
    original = declared[0]
    assert original.model is host
    parts = original.deconstruct()
    assert parts[0] == "subject"
    original_ddl = ddl(host)

    # On a model: its deconstruction names the target by label; rebuilt on an
    # equivalent model of a fresh registry, it is the same field and gives the same DDL.
    for source in (parts, unbound_parts):
        _, copy_host = new_registry(lambda classes, source=source: rebuild(source))
        copy = copy_host._meta.get_field("subject")
        assert copy.model is copy_host
        assert copy.deconstruct() == parts, (copy.deconstruct(), parts)
        assert deep_deconstruct(copy) == deep_deconstruct(original)
        assert state(copy) == state(original), (state(copy), state(original))
        assert ddl(copy_host) == original_ddl
    clone = original.clone()
    assert clone.model is None and clone != original
    assert deep_deconstruct(clone) == deep_deconstruct(original)
    if original.is_relation:
        target = original.remote_field.model
        assert target._meta.apps is host._meta.apps
        assert isinstance(parts[3]["to"], str)
        assert target is host._meta.apps.get_model(parts[3]["to"])


def test_deconstruct_keeps_what_was_given_not_what_was_derived() -> None:
    """Django's rule: options at their defaults are left out, given ones kept, derived ones not."""
    assert orm.DecimalField(max_digits=8, decimal_places=2, default=0).deconstruct() == (
        "",
        "orm.DecimalField",
        [],
        {"default": 0, "max_digits": 8, "decimal_places": 2},
    )
    assert orm.CharField(max_length=20).deconstruct()[3] == {"max_length": 20}
    assert orm.EmailField().deconstruct()[3] == {
        "max_length": 254
    }  # its validator is not an option
    assert orm.SlugField().deconstruct()[3] == {}
    assert orm.SlugField(db_index=False).deconstruct()[3] == {"db_index": False}
    assert orm.BinaryField().deconstruct()[3] == {}
    assert orm.BinaryField(editable=True).deconstruct()[3] == {"editable": True}
    assert orm.DateTimeField(auto_now=True).deconstruct()[3] == {"auto_now": True}
    assert orm.AutoField().deconstruct()[3] == {"primary_key": True}
    fk = orm.ForeignKey("Author", on_delete=orm.PROTECT, related_name="books").deconstruct()[3]
    assert fk == {"to": "author", "on_delete": orm.PROTECT, "related_name": "books"}
    assert orm.OneToOneField("a.B", on_delete=orm.CASCADE).deconstruct()[3] == {
        "to": "a.b",
        "on_delete": orm.CASCADE,
    }
    assert MoneyField(max_digits=6, decimal_places=2).deconstruct()[1] == f"{__name__}.MoneyField"


def test_the_implicit_primary_key_deconstructs_as_auto_created() -> None:
    apps, host = new_registry()
    name, path, args, kwargs = host._meta.pk.deconstruct()
    assert (name, path, args) == ("id", "orm.BigAutoField", [])
    assert kwargs == {"primary_key": True, "auto_created": True, "verbose_name": "ID"}
    assert rebuild((name, path, args, kwargs)).auto_created is True


def test_a_hidden_many_to_many_deconstructs_to_the_declared_related_name() -> None:
    _, host = new_registry(lambda classes: orm.ManyToManyField("Target", related_name="+"))
    field = host._meta.get_field("subject")
    assert field.remote_field.related_name != "+"  # made unique on the model
    assert field.deconstruct()[3] == {"to": f"{APP}.target", "related_name": "+"}


# --------------------------------------------------------------- Field.__eq__/__lt__/__hash__


def test_fields_compare_by_creation_order_and_model_as_in_django() -> None:
    first, second = orm.IntegerField(), orm.IntegerField()
    assert first == first and first != second
    assert first < second and not second < first
    assert sorted([second, first]) == [first, second]
    assert first != 1 and (first == 1) is False
    # Same definition, different fields: only the deconstructions are equal.
    assert deep_deconstruct(first) == deep_deconstruct(second)
    assert deep_deconstruct(orm.IntegerField(null=True)) != deep_deconstruct(first)


def test_copies_of_an_abstract_field_differ_by_model() -> None:
    apps = Apps()

    class Stamped(orm.Model):
        stamp = orm.IntegerField()

        class Meta:
            abstract = True

    one = type("One", (Stamped,), {"__module__": __name__, "Meta": meta(apps)})
    two = type("Two", (Stamped,), {"__module__": __name__, "Meta": meta(apps)})
    a, b = one._meta.get_field("stamp"), two._meta.get_field("stamp")
    assert a.creation_counter == b.creation_counter
    assert a != b and hash(a) == hash(b)
    assert a < b and not b < a  # same counter: ordered by (app_label, model_name)
    assert len({a, b}) == 2
    assert deep_deconstruct(a) == deep_deconstruct(b)


# --------------------------------------------------------------- indexes and constraints

INDEX_CASES: list[Callable[[], Any]] = [
    lambda: orm.Index(fields=["a"]),
    lambda: orm.Index(fields=["-a", "b"], name="i12_dec_a_b"),
    lambda: orm.Index(fields=["b"], name="i12_dec_b_part", condition=Q(a__gt=0)),
    lambda: orm.Index(fields=["b"], condition=Q(a__gt=0) | ~Q(b__startswith="x'y%")),
    lambda: orm.Index(
        fields=["a", "c"], name="i12_dec_in", condition=Q(c__isnull=True, a__in=[1, 2])
    ),
]
CONSTRAINT_CASES: list[Callable[[], Any]] = [
    lambda: orm.UniqueConstraint(fields=["a", "b"], name="i12_dec_uniq_ab"),
    lambda: orm.UniqueConstraint(fields=["b"], name="i12_dec_uniq_b_live", condition=Q(c=True)),
    lambda: orm.CheckConstraint(condition=Q(a__gte=0), name="i12_dec_a_positive"),
    lambda: orm.CheckConstraint(check=Q(a__gte=0) & Q(a__lte=100), name="i12_dec_a_range"),
    lambda: orm.CheckConstraint(condition=~Q(b="") | Q(c__isnull=True), name="i12_dec_b_set"),
    lambda: orm.CheckConstraint(
        condition=Q(Q(a__lt=10), Q(b__in=["x", "y"]), _connector="OR"), name="i12_dec_or"
    ),
    lambda: orm.CheckConstraint(condition=Q(b__contains="50%'"), name="i12_dec_quotes"),
]


def rated(apps: Apps, **options: Any) -> Any:
    return type(
        "Rated",
        (orm.Model,),
        {
            "__module__": __name__,
            "Meta": meta(apps, **options),
            "a": orm.IntegerField(),
            "b": orm.CharField(max_length=10),
            "c": orm.BooleanField(null=True),
        },
    )


@pytest.mark.parametrize("kind", ["indexes", "constraints"])
def test_indexes_and_constraints_round_trip_through_deconstruct(backend: str, kind: str) -> None:
    for make in INDEX_CASES if kind == "indexes" else CONSTRAINT_CASES:
        original = make()
        before = original.deconstruct()
        copy = rebuild(before)
        assert type(copy) is type(original)
        assert copy == original and hash(copy) == hash(original), (copy, original)
        assert copy.deconstruct() == before
        assert deep_deconstruct(copy) == deep_deconstruct(original)
        assert original.clone() == original and original.clone() is not original
        original_ddl = ddl(rated(Apps(), **{kind: [original]}))
        assert ddl(rated(Apps(), **{kind: [copy]})) == original_ddl
        # Producing DDL does not change what the object is (an unnamed index stays unnamed).
        assert original.deconstruct() == before
        assert rebuild(original.deconstruct()) == original


def test_index_and_constraint_equality_covers_every_option() -> None:
    base = orm.Index(fields=["a"], name="n", condition=Q(a=1))
    assert base == orm.Index(fields=["a"], name="n", condition=Q(a=1))
    assert base != orm.Index(fields=["a"], name="m", condition=Q(a=1))
    assert base != orm.Index(fields=["-a"], name="n", condition=Q(a=1))
    assert base != orm.Index(fields=["a"], name="n", condition=Q(a=2))
    assert base != orm.Index(fields=["a"], name="n")
    assert orm.Index(fields=["a"]) != orm.Index(fields=["a"], name="n")
    unique = orm.UniqueConstraint(fields=["a"], name="n")
    assert unique == orm.UniqueConstraint(fields=["a"], name="n")
    assert unique != orm.UniqueConstraint(fields=["a", "b"], name="n")
    assert unique != orm.UniqueConstraint(fields=["a"], name="n", condition=Q(a=1))
    check = orm.CheckConstraint(condition=Q(a=1), name="n")
    assert check == orm.CheckConstraint(check=Q(a=1), name="n")
    assert check != orm.CheckConstraint(condition=~Q(a=1), name="n")
    assert check != unique and unique != base
    assert repr(base) == "<Index: fields=['a'] name='n' condition=(AND: ('a', 1))>"
    assert repr(unique) == "<UniqueConstraint: fields=['a'] name='n'>"
    assert repr(check) == "<CheckConstraint: condition=(AND: ('a', 1)) name='n'>"
    assert base.deconstruct() == (
        "orm.Index",
        (),
        {"fields": ["a"], "name": "n", "condition": Q(a=1)},
    )
    assert check.deconstruct() == ("orm.CheckConstraint", (), {"name": "n", "condition": Q(a=1)})


def test_q_deconstructs_to_an_equal_q() -> None:
    cases = [
        Q(),
        Q(a=1),
        Q(a=1, b__in=[1, 2]),
        ~Q(a=1),
        Q(a=1) | Q(b=2),
        Q(a=1) ^ Q(b=2),
        ~(Q(a=1) & ~Q(b__isnull=True)),
        Q(Q(a=1), ("b", 2), _connector="OR", _negated=True),
    ]
    for q in cases:
        path, args, kwargs = q.deconstruct()
        assert path == "orm.Q"
        copy = rebuild((path, args, kwargs))
        assert copy == q and copy.connector == q.connector and copy.negated == q.negated
    assert (Q(a=1) | Q(b=2)).deconstruct() == ("orm.Q", (Q(a=1), Q(b=2)), {"_connector": "OR"})
    assert (~Q(a=1)).deconstruct() == ("orm.Q", (("a", 1),), {"_negated": True})
