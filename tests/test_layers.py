"""The import layers hold for type-only imports too, and nothing hides a cycle.

Issue 12 item 1. The connection core lives in ``orm.db`` (``orm.db.wrapper``)
and types what the backends give it through the protocols of ``orm.abc``, so
the import-linter contract holds with ``exclude_type_checking_imports =
false``: no module names a type of a layer above it, even under
``TYPE_CHECKING``. ``make lint`` runs the same contract; these tests keep the
setting and the shape from being undone.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "orm"


def test_contract_counts_type_checking_imports() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["exclude_type_checking_imports"] is False
    layers = config["contracts"][0]["layers"]
    assert layers[-1] == "orm.abc", "orm.abc must stay the bottom layer (a leaf)"


def test_lint_imports_passes() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), f"import-linter is not installed next to {sys.executable}"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        "orm", include_external_packages=False, exclude_type_checking_imports=False
    )


def test_connection_core_modules_import_no_cycle(graph: grimp.ImportGraph) -> None:
    core = sorted(
        module
        for module in graph.modules
        if module.startswith(("orm.db.", "orm.backends.")) or module == "orm.abc"
    )
    cycles = sorted(
        (module, imported)
        for module in core
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    )
    assert cycles == []


def test_abc_imports_nothing_from_orm(graph: grimp.ImportGraph) -> None:
    assert graph.find_modules_directly_imported_by("orm.abc") == set()


def test_wrapper_is_in_orm_db_and_backends_subclass_it() -> None:
    from orm.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
    from orm.backends.sqlite.base import DatabaseWrapper as SQLiteWrapper
    from orm.db.wrapper import BaseDatabaseWrapper

    assert BaseDatabaseWrapper.__module__ == "orm.db.wrapper"
    assert issubclass(SQLiteWrapper, BaseDatabaseWrapper)
    assert issubclass(PostgresWrapper, BaseDatabaseWrapper)


def _function_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    return found


def test_no_function_level_imports_in_the_connection_core() -> None:
    # An import inside a function is how a cycle used to be hidden from the
    # contract; the backends are loaded by name (importlib), which is no import.
    paths = [
        PACKAGE / "abc.py",
        *sorted((PACKAGE / "db").rglob("*.py")),
        *sorted((PACKAGE / "backends").rglob("*.py")),
    ]
    found = [hit for path in paths for hit in _function_level_imports(path)]
    assert found == []
