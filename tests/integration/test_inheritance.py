"""Model inheritance: abstract bases (multi-table inheritance: test_mti.py)."""

from __future__ import annotations

from typing import Any

import orm
from orm.models.registry import Apps
from tests.models import Article


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


# ------------------------------------------------------------ once broken


class PendingBase(orm.Model):
    name = orm.CharField(max_length=20)
    count = orm.IntegerField(null=True)

    class Meta:
        abstract = True
        app_label = "pending"


class PendingChild(PendingBase):
    class Meta:
        app_label = "pending"


def test_abstract_inherited_field_without_default_gets_normal_default(backend: str) -> None:
    child = PendingChild()
    assert child.name == ""  # CharField without default: ""   (actual: NOT_PROVIDED)
    assert child.count is None  # null=True without default: None
    orm.create_tables(PendingChild)
    PendingChild.objects.create(name="x")  # actual: TypeError "Field 'count' expected a number
    assert PendingChild.objects.get().count is None  # but got _NotProvided NOT_PROVIDED."


def test_full_clean_of_inherited_auto_now_fields(db: str) -> None:
    # actual: ValidationError {'created': [...NOT_PROVIDED...], 'modified': [...]}
    Article(headline="Fine", slug="fine").full_clean()


# ------------------------------------------------------------ once broken


def test_meta_inheritance_from_abstract_base() -> None:
    class Base(orm.Model):
        rank = orm.IntegerField(default=0)

        class Meta:
            abstract = True
            app_label = "pending_meta"
            ordering = ["rank"]

    # actual: AttributeError: type object 'Base' has no attribute 'Meta'
    class Child(Base):
        class Meta(Base.Meta):  # type: ignore[name-defined]
            db_table = "pending_meta_child"

    assert Child._meta.abstract is False
    assert Child._meta.ordering == ["rank"]
    assert Child._meta.app_label == "pending_meta"
