"""Bare ``<name>_id`` annotations on models (issue 18 item 2).

A type checker cannot see the ``author_id`` attribute the metaclass adds for
``author = ForeignKey(...)``; a model declares it (``author_id: int``) to
have it typed. ``orm`` accepts that annotation and refuses, at class
creation, one that names no foreign-key column.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

import orm


class Writer(orm.Model):
    name = orm.CharField(max_length=50)

    class Meta:
        app_label = "key_annotations"


class Keyed(orm.Model):
    """A relation and a non-key attribute whose names end in ``_id``."""

    writer = orm.ForeignKey(Writer, on_delete=orm.CASCADE, related_name="+")
    writer_id: int
    partner = orm.OneToOneField(Writer, on_delete=orm.CASCADE, null=True, related_name="partner_of")
    partner_id: int | None
    external_id = orm.CharField(max_length=20, default="x")
    counter_id: ClassVar[int] = 0

    class Meta:
        app_label = "key_annotations"


class AbstractKeyed(orm.Model):
    writer = orm.ForeignKey(Writer, on_delete=orm.CASCADE, related_name="+")
    writer_id: int

    class Meta:
        abstract = True


class ChildKeyed(AbstractKeyed):
    class Meta:
        app_label = "key_annotations"


def test_a_declared_key_annotation_is_accepted_and_holds_the_key(backend: str) -> None:
    orm.create_tables(Writer, Keyed, ChildKeyed)
    writer = Writer.objects.create(name="Ann")
    row = Keyed.objects.create(writer=writer)
    fetched = Keyed.objects.get(pk=row.pk)
    assert fetched.writer_id == writer.pk
    assert fetched.partner_id is None
    child = ChildKeyed.objects.create(writer_id=writer.pk)
    assert ChildKeyed.objects.get(pk=child.pk).writer == writer


def test_an_annotation_naming_no_key_is_refused_at_class_creation() -> None:
    with pytest.raises(orm.ImproperlyConfigured) as info:

        class Misspelt(orm.Model):
            writer = orm.ForeignKey(Writer, on_delete=orm.CASCADE, related_name="+")
            author_id: int

            class Meta:
                app_label = "key_annotations_bad"

    message = str(info.value)
    assert message.startswith("orm.E001: key_annotations_bad.Misspelt.author_id is annotated")
    assert "its key attributes: writer_id" in message
    assert "author = orm.ForeignKey(...)" in message


def test_an_annotation_of_a_non_relation_field_is_refused() -> None:
    with pytest.raises(
        orm.ImproperlyConfigured, match=r"title_id is annotated.*key attributes: none"
    ):

        class Titled(orm.Model):
            title = orm.CharField(max_length=10)
            title_id: int

            class Meta:
                app_label = "key_annotations_bad"


def test_an_abstract_parents_stale_annotation_is_refused_in_the_child() -> None:
    class Base(orm.Model):
        author_id: int

        class Meta:
            abstract = True

    with pytest.raises(orm.ImproperlyConfigured, match=r"Child\.author_id is annotated"):

        class Child(Base):
            class Meta:
                app_label = "key_annotations_bad"
