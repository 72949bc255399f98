"""The test databases: which ones, created once per session, given their schema, dropped.

The project's databases come from the ``orm_database_urls`` fixture (which
users may override); by default from ``[tool.orm]`` in the nearest
``pyproject.toml`` (``database = URL`` or ``databases = {alias = URL}``)
and ``ORM_DATABASE_URL``, the later winning, read exactly as the commands
read them (``orm.conf.load_project_settings``), else a throw-away SQLite file. The tests never
run on those databases but on test ones derived from them:

- PostgreSQL: the same server, the database name prefixed with ``test_``
  (and suffixed with the pytest-xdist worker, ``_gw0``), created by the
  plugin and dropped at the end of the session;
- SQLite: a file in the session's temporary directory (one per worker),
  or, with ``--orm-reuse-db``, ``test_<name>`` next to the configured file.

With ``reuse`` an existing test database is kept as it is (schema and all)
and not dropped at the end, so the next run starts at once.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from orm.conf import (
    DEFAULT_DB_ALIAS,
    DatabaseSettings,
    ProjectSettings,
    load_project_settings,
    parse_url,
)
from orm.db.connections import configure, connections
from orm.exceptions import ImproperlyConfigured
from orm.migrations.apps import load_apps
from orm.models.registry import apps
from orm.models.schema import create_tables

__all__ = [
    "TestDatabases",
    "create_test_databases",
    "derive_test_url",
    "app_packages",
    "configure_options",
    "import_project_apps",
    "project_database_urls",
    "select_test_models",
]

#: The database the plugin connects to for CREATE/DROP DATABASE on PostgreSQL.
MAINTENANCE_DB = "postgres"


def _project(start: Path) -> ProjectSettings:
    # The commands' own reader: the same search upward, the same precedence
    # ([tool.orm], then ORM_DATABASE_URL, the later winning) and the same errors.
    return load_project_settings(start=start, require_database=False)


def import_project_apps(start: Path) -> None:
    """Import the ``models`` module of each ``[tool.orm] apps`` package (registering the models).

    ``[tool.orm]`` is read from the nearest ``pyproject.toml`` at or above ``start``.
    """
    load_apps(_project(start).apps)


def app_packages(start: Path) -> list[str]:
    """The packages of ``[tool.orm] apps`` (empty when not set)."""
    return _project(start).apps


def configure_options(start: Path) -> dict[str, Any]:
    """``[tool.orm] routers`` and ``use_tz``, as ``configure()`` takes them for the test databases."""
    project = _project(start)
    return {"routers": project.routers, "use_tz": project.use_tz}


def select_test_models(packages: list[str]) -> list[Any]:
    """The models the test databases get tables for.

    With ``packages`` (``[tool.orm] apps``): the registered models defined in
    those packages. Without: every registered model. Automatic many-to-many
    join models come with their model.
    """
    models = apps.get_models()
    if not packages:
        return models
    return [
        m
        for m in models
        if any(m.__module__ == p or m.__module__.startswith(p + ".") for p in packages)
    ]


def project_database_urls(start: Path) -> dict[str, str] | None:
    """The project's database URLs by alias, as ``orm migrate`` reads them.

    ``[tool.orm]`` of the nearest ``pyproject.toml`` at or above ``start``
    (``database = URL`` or ``databases = {alias = URL}``), then
    ``ORM_DATABASE_URL`` for the ``default`` alias, the later winning.
    ``None`` when neither is set.
    """
    return _project(start).databases or None


def derive_test_url(url: str, *, alias: str, suffix: str, tmp_dir: Path, reuse: bool) -> str:
    """The URL of the test database for ``alias``, derived from the project's ``url``.

    ``suffix`` names the pytest-xdist worker (``"_gw0"``, or ``""``).
    """
    settings = parse_url(url)
    if settings.vendor == "postgresql":
        parts = urlsplit(url)
        name = f"test_{settings.name}{suffix}"
        return urlunsplit(parts._replace(path="/" + quote(name, safe="")))
    query = url.partition("?")[2]
    # Each alias gets its own file: two in-memory aliases must not become one file.
    label = "" if alias == DEFAULT_DB_ALIAS else f"_{alias}"
    if reuse and settings.name != ":memory:":
        path = Path(settings.name)
        target = path.with_name(f"test_{path.stem}{suffix}{path.suffix}")
    elif reuse:
        target = Path(f".orm_test{label}{suffix}.sqlite3")
    else:
        target = tmp_dir / f"test{label}{suffix}.sqlite3"
    target = target if target.is_absolute() else target.resolve()
    return f"sqlite:///{target}" + (f"?{query}" if query else "")


@dataclass
class TestDatabases:
    """The session's test databases, as :func:`create_test_databases` made them."""

    __test__ = False  # not a test class

    #: alias -> URL of its test database (what ``orm.configure`` got).
    urls: dict[str, str]
    reuse: bool
    #: The models whose tables the databases have (and orm_transactional_db empties).
    models: list[Any] = field(default_factory=list)
    #: alias -> the settings of PostgreSQL databases the session must drop.
    created: dict[str, DatabaseSettings] = field(default_factory=dict)
    #: Other ``configure()`` arguments: the project's routers and use_tz.
    options: dict[str, Any] = field(default_factory=dict)

    def ensure_configured(self) -> None:
        """Configure orm on the test databases again if a test configured it otherwise.

        A test of the same session may call ``orm.configure()`` for its own
        purposes; the next test that asks for the test databases must still
        get them.
        """
        try:
            current = {alias: s.url for alias, s in connections.settings.items()}
        except ImproperlyConfigured:
            current = {}
        if current != self.urls:
            configure(databases=self.urls, **self.options)

    def destroy(self) -> None:
        """Close every connection, then drop the PostgreSQL databases (not with ``reuse``).

        SQLite files live in pytest's temporary directory (removed by pytest)
        or, with ``reuse``, are kept on purpose.
        """
        connections.close_all()
        for settings in self.created.values():
            _drop_postgres_database(settings)
        self.created.clear()


def create_test_databases(
    project_urls: dict[str, str],
    *,
    models: list[Any],
    suffix: str,
    tmp_dir: Path,
    reuse: bool,
    packages: Sequence[str] = (),
    options: dict[str, Any] | None = None,
) -> TestDatabases:
    """Create (or, with ``reuse``, find) the test databases, configure orm on them, build schema.

    ``packages``: the ``[tool.orm] apps``; those with migrations are migrated.
    ``options``: more ``configure()`` arguments (``routers``, ``use_tz``).
    """
    urls = {
        alias: derive_test_url(url, alias=alias, suffix=suffix, tmp_dir=tmp_dir, reuse=reuse)
        for alias, url in project_urls.items()
    }
    databases = TestDatabases(
        urls=urls, reuse=reuse, models=list(models), options=dict(options or {})
    )
    fresh: list[str] = []
    for alias, url in urls.items():
        settings = parse_url(url)
        if settings.vendor == "postgresql":
            existed = _create_postgres_database(settings, reuse=reuse)
            if not reuse:
                databases.created[alias] = settings
        else:
            path = Path(settings.name)
            existed = reuse and path.exists()
            if not existed:
                path.unlink(missing_ok=True)
        if not existed:
            fresh.append(alias)
    configure(databases=urls, **databases.options)
    try:
        _build_schema(models, fresh, [a for a in urls if a not in fresh], packages)
    except BaseException:
        databases.destroy()
        raise
    return databases


def _build_schema(
    models: list[Any], aliases: list[str], reuse_aliases: list[str], packages: Sequence[str] = ()
) -> None:
    """Give each test database its schema: the apps' migrations, then the other tables.

    Apps of ``packages`` (``[tool.orm] apps``) that have a ``migrations``
    package are migrated (``orm.migrate``) on every alias, a reused database
    included (it applies only what is missing), so the tests run on the
    schema production gets. The other models of ``models`` get their tables
    from ``create_tables``; a reused database keeps its tables and only the
    missing ones are created.
    """
    migrated = [
        config.label
        for config in load_apps(list(packages))
        if _has_migrations(config.migrations_module)
    ]
    if migrated:
        # Imported here: the plugin loads in every pytest run of a project that
        # has orm installed, and the executor is only needed to migrate.
        from orm.migrations.executor import migrate

        for alias in [*aliases, *reuse_aliases]:
            migrate(using=alias, apps=list(packages))
        models = [m for m in models if m._meta.app_label not in migrated]
    if not models:
        return
    for alias in aliases:
        create_tables(*models, using=alias)
    for alias in reuse_aliases:
        create_tables(*models, using=alias, if_not_exists=True)


def _has_migrations(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


# -- PostgreSQL ---------------------------------------------------------------------


def _admin_connection(settings: DatabaseSettings) -> Any:
    try:
        import psycopg
        from psycopg.conninfo import make_conninfo
    except ImportError:  # pragma: no cover - the postgres extra is missing
        raise ImproperlyConfigured(
            "A PostgreSQL test database needs psycopg: pip install 'orm-async[postgres]'."
        ) from None
    # libpq parameters of the URL (sslmode, connect_timeout...), not orm's own options.
    params: dict[str, Any] = {k: v for k, v in settings.options.items() if isinstance(v, str)}
    params.update(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        dbname=MAINTENANCE_DB,
    )
    conninfo = make_conninfo(**{k: v for k, v in params.items() if v is not None})
    return psycopg.connect(conninfo, autocommit=True)


def _create_postgres_database(settings: DatabaseSettings, *, reuse: bool) -> bool:
    """CREATE DATABASE (dropping a stale one first unless ``reuse``); True if it existed and is kept."""
    from psycopg import sql

    name = sql.Identifier(settings.name)
    with _admin_connection(settings) as admin:
        exists = (
            admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [settings.name]
            ).fetchone()
            is not None
        )
        if exists and reuse:
            return True
        if exists:
            # Left by an interrupted run: start from an empty database.
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return False


def _drop_postgres_database(settings: DatabaseSettings) -> None:
    from psycopg import sql

    with _admin_connection(settings) as admin:
        # FORCE: a session a test leaked (a thread still connected) must not
        # keep the database alive; the leak itself is reported by orm_db.
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(settings.name))
        )
