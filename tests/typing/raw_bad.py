"""Negative type checks for ``raw()``: each ``# E`` line must be reported.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

import orm


class Person(orm.Model):
    name = orm.CharField(max_length=50)

    class Meta:
        app_label = "typing_raw_bad"


def check() -> None:
    for person in Person.objects.raw("SELECT * FROM typing_raw_bad_person"):
        count: int = person.name  # E
        print(person.nickname, count)  # E
    first: str = Person.objects.raw("SELECT * FROM typing_raw_bad_person")[0]  # E
    print(first)
