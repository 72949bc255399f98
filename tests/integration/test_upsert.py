"""``bulk_create(update_conflicts=True, unique_fields=..., update_fields=...)`` on both backends.

docs/queries.md "Upsert": conflicting rows update the named fields of the
stored row, the others are inserted, and every object gets its primary key.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import orm

APP = "i17_upsert"


class Item(orm.Model):
    code = orm.CharField(max_length=20, unique=True)
    name = orm.CharField(max_length=50)
    stock = orm.IntegerField(default=0)

    class Meta:
        app_label = APP


class Pair(orm.Model):
    left = orm.IntegerField()
    right = orm.IntegerField()
    note = orm.CharField(max_length=20, default="")

    class Meta:
        app_label = APP
        unique_together = [("left", "right")]


@pytest.fixture
def tables(backend: str) -> Iterator[str]:
    orm.create_tables(Item, Pair)
    yield backend


def _rows() -> list[tuple[str, str, int]]:
    return list(Item.objects.order_by("code").values_list("code", "name", "stock"))


def test_conflicting_rows_update_only_the_named_fields(tables: str) -> None:
    kept = Item.objects.create(code="a", name="old", stock=1)
    objs = Item.objects.bulk_create(
        [Item(code="a", name="new", stock=9), Item(code="b", name="bee", stock=2)],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name"],
    )
    assert _rows() == [("a", "new", 1), ("b", "bee", 2)]  # stock of "a" was not in update_fields
    assert objs[0].pk == kept.pk  # the stored row's key, as Django 5.0+
    assert objs[1].pk == Item.objects.get(code="b").pk
    assert Item.objects.count() == 2


def test_upsert_by_primary_key_and_with_batches(tables: str) -> None:
    first = Item.objects.create(code="a", name="one")
    Item.objects.bulk_create(
        [Item(pk=first.pk, code="a", name="uno", stock=5), Item(code="c", name="tre", stock=3)],
        update_conflicts=True,
        unique_fields=["pk"],
        update_fields=["name", "stock"],
        batch_size=1,
    )
    assert _rows() == [("a", "uno", 5), ("c", "tre", 3)]


def test_upsert_on_a_composite_unique_constraint(tables: str) -> None:
    Pair.objects.create(left=1, right=2, note="x")
    Pair.objects.bulk_create(
        [Pair(left=1, right=2, note="y"), Pair(left=2, right=1, note="z")],
        update_conflicts=True,
        unique_fields=["left", "right"],
        update_fields=["note"],
    )
    assert list(Pair.objects.order_by("left").values_list("left", "right", "note")) == [
        (1, 2, "y"),
        (2, 1, "z"),
    ]


def test_unique_fields_without_a_constraint_is_a_database_error_and_changes_nothing(
    tables: str,
) -> None:
    Item.objects.create(code="a", name="old")
    error = orm.OperationalError if tables == "sqlite" else orm.ProgrammingError
    with pytest.raises(error):
        Item.objects.bulk_create(
            [Item(code="b", name="n")],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["stock"],
        )
    assert _rows() == [("a", "old", 0)]


def test_bad_arguments_change_nothing(tables: str) -> None:
    Item.objects.create(code="a", name="old")
    with pytest.raises(
        ValueError, match="Unique fields that can trigger the upsert must be provided"
    ):
        Item.objects.bulk_create(
            [Item(code="a", name="new")], update_conflicts=True, update_fields=["name"]
        )
    assert _rows() == [("a", "old", 0)]


async def test_abulk_create_upserts(tables: str) -> None:
    await Item.objects.acreate(code="a", name="old")
    objs = await Item.objects.abulk_create(
        [Item(code="a", name="new")],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name"],
    )
    assert objs[0].pk is not None
    assert [i.name async for i in Item.objects.all()] == ["new"]


def test_the_same_key_twice_in_one_batch(tables: str) -> None:
    """docs/queries.md "Upsert": PostgreSQL refuses, SQLite applies the later row."""
    objs = [Item(code="a", name="first"), Item(code="a", name="second")]
    kwargs = {"update_conflicts": True, "unique_fields": ["code"], "update_fields": ["name"]}
    if tables == "sqlite":
        Item.objects.bulk_create(objs, **kwargs)
        assert _rows() == [("a", "second", 0)]
    else:
        with pytest.raises(orm.ProgrammingError, match="cannot affect row a second time"):
            Item.objects.bulk_create(objs, **kwargs)
        assert _rows() == []
