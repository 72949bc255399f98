"""The benchmark report writes a chart beside each backend's table (issue 20).

The drawing itself needs matplotlib (the ``bench`` extra, not ``dev``), so
here the chart writer is replaced by a fake that records its call: what is
tested is the wiring (one SVG per measured backend under ``docs/img/``, the
image line in that backend's section, none for a skipped backend) and the
error that names the extra when matplotlib is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import chart, report


def summarized_backend() -> dict[str, Any]:
    b: dict[str, Any] = {
        "implementations": ["orm", "raw_thread"],
        "labels": {"orm": "orm", "raw_thread": "floor"},
        "kinds": {"orm": "orm", "raw_thread": "floor"},
        "operations": [
            {
                "key": "aget",
                "title": "`aget`",
                "unit": "call",
                "target": 1.3,
                "runs": {"orm": [2e-4, 3e-4], "raw_thread": [1e-4, 1e-4]},
                "errors": {},
            }
        ],
    }
    report.summarize(b)
    return b


META = {
    "date": "2026-12-07 00:00 UTC",
    "command": "python -m benchmarks.run --quick",
    "quick": True,
    "runs": 2,
    "machine": {
        "nproc": 2,
        "cpu": "cpu",
        "platform": "linux",
        "python": "3.11",
        "sqlite": "3.40",
        "packages": {},
    },
}


def test_update_doc_draws_a_chart_per_measured_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[tuple[str, Path]] = []

    def fake_chart(name: str, b: dict[str, Any], meta: dict[str, Any], path: Path) -> Path | None:
        if b.get("skipped"):
            return None
        drawn.append((name, path))
        return path

    monkeypatch.setattr(chart, "write_chart", fake_chart)
    doc = tmp_path / "docs" / "benchmarks.md"
    result = {
        "meta": META,
        "backends": {
            "sqlite": summarized_backend(),
            "postgresql": {"skipped": "no server", "implementations": [], "operations": []},
        },
    }
    report.update_doc(result, doc)
    text = doc.read_text()
    assert drawn == [("sqlite", tmp_path / "docs" / "img" / "benchmarks-sqlite.svg")]
    assert "](img/benchmarks-sqlite.svg)" in text
    assert "benchmarks-postgresql.svg" not in text.split("<!-- bench:postgresql:begin -->")[1]
    assert "| `aget` | per call | 250 µs (2.50×) | 100 µs |" in text


def test_chart_without_matplotlib_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    with pytest.raises(ImportError, match=r"pip install -e '\.\[bench\]'"):
        chart.write_chart("sqlite", summarized_backend(), META, tmp_path / "c.svg")
    assert chart.write_chart("sqlite", {"skipped": "x"}, META, tmp_path / "c.svg") is None


def test_chart_title_says_what_run_it_shows() -> None:
    assert chart.chart_title("postgresql", summarized_backend(), META) == (
        "PostgreSQL: median time per call or row, relative to the floor "
        "(quick run, 2 runs, 2026-12-07 00:00 UTC)"
    )
