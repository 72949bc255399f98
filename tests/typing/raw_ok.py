"""Positive type checks: ``raw()`` rows are instances of the model.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

from typing import assert_type

import orm
from orm.query.raw import RawQuerySet


class Person(orm.Model):
    name = orm.CharField(max_length=50)

    class Meta:
        app_label = "typing_raw"


def sync_calls() -> None:
    people = Person.objects.raw("SELECT * FROM typing_raw_person WHERE name = %s", ["Ann"])
    assert_type(people, RawQuerySet[Person])
    for person in people:
        assert_type(person, Person)
    assert_type(people[0], Person)
    assert_type(people[:2], list[Person])
    assert_type(people.using("default").prefetch_related(), RawQuerySet[Person])
    assert_type(next(people.iterator()).name, str)


async def async_calls() -> None:
    async for person in Person.objects.raw("SELECT * FROM typing_raw_person"):
        assert_type(person, Person)
