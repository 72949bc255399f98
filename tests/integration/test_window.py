"""Window expressions on real databases: the same rows on SQLite and PostgreSQL (issue 17 item 2).

Library books by title: Advanced Python (Alice, 450 pages), Django Unchained (Bob, 300),
Python Basics (Alice, 200), SQL 101 (Bob, no pages). Alice was created before Bob.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm import (
    Count,
    CumeDist,
    DenseRank,
    F,
    FirstValue,
    Lag,
    LastValue,
    Lead,
    NthValue,
    NTile,
    PercentRank,
    Q,
    Rank,
    RowNumber,
    RowRange,
    Sum,
    ValueRange,
    Window,
    WindowFrameExclusion,
)
from tests.integration.conftest import Library
from tests.models import Author, Book


def column(library: Library, expr: Any) -> list[Any]:
    """The ``w`` annotation of every book, in title order."""
    return list(Book.objects.annotate(w=expr).order_by("title").values_list("w", flat=True))


def test_row_number_restarts_in_each_partition(library: Library) -> None:
    assert column(library, Window(RowNumber(), partition_by=F("author"), order_by="title")) == [
        1,
        1,
        2,
        2,
    ]


def test_rank_and_dense_rank_share_ties(library: Library) -> None:
    assert column(library, Window(Rank(), order_by="author")) == [1, 3, 1, 3]
    assert column(library, Window(DenseRank(), order_by="author")) == [1, 2, 1, 2]
    assert column(library, Window(NTile(2), order_by=["author", "title"])) == [1, 2, 1, 2]


def test_percent_rank_and_cume_dist_are_floats(library: Library) -> None:
    ranks = column(library, Window(PercentRank(), order_by="author"))
    assert ranks == pytest.approx([0.0, 2 / 3, 0.0, 2 / 3])
    assert column(library, Window(CumeDist(), order_by="author")) == pytest.approx(
        [0.5, 1.0, 0.5, 1.0]
    )


def test_aggregate_over_a_partition_keeps_every_row(library: Library) -> None:
    rows = list(
        Book.objects.annotate(
            total=Window(Sum("pages"), partition_by="author"),
            n=Window(Count("id"), partition_by=[F("author")]),
        )
        .order_by("title")
        .values_list("title", "total", "n")
    )
    assert rows == [
        ("Advanced Python", 650, 2),
        ("Django Unchained", 300, 2),
        ("Python Basics", 650, 2),
        ("SQL 101", 300, 2),
    ]


def test_running_total_with_frames(library: Library) -> None:
    running = Window(Sum("pages"), order_by="title", frame=RowRange(start=None, end=0))
    assert column(library, running) == [450, 750, 950, 950]
    pairs = Window(Sum("pages"), order_by="title", frame=RowRange(start=-1, end=0))
    assert column(library, pairs) == [450, 750, 500, 200]
    others = Window(
        Sum("pages"), order_by="title", frame=RowRange(exclusion=WindowFrameExclusion.CURRENT_ROW)
    )
    assert column(library, others) == [500, 650, 750, 950]
    by_value = Window(
        Count("id"), order_by=F("pages").asc(nulls_first=True), frame=ValueRange(-150, 0)
    )
    # peers within 150 pages below: 450 -> {300, 450}; 300 -> {200, 300}; 200 -> {200}; NULL -> {NULL}
    assert column(library, by_value) == [2, 2, 1, 1]


def test_lag_lead_and_value_functions(library: Library) -> None:
    assert column(library, Window(Lag("pages", 1, 0), order_by="title")) == [0, 450, 300, 200]
    assert column(library, Window(Lead("pages"), order_by="title")) == [300, 200, None, None]
    whole = RowRange()
    by_author = {"partition_by": "author", "order_by": "title", "frame": whole}
    assert column(library, Window(FirstValue("title"), **by_author)) == [
        "Advanced Python",
        "Django Unchained",
        "Advanced Python",
        "Django Unchained",
    ]
    assert column(library, Window(LastValue("title"), **by_author)) == [
        "Python Basics",
        "SQL 101",
        "Python Basics",
        "SQL 101",
    ]
    assert column(library, Window(NthValue("pages", 2), **by_author)) == [200, None, 200, None]


def test_filter_on_a_window_annotation_keeps_the_matching_rows(library: Library) -> None:
    first = Book.objects.annotate(rn=Window(RowNumber(), partition_by="author", order_by="title"))
    assert [(b.title, b.rn) for b in first.filter(rn=1).order_by("title")] == [
        ("Advanced Python", 1),
        ("Django Unchained", 1),
    ]
    assert list(first.exclude(rn=1).order_by("-title").values_list("title", flat=True)) == [
        "SQL 101",
        "Python Basics",
    ]
    assert first.filter(rn=2).count() == 2
    assert first.filter(rn=3).exists() is False
    assert first.filter(rn=1).aggregate(pages=Sum("pages")) == {"pages": 750}
    assert list(first.filter(rn__lte=2).order_by("title").values_list("title", flat=True)[1:3]) == [
        "Django Unchained",
        "Python Basics",
    ]


def test_plain_filters_run_before_the_window_and_or_mixes_run_after(library: Library) -> None:
    ranked = Book.objects.alias(rn=Window(RowNumber(), order_by="title"))
    # WHERE first: only the two Python books are numbered.
    assert list(ranked.filter(title__contains="Python", rn=2).values_list("title", flat=True)) == [
        "Python Basics"
    ]
    either = ranked.filter(Q(rn=1) | Q(pages__gte=F("price") * 10)).order_by("title")
    assert list(either.values_list("title", flat=True)) == ["Advanced Python", "Python Basics"]


def test_window_filter_in_a_subquery_and_with_a_running_total(library: Library) -> None:
    running = Book.objects.annotate(
        total=Window(Sum("pages"), order_by="title", frame=RowRange(end=0))
    )
    assert list(running.filter(total__lte=750).order_by("title").values_list("title", "total")) == [
        ("Advanced Python", 450),
        ("Django Unchained", 750),
    ]
    first_ids = (
        Book.objects.annotate(rn=Window(RowNumber(), order_by=F("pages").desc(nulls_last=True)))
        .filter(rn=1)
        .values("author")
    )
    assert list(Author.objects.filter(pk__in=first_ids).values_list("name", flat=True)) == ["Alice"]


def test_update_and_delete_through_a_window_filter(library: Library) -> None:
    first = Book.objects.annotate(
        rn=Window(RowNumber(), partition_by="author", order_by="title")
    ).filter(rn=1)
    assert first.update(pages=1) == 2
    assert list(Book.objects.filter(pages=1).order_by("title").values_list("title", flat=True)) == [
        "Advanced Python",
        "Django Unchained",
    ]
    first.filter(author__name="Bob").delete()
    assert list(Book.objects.order_by("title").values_list("title", flat=True)) == [
        "Advanced Python",
        "Python Basics",
        "SQL 101",
    ]


async def test_async_window_filter(library: Library) -> None:
    qs = Book.objects.annotate(rn=Window(RowNumber(), order_by="title")).filter(rn__gt=3)
    assert [b.title async for b in qs] == ["SQL 101"]
    assert await qs.acount() == 1
