"""Per-row cost of each result shape, `orm` against the raw driver: ``python tools/rowcost.py``.

What it measures: the cost one more row adds, on the sync thread, without
the thread hop (a per-call cost). Each shape runs at two sizes; the
difference divided by the difference in rows cancels everything per call
(compiling, executing, the cursor wrapper), on both sides alike:

* time (default): this thread's CPU time (``time.thread_time``, which a
  loaded machine disturbs far less than wall time), median of ``--repeat``
  alternating runs of each size (on PostgreSQL the server's work is not in it);
* ``--callgrind``: instructions counted by ``valgrind --tool=callgrind``
  over a child process running the shape once at each size (stable on a
  loaded machine where times are not).

The shapes follow benchmarks/ (the same tables and columns): ``models``
(``Book.objects.filter(id__lte=n)``), ``select_related`` (with its author),
``values_list`` (``"id", "title", "price"``) and ``bulk_create``. The raw
side runs the same SQL on the driver connection `orm` opened
(``fetchall()``, or ``executemany`` with the values already in the driver's
types, as benchmarks/impl_raw.py does). Usage::

    python tools/rowcost.py [--backend sqlite|postgresql] [--shape NAME ...]
        [--callgrind] [--small 200] [--large 1200] [--repeat 7]

PostgreSQL uses ``ORM_TEST_POSTGRES_URL`` (its ``public`` schema is dropped).
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orm  # noqa: E402
from orm.models.registry import Apps  # noqa: E402

SHAPES = ("models", "select_related", "values_list", "bulk_create")
_apps = Apps()


class Author(orm.Model):
    name = orm.CharField(max_length=100)
    email = orm.EmailField(unique=True)
    created = orm.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "rowcost"
        apps = _apps


class Book(orm.Model):
    title = orm.CharField(max_length=200)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
    published = orm.DateField()
    price = orm.DecimalField(max_digits=8, decimal_places=2)
    pages = orm.IntegerField()

    class Meta:
        app_label = "rowcost"
        apps = _apps


def _values(i: int) -> dict[str, Any]:
    return {
        "title": f"Book {i}",
        "author_id": 1 + i % 50,
        "published": datetime.date(2000, 1, 1) + datetime.timedelta(days=i),
        "price": Decimal(f"{i % 100}.{i % 97:02d}"),
        "pages": 100 + i,
    }


def _book(i: int) -> Book:
    return Book(**_values(i))


def setup(backend: str, rows: int) -> None:
    """Configure orm on a fresh database holding ``rows`` books by 50 authors."""
    if backend == "sqlite":
        orm.configure(f"sqlite:///{tempfile.mkdtemp()}/rowcost.sqlite3")
    else:
        orm.configure(os.environ["ORM_TEST_POSTGRES_URL"])
        with orm.connection.cursor() as cur:
            cur.execute("DROP SCHEMA public CASCADE")
            cur.execute("CREATE SCHEMA public")
    orm.create_tables(Author, Book)
    Author.objects.bulk_create([Author(name=f"A{i}", email=f"a{i}@example.com") for i in range(50)])
    Book.objects.bulk_create([_book(i) for i in range(rows)])


def _raw(sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with orm.connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _raw_insert(rows: list[dict[str, Any]]) -> None:
    # As benchmarks/impl_raw.py: the driver's types, made per row.
    sqlite = orm.connection.vendor == "sqlite"
    params = [
        (
            r["title"],
            r["author_id"],
            r["published"].isoformat() if sqlite else r["published"],
            str(r["price"]) if sqlite else r["price"],
            r["pages"],
        )
        for r in rows
    ]
    with orm.transaction.atomic(), orm.connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO rowcost_book (title, author_id, published, price, pages) "
            "VALUES (%s, %s, %s, %s, %s)",
            params,
        )


def runner(shape: str, side: str) -> Callable[[int], Any]:
    """A function running ``shape`` over ``n`` rows on ``side`` ("orm" or "raw")."""
    cols = "b.id, b.title, b.author_id, b.published, b.price, b.pages"
    if shape == "models":
        if side == "orm":
            return lambda n: list(Book.objects.filter(id__lte=n))
        return lambda n: _raw(f"SELECT {cols} FROM rowcost_book b WHERE b.id <= %s", (n,))
    if shape == "select_related":
        if side == "orm":
            return lambda n: list(Book.objects.select_related("author").filter(id__lte=n))
        return lambda n: _raw(
            f"SELECT {cols}, a.id, a.name, a.email, a.created FROM rowcost_book b "
            "JOIN rowcost_author a ON a.id = b.author_id WHERE b.id <= %s",
            (n,),
        )
    if shape == "values_list":
        if side == "orm":
            return lambda n: list(
                Book.objects.filter(id__lte=n).values_list("id", "title", "price")
            )
        return lambda n: _raw("SELECT id, title, price FROM rowcost_book WHERE id <= %s", (n,))
    if shape == "bulk_create":
        data = [_values(i) for i in range(5000)]

        def insert(n: int) -> None:
            # Instances made in the timed part, as the benchmark's orm side does.
            if side == "orm":
                with orm.transaction.atomic():
                    Book.objects.bulk_create([Book(**kw) for kw in data[:n]])
            else:
                _raw_insert(data[:n])

        return insert
    raise SystemExit(f"unknown shape {shape!r}; choose from {', '.join(SHAPES)}")


def timed(backend: str, shapes: list[str], small: int, large: int, repeat: int) -> None:
    """Print, per shape, the time one more row adds on each side and their ratio."""
    setup(backend, large)
    for shape in shapes:
        per_row = {}
        for side in ("orm", "raw"):
            run = runner(shape, side)
            run(small)  # warm: statement cache, prepared statements
            deltas = []
            for _ in range(repeat):
                t0 = time.thread_time()
                run(small)
                t1 = time.thread_time()
                run(large)
                t2 = time.thread_time()
                deltas.append(((t2 - t1) - (t1 - t0)) / (large - small))
            per_row[side] = statistics.median(deltas)
        print(
            f"{backend:10} {shape:15} orm {per_row['orm'] * 1e6:7.2f} us/row  "
            f"raw {per_row['raw'] * 1e6:7.2f} us/row  ratio {per_row['orm'] / per_row['raw']:5.2f}"
        )


_COLLECTED = re.compile(r"Collected : (\d+)")


def _instructions(backend: str, shape: str, side: str, n: int, large: int) -> int:
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--once",
        shape,
        side,
        str(n),
        str(large),
        "--backend",
        backend,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    found = _COLLECTED.search(out.stderr)
    if found is None:
        raise SystemExit(out.stderr[-2000:])
    return int(found.group(1))


def counted(backend: str, shapes: list[str], small: int, large: int) -> None:
    """Print, per shape, the instructions one more row adds on each side and their ratio."""
    for shape in shapes:
        per_row = {}
        for side in ("orm", "raw"):
            low = _instructions(backend, shape, side, small, large)
            high = _instructions(backend, shape, side, large, large)
            per_row[side] = (high - low) / (large - small)
        print(
            f"{backend:10} {shape:15} orm {per_row['orm']:9.0f} instr/row  "
            f"raw {per_row['raw']:9.0f} instr/row  ratio {per_row['orm'] / per_row['raw']:5.2f}"
        )


def once(backend: str, shape: str, side: str, n: int, large: int) -> None:
    """The child of ``--callgrind``: set up, warm with one row, run ``shape`` over ``n`` rows once."""
    setup(backend, large)
    run = runner(shape, side)
    run(1)
    run(n)


def main() -> None:
    """Parse the command line and measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--shape", action="append", choices=SHAPES)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--once", nargs=4, metavar=("SHAPE", "SIDE", "N", "LARGE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.once:
        shape, side, n, large = args.once
        once(args.backend, shape, side, int(n), int(large))
        return
    shapes = args.shape or list(SHAPES)
    if args.callgrind:
        counted(args.backend, shapes, args.small, args.large)
    else:
        timed(args.backend, shapes, args.small, args.large, args.repeat)


if __name__ == "__main__":
    main()
