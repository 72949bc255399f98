"""Harness for the pytest plugin's tests: small projects run by pytest in a subprocess.

``project`` writes a tiny project (an app ``shop`` with two models and a
``pyproject.toml`` whose ``[tool.orm]`` names it) into pytester's directory,
once per backend: SQLite (no database configured: the plugin's temporary
file) and PostgreSQL (``[tool.orm] database`` = ``ORM_TEST_POSTGRES_URL``,
so the plugin creates and drops ``test_<name>``). ``project.run(...)`` runs
pytest on it in a fresh interpreter, as a user's run would, so the outer
test session's orm state is never shared.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import PG_URL_ENV, postgres_unavailable, postgres_url

pytest_plugins = ["pytester"]

MODELS = """
import orm


class Shelf(orm.Model):
    label = orm.CharField(max_length=50)

    class Meta:
        app_label = "shop"


class Item(orm.Model):
    name = orm.CharField(max_length=50)
    shelf = orm.ForeignKey(Shelf, on_delete=orm.CASCADE, null=True)

    class Meta:
        app_label = "shop"
"""


@dataclass
class Project:
    """A small project in ``pytester.path`` and a way to run its tests."""

    pytester: pytest.Pytester
    vendor: str
    #: The project's (not the test) database URL; None on SQLite.
    url: str | None

    def write(self, **files: str) -> None:
        """Write test modules (``name="source"``), dedented."""
        self.pytester.makepyfile(**{k: textwrap.dedent(v) for k, v in files.items()})

    def run(self, *args: str, timeout: float = 500) -> pytest.RunResult:
        """Run pytest on the project in a subprocess."""
        return self.pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=timeout)

    @property
    def test_database(self) -> str | None:
        """The name of the PostgreSQL test database the plugin makes (no xdist)."""
        if self.url is None:
            return None
        return "test_" + self.url.rsplit("/", 1)[1].split("?", 1)[0]


def make_project(pytester: pytest.Pytester, vendor: str, asyncio_mode: str = "auto") -> Project:
    """Write the project's app and pyproject.toml; see the module docstring."""
    url: str | None = None
    database = ""
    if vendor == "postgresql":
        url = postgres_url()
        if url is None:
            postgres_unavailable(f"{PG_URL_ENV} is not set")
        database = f'database = "{url}"\n'
    pytester.mkpydir("shop")
    (pytester.path / "shop" / "models.py").write_text(MODELS)
    pytester.makefile(
        ".toml",
        pyproject=(
            "[tool.pytest.ini_options]\n"
            f'asyncio_mode = "{asyncio_mode}"\n'
            'asyncio_default_fixture_loop_scope = "function"\n'
            'filterwarnings = ["error"]\n'
            "timeout = 300\n\n"
            "[tool.orm]\n"
            'apps = ["shop"]\n' + database
        ),
    )
    return Project(pytester, vendor, url)


def _params() -> list[Any]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]


@pytest.fixture(params=_params())
def project(
    request: pytest.FixtureRequest, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A project on each backend (see the module docstring)."""
    monkeypatch.delenv("ORM_DATABASE_URL", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    return make_project(pytester, request.param)


@pytest.fixture(scope="session")
def orm_database_urls() -> dict[str, str]:
    """The plugin's databases for the tests of this folder that use it in-process.

    SQLite only (the plugin makes a temporary file): dropping a PostgreSQL
    test database at the end of the session can take over a minute on a
    loaded server, longer than the per-test timeout of the test whose
    teardown ends the session. The subprocess tests cover PostgreSQL.
    """
    return {"default": "sqlite:///:memory:"}


@pytest.fixture(scope="session")
def orm_test_models() -> list[Any]:
    """The async-skin test models: orm's suite registers models with clashing tables."""
    from tests.async_.models import ALL_MODELS

    return list(ALL_MODELS)
