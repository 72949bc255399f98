"""``reduce()`` and ``MigrationOptimizer`` (issue 13): operations fold into fewer.

Each case also checks that the optimized list builds the same state as the
original one, which is what "without changing what it does" means.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import MigrationOptimizer, Operation
from tests.migrations.helpers import auto_id, replay

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "i13_opt"


def optimize(operations: list[Operation]) -> list[Operation]:
    optimized = MigrationOptimizer().optimize(operations, APP)
    # Same end state (states are compared model by model).
    assert replay(APP, optimized) == replay(APP, operations)
    return optimized


def fk(target: str, **kwargs: Any) -> orm.ForeignKey:
    return orm.ForeignKey(f"{APP}.{target}", on_delete=orm.CASCADE, **kwargs)


def create(name: str, *fields: tuple[str, Any], **kwargs: Any) -> migrations.CreateModel:
    return migrations.CreateModel(name, [auto_id(), *fields], **kwargs)


def test_create_model_absorbs_field_operations() -> None:
    title = orm.CharField(max_length=10)
    assert optimize([
        create("Book"),
        migrations.AddField("Book", "title", title),
        migrations.AddField("Book", "pages", orm.IntegerField(default=0)),
        migrations.AlterField("Book", "title", orm.CharField(max_length=99)),
        migrations.RenameField("Book", "pages", "page_count"),
        migrations.RemoveField("Book", "page_count"),
    ]) == [create("Book", ("title", orm.CharField(max_length=99)))]


def test_create_model_absorbs_options_indexes_and_constraints() -> None:
    index = orm.Index(fields=["title"], name="book_title")
    check = orm.CheckConstraint(condition=orm.Q(pages__gte=0), name="pages_gte_0")
    fields = (("title", orm.CharField(max_length=10)), ("pages", orm.IntegerField()))
    assert optimize([
        create("Book", *fields),
        migrations.AlterModelOptions("Book", {"ordering": ["title"]}),
        migrations.AlterModelTable("Book", "books"),
        migrations.AlterUniqueTogether("Book", {("title", "pages")}),
        migrations.AddIndex("Book", index),
        migrations.AddConstraint("Book", check),
        migrations.AddIndex("Book", orm.Index(fields=["pages"], name="tmp")),
        migrations.RemoveIndex("Book", "tmp"),
    ]) == [create("Book", *fields, options={
        "ordering": ["title"], "db_table": "books", "unique_together": {("title", "pages")},
        "indexes": [index], "constraints": [check]})]


def test_create_then_delete_is_nothing() -> None:
    assert optimize([create("Tmp"), migrations.AddField("Tmp", "a", orm.IntegerField(null=True)),
                     migrations.DeleteModel("Tmp")]) == []


def test_add_then_remove_field_is_nothing() -> None:
    operations = [create("Book"), create("Author")]
    assert optimize([*operations, migrations.AddField("Author", "x", orm.IntegerField(null=True)),
                     migrations.AddField("Book", "y", orm.IntegerField(null=True)),
                     migrations.RemoveField("Author", "x")]) == [
        create("Book", ("y", orm.IntegerField(null=True))), create("Author")]
    assert MigrationOptimizer().optimize([
        migrations.AddField("Book", "x", orm.IntegerField(null=True)),
        migrations.RemoveField("Book", "x")], APP) == []


def test_add_field_absorbs_alter_and_rename() -> None:
    assert MigrationOptimizer().optimize([
        migrations.AddField("Book", "x", orm.IntegerField(null=True)),
        migrations.AlterField("Book", "x", orm.BigIntegerField(null=True)),
        migrations.RenameField("Book", "x", "y"),
    ], APP) == [migrations.AddField("Book", "y", orm.BigIntegerField(null=True))]


def test_renames_fold() -> None:
    assert optimize([
        create("A"),
        migrations.RenameModel("A", "B"),
        migrations.RenameModel("B", "C"),
    ]) == [create("C")]
    assert MigrationOptimizer().optimize([
        migrations.RenameModel("A", "B"), migrations.RenameModel("B", "C")], APP) == [
        migrations.RenameModel("A", "C")]
    assert MigrationOptimizer().optimize([
        migrations.RenameField("Book", "a", "b"), migrations.RenameField("Book", "b", "c")], APP) == [
        migrations.RenameField("Book", "a", "c")]
    assert MigrationOptimizer().optimize([
        migrations.RenameIndex("Book", "b", old_name="a"), migrations.RenameIndex("Book", "c", old_name="b")],
        APP) == [migrations.RenameIndex("Book", "c", old_name="a")]
    index = orm.Index(fields=["title"], name="a")
    assert MigrationOptimizer().optimize([
        migrations.AddIndex("Book", index), migrations.RenameIndex("Book", "b", old_name="a")], APP) == [
        migrations.AddIndex("Book", orm.Index(fields=["title"], name="b"))]


def test_alter_then_alter_or_remove_keeps_the_last() -> None:
    assert MigrationOptimizer().optimize([
        migrations.AlterField("Book", "x", orm.IntegerField()),
        migrations.AlterField("Book", "x", orm.BigIntegerField()),
    ], APP) == [migrations.AlterField("Book", "x", orm.BigIntegerField())]
    assert MigrationOptimizer().optimize([
        migrations.AlterField("Book", "x", orm.IntegerField()), migrations.RemoveField("Book", "x")], APP) == [
        migrations.RemoveField("Book", "x")]
    assert MigrationOptimizer().optimize([
        migrations.AlterModelOptions("Book", {"ordering": ["a"]}),
        migrations.AlterModelOptions("Book", {"ordering": ["b"]})], APP) == [
        migrations.AlterModelOptions("Book", {"ordering": ["b"]})]
    assert MigrationOptimizer().optimize([
        migrations.RemoveField("Book", "x"), migrations.DeleteModel("Book")], APP) == [
        migrations.DeleteModel("Book")]
    assert MigrationOptimizer().optimize([
        migrations.AddConstraint("Book", orm.UniqueConstraint(fields=["a"], name="u")),
        migrations.RemoveConstraint("Book", "u")], APP) == []


def test_operations_move_across_unrelated_ones_only() -> None:
    # Book's AddField can move across Author's operations into CreateModel(Book).
    assert optimize([
        create("Book"),
        create("Author"),
        migrations.AddField("Book", "author", fk("author")),
    ]) == [create("Author"), create("Book", ("author", fk("author")))]
    # A reference to the created model in between keeps them apart...
    blocked = [
        create("Book"),
        create("Review", ("book", fk("book"))),
        migrations.DeleteModel("Book"),
    ]
    assert MigrationOptimizer().optimize(blocked, APP) == blocked
    # ...and so does an operation that may refer to anything (raw SQL).
    raw = [create("Book"), migrations.RunSQL("SELECT 1"), migrations.DeleteModel("Book")]
    assert MigrationOptimizer().optimize(raw, APP) == raw


def test_elidable_operations_are_dropped() -> None:
    elidable = migrations.RunSQL("UPDATE x SET y = 1", elidable=True)
    assert MigrationOptimizer().optimize([create("Book"), elidable, migrations.DeleteModel("Book")], APP) == []


def test_the_optimizer_reaches_a_fixed_point() -> None:
    optimizer = MigrationOptimizer()
    result = optimizer.optimize([
        create("A"), migrations.AddField("A", "x", orm.IntegerField(null=True)),
        migrations.AddField("A", "y", orm.IntegerField(null=True)), migrations.RemoveField("A", "x"),
    ], APP)
    assert result == [create("A", ("y", orm.IntegerField(null=True)))]
    assert optimizer.iterations >= 2
    assert optimizer.optimize(result, APP) == result and optimizer.iterations == 1
    with pytest.raises(TypeError, match="app_label must be a str"):
        optimizer.optimize([], None)  # type: ignore[arg-type]


def test_preserve_default_false_is_kept_when_folding() -> None:
    folded = MigrationOptimizer().optimize([
        create("Book"),
        migrations.AddField("Book", "n", orm.IntegerField(default=3), preserve_default=False),
    ], APP)
    assert folded == [create("Book", ("n", orm.IntegerField()))]
