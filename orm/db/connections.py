"""``configure()`` and the connection handler: one wrapper per alias per thread.

Wrappers live in a ``threading.local`` because a connection belongs to the
thread that opened it: the sync thread of each async context (asgiref's
thread-sensitive executor) gets its own wrappers, and so does every plain
thread. The handler also keeps every wrapper it ever made, so that
reconfiguring or shutting down can close connections of every thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar, cast

from orm.conf import (
    DEFAULT_DB_ALIAS,
    ENV_DATABASE_URL,
    DatabaseSettings,
    normalize_databases,
    settings_from_environment,
)
from orm.db.routers import ConnectionRouter, router
from orm.exceptions import ImproperlyConfigured
from orm.utils import timezone
from orm.utils.caches import clear_all
from orm.utils.text import short_repr

if TYPE_CHECKING:
    from orm.db.wrapper import BaseDatabaseWrapper

__all__ = ["ConnectionHandler", "configure", "connection", "connections", "DEFAULT_DB_ALIAS"]

_T = TypeVar("_T")
_BACKENDS = {"sqlite": "orm.backends.sqlite.base", "postgresql": "orm.backends.postgresql.base"}


class ConnectionHandler:
    """``orm.connections``: ``connections[alias]`` is this thread's wrapper for ``alias``."""

    def __init__(self) -> None:
        self._settings: dict[str, DatabaseSettings] | None = None
        self._local = threading.local()
        # Guards _settings/_generation/_all against configure() racing a first use.
        self._lock = threading.Lock()
        self._generation = 0
        self._all: dict[int, BaseDatabaseWrapper] = {}
        self._pools: dict[str, Any] = {}
        #: alias -> the wrapper every thread uses while a test pins it (see pin()).
        self._pinned: dict[str, BaseDatabaseWrapper] = {}
        #: replica alias -> primary alias (empty when no replica is configured).
        self.replicas: dict[str, str] = {}
        #: alias -> the message its queries fail with while a test forbids it (see forbid()).
        self._forbidden: dict[str, str] = {}

    # -- settings ----------------------------------------------------------
    def configure(self, url: str | None = None, databases: Mapping[str, Any] | None = None) -> None:
        """Set the databases, closing every connection opened under the old settings."""
        settings = normalize_databases(url, databases)
        self._refuse_while_pinned("configure()")
        self.close_all()
        with self._lock:
            self._settings = settings
            self.replicas = {a: s.replica_of for a, s in settings.items() if s.replica_of}
            self._generation += 1
        clear_all()  # compiled SQL and plans of the old settings

    @property
    def settings(self) -> dict[str, DatabaseSettings]:
        """Settings per alias; read from ``ORM_DATABASE_URL`` when never configured."""
        if self._settings is None:
            with self._lock:
                if self._settings is None:
                    env = settings_from_environment()
                    if env is None:
                        raise ImproperlyConfigured(
                            "No database is configured. Call "
                            "orm.configure('sqlite:///app.sqlite3') (or "
                            "orm.configure(databases={'default': URL})) before the first "
                            f"query, or set the {ENV_DATABASE_URL} environment variable."
                        )
                    self._settings = env
        return self._settings

    def read_alias(self, alias: str) -> str:
        """``alias`` for a read, or its primary while the primary is inside ``atomic()``.

        A replica lags behind the primary and cannot see the primary's open
        transaction: reads inside that transaction must go where it is.
        """
        primary = self.replicas.get(alias)
        if primary is not None and self[primary].in_atomic_block:
            return primary
        return alias

    def __iter__(self) -> Any:
        return iter(self.settings)

    def __contains__(self, alias: object) -> bool:
        return alias in self.settings

    # -- wrappers ----------------------------------------------------------
    def __getitem__(self, alias: str) -> BaseDatabaseWrapper:
        # One attribute test when nothing is pinned (every query passes here).
        pinned = self._pinned
        if pinned:
            wrapper = pinned.get(alias)
            if wrapper is not None:
                return wrapper
        local = self._local
        if getattr(local, "generation", None) == self._generation:
            wrappers: dict[str, BaseDatabaseWrapper] = local.wrappers
            wrapper = wrappers.get(alias)
            if wrapper is not None:
                return wrapper
        else:
            local.wrappers = {}
            local.generation = self._generation
        return self._create(alias)

    def _create(self, alias: str) -> BaseDatabaseWrapper:
        settings = self.settings
        if alias not in settings:
            raise ImproperlyConfigured(
                f"The database alias {short_repr(alias)} is not configured; "
                f"configured aliases: {', '.join(sorted(settings))}."
            )
        backend = self.load_backend(settings[alias].vendor)
        # The wrapper gets this handler for the pools it shares with other threads.
        wrapper: BaseDatabaseWrapper = backend.DatabaseWrapper(settings[alias], alias, handler=self)
        self._local.wrappers[alias] = wrapper
        with self._lock:
            # Forget closed wrappers of threads that have ended (no leak of
            # wrapper objects as threads come and go).
            alive = {thread.ident for thread in threading.enumerate()}
            for key, old in list(self._all.items()):
                if old.connection is None and old.thread_ident not in alive:
                    del self._all[key]
            self._all[id(wrapper)] = wrapper
            # Under the lock forbid() takes: a wrapper made while a test runs
            # is refused like the ones that already existed.
            wrapper.forbidden = self._forbidden.get(alias)
        return wrapper

    @staticmethod
    def load_backend(vendor: str) -> Any:
        """Import ``orm.backends.<vendor>.base`` (dynamically: backends sit above this layer)."""
        return import_module(_BACKENDS[vendor])

    @staticmethod
    def unconnected(vendor: str, alias: str = "unconnected") -> BaseDatabaseWrapper:
        """A ``vendor`` wrapper that compiles SQL but never connects (see
        ``BaseDatabaseWrapper.unconnected``); for SQL tests that need no server."""
        if vendor not in _BACKENDS:
            raise ImproperlyConfigured(
                f"Unknown database vendor {short_repr(vendor)}; "
                f"use one of {', '.join(sorted(_BACKENDS))}."
            )
        wrapper: BaseDatabaseWrapper = ConnectionHandler.load_backend(
            vendor
        ).DatabaseWrapper.unconnected(alias)
        return wrapper

    def get_pool(self, alias: str, factory: Callable[[], _T]) -> _T:
        """Return the shared pool for ``alias``, creating it with ``factory()`` once."""
        with self._lock:
            pool = self._pools.get(alias)
            if pool is None:
                pool = self._pools[alias] = factory()
            return cast(_T, pool)

    # -- pinning (the orm_db test fixture) ---------------------------------
    def _refuse_while_pinned(self, call: str) -> None:
        if self._pinned:
            raise RuntimeError(
                f"{call} cannot run while a test pins connections "
                f"({', '.join(sorted(self._pinned))}): it would close the connection that holds "
                "the test's transaction. Configure the databases before the test (the "
                "orm_database_urls fixture), or use orm_transactional_db for this test."
            )

    def pin(self, alias: str) -> BaseDatabaseWrapper:
        """Make every thread use the calling thread's wrapper for ``alias`` until :meth:`unpin`.

        For test isolation (``orm_db``): the test's transaction is open on
        that one connection, and the threads the test reaches (asgiref's
        sync thread, ``connection_scope()`` threads) must all run inside it.
        The wrapper serializes them with its ``pin_lock``.
        """
        if alias in self._pinned:
            raise RuntimeError(f"The database alias {alias!r} is already pinned.")
        wrapper = self[alias]
        wrapper.share_between_threads()
        self._pinned[alias] = wrapper
        return wrapper

    def unpin(self, alias: str) -> None:
        """Give each thread its own wrapper for ``alias`` again (see :meth:`pin`)."""
        wrapper = self._pinned.pop(alias, None)
        if wrapper is not None:
            wrapper.stop_sharing()

    def forbid(self, alias: str, message: str) -> None:
        """Refuse connections and statements on ``alias``, on every thread, until :meth:`allow`.

        For test isolation (the ``databases=`` of the ``orm_db`` marker): an
        alias the test did not ask for is outside its transaction, so a write
        there would outlive the test. Compiling SQL is still allowed; opening
        a connection, a cursor or a transaction raises
        ``DatabaseOperationForbidden`` with ``message``.
        """
        with self._lock:
            self._forbidden[alias] = message
            wrappers = [w for w in self._all.values() if w.alias == alias]
            for wrapper in wrappers:
                wrapper.forbidden = message

    def allow(self, alias: str) -> None:
        """Undo :meth:`forbid` for ``alias``."""
        with self._lock:
            self._forbidden.pop(alias, None)
            for wrapper in self._all.values():
                if wrapper.alias == alias:
                    wrapper.forbidden = None

    @property
    def pinned(self) -> dict[str, BaseDatabaseWrapper]:
        """The pinned wrappers by alias (a copy)."""
        return dict(self._pinned)

    def current(self) -> list[BaseDatabaseWrapper]:
        """The wrappers of the calling thread."""
        if getattr(self._local, "generation", None) != self._generation:
            return []
        return list(self._local.wrappers.values())

    def close_current(self) -> int:
        """Close the calling thread's connections; return how many were open.

        Scopes call this on their own thread at exit, which is the only
        thread allowed to touch those connections.
        """
        closed = 0
        pinned = list(self._pinned.values())
        kept: dict[str, BaseDatabaseWrapper] = {}
        for wrapper in self.current():
            if any(wrapper is p for p in pinned):
                # The test's transaction lives on it: the test's teardown ends it.
                kept[wrapper.alias] = wrapper
                continue
            if wrapper.connection is not None:
                closed += 1
            wrapper.close()
            with self._lock:
                self._all.pop(id(wrapper), None)
        self._local.wrappers = kept
        return closed

    def reset_current(self) -> tuple[int, int]:
        """End a scope on a reused thread: reset the calling thread's connections for the next.

        Each wrapper rolls back, forgets its transaction state and keeps its
        connection if it can be reset cheaply (SQLite), or closes it (a
        PostgreSQL one goes back to its pool, which resets it); see
        ``BaseDatabaseWrapper.reset_for_reuse``. Returns ``(kept, closed)``.
        A pinned (test) wrapper is left alone, as by :meth:`close_current`.
        Runs on the scope's own thread, the only one allowed to touch them.
        """
        kept = closed = 0
        pinned = list(self._pinned.values())
        failure: BaseException | None = None
        for wrapper in self.current():
            if any(wrapper is p for p in pinned):
                continue
            was_open = wrapper.connection is not None
            try:
                if wrapper.reset_for_reuse():
                    kept += 1
                    continue
            except BaseException as error:  # closed by reset_for_reuse; reset the rest first
                failure = failure or error
            closed += was_open
        if failure is not None:
            raise failure
        return kept, closed

    def close_all(self) -> None:
        """Close every connection of every thread and every pool.

        For shutdown, tests and reconfiguration only: it must not race a
        query running on another thread. Closing another thread's sqlite3
        connection is allowed because we open them with
        ``check_same_thread=False`` and enforce thread affinity ourselves.
        Refused while a test pins connections (see :meth:`configure`).
        """
        self._refuse_while_pinned("close_all()")
        with self._lock:
            wrappers = list(self._all.values())
            self._all.clear()
            pools = list(self._pools.values())
            self._pools.clear()
            self._generation += 1
        for wrapper in wrappers:
            wrapper.close()
        for pool in pools:
            pool.close()

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per alias: open connections (all threads) and pool statistics if pooled."""
        with self._lock:
            wrappers = list(self._all.values())
            pools = dict(self._pools)
        report: dict[str, dict[str, Any]] = {}
        for alias in self.settings:
            open_count = sum(1 for w in wrappers if w.alias == alias and w.connection is not None)
            entry: dict[str, Any] = {"open_connections": open_count}
            pool = pools.get(alias)
            if pool is not None:
                entry["pool"] = pool.get_stats()
            report[alias] = entry
        return report


connections = ConnectionHandler()


def configure(
    url: str | None = None,
    *,
    databases: Mapping[str, Any] | None = None,
    routers: Sequence[Any] | None = None,
    use_tz: bool = True,
) -> None:
    """Configure the databases: ``configure(URL)`` or ``configure(databases={alias: URL})``.

    An alias may be ``{"url": URL, "replica_of": "default"}``: a read-only replica.

    ``routers`` lists database routers (instances, classes or dotted paths; see
    ``orm.db.routers``); each call replaces them (none given: no routers).
    ``use_tz=False`` makes datetimes naive in and out (Django's ``USE_TZ =
    False``); the default keeps them aware. May be called again (tests do):
    every connection opened before is closed first.
    """
    if not isinstance(use_tz, bool):
        raise TypeError(f"configure(use_tz=...) takes True or False, not {short_repr(use_tz)}.")
    # Load routers first: a bad dotted path must fail before the old settings are dropped.
    new_router = ConnectionRouter()
    new_router.configure(routers)
    connections.configure(url, databases)
    router.routers = new_router.routers
    # Switched only once the URLs were accepted: a bad call changes nothing.
    timezone.set_use_tz(use_tz)


class _DefaultConnectionProxy:
    """``orm.connection``: the calling thread's wrapper for the default alias."""

    def __getattr__(self, item: str) -> Any:
        return getattr(connections[DEFAULT_DB_ALIAS], item)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(connections[DEFAULT_DB_ALIAS], name, value)

    def __eq__(self, other: object) -> bool:
        return connections[DEFAULT_DB_ALIAS] == other

    def __hash__(self) -> int:
        return hash(connections[DEFAULT_DB_ALIAS])

    def __repr__(self) -> str:
        return repr(connections[DEFAULT_DB_ALIAS])


connection: Any = _DefaultConnectionProxy()
