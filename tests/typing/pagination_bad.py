"""Negative type checks for pagination: each ``# E`` line must be reported.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

import orm


class Book(orm.Model):
    title = orm.CharField(max_length=50)

    class Meta:
        app_label = "typing_pagination_bad"


def check() -> None:
    page = orm.Paginator(Book.objects.order_by("id"), 10).page(1)
    first: str = page[0]  # E
    count: int = page[0].title  # E
    print(page[0].subtitle, first, count)  # E
    for book in page.object_list:
        print(book.isbn)  # E
    books: list[str] = orm.Paginator([Book()], 1).page(1)[:1]  # E
    print(books)
    orm.Paginator(42, 10)  # E
