"""The distribution's name, version and install hints agree everywhere.

The distribution is ``orm-async`` (``orm`` on the package index is another,
older library); the import name is ``orm``. The version has one source,
``orm/_version.py``.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "orm-async"


def test_version_has_one_source() -> None:
    import orm
    import orm.cli

    assert orm.__version__ == orm.cli.__version__
    # The installed metadata (pip install -e . reads orm/_version.py) says the same.
    assert importlib.metadata.version(DISTRIBUTION) == orm.__version__


def test_orm_version_command_prints_the_version() -> None:
    import orm

    result = subprocess.run(
        [sys.executable, "-m", "orm", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"orm {orm.__version__}"


def test_pyproject_names_the_distribution_and_the_tested_pythons() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION
    assert set(project["optional-dependencies"]) >= {"postgres", "dev", "docs"}
    versions = sorted(
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    )
    assert versions == ["3.11", "3.12", "3.13"]


def test_missing_driver_error_names_the_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    # The backend package refuses to import without psycopg; its message must
    # name this distribution's extra, not the unrelated `orm` on the index.
    from orm.exceptions import ImproperlyConfigured

    for name in [m for m in sys.modules if m.startswith("orm.backends.postgresql")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ImproperlyConfigured, match=r'pip install "orm-async\[postgres\]"'):
        import orm.backends.postgresql  # noqa: F401


def test_no_install_line_names_the_old_distribution() -> None:
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    texts += sorted((ROOT / "orm").rglob("*.py"))
    stale = [
        str(path.relative_to(ROOT))
        for path in texts
        if any(
            s in path.read_text()
            for s in ("pip install orm\n", "pip install orm ", "orm[postgres]")
        )
    ]
    assert stale == []
