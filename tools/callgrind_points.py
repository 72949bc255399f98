"""Instructions per call of each point operation, `orm` against the raw driver.

    python tools/callgrind_points.py [--backend sqlite|postgresql] [--ops get,count,...] [-n 300]

Timings on a shared machine are noisy; instruction counts are not. For each
operation this runs the sync side (what the ``a*`` twin's one hop calls) in a
child process under ``valgrind --tool=cachegrind --cache-sim=no``, once with
``n`` calls and once with ``2n``, and reports (I(2n) - I(n)) / n: setup,
imports and warm-up cancel out, what is left is the cost of one call in this
process (the ORM, the driver and, on SQLite, the database engine itself; on
PostgreSQL the server's work is in another process and not counted). The
same is done for the hand-written statement on the bare driver, so the
difference is what `orm` adds per call.

PostgreSQL: ``--backend postgresql`` uses ``ORM_TEST_POSTGRES_URL`` and
drops/creates the benchmark tables there. Without valgrind, ``--no-valgrind``
times the same loops with ``perf_counter`` instead (noisy).
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The hop alone (no database): asgiref's thread-sensitive sync_to_async, and
#: run_in_executor on one thread, each awaiting a no-op (``--ops hop,hop_executor``).
HOPS = ("hop", "hop_executor")
OPS = (
    "get",
    "count",
    "count_all",
    "exists",
    "create",
    "save",
    "update",
    "update_f",
    "delete",
    "atomic",
)


def _orm_ops(backend: str, url: str) -> dict[str, Callable[[int], Any]]:
    import orm
    from benchmarks.impl_orm import Author, Book, Tag
    from orm import F, transaction

    orm.configure(url)
    if backend == "postgresql":
        with orm.connection.cursor() as cursor:
            cursor.execute(
                "DROP TABLE IF EXISTS bench_book_tags, bench_book, bench_tag, bench_author CASCADE"
            )
    orm.create_tables(Author, Tag, Book)
    author = Author.objects.create(name="a", email="a@example.com")
    day, price = datetime.date(2024, 1, 2), decimal.Decimal("9.50")
    books = Book.objects.bulk_create(
        [
            Book(title=f"t{i}", author=author, published=day, price=price, pages=i)
            for i in range(2000)
        ]
    )
    pks = [b.pk for b in books]
    saved = Book.objects.get(pk=pks[0])

    def atomic(i: int) -> None:
        with transaction.atomic():
            a = Author.objects.create(name="x", email=f"x{i}@example.com")
            for _ in range(5):
                Book.objects.create(title="t", author=a, published=day, price=price, pages=1)

    def save(i: int) -> None:
        saved.pages = i
        saved.save()

    return {
        "get": lambda i: Book.objects.get(pk=pks[i % 100]),
        "count": lambda i: Book.objects.filter(id__lte=pks[9]).count(),
        "count_all": lambda i: Book.objects.count(),
        "exists": lambda i: Book.objects.filter(pk=pks[i % 1000]).exists(),
        "create": lambda i: Book.objects.create(
            title="t", author_id=author.pk, published=day, price=price, pages=i
        ),
        "save": save,
        "update": lambda i: Book.objects.filter(pk=pks[i % 1000]).update(pages=i),
        "update_f": lambda i: Book.objects.filter(id__lte=pks[9]).update(pages=F("pages") + 1),
        "delete": lambda i: Book.objects.filter(pk=pks[1000 + i]).delete(),
        "atomic": atomic,
    }


def _raw_ops(backend: str, url: str) -> dict[str, Callable[[int], Any]]:
    from benchmarks.impl_raw import DDL

    day, price = datetime.date(2024, 1, 2), decimal.Decimal("9.50")
    if backend == "sqlite":
        import sqlite3

        conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        p, ret = "?", ""
        book = ("t", 1, day.isoformat(), str(price))
    else:
        import psycopg

        conn = psycopg.connect(url, autocommit=True)
        conn.execute(
            "DROP TABLE IF EXISTS bench_book_tags, bench_book, bench_tag, bench_author CASCADE"
        )
        p, ret = "%s", " RETURNING id"
        book = ("t", 1, day, price)
    for stmt in DDL[backend]:
        conn.execute(stmt)
    conn.execute(
        f"INSERT INTO bench_author (name, email, created) VALUES ({p}, {p}, {p})",
        (
            "a",
            "a@example.com",
            "2024-01-01 00:00:00" if backend == "sqlite" else datetime.datetime.now(datetime.UTC),
        ),
    )
    insert = f"INSERT INTO bench_book (title, author_id, published, price, pages) VALUES ({p}, {p}, {p}, {p}, {p})"
    conn.cursor().executemany(insert, [(*book, i) for i in range(2000)])
    cols = "id, title, author_id, published, price, pages"

    def begin() -> None:
        conn.execute("BEGIN IMMEDIATE" if backend == "sqlite" else "BEGIN")

    def atomic(i: int) -> None:
        begin()
        cur = conn.execute(
            f"INSERT INTO bench_author (name, email, created) VALUES ({p}, {p}, {p}){ret}",
            ("x", f"x{i}@example.com", "2024-01-01 00:00:00"),
        )
        aid = cur.lastrowid if backend == "sqlite" else cur.fetchone()[0]
        for _ in range(5):
            conn.execute(insert, ("t", aid, *book[2:], 1))
        conn.execute("COMMIT")

    return {
        "get": lambda i: conn.execute(
            f"SELECT {cols} FROM bench_book WHERE id = {p}", (1 + i % 100,)
        ).fetchone(),
        "count": lambda i: conn.execute(
            f"SELECT count(*) FROM bench_book WHERE id <= {p}", (10,)
        ).fetchone(),
        "count_all": lambda i: conn.execute("SELECT count(*) FROM bench_book").fetchone(),
        "exists": lambda i: conn.execute(
            f"SELECT 1 FROM bench_book WHERE id = {p} LIMIT 1", (1 + i % 1000,)
        ).fetchone(),
        "create": lambda i: conn.execute(insert + ret, (*book, i)),
        "save": lambda i: conn.execute(
            f"UPDATE bench_book SET title = {p}, author_id = {p}, published = {p}, "
            f"price = {p}, pages = {p} WHERE id = {p}",
            (*book, i, 1),
        ),
        "update": lambda i: conn.execute(
            f"UPDATE bench_book SET pages = {p} WHERE id = {p}", (i, 1 + i % 1000)
        ),
        "update_f": lambda i: conn.execute(
            f"UPDATE bench_book SET pages = pages + 1 WHERE id <= {p}", (10,)
        ),
        "delete": lambda i: conn.execute(f"DELETE FROM bench_book WHERE id = {p}", (1001 + i,)),
        "atomic": atomic,
    }


def _hop_child(op: str, n: int) -> None:
    """``n`` awaited hops of a no-op: asgiref's (as every ``a*`` call) or run_in_executor's."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import sync_to_async

    def noop() -> None:
        pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=1)
        bridged = sync_to_async(noop, thread_sensitive=True)

        async def call() -> None:
            if op == "hop":
                await bridged()
            else:
                await loop.run_in_executor(executor, noop)

        for _ in range(20):
            await call()
        for _ in range(n):
            await call()
        executor.shutdown()

    asyncio.run(main())


def _child(impl: str, op: str, n: int, backend: str, url: str) -> None:
    if op in HOPS:
        _hop_child(op, n)
        return
    ops = (_orm_ops if impl == "orm" else _raw_ops)(backend, url)
    fn = ops[op]
    for i in range(20):  # warm-up: caches filled, statements prepared
        fn(i + 2 * n)
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    print(f"elapsed {time.perf_counter() - start}", file=sys.stderr)


def _instructions(
    impl: str, op: str, n: int, backend: str, url: str, valgrind: bool, root: str
) -> float:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        impl,
        op,
        str(n),
        "--backend",
        backend,
        "--url",
        url,
        "--root",
        root,
    ]
    if valgrind:
        cmd = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            *cmd,
        ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    pattern = r"I\s+refs:\s+([\d,]+)" if valgrind else r"elapsed ([\d.e-]+)"
    found = re.search(pattern, out.stderr)
    if out.returncode or not found:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return float(found.group(1).replace(",", ""))


def main() -> None:
    """Parse the arguments; print one line per operation."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--ops", default=",".join(OPS), help="comma-separated, of: " + ", ".join(OPS + HOPS)
    )
    parser.add_argument(
        "-n", type=int, default=100, help="calls in the short run (the long one makes 2n)"
    )
    parser.add_argument(
        "--no-valgrind", action="store_true", help="time with perf_counter instead (noisy)"
    )
    parser.add_argument("--impls", default="orm,raw", help="orm, raw or both (comma-separated)")
    parser.add_argument(
        "--root",
        default=str(ROOT),
        help="the checkout whose orm/ to measure (e.g. a copy of main, for before/after)",
    )
    parser.add_argument("--url", default="")
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "OP", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, args.root)
        impl, op, n = args.child
        _child(impl, op, int(n), args.backend, args.url)
        return
    unit = "s" if args.no_valgrind else "instructions"
    impls = args.impls.split(",")
    print(
        f"{args.backend}: {unit} per call, the sync side of each operation (n={args.n}, orm from {args.root})"
    )
    print(f"{'op':<10} {'orm':>12} {'raw':>12} {'orm - raw':>12} {'orm / raw':>9}")
    for op in args.ops.split(","):
        per = {"orm": float("nan"), "raw": float("nan")}
        for impl in impls:
            with tempfile.TemporaryDirectory() as tmp:
                url = (
                    f"sqlite:///{tmp}/points.sqlite3"
                    if args.backend == "sqlite"
                    else os.environ["ORM_TEST_POSTGRES_URL"]
                )
                short = _instructions(
                    impl, op, args.n, args.backend, url, not args.no_valgrind, args.root
                )
            with tempfile.TemporaryDirectory() as tmp:
                url = (
                    f"sqlite:///{tmp}/points.sqlite3"
                    if args.backend == "sqlite"
                    else os.environ["ORM_TEST_POSTGRES_URL"]
                )
                long = _instructions(
                    impl, op, 2 * args.n, args.backend, url, not args.no_valgrind, args.root
                )
            per[impl] = (long - short) / args.n
        o, r = per["orm"], per["raw"]
        fmt = ".3g" if args.no_valgrind else ",.0f"
        print(f"{op:<10} {o:>12{fmt}} {r:>12{fmt}} {o - r:>12{fmt}} {o / r:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
