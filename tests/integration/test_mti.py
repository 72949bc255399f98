"""Multi-table inheritance (issue 16 item 1): a concrete model subclassing concrete models."""

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


def meta(apps: Apps, **extra: Any) -> type:
    return type("Meta", (), {"app_label": "mtiapp", "apps": apps, **extra})


def _models() -> dict[str, Any]:
    apps = Apps()

    class Place(orm.Model):
        name = orm.CharField(max_length=50)
        address = orm.CharField(max_length=80, default="")
        Meta = meta(apps, ordering=["name"])

    class Restaurant(Place):
        serves_pizza = orm.BooleanField(default=False)
        Meta = meta(apps)

    class ItalianRestaurant(Restaurant):
        serves_gnocchi = orm.BooleanField(default=False)
        Meta = meta(apps)

    class Supplier(Place):
        place = orm.OneToOneField(
            Place, on_delete=orm.CASCADE, parent_link=True, related_name="supplier"
        )
        code = orm.CharField(max_length=10)
        Meta = meta(apps)

    class Review(orm.Model):
        place = orm.ForeignKey(Place, on_delete=orm.CASCADE, related_name="reviews")
        restaurant = orm.ForeignKey(
            Restaurant, on_delete=orm.CASCADE, null=True, related_name="critiques"
        )
        stars = orm.IntegerField()
        Meta = meta(apps)

    return {
        "Place": Place,
        "Restaurant": Restaurant,
        "ItalianRestaurant": ItalianRestaurant,
        "Supplier": Supplier,
        "Review": Review,
    }


@pytest.fixture
def models(db: str) -> Iterator[dict[str, Any]]:
    found = _models()
    orm.create_tables(*found.values())
    yield found
    orm.drop_tables(*found.values())


def test_meta_describes_parents_links_and_inherited_fields() -> None:
    m = _models()
    place, restaurant, italian = m["Place"], m["Restaurant"], m["ItalianRestaurant"]
    link = restaurant._meta.get_field("place_ptr")
    assert restaurant._meta.parents == {place: link}
    assert link.primary_key and link.auto_created and link.remote_field.parent_link
    assert restaurant._meta.pk is link
    assert italian._meta.get_parent_list() == [restaurant, place]
    assert italian._meta.get_ancestor_link(place) is link
    assert [f.name for f in restaurant._meta.concrete_fields] == [
        "id",
        "name",
        "address",
        "place_ptr",
        "serves_pizza",
    ]
    assert [f.name for f in restaurant._meta.local_concrete_fields] == ["place_ptr", "serves_pizza"]
    assert restaurant._meta.get_field("name") is place._meta.get_field("name")
    names = [f.name for f in restaurant._meta.get_fields()]
    assert {"name", "address", "place_ptr", "serves_pizza", "reviews", "critiques"} <= set(names)
    assert "restaurant" not in names  # the parent's side of the link belongs to the parent only
    assert restaurant._meta.ordering == ["name"]  # inherited as Django
    assert issubclass(restaurant.DoesNotExist, place.DoesNotExist)
    supplier = m["Supplier"]
    assert supplier._meta.pk is supplier._meta.get_field("place")  # the declared parent link


def test_a_field_clashing_with_a_parent_field_is_refused() -> None:
    apps = Apps()

    class Place(orm.Model):
        name = orm.CharField(max_length=50)
        Meta = meta(apps)

    with pytest.raises(
        FieldError,
        match="Local field 'name' in class 'Shop' clashes with field of the same name "
        "from base class 'Place'",
    ):
        type(
            "Shop",
            (Place,),
            {"__module__": __name__, "Meta": meta(apps), "name": orm.CharField(max_length=9)},
        )


def test_save_writes_both_rows_and_reads_them_back(models: dict[str, Any]) -> None:
    place, restaurant = models["Place"], models["Restaurant"]
    r = restaurant.objects.create(name="Pizzeria", serves_pizza=True)
    assert r.pk == r.id == r.place_ptr_id
    assert place.objects.get().name == "Pizzeria"
    got = restaurant.objects.get(name="Pizzeria")
    assert (got.name, got.serves_pizza, got.pk) == ("Pizzeria", True, r.pk)
    got.name, got.serves_pizza = "Trattoria", False
    got.save()
    assert list(place.objects.values_list("name", flat=True)) == ["Trattoria"]
    assert restaurant.objects.filter(serves_pizza=False, name="Trattoria").count() == 1
    got.address = "Main St"
    got.save(update_fields=["address"])
    assert place.objects.get().address == "Main St"


def test_parent_access_to_the_child_and_filter_by_child(models: dict[str, Any]) -> None:
    place, restaurant = models["Place"], models["Restaurant"]
    r = restaurant.objects.create(name="Pizzeria", serves_pizza=True)
    lone = place.objects.create(name="Park")
    assert place.objects.get(pk=r.pk).restaurant == r
    with pytest.raises(restaurant.DoesNotExist):
        lone.restaurant  # noqa: B018
    assert [p.name for p in place.objects.filter(restaurant__serves_pizza=True)] == ["Pizzeria"]
    assert [p.name for p in place.objects.all()] == ["Park", "Pizzeria"]
    assert place.objects.select_related("restaurant").get(pk=r.pk).restaurant.serves_pizza is True


def test_values_order_by_annotate_and_update_through_the_parent(models: dict[str, Any]) -> None:
    restaurant = models["Restaurant"]
    restaurant.objects.create(name="B", serves_pizza=True)
    restaurant.objects.create(name="A", serves_pizza=False)
    assert list(restaurant.objects.order_by("-name").values("name", "serves_pizza")) == [
        {"name": "B", "serves_pizza": True},
        {"name": "A", "serves_pizza": False},
    ]
    counted = (
        restaurant.objects.values("serves_pizza")
        .annotate(n=orm.Count("name"))
        .order_by("serves_pizza")
    )
    assert [(row["serves_pizza"], row["n"]) for row in counted] == [(False, 1), (True, 1)]
    assert restaurant.objects.filter(name="A").update(name="C", serves_pizza=True) == 1
    assert restaurant.objects.update(address="here") == 2
    assert list(restaurant.objects.values_list("name", "serves_pizza", "address")) == [
        ("B", True, "here"),
        ("C", True, "here"),
    ]


def test_multi_level_inheritance(models: dict[str, Any]) -> None:
    place, restaurant, italian = models["Place"], models["Restaurant"], models["ItalianRestaurant"]
    i = italian.objects.create(name="Gino", serves_pizza=True, serves_gnocchi=True)
    assert i.pk == i.restaurant_ptr_id == i.place_ptr_id == i.id
    got = italian.objects.get(serves_gnocchi=True, name="Gino")
    assert (got.serves_pizza, got.name) == (True, "Gino")
    assert restaurant.objects.get().italianrestaurant == got
    assert place.objects.filter(restaurant__italianrestaurant__serves_gnocchi=True).count() == 1
    deleted = got.delete()
    assert deleted == (
        3,
        {"mtiapp.ItalianRestaurant": 1, "mtiapp.Restaurant": 1, "mtiapp.Place": 1},
    )
    assert (place.objects.count(), restaurant.objects.count(), italian.objects.count()) == (0, 0, 0)


def test_delete_removes_both_rows_and_what_points_at_the_parent(models: dict[str, Any]) -> None:
    place, restaurant, review = models["Place"], models["Restaurant"], models["Review"]
    r = restaurant.objects.create(name="Pizzeria")
    review.objects.create(place_id=r.pk, stars=4)
    assert r.delete() == (3, {"mtiapp.Restaurant": 1, "mtiapp.Place": 1, "mtiapp.Review": 1})
    assert (place.objects.count(), review.objects.count()) == (0, 0)
    other = restaurant.objects.create(name="Other")
    place.objects.filter(pk=other.pk).delete()  # deleting the parent cascades to the child
    assert restaurant.objects.count() == 0
    restaurant.objects.create(name="X")
    assert restaurant.objects.all().delete()[1] == {"mtiapp.Restaurant": 1, "mtiapp.Place": 1}


def test_select_related_of_a_child_model_through_a_foreign_key(models: dict[str, Any]) -> None:
    restaurant, review = models["Restaurant"], models["Review"]
    r = restaurant.objects.create(name="Pizzeria", serves_pizza=True)
    review.objects.create(place_id=r.pk, restaurant=r, stars=5)
    got = review.objects.select_related("restaurant").get()
    assert "restaurant" in got._state.fields_cache
    assert (got.restaurant.name, got.restaurant.serves_pizza) == ("Pizzeria", True)
    assert review.objects.filter(restaurant__name="Pizzeria").count() == 1


def test_declared_parent_link_and_reverse_relations_of_the_parent(models: dict[str, Any]) -> None:
    place, supplier, review = models["Place"], models["Supplier"], models["Review"]
    s = supplier.objects.create(name="Acme", code="A1")
    assert s.pk == s.place_id == s.id
    assert place.objects.get().supplier == s
    review.objects.create(place_id=s.pk, stars=3)
    assert supplier.objects.filter(reviews__stars=3).get() == s


def test_bulk_create_is_refused_as_django_refuses_it(models: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="^Can't bulk create a multi-table inherited model$"):
        models["Restaurant"].objects.bulk_create([models["Restaurant"](name="x")])
    assert models["Place"].objects.count() == 0


async def test_async_twins_save_and_query_both_tables(models: dict[str, Any]) -> None:
    restaurant = models["Restaurant"]
    r = await restaurant.objects.acreate(name="Async", serves_pizza=True)
    got = await restaurant.objects.aget(pk=r.pk)
    assert got.name == "Async"
    await got.adelete()
    assert await models["Place"].objects.acount() == 0


def test_own_primary_key_abstract_mixin_and_proxy_of_a_child(db: str) -> None:
    apps = Apps()

    class Stamp(orm.Model):
        stamp = orm.IntegerField(default=0)
        Meta = meta(apps, abstract=True)

    class Place(orm.Model):
        name = orm.CharField(max_length=50)
        Meta = meta(apps)

    class Shop(Stamp, Place):
        code = orm.CharField(max_length=5)
        Meta = meta(apps)

    class Kiosk(Place):
        uid = orm.BigAutoField(primary_key=True)
        size = orm.IntegerField(default=1)
        Meta = meta(apps)

    class LoudShop(Shop):
        Meta = meta(apps, proxy=True)

        def shout(self) -> str:
            return str(self.name).upper()

    orm.create_tables(Place, Shop, Kiosk)
    try:
        assert [f.name for f in Shop._meta.concrete_fields] == [
            "id",
            "name",
            "place_ptr",
            "stamp",
            "code",
        ]
        Place.objects.create(name="first")
        kiosk = Kiosk.objects.create(name="k", size=5)
        assert kiosk._meta.pk.name == "uid" and not kiosk._meta.get_field("place_ptr").primary_key
        assert kiosk.place_ptr_id == kiosk.id != kiosk.uid
        got = Kiosk.objects.get(name="k")
        got.name = "k2"
        got.save()
        assert Place.objects.get(pk=kiosk.id).name == "k2"
        assert kiosk.delete() == (2, {"mtiapp.Kiosk": 1, "mtiapp.Place": 1})
        Shop.objects.create(name="s", code="c", stamp=3)
        loud = LoudShop.objects.get(name="s", stamp=3)
        assert loud.shout() == "S"
        assert loud.delete() == (2, {"mtiapp.LoudShop": 1, "mtiapp.Place": 1})
        assert list(Place.objects.values_list("name", flat=True)) == ["first"]
    finally:
        orm.drop_tables(Place, Shop, Kiosk)


def _tables_written(queries: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(statement kind, table) of each INSERT/UPDATE/DELETE, in order."""
    found = []
    for sql, _params in queries:
        kind = sql.split(" ", 1)[0]
        if kind in ("INSERT", "UPDATE", "DELETE"):
            table = sql.split('"')[1]
            found.append((kind, table))
    return found


def test_save_and_delete_statements_go_parent_first(
    models: dict[str, Any], count_queries: Any
) -> None:
    restaurant = models["Restaurant"]
    with count_queries() as counter:
        r = restaurant.objects.create(name="Pizzeria")
    assert _tables_written(counter.queries) == [
        ("INSERT", "mtiapp_place"),
        ("INSERT", "mtiapp_restaurant"),
    ]
    r.name, r.serves_pizza = "Trattoria", True
    with count_queries() as counter:
        r.save()
    assert _tables_written(counter.queries) == [
        ("UPDATE", "mtiapp_place"),
        ("UPDATE", "mtiapp_restaurant"),
    ]
    with count_queries() as counter:
        r.save(update_fields=["serves_pizza"])
    assert _tables_written(counter.queries) == [("UPDATE", "mtiapp_restaurant")]
    with count_queries() as counter:
        r.delete()
    assert sorted(_tables_written(counter.queries)) == [
        ("DELETE", "mtiapp_place"),
        ("DELETE", "mtiapp_restaurant"),
    ]
    r2 = restaurant.objects.create(name="Other")
    with count_queries() as counter:
        r2.save(update_fields=["name"])
    assert _tables_written(counter.queries) == [("UPDATE", "mtiapp_place")]
    assert len(counter.queries) == 1  # the child's table is not even read, as Django


def test_child_queries_served_from_the_statement_cache(models: dict[str, Any]) -> None:
    """A cached child statement keeps its parent joins: cold and warm give the same rows and SQL."""
    from orm.sql import compiler
    from tests.conftest import QueryCounter

    restaurant, italian = models["Restaurant"], models["ItalianRestaurant"]
    a = italian.objects.create(name="Gino", serves_pizza=True, serves_gnocchi=True)
    b = italian.objects.create(name="Ugo", serves_pizza=False, serves_gnocchi=False)
    restaurant.objects.create(name="Plain", serves_pizza=True)
    shapes = [
        lambda obj: italian.objects.get(pk=obj.pk),  # pending terms (the call key)
        lambda obj: italian.objects.filter(serves_gnocchi=obj.serves_gnocchi).get(),
        lambda obj: list(italian.objects.filter(name=obj.name).values("name", "serves_pizza")),
        lambda obj: italian.objects.filter(serves_pizza=obj.serves_pizza).count(),
        lambda obj: [
            r.name
            for r in restaurant.objects.filter(serves_pizza=obj.serves_pizza).order_by("name")
        ],
        lambda obj: italian.objects.only("name").get(name=obj.name).name,
    ]
    for shape in shapes:
        compiler.STATEMENTS.clear()
        with QueryCounter() as cold_ctx:
            cold = [shape(a), shape(b)]
        with QueryCounter() as warm_ctx:  # every statement now from the cache
            warm = [shape(a), shape(b)]
        assert warm == cold
        assert warm_ctx.queries == cold_ctx.queries
    got = italian.objects.get(pk=b.pk)
    assert (got.name, got.serves_pizza, got.serves_gnocchi) == ("Ugo", False, False)
