"""Positive type checks: ``@receiver`` keeps the decorated function's own type.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

from typing import Any, assert_type

import orm
from orm import signals
from orm.dispatch import receiver


class Book(orm.Model):
    title = orm.CharField(max_length=100)

    class Meta:
        app_label = "typing_signals"


@receiver(signals.post_save, sender=Book)
def on_save(sender: type[Book], instance: Book, created: bool, **kwargs: Any) -> str:
    return instance.title


@receiver([signals.pre_delete, signals.post_delete], sender="typing_signals.Book")
async def on_delete(sender: type[orm.Model], instance: orm.Model, **kwargs: Any) -> int:
    return 1


def sync_calls(book: Book) -> None:
    assert_type(on_save(Book, book, True), str)


async def async_calls(book: Book) -> None:
    assert_type(await on_delete(Book, book), int)
