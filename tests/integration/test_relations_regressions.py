"""Regressions of related managers and many-to-many joins (issue 11, items 9, 14, 20 and 23).

- 9: the statements behind concurrent many-to-many writes (the load test is
  ``tests/scopes/test_m2m_concurrency.py``): ``add()`` skips existing links
  with ON CONFLICT DO NOTHING, ``add()``/``set()`` lock the object's row first.
- 14: two ManyToManyFields to one model, both ``related_name="+"``, each read
  their own join table (the hidden reverse names no longer collide).
- 20: a relation through ``to_field`` whose value is NULL on the instance is
  empty when read and refuses writes, naming the field; managers of unsaved
  instances refuse, as Django's do.
- 23: a ``through`` model whose foreign keys use ``to_field`` joins on those
  columns everywhere: reading either side, filtering, prefetching, writing
  and deleting.

Each model set gets a fresh database (``backend``) and ``orm.create_tables``.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm

APP = "i11_rel"


# ------------------------------------------------------------------- item 14


class Line(orm.Model):
    name = orm.CharField(max_length=20)

    class Meta:
        app_label = APP


class Post(orm.Model):
    title = orm.CharField(max_length=20, default="")
    primary_lines = orm.ManyToManyField(Line, related_name="+")
    secondary_lines = orm.ManyToManyField(Line, related_name="+")

    class Meta:
        app_label = APP


def names(objs: Any) -> list[str]:
    return sorted(o.name for o in objs)


def test_two_hidden_m2m_to_one_model_read_their_own_join_tables(backend: str) -> None:
    orm.create_tables(Line, Post)
    post = Post.objects.create()
    first, second = Line.objects.create(name="first"), Line.objects.create(name="second")
    post.primary_lines.add(first)
    post.secondary_lines.add(second)

    assert names(post.primary_lines.all()) == ["first"]
    assert names(post.secondary_lines.all()) == ["second"]
    assert post.primary_lines.count() == 1
    fetched = Post.objects.prefetch_related("primary_lines", "secondary_lines").get()
    assert names(fetched.primary_lines.all()) == ["first"]
    assert names(fetched.secondary_lines.all()) == ["second"]
    post.secondary_lines.set([first, second])
    assert names(post.primary_lines.all()) == ["first"]
    post.primary_lines.remove(first)
    assert names(post.secondary_lines.all()) == ["first", "second"]


def test_hidden_m2m_names_are_unique_and_stay_hidden(backend: str) -> None:
    first = Post._meta.get_field("primary_lines").remote_field
    second = Post._meta.get_field("secondary_lines").remote_field
    assert first.is_hidden() and second.is_hidden()
    assert first.get_query_name() != second.get_query_name()
    assert not hasattr(Line, "+")
    # A lookup from Line by a hidden name is not offered among the choices.
    with pytest.raises(orm.FieldError) as info:
        Line.objects.filter(nope=1)
    assert "+" not in str(info.value)


# ------------------------------------------------------------------- item 20


class Car(orm.Model):
    make = orm.CharField(max_length=20, unique=True, null=True)

    class Meta:
        app_label = APP


class Driver(orm.Model):
    name = orm.CharField(max_length=20)
    car = orm.ForeignKey(
        Car, on_delete=orm.SET_NULL, to_field="make", null=True, related_name="drivers"
    )

    class Meta:
        app_label = APP


class Badge(orm.Model):
    code = orm.CharField(max_length=20, unique=True)

    class Meta:
        app_label = APP


class Member(orm.Model):
    badges = orm.ManyToManyField(Badge, related_name="members")

    class Meta:
        app_label = APP


@pytest.fixture
def garage(backend: str) -> tuple[Any, Any]:
    """A saved car whose ``make`` (the to_field) is NULL, and a driver with no car."""
    orm.create_tables(Car, Driver, Badge, Member)
    car = Car.objects.create(make=None)
    driver = Driver.objects.create(name="loose", car=None)
    return car, driver


def test_reverse_fk_through_null_to_field_reads_empty(garage: tuple[Any, Any]) -> None:
    car, _driver = garage
    assert car.drivers.count() == 0
    assert list(car.drivers.all()) == []
    assert list(car.drivers.filter(name="loose")) == []
    assert not car.drivers.exists()
    fetched = Car.objects.prefetch_related("drivers").get(pk=car.pk)
    assert list(fetched.drivers.all()) == []


def test_reverse_fk_through_null_to_field_refuses_writes(garage: tuple[Any, Any]) -> None:
    car, driver = garage
    message = (
        f'"{car!r}" needs to have a value for field "make" before this relationship can be used.'
    )
    for call in (
        lambda: car.drivers.add(driver),
        lambda: car.drivers.create(name="new"),
        lambda: car.drivers.get_or_create(name="new"),
        lambda: car.drivers.update_or_create(name="new"),
        lambda: car.drivers.remove(driver),
        lambda: car.drivers.clear(),
        lambda: car.drivers.set([driver]),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == message
    assert Driver.objects.get().car_id is None  # nothing stored changed
    assert Driver.objects.count() == 1


async def test_reverse_fk_through_null_to_field_async_twins(garage: tuple[Any, Any]) -> None:
    car, driver = garage
    assert await car.drivers.acount() == 0
    with pytest.raises(ValueError, match='needs to have a value for field "make"'):
        await car.drivers.aadd(driver)


def test_reverse_fk_of_unsaved_instance_refuses(backend: str) -> None:
    orm.create_tables(Car, Driver)
    message = (
        "'Car' instance needs to have a primary key value before this relationship can be used."
    )
    for unsaved in (Car(make="given"), Car()):
        with pytest.raises(ValueError) as info:
            unsaved.drivers.count()
        assert str(info.value) == message
        with pytest.raises(ValueError) as info:
            list(unsaved.drivers.all())
        assert str(info.value) == message
    with pytest.raises(ValueError, match='needs to have a value for field "make" before'):
        Car().drivers.create(name="new")
    with pytest.raises(ValueError, match="'Car' instance needs to have a primary key value"):
        Car(make="given").drivers.create(name="new")
    assert Driver.objects.count() == 0


def test_m2m_of_unsaved_instance_refuses_on_both_sides(backend: str) -> None:
    orm.create_tables(Badge, Member)
    badge = Badge.objects.create(code="b1")
    unsaved_member, unsaved_badge = Member(), Badge(code="b2")
    with pytest.raises(ValueError) as info:
        unsaved_member.badges.add(badge)
    assert str(info.value) == (
        f'"{unsaved_member!r}" needs to have a value for field "id" before '
        "this many-to-many relationship can be used."
    )
    with pytest.raises(
        ValueError, match='needs to have a value for field "id" before this many-to-many'
    ):
        unsaved_badge.members.count()
    with pytest.raises(ValueError, match="many-to-many relationship can be used"):
        list(Member().badges.all())
    assert Member.badges.through.objects.count() == 0


# ------------------------------------------------------------------- item 23


class Ingredient(orm.Model):
    name = orm.CharField(max_length=20, unique=True)

    class Meta:
        app_label = APP


class Recipe(orm.Model):
    title = orm.CharField(max_length=20, unique=True)
    ingredients = orm.ManyToManyField(
        Ingredient, through="RecipeIngredient", related_name="recipes"
    )

    class Meta:
        app_label = APP


class RecipeIngredient(orm.Model):
    recipe = orm.ForeignKey(Recipe, on_delete=orm.CASCADE, to_field="title")
    ingredient = orm.ForeignKey(Ingredient, on_delete=orm.CASCADE, to_field="name")

    class Meta:
        app_label = APP


class Kitchen:
    def __init__(self) -> None:
        orm.create_tables(Ingredient, Recipe, RecipeIngredient)
        # The primary keys differ from the to_field values' order on purpose.
        self.salt = Ingredient.objects.create(name="salt")
        self.curry = Ingredient.objects.create(name="curry")
        self.rice = Ingredient.objects.create(name="rice")
        self.pilaf = Recipe.objects.create(title="pilaf")
        self.dal = Recipe.objects.create(title="dal")
        RecipeIngredient.objects.create(recipe=self.dal, ingredient=self.curry)
        RecipeIngredient.objects.create(recipe=self.pilaf, ingredient=self.rice)

    @staticmethod
    def links() -> list[tuple[str, str]]:
        return sorted(RecipeIngredient.objects.values_list("recipe_id", "ingredient_id"))


@pytest.fixture
def kitchen(backend: str) -> Kitchen:
    return Kitchen()


def test_through_to_field_reads_both_sides(kitchen: Kitchen) -> None:
    assert names(kitchen.dal.ingredients.all()) == ["curry"]
    assert [r.title for r in kitchen.curry.recipes.all()] == ["dal"]
    assert kitchen.dal.ingredients.count() == 1
    assert list(kitchen.salt.recipes.all()) == []


def test_through_to_field_filters_across_the_relation(kitchen: Kitchen) -> None:
    assert [r.title for r in Recipe.objects.filter(ingredients__name="curry")] == ["dal"]
    assert [r.title for r in Recipe.objects.filter(ingredients=kitchen.curry)] == ["dal"]
    assert [r.title for r in Recipe.objects.filter(ingredients__in=[kitchen.rice])] == ["pilaf"]
    assert names(Ingredient.objects.filter(recipes__title="dal")) == ["curry"]
    assert names(Ingredient.objects.filter(recipes=kitchen.pilaf)) == ["rice"]
    # As in Django, the relation's own value is the to_field value.
    assert sorted(Recipe.objects.values_list("ingredients", flat=True)) == ["curry", "rice"]


def test_through_to_field_prefetches_both_sides(kitchen: Kitchen) -> None:
    recipes = {
        r.title: names(r.ingredients.all()) for r in Recipe.objects.prefetch_related("ingredients")
    }
    assert recipes == {"dal": ["curry"], "pilaf": ["rice"]}
    ingredients = {
        i.name: [r.title for r in i.recipes.all()]
        for i in Ingredient.objects.prefetch_related("recipes")
    }
    assert ingredients == {"curry": ["dal"], "rice": ["pilaf"], "salt": []}


def test_through_to_field_writes_join_rows_with_to_field_values(kitchen: Kitchen) -> None:
    kitchen.dal.ingredients.add(kitchen.salt)
    assert kitchen.links() == [("dal", "curry"), ("dal", "salt"), ("pilaf", "rice")]
    kitchen.dal.ingredients.remove(kitchen.curry)
    assert kitchen.links() == [("dal", "salt"), ("pilaf", "rice")]
    kitchen.dal.ingredients.set([kitchen.curry, kitchen.rice])
    assert kitchen.links() == [("dal", "curry"), ("dal", "rice"), ("pilaf", "rice")]
    kitchen.rice.recipes.clear()
    assert kitchen.links() == [("dal", "curry")]
    kitchen.rice.recipes.add(kitchen.pilaf)
    pepper = kitchen.pilaf.ingredients.create(name="pepper")
    assert kitchen.links() == [("dal", "curry"), ("pilaf", "pepper"), ("pilaf", "rice")]
    assert names(kitchen.pilaf.ingredients.all()) == ["pepper", "rice"]
    assert [r.title for r in pepper.recipes.all()] == ["pilaf"]


def test_deleting_either_side_of_a_to_field_through_removes_its_join_rows(kitchen: Kitchen) -> None:
    kitchen.dal.ingredients.add(kitchen.rice)
    kitchen.curry.delete()
    assert kitchen.links() == [("dal", "rice"), ("pilaf", "rice")]
    kitchen.pilaf.delete()
    assert kitchen.links() == [("dal", "rice")]
    assert names(kitchen.dal.ingredients.all()) == ["rice"]


# ------------------------------------------------------- item 9 (statements)
# The concurrent load test is tests/scopes/test_m2m_concurrency.py; these pin
# the statements that make it pass, on both backends.


def sql_of(ctx: Any, *starts: str) -> list[str]:
    return [sql for sql, _params in ctx.queries if sql.lstrip().upper().startswith(starts)]


def assert_locked_first(ctx: Any, backend: str, reads: int) -> None:
    """The post's row was locked before anything else was read (PostgreSQL only)."""
    selects = sql_of(ctx, "SELECT")
    if backend == "postgresql":
        assert "FOR NO KEY UPDATE" in selects[0] and '"i11_rel_post"' in selects[0], selects
        assert len(selects) == 1 + reads, selects
    else:
        # SQLite's atomic() holds the database's write lock already: no row lock.
        assert len(selects) == reads and not any("FOR" in sql for sql in selects), selects


def test_m2m_add_inserts_skipping_existing_links_in_one_statement(
    backend: str,
    count_queries: Any,
) -> None:
    orm.create_tables(Line, Post)
    post = Post.objects.create()
    first, second = Line.objects.create(name="first"), Line.objects.create(name="second")
    post.primary_lines.add(first)
    with count_queries() as ctx:
        post.primary_lines.add(first, second)  # first is linked already: skipped, no error
    (insert,) = sql_of(ctx, "INSERT")
    assert "ON CONFLICT DO NOTHING" in insert
    assert_locked_first(ctx, backend, reads=0)
    assert names(post.primary_lines.all()) == ["first", "second"]
    assert Post.primary_lines.through.objects.count() == 2


def test_m2m_add_to_a_custom_through_reads_first_and_skips_nothing(
    kitchen: Kitchen,
    count_queries: Any,
) -> None:
    # A custom through model may have unique constraints of its own whose
    # violations must still raise (as in Django): no ON CONFLICT there.
    with count_queries() as ctx:
        kitchen.dal.ingredients.add(kitchen.curry, kitchen.salt)
    reads = [sql for sql in sql_of(ctx, "SELECT") if "FOR NO KEY UPDATE" not in sql]
    assert len(reads) == 1 and '"i11_rel_recipeingredient"' in reads[0]
    inserts = sql_of(ctx, "INSERT")
    assert len(inserts) == 1 and "ON CONFLICT" not in inserts[0]
    assert kitchen.links() == [("dal", "curry"), ("dal", "salt"), ("pilaf", "rice")]


def test_m2m_set_locks_the_object_row_first(backend: str, count_queries: Any) -> None:
    orm.create_tables(Line, Post)
    post = Post.objects.create()
    first = Line.objects.create(name="first")
    with count_queries() as ctx:
        post.primary_lines.set([first])
    assert_locked_first(ctx, backend, reads=1)  # then the current links are read
    assert names(post.primary_lines.all()) == ["first"]


def test_select_for_update_no_key(backend: str, count_queries: Any) -> None:
    orm.create_tables(Line)
    line = Line.objects.create(name="locked")
    with orm.transaction.atomic(), count_queries() as ctx:
        assert list(Line.objects.select_for_update(no_key=True).filter(pk=line.pk)) == [line]
    (select,) = sql_of(ctx, "SELECT")
    if backend == "postgresql":
        assert select.endswith("FOR NO KEY UPDATE")
    else:
        assert "FOR" not in select
