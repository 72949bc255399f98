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


def rows_and_slices() -> None:
    one: Note = Note.objects.all()[0:1]  # E
    page: list[Note] = Note.objects.all()[0:10]  # E
    Note.objects.all()["text"]  # E
    Note.objects.all()[1:2].missing()  # E
    title: str = Note.objects.values_list("text")[0]  # E
    print(Note.objects.values_list("text").get().text)  # E
    print(one, page, title)
