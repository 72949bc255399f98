"""The migration writer and serializer (issue 14).

- Every field class with every option is written, loaded back (the file
  is executed) and compares equal, field by field and as a replayed state.
- Values of every supported kind evaluate back to an equal value.
- The same change gives byte-identical files, across hash seeds too.
- Written files pass ``ruff check`` (import sections included).
- Lambdas, local functions and unknown objects are refused with a message
  saying what to do.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import math
import re
import subprocess
import sys
import types
import uuid
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

import orm
from orm import migrations
from orm.fields import deep_deconstruct
from orm.migrations import Migration, ProjectState
from orm.migrations.autodetector import MigrationAutodetector
from orm.migrations.serializer import SerializationError, serialize_string
from orm.migrations.writer import MigrationWriter, format_imports, merge_migration
from orm.query.expressions import Func
from tests.migrations import writer_support as support
from tests.migrations.autodetector_support import char, fk, model, state
from tests.migrations.helpers import auto_id, replay

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

RUFF = Path(sys.executable).with_name("ruff")


def every_field(support: Any = support) -> list[tuple[str, Any]]:
    """One field of every class, with every option it takes (functions, classes
    and enums from ``support``)."""
    COMMON: dict[str, Any] = {  # noqa: N806 - a constant of this function
        "verbose_name": "Shown name", "unique": True, "blank": True, "db_index": True, "editable": False,
        "help_text": "Some help", "validators": [support.not_blank],
    }
    text = {**COMMON, "null": True, "choices": [("a", "A"), ("b", "B")], "default": "a"}
    number = {**COMMON, "null": True, "choices": [(1, "one"), (2, "two")], "default": 1}
    relation = {"related_name": "+", "related_query_name": "q", "db_constraint": False, "null": True,
                "verbose_name": "rel", "help_text": "h", "db_column": "rel_id", "blank": True}
    return [
        ("char", orm.CharField(max_length=20, db_column="the_column", **text)),
        ("text", orm.TextField(**text)),
        ("email", orm.EmailField(max_length=120, **text)),
        ("slug", orm.SlugField(**{**text, "db_index": False})),
        ("url", orm.URLField(**text)),
        ("integer", orm.IntegerField(**number)),
        ("small", orm.SmallIntegerField(**number)),
        ("big", orm.BigIntegerField(**number)),
        ("positive", orm.PositiveIntegerField(**number)),
        ("positive_small", orm.PositiveSmallIntegerField(**{**number, "db_comment": "a small one"})),
        ("positive_big", orm.PositiveBigIntegerField(db_default=7)),
        ("address", orm.GenericIPAddressField(protocol="both", unpack_ipv4=True, null=True, blank=True)),
        ("unlimited", orm.CharField(null=True, db_default=orm.Value("x"))),
        ("generated", orm.GeneratedField(expression=orm.F("positive_big") + 1,
                                         output_field=orm.BigIntegerField(), db_persist=True)),
        ("floating", orm.FloatField(**{**number, "default": math.inf})),
        ("decimal", orm.DecimalField(max_digits=7, decimal_places=2, **{
            **number, "default": decimal.Decimal("1.50"), "choices": [(decimal.Decimal("1.50"), "x")]})),
        ("flag", orm.BooleanField(**{**number, "default": False, "choices": None})),
        ("uid", orm.UUIDField(**{**COMMON, "null": True, "default": uuid.uuid4})),
        ("fixed_uid", orm.UUIDField(default=uuid.UUID("12345678-1234-5678-1234-567812345678"))),
        ("data", orm.JSONField(encoder=support.Encoder, decoder=support.Decoder,
                               **{**COMMON, "null": True, "default": dict})),
        ("blob", orm.BinaryField(**{**COMMON, "null": True, "default": b"\x00'\""})),
        ("day", orm.DateField(**{**COMMON, "null": True, "default": datetime.date(2024, 2, 29)})),
        ("moment", orm.DateTimeField(**{**COMMON, "null": True, "default": datetime.datetime(
            2024, 7, 1, 14, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))})),
        ("created", orm.DateTimeField(auto_now_add=True, verbose_name="created")),
        ("touched", orm.DateTimeField(auto_now=True, default=orm.fields.temporal.now)),
        ("clock", orm.TimeField(**{**COMMON, "null": True, "default": datetime.time(23, 59, 59, 999999)})),
        ("span", orm.DurationField(**{**COMMON, "null": True, "default": datetime.timedelta(days=1, seconds=3)})),
        ("upper", support.UpperCharField(max_length=5, default=support.default_title)),
        ("tags", orm.JSONField(default=support.Defaults.tags)),
        ("level", orm.IntegerField(default=support.Level.HIGH, choices=[(m.value, m.name) for m in support.Level])),
        ("color", orm.CharField(max_length=1, default=support.Color.RED)),
        ("scaled", orm.IntegerField(default=functools.partial(support.scaled, 3, factor=2))),
        ("owner", orm.ForeignKey("shop.Author", on_delete=orm.SET_NULL, to_field="code", **relation)),
        ("editor", orm.ForeignKey("shop.author", on_delete=orm.PROTECT, null=True, db_index=False)),
        ("helper", orm.ForeignKey("self", on_delete=orm.RESTRICT, null=True)),
        ("fallback", orm.ForeignKey("Author", on_delete=orm.SET_DEFAULT, default=1)),
        ("loose", orm.ForeignKey("shop.Author", on_delete=orm.DO_NOTHING, related_name="loose_books")),
        ("profile", orm.OneToOneField("shop.Author", on_delete=orm.CASCADE, **{**relation, "db_column": "profile_rel_id"})),
        ("readers", orm.ManyToManyField("shop.Author", related_name="read", related_query_name="reader",
                                        db_table="book_readers", blank=True, help_text="h")),
        ("clubs", orm.ManyToManyField("shop.Club", through="shop.Membership")),
    ]


def load(text: str, name: str = "0002_x", app_label: str = "shop") -> Migration:
    """Execute a written file and instantiate its Migration."""
    module = types.ModuleType(f"loaded_{name}")
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    migration: Migration = module.Migration(name, app_label)
    return migration


def written(migration: Migration) -> tuple[str, Migration]:
    text = MigrationWriter(migration).as_string()
    return text, load(text, migration.name, migration.app_label)


def make(operations: list[Any], name: str = "0002_x", **attrs: Any) -> Migration:
    klass = type("Migration", (Migration,), {"operations": operations, "dependencies": [], **attrs})
    migration: Migration = klass(name, "shop")
    return migration


def comparable(value: Any) -> Any:
    """``deep_deconstruct`` output with managers replaced by their class (they compare by identity)."""
    if isinstance(value, orm.Manager):
        return type(value)
    if isinstance(value, list | tuple):
        return type(value)(comparable(item) for item in value)
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return value


def same_operations(first: list[Any], second: list[Any]) -> bool:
    return [comparable(deep_deconstruct(op)) for op in first] == [
        comparable(deep_deconstruct(op)) for op in second]


# -- round trips -------------------------------------------------------------------------------------
def test_every_field_class_and_option_round_trips() -> None:
    fields = every_field()
    operation = migrations.CreateModel("Book", [auto_id(), *fields], options={"ordering": ["-day"]})
    text, loaded = written(make([operation]))
    (back,) = loaded.operations
    assert [name for name, _ in back.fields] == ["id", *(name for name, _ in fields)]
    for (name, original), (_, copy) in zip([auto_id(), *fields], back.fields, strict=True):
        assert deep_deconstruct(copy) == deep_deconstruct(original), name
    covered = {type(field) for _, field in fields} | {orm.BigAutoField}
    builtin = {klass for klass in vars(orm.fields).values()
               if isinstance(klass, type) and issubclass(klass, orm.Field) and klass is not orm.Field}
    assert builtin - covered <= {orm.AutoField, orm.SmallAutoField}
    for klass in (orm.AutoField, orm.SmallAutoField):
        copy = load(MigrationWriter(make([migrations.AddField("x", "pk", klass(primary_key=True))])).as_string())
        assert type(copy.operations[0].field) is klass
    assert "import tests.migrations.writer_support" in text and "import uuid" in text


def test_written_models_replay_to_an_equal_state() -> None:
    author = migrations.CreateModel("Author", [auto_id(), ("code", char(10, unique=True))])
    club = migrations.CreateModel("Club", [auto_id()])
    membership = migrations.CreateModel("Membership", [auto_id(), ("author", fk("shop.Author")),
                                                       ("club", fk("shop.Club"))])
    book = migrations.CreateModel(
        "Book", [auto_id(), *every_field()],
        options={"ordering": ["-day"], "db_table": "the_books", "verbose_name": "livre",
                 "unique_together": {("char", "integer"), ("text", "big")},
                 "indexes": [orm.Index(fields=["-day", "char"], name="book_day",
                                       condition=orm.Q(integer__gt=0) | ~orm.Q(char="a"))],
                 "constraints": [orm.UniqueConstraint(fields=["char"], name="u", condition=orm.Q(flag=True)),
                                 orm.CheckConstraint(condition=orm.Q(integer__gte=orm.F("small")), name="c")]},
        bases=(support.Mixin, orm.Model), managers=[("objects", support.BookManager())],
    )
    original = [author, club, membership, book]
    _, loaded = written(make(original))
    assert same_operations(original, loaded.operations)
    assert replay("shop", loaded.operations, render=True) == replay("shop", original)


def test_detected_changes_round_trip() -> None:
    before = state(model("shop.Author", {"name": char()}))
    after = state(model("shop.Author", {"name": char(80), "born": orm.DateField(null=True)}),
                  model("shop.Book", {"title": char(), "author": fk("shop.Author")},
                        unique_together=[("title", "author")]))
    for migration in MigrationAutodetector(before, after).changes(graph={"shop": "0001_initial"})["shop"]:
        _, loaded = written(migration)
        assert same_operations(migration.operations, loaded.operations)
        assert loaded.dependencies == [("shop", "0001_initial")]
        assert migration.mutate_state(before) == loaded.mutate_state(before) == after


def test_special_operations_round_trip() -> None:
    operations = [
        migrations.RunPython(support.forwards, migrations.RunPython.noop, atomic=False),
        migrations.RunSQL("UPDATE t SET x = '%'", reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(["SELECT 1", ("SELECT %s", [2])]),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL("ALTER TABLE a RENAME TO b")],
            state_operations=[migrations.RenameModel("Old", "New")]),
        migrations.RenameIndex("book", new_name="b_new", old_fields=["title"]),
        migrations.AlterUniqueTogether("book", {("a", "b")}),
        migrations.AlterModelOptions("book", {"ordering": ["a"], "verbose_name_plural": "bks"}),
        migrations.AlterModelTable("book", None),
        migrations.RemoveConstraint("book", "c"),
        migrations.AddField("book", "pages", orm.IntegerField(default=0), preserve_default=False),
    ]
    text, loaded = written(make(operations, atomic=False, replaces=[("shop", "0001_a"), ("shop", "0002_b")],
                                run_before=[("other", "0001_initial")]))
    assert same_operations(operations, loaded.operations)
    assert loaded.operations[0].reverse_code is migrations.RunPython.noop
    assert (loaded.atomic, loaded.replaces, loaded.run_before) == (
        False, [("shop", "0001_a"), ("shop", "0002_b")], [("other", "0001_initial")])
    assert "migrations.RunPython.noop" in text


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2**70, 1.5, -0.0, "", "it's", 'say "hi"', "both ' and \"", "line\nbreak\ttab\x00",
    "unicode é ☃", b"", b"\x00\xff'", decimal.Decimal("0.10"), decimal.Decimal("-1E+3"),
    datetime.date(1, 1, 1), datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC), datetime.time(0, 0),
    datetime.time(12, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    datetime.timedelta(0), datetime.timedelta(days=-1, microseconds=5), uuid.UUID(int=0),
    support.Color.GREEN, support.Level.LOW, [1, [2, (3,)]], (), (1,), {1, 3, 2}, set(), frozenset({"b", "a"}),
    frozenset(), {"b": 1, "a": {2: [3]}}, range(0, 10, 2), re.compile(r"^a+$", re.I), re.compile(b"x"),
    orm.Q(a=1) & orm.Q(b__in=[1, 2]) | ~orm.Q(c__isnull=True), orm.Q(), orm.F("price"), int, type(None),
    support.Mixin, support.not_blank, support.Defaults.tags, functools.partial(support.scaled, factor=4),
    orm.Index(fields=["a"], name="i"), orm.CASCADE, migrations.RunPython.noop,
    re.compile("x", re.I | re.M), re.RegexFlag.DOTALL, re.RegexFlag(0), datetime.date.today, uuid.uuid4, len, dict,
])
def test_values_evaluate_back_to_equal(value: Any) -> None:
    text, imports = serialize_string(value)
    namespace: dict[str, Any] = {}
    exec(format_imports(imports), namespace)
    copy = eval(text, namespace)
    if isinstance(value, functools.partial):
        assert (copy.func, copy.args, copy.keywords) == (value.func, value.args, value.keywords)
    elif isinstance(value, orm.Index):
        assert deep_deconstruct(copy) == deep_deconstruct(value)
    else:
        assert copy == value and type(copy) is type(value)


def test_special_floats_and_aware_datetimes() -> None:
    assert serialize_string(math.nan)[0] == 'float("nan")'
    assert serialize_string(-math.inf)[0] == 'float("-inf")'
    paris = datetime.datetime(2024, 7, 1, 14, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    text, imports = serialize_string(paris)
    assert text == "datetime.datetime(2024, 7, 1, 12, 0, tzinfo=datetime.UTC)"
    assert imports == {"import datetime"}
    assert serialize_string("plain")[0] == '"plain"'
    assert serialize_string(support.Color.RED)[0] == 'tests.migrations.writer_support.Color["RED"]'


# -- determinism and lint ----------------------------------------------------------------------------
def test_same_change_twice_is_byte_identical() -> None:
    def generate() -> list[str]:
        before = state(model("shop.Author", {"name": char()}))
        after = state(model("shop.Author", {"name": char()}, unique_together=[("name", "id")]),
                      model("shop.Book", {"title": char(), "tags": orm.ManyToManyField("tags.Tag"),
                                          "author": fk("shop.Author")}),
                      model("tags.Tag", {"name": char()}))
        changes = MigrationAutodetector(before, after).changes(graph={"shop": "0001_initial"})
        return [MigrationWriter(m).as_string() for app in sorted(changes) for m in changes[app]]

    assert generate() == generate()


def test_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    script = (
        "from orm.migrations.writer import MigrationWriter\n"
        "from tests.migrations.test_writer import make\n"
        "from orm import migrations\n"
        "op = migrations.AlterUniqueTogether('book', {('a', 'b'), ('c', 'd'), ('e', 'f')})\n"
        "m = make([op, migrations.AddField('book', 'x', __import__('orm').JSONField(default={'z', 'y', 'x'}))])\n"
        "m.dependencies = [('z', '0001'), ('a', '0002'), ('m', '0003')]\n"
        "print(MigrationWriter(m).as_string())\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                env={"PYTHONHASHSEED": seed, "PATH": ""}, cwd=Path(__file__).parents[2])
        outputs.add(result.stdout)
    assert len(outputs) == 1


def ruff(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``ruff check`` with the project's rule selection, as in a user's project rooted at ``cwd``."""
    return subprocess.run(
        [str(RUFF), "check", "--isolated", "--select", "E,F,W,I,B,UP", "--target-version", "py311",
         "--line-length", "100", str(path)], capture_output=True, text=True, cwd=cwd, check=False)


def test_written_files_pass_ruff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    package = project / "shopapp_i14"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    # The project's own module (first-party for ruff): what a callable default refers to.
    (package / "defaults.py").write_text(Path(support.__file__).read_text())
    monkeypatch.syspath_prepend(str(project))
    from shopapp_i14 import defaults  # type: ignore[import-not-found]

    operations = [
        migrations.CreateModel("Book", [auto_id(), *every_field(defaults)]),
        migrations.AddField("book", "price", orm.DecimalField(max_digits=5, decimal_places=2,
                                                              default=decimal.Decimal("0"))),
        migrations.RunPython(defaults.forwards),
    ]
    files = {
        "0002_x.py": MigrationWriter(make(operations)).as_string(),
        "0003_merge.py": MigrationWriter(merge_migration("shop", ["0002_a", "0002_b"])).as_string(),
        "0004_only_removal.py": MigrationWriter(make([migrations.RemoveField("book", "x")])).as_string(),
    }
    for name, text in files.items():
        (package / "migrations" / name).write_text(text)
    result = ruff(package / "migrations", project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert files["0002_x.py"].index("import uuid") < files["0002_x.py"].index("import orm") \
        < files["0002_x.py"].index("import shopapp_i14.defaults")
    assert "import orm\n" not in files["0004_only_removal.py"]


# -- merge -----------------------------------------------------------------------------------------
def test_merge_migration() -> None:
    merge = merge_migration("shop", ["0003_b", "0003_a", "0002_c"])
    assert merge.name == "0004_merge_0002_c_0003_a_0003_b"
    assert merge.dependencies == [("shop", "0002_c"), ("shop", "0003_a"), ("shop", "0003_b")]
    assert merge.operations == []
    loaded = load(MigrationWriter(merge).as_string(), merge.name)
    assert loaded.dependencies == merge.dependencies and loaded.operations == []
    assert merge_migration("shop", ["0001_a", "0001_b"], name="join").name == "0002_join"
    long_names = [f"0007_{'x' * 30}", f"0007_{'y' * 30}"]
    assert re.fullmatch(r"0008_merge_\d{8}_\d{4}", merge_migration("shop", long_names).name)
    with pytest.raises(ValueError, match="at least two leaves"):
        merge_migration("shop", ["0001_a"])


# -- refusals ----------------------------------------------------------------------------------------
def test_lambda_is_refused_with_what_to_do() -> None:
    field = orm.CharField(max_length=5, default=lambda: "x")
    with pytest.raises(SerializationError, match=r"lambda.*module-level function"):
        MigrationWriter(make([migrations.AddField("book", "x", field)])).as_string()


def test_local_function_is_refused_with_what_to_do() -> None:
    def local_default() -> str:
        return "x"

    with pytest.raises(SerializationError, match=r"local_default.*inside a function.*module level"):
        serialize_string(orm.CharField(max_length=5, default=local_default))
    with pytest.raises(SerializationError, match="inside a function"):
        serialize_string(migrations.RunPython(local_default))


def test_unknown_objects_and_bound_methods_are_refused() -> None:
    class Opaque:
        pass

    with pytest.raises(SerializationError, match=r"Cannot serialize .*Opaque.*deconstruct\(\)"):
        serialize_string(Opaque())
    with pytest.raises(SerializationError, match="bound method"):
        serialize_string(support.Encoder().encode)
    with pytest.raises(SerializationError, match="fixed offset"):
        serialize_string(datetime.time(1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")))


def test_writer_names_the_file_and_skips_the_header() -> None:
    writer = MigrationWriter(make([], name="0005_y"), include_header=False)
    assert writer.filename == "0005_y.py"
    assert writer.as_string().startswith("from orm import migrations\n")
    assert MigrationWriter.serialize({"b", "a"}) == ('{"a", "b"}', set())
    assert json.loads(json.dumps(MigrationWriter.serialize([1])[0])) == "[1]"
    assert ProjectState() == load(MigrationWriter(make([])).as_string()).mutate_state(ProjectState())


class _Scaled(Func):
    """A function whose constructor takes more than expressions."""

    function = "SCALE"

    def __init__(self, expression: Any, factor: int) -> None:
        super().__init__(expression, orm.Value(factor))


def test_expressions_in_fields_write_with_orm_names() -> None:
    field = orm.IntegerField(db_default=orm.Value(1) + orm.F("n"))
    text = MigrationWriter(make([migrations.AddField("book", "m", field)])).as_string()
    assert "orm.Value(1)" in text and 'orm.F("n")' in text
    assert deep_deconstruct(load(text).operations[0].field) == deep_deconstruct(field)


def test_a_function_that_cannot_be_rebuilt_is_refused_clearly() -> None:
    field = orm.IntegerField(db_default=_Scaled("n", 2))
    with pytest.raises(ValueError, match="_Scaled cannot be rebuilt from its expressions alone"):
        MigrationWriter(make([migrations.AddField("book", "m", field)])).as_string()
