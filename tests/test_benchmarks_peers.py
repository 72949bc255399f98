"""Peers measured in processes of their own, and the fairness lines of the report (issue 19).

What a reader of ``docs/benchmarks.md`` relies on: an isolated peer's ratio
is to the floor run beside it, its column sits in the one table, a peer
that cannot be built is listed as not measured with the reason (the suite
goes on), fewer than 3 runs are refused, and the SQLite settings line shows
what each client's connection really ran with.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import peers, report, run
from benchmarks.databases import SQLITE_PRAGMAS, sqlite_settings_of, sqlite_settings_text

META: dict[str, Any] = {
    "date": "2026-12-07 00:00 UTC",
    "command": "python -m benchmarks.run --quick",
    "quick": True,
    "runs": 3,
    "machine": {
        "nproc": 2,
        "cpu": "cpu",
        "platform": "linux",
        "python": "3.11",
        "sqlite": "3.40",
        "packages": {"Django": "5.2.20"},
    },
}


def _op(runs: dict[str, list[float | None]]) -> dict[str, Any]:
    return {
        "key": "aget",
        "title": "`aget`",
        "unit": "call",
        "target": 1.3,
        "runs": runs,
        "errors": {},
        "extra": {},
    }


def parent_result() -> dict[str, Any]:
    return {
        "implementations": ["orm", "raw_thread"],
        "labels": {"orm": "orm", "raw_thread": "floor"},
        "kinds": {"orm": "orm", "raw_thread": "floor"},
        "notes": {},
        "unavailable": {},
        "sqlite_settings": {
            "orm": "journal_mode=delete, synchronous=FULL",
            "raw_thread": "journal_mode=delete, synchronous=FULL",
        },
        "operations": [_op({"orm": [2e-4, 2e-4, 2e-4], "raw_thread": [1e-4, 1e-4, 1e-4]})],
    }


def child_result() -> dict[str, Any]:
    """What ``--isolated django61`` writes: the peer and its own floor, slower machine."""
    return {
        "implementations": ["django61", "raw_thread"],
        "labels": {"django61": "Django 6.1.3", "raw_thread": "floor"},
        "kinds": {"django61": "peer", "raw_thread": "floor"},
        "notes": {},
        "unavailable": {},
        "sqlite_settings": {
            "django61": "journal_mode=delete, synchronous=FULL",
            "raw_thread": "journal_mode=delete, synchronous=FULL",
        },
        "environment": {
            "python": "3.12.1",
            "sqlite": "3.40.1",
            "venv": ".venv-django61",
            "packages": {"Django": "6.1.3"},
        },
        "operations": [_op({"django61": [9e-4, 6e-4, 6e-4], "raw_thread": [3e-4, 2e-4, 2e-4]})],
    }


def test_an_isolated_peer_is_divided_by_the_floor_run_beside_it() -> None:
    b = parent_result()
    peers.merge(b, "django61", child_result())
    report.summarize(b)
    op = b["operations"][0]
    assert b["implementations"] == ["orm", "raw_thread", "django61"]
    assert op["ratios"]["django61"] == pytest.approx([3.0, 3.0, 3.0])  # not 9, 6, 6 (parent floor)
    assert op["median_ratio"]["orm"] == 2.0
    text = report.backend_markdown("sqlite", b, META)
    # One table; the child's floor is no column of its own.
    assert "| `aget` | per call | 200 µs (2.00×) | 600 µs (3.00×) | 100 µs |" in text
    assert "raw_thread@django61" not in text
    assert (
        "Django 6.1.3: measured in a process of its own (`.venv-django61`: Python 3.12.1, "
        "SQLite 3.40.1; Django 6.1.3) beside its own run of the floor"
    ) in text
    assert "the floor's `aget` there 200 µs, here 100 µs" in text


def test_a_peer_that_cannot_be_built_is_reported_not_measured() -> None:
    b = parent_result()
    peers.merge(b, "django61", {"not_run": "no Python >= 3.12 found"})
    report.summarize(b)
    assert b["implementations"] == ["orm", "raw_thread"]
    text = report.backend_markdown("sqlite", b, META)
    assert "- django61 not measured: no Python >= 3.12 found" in text


def test_no_suitable_python_means_unavailable_not_a_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(peers, "find_python", lambda minimum: None)
    venv = peers.Venv("nothing", (3, 99), tmp_path / "req.txt")
    (tmp_path / "req.txt").write_text("Django\n")
    assert peers.ensure_venv(venv) == (
        None,
        "no Python >= 3.99 found (set BENCH_PYTHON, or put python3.99 on PATH)",
    )


def test_a_failed_install_gives_pip_s_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(peers, "ROOT", tmp_path)
    (tmp_path / "benchmarks").mkdir()
    req = tmp_path / "req.txt"
    req.write_text(f"{tmp_path / 'no-such-project'}\n")  # a local path: fails without the network
    monkeypatch.setenv("BENCH_PYTHON", sys.executable)
    python, why = peers.ensure_venv(peers.Venv("broken", sys.version_info[:2], req))
    assert python is None
    assert why is not None and why.startswith("building .venv-broken failed: ")
    assert "no-such-project" in why


def test_a_shim_that_does_not_run_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shim = tmp_path / "python3.12"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("BENCH_PYTHON", str(shim))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    assert peers.find_python((3, 12)) is None
    monkeypatch.setenv("BENCH_PYTHON", sys.executable)
    assert peers.find_python(sys.version_info[:2]) == sys.executable


def test_isolated_peers_run_only_where_they_can() -> None:
    assert peers.wanted("sqlite", None) == (
        ["orm_wal", "django61"],
        {"django_async_backend": "runs on postgresql only"},
    )
    assert peers.wanted("postgresql", None) == (
        ["django61", "django_async_backend"],
        {"orm_wal": "runs on sqlite only"},
    )
    assert peers.wanted("postgresql", ["orm", "raw_thread"]) == ([], {})


def test_the_child_runs_the_same_sizes_and_runs() -> None:
    assert peers.child_command(
        "/v/bin/python", "django61", "sqlite", ["--quick", "--runs", "3"], "/tmp/o.json"
    ) == [
        "/v/bin/python",
        "-m",
        "benchmarks.run",
        "--quick",
        "--runs",
        "3",
        "--backend",
        "sqlite",
        "--isolated",
        "django61",
        "--json-out",
        "/tmp/o.json",
    ]


def test_fewer_than_three_runs_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--runs", "2"])
    assert "--runs must be at least 3" in capsys.readouterr().err
    assert run.parse_args(["--runs", "3"]).runs == 3


def test_settings_line_groups_what_each_connection_ran_with() -> None:
    b = parent_result()
    peers.merge(
        b,
        "orm_wal",
        {
            **child_result(),
            "implementations": ["orm_wal", "raw_thread"],
            "labels": {"orm_wal": "orm (WAL default)"},
            "sqlite_settings": {"orm_wal": "journal_mode=wal, synchronous=NORMAL"},
            "operations": [_op({"orm_wal": [1e-4] * 3, "raw_thread": [1e-4] * 3})],
        },
    )
    assert report.sqlite_settings_line(b) == (
        "- SQLite settings, read back from each implementation's own connection after setup: "
        "`journal_mode=delete, synchronous=FULL` (orm, floor); "
        "`journal_mode=wal, synchronous=NORMAL` (orm (WAL default))"
    )


def test_settings_are_read_back_from_the_connection(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    for key, value in SQLITE_PRAGMAS.items():
        conn.execute(f"PRAGMA {key} = {value}")
    assert sqlite_settings_of(conn) == "journal_mode=delete, synchronous=FULL"
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    assert sqlite_settings_of(conn) == "journal_mode=wal, synchronous=NORMAL"
    conn.close()
    assert sqlite_settings_text("WAL", "off") == "journal_mode=wal, synchronous=OFF"


def test_machine_line_shows_the_load_at_start_and_end() -> None:
    meta = {
        **META,
        "machine": {**META["machine"], "loadavg": [1.0, 2.0, 3.0], "loadavg_end": [9.5, 4.0, 3.1]},
    }
    assert "load average at start 1.0 2.0 3.0, at end 9.5 4.0 3.1" in "\n".join(
        report.machine_lines(meta, "")
    )
