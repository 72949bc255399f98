"""PostgreSQL backend on psycopg 3, with one ``psycopg_pool.ConnectionPool`` per alias.

Importing any module of this package without the driver raises
``ImproperlyConfigured`` naming the extra to install, instead of a bare
``ImportError`` from deep inside the connection handler.
"""

from __future__ import annotations

from orm.exceptions import ImproperlyConfigured

try:
    import psycopg  # noqa: F401
    import psycopg_pool  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by a test that hides psycopg
    raise ImproperlyConfigured(
        "The PostgreSQL backend needs psycopg 3 and psycopg_pool, which are not installed "
        f'({error}). Install them with: pip install "orm-async[postgres]"'
    ) from error
