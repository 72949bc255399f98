"""Multi-table inheritance and the parent's relations (issue 16 gaps).

A filter on a reverse one-to-one joins it INNER (Django's JoinPromoter) with
the same rows as before; ``only()`` on a child always loads its primary key,
the parent link, so ``pk`` costs no query; ``select_related()`` from a child
follows the relations declared on its parent (a forward foreign key and the
parent's reverse one-to-ones).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import orm
from orm.exceptions import FieldError
from orm.models.registry import Apps

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixture drops the tables it made, which PostgreSQL refuses inside the
# test's wrapping transaction while deferred foreign-key checks are pending.
pytestmark = pytest.mark.transactional


def _models() -> dict[str, Any]:
    apps = Apps()

    def meta(**extra: Any) -> type:
        return type("Meta", (), {"app_label": "mtirel", "apps": apps, **extra})

    class City(orm.Model):
        name = orm.CharField(max_length=30)
        Meta = meta()

    class Place(orm.Model):
        name = orm.CharField(max_length=50)
        city = orm.ForeignKey(City, on_delete=orm.CASCADE, null=True, related_name="places")
        Meta = meta(ordering=["name"])

    class Restaurant(Place):
        serves_pizza = orm.BooleanField(default=False)
        Meta = meta()

    class Menu(orm.Model):
        place = orm.OneToOneField(Place, on_delete=orm.CASCADE, related_name="menu")
        dishes = orm.IntegerField(default=0)
        Meta = meta()

    return {"City": City, "Place": Place, "Restaurant": Restaurant, "Menu": Menu}


@pytest.fixture
def models(db: str) -> Iterator[dict[str, Any]]:
    found = _models()
    orm.create_tables(*found.values())
    yield found
    orm.drop_tables(*reversed(list(found.values())))


@pytest.fixture
def rows(models: dict[str, Any]) -> dict[str, Any]:
    city = models["City"].objects.create(name="Rome")
    pizzeria = models["Restaurant"].objects.create(name="Pizzeria", serves_pizza=True, city=city)
    diner = models["Restaurant"].objects.create(name="Diner", serves_pizza=False)
    park = models["Place"].objects.create(name="Park")
    models["Menu"].objects.create(place_id=pizzeria.pk, dishes=12)
    models["Menu"].objects.create(place_id=park.pk, dishes=1)
    return {"city": city, "pizzeria": pizzeria, "diner": diner, "park": park}


def test_reverse_one_to_one_filters_keep_django_rows(
    models: dict[str, Any], rows: dict[str, Any]
) -> None:
    place = models["Place"]

    def names(qs: Any) -> list[str]:
        return [p.name for p in qs]

    assert names(place.objects.filter(restaurant__serves_pizza=True)) == ["Pizzeria"]
    assert names(place.objects.filter(restaurant__isnull=False)) == ["Diner", "Pizzeria"]
    assert names(place.objects.filter(restaurant__isnull=True)) == ["Park"]
    assert names(
        place.objects.filter(orm.Q(restaurant__serves_pizza=True) | orm.Q(name="Park"))
    ) == ["Park", "Pizzeria"]
    assert names(place.objects.exclude(restaurant__serves_pizza=True)) == ["Diner", "Park"]
    assert names(place.objects.filter(menu__dishes__gt=5)) == ["Pizzeria"]
    assert names(place.objects.filter(menu__dishes__gt=0, restaurant__serves_pizza=False)) == []
    either = place.objects.filter(orm.Q(menu__dishes=1) | orm.Q(restaurant__serves_pizza=False))
    assert names(either) == ["Diner", "Park"]
    assert names(either.filter(restaurant__isnull=False)) == ["Diner"]
    assert "INNER JOIN" in str(place.objects.filter(menu__dishes__gt=5).query)


def test_only_on_a_child_loads_the_parent_link_so_pk_costs_no_query(
    models: dict[str, Any],
    rows: dict[str, Any],
    count_queries: Any,
) -> None:
    restaurant = models["Restaurant"]
    pizzeria = rows["pizzeria"]
    for fields in (("serves_pizza",), ("name",), ("name", "serves_pizza")):
        with count_queries() as counter:
            got = restaurant.objects.only(*fields).get(pk=pizzeria.pk)
            assert got.pk == got.place_ptr_id == pizzeria.pk
        assert len(counter.queries) == 1
        assert "place_ptr_id" not in got.get_deferred_fields()
    got = restaurant.objects.only("serves_pizza").get(pk=pizzeria.pk)
    assert got.get_deferred_fields() == {
        "id",
        "name",
        "city_id",
    }  # as Django: the parent's own pk too
    with count_queries() as counter:
        assert got.name == "Pizzeria"  # a deferred parent field loads on access
    assert len(counter.queries) == 1
    assert restaurant.objects.defer("serves_pizza", "name").get(pk=pizzeria.pk).pk == pizzeria.pk


def test_select_related_from_a_child_follows_the_parents_relations(
    models: dict[str, Any],
    rows: dict[str, Any],
    count_queries: Any,
) -> None:
    restaurant = models["Restaurant"]
    with count_queries() as counter:
        got = list(restaurant.objects.select_related("city", "menu").order_by("name"))
        assert [r.name for r in got] == ["Diner", "Pizzeria"]
        diner, pizzeria = got
        assert diner.city is None
        assert pizzeria.city.name == "Rome"
        assert pizzeria.menu.dishes == 12
        with pytest.raises(models["Menu"].DoesNotExist):
            diner.menu  # noqa: B018  (cached as missing: no query)
    assert len(counter.queries) == 1
    with count_queries() as counter:
        assert restaurant.objects.select_related("menu").get(serves_pizza=True).menu.dishes == 12
    assert len(counter.queries) == 1
    with pytest.raises(FieldError, match="Choices are: city, menu"):
        list(restaurant.objects.select_related("nothing"))


async def test_select_related_of_the_parents_relations_async(
    models: dict[str, Any],
    rows: dict[str, Any],
) -> None:
    got = await models["Restaurant"].objects.select_related("city", "menu").aget(serves_pizza=True)
    assert (got.city.name, got.menu.dishes) == ("Rome", 12)
