"""The twins are typed: ``mypy --strict`` infers the model from ``Book.objects``.

Runs mypy on ``typing_sample.py`` and compares every ``reveal_type`` note with
the ``# expect:`` comment on its line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional

pytest.importorskip("mypy")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SAMPLE = HERE / "typing_sample.py"
MODELS = "tests.shared_models."


def expectations() -> dict[int, str]:
    expected = {}
    for number, line in enumerate(SAMPLE.read_text().splitlines(), start=1):
        match = re.search(r"reveal_type\(.*#\s*expect:\s*(.+)$", line)
        if match:
            expected[number] = match.group(1).strip()
    return expected


def test_sample_declares_what_the_issue_asks_for() -> None:
    wanted = set(expectations().values())
    assert {"Book", "Book | None"} <= wanted
    text = SAMPLE.read_text()
    assert "await Book.objects.aget(pk=1)" in text
    assert "async for b in Book.objects.all()" in text
    assert "await qs.afirst()" in text


def test_mypy_reveals_the_model_types(tmp_path: Path) -> None:
    env = {**os.environ, "MYPYPATH": str(REPO)}
    proc = subprocess.run(
        # Errors inside orm itself are the package's own mypy check's business;
        # here only the sample's revealed types (and its own errors) count.
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--no-error-summary",
            "--show-absolute-path",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            str(SAMPLE),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    revealed: dict[int, str] = {}
    errors = []
    for line in out.splitlines():
        match = re.match(r"^(.*?):(\d+): (\w+): (.*)$", line)
        if not match or Path(match.group(1)).resolve() != SAMPLE:
            continue
        number, kind, text = int(match.group(2)), match.group(3), match.group(4)
        note = re.match(r'Revealed type is "(.*)"$', text)
        if kind == "note" and note:
            revealed[number] = note.group(1).replace(MODELS, "").replace("builtins.", "")
        elif kind == "error":
            errors.append(line)
    assert errors == [], out
    assert revealed == expectations(), out
    # reveal_type makes mypy exit 1 only through errors; notes alone exit 0
    assert proc.returncode == 0, out
