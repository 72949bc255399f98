"""The generated alter matrix (issue 13): every field type x every change, both backends.

Each case builds table ``Target`` (and ``Parent``, which a foreign key of the
type under test points at, and ``Child``, whose rows point INTO ``Target``)
with ``create_tables``, seeds rows, applies one operation, then unapplies it.
After each step it checks:

- the rows: exactly the values expected (unchanged where the data is meant
  to survive, the default where a column was added or filled), read back
  through the historical model, and the ``Child`` rows unchanged;
- SQLite: ``PRAGMA foreign_key_check`` and ``PRAGMA integrity_check`` clean;
- the live schema (``connection.introspection``: columns and every key,
  constraint and index, names aside) after forwards equals what
  ``create_tables`` makes for the target models, and after backwards the
  original one;
- the foreign key of ``Child`` into ``Target`` still rejects an orphan row.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from tests.migrations.helpers import auto_id, replay

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "mx"
UTC = datetime.UTC
Factory = Callable[..., Any]


def _fk(**kwargs: Any) -> Any:
    return orm.ForeignKey(f"{APP}.parent", on_delete=orm.CASCADE, **kwargs)


@dataclasses.dataclass
class Kind:
    """A field type: how to make it, three distinct values, and a default."""

    factory: Factory
    values: list[Any]
    default: Any
    other_default: Any
    #: (label, factory of the new type) for "change type where it makes sense".
    retypes: list[tuple[str, Factory]] = dataclasses.field(default_factory=list)
    #: Whether unique / db_index make sense (3 distinct values, an indexable type).
    indexable: bool = True


def _char(**kw: Any) -> Any:
    return orm.CharField(max_length=50, **kw)


KINDS: dict[str, Kind] = {
    "char": Kind(_char, ["a", "b", "c"], "d", "e", [
        ("char200", lambda **kw: orm.CharField(max_length=200, **kw)),
        ("text", lambda **kw: orm.TextField(**kw))]),
    "text": Kind(orm.TextField, ["a", "b", "c"], "d", "e"),
    "email": Kind(orm.EmailField, ["a@x.io", "b@x.io", "c@x.io"], "d@x.io", "e@x.io"),
    "slug": Kind(orm.SlugField, ["a", "b", "c"], "d", "e"),
    "url": Kind(orm.URLField, ["http://a.io", "http://b.io", "http://c.io"], "http://d.io", "http://e.io"),
    "int": Kind(orm.IntegerField, [1, -2, 3], 0, 9, [("bigint", orm.BigIntegerField)]),
    "smallint": Kind(orm.SmallIntegerField, [1, -2, 3], 0, 9, [("int", orm.IntegerField)]),
    "bigint": Kind(orm.BigIntegerField, [1, -(2**40), 3], 0, 9),
    "positive": Kind(orm.PositiveIntegerField, [1, 2, 3], 0, 9, [("bigint", orm.BigIntegerField)]),
    "float": Kind(orm.FloatField, [1.5, -2.25, 3.0], 0.0, 9.5),
    "decimal": Kind(lambda **kw: orm.DecimalField(max_digits=6, decimal_places=2, **kw),
                    [decimal.Decimal("1.50"), decimal.Decimal("-2.25"), decimal.Decimal("3.00")],
                    decimal.Decimal("0.00"), decimal.Decimal("9.99"),
                    [("decimal12", lambda **kw: orm.DecimalField(max_digits=12, decimal_places=2, **kw))]),
    "bool": Kind(orm.BooleanField, [True, False, True], False, True, indexable=False),
    "date": Kind(orm.DateField, [datetime.date(2020, 1, d) for d in (1, 2, 3)],
                 datetime.date(2000, 1, 1), datetime.date(2001, 1, 1)),
    "datetime": Kind(orm.DateTimeField, [datetime.datetime(2020, 1, d, 12, tzinfo=UTC) for d in (1, 2, 3)],
                     datetime.datetime(2000, 1, 1, tzinfo=UTC), datetime.datetime(2001, 1, 1, tzinfo=UTC)),
    "time": Kind(orm.TimeField, [datetime.time(h, 30) for h in (1, 2, 3)], datetime.time(0), datetime.time(9)),
    "duration": Kind(orm.DurationField, [datetime.timedelta(minutes=m) for m in (1, 2, 3)],
                     datetime.timedelta(0), datetime.timedelta(hours=1)),
    "uuid": Kind(orm.UUIDField, [uuid.UUID(int=i) for i in (1, 2, 3)], uuid.UUID(int=0), uuid.UUID(int=9)),
    "json": Kind(orm.JSONField, [{"a": 1}, [1, 2], "s"], {"d": 0}, {"e": 1}, indexable=False),
    "binary": Kind(orm.BinaryField, [b"\x00a", b"b", b"c\xff"], b"", b"e", indexable=False),
    "fk": Kind(_fk, [1, 2, 3], 1, 2),
}


@dataclasses.dataclass
class Case:
    """One cell: the ``Target.f`` field before, the operation, and what the rows become."""

    before: Any  # the field, or None when the case adds it
    operation: migrations.Operation
    #: Column values of ``f`` (by row) after forwards, None: gone.
    after: list[Any] | None
    #: Values after backwards (None: the column is gone again).
    back: list[Any] | None
    renamed: bool = False


def _cases(name: str, kind: Kind) -> dict[str, Case]:
    make, values, default = kind.factory, kind.values, kind.default
    cases = {
        "add_not_null_default": Case(None, migrations.AddField("Target", "f", make(default=default)),
                                     [default] * 3, None),
        "add_nullable": Case(None, migrations.AddField("Target", "f", make(null=True)), [None] * 3, None),
        "drop": Case(make(null=True), migrations.RemoveField("Target", "f"), None, [None] * 3),
        "rename": Case(make(), migrations.RenameField("Target", "f", "g"), values, values, renamed=True),
        "null_to_not_null": Case(make(null=True), migrations.AlterField("Target", "f", make(default=default)),
                                 [values[0], default, values[2]], [values[0], default, values[2]]),
        "not_null_to_null": Case(make(), migrations.AlterField("Target", "f", make(null=True)), values, values),
        "change_default": Case(make(default=default), migrations.AlterField(
            "Target", "f", make(default=kind.other_default)), values, values),
    }
    for label, retype in kind.retypes:
        cases[f"type_{label}"] = Case(make(), migrations.AlterField("Target", "f", retype()), values, values)
    if kind.indexable:
        cases["add_unique"] = Case(make(), migrations.AlterField("Target", "f", make(unique=True)), values, values)
        cases["remove_unique"] = Case(make(unique=True), migrations.AlterField("Target", "f", make()),
                                      values, values)
        cases["add_index"] = Case(make(), migrations.AlterField("Target", "f", make(db_index=True)), values, values)
        cases["remove_index"] = Case(make(db_index=True), migrations.AlterField("Target", "f", make()),
                                     values, values)
    if name == "fk":
        # Dropping the foreign key constraint, and (backwards) adding it back.
        cases["remove_fk"] = Case(make(), migrations.AlterField("Target", "f", make(db_constraint=False)),
                                  values, values)
        cases["add_fk"] = Case(make(db_constraint=False), migrations.AlterField("Target", "f", make()),
                               values, values)
    return cases


#: Schemas create_tables makes, by backend and Target definition: many cases
#: share a starting or target model, and making the tables is most of a case.
_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {}


def _initial_operations(before: Any) -> list[migrations.Operation]:
    target_fields: list[tuple[str, Any]] = [auto_id(), ("label", orm.CharField(max_length=10))]
    if before is not None:
        target_fields.append(("f", before))
    return [
        migrations.CreateModel("Parent", [auto_id()]),
        migrations.CreateModel("Target", target_fields),
        migrations.CreateModel("Child", [
            auto_id(), ("target", orm.ForeignKey(f"{APP}.target", on_delete=orm.CASCADE))]),
    ]


def _models(state: ProjectState) -> list[Any]:
    return [state.apps.get_model(APP, name) for name in ("Parent", "Target", "Child")]


def _schema() -> dict[str, Any]:
    """Every column and every key, constraint and index of Target and Child (names aside).

    (Parent only is the target of a foreign key; no case changes it.)
    """
    intro = orm.connection.introspection
    snapshot = {}
    for table in (f"{APP}_target", f"{APP}_child"):
        columns = {c.name: dataclasses.replace(c, name="") for c in intro.get_table_description(table)}
        constraints = sorted((
            (tuple(c.columns), c.primary_key, c.unique, c.foreign_key, c.check, c.index, tuple(c.orders), c.type)
            for c in intro.get_constraints(table).values()
        ), key=repr)
        snapshot[table] = (columns, constraints)
    return snapshot


def _created_schema(state: ProjectState, keep: bool) -> dict[str, Any]:
    """The schema ``create_tables`` makes for the models of ``state`` (tables kept if ``keep``)."""
    fields = state.models[APP, "target"].fields
    key = (orm.connection.vendor, repr(sorted((name, field.deconstruct()[1:]) for name, field in fields.items())))
    if key not in _SCHEMAS or keep:
        orm.create_tables(*_models(state))
        _SCHEMAS[key] = _schema()
        if not keep:
            orm.drop_tables(*_models(state))
    return _SCHEMAS[key]


def _rows(state: ProjectState, column: str | None) -> list[tuple[Any, ...]]:
    target = state.apps.get_model(APP, "Target")
    names = ["id", "label"] + ([column] if column else [])
    return [tuple(row) for row in target.objects.order_by("id").values_list(*names)]


def _child_rows(state: ProjectState) -> list[tuple[Any, ...]]:
    child = state.apps.get_model(APP, "Child")
    return [tuple(row) for row in child.objects.order_by("id").values_list("id", "target_id")]


def _expected(values: list[Any] | None) -> list[tuple[Any, ...]]:
    base = [(i + 1, f"r{i}") for i in range(3)]
    if values is None:
        return base
    return [(*row, value) for row, value in zip(base, values, strict=True)]


def _check_database(state: ProjectState) -> None:
    if orm.connection.vendor == "sqlite":
        with orm.connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_key_check")
            assert cursor.fetchall() == []
            cursor.execute("PRAGMA integrity_check")
            assert [tuple(r) for r in cursor.fetchall()] == [("ok",)]
    child = state.apps.get_model(APP, "Child")
    with pytest.raises(orm.IntegrityError), orm.transaction.atomic():
        child.objects.create(target_id=999)


def _seed(state: ProjectState, kind: Kind, before: Any) -> None:
    parent, target, child = _models(state)
    for _ in range(3):
        parent.objects.create()
    for i in range(3):
        values: dict[str, Any] = {"label": f"r{i}"}
        if before is not None:
            value = kind.values[i]
            if before.null and i == 1:
                value = None
            values["f_id" if before.is_relation else "f"] = value
        target.objects.create(**values)
    for i in range(3):
        child.objects.create(target_id=i + 1)


def _column(state: ProjectState, case: Case, forwards: bool) -> str | None:
    values = case.after if forwards else case.back
    if values is None:
        return None
    name = "g" if (case.renamed and forwards) else "f"
    field = state.apps.get_model(APP, "Target")._meta.get_field(name)
    return field.attname


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_alter_matrix(backend: str, kind_name: str) -> None:
    """Every change of one field type (one test per type keeps the per-test setup off each case)."""
    kind = KINDS[kind_name]
    for case_name, case in _cases(kind_name, kind).items():
        try:
            _run_case(kind, case)
        except Exception as error:
            raise AssertionError(f"{backend} {kind_name}-{case_name} failed: {error}") from error


def _run_case(kind: Kind, case: Case) -> None:
    before = replay(APP, _initial_operations(case.before))
    after = replay(APP, [case.operation], before.clone())
    expected_after = _created_schema(after, keep=False)
    expected_before = _created_schema(before, keep=True)
    _seed(before, kind, case.before)
    children = _child_rows(before)
    original = _rows(before, "f_id" if case.before is not None and case.before.is_relation else
                     "f" if case.before is not None else None)

    migration = type("Migration", (migrations.Migration,), {"operations": [case.operation]})("0002", APP)
    with orm.connection.schema_editor() as editor:
        migration.apply(before.clone(), editor)
    assert _rows(after, _column(after, case, True)) == _expected(case.after)
    assert _child_rows(after) == children
    assert _schema() == expected_after
    _check_database(after)

    with orm.connection.schema_editor() as editor:
        migration.unapply(before.clone(), editor)
    back = _rows(before, _column(before, case, False))
    assert back == _expected(case.back)
    if case.back == case.after and case.after is not None and case.before is not None and not case.before.null:
        assert back == original  # the data survived both ways
    assert _child_rows(before) == children
    assert _schema() == expected_before
    _check_database(before)
    orm.drop_tables(*_models(before))
