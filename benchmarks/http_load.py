"""HTTP load on the example app under uvicorn: ``python -m benchmarks.http_load``.

Issue 6's load benchmark. Each *variant* is one ASGI app serving the same
routes and JSON (``migrations_example/app.py``):

- ``orm``: the bare app, ``migrations_example.app:app``: no scope, every
  request's database work waits its turn on the process's one sync thread;
- ``orm_scoped``: ``migrations_example.app:application``, the same app wrapped
  in ``orm.asgi.ConnectionScopeMiddleware``: a thread and connection per
  request (PostgreSQL: from a pool of ``pool_max_size`` connections);
- ``django``: the same views written with Django's async ORM
  (``benchmarks/django_app.py``) under Django's own ASGI handler and its own
  connection handling (a new connection per request, ``CONN_MAX_AGE = 0``);
- ``django_pool`` (PostgreSQL only): the same, with Django's psycopg pool
  (``OPTIONS["pool"]``, the same ``max_size`` as orm's pool).

For every variant and round: a fresh database (a SQLite file in a temp dir,
or a PostgreSQL schema of its own, dropped afterwards), uvicorn started in a
subprocess on a free port of 127.0.0.1 (one worker, h11, no access log),
``--books`` books seeded through ``POST /books``, an untimed warm-up, then
``--clients`` concurrent clients for ``--seconds`` seconds. The clients are
asyncio tasks in this process, each with one keep-alive HTTP/1.1 connection
(``benchmarks/http_client.py``: httpx cost more CPU than the server it was
measuring, see there; ``--client httpx`` uses it anyway), in a closed loop:
each sends its next request when the previous one is answered. The mix:

- 85 % ``GET /books`` (every book with its author: ``select_related`` +
  ``async for``),
- 15 % ``POST /books/<id>/price`` (``aget`` + ``asave``) on books the client
  owns (each seeded book belongs to one client, so its updates are ordered),
- and, paced in time rather than drawn, ``--create-rate`` (5) ``POST /books``
  per second in all (``aget_or_create`` of one of 20 authors + ``acreate``),
  sent by whichever client is next free: the table grows by the same number of
  books in every variant, so every variant's ``GET /books`` lists as many.

Every response is checked (status code, JSON shape, the created title, the
price echoed back, at least the seeded rows listed); after the server stopped,
the harness's own connection checks the book count against the acknowledged
creates and every owned book's price against its last acknowledged update.
Failed requests and wrong answers are counted as errors and never as
throughput, so a broken variant cannot look fast. Requests per second count
correct responses only; latency is measured by the client, from sending the
request to the last byte of the answer.

Results go to ``benchmarks/results/http-<timestamp>.json`` and the section
"HTTP load (example app under uvicorn)" of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.databases import pg_server_version, pg_url_from_env, postgres_unreachable
from benchmarks.http_client import CLIENTS, Connection, HTTPError
from benchmarks.http_report import _clamp, backend_markdown, fmt_ms, fmt_pct, update_doc
from benchmarks.http_server import (
    HOST,
    POOL_MAX_SIZE,
    Database,
    Server,
    Variant,
    machine_busy_seconds,
    tree_cpu_seconds,
    tree_threads,
)

MIX = (("list", 0.85), ("price", 0.15))
# POST /books is paced in time, not drawn from the mix: every variant then
# lists the same number of books (a faster variant drawing 5 % creates would
# list a longer table on every GET, and be slowed by its own speed).
CREATE_RATE = 5.0  # creates per second, all clients together
ROUTES = ("list", "price", "create")
AUTHORS = 20
MAX_REQUESTS = 500_000  # hard cap per timed run, whatever --seconds says
REQUEST_TIMEOUT = 30.0


VARIANTS = (
    Variant(
        "orm",
        "orm, no middleware (`migrations_example.app:app`)",
        "migrations_example.app:app",
        "orm",
    ),
    Variant(
        "orm_scoped",
        "orm + `ConnectionScopeMiddleware` (`migrations_example.app:application`)",
        "migrations_example.app:application",
        "orm",
    ),
    Variant(
        "orm_scoped_fresh",
        "orm + `ConnectionScopeMiddleware(reuse_threads=False)`, a new "
        "thread and connection per request (`migrations_example.app:application_thread_per_request`)",
        "migrations_example.app:application_thread_per_request",
        "orm",
    ),
    Variant(
        "django",
        "Django async ORM, Django ASGI handler (`benchmarks.django_app`)",
        "benchmarks.django_app:application",
        "django",
    ),
    Variant(
        "django_pool",
        'Django async ORM + Django\'s psycopg pool (`OPTIONS["pool"]`)',
        "benchmarks.django_app:application",
        "django",
        pooled=True,
        backends=("postgresql",),
    ),
    Variant(
        "tortoise",
        "Tortoise ORM, bare ASGI app (`benchmarks.tortoise_app`)",
        "benchmarks.tortoise_app:application",
        "tortoise",
    ),
    Variant(
        "django_async_backend",
        "django-async-backend (Django 6.1, async psycopg pool; `benchmarks.django_async_app`)",
        "benchmarks.django_async_app:application",
        "django",
        pooled=True,
        backends=("postgresql",),
        venv="django61",
    ),
)
WORKERS = (1, 2)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The load
# --------------------------------------------------------------------------


class LoadState:
    """What the clients were told by the server: the ground truth to verify afterwards."""

    def __init__(self, seeded_ids: list[int], clients: int) -> None:
        self.seeded_ids = seeded_ids
        self.owned = [seeded_ids[i::clients] for i in range(clients)]
        self.creates_ok = 0
        self.creates_unknown = 0  # sent, but no valid answer: may or may not be committed
        # book id -> last acknowledged price (cents); and prices sent after it without an answer
        self.price: dict[int, int] = {}
        self.price_unknown: dict[int, set[int]] = {}


@dataclasses.dataclass
class Phase:
    """Counters of one timed (or warm-up) phase."""

    latencies: dict[str, list[float]] = dataclasses.field(
        default_factory=lambda: {k: [] for k in ROUTES}
    )
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    error_samples: list[str] = dataclasses.field(default_factory=list)
    rows_listed: list[int] = dataclasses.field(default_factory=list)
    sent: int = 0
    elapsed: float = 0.0

    def error(self, kind: str, reason: str, detail: str = "") -> None:
        key = f"{kind}: {reason}"
        self.errors[key] = self.errors.get(key, 0) + 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{key} {detail}"[:300])


def _cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


LIST_ROW = b'{"id": '  # each listed book starts so (json.dumps defaults, both apps)
LIST_KEYS = {"id", "title", "author", "price"}
FULL_PARSE_EVERY = 10  # every 10th list answer is parsed in full, the others counted


def _price_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


async def _one_request(
    conn: Any,
    kind: str,
    rng: random.Random,
    cid: int,
    n: int,
    state: LoadState,
    phase: Phase,
    variant: str,
) -> None:
    seeded = len(state.seeded_ids)
    if kind == "price" and not state.owned[cid]:
        kind = "list"
    book_id = cents = 0
    title = ""
    if kind == "list":
        method, path, body = "GET", "/books", None
    elif kind == "price":
        book_id = rng.choice(state.owned[cid])
        cents = rng.randint(100, 99_999)
        state.price_unknown.setdefault(book_id, set()).add(cents)
        method, path = "POST", f"/books/{book_id}/price"
        body = json.dumps({"price": _price_text(cents)}).encode()
    else:
        title = f"{variant} c{cid} n{n}"
        cents = rng.randint(100, 99_999)
        state.creates_unknown += 1
        method, path = "POST", "/books"
        body = json.dumps(
            {
                "title": title,
                "author": f"Author {rng.randrange(AUTHORS):02d}",
                "price": _price_text(cents),
            }
        ).encode()
    start = time.perf_counter()
    try:
        status, answer = await conn.request(method, path, body)
    except HTTPError as exc:
        phase.error(kind, "no answer", str(exc))
        return
    elapsed = time.perf_counter() - start
    expected = 201 if kind == "create" else 200
    if status != expected:
        phase.error(kind, f"HTTP {status}", answer[:200].decode(errors="replace"))
        return
    try:
        if kind == "list":
            # Cheap check of every answer, full parse of every 10th.
            rows = answer.count(LIST_ROW)
            ok = answer.startswith(b"[" + LIST_ROW) and answer.endswith(b"}]") and rows >= seeded
            if ok and n % FULL_PARSE_EVERY == 0:
                data = json.loads(answer)
                ok = (
                    isinstance(data, list)
                    and len(data) == rows
                    and all(set(row) == LIST_KEYS for row in data)
                )
            if ok:
                phase.rows_listed.append(rows)
        elif kind == "price":
            data = json.loads(answer)
            ok = data.get("id") == book_id and _cents(data.get("price")) == cents
            if ok:
                state.price[book_id] = cents
                # Unanswered earlier updates stay possible: the server may
                # finish one after its client gave up.
                state.price_unknown[book_id].discard(cents)
        else:
            data = json.loads(answer)
            ok = isinstance(data.get("id"), int) and data.get("title") == title
            if ok:
                state.creates_ok += 1
                state.creates_unknown -= 1
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, ArithmeticError) as exc:
        phase.error(kind, "unreadable answer", f"{type(exc).__name__}: {exc}")
        return
    if not ok:
        phase.error(kind, "wrong answer", answer[:200].decode(errors="replace"))
        return
    phase.latencies[kind].append(elapsed)


async def drive(
    port: int,
    clients: int,
    seconds: float,
    state: LoadState,
    variant: str,
    seed: int,
    mix: tuple[tuple[str, float], ...] = MIX,
    client: str = "raw",
    create_rate: float = CREATE_RATE,
    max_requests: int = MAX_REQUESTS,
) -> Phase:
    """``clients`` closed-loop clients, one keep-alive connection each, for ``seconds``."""
    phase = Phase()
    kinds = [k for k, _ in mix]
    weights = [w for _, w in mix]
    conns = [CLIENTS[client](HOST, port, REQUEST_TIMEOUT) for _ in range(clients)]
    start = time.perf_counter()
    deadline = start + seconds
    interval = 1 / create_rate if create_rate > 0 else None
    next_create = start + (interval or 0) / 2

    async def worker(cid: int) -> None:
        nonlocal next_create
        rng = random.Random(seed * 1000 + cid)
        n = 0
        while (now := time.perf_counter()) < deadline and phase.sent < max_requests:
            phase.sent += 1
            n += 1
            if interval is not None and now >= next_create:
                kind = "create"
                next_create += interval
                if next_create < now - 1.0:  # more than 1 s behind: skip, do not burst
                    next_create = now
            else:
                kind = rng.choices(kinds, weights)[0]
            await _one_request(conns[cid], kind, rng, cid, n, state, phase, variant)

    try:
        await asyncio.wait_for(
            asyncio.gather(*(worker(i) for i in range(clients))), seconds + REQUEST_TIMEOUT + 10
        )
        phase.elapsed = time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.aclose() for c in conns), return_exceptions=True)
    return phase


async def seed_books(port: int, books: int, concurrency: int = 10) -> list[int]:
    """Create ``books`` books through the API (untimed); returns their ids."""
    ids: list[int] = []
    queue = list(range(books))

    async def worker() -> None:
        conn = Connection(HOST, port, REQUEST_TIMEOUT)
        try:
            while queue:
                i = queue.pop(0)
                status, answer = await conn.request(
                    "POST",
                    "/books",
                    json.dumps(
                        {
                            "title": f"Seed {i:05d}",
                            "author": f"Author {i % AUTHORS:02d}",
                            "price": f"{10 + i % 50}.{i % 100:02d}",
                        }
                    ).encode(),
                )
                if status != 201:
                    raise RuntimeError(f"seeding: POST /books answered {status}: {answer[:200]!r}")
                ids.append(int(json.loads(answer)["id"]))
        finally:
            await conn.aclose()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sorted(ids)


# --------------------------------------------------------------------------
# One variant, one round
# --------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)  # nearest rank
    return values[max(0, min(len(values) - 1, math.ceil(q / 100 * len(values)) - 1))]


def _verify(db: Database, state: LoadState) -> list[str]:
    """Check the database against what the clients were told (after the server stopped)."""
    problems = []
    n = int(db.query("SELECT count(*) FROM migrations_example_book")[0][0])
    low = len(state.seeded_ids) + state.creates_ok
    high = low + state.creates_unknown
    if not low <= n <= high:
        problems.append(f"book count {n}, expected {low}" + (f"..{high}" if high != low else ""))
    prices = {
        int(i): _cents(p) for i, p in db.query("SELECT id, price FROM migrations_example_book")
    }
    wrong = []
    for book_id in state.seeded_ids:
        if book_id not in prices:
            wrong.append(f"book {book_id} missing")
            continue
        if book_id not in state.price:
            continue  # never acknowledged an update: seed price or an unanswered one
        allowed = {state.price[book_id]} | state.price_unknown.get(book_id, set())
        if prices[book_id] not in allowed:
            wrong.append(f"book {book_id} price {prices[book_id]} not in {sorted(allowed)}")
    if wrong:
        problems.append(f"{len(wrong)} wrong prices, e.g. " + "; ".join(wrong[:3]))
    return problems


async def _sample(server: Server, db: Database, stop: asyncio.Event, out: dict[str, int]) -> None:
    """Peak server threads and PostgreSQL connections, twice a second during the timed run."""
    while not stop.is_set():
        assert server.proc is not None
        t = tree_threads(server.proc.pid)
        if t is not None:
            out["threads"] = max(out.get("threads", 0), t)
        if db.backend == "postgresql":
            with contextlib.suppress(Exception):
                c = await asyncio.to_thread(db.backends_connected)
                if c is not None:
                    out["pg_connections"] = max(out.get("pg_connections", 0), c)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def python_for(variant: Variant) -> str:
    """The interpreter that runs ``variant``'s uvicorn: ours, or its peer virtualenv's (built
    on demand, ``benchmarks/peers.py``); RuntimeError saying why when it cannot be built."""
    if variant.venv is None:
        return sys.executable
    from benchmarks import peers

    venv = {v.name: v for v in peers.VENVS}[variant.venv]
    python, why = peers.ensure_venv(venv)
    if python is None:
        raise RuntimeError(f"its virtualenv {venv.path.name} cannot be built: {why}")
    return str(python)


async def _start_and_seed(
    server: Server, db: Database, args: argparse.Namespace, tmpdir: str, result: dict[str, Any]
) -> list[int]:
    """Start ``server`` and seed the books; with several workers, seed through one first.

    Every worker runs the app's lifespan startup, which creates the tables:
    two workers doing it at once would race (CREATE TABLE twice), so a
    one-worker server on the same database creates and seeds them, stops,
    and only then do the N workers start, on tables that exist.
    """
    t0 = time.perf_counter()
    if server.workers > 1:
        prime = Server(server.variant, db, tmpdir, server.python, workers=1)
        try:
            await prime.start()
            ids = await seed_books(prime.port, args.books)
        finally:
            prime.stop()
        await server.start()
    else:
        await server.start()
        ids = await seed_books(server.port, args.books)
    result["startup_s"] = round(time.perf_counter() - t0, 2)
    if len(ids) != args.books or len(set(ids)) != args.books:
        raise RuntimeError(f"seeding returned {len(ids)} ids for {args.books} books")
    return ids


async def _timed(
    server: Server, db: Database, state: LoadState, args: argparse.Namespace, seed: int
) -> dict[str, Any]:
    """The timed run: its counters, latencies and CPU (the server's whole process tree)."""
    assert server.proc is not None
    pid = server.proc.pid
    peaks: dict[str, int] = {}
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(server, db, stop, peaks))
    cpu0, ccpu0, busy0 = tree_cpu_seconds(pid), time.process_time(), machine_busy_seconds()
    phase = await drive(
        server.port,
        args.clients,
        args.seconds,
        state,
        server.variant.key,
        seed,
        args.mix,
        args.client,
        args.create_rate,
    )
    cpu1, ccpu1, busy1 = tree_cpu_seconds(pid), time.process_time(), machine_busy_seconds()
    stop.set()
    await sampler
    all_lat = [x for v in phase.latencies.values() for x in v]
    elapsed = phase.elapsed
    return {
        "seconds": round(elapsed, 3),
        "sent": phase.sent,
        "ok": len(all_lat),
        "errors": sum(phase.errors.values()),
        "error_kinds": phase.errors,
        "error_samples": phase.error_samples,
        "rps": len(all_lat) / elapsed if elapsed else None,
        "p50": _pct(all_lat, 50),
        "p90": _pct(all_lat, 90),
        "p99": _pct(all_lat, 99),
        "max": max(all_lat) if all_lat else None,
        "routes": {
            k: {"ok": len(v), "p50": _pct(v, 50), "p99": _pct(v, 99)}
            for k, v in phase.latencies.items()
        },
        "rows_per_get": statistics.mean(phase.rows_listed) if phase.rows_listed else None,
        "server_cpu": (
            (cpu1 - cpu0) / elapsed if cpu0 is not None and cpu1 is not None and elapsed else None
        ),
        "client_cpu": (ccpu1 - ccpu0) / elapsed if elapsed else None,
        # Everything else the machine did meanwhile: PostgreSQL's backends,
        # and any other process (a busy neighbour shows up here).
        "other_cpu": (
            (busy1 - busy0 - (cpu1 - cpu0) - (ccpu1 - ccpu0)) / elapsed
            if None not in (busy0, busy1, cpu0, cpu1) and elapsed
            else None
        ),
        "server_threads_peak": peaks.get("threads"),
        "pg_connections_peak": peaks.get("pg_connections"),
    }


async def run_variant(
    variant: Variant,
    backend: str,
    args: argparse.Namespace,
    round_no: int,
    tmpdir: str,
    pg_url: str,
    seed: int,
) -> dict[str, Any]:
    """One variant, one round: fresh database, server, seed, warm-up, timed run, checks."""
    db = Database(backend, f"{variant.key}_r{round_no}", tmpdir, pg_url)
    result: dict[str, Any] = {"variant": variant.key, "round": round_no, "workers": variant.workers}
    server: Server | None = None
    try:
        server = Server(variant, db, tmpdir, python_for(variant))
        db.create()
        ids = await _start_and_seed(server, db, args, tmpdir, result)
        state = LoadState(ids, args.clients)
        if args.warmup > 0:
            warm = await drive(
                server.port,
                args.clients,
                args.warmup,
                state,
                variant.key,
                seed + 1,
                args.mix,
                args.client,
                args.create_rate,
            )
            result["warmup"] = {
                "requests": sum(map(len, warm.latencies.values())),
                "errors": sum(warm.errors.values()),
            }
        result.update(await _timed(server, db, state, args, seed))
        result["exit_code"] = server.stop()
        result["verify"] = _verify(db, state)
    except Exception as exc:  # noqa: BLE001 - report it, go on with the other variants
        result["failed"] = f"{type(exc).__name__}: {exc}"
        result["log_tail"] = server.log_tail() if server else ""
    finally:
        if server is not None:
            server.stop()
        try:
            db.drop()
        except Exception as exc:  # noqa: BLE001
            log(f"  could not drop {db.name}: {exc}")
    if server is not None and not result.get("failed") and result.get("errors"):
        result["log_tail"] = server.log_tail()
    return result


def expand(backend: str, only: list[str] | None, workers: tuple[int, ...]) -> list[Variant]:
    """The variants run on ``backend``: each selected one under every worker count."""
    return [
        v.with_workers(n)
        for n in workers
        for v in VARIANTS
        if backend in v.backends and (not only or v.key in only)
    ]


async def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    pg_url = pg_url_from_env()
    out: dict[str, Any] = {"rounds": []}
    if backend == "postgresql":
        reason = postgres_unreachable(pg_url)
        if reason:
            out["skipped"] = reason
            return out
        out["server"] = pg_server_version(pg_url)
    variants = expand(backend, args.only, args.workers)
    out["variants"] = [v.key for v in variants]
    out["labels"] = {v.key: v.label for v in variants}
    tmpdir = tempfile.mkdtemp(prefix="orm-http-bench-")
    try:
        for r in range(args.rounds):
            order = variants[r % len(variants) :] + variants[: r % len(variants)]
            for v in order:
                res = await run_variant(
                    v, backend, args, r, tmpdir, pg_url, seed=7919 * r + variants.index(v)
                )
                out["rounds"].append(res)
                log(f"[{backend} round {r + 1}/{args.rounds}] {_line(v.key, res)}")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    out["summary"] = summarize(out)
    return out


def _line(key: str, res: dict[str, Any]) -> str:
    if res.get("failed"):
        return f"{key:<12} FAILED {res['failed']}"
    return (
        f"{key:<12} {res['rps']:8.1f} req/s  p50 {fmt_ms(res['p50'])}  p99 {fmt_ms(res['p99'])}"
        f"  errors {res['errors']}  CPU server {fmt_pct(res['server_cpu'])} client "
        f"{fmt_pct(res['client_cpu'])} rest {fmt_pct(_clamp(res.get('other_cpu')))}"
        f"  threads {res['server_threads_peak']}  pg conns {res['pg_connections_peak']}"
        + (f"  VERIFY {res['verify']}" if res.get("verify") else "")
    )


def summarize(out: dict[str, Any]) -> dict[str, Any]:
    """Per variant: medians over rounds (only rounds that ran), error totals."""
    summary: dict[str, Any] = {}
    for key in out["variants"]:
        rounds = [r for r in out["rounds"] if r["variant"] == key]
        ran = [r for r in rounds if not r.get("failed")]

        def med(field: str, rs: list[dict[str, Any]] = ran) -> float | None:
            vals = [r[field] for r in rs if r.get(field) is not None]
            return statistics.median(vals) if vals else None

        def route_med(route: str, field: str, rs: list[dict[str, Any]] = ran) -> float | None:
            vals = [r["routes"][route][field] for r in rs if r["routes"][route][field] is not None]
            return statistics.median(vals) if vals else None

        summary[key] = {
            "rounds": len(rounds),
            "failed_rounds": len(rounds) - len(ran),
            "failures": [r["failed"] for r in rounds if r.get("failed")],
            "rps": med("rps"),
            "p50": med("p50"),
            "p99": med("p99"),
            "rps_runs": [r.get("rps") for r in rounds],
            "ok": sum(r["ok"] for r in ran),
            "errors": sum(r["errors"] for r in ran),
            "verify": [p for r in ran for p in r.get("verify", [])],
            "routes": {k: {"p50": route_med(k, "p50"), "p99": route_med(k, "p99")} for k in ROUTES},
            "rows_per_get": med("rows_per_get"),
            "server_cpu": med("server_cpu"),
            "client_cpu": med("client_cpu"),
            "other_cpu": med("other_cpu"),
            "server_threads_peak": max((r["server_threads_peak"] or 0 for r in ran), default=None),
            "pg_connections_peak": max((r["pg_connections_peak"] or 0 for r in ran), default=None),
        }
    return summary


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.http_load", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="one round per variant, 1 s warm-up (default: 3 rounds, 3 s warm-up)",
    )
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    p.add_argument("--seconds", type=float, default=10.0, help="timed run per variant (default 10)")
    p.add_argument("--rounds", type=int, help="rounds per variant (default 3, quick 1)")
    p.add_argument("--warmup", type=float, help="untimed warm-up seconds (default 3, quick 1)")
    p.add_argument(
        "--books", type=int, default=200, help="books seeded before the run (default 200)"
    )
    p.add_argument(
        "--mix",
        default=",".join(f"{k}={w:g}" for k, w in MIX),
        help="request mix, weights per route: list, price, create (default %(default)s)",
    )
    p.add_argument(
        "--create-rate",
        type=float,
        default=CREATE_RATE,
        help="POST /books per second, all clients together, on top of the mix "
        "(default %(default)g; 0: none)",
    )
    p.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="raw",
        help="load generator: raw (benchmarks/http_client.py, default) or httpx",
    )
    p.add_argument("--only", help="comma-separated variants: " + ",".join(v.key for v in VARIANTS))
    p.add_argument(
        "--workers",
        default=",".join(map(str, WORKERS)),
        help="uvicorn worker processes, comma-separated: every variant runs under "
        "each count (default %(default)s)",
    )
    p.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument(
        "--render",
        metavar="JSON",
        help="measure nothing: rewrite the doc section from a saved results file",
    )
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.warmup is None:
        args.warmup = 1.0 if args.quick else 3.0
    if not 1 <= args.clients <= 500:
        p.error("--clients must be between 1 and 500")
    if not 0 < args.seconds <= 300:
        p.error("--seconds must be in (0, 300]")
    if not 0 <= args.warmup <= 60:
        p.error("--warmup must be in [0, 60]")
    if not 1 <= args.rounds <= 20:
        p.error("--rounds must be between 1 and 20")
    if not 1 <= args.books <= 100_000:
        p.error("--books must be between 1 and 100000")
    args.only = args.only.split(",") if args.only else None
    if args.only and set(args.only) - {v.key for v in VARIANTS}:
        p.error(
            f"--only: unknown variant(s) {', '.join(sorted(set(args.only) - {v.key for v in VARIANTS}))}"
        )
    try:
        args.workers = tuple(sorted({int(w) for w in args.workers.split(",") if w.strip()}))
    except ValueError:
        p.error("--workers takes worker counts, e.g. 1,2")
    if not args.workers or not all(1 <= w <= 8 for w in args.workers):
        p.error("--workers: counts from 1 to 8")
    try:
        mix = tuple((k, float(w)) for k, w in (item.split("=") for item in args.mix.split(",")))
    except ValueError:
        p.error("--mix takes route=weight pairs, e.g. list=0.85,price=0.15")
    if not mix or any(k not in ROUTES or w < 0 for k, w in mix) or sum(w for _, w in mix) <= 0:
        p.error(f"--mix: routes are {', '.join(ROUTES)}, weights >= 0")
    args.mix = mix
    if not 0 <= args.create_rate <= 1000:
        p.error("--create-rate must be in [0, 1000]")
    return args


def _command(args: argparse.Namespace, argv: list[str] | None) -> str:
    given = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python -m benchmarks.http_load", *given])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        full = json.loads(Path(args.render).read_text())
        update_doc(full)
        log(f"updated {report.DOC} from {args.render}")
        return 0
    try:
        import uvicorn  # noqa: F401

        if args.client == "httpx":
            import httpx  # noqa: F401
    except ImportError as exc:
        log(f"{exc}: pip install uvicorn (the 'example' extra), httpx for --client httpx")
        return 2
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    stamp, date = report.now_stamp()
    machine = report.machine()
    for name in ("uvicorn", "h11", "httpx"):
        with contextlib.suppress(Exception):
            from importlib import metadata

            machine["packages"][name] = metadata.version(name)
    meta = {
        "date": date,
        "command": _command(args, argv),
        "quick": args.quick,
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "books": args.books,
        "mix": dict(args.mix),
        "create_rate": args.create_rate,
        "client": args.client,
        "pool_max_size": POOL_MAX_SIZE,
        "workers": list(args.workers),
        "machine": machine,
    }
    results = {b: asyncio.run(run_backend(b, args)) for b in backends}
    full = {"meta": meta, "backends": results}
    report.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = report.RESULTS_DIR / f"http-{stamp}.json"
    path.write_text(json.dumps(full, indent=2, default=str) + "\n")
    log(f"results: {path}")
    for name, b in results.items():
        print(backend_markdown(name, b, meta))
    if not args.no_docs:
        update_doc(full)
        log(f"updated {report.DOC}")
    failed = any(
        v["failed_rounds"] or v["errors"] or v["verify"]
        for b in results.values()
        for v in b.get("summary", {}).values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
