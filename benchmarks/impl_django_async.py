"""django-async-backend: Django 6.1's ORM on true async psycopg connections (PostgreSQL only).

Written the way its README tells users to: models with ``AsyncModelMixin``,
queries through ``Model.async_objects``, transactions with ``async_atomic``,
``async_connections`` for the connection, the package's psycopg_pool
``AsyncConnectionPool`` (``OPTIONS={"pool": True}``, its defaults). No thread
hop anywhere: every query is awaited on the event loop.

Two documented limits shape the code: a connection belongs to the task that
first used it, so each task of the concurrent operation enters
``async_new_connection()`` (its own pooled connection); and there is no
``aiterator()``, so streaming is keyset pagination, as for Tortoise. It needs
Django 6.1 and Python >= 3.12, so it runs in the suite's peer virtualenv, in a
process of its own with the floor (``benchmarks/peers.py``). Tables are made
by Django's sync schema editor, untimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from asgiref.sync import sync_to_async

from benchmarks.databases import Target
from benchmarks.impl_base import Implementation
from benchmarks.workload import AuthorRow, BookRow

ENGINE = "django_async_backend.db.backends.postgresql"
_models: dict[str, Any] = {}


def _settings(target: Target) -> dict[str, Any]:
    parts = target.pg_parts
    return {
        "ENGINE": ENGINE,
        "NAME": parts["database"],
        "USER": parts["user"],
        "PASSWORD": parts["password"] or "",
        "HOST": parts["host"],
        "PORT": str(parts["port"]),
        "OPTIONS": {"options": target.pg_options, "pool": True},
    }


def _load(target: Target) -> dict[str, Any]:
    """Configure Django and define the models once per process (the schema never changes)."""
    if _models:
        return _models
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": _settings(target)},
        INSTALLED_APPS=["django_async_backend"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        # The sync connection only creates the tables, outside the event loop.
        ASYNC_BACKEND_DISABLE_POOL_WARNING=True,
    )
    django.setup()
    from django.db import models
    from django_async_backend.db.models.base import AsyncModelMixin

    class Author(AsyncModelMixin, models.Model):
        name = models.CharField(max_length=100)
        email = models.EmailField(unique=True)
        created = models.DateTimeField(auto_now_add=True)

        class Meta:
            app_label = "bench"
            db_table = "bench_author"

    class Tag(AsyncModelMixin, models.Model):
        name = models.CharField(max_length=50, unique=True)

        class Meta:
            app_label = "bench"
            db_table = "bench_tag"

    class Book(AsyncModelMixin, models.Model):
        title = models.CharField(max_length=200)
        author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
        published = models.DateField()
        price = models.DecimalField(max_digits=8, decimal_places=2)
        pages = models.IntegerField()
        tags = models.ManyToManyField(
            Tag, related_name="books", blank=True, db_table="bench_book_tags"
        )

        class Meta:
            app_label = "bench"
            db_table = "bench_book"

    _models.update(Author=Author, Tag=Tag, Book=Book)
    return _models


def _create_tables() -> None:
    from django.db import connection

    with connection.schema_editor() as editor:
        for model in (_models["Author"], _models["Tag"], _models["Book"]):
            editor.create_model(model)
    connection.close()
    connection.close_pool()


class DjangoAsyncBackendImpl(Implementation):
    name = "django_async_backend"
    notes = (
        "django-async-backend has no `aiterator()`; streaming is keyset pagination "
        "(`filter(id__gt=last).order_by('id')[:chunk]`). Its connection belongs to the "
        "task that first used it, so each concurrent task enters `async_new_connection()` "
        "(a connection of its own from the package's pool, default size).",
    )

    @classmethod
    def unavailable(cls, backend: str) -> str | None:
        if backend != "postgresql":
            return "PostgreSQL only (the package has no SQLite backend)"
        try:
            import django_async_backend  # noqa: F401
            import psycopg_pool  # noqa: F401
        except ImportError as exc:
            return f"{exc.name} is not installed (the peer virtualenv builds it)"
        return None

    @property
    def label(self) -> str:
        from importlib import metadata

        return f"django-async-backend {metadata.version('django-async-backend')} (pool)"

    async def setup(self) -> None:
        m = _load(self.target)
        self.Author, self.Book = m["Author"], m["Book"]
        await sync_to_async(_create_tables)()

    async def teardown(self) -> None:
        from django_async_backend.db import async_connections

        conn = async_connections["default"]
        await conn.close()
        await conn.close_pool()

    def task_scope(self) -> AbstractAsyncContextManager[Any]:
        from django_async_backend.db import async_new_connection

        return async_new_connection()  # type: ignore[no-any-return]

    async def seed_authors(self, rows: Sequence[AuthorRow]) -> None:
        await self.Author.async_objects.abulk_create(
            [self.Author(name=r.name, email=r.email) for r in rows]
        )

    async def bulk_create_books(self, rows: Sequence[BookRow]) -> None:
        Book = self.Book
        await Book.async_objects.abulk_create(
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
        return await self.Book.async_objects.aget(pk=pk)

    async def iterate_books(self, max_id: int) -> tuple[int, int]:
        n = pages = 0
        async for book in self.Book.async_objects.filter(id__lte=max_id):
            n += 1
            pages += book.pages
        return n, pages

    async def values_list_books(self) -> list[Any]:
        return [row async for row in self.Book.async_objects.values_list("id", "title", "price")]

    async def select_related_books(self, max_id: int) -> list[str]:
        qs = self.Book.async_objects.select_related("author").filter(id__lte=max_id)
        return [book.author.name async for book in qs]

    async def count_books(self, author_id: int) -> int:
        return int(await self.Book.async_objects.filter(author_id=author_id).acount())

    async def create_book(self, row: BookRow) -> int:
        book = await self.Book.async_objects.acreate(
            title=row.title,
            author_id=row.author_id,
            published=row.published,
            price=row.price,
            pages=row.pages,
        )
        return int(book.pk)

    async def update_books(self, max_id: int) -> int:
        from django.db.models import F

        qs = self.Book.async_objects.filter(id__lte=max_id)
        return int(await qs.aupdate(pages=F("pages") + 1))

    async def create_author_with_books(self, author: AuthorRow, books: Sequence[BookRow]) -> int:
        from django_async_backend.db.transaction import async_atomic

        Author, Book = self.Author, self.Book
        async with async_atomic():
            a = await Author.async_objects.acreate(name=author.name, email=author.email)
            for b in books:
                await Book.async_objects.acreate(
                    title=b.title, author=a, published=b.published, price=b.price, pages=b.pages
                )
        return int(a.pk)

    async def stream_books(self, chunk_size: int) -> tuple[int, int]:
        n = pages = 0
        last = 0
        while True:
            qs = self.Book.async_objects.filter(id__gt=last).order_by("id")[:chunk_size]
            got = 0
            async for book in qs:
                got += 1
                pages += book.pages
                last = book.id
            n += got
            if got < chunk_size:
                return n, pages
