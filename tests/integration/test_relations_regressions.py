"""Regressions of related managers and many-to-many joins (issue 11, item 14).

- 14: two ManyToManyFields to one model, both ``related_name="+"``, each read
  their own join table (the hidden reverse names no longer collide).

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
