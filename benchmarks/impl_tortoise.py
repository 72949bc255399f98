"""Tortoise ORM: aiosqlite on SQLite, asyncpg (or psycopg) on PostgreSQL.

Tortoise has no streaming iterator (``async for`` on a QuerySet fetches the
whole result first), so ``aiterator`` is emulated the way a Tortoise user
keeps memory bounded: keyset pages of ``chunk_size`` rows ordered by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import Tortoise, fields
from tortoise.expressions import F
from tortoise.models import Model
from tortoise.transactions import in_transaction

from benchmarks.databases import SQLITE_PRAGMAS, sqlite_settings_text
from benchmarks.impl_base import Implementation
from benchmarks.workload import AuthorRow, BookRow


class Author(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, unique=True)
    created = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bench_author"


class Tag(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)

    class Meta:
        table = "bench_tag"


class Book(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    author: fields.ForeignKeyRelation[Author] = fields.ForeignKeyField(
        "bench.Author", related_name="books", db_index=True
    )
    published = fields.DateField()
    price = fields.DecimalField(max_digits=8, decimal_places=2)
    pages = fields.IntField()
    tags: fields.ManyToManyRelation[Tag] = fields.ManyToManyField(
        "bench.Tag", related_name="books", through="bench_book_tags"
    )

    class Meta:
        table = "bench_book"


def _pg_engine() -> str:
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "tortoise.backends.psycopg"
    return "tortoise.backends.asyncpg"


class TortoiseImpl(Implementation):
    name = "tortoise"
    notes = (
        "Tortoise has no streaming iterator; `aiterator` is keyset pagination "
        "(`filter(id__gt=last).order_by('id').limit(chunk)`).",
    )

    @classmethod
    def unavailable(cls, backend: str) -> str | None:
        return None  # imported at module level: the registry skips us if that fails

    @property
    def label(self) -> str:
        import tortoise

        driver = "aiosqlite" if self.backend == "sqlite" else _pg_engine().rsplit(".", 1)[1]
        return f"Tortoise {tortoise.__version__} ({driver})"

    def _config(self) -> dict[str, Any]:
        if self.backend == "sqlite":
            conn: dict[str, Any] = {
                "engine": "tortoise.backends.sqlite",
                "credentials": {"file_path": self.target.path, **SQLITE_PRAGMAS},
            }
        else:
            p = self.target.pg_parts
            creds = {k: p[k] for k in ("host", "port", "user", "database")}
            if p["password"]:
                creds["password"] = p["password"]
            conn = {"engine": _pg_engine(), "credentials": {**creds, "schema": self.target.schema}}
        return {
            "connections": {"default": conn},
            "apps": {"bench": {"models": [__name__], "default_connection": "default"}},
            "use_tz": True,
            "timezone": "UTC",
        }

    async def sqlite_settings(self) -> str | None:
        conn = Tortoise.get_connection("default")
        _, journal = await conn.execute_query("PRAGMA journal_mode")
        _, sync = await conn.execute_query("PRAGMA synchronous")
        return sqlite_settings_text(journal[0][0], sync[0][0])

    async def setup(self) -> None:
        await Tortoise.init(config=self._config())
        await Tortoise.generate_schemas()

    async def teardown(self) -> None:
        await Tortoise.close_connections()

    async def seed_authors(self, rows: Sequence[AuthorRow]) -> None:
        await Author.bulk_create([Author(name=r.name, email=r.email) for r in rows])

    async def bulk_create_books(self, rows: Sequence[BookRow]) -> None:
        await Book.bulk_create(
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
        return await Book.get(id=pk)

    async def iterate_books(self, max_id: int) -> tuple[int, int]:
        n = pages = 0
        async for book in Book.filter(id__lte=max_id):
            n += 1
            pages += book.pages
        return n, pages

    async def values_list_books(self) -> list[Any]:
        return list(await Book.all().values_list("id", "title", "price"))

    async def select_related_books(self, max_id: int) -> list[str]:
        qs = Book.filter(id__lte=max_id).select_related("author")
        return [book.author.name async for book in qs]

    async def count_books(self, author_id: int) -> int:
        return await Book.filter(author_id=author_id).count()

    async def create_book(self, row: BookRow) -> int:
        book = await Book.create(
            title=row.title,
            author_id=row.author_id,
            published=row.published,
            price=row.price,
            pages=row.pages,
        )
        return book.id

    async def update_books(self, max_id: int) -> int:
        return await Book.filter(id__lte=max_id).update(pages=F("pages") + 1)

    async def create_author_with_books(self, author: AuthorRow, books: Sequence[BookRow]) -> int:
        async with in_transaction():
            a = await Author.create(name=author.name, email=author.email)
            for b in books:
                await Book.create(
                    title=b.title, author=a, published=b.published, price=b.price, pages=b.pages
                )
        return a.id

    async def stream_books(self, chunk_size: int) -> tuple[int, int]:
        n = pages = 0
        last = 0
        while True:
            chunk = await Book.filter(id__gt=last).order_by("id").limit(chunk_size)
            for book in chunk:
                n += 1
                pages += book.pages
            if len(chunk) < chunk_size:
                return n, pages
            last = chunk[-1].id
