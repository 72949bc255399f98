"""Database settings: URL parsing and the configured ``databases`` mapping.

A leaf module: it imports nothing from `orm` but the exceptions. ``configure()``
itself lives in ``orm.db.connections`` because reconfiguring must close the
connections that are open; this module only turns URLs into settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from orm.exceptions import ImproperlyConfigured

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

    def __repr__(self) -> str:
        # Never print a password in a traceback or a log line.
        return f"DatabaseSettings(vendor={self.vendor!r}, name={self.name!r}, host={self.host!r})"


def _convert(kind: str, key: str, raw: str, conv: Any) -> Any:
    try:
        return conv(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"Invalid value {raw!r} for {kind} option {key!r} in the database URL."
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


# PostgreSQL options that are orm's own, not libpq's: converted and validated
# here, at configure() time; the backend takes them out before calling libpq.
_POSTGRESQL_OPTIONS: dict[str, Callable[[str, str], Any]] = {
    "health_check_after": _seconds_or_off,
}


def parse_url(url: str) -> DatabaseSettings:
    """Parse a database URL (see API.md) into :class:`DatabaseSettings`.

    Raises ``ImproperlyConfigured`` naming the problem for an unknown scheme,
    a missing database name or an unknown option.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ImproperlyConfigured(
            f"Database URL {url!r} is not a URL; use 'sqlite:///path.db' or "
            "'postgresql://user@host:5432/dbname'."
        )
    scheme = url.split("://", 1)[0].lower()
    vendor = _SCHEMES.get(scheme)
    if vendor is None:
        raise ImproperlyConfigured(
            f"Unsupported database scheme {scheme!r} in {url!r}; "
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
            f"SQLite URL {url!r} needs three slashes: 'sqlite:///relative.db', "
            "'sqlite:////absolute/path.db' or 'sqlite:///:memory:'."
        )
    name = unquote(path[1:])
    if not name:
        raise ImproperlyConfigured(f"SQLite URL {url!r} names no database file.")
    options: dict[str, Any] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True):
        if key not in _SQLITE_OPTIONS:
            raise ImproperlyConfigured(
                f"Unknown SQLite option {key!r} in {url!r}; "
                f"choose from: {', '.join(sorted(_SQLITE_OPTIONS))}."
            )
        options[key] = _convert("SQLite", key, raw, _SQLITE_OPTIONS[key])
    return DatabaseSettings(vendor="sqlite", name=name, url=url, options=options)


def _parse_postgresql(url: str) -> DatabaseSettings:
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured(f"PostgreSQL URL {url!r} names no database.")
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
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"Invalid port in PostgreSQL URL {url!r}.") from None
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
    return {DEFAULT_DB_ALIAS: parse_url(url)}


def normalize_databases(
    url: str | None, databases: dict[str, str] | None
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
    return {alias: parse_url(value) for alias, value in databases.items()}
