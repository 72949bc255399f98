"""Django's async ORM, standalone: ``settings.configure()``, no project, no app package.

Django allows a model outside ``INSTALLED_APPS`` when its ``Meta`` names an
explicit ``app_label``; the models are defined (once per process) right
after ``django.setup()`` because a model class needs the app registry.
Tables are created with the schema editor, as Django's test runner does for
unmanaged apps. Django's connection for the default alias lives on asgiref's
thread-sensitive thread, exactly like `orm`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asgiref.sync import sync_to_async

from benchmarks.databases import SQLITE_PRAGMAS, Target, sqlite_settings_of
from benchmarks.impl_base import Implementation
from benchmarks.workload import AuthorRow, BookRow

_models: dict[str, Any] = {}


def _database_settings(target: Target) -> dict[str, Any]:
    if target.backend == "sqlite":
        pragmas = "; ".join(
            f"PRAGMA {k}={v}" for k, v in SQLITE_PRAGMAS.items() if k != "foreign_keys"
        )
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": target.path,
            # Same pragmas and the same BEGIN IMMEDIATE transactions as orm.
            "OPTIONS": {"init_command": pragmas, "transaction_mode": "IMMEDIATE", "timeout": 5},
        }
    parts = target.pg_parts
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts["database"],
        "USER": parts["user"],
        "PASSWORD": parts["password"] or "",
        "HOST": parts["host"],
        "PORT": str(parts["port"]),
        "OPTIONS": {"options": target.pg_options},
    }


def _load(database: dict[str, Any]) -> dict[str, Any]:
    """Configure Django with ``database`` as the default alias and define the models (first call only).

    The settings never change afterwards: each run reuses the same SQLite
    path or PostgreSQL schema, which the harness empties in between.
    """
    if _models:
        return _models
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=[],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    from django.db import models

    class Author(models.Model):
        name = models.CharField(max_length=100)
        email = models.EmailField(unique=True)
        created = models.DateTimeField(auto_now_add=True)

        class Meta:
            app_label = "bench"
            db_table = "bench_author"

    class Tag(models.Model):
        name = models.CharField(max_length=50, unique=True)

        class Meta:
            app_label = "bench"
            db_table = "bench_tag"

    class Book(models.Model):
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


def _close() -> None:
    from django.db import connection

    connection.close()
    if getattr(connection, "pool", None) is not None:  # Django >= 5.1 with OPTIONS["pool"]
        connection.close_pool()


def _read_sqlite_settings() -> str:
    from django.db import connection

    connection.ensure_connection()
    return sqlite_settings_of(connection.connection)


def _create_author_with_books(author: AuthorRow, books: Sequence[BookRow]) -> int:
    from django.db import transaction

    Author, Book = _models["Author"], _models["Book"]
    with transaction.atomic():
        a = Author.objects.create(name=author.name, email=author.email)
        for b in books:
            Book.objects.create(
                title=b.title, author=a, published=b.published, price=b.price, pages=b.pages
            )
    return int(a.pk)


class DjangoImpl(Implementation):
    name = "django"

    @classmethod
    def unavailable(cls, backend: str) -> str | None:
        try:
            import django  # noqa: F401
        except ImportError:
            return "Django is not installed (pip install -e '.[bench]')"
        return None

    @property
    def label(self) -> str:
        import django

        return f"Django {django.get_version()}"

    def database(self) -> dict[str, Any]:
        """The ``DATABASES["default"]`` entry for this run's target."""
        return _database_settings(self.target)

    async def setup(self) -> None:
        m = _load(self.database())
        self.Author, self.Book = m["Author"], m["Book"]
        await sync_to_async(_create_tables)()

    async def sqlite_settings(self) -> str | None:
        return await sync_to_async(_read_sqlite_settings)()

    async def teardown(self) -> None:
        await sync_to_async(_close)()

    async def seed_authors(self, rows: Sequence[AuthorRow]) -> None:
        await self.Author.objects.abulk_create(
            [self.Author(name=r.name, email=r.email) for r in rows]
        )

    async def bulk_create_books(self, rows: Sequence[BookRow]) -> None:
        Book = self.Book
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
        return await self.Book.objects.aget(pk=pk)

    async def iterate_books(self, max_id: int) -> tuple[int, int]:
        n = pages = 0
        async for book in self.Book.objects.filter(id__lte=max_id):
            n += 1
            pages += book.pages
        return n, pages

    async def values_list_books(self) -> list[Any]:
        return [row async for row in self.Book.objects.values_list("id", "title", "price")]

    async def select_related_books(self, max_id: int) -> list[str]:
        qs = self.Book.objects.select_related("author").filter(id__lte=max_id)
        return [book.author.name async for book in qs]

    async def count_books(self, author_id: int) -> int:
        return await self.Book.objects.filter(author_id=author_id).acount()

    async def create_book(self, row: BookRow) -> int:
        book = await self.Book.objects.acreate(
            title=row.title,
            author_id=row.author_id,
            published=row.published,
            price=row.price,
            pages=row.pages,
        )
        return int(book.pk)

    async def update_books(self, max_id: int) -> int:
        from django.db.models import F

        return await self.Book.objects.filter(id__lte=max_id).aupdate(pages=F("pages") + 1)

    async def create_author_with_books(self, author: AuthorRow, books: Sequence[BookRow]) -> int:
        return await sync_to_async(_create_author_with_books)(author, books)

    async def stream_books(self, chunk_size: int) -> tuple[int, int]:
        n = pages = 0
        async for book in self.Book.objects.aiterator(chunk_size=chunk_size):
            n += 1
            pages += book.pages
        return n, pages
