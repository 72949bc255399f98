"""The HTTP load benchmark under several uvicorn workers, and its peers (issue 19, item 6).

What a user of ``python -m benchmarks.http_load`` relies on: ``--workers 1,2``
runs every variant under each count, the PostgreSQL connections of a server
stay within one budget however many workers share it, the server's CPU is
counted over all its worker processes, the peers' columns are named, and a
server that never answers is stopped with its workers. Nothing here drives a
real load.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import http_load, http_report, http_server, procs


def test_every_variant_runs_under_each_worker_count() -> None:
    args = http_load.parse_args(["--workers", "2,1,2", "--only", "orm_scoped,tortoise"])
    assert args.workers == (1, 2)
    keys = [v.key for v in http_load.expand("sqlite", args.only, args.workers)]
    assert keys == ["orm_scoped", "tortoise", "orm_scoped_w2", "tortoise_w2"]
    pg = {v.key for v in http_load.expand("postgresql", None, (1,))}
    assert {"django_async_backend", "django_pool", "tortoise"} <= pg
    assert "django_async_backend" not in {v.key for v in http_load.expand("sqlite", None, (1,))}
    assert http_load.parse_args([]).workers == (1, 2)


@pytest.mark.parametrize(
    "argv", [["--workers", "0"], ["--workers", "two"], ["--workers", "9"], ["--only", "nosuchorm"]]
)
def test_bad_worker_counts_and_variants_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        http_load.parse_args(argv)


def test_workers_share_one_connection_budget(tmp_path: Path) -> None:
    db = http_load.Database("postgresql", "x", str(tmp_path), "postgresql://u@h:5432/db")
    by_key = {v.key: v for v in http_load.VARIANTS}
    one = http_load.Server(by_key["orm_scoped"], db, str(tmp_path)).env()
    two = http_load.Server(by_key["orm_scoped"].with_workers(2), db, str(tmp_path)).env()
    assert "pool_max_size=60" in one["ORM_DATABASE_URL"]
    assert "pool_max_size=30" in two["ORM_DATABASE_URL"]
    peer = http_load.Server(by_key["django_async_backend"].with_workers(2), db, str(tmp_path))
    assert peer.env()["BENCH_HTTP_DJANGO_POOL"] == "30"
    assert "--workers 2" in " ".join(peer.command())


def test_the_server_cpu_counts_every_worker_process() -> None:
    burn = (
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\n"
        "time.sleep(30)"
    )
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, '-c', {burn!r}])\n"
            "time.sleep(30)",
        ],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            tree = http_server.process_tree(parent.pid)
            cpu = http_server.tree_cpu_seconds(parent.pid) or 0.0
            if len(tree) == 2 and cpu >= 0.5:
                break
            time.sleep(0.1)
        assert len(tree) == 2
        assert cpu >= 0.5 > (http_server.proc_cpu_seconds(parent.pid) or 0.0)
        assert (http_server.tree_threads(parent.pid) or 0) >= 2
    finally:
        procs.stop_tree(parent)


def test_peer_and_worker_columns_are_named() -> None:
    assert http_report.short_name("orm_scoped_w2") == "orm + middleware ×2"
    assert http_report.short_name("django_async_backend") == "django-async-backend"
    assert http_report.short_name("tortoise_w2") == "Tortoise ×2"


def test_a_server_that_never_answers_is_stopped_with_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "uvicorn" that forks a worker, then ignores SIGINT and never listens.
    hung = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        f"w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(tmp_path / 'worker.pid')!r}, 'w').write(str(w.pid))\n"
        "time.sleep(60)"
    )
    variant = http_load.VARIANTS[0]
    db = http_load.Database("sqlite", "x", str(tmp_path), "")
    server = http_load.Server(variant, db, str(tmp_path))
    monkeypatch.setattr(server, "command", lambda: [sys.executable, "-c", hung])
    monkeypatch.setattr(http_server.Server, "STOP_GRACE", 1.0)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="not ready after 2 s"):
        asyncio.run(server.start(timeout=2.0))
    server.stop()
    assert time.monotonic() - start < 20
    worker = int((tmp_path / "worker.pid").read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.05)
    assert not _alive(worker)
    assert server.proc is not None and server.proc.returncode == -signal.SIGTERM


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
