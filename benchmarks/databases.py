"""Where each implementation's database lives, and the harness's own view of it.

Every implementation gets a database of its own, recreated before each run:

* SQLite: a file ``<impl>.sqlite3`` in a temporary directory made for this
  process (deleted, with its ``-wal``/``-shm`` files, between runs and at the end).
* PostgreSQL: a schema ``bench_<impl>_<pid>`` in the configured database,
  dropped and recreated between runs and dropped at the end; every client
  reaches it through ``search_path`` set at connect time.

A :class:`Target` also holds the harness's *verifier*: a plain sync driver
connection used, outside any timed region, to read ground truth (counts,
sums) and to duplicate rows for the ``aiterator`` data set. Results of the
implementations are checked against it, so a broken implementation cannot
look fast.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

# Pragmas every SQLite client gets (peers, floors, verifier and `orm`), so that
# nobody wins by journaling differently or skipping fsyncs: a rollback journal
# and an fsync at every commit, the settings of issue 19's independent run.
# `orm`'s own default (WAL, synchronous=NORMAL) is measured apart, as the extra
# column "orm (WAL default)" (``OrmWalImpl``), never as the comparison.
SQLITE_PRAGMAS = {"journal_mode": "DELETE", "synchronous": "FULL", "foreign_keys": "ON"}
# What ``PRAGMA synchronous`` reads back as.
SYNCHRONOUS_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}

BOOK_COLUMNS = "title, author_id, published, price, pages"


def pg_url_from_env() -> str:
    """The PostgreSQL URL: ``BENCH_POSTGRES_URL``, then ``ORM_TEST_POSTGRES_URL``, then a default."""
    return (
        os.environ.get("BENCH_POSTGRES_URL")
        or os.environ.get("ORM_TEST_POSTGRES_URL")
        or DEFAULT_PG_URL
    )


def postgres_unreachable(url: str) -> str | None:
    """None when ``url`` accepts a connection, else the reason (for the report)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[bench]')"
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return f"PostgreSQL at {url} is not reachable: {exc}".strip()
    return None


@dataclass
class Session:
    """Per-process state shared by all targets: temp dir, PG URL, names."""

    backend: str
    pg_url: str = field(default_factory=pg_url_from_env)
    tmpdir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="orm-bench-"))
    targets: list[Target] = field(default_factory=list)

    def target(self, impl: str) -> Target:
        t = Target(self, impl)
        self.targets.append(t)
        return t

    def cleanup(self) -> None:
        """Drop every schema and delete the temp dir; safe to call twice."""
        for t in self.targets:
            try:
                t.drop()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class Target:
    """One implementation's database: its location, reset, and verifier."""

    def __init__(self, session: Session, impl: str) -> None:
        self.session = session
        self.backend = session.backend
        self.impl = impl
        self.path = os.path.join(session.tmpdir, f"{impl}.sqlite3")
        self.schema = f"bench_{impl}_{os.getpid()}"
        self._verifier: Any = None

    # -- locations, in each client's dialect ------------------------------
    @property
    def pg_url(self) -> str:
        return self.session.pg_url

    @property
    def pg_parts(self) -> dict[str, Any]:
        """host, port, user, password, database of the PostgreSQL URL."""
        p = urlsplit(self.pg_url)
        return {
            "host": p.hostname or "127.0.0.1",
            "port": p.port or 5432,
            "user": p.username or "postgres",
            "password": p.password,
            "database": p.path.lstrip("/"),
        }

    @property
    def pg_options(self) -> str:
        """The libpq ``options`` value that points ``search_path`` at our schema."""
        return f"-c search_path={self.schema}"

    def pg_url_with_schema(self, scheme: str = "postgresql") -> str:
        """The URL plus ``?options=-c search_path=<schema>`` (libpq syntax)."""
        p = urlsplit(self.pg_url)
        query = "options=" + quote(self.pg_options, safe="")
        if p.query:
            query = p.query + "&" + query
        return urlunsplit((scheme, p.netloc, p.path, query, ""))

    # -- lifecycle ---------------------------------------------------------
    def reset(self) -> None:
        """Make the database empty: delete the file / recreate the schema."""
        self.drop()
        if self.backend != "sqlite":
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def drop(self) -> None:
        """Remove the database for good (end of the session)."""
        self.close_verifier()
        if self.backend == "sqlite":
            self._remove_files()
        else:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.remove(self.path + suffix)
            except FileNotFoundError:
                pass

    # -- raw sync connections (floors and verifier use the same settings) --
    def connect_sync(self, pragmas: bool = True) -> Any:
        """A new autocommit connection with the shared settings (sqlite3 or psycopg).

        The verifier passes ``pragmas=False``: it must read any implementation's
        file as that implementation left it (a WAL file stays WAL).
        """
        if self.backend == "sqlite":
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=5.0, check_same_thread=False
            )
            for key, value in SQLITE_PRAGMAS.items() if pragmas else ():
                conn.execute(f"PRAGMA {key} = {value}")
            return conn
        import psycopg

        return psycopg.connect(self.pg_url, autocommit=True, options=self.pg_options)

    def verifier(self) -> Any:
        if self._verifier is None:
            self._verifier = self.connect_sync(pragmas=False)
        return self._verifier

    def close_verifier(self) -> None:
        if self._verifier is not None:
            self._verifier.close()
            self._verifier = None

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Ground truth: run ``sql`` (``%s`` placeholders) on the verifier connection."""
        if self.backend == "sqlite":
            sql = sql.replace("%s", "?")
        cur = self.verifier().execute(sql, params)
        rows = cur.fetchall() if cur.description is not None else []
        cur.close()
        return rows

    def count_and_pages(self, max_id: int | None = None) -> tuple[int, int]:
        """(rows, sum of pages) of the book table, optionally for ``id <= max_id``."""
        sql = "SELECT count(*), coalesce(sum(pages), 0) FROM bench_book"
        params: tuple[Any, ...] = ()
        if max_id is not None:
            sql += " WHERE id <= %s"
            params = (max_id,)
        n, s = self.query(sql, params)[0]
        return int(n), int(s)

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {table}")[0][0])

    def grow_books(self, total: int) -> None:
        """Duplicate existing book rows (as the implementation stored them) up to ``total``.

        ``INSERT ... SELECT`` copies values in each ORM's own storage format,
        so the ``aiterator`` data set reads back exactly like rows it wrote.
        """
        while True:
            have = self.count("bench_book")
            if have >= total:
                return
            take = min(have, total - have)
            self.query(
                f"INSERT INTO bench_book ({BOOK_COLUMNS}) SELECT {BOOK_COLUMNS} "
                "FROM bench_book ORDER BY id LIMIT %s",
                (take,),
            )


def sqlite_settings_text(journal_mode: object, synchronous: object) -> str:
    """``journal_mode=delete, synchronous=FULL`` from what two PRAGMA queries returned."""
    sync = (
        SYNCHRONOUS_NAMES.get(int(str(synchronous)), str(synchronous))
        if str(synchronous).isdigit()
        else str(synchronous).upper()
    )
    return f"journal_mode={str(journal_mode).lower()}, synchronous={sync}"


def sqlite_settings_of(conn: Any) -> str:
    """The journal mode and ``synchronous`` of a DB-API SQLite connection, as text."""
    journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    sync = conn.execute("PRAGMA synchronous").fetchone()[0]
    return sqlite_settings_text(journal, sync)


def pg_server_version(url: str) -> str | None:
    """``PostgreSQL <version>`` of the server at ``url``, or None when unreachable."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return f"PostgreSQL {row[0]}" if row else None
    except Exception:  # noqa: BLE001
        return None


def django_postgres_settings(url: str, engine: str, pool_max_size: int = 0) -> dict[str, Any]:
    """Django's ``DATABASES`` entry for a PostgreSQL URL (``engine``: Django's or django-async-backend's).

    With ``pool_max_size`` > 0 the backend's psycopg pool is on. Stdlib only:
    the Django 6.1 peer virtualenv imports it as well as the Django 5.2 app.
    """
    parts = urlsplit(url)
    options: dict[str, Any] = {k: v for k, v in parse_qsl(parts.query) if not k.startswith("pool_")}
    if pool_max_size:
        options["pool"] = {"min_size": 1, "max_size": pool_max_size, "timeout": 30}
    return {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
        "OPTIONS": options,
    }
