"""Negative type checks for relations: each ``# E`` line must be reported.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

import orm


class Author(orm.Model):
    name = orm.CharField(max_length=100)

    class Meta:
        app_label = "typing_relations_bad"


class Tag(orm.Model):
    name = orm.CharField(max_length=20)

    class Meta:
        app_label = "typing_relations_bad"


class Book(orm.Model):
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE)
    editor = orm.ForeignKey(Author, on_delete=orm.SET_NULL, null=True, related_name="+")
    tags = orm.ManyToManyField(Tag)

    class Meta:
        app_label = "typing_relations_bad"


async def check(book: Book, author: Author, tag: Tag) -> None:
    book.author = tag  # E
    name: str = book.editor.name  # E
    book.tags.add(author)  # E
    await book.tags.aset([author])  # E
    other: Author = await book.tags.aget(pk=1)  # E
    orm.ForeignKey(Author)  # E
    print(name, other)


def assign_many(book: Book, tag: Tag) -> None:
    # Alone in its function: mypy treats code after an assignment of Never as unreachable.
    book.tags = [tag]  # E
