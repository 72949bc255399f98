"""Model inheritance: abstract bases work; multi-table inheritance is refused clearly (not built yet)."""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm.models.registry import Apps


def meta(apps: Apps, **extra: Any) -> type:
    return type("Meta", (), {"app_label": "inhapp", "apps": apps, **extra})


def test_multi_table_inheritance_is_refused_with_the_fix_and_nothing_registered() -> None:
    apps = Apps()

    class Place(orm.Model):
        name = orm.CharField(max_length=50)
        Meta = meta(apps)

    with pytest.raises(TypeError, match=r"Restaurant cannot inherit from the concrete model Place: "
                                        r"multi-table inheritance is not supported\. Make the parent "
                                        r"abstract .* or use a OneToOneField\."):
        type("Restaurant", (Place,), {"__module__": __name__, "Meta": meta(apps)})
    assert [m.__name__ for m in apps.get_models()] == ["Place"]
    assert Place._meta.related_objects == []


def test_abstract_base_fields_are_copied_to_each_child() -> None:
    apps = Apps()

    class Named(orm.Model):
        name = orm.CharField(max_length=50)
        Meta = meta(apps, abstract=True, ordering=["name"])

    class Shop(Named):
        Meta = meta(apps)

    assert [f.name for f in Shop._meta.concrete_fields] == ["id", "name"]
    assert Shop._meta.get_field("name") is not Named._meta.abstract_fields["name"]
    assert Shop._meta.parents == {}
    assert Shop._meta.concrete_model is Shop
