"""How cost grows (issue 19): the curves' sizes, their measurement loop, report and timeouts.

What a reader of ``docs/benchmarks.md`` and a user of ``python -m
benchmarks.run`` rely on: ``--curve-sizes`` reads ``1k``/``1M`` and refuses
nonsense, the quick run stops at 100k rows while the full run reaches 1M,
every size gets a checked per-row time and an aiterator peak, a wrong answer
is reported rather than timed, ``orm`` shows up with and without
``connection_scope()`` in the concurrency table, and a hung child process is
stopped (with what it started) instead of hanging the suite. No real
benchmark runs here: the implementation is an in-memory fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from benchmarks import chart, curves, curves_report, peers, procs, report, run
from benchmarks.impl_base import Implementation
from benchmarks.workload import AuthorRow, BookRow


def test_curve_sizes_read_suffixes_sorted_and_deduplicated() -> None:
    assert curves.parse_sizes("1k,10k,100k,1M") == (1_000, 10_000, 100_000, 1_000_000)
    assert curves.parse_sizes("10K, 1k,1000,2500") == (1_000, 2_500, 10_000)
    assert curves.parse_size("1.5k") == 1_500
    for bad in ("", "abc", "0", "0.5", "-1k", "20M", "1kk"):
        with pytest.raises(ValueError):
            curves.parse_sizes(bad)
    assert [curves.fmt_rows(n) for n in (1_000, 1_000_000, 2_500, 10)] == [
        "1k",
        "1M",
        "2,500",
        "10",
    ]


def test_quick_curves_stop_at_100k_and_the_full_run_reaches_1m() -> None:
    quick = run.curve_config(run.parse_args(["--quick"]))
    full = run.curve_config(run.parse_args([]))
    assert quick is not None and full is not None
    assert max(quick.sizes) == 100_000 and max(full.sizes) == 1_000_000
    assert full.levels == quick.levels == (1, 8, 64, 256)
    only = run.parse_args(["--only-curves", "--curve-sizes", "1k,5k"])
    assert only.only_curves and run.curve_config(only).sizes == (1_000, 5_000)  # type: ignore[union-attr]
    assert run.curve_config(run.parse_args(["--no-curves"])) is None
    assert "--only-curves --curve-sizes 1k,5k" in run._command(only)


@pytest.mark.parametrize(
    "argv", [["--curve-sizes", "lots"], ["--only-curves", "--no-curves"], ["--child-timeout", "0"]]
)
def test_bad_curve_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(argv)


# --------------------------------------------------------------------------
# The measurement loop, on an in-memory implementation
# --------------------------------------------------------------------------


class FakeTarget:
    backend = "sqlite"

    def __init__(self) -> None:
        self.rows: list[BookRow] = []

    def reset(self) -> None:
        self.rows = []

    def close_verifier(self) -> None:
        pass

    def count_and_pages(self, max_id: int | None = None) -> tuple[int, int]:
        rows = [r for r in self.rows if max_id is None or r.id <= max_id]
        return len(rows), sum(r.pages for r in rows)


class FakeImpl(Implementation):
    name = "raw_thread"
    drop_one = False  # a broken implementation: loses a row when iterating

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.scopes_entered = 0

    async def setup(self) -> None:
        pass

    async def teardown(self) -> None:
        pass

    async def seed_authors(self, rows: Sequence[AuthorRow]) -> None:
        pass

    async def bulk_create_books(self, rows: Sequence[BookRow]) -> None:
        self.target.rows.extend(rows)

    async def iterate_books(self, max_id: int) -> tuple[int, int]:
        rows = [r for r in self.target.rows if r.id <= max_id][self.drop_one :]
        return len(rows), sum(r.pages for r in rows)

    async def values_list_books(self) -> list[Any]:
        return [(r.id, r.title, r.price) for r in self.target.rows]

    async def stream_books(self, chunk_size: int) -> tuple[int, int]:
        return len(self.target.rows), sum(r.pages for r in self.target.rows)

    async def get_book(self, pk: int) -> Any:
        await asyncio.sleep(0)
        return self.target.rows[pk - 1]

    def book_fields(self, obj: Any) -> tuple[int, str, Any, int]:
        return (obj.id, obj.title, obj.price, obj.pages)

    def concurrency_variants(self) -> dict[str, tuple[str, Any]]:
        @contextlib.asynccontextmanager
        async def scope() -> Any:
            self.scopes_entered += 1
            yield

        return {**super().concurrency_variants(), f"{self.name}_scoped": ("scoped", scope)}


class BrokenImpl(FakeImpl):
    name = "orm"
    drop_one = True


def _measure(*impls: FakeImpl) -> dict[str, Any]:
    config = curves.CurveConfig((10, 30), reps=2, levels=(1, 4), gets=8, concurrency_rows=20)
    return asyncio.run(curves.Curves(config, list(impls), lambda _msg: None).run())


def test_every_size_gets_a_checked_time_per_row_a_peak_and_every_level_a_burst() -> None:
    impl = FakeImpl(FakeTarget())
    c = _measure(impl)
    for key, _title in curves.ROW_OPS:
        per_size = c["rows"][key]["raw_thread"]
        assert sorted(per_size) == ["10", "30"]
        assert len(per_size["30"]) == (1 if key == "bulk_create" else 2)
        assert all(t > 0 for t in per_size["30"])
    assert set(c["memory"]["raw_thread"]) == {"10", "30"}
    series = c["concurrency"]["series"]
    assert set(series) == {"raw_thread", "raw_thread_scoped"}
    burst = series["raw_thread_scoped"]["4"]
    assert burst["calls"] == 8 and burst["throughput"] > 0 and burst["p99"] >= burst["p50"]
    assert impl.scopes_entered == 2 * (1 + 4)  # warm-up and timed burst, one scope per task
    assert c["errors"] == []


def test_a_wrong_answer_is_reported_and_never_timed() -> None:
    c = _measure(BrokenImpl(FakeTarget()), FakeImpl(FakeTarget()))
    assert c["rows"]["async_for"]["orm"] == {}
    assert any(e.startswith("orm / async_for 10: VerificationError") for e in c["errors"])
    assert c["rows"]["async_for"]["raw_thread"]["10"]  # the others are still measured


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------

META: dict[str, Any] = {
    "date": "2026-12-07 00:00 UTC",
    "command": "python -m benchmarks.run --quick --only-curves",
    "quick": True,
    "runs": 0,
    "only_curves": True,
    "machine": {
        "nproc": 2,
        "cpu": "cpu",
        "platform": "linux",
        "python": "3.11",
        "sqlite": "3.40",
        "packages": {},
    },
}


def curves_result() -> dict[str, Any]:
    def burst(rate: float) -> dict[str, float]:
        return {"throughput": rate, "p50": 1e-3, "p99": 4e-3}

    return {
        "config": {
            "sizes": [1_000, 1_000_000],
            "reps": 3,
            "levels": [1, 256],
            "gets": 4096,
            "concurrency_rows": 10_000,
            "chunk_size": 2_000,
        },
        "insert_batch": 100_000,
        "implementations": ["orm", "raw_thread"],
        "labels": {"orm": "orm", "raw_thread": "floor"},
        "rows": {
            key: {
                "orm": {"1000": [2e-5, 3e-5, 2e-5], "1000000": [4e-5]},
                "raw_thread": {"1000": [1e-5, 1e-5, 1e-5], "1000000": [1e-5]},
            }
            for key, _ in curves.ROW_OPS
        },
        "memory": {"orm": {"1000": 900_000, "1000000": 2_000_000}, "raw_thread": {}},
        "concurrency": {
            "series": {
                "raw_thread": {"1": burst(1000.0), "256": burst(2000.0)},
                "orm_scoped": {"1": burst(500.0)},
                "orm": {"1": burst(800.0), "256": burst(1000.0)},
            },
            "labels": {
                "orm": "orm (one sync thread)",
                "orm_scoped": "orm + scope",
                "raw_thread": "floor",
            },
        },
        "errors": [],
    }


def test_the_curves_tables_show_ratios_to_the_floor_at_each_size_and_level() -> None:
    text = curves_report.markdown("postgresql", {"curves": curves_result()}, META, plot="img/c.png")
    assert text.startswith("### How cost grows: PostgreSQL")
    assert "| `abulk_create` | 1k | 20.0 µs (2.00×) | 10.0 µs |" in text
    assert "| `aiterator(chunk_size)` | 1M | 40.0 µs (4.00×) | 10.0 µs |" in text
    assert "| 1M | 1.9 MiB | — |" in text
    lines = text.splitlines()
    level_1 = [ln for ln in lines if ln.startswith("| 1 |")]
    assert [ln.split(" | ")[1] for ln in level_1] == [
        "orm (one sync thread)",
        "orm + scope",
        "floor",
    ]
    assert "| 1 | orm (one sync thread) | 1.00 ms | 4.00 ms | 800 | 0.80× |" in text
    assert "| 256 | orm + scope | **failed** |" in text
    assert "](img/c.png)" in text


def test_an_only_curves_run_rewrites_the_curves_and_leaves_the_operation_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plotted: list[Path] = []

    def fake_plot(name: str, b: dict[str, Any], meta: dict[str, Any], path: Path) -> Path:
        plotted.append(path)
        return path

    def no_chart(*_args: Any) -> None:
        raise AssertionError("an --only-curves run must not redraw the operation chart")

    monkeypatch.setattr(curves_report, "write_plot", fake_plot)
    monkeypatch.setattr(chart, "write_chart", no_chart)
    doc = tmp_path / "docs" / "benchmarks.md"
    doc.parent.mkdir()
    doc.write_text(
        "# Benchmarks\n\n<!-- bench:sqlite:begin -->\nold table\n<!-- bench:sqlite:end -->\n"
        "\n### Reading the operation tables\n"
    )
    report.update_doc({"meta": META, "backends": {"sqlite": {"curves": curves_result()}}}, doc)
    text = doc.read_text()
    assert "old table" in text
    assert plotted == [tmp_path / "docs" / "img" / "curves-sqlite.png"]
    # Right after the SQLite operation table, before the prose that follows it.
    assert (
        text.index("<!-- bench:sqlite:end -->")
        < text.index("### How cost grows: SQLite")
        < text.index("### Reading the operation tables")
    )
    report.update_doc({"meta": META, "backends": {"sqlite": {"curves": curves_result()}}}, doc)
    assert doc.read_text().count("### How cost grows: SQLite") == 1


# --------------------------------------------------------------------------
# Child processes have a deadline
# --------------------------------------------------------------------------

SLEEPER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as stopped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_hung_child_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    start = time.monotonic()
    with pytest.raises(procs.ChildTimeout, match="did not finish in 1.5 s"):
        procs.run([sys.executable, "-c", SLEEPER, str(pidfile)], timeout=1.5)
    assert time.monotonic() - start < 15
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)
    assert procs.run([sys.executable, "-c", "raise SystemExit(3)"], timeout=30) == 3


def test_a_hung_backend_or_peer_process_is_reported_not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(run, "child_command", lambda *_a: sleep)
    result = run._run_child([], "sqlite", timeout=1.0)
    assert "did not finish in 1 s" in result["skipped"]
    monkeypatch.setattr(peers, "child_command", lambda *_a: sleep)
    child = peers.run_isolated("orm_wal", "sqlite", [], timeout=1.0)
    assert "did not finish in 1 s" in child["not_run"]


def test_the_targets_are_todays_ratios_to_the_floor() -> None:
    from benchmarks.operations import operations
    from benchmarks.workload import QUICK

    targets = {op.key: op.target for op in operations(QUICK)}
    assert targets == {
        "bulk_create": 1.2,
        "aget": 1.15,
        "async_for": 1.5,
        "values_list": 1.2,
        "select_related": 1.5,
        "acount": 1.15,
        "concurrent_aget": None,
        "acreate": 1.15,
        "aupdate": 1.15,
        "transaction": 1.1,
        "aiterator": None,
    }
    b: dict[str, Any] = {
        "implementations": ["orm", "raw_thread"],
        "labels": {},
        "kinds": {"orm": "orm"},
        "operations": [
            {
                "key": "aget",
                "title": "`aget`",
                "unit": "call",
                "target": 1.15,
                "runs": {"orm": [1.2e-4] * 3, "raw_thread": [1e-4] * 3},
                "errors": {},
            }
        ],
    }
    report.summarize(b)
    text = "\n".join(report._targets(b))
    assert "Issue 7" not in text and text.startswith("Targets today for `orm` (issue 19)")
    assert "| `aget` | 1.20× | ≤ 1.15× | **no** |" in text
