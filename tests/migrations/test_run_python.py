"""``RunPython`` with historical models (issue 13), sync and ``async def``, SQLite and PostgreSQL.

- The function gets ``apps`` whose models create, filter across foreign
  keys, ``select_related``, use many-to-many and reverse accessors.
- An ``async def`` function's ``a*`` calls run on the migration's thread,
  inside the migration's transaction: an error later in the migration rolls
  them back, and other connections do not see them before the commit, also
  while other requests run concurrently in their own ``connection_scope()``.
- ``reverse_code`` runs when unapplied; without one the migration refuses to
  be unapplied before doing anything.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import IrreversibleError, ProjectState
from tests.migrations.helpers import auto_id

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "i13_rp"


class Tag(orm.Model):
    """The live model of the table the migrations below create (read by other requests)."""

    name = orm.CharField(max_length=20)

    class Meta:
        app_label = APP


def schema_operations() -> list[migrations.Operation]:
    return [
        migrations.CreateModel("Author", [auto_id(), ("name", orm.CharField(max_length=50))]),
        migrations.CreateModel("Tag", [auto_id(), ("name", orm.CharField(max_length=20))]),
        migrations.CreateModel("Book", [
            auto_id(), ("title", orm.CharField(max_length=100)),
            ("author", orm.ForeignKey(f"{APP}.author", on_delete=orm.CASCADE, related_name="books")),
            ("tags", orm.ManyToManyField(f"{APP}.tag", related_name="books")),
        ]),
    ]


def make_migration(operations: list[migrations.Operation], name: str) -> migrations.Migration:
    return type("Migration", (migrations.Migration,), {"operations": operations})(name, APP)


def run(migration: migrations.Migration, state: ProjectState, backwards: bool = False) -> ProjectState:
    with orm.connection.schema_editor(atomic=migration.atomic) as editor:
        if backwards:
            return migration.unapply(state, editor)
        return migration.apply(state, editor)


def migrated() -> ProjectState:
    return run(make_migration(schema_operations(), "0001_initial"), ProjectState())


def use_historical_models(apps: Any, schema_editor: Any, seen: dict[str, Any]) -> None:
    author, tag, book = (apps.get_model(APP, name) for name in ("Author", "Tag", "Book"))
    assert author.__module__ == "__fake__" and author is not Tag
    ann = author.objects.create(name="Ann")
    ben = author.objects.create(name="Ben")
    py, db = tag.objects.create(name="py"), tag.objects.create(name="db")
    first = book.objects.create(title="First", author=ann)
    second = book.objects.create(title="Second", author=ben)
    first.tags.add(py, db)
    second.tags.add(db)
    seen["across_fk"] = list(book.objects.filter(author__name="Ben").values_list("title", flat=True))
    got = book.objects.select_related("author").get(title="First")
    seen["selected"] = type(got._state.fields_cache["author"]) is author and got.author.name == "Ann"
    seen["reverse"] = [b.title for b in ann.books.all()]
    seen["m2m"] = sorted(t.name for t in first.tags.all())
    seen["m2m_reverse"] = sorted(b.title for b in db.books.all())
    seen["across_m2m"] = list(author.objects.filter(books__tags__name="py").values_list("name", flat=True))
    seen["in_transaction"] = schema_editor.connection.in_atomic_block


async def ause_historical_models(apps: Any, schema_editor: Any, seen: dict[str, Any]) -> None:
    author, tag, book = (apps.get_model(APP, name) for name in ("Author", "Tag", "Book"))
    seen["thread"] = await orm.sync_to_async(threading.get_ident)()
    ann = await author.objects.acreate(name="Ann")
    ben = await author.objects.acreate(name="Ben")
    py, db = await tag.objects.acreate(name="py"), await tag.objects.acreate(name="db")
    first = await book.objects.acreate(title="First", author=ann)
    second = await book.objects.acreate(title="Second", author=ben)
    await first.tags.aadd(py, db)
    await second.tags.aadd(db)
    seen["across_fk"] = [t async for t in book.objects.filter(author__name="Ben").values_list("title", flat=True)]
    got = await book.objects.select_related("author").aget(title="First")
    seen["selected"] = type(got._state.fields_cache["author"]) is author and got.author.name == "Ann"
    seen["reverse"] = [b.title async for b in ann.books.all()]
    seen["m2m"] = sorted([t.name async for t in first.tags.all()])
    seen["m2m_reverse"] = sorted([b.title async for b in db.books.all()])
    seen["across_m2m"] = [n async for n in author.objects.filter(books__tags__name="py").values_list(
        "name", flat=True)]
    seen["in_transaction"] = await orm.sync_to_async(lambda: schema_editor.connection.in_atomic_block)()


EXPECTED = {
    "across_fk": ["Second"], "selected": True, "reverse": ["First"], "m2m": ["db", "py"],
    "m2m_reverse": ["First", "Second"], "across_m2m": ["Ann"], "in_transaction": True,
}


@pytest.mark.parametrize("code", [use_historical_models, ause_historical_models], ids=["sync", "async"])
def test_historical_models_work_in_run_python(backend: str, code: Any) -> None:
    state = migrated()
    seen: dict[str, Any] = {}
    run(make_migration([migrations.RunPython(functools.partial(code, seen=seen))], "0002_data"), state)
    assert {key: seen[key] for key in EXPECTED} == EXPECTED
    if "thread" in seen:
        assert seen["thread"] == threading.get_ident()  # the migration's own thread
    assert Tag.objects.count() == 2  # committed with the migration


def fail(apps: Any, schema_editor: Any) -> None:
    raise RuntimeError("boom")


@pytest.mark.parametrize("code", [use_historical_models, ause_historical_models], ids=["sync", "async"])
def test_run_python_work_rolls_back_with_the_migration(backend: str, code: Any) -> None:
    state = migrated()
    migration = make_migration([
        migrations.RunPython(functools.partial(code, seen={})),
        migrations.RunPython(fail),
    ], "0002_data")
    with pytest.raises(RuntimeError, match="boom"):
        run(migration, state)
    assert Tag.objects.count() == 0
    assert not orm.connection.in_atomic_block


async def async_fail(apps: Any, schema_editor: Any) -> None:
    await apps.get_model(APP, "Tag").objects.acreate(name="doomed")
    raise ValueError("async boom")


def test_an_error_in_an_async_function_rolls_the_migration_back(backend: str) -> None:
    state = migrated()
    with pytest.raises(ValueError, match="async boom"):
        run(make_migration([migrations.RunPython(async_fail)], "0002_data"), state)
    assert Tag.objects.count() == 0


def add_tag(apps: Any, schema_editor: Any) -> None:
    apps.get_model(APP, "Tag").objects.create(name="added")


async def remove_tag(apps: Any, schema_editor: Any) -> None:
    await apps.get_model(APP, "Tag").objects.filter(name="added").adelete()


def test_reverse_code_runs_when_unapplied_and_is_required(backend: str) -> None:
    state = migrated()
    reversible = make_migration([migrations.RunPython(add_tag, remove_tag)], "0002_data")
    run(reversible, state.clone())
    assert list(Tag.objects.values_list("name", flat=True)) == ["added"]
    run(reversible, state, backwards=True)
    assert Tag.objects.count() == 0
    run(make_migration([migrations.RunPython(add_tag, migrations.RunPython.noop)], "0003_noop"), state.clone())
    run(make_migration([migrations.RunPython(add_tag, migrations.RunPython.noop)], "0003_noop"), state,
        backwards=True)
    assert Tag.objects.count() == 1
    one_way = make_migration([migrations.RunPython(remove_tag, migrations.RunPython.noop),
                              migrations.RunPython(add_tag)], "0004_one_way")
    with pytest.raises(IrreversibleError, match=r"RunPython.*i13_rp.0004_one_way cannot be unapplied.*reverse_code"):
        run(one_way, state, backwards=True)
    assert Tag.objects.count() == 1  # nothing ran


def test_run_python_sees_the_state_before_it(backend: str) -> None:
    """``apps`` is the state before the operation: a field added after it is not there yet."""
    state = migrated()
    fields: list[list[str]] = []

    def record(apps: Any, schema_editor: Any) -> None:
        fields.append([f.name for f in apps.get_model(APP, "Tag")._meta.local_fields])

    run(make_migration([
        migrations.RunPython(record),
        migrations.AlterModelOptions("Tag", {"ordering": ["name"]}),
        migrations.RunPython(record),
    ], "0002_data"), state)
    assert fields == [["id", "name"], ["id", "name"]]


async def test_async_run_python_in_a_migration_run_from_async_code_under_concurrent_requests(
    backend: str,
) -> None:
    """The migration runs on the shared sync thread (as ``await orm.amigrate()`` will); its
    async function's queries stay on that thread and in its transaction, while other requests,
    each in its own scope, query the table and see only committed rows."""
    await orm.sync_to_async(migrated)()
    inserted, observed = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    async def fill(apps: Any, schema_editor: Any) -> None:
        tag = apps.get_model(APP, "Tag")
        seen["function_thread"] = await orm.sync_to_async(threading.get_ident)()
        for i in range(20):
            await tag.objects.acreate(name=f"t{i}")
        inserted.set()
        # Wait (off this loop's thread) until the other requests have looked.
        await asyncio.get_running_loop().run_in_executor(None, observed.wait, 20)
        seen["inside"] = await tag.objects.acount()

    def migrate() -> None:
        seen["migration_thread"] = threading.get_ident()
        state = ProjectState()
        for operation in schema_operations():
            operation.state_forwards(APP, state)
        run(make_migration([migrations.RunPython(fill)], "0002_fill"), state)

    task = asyncio.ensure_future(orm.sync_to_async(migrate)())
    assert await asyncio.get_running_loop().run_in_executor(None, inserted.wait, 20)

    async def other_request() -> int:
        async with orm.connection_scope():
            return await Tag.objects.acount()

    counts = await asyncio.gather(*(other_request() for _ in range(8)))
    observed.set()
    await task
    assert counts == [0] * 8  # not committed yet: the migration's transaction holds the rows
    assert seen["inside"] == 20
    assert seen["function_thread"] == seen["migration_thread"]
    assert await Tag.objects.acount() == 20


def test_a_non_atomic_migration_gives_a_transaction_to_atomic_functions_only(backend: str) -> None:
    state = migrated()
    seen: list[bool] = []

    def record(apps: Any, schema_editor: Any) -> None:
        seen.append(schema_editor.connection.in_atomic_block)

    migration = type("Migration", (migrations.Migration,), {"atomic": False, "operations": [
        migrations.RunPython(record, atomic=True),
        migrations.RunPython(record),
    ]})("0002_non_atomic", APP)
    run(migration, state)
    assert seen == [True, False]
