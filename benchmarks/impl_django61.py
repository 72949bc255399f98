"""The newest Django (6.1) with its PostgreSQL connection pool; plain connections on SQLite.

The same idiomatic code as ``impl_django`` (Django 5.2): only the settings
differ. Django 6.1 needs Python >= 3.12 and cannot share a process with 5.2,
so it runs in the suite's peer virtualenv (``benchmarks/peers.py``), in a
process of its own together with the floor. On PostgreSQL the default
alias uses ``OPTIONS={"pool": True}`` (psycopg_pool's ``ConnectionPool``
with Django's defaults); the async methods are still ``sync_to_async``
over the sync ORM, on asgiref's thread-sensitive thread like 5.2's.
"""

from __future__ import annotations

from typing import Any

from benchmarks.impl_django import DjangoImpl, _database_settings


class Django61Impl(DjangoImpl):
    name = "django61"

    @classmethod
    def unavailable(cls, backend: str) -> str | None:
        try:
            import django
        except ImportError:
            return "Django is not installed (the peer virtualenv builds it)"
        if django.VERSION < (6, 1):
            return f"needs Django >= 6.1, this process has {django.get_version()}"
        if backend == "postgresql":
            try:
                import psycopg_pool  # noqa: F401
            except ImportError:
                return "psycopg_pool is not installed (Django's pool needs psycopg[pool])"
        return None

    @property
    def label(self) -> str:
        import django

        pool = " (pool)" if self.backend == "postgresql" else ""
        return f"Django {django.get_version()}{pool}"

    def database(self) -> dict[str, Any]:
        db = _database_settings(self.target)
        if self.backend == "postgresql":
            db["OPTIONS"] = {**db["OPTIONS"], "pool": True}
        return db
