"""Negative type checks for managers and QuerySets: each ``# E`` line must be reported.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

import orm


class Note(orm.Model):
    text = orm.TextField()

    class Meta:
        app_label = "typing_managers_bad"


class Tag(orm.Model):
    name = orm.CharField(max_length=20)

    class Meta:
        app_label = "typing_managers_bad"


async def check(note: Note) -> None:
    print(note.objects)  # E
    tag: Tag = Note.objects.get(pk=1)  # E
    maybe: Note = Note.objects.first()  # E
    count: str = await Note.objects.acount()  # E
    async for row in Note.objects.all():
        print(row.name)  # E
    print(Note.objects.get(pk=1).missing)  # E
    print(tag, maybe, count)
