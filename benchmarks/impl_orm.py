"""`orm`: the implementation under test, written the way API.md tells users to."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import orm
from benchmarks.databases import SQLITE_PRAGMAS, sqlite_settings_text
from benchmarks.impl_base import Implementation
from benchmarks.workload import AuthorRow, BookRow
from orm import F, transaction


class Author(orm.Model):
    name = orm.CharField(max_length=100)
    email = orm.EmailField(unique=True)
    created = orm.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "bench"


class Tag(orm.Model):
    name = orm.CharField(max_length=50, unique=True)

    class Meta:
        app_label = "bench"


class Book(orm.Model):
    title = orm.CharField(max_length=200)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")  # indexed
    published = orm.DateField()
    price = orm.DecimalField(max_digits=8, decimal_places=2)
    pages = orm.IntegerField()
    tags = orm.ManyToManyField(Tag, related_name="books", blank=True)

    class Meta:
        app_label = "bench"


def _create_author_with_books(author: AuthorRow, books: Sequence[BookRow]) -> int:
    with transaction.atomic():
        a = Author.objects.create(name=author.name, email=author.email)
        for b in books:
            Book.objects.create(
                title=b.title, author=a, published=b.published, price=b.price, pages=b.pages
            )
    return a.pk


def _read_sqlite_settings() -> str:
    with orm.connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        sync = cursor.fetchone()[0]
    return sqlite_settings_text(journal, sync)


class OrmImpl(Implementation):
    name = "orm"
    kind = "orm"

    @classmethod
    def unavailable(cls, backend: str) -> str | None:
        if backend != "postgresql":
            return None
        try:
            import orm.backends.postgresql.base  # noqa: F401
        except Exception as exc:  # noqa: BLE001 - the backend is written concurrently
            return f"orm's PostgreSQL backend is not importable yet ({type(exc).__name__}: {exc})"
        return None

    def _url(self) -> str:
        if self.backend == "sqlite":
            # The suite's shared journal and fsync settings, as URL options.
            return (
                f"sqlite:///{self.target.path}?journal_mode={SQLITE_PRAGMAS['journal_mode']}"
                f"&synchronous={SQLITE_PRAGMAS['synchronous']}".lower()
            )
        return self.target.pg_url_with_schema()

    async def sqlite_settings(self) -> str | None:
        return await orm.sync_to_async(_read_sqlite_settings)()

    def concurrency_variants(self) -> dict[str, tuple[str, Callable[[], Any]]]:
        """Tasks sharing the process's one sync thread, and each task in a scope of its own."""
        return {
            self.name: (f"{self.label} (one sync thread)", contextlib.nullcontext),
            f"{self.name}_scoped": (
                f"{self.label} + `connection_scope()` per task",
                orm.connection_scope,
            ),
        }

    async def setup(self) -> None:
        orm.configure(self._url())
        await orm.acreate_tables(Author, Tag, Book)

    async def teardown(self) -> None:
        # close_all also closes PostgreSQL pools; it runs on the sync thread
        # that owns the connections.
        await orm.sync_to_async(orm.connections.close_all)()

    async def seed_authors(self, rows: Sequence[AuthorRow]) -> None:
        await Author.objects.abulk_create([Author(name=r.name, email=r.email) for r in rows])

    async def bulk_create_books(self, rows: Sequence[BookRow]) -> None:
        await Book.objects.abulk_create(
            [
                Book(
                    title=r.title,
                    author_id=r.author_id,
                    published=r.published,
                    price=r.price,
                    pages=r.pages,
                )
                for r in rows
            ]
        )

    async def get_book(self, pk: int) -> Any:
        return await Book.objects.aget(pk=pk)

    async def iterate_books(self, max_id: int) -> tuple[int, int]:
        n = pages = 0
        async for book in Book.objects.filter(id__lte=max_id):
            n += 1
            pages += book.pages
        return n, pages

    async def values_list_books(self) -> list[Any]:
        return [row async for row in Book.objects.values_list("id", "title", "price")]

    async def select_related_books(self, max_id: int) -> list[str]:
        qs = Book.objects.select_related("author").filter(id__lte=max_id)
        return [book.author.name async for book in qs]

    async def count_books(self, author_id: int) -> int:
        return await Book.objects.filter(author_id=author_id).acount()

    async def create_book(self, row: BookRow) -> int:
        book = await Book.objects.acreate(
            title=row.title,
            author_id=row.author_id,
            published=row.published,
            price=row.price,
            pages=row.pages,
        )
        return book.pk

    async def update_books(self, max_id: int) -> int:
        return await Book.objects.filter(id__lte=max_id).aupdate(pages=F("pages") + 1)

    async def create_author_with_books(self, author: AuthorRow, books: Sequence[BookRow]) -> int:
        return await orm.sync_to_async(_create_author_with_books)(author, books)

    async def stream_books(self, chunk_size: int) -> tuple[int, int]:
        n = pages = 0
        async for book in Book.objects.aiterator(chunk_size=chunk_size):
            n += 1
            pages += book.pages
        return n, pages


class OrmWalImpl(OrmImpl):
    """`orm` with its own SQLite defaults (WAL, ``synchronous=NORMAL``): an extra column.

    It runs in a process of its own (with the floor, see ``benchmarks/peers.py``)
    because ``orm.configure`` is process-wide. Its ratio is to a floor that uses
    the suite's shared settings, so it shows what the default buys, not a
    like-for-like comparison.
    """

    name = "orm_wal"
    kind = "orm-extra"

    @classmethod
    def unavailable(cls, backend: str) -> str | None:
        if backend != "sqlite":
            return "SQLite only (the journal mode is a SQLite setting)"
        return None

    @property
    def label(self) -> str:
        return "orm (WAL default)"

    def _url(self) -> str:
        return f"sqlite:///{self.target.path}"
