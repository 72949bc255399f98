"""The HTTP load benchmark's servers and databases: uvicorn in a process group, a fresh database.

``benchmarks/http_load.py`` drives the load; this module starts and stops
the server under test (``Server``: uvicorn with one or more workers, in a
process group of its own so a stop reaches every worker), gives each
variant and round a database of its own (``Database``) and reads the
server's CPU and threads from /proc, summed over its process tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks import procs, report
from benchmarks.http_client import Connection, HTTPError

ROOT = report.ROOT
HOST = "127.0.0.1"  # the only address this benchmark ever talks HTTP to
POOL_MAX_SIZE = 60  # connections a server may hold in all (split between its workers)
SERVER_START_TIMEOUT = 60.0  # seconds for uvicorn (and every worker) to answer


@dataclasses.dataclass(frozen=True)
class Variant:
    """One server set-up: an ASGI app, its ORM, and how many uvicorn worker processes."""

    key: str
    label: str
    app: str  # uvicorn import string
    kind: str  # "orm", "django" or "tortoise": which environment variables the app reads
    pooled: bool = False  # django only: OPTIONS["pool"]
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    venv: str | None = None  # a peer virtualenv of benchmarks/peers.py (its python runs uvicorn)
    workers: int = 1

    def with_workers(self, workers: int) -> Variant:
        """The same variant under ``workers`` uvicorn processes (key ``<key>_w<n>`` when n > 1)."""
        if workers == 1:
            return dataclasses.replace(self, workers=1)
        return dataclasses.replace(
            self,
            key=f"{self.key}_w{workers}",
            workers=workers,
            label=f"{self.label}, {workers} workers",
        )


# --------------------------------------------------------------------------
# Databases: one per variant and round
# --------------------------------------------------------------------------


class Database:
    """A fresh SQLite file or PostgreSQL schema, the URLs the servers get, and a verifier."""

    def __init__(self, backend: str, name: str, tmpdir: str, pg_url: str) -> None:
        self.backend, self.name = backend, name
        self.path = os.path.join(tmpdir, f"{name}.sqlite3")
        self.schema = f"bench_http_{name}_{os.getpid()}"
        self.pg_url = pg_url

    def create(self) -> None:
        self.drop()
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def drop(self) -> None:
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path + suffix)
            return
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    @property
    def application_name(self) -> str:
        return f"bench_http_{self.name}"[:63]

    def url(self, pool_max_size: int | None = None) -> str:
        """The database URL for the server (orm's URL syntax; Django's app parses it too)."""
        if self.backend == "sqlite":
            return f"sqlite:///{self.path}"
        params = [
            ("options", f"-c search_path={self.schema}"),
            ("application_name", self.application_name),
        ]
        if pool_max_size:
            params.append(("pool_max_size", str(pool_max_size)))
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
        sep = "&" if "?" in self.pg_url else "?"
        return f"{self.pg_url}{sep}{query}"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.backend == "sqlite":
            lite = sqlite3.connect(self.path)
            try:
                return lite.execute(sql).fetchall()
            finally:
                lite.close()
        import psycopg

        with psycopg.connect(
            self.pg_url, autocommit=True, options=f"-c search_path={self.schema}"
        ) as conn:
            return conn.execute(sql).fetchall()

    def backends_connected(self) -> int | None:
        """PostgreSQL backends the server holds right now (by application_name)."""
        if self.backend != "postgresql":
            return None
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (self.application_name,),
            ).fetchone()
            return int(row[0]) if row else 0


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def machine_busy_seconds() -> float | None:
    """CPU time the whole machine spent busy (all CPUs), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def proc_threads(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's worker processes), from /proc."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU time of ``pid`` and its live descendants (every uvicorn worker)."""
    times = [proc_cpu_seconds(p) for p in process_tree(pid)]
    return sum(t for t in times if t is not None) if times[0] is not None else None


def tree_threads(pid: int) -> int | None:
    counts = [proc_threads(p) for p in process_tree(pid)]
    return sum(c for c in counts if c is not None) if counts[0] is not None else None


class Server:
    """uvicorn in a subprocess: start, wait until ready, stop (only its own process group)."""

    STOP_GRACE = 15.0  # seconds for a graceful stop (lifespan shutdown) before SIGTERM

    def __init__(
        self,
        variant: Variant,
        db: Database,
        logdir: str,
        python: str | None = None,
        workers: int | None = None,
    ) -> None:
        self.variant, self.db = variant, db
        self.python = python or sys.executable
        self.workers = variant.workers if workers is None else workers
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.logpath = os.path.join(logdir, f"uvicorn-{db.name}-w{self.workers}.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "uvicorn",
            self.variant.app,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--lifespan",
            "on",
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        # The pool is per process: N workers share POOL_MAX_SIZE connections in all,
        # so a 2-worker server does not hold twice the connections of a 1-worker one.
        pool = max(1, POOL_MAX_SIZE // self.workers)
        if self.variant.kind == "orm":
            env["ORM_DATABASE_URL"] = self.db.url(pool)
        else:
            env["BENCH_HTTP_DATABASE_URL"] = self.db.url()
            env["BENCH_HTTP_DJANGO_POOL"] = str(pool if self.variant.pooled else 0)
            env["BENCH_HTTP_POOL"] = str(pool)
        return env

    async def start(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        with open(self.logpath, "ab") as logfile:
            # A process group of its own: stop() can reach every worker uvicorn forks.
            self.proc = procs.start(
                self.command(), cwd=ROOT, env=self.env(), stdout=logfile, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"uvicorn exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            conn = Connection(HOST, self.port, 2.0)
            try:
                status, _ = await conn.request("GET", "/books")
                if status == 200:
                    return
            except HTTPError:
                pass
            finally:
                await conn.aclose()
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn not ready after {timeout:.0f} s:\n{self.log_tail()}")
            await asyncio.sleep(0.1)

    def stop(self) -> int | None:
        """SIGINT (uvicorn's graceful stop, lifespan shutdown in every worker), then the group."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(self.STOP_GRACE)
            except subprocess.TimeoutExpired:
                procs.stop_tree(self.proc)
        return self.proc.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(Path(self.logpath).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
