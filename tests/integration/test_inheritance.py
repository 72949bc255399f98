"""Model inheritance: abstract bases (multi-table inheritance: test_mti.py)."""

from __future__ import annotations

from typing import Any

import orm
from orm.models.registry import Apps


def meta(apps: Apps, **extra: Any) -> type:
    return type("Meta", (), {"app_label": "inhapp", "apps": apps, **extra})


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
