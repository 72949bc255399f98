"""Negative type checks: each line marked ``# E`` must be reported by both checkers.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

import orm


class Author(orm.Model):
    name = orm.CharField(max_length=100)
    nick = orm.CharField(max_length=100, null=True)

    class Meta:
        app_label = "typing_bad"


class Book(orm.Model):
    title = orm.CharField(max_length=100)
    pages = orm.IntegerField()
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE)
    double = orm.GeneratedField(
        expression=orm.F("pages") * 2, output_field=orm.IntegerField(), db_persist=True
    )

    class Meta:
        app_label = "typing_bad"


def check(book: Book, author: Author) -> None:
    book.title = 1  # E
    book.title = None  # E
    book.pages = b"12"  # E
    book.author = None  # E
    book.author = book  # E
    n: str = author.nick  # E
    orm.CharField(maxlength=10)  # E
    print(Book.title.max_length)  # E
    orm.GeneratedField(expression=orm.F("pages"), output_field=int, db_persist=True)  # E
    print(n)


def assign_generated(book: Book) -> None:
    # Alone in its function: mypy treats code after an assignment of Never as unreachable.
    book.double = 4  # E
