"""A tour of the model and QuerySet API on a database built by the example's migrations.

``make demo`` makes a fresh ``migrations_example/example.sqlite3``, runs
``orm migrate`` on it (from ``migrations_example/``, whose ``pyproject.toml``
names the apps) and then this demo with ``ORM_DATABASE_URL`` pointing at it.
``python -m migrations_example.demo`` without ``ORM_DATABASE_URL`` migrates a
file in a temporary directory with :func:`orm.migrate`, removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import orm
from migrations_example.models import Author, Book, Tag
from migrations_example.reviews.models import Review
from orm import transaction

#: The example project's apps (as its pyproject.toml lists them).
APPS = ["migrations_example", "migrations_example.reviews"]


def show(title: str, value: object) -> None:
    """Print a heading and the value, one line per item for lists."""
    print(f"\n{title}")
    if isinstance(value, list):
        for item in value:
            print(f"    {item}")
    else:
        print(f"    {value}")


def populate() -> None:
    """Create three authors, three tags and five books."""
    ada = Author.objects.create(name="Ada Lovelace", email="ada@example.org")
    alan = Author.objects.create(name="Alan Turing", email="alan@example.org")
    grace = Author.objects.create(name="Grace Hopper", email="grace@example.org")
    maths = Tag.objects.create(name="mathematics")
    programming = Tag.objects.create(name="programming")
    history = Tag.objects.create(name="history")

    catalogue: list[tuple[str, Author, str, Iterable[Tag]]] = [
        ("Notes on the Analytical Engine", ada, "12.50", [maths, history]),
        ("On Computable Numbers", alan, "25.00", [maths]),
        ("Computing Machinery and Intelligence", alan, "18.00", [history]),
        ("The A-0 Compiler", grace, "30.00", [programming, history]),
        ("Understanding Computers", grace, "22.00", [programming]),
    ]
    for title, author, price, tags in catalogue:
        book = Book.objects.create(title=title, author=author, price=Decimal(price))
        book.tags.add(*tags)
    print(
        f"Created {Author.objects.count()} authors, {Tag.objects.count()} tags, "
        f"{Book.objects.count()} books."
    )


def sync_tour() -> None:
    """Queries with the synchronous API."""
    show(
        "Books by authors whose name starts with 'A' (filter across a relation):",
        [b.title for b in Book.objects.filter(author__name__startswith="A").order_by("title")],
    )
    show(
        "Title and price, dearest first (values_list):",
        list(Book.objects.order_by("-price").values_list("title", "price")),
    )
    show(
        "Books tagged 'history' (many-to-many, flat values_list):",
        list(
            Book.objects.filter(tags__name="history")
            .order_by("title")
            .values_list("title", flat=True)
        ),
    )
    show(
        "Books per author (annotate with Count):",
        [
            f"{row['name']}: {row['n_books']}"
            for row in Author.objects.annotate(n_books=orm.Count("books"))
            .order_by("-n_books", "name")
            .values("name", "n_books")
        ],
    )
    show(
        "Price statistics (aggregate):",
        Book.objects.aggregate(
            total=orm.Sum("price"),
            average=orm.Avg("price"),
            cheapest=orm.Min("price"),
            dearest=orm.Max("price"),
        ),
    )
    show(
        "Books with their author, in one query (select_related):",
        [f"{b.title} by {b.author.name}" for b in Book.objects.select_related("author")],
    )
    show(
        "Authors with their books, in two queries (prefetch_related):",
        [
            f"{a.name}: {', '.join(sorted(b.title for b in a.books.all()))}"
            for a in Author.objects.prefetch_related("books")
        ],
    )
    show(
        "Cheaper than 15.00 or tagged 'programming' (Q objects):",
        [
            b.title
            for b in Book.objects.filter(orm.Q(price__lt=15) | orm.Q(tags__name="programming"))
            .distinct()
            .order_by("title")
        ],
    )
    show(
        "Books not by Grace Hopper (exclude):",
        [b.title for b in Book.objects.exclude(author__name="Grace Hopper").order_by("title")],
    )

    grace = Author.objects.get(email="grace@example.org")
    updated = Book.objects.filter(author=grace).update(price=orm.F("price") + Decimal("1.50"))
    show(
        f"Grace Hopper's books after update(price=F('price') + 1.50), {updated} rows:",
        list(Book.objects.filter(author=grace).order_by("title").values_list("title", "price")),
    )

    tag, created = Tag.objects.get_or_create(name="history")
    show("get_or_create(name='history'):", f"{tag.name!r}, created={created}")
    tag, created = Tag.objects.get_or_create(name="compilers")
    show("get_or_create(name='compilers'):", f"{tag.name!r}, created={created}")

    before = Book.objects.count()
    try:
        with transaction.atomic():
            Book.objects.create(title="Never Published", author=grace)
            raise RuntimeError("change of plan")
    except RuntimeError:
        pass
    show(
        "An exception inside transaction.atomic() rolls the block back:",
        f"{before} books before, {Book.objects.count()} after",
    )

    qs = Book.objects.filter(author__name__startswith="A", price__gte=10).order_by("title")
    show("The SQL of a query (str(qs.query)):", str(qs.query))


def rename_author(pk: int, name: str) -> None:
    """A transaction is a synchronous block; async callers wrap the function."""
    with transaction.atomic():
        author = Author.objects.get(pk=pk)
        author.name = name
        author.save()


async def async_tour() -> None:
    """The same API from async code: ``a``-prefixed twins and ``async for``."""
    # A scope gives this block its own database thread and closes its
    # connections on exit.
    async with orm.connection_scope():
        barbara = await Author.objects.acreate(name="Barbara Liskov", email="barbara@example.org")
        await Book.objects.acreate(
            title="Data Abstraction and Hierarchy", author=barbara, price=Decimal("27.00")
        )
        show("acount() after acreate():", await Book.objects.acount())
        show(
            "async for over books from 25.00, with their authors:",
            [
                f"{b.title} by {b.author.name}"
                async for b in Book.objects.select_related("author")
                .filter(price__gte=25)
                .order_by("title")
            ],
        )
        show(
            "async for over values_list(flat=True):",
            [
                title
                async for title in Book.objects.order_by("title").values_list("title", flat=True)
            ],
        )
        cheapest = await Book.objects.order_by("price").afirst()
        show("afirst() by price:", cheapest.title if cheapest is not None else None)

        await orm.sync_to_async(rename_author)(barbara.pk, "Barbara H. Liskov")
        renamed = await Author.objects.aget(pk=barbara.pk)
        show("After a transaction run through sync_to_async:", renamed.name)


def reviews_tour() -> None:
    """Rows of the second app, whose table the migrations made (renamed field, CHECK constraint)."""
    book = Book.objects.get(title="On Computable Numbers")
    Review.objects.create(
        book=book, rating=5, text="A founding paper.\nStill readable.", summary="A founding paper."
    )
    show(
        "Reviews (app 'reviews', made by its four migrations):",
        list(Review.objects.values_list("rating", "summary")),
    )
    try:
        with transaction.atomic():
            Review.objects.create(book=book, rating=9, text="Too enthusiastic.")
    except orm.IntegrityError as error:
        show("A rating of 9 breaks the CHECK constraint of migration 0004:", type(error).__name__)


def run_tour() -> None:
    """Populate the migrated database and run every part of the tour."""
    populate()
    sync_tour()
    reviews_tour()
    asyncio.run(async_tour())


def main() -> None:
    """Run the demo on ``ORM_DATABASE_URL`` (already migrated), or on a temporary file it migrates."""
    url = os.environ.get("ORM_DATABASE_URL")
    if url:
        orm.configure(url)
        try:
            print(f"Database: {url}")
            run_tour()
        finally:
            orm.connections.close_all()
        print("\nDone.")
        return
    with tempfile.TemporaryDirectory(prefix="orm-demo-") as tmp:
        path = Path(tmp) / "demo.sqlite3"
        orm.configure(f"sqlite:///{path}")
        try:
            print(f"Database: {path}")
            applied = orm.migrate(apps=APPS)
            print(f"Applied {len(applied)} migrations.")
            run_tour()
        finally:
            orm.connections.close_all()
    print("\nDone.")


if __name__ == "__main__":
    main()
