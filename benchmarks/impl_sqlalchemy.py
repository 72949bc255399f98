"""SQLAlchemy 2 asyncio ORM: aiosqlite on SQLite, asyncpg (or psycopg) on PostgreSQL.

Idiomatic 2.0 style: an ``AsyncSession`` per unit of work (a fresh one per
call, as a web request would have, so the identity map never serves a cached
row), ``expire_on_commit=False``, ORM bulk ``insert(Book)`` with a list of
dicts for bulk create, ``joinedload`` for the related author, and
``stream_scalars`` with ``yield_per`` for the streaming iterator.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import SAWarning
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship

from benchmarks.databases import SQLITE_PRAGMAS, sqlite_settings_text
from benchmarks.impl_base import Implementation
from benchmarks.workload import AuthorRow, BookRow

# SQLite has no decimal type; SQLAlchemy says so once per process. Every
# implementation faces the same storage, so the warning is noise here.
warnings.filterwarnings("ignore", category=SAWarning, message=".*Decimal objects natively.*")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


book_tags = Table(
    "bench_book_tags",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", ForeignKey("bench_book.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("tag_id", ForeignKey("bench_tag.id", ondelete="CASCADE"), nullable=False, index=True),
)


class Author(Base):
    __tablename__ = "bench_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Tag(Base):
    __tablename__ = "bench_tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Book(Base):
    __tablename__ = "bench_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(
        ForeignKey("bench_author.id", ondelete="CASCADE"), index=True
    )
    published: Mapped[dt.date] = mapped_column(Date)
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    pages: Mapped[int] = mapped_column(Integer)
    author: Mapped[Author] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=book_tags)


def _pg_driver() -> str:
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "psycopg"
    return "asyncpg"


class SQLAlchemyImpl(Implementation):
    name = "sqlalchemy"
    engine: AsyncEngine

    @property
    def label(self) -> str:
        import sqlalchemy

        driver = "aiosqlite" if self.backend == "sqlite" else _pg_driver()
        return f"SQLAlchemy {sqlalchemy.__version__} ({driver})"

    def _engine(self) -> AsyncEngine:
        if self.backend == "sqlite":
            engine = create_async_engine(f"sqlite+aiosqlite:///{self.target.path}")

            @event.listens_for(engine.sync_engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                for key, value in SQLITE_PRAGMAS.items():
                    cur.execute(f"PRAGMA {key}={value}")
                cur.close()

            return engine
        driver = _pg_driver()
        url = self.target.pg_url.replace("postgresql://", f"postgresql+{driver}://", 1)
        if driver == "asyncpg":
            args: dict[str, Any] = {"server_settings": {"search_path": self.target.schema}}
        else:
            args = {"options": self.target.pg_options}
        return create_async_engine(url, connect_args=args)

    async def sqlite_settings(self) -> str | None:
        async with self.engine.connect() as conn:
            journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            sync = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
        return sqlite_settings_text(journal, sync)

    async def setup(self) -> None:
        self.engine = self._engine()
        self.Session = async_sessionmaker(self.engine, expire_on_commit=False)
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def teardown(self) -> None:
        await self.engine.dispose()

    async def seed_authors(self, rows: Sequence[AuthorRow]) -> None:
        async with self.Session() as s:
            await s.execute(insert(Author), [{"name": r.name, "email": r.email} for r in rows])
            await s.commit()

    async def bulk_create_books(self, rows: Sequence[BookRow]) -> None:
        async with self.Session() as s:
            await s.execute(
                insert(Book),
                [
                    {
                        "title": r.title,
                        "author_id": r.author_id,
                        "published": r.published,
                        "price": r.price,
                        "pages": r.pages,
                    }
                    for r in rows
                ],
            )
            await s.commit()

    async def get_book(self, pk: int) -> Any:
        async with self.Session() as s:
            return await s.get(Book, pk)

    async def iterate_books(self, max_id: int) -> tuple[int, int]:
        n = pages = 0
        async with self.Session() as s:
            for book in await s.scalars(select(Book).where(Book.id <= max_id)):
                n += 1
                pages += book.pages
        return n, pages

    async def values_list_books(self) -> list[Any]:
        async with self.Session() as s:
            return list(await s.execute(select(Book.id, Book.title, Book.price)))

    async def select_related_books(self, max_id: int) -> list[str]:
        stmt = select(Book).options(joinedload(Book.author)).where(Book.id <= max_id)
        async with self.Session() as s:
            return [book.author.name for book in await s.scalars(stmt)]

    async def count_books(self, author_id: int) -> int:
        stmt = select(func.count()).select_from(Book).where(Book.author_id == author_id)
        async with self.Session() as s:
            return int(await s.scalar(stmt) or 0)

    async def create_book(self, row: BookRow) -> int:
        async with self.Session() as s:
            book = Book(
                title=row.title,
                author_id=row.author_id,
                published=row.published,
                price=row.price,
                pages=row.pages,
            )
            s.add(book)
            await s.commit()
            return book.id

    async def update_books(self, max_id: int) -> int:
        stmt = (
            update(Book)
            .where(Book.id <= max_id)
            .values(pages=Book.pages + 1)
            .execution_options(synchronize_session=False)
        )
        async with self.Session() as s:
            result = await s.execute(stmt)
            await s.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def create_author_with_books(self, author: AuthorRow, books: Sequence[BookRow]) -> int:
        async with self.Session() as s, s.begin():
            a = Author(name=author.name, email=author.email)
            s.add(a)
            s.add_all(
                [
                    Book(
                        title=b.title, author=a, published=b.published, price=b.price, pages=b.pages
                    )
                    for b in books
                ]
            )
        return a.id

    async def stream_books(self, chunk_size: int) -> tuple[int, int]:
        n = pages = 0
        stmt = select(Book).execution_options(yield_per=chunk_size)
        async with self.Session() as s:
            async for book in await s.stream_scalars(stmt):
                n += 1
                pages += book.pages
        return n, pages
