"""Negative type checks for signal receivers: each ``# E`` line must be reported.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

from typing import Any

import orm
from orm import signals
from orm.dispatch import receiver


class Book(orm.Model):
    title = orm.CharField(max_length=100)

    class Meta:
        app_label = "typing_signals_bad"


@receiver(signals.post_save, sender=Book)
def on_save(sender: type[Book], instance: Book, created: bool, **kwargs: Any) -> None:
    print(instance.title)


def check(book: Book) -> None:
    on_save(Book, "not a book", True)  # E
    title: str = on_save(Book, book, False)  # E
    receiver(signals.post_save)("not a function")  # E
    print(title)
