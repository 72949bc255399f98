"""The user-facing types, checked by mypy --strict and by pyright (no plugin).

``*_ok.py`` files hold ``assert_type`` checks and must check clean; in
``*_bad.py`` files every line marked ``# E`` must be reported, and nothing
else. The example project (``migrations_example/``) and the examples of the
pages in ``DOC_PAGES`` (every block, the ``skip`` ones too but for those in
``UNTYPED_SKIPS``) must check clean too. Each
checker runs twice per module (a few seconds each).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.docs.blocks import Block, python_blocks

# Each test's first checker run (a fixture) analyses orm and every checked file
# from scratch: seconds on a quiet machine, minutes on a loaded one. The run is
# bounded (no lock, no network), so the global deadlock guard does not fit it.
pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
OK_FILES = sorted(HERE.glob("*_ok.py"))
BAD_FILES = sorted(HERE.glob("*_bad.py"))
EXAMPLE = ROOT / "migrations_example"
CHECKED = [str(p.relative_to(ROOT)) for p in OK_FILES + BAD_FILES] + [EXAMPLE.name]


def _pyright() -> str:
    found = shutil.which("pyright", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("pyright is not installed: pip install -e '.[dev]' pins it.")
    return found


#: Pages whose examples are checked (each page's blocks as one module, in order).
DOC_PAGES = [
    "README.md",
    "docs/index.md",
    "docs/getting-started.md",
    "docs/typing.md",
    "docs/architecture.md",
    "docs/introspection.md",
    "docs/configuration.md",
    "docs/coming-from-django.md",
    "docs/migrations.md",
    "docs/concurrency.md",
    "docs/sql.md",
    "docs/pagination.md",
    "docs/postgresql.md",
    "docs/queries.md",
    "docs/transactions.md",
    "docs/async.md",
    "docs/testing.md",
    "docs/models.md",
    "docs/reference/database.md",
]


#: Blocks marked ``docs-test: skip`` are typed user code too, except these, which
#: import what orm does not install (Django, Starlette, FastAPI, a reader's own
#: project) or stand for names of the reader's: (page, the skip reason).
UNTYPED_SKIPS = {
    ("docs/coming-from-django.md", "Django code, shown for comparison"),
    ("docs/concurrency.md", "needs Starlette, which orm does not depend on"),
    ("docs/concurrency.md", "needs FastAPI, which orm does not depend on"),
    ("docs/concurrency.md", "needs a Django project (mysite.settings)"),
    (
        "docs/migrations.md",
        "the shape of the call; loaded_state, apps, questioner and graph stand for your own",
    ),
    ("docs/postgresql.md", "waits ten minutes for the server to end an idle session"),
    ("docs/testing.md", "a test module of a project with a shop app"),
    ("docs/testing.md", "a test module of a project with a myapp module"),
}


def _typed_blocks(page: str) -> list[Block]:
    """The blocks of ``page`` the checkers see, in page order."""
    return [
        b for b in python_blocks(ROOT / page) if not b.skip or (page, b.skip) not in UNTYPED_SKIPS
    ]


def _key(path: str) -> str:
    """A reported file relative to the repository (mypy reports relative paths, pyright absolute)."""
    resolved = (ROOT / path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else resolved.name


def _mypy_errors(
    paths: list[str] = CHECKED,
    cwd: Path = ROOT,
    options: tuple[str, ...] = (),
) -> dict[str, set[int]]:
    # The checkout on MYPYPATH: an editable install's import hook is invisible to mypy.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--hide-error-context",
            "--no-error-summary",
            *options,
            *paths,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"MYPYPATH": str(ROOT), "PATH": ""},
    )
    errors: dict[str, set[int]] = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^(.+?):(\d+): error:", line)
        if match:
            errors.setdefault(_key(str(cwd / match[1])), set()).add(int(match[2]))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return errors


def _pyright_errors(paths: list[str] = CHECKED, cwd: Path = ROOT) -> dict[str, set[int]]:
    result = subprocess.run(
        [_pyright(), "--outputjson", "--pythonpath", sys.executable, *paths],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    report = json.loads(result.stdout)
    errors: dict[str, set[int]] = {}
    for diag in report["generalDiagnostics"]:
        if diag["severity"] == "error":
            errors.setdefault(_key(diag["file"]), set()).add(diag["range"]["start"]["line"] + 1)
    return errors


def _expected(path: Path) -> set[int]:
    lines = path.read_text().splitlines()
    return {number for number, text in enumerate(lines, 1) if text.rstrip().endswith("# E")}


@pytest.fixture(scope="module", params=["mypy", "pyright"])
def reported(request: pytest.FixtureRequest) -> dict[str, set[int]]:
    return _mypy_errors() if request.param == "mypy" else _pyright_errors()


def test_files_exist() -> None:
    assert OK_FILES and BAD_FILES


@pytest.mark.parametrize("path", OK_FILES, ids=lambda p: p.name)
def test_positive_file_checks_clean(reported: dict[str, set[int]], path: Path) -> None:
    assert reported.get(_key(str(path)), set()) == set()


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_negative_file_reports_marked_lines(reported: dict[str, set[int]], path: Path) -> None:
    expected = _expected(path)
    assert expected, f"{path.name} marks no line with # E"
    assert reported.get(_key(str(path)), set()) == expected


def test_example_project_checks_clean(reported: dict[str, set[int]]) -> None:
    in_example = {
        path: lines for path, lines in reported.items() if path.startswith(EXAMPLE.name + "/")
    }
    assert in_example == {}


def _as_module_code(source: str, line: int) -> str:
    """A block as module code; one with a top-level ``await`` as an async function's body.

    The docs runner runs such a block in an event loop, as the asyncio REPL
    does; a module cannot hold it, so the checkers see it wrapped.
    """
    try:
        compile(source, "<block>", "exec")
    except SyntaxError:
        return f"async def _block_at_line_{line}() -> None:\n" + textwrap.indent(source, "    ")
    return source


@pytest.fixture(scope="module", params=["mypy", "pyright"])
def docs_reported(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, set[int]]:
    """Each page's runnable blocks written as one module, checked like user code."""
    folder = tmp_path_factory.mktemp("doc_examples")
    # pyright finds orm through extraPaths (the editable install's import hook is
    # invisible to it). A page may show two files that define the same name (two
    # migrations, say): one module here, so redefinitions are not errors.
    config = {"extraPaths": [str(ROOT)], "reportRedeclaration": False}
    (folder / "pyrightconfig.json").write_text(json.dumps(config))
    names = []
    for page in DOC_PAGES:
        # A block that shows an error at run time, or cannot run here, is still typed user code.
        blocks = _typed_blocks(page)
        name = re.sub(r"\W", "_", page.removesuffix(".md")) + ".py"
        code = "".join(_as_module_code(b.source, b.line) for b in blocks)
        (folder / name).write_text(code, encoding="utf-8")
        names.append(name)
    if request.param == "mypy":
        return _mypy_errors(names, folder, ("--disable-error-code", "no-redef"))
    return _pyright_errors(names, folder)


@pytest.mark.parametrize("page", DOC_PAGES)
def test_page_examples_check_clean(docs_reported: dict[str, set[int]], page: str) -> None:
    module = re.sub(r"\W", "_", page.removesuffix(".md")) + ".py"
    assert docs_reported.get(module, set()) == set()


def test_untyped_skips_name_skipped_blocks() -> None:
    """An entry of UNTYPED_SKIPS whose block was changed or removed would hide nothing: refuse it."""
    present = {(page, b.skip) for page in DOC_PAGES for b in python_blocks(ROOT / page) if b.skip}
    assert UNTYPED_SKIPS - present == set()
