"""Database settings: URL parsing and the configured ``databases`` mapping.

A leaf module: it imports nothing from `orm` but the exceptions and
``orm.utils.text`` (which quotes values in messages). ``configure()``
itself lives in ``orm.db.connections`` because reconfiguring must close the
connections that are open; this module only turns URLs into settings.

It also reads a project's settings for the ``orm`` commands and
``orm.migrate()``: ``[tool.orm]`` in the nearest ``pyproject.toml``, then
``ORM_DATABASE_URL``, then ``--database`` (:func:`load_project_settings`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlsplit

from orm.exceptions import ImproperlyConfigured
from orm.utils.text import short_repr

DEFAULT_DB_ALIAS = "default"
ENV_DATABASE_URL = "ORM_DATABASE_URL"

_SQLITE_OPTIONS = {
    # option -> converter; anything else in the query string is refused.
    "timeout": float,
    "journal_mode": str,
    "synchronous": str,
    "foreign_keys": str,
    "cache_size": int,
}
#: Allowed values of the SQLite pragmas set from URL options (lower case). They
#: are checked when the URL is parsed, so a bad one fails in ``configure()``
#: before any connection is half set up, and only these words reach the
#: ``PRAGMA`` statement.
SQLITE_PRAGMA_VALUES = {
    "journal_mode": frozenset({"delete", "truncate", "persist", "memory", "wal", "off"}),
    "synchronous": frozenset({"off", "normal", "full", "extra", "0", "1", "2", "3"}),
    "foreign_keys": frozenset({"on", "off", "1", "0", "true", "false"}),
}
_POOL_OPTIONS = {
    "pool_min_size": int,
    "pool_max_size": int,
    "pool_timeout": float,
    "pool_max_waiting": int,
    "pool_max_idle": float,
    "pool_max_lifetime": float,
    "pool_reconnect_timeout": float,
}
#: Default of ``health_check_after``: a held connection idle this long (seconds)
#: is checked with one round trip before its next use outside a transaction.
DEFAULT_HEALTH_CHECK_AFTER = 1.0
_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
#: What a password is replaced with wherever a URL or DSN is shown.
REDACTED = "***"
# Characters of a URL quoted in a message (more than other values: a long but
# valid URL should still be shown whole).
_URL_SHOWN = 300
# libpq parameters that carry a secret.
_SECRET_KEYS = ("password", "sslpassword")
# ``password=value`` in a libpq keyword string; the value may be single-quoted
# with backslash escapes (libpq's own syntax), and an unterminated quote is
# redacted to the end of the string rather than leaking the rest.
_KEYWORD_SECRET = re.compile(r"(?i)\b((?:ssl)?password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|\S*)")


def redact_url(url: object) -> str:
    """``url`` with every password replaced by ``***``, for messages, logs and reprs.

    Covers the ``user:password@`` part of a URL (also when the password holds
    an unescaped ``/``, ``?``, ``#`` or ``@``, which would make the URL parse
    wrongly), ``password=``/``sslpassword=`` query parameters (also
    percent-encoded names) and libpq keyword strings (``"host=db
    password=secret"``). A value that is not a ``str`` is shown as its type only.
    """
    if not isinstance(url, str):
        return f"<{type(url).__name__}>"
    if "://" not in url:
        return _KEYWORD_SECRET.sub(lambda m: m.group(1) + REDACTED, url)
    scheme, _, rest = url.partition("://")
    rest = _redact_userinfo(rest)
    path, question, query = rest.partition("?")
    if question:
        pieces = []
        for piece in query.split("&"):
            key, equals, _value = piece.partition("=")
            if equals and unquote_plus(key).strip().lower() in _SECRET_KEYS:
                piece = f"{key}={REDACTED}"
            pieces.append(piece)
        rest = f"{path}?{'&'.join(pieces)}"
    return f"{scheme}://{rest}"


def _shown_url(url: object) -> str:
    """The URL as quoted in messages: password masked, cut if very long."""
    return short_repr(redact_url(url), limit=_URL_SHOWN)


def _redact_userinfo(rest: str) -> str:
    """Mask the password in ``user:password@host...`` (``rest`` follows ``scheme://``)."""
    end = len(rest)
    for delimiter in "/?#":
        position = rest.find(delimiter)
        if position != -1:
            end = min(end, position)
    authority = rest[:end]
    # A well-formed URL has its credentials in the authority; otherwise an '@'
    # further on may end a password holding '/', '?' or '#'. Masking too much
    # only shortens the message, masking too little leaks the secret.
    at = authority.rfind("@") if "@" in authority else rest.rfind("@")
    if at == -1:
        return rest
    user, colon, _password = rest[:at].partition(":")
    if not colon:
        return rest
    return f"{user}:{REDACTED}{rest[at:]}"


def redact_secrets(text: str, *secrets: str | None) -> str:
    """``text`` with each of ``secrets`` (raw or percent-encoded) replaced by ``***``.

    For messages that come from the driver, which may quote any connection
    parameter back (``invalid integer value "..." for connection option ...``).
    """
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                text = text.replace(form, REDACTED)
    return text


@dataclass(frozen=True)
class DatabaseSettings:
    """The parsed form of one database URL.

    ``vendor`` is ``"sqlite"`` or ``"postgresql"``; ``name`` is the file path
    (or ``":memory:"``) for SQLite and the database name for PostgreSQL.
    ``options`` holds backend options (SQLite pragmas, libpq parameters) and
    ``pool`` the psycopg_pool options without their ``pool_`` prefix.
    """

    vendor: str
    name: str
    url: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    pool: dict[str, Any] = field(default_factory=dict)
    #: The alias this database is a read-only replica of (``None``: not a replica).
    replica_of: str | None = None

    def __repr__(self) -> str:
        # Never print a password in a traceback or a log line.
        return f"DatabaseSettings(vendor={self.vendor!r}, name={self.name!r}, host={self.host!r})"

    @property
    def display_url(self) -> str:
        """The URL with its password replaced by ``***`` (safe to show or log)."""
        return redact_url(self.url)


def _convert(kind: str, key: str, raw: str, conv: Any) -> Any:
    try:
        return conv(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"Invalid value {short_repr(raw)} for {kind} option {short_repr(key)} in the database URL."
        ) from None


def _seconds_or_off(key: str, raw: str) -> float | None:
    """A duration option: seconds (0 or more), or ``none``/``off`` (``None``)."""
    if raw.lower() in ("none", "off"):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ImproperlyConfigured(
            f"Invalid value {raw!r} for option {key!r} in the database URL; use a number "
            f"of seconds, 0 or more (e.g. '{key}=5'; 0 means every time), or 'none'."
        )
    return value


#: Value of the ``pgbouncer`` URL option for a PgBouncer in transaction pooling mode.
PGBOUNCER_TRANSACTION = "transaction"


def _pgbouncer_mode(key: str, raw: str) -> str | None:
    """``pgbouncer=transaction`` (the pooler hands out a server per transaction), or ``none``."""
    value = raw.strip().lower()
    if value in ("none", "off", ""):
        return None
    if value != PGBOUNCER_TRANSACTION:
        raise ImproperlyConfigured(
            f"Invalid value {short_repr(raw)} for option {key!r} in the database URL; use "
            f"'{key}=transaction' behind a PgBouncer in transaction pooling mode (a PgBouncer "
            "in session mode needs no option), or 'none'."
        )
    return value


# PostgreSQL options that are orm's own, not libpq's: converted and validated
# here, at configure() time; the backend takes them out before calling libpq.
_POSTGRESQL_OPTIONS: dict[str, Callable[[str, str], Any]] = {
    "health_check_after": _seconds_or_off,
    "pgbouncer": _pgbouncer_mode,
}


def parse_url(url: str) -> DatabaseSettings:
    """Parse a database URL (see API.md) into :class:`DatabaseSettings`.

    Raises ``ImproperlyConfigured`` naming the problem for an unknown scheme,
    a missing database name or an unknown option.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ImproperlyConfigured(
            f"Database URL {_shown_url(url)} is not a URL; use 'sqlite:///path.db' or "
            "'postgresql://user:password@host:5432/dbname'."
        )
    scheme = url.split("://", 1)[0].lower()
    vendor = _SCHEMES.get(scheme)
    if vendor is None:
        raise ImproperlyConfigured(
            f"Unsupported database scheme {short_repr(scheme)} in {_shown_url(url)}; "
            "supported: sqlite://, postgresql://."
        )
    if vendor == "sqlite":
        return _parse_sqlite(url)
    return _parse_postgresql(url)


def _parse_sqlite(url: str) -> DatabaseSettings:
    rest = url.split("://", 1)[1]
    path, _, query = rest.partition("?")
    if not path.startswith("/"):
        raise ImproperlyConfigured(
            f"SQLite URL {_shown_url(url)} needs three slashes: 'sqlite:///relative.db', "
            "'sqlite:////absolute/path.db' or 'sqlite:///:memory:'."
        )
    name = unquote(path[1:])
    if not name:
        raise ImproperlyConfigured(f"SQLite URL {_shown_url(url)} names no database file.")
    options: dict[str, Any] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True):
        if key not in _SQLITE_OPTIONS:
            raise ImproperlyConfigured(
                f"Unknown SQLite option {short_repr(key)} in {_shown_url(url)}; "
                f"choose from: {', '.join(sorted(_SQLITE_OPTIONS))}."
            )
        options[key] = _convert("SQLite", key, raw, _SQLITE_OPTIONS[key])
        allowed = SQLITE_PRAGMA_VALUES.get(key)
        if allowed is not None:
            options[key] = value = raw.strip().lower()
            if value not in allowed:
                raise ImproperlyConfigured(
                    f"Invalid SQLite {key} {short_repr(raw)} in {_shown_url(url)}; "
                    f"choose from: {', '.join(sorted(allowed))}."
                )
    return DatabaseSettings(vendor="sqlite", name=name, url=url, options=options)


def _parse_postgresql(url: str) -> DatabaseSettings:
    parts = urlsplit(url)
    if "@" in parts.path and "@" not in parts.netloc:
        # 'user:pa/ss@host/db' splits at the '/': the password would become a
        # host, a port or part of the database name (and be shown as one).
        raise ImproperlyConfigured(
            f"PostgreSQL URL {_shown_url(url)} has an '@' after the host. If the "
            "password contains '/', '?', '#' or '@', percent-encode it, e.g. with "
            "urllib.parse.quote(password, safe='')."
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured(f"PostgreSQL URL {_shown_url(url)} names no database.")
    options: dict[str, Any] = {}
    pool: dict[str, Any] = {}
    for key, raw in parse_qsl(parts.query, keep_blank_values=True):
        if key in _POOL_OPTIONS:
            pool[key.removeprefix("pool_")] = _convert("pool", key, raw, _POOL_OPTIONS[key])
        elif key in _POSTGRESQL_OPTIONS:
            options[key] = _POSTGRESQL_OPTIONS[key](key, raw)
        else:
            # Everything else is a libpq parameter (sslmode, connect_timeout, ...);
            # libpq itself rejects unknown ones with a clear message on connect.
            options[key] = raw
    if options.get("pgbouncer") == PGBOUNCER_TRANSACTION and "options" in options:
        raise ImproperlyConfigured(
            f"PostgreSQL URL {_shown_url(url)} sets 'options' together with "
            "'pgbouncer=transaction': PgBouncer does not pass that startup parameter on "
            "(it refuses or ignores it), and a session SET would not outlive one "
            "transaction there. Set the parameter for the role or database on the server "
            "(ALTER ROLE app SET statement_timeout = '5s'), or use SET LOCAL inside "
            "transaction.atomic()."
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(
            f"Invalid port in PostgreSQL URL {_shown_url(url)}. If the password contains "
            "'/', '?', '#' or '@', percent-encode it, e.g. with "
            "urllib.parse.quote(password, safe='')."
        ) from None
    return DatabaseSettings(
        vendor="postgresql",
        name=name,
        url=url,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        options=options,
        pool=pool,
    )


def settings_from_environment() -> dict[str, DatabaseSettings] | None:
    """Settings from ``ORM_DATABASE_URL``, or ``None`` when it is not set."""
    url = os.environ.get(ENV_DATABASE_URL)
    if not url:
        return None
    try:
        return {DEFAULT_DB_ALIAS: parse_url(url)}
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(f"{ENV_DATABASE_URL} is invalid: {error}") from None


def normalize_databases(
    url: str | None, databases: Mapping[str, str | Mapping[str, Any]] | None
) -> dict[str, DatabaseSettings]:
    """Turn the arguments of ``orm.configure()`` into settings per alias."""
    if url is not None and databases is not None:
        raise ImproperlyConfigured("Pass either a URL or databases={...} to configure(), not both.")
    if url is not None:
        databases = {DEFAULT_DB_ALIAS: url}
    if not databases:
        raise ImproperlyConfigured(
            "configure() needs a URL, e.g. orm.configure('sqlite:///app.sqlite3'), or "
            "databases={'default': URL, ...}."
        )
    if DEFAULT_DB_ALIAS not in databases:
        raise ImproperlyConfigured("databases={...} must contain a 'default' alias.")
    settings = {alias: _alias_settings(alias, value) for alias, value in databases.items()}
    if settings[DEFAULT_DB_ALIAS].replica_of is not None:
        raise ImproperlyConfigured(
            "The 'default' database cannot be a replica; make another alias the replica."
        )
    for alias, entry in settings.items():
        primary = entry.replica_of
        if primary is not None and (
            primary not in settings or settings[primary].replica_of is not None
        ):
            raise ImproperlyConfigured(
                f"Database {alias!r} has replica_of={primary!r}, which is not a configured "
                f"primary alias; configured aliases: {', '.join(sorted(settings))}."
            )
    return settings


def _alias_settings(alias: str, value: str | Mapping[str, Any]) -> DatabaseSettings:
    """One alias of ``databases=``: a URL, or ``{"url": URL, "replica_of": alias}``."""
    if isinstance(value, str):
        return parse_url(value)
    if (
        not isinstance(value, Mapping)
        or not isinstance(value.get("url"), str)
        or set(value) - {"url", "replica_of"}
    ):
        raise ImproperlyConfigured(
            f"Database {alias!r} must be a URL or {{'url': URL, 'replica_of': 'default'}}, "
            # Only the type: the value may hold a password.
            f"not <{type(value).__name__}>."
        )
    primary = value.get("replica_of")
    if primary is not None and not isinstance(primary, str):
        raise ImproperlyConfigured(
            f"Database {alias!r}: replica_of must be an alias name, not {short_repr(primary)}."
        )
    parsed = parse_url(value["url"])
    if primary is None:
        return parsed
    options = dict(parsed.options)
    if parsed.vendor == "postgresql" and parsed.options.get("pgbouncer") != PGBOUNCER_TRANSACTION:
        # The server refuses every write in the session's transactions (SQLSTATE 25006).
        # Not behind a transaction-pooling PgBouncer, which does not pass the
        # startup option on (docs/postgresql.md, "PgBouncer").
        options["options"] = (
            f"{options.get('options', '')} -c default_transaction_read_only=on".strip()
        )
    return replace(parsed, options=options, replica_of=primary)


# ------------------------------------------------------------ project settings

#: Keys ``[tool.orm]`` may hold; anything else is refused (a typo such as
#: ``database_url`` would otherwise be ignored and the wrong database used).
PROJECT_KEYS = frozenset({"database", "databases", "apps", "routers", "use_tz", "lintmigrations"})
# An app is an importable dotted package name.
_PACKAGE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def settings_sources(start: Path | None = None) -> str:
    """One sentence saying where project settings are read from (for error messages)."""
    where = Path.cwd() if start is None else start
    return (
        "Settings are read from [tool.orm] in the nearest pyproject.toml (searched upward "
        f'from {where}): database = URL or databases = {{alias = URL}}, apps = ["package", ...]; '
        f"then the {ENV_DATABASE_URL} environment variable; then --database URL, the later winning."
    )


@dataclass(frozen=True)
class ProjectSettings:
    """Settings of a project: database URLs per alias and app packages.

    ``databases`` maps aliases to URLs after every source was applied (see
    :func:`load_project_settings`); ``apps`` lists the app packages in the
    order ``[tool.orm]`` gives them; ``pyproject`` is the file they came from
    (``None`` when none was found) and ``root`` its directory (or the start
    directory), which the commands put on ``sys.path`` so apps import.
    """

    databases: dict[str, str]
    apps: list[str]
    pyproject: Path | None
    root: Path
    #: Dotted paths of database routers (``[tool.orm] routers``), for ``configure(routers=)``.
    routers: list[str] = field(default_factory=list)
    #: ``[tool.orm] use_tz`` (default true), for ``configure(use_tz=)``.
    use_tz: bool = True

    def __repr__(self) -> str:
        # URLs may carry passwords: show only the aliases.
        return (
            f"ProjectSettings(databases={sorted(self.databases)!r}, apps={self.apps!r}, "
            f"pyproject={self.pyproject!r})"
        )


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` holding a ``[tool.orm]`` table, from ``start`` upward.

    A ``pyproject.toml`` without ``[tool.orm]`` (a parent monorepo's, a
    library's) is passed over, so settings come from the project that has them.
    """
    directory = (Path.cwd() if start is None else start).resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "orm" in _read_toml(candidate, directory).get("tool", {}):
            return candidate
    return None


def _read_toml(path: Path, start: Path) -> dict[str, Any]:
    import tomllib  # only the commands read pyproject.toml; keep `import orm` lean

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ImproperlyConfigured(
            f"Cannot read {path}: {error}. {settings_sources(start)}"
        ) from None


def load_project_settings(
    database_url: str | None = None,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
    require_database: bool = True,
) -> ProjectSettings:
    """Read ``[tool.orm]``, then ``ORM_DATABASE_URL``, then ``database_url``; the later wins.

    The environment variable and ``database_url`` (``--database``) replace the
    ``default`` alias. Every URL is parsed here, so a broken one fails now with
    ``ImproperlyConfigured`` saying which source it came from and where
    settings are read from; so does a missing database (unless
    ``require_database`` is false: code that only reads migration files).
    """
    start = (Path.cwd() if start is None else start).resolve()
    env = os.environ if environ is None else environ
    pyproject = find_pyproject(start)
    databases: dict[str, str] = {}
    apps: list[str] = []
    routers: list[str] = []
    use_tz = True
    if pyproject is not None:
        table = _read_toml(pyproject, start)["tool"]["orm"]
        databases, apps = _parse_tool_orm(table, pyproject, start)
        routers = _parse_routers(table, pyproject)
        use_tz = table.get("use_tz", True)
        if not isinstance(use_tz, bool):
            raise ImproperlyConfigured(
                f"[tool.orm] in {pyproject}: 'use_tz' must be true or false, not {short_repr(use_tz)}. "
                f"{settings_sources(start)}"
            )
    for source, url in (
        (ENV_DATABASE_URL, env.get(ENV_DATABASE_URL)),
        ("--database", database_url),
    ):
        if url:
            _check_url(url, source, start)
            databases[DEFAULT_DB_ALIAS] = url
    if not databases and require_database:
        raise ImproperlyConfigured(f"No database is configured. {settings_sources(start)}")
    if databases and DEFAULT_DB_ALIAS not in databases:
        raise ImproperlyConfigured(
            f"[tool.orm] databases in {pyproject} has no 'default' alias "
            f"(it has {', '.join(sorted(databases))}). {settings_sources(start)}"
        )
    root = pyproject.parent if pyproject is not None else start
    return ProjectSettings(
        databases=databases,
        apps=apps,
        pyproject=pyproject,
        root=root,
        routers=routers,
        use_tz=use_tz,
    )


def _parse_routers(table: dict[str, Any], pyproject: Path) -> list[str]:
    """``[tool.orm] routers``: a list of dotted paths to router classes or instances."""
    routers = table.get("routers", [])
    if not isinstance(routers, list) or not all(
        isinstance(r, str) and _PACKAGE_NAME.match(r) for r in routers
    ):
        raise ImproperlyConfigured(
            f"[tool.orm] in {pyproject}: 'routers' must be a list of dotted paths, e.g. "
            f'routers = ["myapp.routers.Router"], not {short_repr(routers)}.'
        )
    return list(routers)


def _anchor_sqlite_path(url: str, root: Path) -> str:
    """A relative SQLite path of ``[tool.orm]`` made relative to the pyproject's directory.

    Otherwise ``orm migrate`` run from a subdirectory would create and
    migrate a second, empty database file there.
    """
    settings = parse_url(url)
    if (
        settings.vendor != "sqlite"
        or settings.name == ":memory:"
        or Path(settings.name).is_absolute()
    ):
        return url
    _, _, query = url.partition("?")
    return f"sqlite:///{quote(str(root / settings.name))}" + (f"?{query}" if query else "")


def _check_url(url: str, source: str, start: Path) -> None:
    try:
        parse_url(url)
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(
            f"{source} is invalid: {error} {settings_sources(start)}"
        ) from None


def _parse_tool_orm(table: Any, pyproject: Path, start: Path) -> tuple[dict[str, str], list[str]]:
    where = f"[tool.orm] in {pyproject}"
    if not isinstance(table, dict):
        raise ImproperlyConfigured(f"{where} must be a table. {settings_sources(start)}")
    unknown = sorted(set(table) - PROJECT_KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) {', '.join(map(repr, unknown))} in {where}; the keys are "
            f"{', '.join(sorted(PROJECT_KEYS))}. {settings_sources(start)}"
        )
    if "database" in table and "databases" in table:
        raise ImproperlyConfigured(
            f"{where} sets both 'database' and 'databases'; keep one "
            f"(database = URL is short for databases = {{default = URL}}). {settings_sources(start)}"
        )
    raw = (
        {DEFAULT_DB_ALIAS: table["database"]} if "database" in table else table.get("databases", {})
    )
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(
            f"{where}: 'databases' must be a table of alias = URL, e.g. "
            f'databases = {{default = "sqlite:///app.sqlite3"}}. {settings_sources(start)}'
        )
    databases: dict[str, str] = {}
    for alias, url in raw.items():
        if not isinstance(url, str):
            raise ImproperlyConfigured(
                f"{where}: the database URL of {alias!r} must be a string, not "
                f"{type(url).__name__}. {settings_sources(start)}"
            )
        _check_url(url, f"{where}, database {alias!r},", start)
        databases[alias] = _anchor_sqlite_path(url, pyproject.parent)
    apps = table.get("apps", [])
    if not isinstance(apps, list) or not all(
        isinstance(a, str) and _PACKAGE_NAME.match(a) for a in apps
    ):
        raise ImproperlyConfigured(
            f"{where}: 'apps' must be a list of package names, e.g. apps = [\"shop\", "
            f'"myproject.billing"], not {short_repr(apps)}. {settings_sources(start)}'
        )
    if len(set(apps)) != len(apps):
        raise ImproperlyConfigured(f"{where}: 'apps' lists a package twice: {apps!r}.")
    return databases, list(apps)
