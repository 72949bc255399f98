"""Positive type checks: a paginator's pages hold the model of its QuerySet or list.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

from typing import assert_type

import orm
from orm.pagination import AsyncPage, Page


class Book(orm.Model):
    title = orm.CharField(max_length=50)

    class Meta:
        app_label = "typing_pagination"


def sync_calls(titles: tuple[str, ...]) -> None:
    paginator = orm.Paginator(Book.objects.order_by("id"), 10)
    assert_type(paginator, orm.Paginator[Book])
    page = paginator.page(1)
    assert_type(page, Page[Book])
    assert_type(paginator.get_page("2"), Page[Book])
    assert_type(page[0], Book)
    assert_type(page[1:], list[Book])
    for book in page:
        assert_type(book, Book)
    for book in page.object_list:
        assert_type(book, Book)
    for each in paginator:
        assert_type(each, Page[Book])
    assert_type(orm.Paginator([Book(), Book()], 1).page(1)[0].title, str)
    assert_type(orm.Paginator(titles, 1), orm.Paginator[str])


async def async_calls() -> None:
    paginator = orm.AsyncPaginator(Book.objects.order_by("id"), 10)
    assert_type(paginator, orm.AsyncPaginator[Book])
    page = await paginator.apage(1)
    assert_type(page, AsyncPage[Book])
    async for book in page:
        assert_type(book, Book)
    assert_type(await page.aget_object_list(), list[Book])
    assert_type(page[0], Book)
    async for each in paginator:
        assert_type(each, AsyncPage[Book])
