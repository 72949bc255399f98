"""The HTTP load benchmark's results as Markdown: ``docs/benchmarks.md``, section "HTTP load".

``benchmarks/http_load.py`` measures; this module writes the intro and one
subsection per backend between ``<!-- bench:http-<backend>:begin/end -->``
markers, leaving the rest of the page alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from benchmarks import report

# --------------------------------------------------------------------------


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    ms = seconds * 1000
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms"


def fmt_pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f} %"


def _clamp(x: float | None) -> float | None:
    """A difference of tick counts can dip below zero by a tick; show it as 0."""
    return None if x is None else max(0.0, x)


def fmt_rps(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


INTRO = """## HTTP load (example app under uvicorn)

The example app of issue 6 (`migrations_example/app.py`) served by uvicorn
and driven over HTTP on loopback, with and without
`ConnectionScopeMiddleware`, against the same routes written with Django's
async ORM under Django's own ASGI handler (`benchmarks/django_app.py`), with
Tortoise ORM (`benchmarks/tortoise_app.py`) and with `django-async-backend`
(`benchmarks/django_async_app.py`, PostgreSQL only) behind a bare ASGI app of
the same shape as orm's, each under one and under two uvicorn worker
processes. Run it with `make bench-http` (or `make bench-http-quick`), or
`python -m benchmarks.http_load [--quick] [--backend sqlite|postgresql|both]
[--clients 50] [--seconds 10] [--rounds N] [--workers 1,2] [--only a,b]`
(needs uvicorn, the `example` extra, and the `bench` extra).

- Variants: **orm** is the bare app (no scope: every request's database work
  takes turns on the process's one sync thread and its one connection);
  **orm + middleware** runs each request on one of at most 4 reused scope
  threads, with that thread's connection (SQLite: kept open and reset between
  requests; PostgreSQL: from orm's pool, `pool_max_size=60`); **orm +
  middleware (thread per request)** is `reuse_threads=False`, a new thread and
  connection per request as before issue 19; **Django** uses a new
  connection per request (`CONN_MAX_AGE = 0`, what Django asks for under
  ASGI); **Django + pool** (PostgreSQL) uses Django's psycopg pool
  (`OPTIONS["pool"]`, `max_size` 60); **Tortoise** is natively async
  (aiosqlite's one connection, or an asyncpg pool of 60); **django-async-backend**
  (Django 6.1 in the peer virtualenv `benchmarks/.venv-django61`, uvicorn run
  by its Python) awaits psycopg's async connections from its own pool
  (`max_size` 60), each request inside `async_new_connection()` as its README
  asks.
- Worker processes: every variant also runs under `uvicorn --workers 2`
  (columns marked "×2"). The pools are per process, so each worker gets
  half of them (30 + 30 connections, not 60 + 60). Every worker runs the
  app's startup, which creates the tables, so a one-worker server on the
  same database creates and seeds them first, then stops; the N workers
  start on tables that exist. CPU and threads count the whole process tree
  (the uvicorn supervisor and its workers).
- Each variant and round: a fresh database (SQLite file with orm's pragmas,
  WAL and `synchronous=NORMAL`, for both ORMs; or a PostgreSQL schema of its
  own), uvicorn in a subprocess (h11, no access log) on a free
  127.0.0.1 port, `--books` books (200) seeded through `POST /books`, an untimed warm-up
  with the full load, then the timed run. Variants are interleaved, the order
  rotating between rounds; the tables show the median over the rounds.
- Load: N closed-loop clients for T seconds, asyncio tasks with one
  keep-alive HTTP/1.1 connection each (`benchmarks/http_client.py`, a few
  tens of µs of CPU per request; `httpx.AsyncClient` saturated its own core
  at about 150 requests/s with 50 pooled connections here, so it would have
  measured itself): 85 % `GET /books` (every book with its author,
  `select_related` + `async for`) and 15 % `POST /books/<id>/price` (`aget` +
  `asave`, on books each client owns), plus `POST /books` (`aget_or_create`
  of one of 20 authors + `acreate`) paced at 5 per second in all, sent by
  whichever client is free next: every variant adds the same number of books,
  so every variant's `GET /books` lists as many rows ("rows per GET"; with
  creates drawn as a share of the requests, the fastest variant would list the
  longest table).
- Checked: every answer's status and JSON (the created title, the price echoed
  back, at least the seeded rows listed, every 10th list parsed in full), and
  after the run the book count and
  every updated price against the acknowledged requests, read by the harness's
  own connection. A wrong or failed answer is an error, never throughput.
  Latency is measured by the client, request sent to last byte received.
- CPU over the timed run, 100 % = one core: "server" is the uvicorn process
  (more than 100 % means its threads ran in parallel, outside the GIL),
  "client" the load generator on the same machine, "rest of machine" all the
  rest: PostgreSQL's backends, and anything else running at the time (a busy
  neighbour shows up there; the machine has `nproc` × 100 % in all).
"""


SHORT = {
    "orm": "orm",
    "orm_scoped": "orm + middleware",
    "orm_scoped_fresh": "orm + middleware (thread per request)",
    "django": "Django",
    "django_pool": "Django + pool",
    "tortoise": "Tortoise",
    "django_async_backend": "django-async-backend",
}


def short_name(key: str) -> str:
    """A column heading: ``orm_scoped_w2`` -> ``orm + middleware ×2`` (2 uvicorn workers)."""
    base, sep, workers = key.rpartition("_w")
    if sep and workers.isdigit():
        return f"{SHORT.get(base, base)} ×{workers}"
    return SHORT.get(key, key)


def _one_line(text: str, limit: int = 120) -> str:
    return " ".join(text.split())[:limit].replace("|", "/")


def backend_markdown(name: str, b: dict[str, Any], meta: dict[str, Any]) -> str:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(name, name)
    server = f"; server: {b['server']}" if b.get("server") else ""
    kind = "**quick run** (`--quick`)" if meta["quick"] else "full run"
    lines = [
        f"### {title}",
        "",
        f"- {kind}: {meta['clients']} clients × {meta['seconds']:g} s per variant and round, "
        f"{meta['rounds']} round(s), warm-up {meta['warmup']:g} s, {meta['books']} books seeded; "
        f"{meta['date']}",
        *report.machine_lines(meta, server),
    ]
    if b.get("skipped"):
        return "\n".join([*lines, f"**Not measured:** {b['skipped']}", ""])
    s, labels = b["summary"], b["labels"]
    lines += [
        "| variant | requests/s | p50 | p99 | errors / requests |",
        "|---|---|---|---|---|",
    ]
    for key in b["variants"]:
        v = s[key]
        if v["failed_rounds"] == v["rounds"]:
            lines.append(f"| {labels[key]} | **failed** | — | — | {_one_line(v['failures'][0])} |")
            continue
        errs = f"{v['errors']:,} / {v['ok'] + v['errors']:,}"
        if v["errors"]:
            errs = f"**{errs}**"
        if v["failed_rounds"]:
            errs += f" ({v['failed_rounds']} round(s) failed)"
        rps = fmt_rps(v["rps"])
        if v["verify"]:  # the database disagrees with what the server answered
            rps = f"**wrong data** ({rps})"
        lines.append(
            f"| {labels[key]} | {rps} | {fmt_ms(v['p50'])} | {fmt_ms(v['p99'])} | {errs} |"
        )
    keys = b["variants"]
    lines += [
        "",
        "Per route and resources (medians over rounds; peaks are the maximum of "
        "samples taken twice a second):",
        "",
        "| | " + " | ".join(short_name(k) for k in keys) + " |",
        "|---|" + "---|" * len(keys),
    ]

    def row(label: str, cell: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(s[k]) for k in keys) + " |")

    row(
        "`GET /books` p50 / p99",
        lambda v: f"{fmt_ms(v['routes']['list']['p50'])} / {fmt_ms(v['routes']['list']['p99'])}",
    )
    row(
        "`POST /books/<id>/price` p50 / p99",
        lambda v: f"{fmt_ms(v['routes']['price']['p50'])} / {fmt_ms(v['routes']['price']['p99'])}",
    )
    row(
        "`POST /books` p50 / p99",
        lambda v: (
            f"{fmt_ms(v['routes']['create']['p50'])} / {fmt_ms(v['routes']['create']['p99'])}"
        ),
    )
    row(
        "rows per GET (mean)",
        lambda v: "—" if v["rows_per_get"] is None else f"{v['rows_per_get']:.0f}",
    )
    row(
        "CPU: server / client / rest of machine",
        lambda v: (
            f"{fmt_pct(v['server_cpu'])} / "
            f"{fmt_pct(v['client_cpu'])} / {fmt_pct(_clamp(v.get('other_cpu')))}"
        ),
    )
    row("server threads (peak)", lambda v: str(v["server_threads_peak"] or "—"))
    if name == "postgresql":
        row("PostgreSQL connections (peak)", lambda v: str(v["pg_connections_peak"] or "—"))
    if meta["rounds"] > 1:
        row("requests/s per round", lambda v: " / ".join(fmt_rps(x) for x in v["rps_runs"]))
    notes = []
    for key in keys:
        v = s[key]
        for r in b["rounds"]:
            if r["variant"] != key:
                continue
            if r.get("failed"):
                notes.append(
                    f"- {short_name(key)}, round {r['round'] + 1}: failed: "
                    f"{_one_line(r['failed'], 300)}"
                )
            elif r.get("errors") or r.get("verify"):
                kinds = (
                    ", ".join(f"{k} ×{n}" for k, n in r["error_kinds"].items())
                    or "no failed request"
                )
                notes.append(
                    f"- {short_name(key)}, round {r['round'] + 1}: {kinds}"
                    + (f"; verification: {'; '.join(r['verify'])}" if r.get("verify") else "")
                )
    if notes:
        lines += [
            "",
            "Errors (failed requests, wrong answers, database checks after the run):",
            "",
            *notes,
        ]
    return "\n".join(lines) + "\n"


def update_doc(full: dict[str, Any], doc: Path = report.DOC) -> None:
    """Write the intro and the measured backends' subsections; the rest of the file stays."""
    text = doc.read_text() if doc.exists() else report.HEADER

    def put(text: str, name: str, body: str, after: str | None = None) -> str:
        block = f"<!-- bench:{name}:begin -->\n{body}\n<!-- bench:{name}:end -->"
        pattern = re.compile(rf"<!-- bench:{name}:begin -->.*?<!-- bench:{name}:end -->", re.S)
        if pattern.search(text):
            return pattern.sub(lambda _m: block, text)
        if after is not None:
            end = f"<!-- bench:{after}:end -->"
            i = text.find(end)
            if i >= 0:
                i += len(end)
                return text[:i] + "\n\n" + block + text[i:]
        return text.rstrip("\n") + "\n\n" + block + "\n"

    text = put(text, "http", INTRO)
    previous = "http"
    for name in ("sqlite", "postgresql"):
        if name in full["backends"]:
            text = put(
                text,
                f"http-{name}",
                backend_markdown(name, full["backends"][name], full["meta"]),
                previous,
            )
        previous = f"http-{name}" if f"<!-- bench:http-{name}:end -->" in text else previous
    doc.write_text(text)
