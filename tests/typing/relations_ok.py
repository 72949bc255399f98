"""Positive type checks: ForeignKey, OneToOneField, ManyToManyField and reverse accessors.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

from typing import Any, assert_type

import orm


class Author(orm.Model):
    name = orm.CharField(max_length=100)
    # Reverse accessors come from the other model's declaration: annotate them.
    books: orm.RelatedManager[Book]
    profile: Profile

    class Meta:
        app_label = "typing_relations"


class Tag(orm.Model):
    name = orm.CharField(max_length=20)
    books: orm.ManyRelatedManager[Book]

    class Meta:
        app_label = "typing_relations"


class Book(orm.Model):
    title = orm.CharField(max_length=100)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
    author_id: int
    editor = orm.ForeignKey(Author, on_delete=orm.SET_NULL, null=True, related_name="+")
    editor_id: int | None
    tags = orm.ManyToManyField(Tag, related_name="books")
    related = orm.ManyToManyField("self")

    class Meta:
        app_label = "typing_relations"


class Profile(orm.Model):
    author = orm.OneToOneField(Author, on_delete=orm.CASCADE, related_name="profile")
    mentor = orm.OneToOneField(Author, on_delete=orm.CASCADE, null=True, related_name="+")

    class Meta:
        app_label = "typing_relations"


def sync_calls(book: Book, author: Author, tag: Tag, profile: Profile) -> None:
    assert_type(book.author, Author)
    assert_type(book.author.name, str)
    assert_type(book.author_id, int)
    assert_type(book.editor, Author | None)
    assert_type(book.editor_id, int | None)
    assert_type(profile.author, Author)
    assert_type(profile.mentor, Author | None)
    assert_type(book.tags, orm.ManyRelatedManager[Tag])
    assert_type(book.tags.all(), orm.QuerySet[Tag])
    assert_type(book.tags.create(name="x"), Tag)
    assert_type(book.tags.filter(name="x").first(), Tag | None)
    book.tags.add(tag, 3)
    book.tags.set([tag])
    book.tags.remove(tag)
    book.tags.clear()
    assert_type(book.related, orm.ManyRelatedManager[Any])
    assert_type(author.books, orm.RelatedManager[Book])
    assert_type(author.books.create(title="t"), Book)
    assert_type(author.profile, Profile)
    assert_type(tag.books.get(pk=1), Book)
    book.author = author
    book.editor = None


async def async_calls(book: Book, author: Author, tag: Tag) -> None:
    await book.tags.aadd(tag)
    await book.tags.aset([tag, 2])
    await book.tags.aremove(tag)
    await book.tags.aclear()
    assert_type(await book.tags.acreate(name="x"), Tag)
    assert_type(await book.tags.acount(), int)
    async for linked in book.tags.all():
        assert_type(linked, Tag)
    assert_type(await author.books.aget(pk=1), Book)
    await author.books.aadd(book)
