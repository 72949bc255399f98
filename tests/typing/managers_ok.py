"""Positive type checks: managers, QuerySets (sync and async), custom managers.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self, assert_type

import orm
from orm.query.rows import Row


class BookQuerySet(orm.QuerySet["Book"]):
    def published(self) -> Self:
        return self.filter(published=True)

    async def apublished_count(self) -> int:
        return await self.filter(published=True).acount()


class BookManager(orm.Manager["Book"]):
    def by_title(self, title: str) -> orm.QuerySet[Book]:
        return self.filter(title=title)


BookShelfManager = orm.Manager.from_queryset(BookQuerySet)


class Book(orm.Model):
    title = orm.CharField(max_length=100)
    published = orm.BooleanField(default=False)

    # Annotated for mypy, which otherwise keeps the implicit Manager[Book] (pyright infers it).
    objects: ClassVar[BookManager] = BookManager()
    listed = BookQuerySet.as_manager()
    shelved = BookShelfManager()

    class Meta:
        app_label = "typing_managers"


class Note(orm.Model):
    text = orm.TextField()

    class Meta:
        app_label = "typing_managers"


def sync_calls() -> None:
    assert_type(Note.objects, orm.Manager[Note])
    assert_type(Note.objects.all(), orm.QuerySet[Note])
    assert_type(Note.objects.filter(text="a").exclude(pk=1).order_by("-pk"), orm.QuerySet[Note])
    assert_type(Note.objects.get(pk=1), Note)
    assert_type(Note.objects.create(text="a"), Note)
    assert_type(Note.objects.get_or_create(text="a"), tuple[Note, bool])
    assert_type(Note.objects.first(), Note | None)
    assert_type(Note.objects.last(), Note | None)
    assert_type(Note.objects.count(), int)
    assert_type(Note.objects.exists(), bool)
    assert_type(Note.objects.in_bulk([1, 2]), dict[Any, Note])
    assert_type(Note.objects.values("text"), orm.QuerySet[Any])
    assert_type(Note.objects.order_by("pk")[0], Note)
    assert_type(Note.objects.order_by("pk")[1:3], orm.QuerySet[Note])
    assert_type(Note.objects.all()[:10].first(), Note | None)
    assert_type(Note.objects.all()[::2], list[Note])
    assert_type(Book.listed.published()[5:], BookQuerySet)
    assert_type(Note.objects.latest("pk"), Note)
    assert_type(Note.objects.update(text="b"), int)
    assert_type(Note.objects.update_or_create(text="a"), tuple[Note, bool])
    assert_type(Note.objects.bulk_create([Note(text="a")]), list[Note])
    for note in Note.objects.filter(text="a"):
        assert_type(note, Note)
        assert_type(note.text, str)
    assert_type(Book.objects, BookManager)
    assert_type(Book.objects.by_title("x"), orm.QuerySet[Book])
    assert_type(Book.listed, BookQuerySet)
    assert_type(Book.listed.published(), BookQuerySet)
    assert_type(Book.listed.filter(title="x").published().order_by("title"), BookQuerySet)
    assert_type(Book.objects.filter(title="x"), orm.QuerySet[Book])
    assert_type(Note.objects.all().filter(text="a").using("default"), orm.QuerySet[Note])
    assert_type(Book.listed.published().get().title, str)
    assert_type(Book.shelved, BookQuerySet)
    assert_type(Book.shelved.published().first(), Book | None)
    assert_type(Book.shelved.exclude(published=True).published(), BookQuerySet)


async def async_calls() -> None:
    assert_type(await Note.objects.aget(pk=1), Note)
    assert_type(await Note.objects.acreate(text="a"), Note)
    assert_type(await Note.objects.afirst(), Note | None)
    assert_type(await Note.objects.alast(), Note | None)
    assert_type(await Note.objects.acount(), int)
    assert_type(await Note.objects.aexists(), bool)
    assert_type(await Note.objects.aget_or_create(text="a"), tuple[Note, bool])
    assert_type(await Note.objects.ain_bulk([1]), dict[Any, Note])
    assert_type(await Note.objects.aupdate_or_create(text="a"), tuple[Note, bool])
    assert_type(await Note.objects.aearliest("pk"), Note)
    assert_type(await Note.objects.adelete(), tuple[int, dict[str, int]])
    async for streamed in Note.objects.aiterator():
        assert_type(streamed, Note)
    async for note in Note.objects.filter(text="a"):
        assert_type(note, Note)
    async for book in Book.listed.published():
        assert_type(book, Book)
    assert_type(await Book.shelved.apublished_count(), int)


def values_lists() -> None:
    assert_type(Note.objects.values_list("text"), orm.QuerySet[tuple[Any, ...]])
    assert_type(Note.objects.values_list("pk", "text").get(pk=1), tuple[Any, ...])
    assert_type(Note.objects.values_list(flat=False), orm.QuerySet[tuple[Any, ...]])
    assert_type(Note.objects.values_list("text", flat=True), orm.QuerySet[Any])
    assert_type(Note.objects.values_list(flat=True), orm.QuerySet[Any])
    assert_type(Note.objects.values_list("pk", "text", named=True), orm.QuerySet[Row])
    assert_type(Note.objects.values_list("text", named=True)[0].text, Any)
    assert_type(Book.listed.published().values_list("title"), orm.QuerySet[tuple[Any, ...]])
    for pk, text in Note.objects.values_list("pk", "text"):
        assert_type(pk, Any)
        assert_type(text, Any)


def runtime_flag(flat: bool) -> None:
    # A flag only known at run time: either shape, so Any.
    assert_type(Note.objects.values_list("text", flat=flat), orm.QuerySet[Any])


async def async_values_lists() -> None:
    async for row in Note.objects.values_list("pk", "text"):
        assert_type(row, tuple[Any, ...])
    async for named in Note.objects.values_list("text", named=True):
        assert_type(named, Row)
