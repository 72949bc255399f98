"""The migration executor: plans and runs migrations forwards or backwards (Django's executor).

Each migration runs in one transaction of its own (DDL included, on both
backends) unless ``Migration.atomic = False``; its record in
``orm_migrations`` is written in that same transaction, so a migration is
either applied and recorded or neither.

Two ``migrate`` runs at once (a rolling deploy) must not both apply a
migration. On PostgreSQL the run holds a session advisory lock from before
it reads what is applied until it ends, so the second run waits and then
finds nothing left to do. On SQLite every migration's transaction starts
with ``BEGIN IMMEDIATE`` (the database's write lock) and first checks, under
that lock, that no other run has recorded the migration meanwhile; if one
has, it is skipped. A run that finds the lock taken for longer than the busy
timeout waits and tries again rather than failing.

On PostgreSQL an atomic migration's transaction starts with ``SET LOCAL
lock_timeout`` (5 s by default; local to the transaction, so nothing leaks
to the session, which matters behind a transaction-pooling proxy): a DDL
statement that cannot get its lock gives up instead of queueing every
later query on the table behind it. The whole migration was rolled back
then, so it is tried again, up to ``lock_retries`` times with a doubling
pause, before failing with a message that says so.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

from orm.abc import Connection
from orm.db import transaction
from orm.exceptions import NotSupportedError, OperationalError
from orm.migrations.graph import Key, NodeNotFoundError
from orm.migrations.loader import MigrationLoader
from orm.migrations.migration import Migration
from orm.migrations.operations import AddField, CreateModel, Operation
from orm.migrations.recorder import MigrationRecorder
from orm.migrations.state import ProjectState
from orm.utils.asyncio import to_async

T = TypeVar("T")

__all__ = [
    "InvalidMigrationPlan", "MigrationExecutor", "MigrationFailedError", "Plan", "amigrate", "migrate",
    "resolve_target",
]

logger = logging.getLogger("orm.migrations")

#: ``[(migration, backwards), ...]`` in the order they run.
Plan = list[tuple[Migration, bool]]
#: ``progress_callback(action, migration, fake)``; actions: ``apply_start``,
#: ``apply_success``, ``apply_skipped``, ``unapply_start``, ``unapply_success``,
#: ``unapply_skipped``, ``lock_retry`` (a lock wait timed out, the migration
#: is tried again) and ``lock_wait`` (migration ``None``).
ProgressCallback = Callable[[str, "Migration | None", bool], None]

#: ``lock_timeout`` of an atomic migration's transaction on PostgreSQL (``None`` or ``"0"``: none).
DEFAULT_LOCK_TIMEOUT = "5s"
#: How many more times a migration whose lock wait timed out is tried.
DEFAULT_LOCK_RETRIES = 3
# PostgreSQL's SQLSTATE for "canceling statement due to lock timeout".
_LOCK_NOT_AVAILABLE = "55P03"
# A duration PostgreSQL's lock_timeout accepts: milliseconds or a number with a unit.
_DURATION = re.compile(r"^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$")

# Key of the session advisory lock a PostgreSQL migrate holds (any constant,
# the same in every process; b"orm_migr" as an integer).
MIGRATE_LOCK_KEY = 0x6F726D5F6D696772


class InvalidMigrationPlan(ValueError):
    """A plan that would both apply and unapply migrations (Django refuses it too)."""


class MigrationFailedError(Exception):
    """A migration raised; the message says what ran and in what state the database is.

    ``migration`` failed at ``failed`` (an operation, or ``None`` when it
    failed outside one); ``ran`` lists the operations that completed before.
    The original exception is ``__cause__``.
    """

    def __init__(self, message: str, migration: Migration, ran: list[Operation], failed: Operation | None) -> None:
        super().__init__(message)
        self.migration = migration
        self.ran = ran
        self.failed = failed


class MigrationExecutor:
    """Plans and runs migrations on one connection (``connections[alias]`` of this thread)."""

    def __init__(
        self, connection: Connection, progress_callback: ProgressCallback | None = None,
        apps: Sequence[str] | None = None, lock_timeout: str | None = DEFAULT_LOCK_TIMEOUT,
        lock_retries: int = DEFAULT_LOCK_RETRIES, retry_delay: float = 1.0,
    ) -> None:
        if lock_timeout is not None and not _DURATION.match(str(lock_timeout).strip()):
            raise ValueError(
                f"lock_timeout {lock_timeout!r} is not a duration PostgreSQL understands: give milliseconds "
                "or a number with a unit, e.g. '500ms', '5s', '1min' ('0' or None: no timeout)."
            )
        if not isinstance(lock_retries, int) or lock_retries < 0:
            raise ValueError(f"lock_retries must be an integer >= 0, not {lock_retries!r}.")
        self.connection = connection
        self.loader = MigrationLoader(connection, apps=apps)
        self.recorder = MigrationRecorder(connection)
        self.progress_callback = progress_callback
        self.lock_timeout = None if lock_timeout is None or str(lock_timeout).strip() == "0" else str(lock_timeout)
        self.lock_retries = lock_retries
        self.retry_delay = retry_delay
        self._lock_depth = 0

    # -- plans -----------------------------------------------------------------------
    def migration_plan(self, targets: Sequence[tuple[str, str | None]], clean_start: bool = False) -> Plan:
        """The migrations to run, in order, to reach ``targets``.

        A target ``(app, None)`` unapplies every migration of ``app``; a target
        that is applied unapplies what comes after it in its app (but not what
        it depends on); any other target is applied with its dependencies.
        """
        plan: Plan = []
        graph = self.loader.graph
        applied: dict[Key, Any] = {} if clean_start else dict(self.loader.applied_migrations)
        for app, name in targets:
            if name is None:
                for root in graph.root_nodes(app):
                    self._plan_backwards(plan, applied, graph.backwards_plan(root))
            elif (app, name) in applied:
                # Roll back what follows the target in its own app only: going
                # back to the target itself could unapply other apps' migrations.
                children = sorted(n.key for n in graph.node_map[app, name].children if n.key[0] == app)
                for child in children:
                    self._plan_backwards(plan, applied, graph.backwards_plan(child))
            else:
                for key in graph.forwards_plan((app, name)):
                    if key not in applied:
                        migration = graph.nodes[key]
                        assert migration is not None
                        plan.append((migration, False))
                        applied[key] = migration
        return plan

    def _plan_backwards(self, plan: Plan, applied: dict[Key, Any], keys: list[Key]) -> None:
        for key in keys:
            if key in applied:
                migration = self.loader.graph.nodes[key]
                assert migration is not None
                plan.append((migration, True))
                applied.pop(key)

    def leaf_targets(self) -> list[tuple[str, str | None]]:
        """Every app's latest migration: the targets of a plain ``migrate``."""
        return list(self.loader.graph.leaf_nodes())

    # -- running -----------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the migrate lock of the database (PostgreSQL; see the module docstring).

        Re-entrant within this executor. On SQLite it holds nothing: each
        migration takes the database's write lock on its own.
        """
        if self.connection.vendor != "postgresql" or self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        if not self.connection.features.has_persistent_session:
            # The session lock would be taken on one server session and the
            # unlock sent to another, leaving it held for good.
            raise NotSupportedError(
                "orm migrate holds a session advisory lock, which cannot work through "
                "PgBouncer in transaction pooling mode (pgbouncer=transaction in the database "
                "URL). Run migrations with a URL that points at PostgreSQL itself, or at a "
                "PgBouncer pool in session mode."
            )
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
            if not cursor.fetchone()[0]:
                self._progress("lock_wait", None)
                # Blocks until the other migrate ends (its session lock goes
                # with it, even if that process dies).
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            self._unlock()

    def _unlock(self) -> None:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])
        except Exception:
            # The connection is broken (or mid-transaction after an error):
            # closing it ends the session, which releases the lock, and must
            # not hide the error that brought us here.
            logger.warning("Could not release the migrate lock; closing the connection", exc_info=True)
            self.connection.close()

    def migrate(
        self, targets: Sequence[tuple[str, str | None]] | None = None, fake: bool = False,
        fake_initial: bool = False,
    ) -> ProjectState:
        """Migrate the database to ``targets`` (default: every app's latest); return the state.

        Under the migrate lock, what is applied is read again and the plan
        made from it, so a run that waited for another one only does what is
        left. Raises :class:`MigrationFailedError` when a migration fails.
        """
        with self.lock():
            self.loader.build_graph()
            targets = self.leaf_targets() if targets is None else targets
            plan = self.migration_plan(targets)
            full_plan = self.migration_plan(self.loader.graph.leaf_nodes(), clean_start=True)
            forwards = all(not backwards for _, backwards in plan)
            backwards = all(backwards for _, backwards in plan)
            if not plan:
                return self._applied_state(full_plan)
            if forwards == backwards:
                raise InvalidMigrationPlan(
                    "This plan both applies and unapplies migrations; migrate each app on its own: "
                    + ", ".join(f"{'unapply' if back else 'apply'} {m}" for m, back in plan)
                )
            # The table must exist to record what is applied, but an empty plan
            # (or --plan, --check) must not create it.
            self._retry_while_locked(self.recorder.ensure_schema)
            if forwards:
                state = self._migrate_all_forwards(plan, full_plan, fake, fake_initial)
            else:
                state = self._migrate_all_backwards(plan, full_plan, fake)
            self.check_replacements()
            return state

    def _applied_state(self, full_plan: Plan) -> ProjectState:
        state = ProjectState()
        applied = self.loader.applied_migrations
        for migration, _ in full_plan:
            if (migration.app_label, migration.name) in applied:
                migration.mutate_state(state, preserve=False)
        return state

    def _migrate_all_forwards(self, plan: Plan, full_plan: Plan, fake: bool, fake_initial: bool) -> ProjectState:
        to_run = {migration for migration, _ in plan}
        state = self._applied_state(full_plan)
        for migration, _ in full_plan:
            if not to_run:
                break
            if migration in to_run:
                state = self.apply_migration(state, migration, fake=fake, fake_initial=fake_initial)
                to_run.remove(migration)
        return state

    def _migrate_all_backwards(self, plan: Plan, full_plan: Plan, fake: bool) -> ProjectState:
        to_run = {migration for migration, _ in plan}
        graph_nodes = self.loader.graph.nodes
        applied = {graph_nodes[key] for key in self.loader.applied_migrations if key in graph_nodes}
        # The state before each migration to unapply, built from the applied ones.
        states: dict[Migration, ProjectState] = {}
        state = ProjectState()
        for migration, _ in full_plan:
            if not to_run:
                break
            if migration in to_run:
                states[migration] = state
                state = migration.mutate_state(state, preserve=True)
                to_run.remove(migration)
            elif migration in applied:
                migration.mutate_state(state, preserve=False)
        for migration, _ in plan:
            self.unapply_migration(states[migration], migration, fake=fake)
            applied.discard(migration)
        # The state after: the one before the last unapplied migration, plus
        # every migration still applied after it.
        last = plan[-1][0]
        state = states[last]
        index = [m for m, _ in full_plan].index(last)
        for migration, _ in full_plan[index:]:
            if migration in applied:
                migration.mutate_state(state, preserve=False)
        return state

    # -- one migration -----------------------------------------------------------------
    def _keys(self, migration: Migration) -> list[Key]:
        """What the recorder stores for ``migration``: a squash records what it replaces."""
        key = (migration.app_label, migration.name)
        return list(self.loader.replaced.get(key, [key]))

    def _is_recorded(self, migration: Migration) -> bool:
        return all(self.recorder.is_applied(*key) for key in self._keys(migration))

    def apply_migration(
        self, state: ProjectState, migration: Migration, fake: bool = False, fake_initial: bool = False,
    ) -> ProjectState:
        """Run ``migration`` forwards from ``state`` and record it; return the state after it."""
        self._progress("apply_start", migration, fake)
        if not fake and fake_initial:
            soft_applied, after = self.detect_soft_applied(state, migration)
            if soft_applied:
                with transaction.atomic(self.connection.alias):
                    self._record(migration, applied=True)
                self._progress("apply_success", migration, True)
                return after
        if fake:
            with transaction.atomic(self.connection.alias):
                skipped = self._is_recorded(migration)
                if not skipped:
                    self._record(migration, applied=True)
            self._progress("apply_skipped" if skipped else "apply_success", migration, True)
            return migration.mutate_state(state, preserve=False)
        skipped, state = self._run(migration, state, backwards=False)
        if skipped:
            # Another run applied it: move the state along without running it.
            migration.mutate_state(state, preserve=False)
        self._progress("apply_skipped" if skipped else "apply_success", migration, False)
        return state

    def unapply_migration(self, state: ProjectState, migration: Migration, fake: bool = False) -> ProjectState:
        """Run ``migration`` backwards (``state`` is the state before it) and forget its record."""
        self._progress("unapply_start", migration, fake)
        if fake:
            with transaction.atomic(self.connection.alias):
                skipped = not any(self.recorder.is_applied(*key) for key in self._keys(migration))
                if not skipped:
                    self._record(migration, applied=False)
        else:
            skipped, state = self._run(migration, state, backwards=True)
        self._progress("unapply_skipped" if skipped else "unapply_success", migration, fake)
        return state

    def _record(self, migration: Migration, applied: bool) -> None:
        for key in self._keys(migration):
            if applied:
                self.recorder.record_applied(*key)
            else:
                self.recorder.record_unapplied(*key)
        if not applied and migration.replaces:
            # check_replacements() recorded the squash itself once all it
            # replaces were applied; unapplying forgets it too (as Django).
            self.recorder.record_unapplied(migration.app_label, migration.name)

    def _run(self, migration: Migration, state: ProjectState, backwards: bool) -> tuple[bool, ProjectState]:
        """Run one migration, again while its lock waits time out; (skipped, the state it moved).

        Only an atomic migration on PostgreSQL with a ``lock_timeout`` is
        tried again: its failure rolled everything back, so each try starts
        from the same database and (a copy of) the same state.
        """
        retry = (self.lock_timeout is not None and self.lock_retries > 0 and migration.atomic
                 and self.connection.vendor == "postgresql")
        pristine = state.clone() if retry else state
        tries = 0
        while True:
            try:
                return self._run_once(migration, state, backwards), state
            except MigrationFailedError as failure:
                if not retry or getattr(failure.__cause__, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                    raise
                tries += 1
                if tries > self.lock_retries:
                    raise self._lock_failure(failure, tries) from failure.__cause__
            self._progress("lock_retry", migration)
            # Doubling pauses: a long transaction holding the table gets time to end.
            time.sleep(self.retry_delay * 2 ** (tries - 1))
            state = pristine.clone()

    def _lock_failure(self, failure: MigrationFailedError, tries: int) -> MigrationFailedError:
        """The failure of a migration whose lock waits timed out on every try."""
        message = (
            f"{failure}\nEvery one of {tries} tries waited longer than lock_timeout ({self.lock_timeout}) for a "
            "table lock another transaction holds (see pg_stat_activity and pg_locks). Migrate again when that "
            "transaction has ended, or allow a longer wait: orm migrate --lock-timeout 30s."
        )
        return MigrationFailedError(message, failure.migration, failure.ran, failure.failed)

    def _set_lock_timeout(self, migration: Migration) -> None:
        # set_config(..., true) is SET LOCAL: it ends with the transaction, so
        # the pooled session (or a transaction-pooling proxy's) keeps its own.
        if self.lock_timeout is not None and migration.atomic and self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [self.lock_timeout])

    def _run_once(self, migration: Migration, state: ProjectState, backwards: bool) -> bool:
        """Run one migration in its schema editor; True when another run already did it."""
        ran: list[Operation] = []
        original = migration._run

        def tracked(operation: Operation, *args: Any) -> None:
            original(operation, *args)
            ran.append(operation)

        # Count completed operations, so a failure can say exactly which ran.
        setattr(migration, "_run", tracked)  # noqa: B010 - shadows the method on this instance only
        recorded = False
        try:
            with ExitStack() as stack:
                editor = self._enter_schema_editor(stack, migration)
                self._set_lock_timeout(migration)
                # Under the transaction's lock (BEGIN IMMEDIATE on SQLite): has
                # another migrate done it since the plan was made?
                done = self._is_recorded(migration)
                if done != backwards:
                    return True
                if backwards:
                    migration.unapply(state, editor)
                else:
                    migration.apply(state, editor)
                if migration.atomic and not editor.deferred_sql:
                    self._record(migration, applied=not backwards)
                    recorded = True
            if not recorded:
                self._record(migration, applied=not backwards)
            return False
        except Exception as error:
            raise self._failure(migration, ran, backwards, error) from error
        finally:
            delattr(migration, "_run")

    def _enter_schema_editor(self, stack: ExitStack, migration: Migration) -> Any:
        """Enter the migration's schema editor; on SQLite, wait while another run holds the lock."""
        return self._retry_while_locked(
            lambda: stack.enter_context(self.connection.schema_editor(atomic=migration.atomic))
        )

    def _retry_while_locked(self, begin: Callable[[], T]) -> T:
        """``begin()`` (which opens a write transaction), again while SQLite says it is locked.

        SQLite's ``BEGIN IMMEDIATE`` gives up after the busy timeout ("database
        is locked") while another migrate runs a long migration. Nothing of
        this run's work has happened then, so it waits and tries again, as a
        PostgreSQL run waits on the advisory lock, instead of failing the
        deploy. That holds for creating ``orm_migrations`` too: a run that saw
        no table yet must not fail because another run, which made the table
        meanwhile, now holds the lock through its first migration.
        """
        waited = False
        while True:
            try:
                return begin()
            except OperationalError as error:
                if self.connection.vendor != "sqlite" or "database is locked" not in str(error):
                    raise
                if self.connection.in_atomic_block:
                    raise  # inside the caller's transaction: waiting cannot help
            if not waited:
                self._progress("lock_wait", None)
                waited = True
            # The editor switched foreign-key checks off before BEGIN failed, and
            # its exit did not run: switch them back before trying again.
            self._restore_foreign_keys()

    def _restore_foreign_keys(self) -> None:
        if str(self.connection.settings.options.get("foreign_keys", "on")).lower() in ("on", "1", "true"):
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA foreign_keys = ON", [])

    @staticmethod
    def _failure(migration: Migration, ran: list[Operation], backwards: bool, error: Exception) -> MigrationFailedError:
        operations = list(migration.operations)
        if backwards:
            operations.reverse()
        failed = operations[len(ran)] if len(ran) < len(operations) else None
        verb = "Unapplying" if backwards else "Applying"
        where = (
            f"at operation {len(ran) + 1} of {len(operations)} ({failed.describe()})" if failed is not None
            else "after its operations ran"
        )
        # The driver's text may span lines (PostgreSQL's LINE 1: ... ^): what it
        # means for the database goes on a line of its own after it.
        message = f"{verb} {migration} failed {where}: {type(error).__name__}: {str(error).rstrip()}\n"
        if migration.atomic:
            message += (
                f"It ran in one transaction, which was rolled back: the database is as it was "
                f"before, and {migration} is {'still applied' if backwards else 'not applied'}."
            )
        else:
            done = "; ".join(f"{i}. {op.describe()}" for i, op in enumerate(ran, 1)) or "none"
            message += (
                f"{migration} has atomic = False, so what ran stays: operations completed: {done}. "
                "The failed operation itself was rolled back only if it runs in a transaction of its "
                f"own. {migration} is not recorded as {'unapplied' if backwards else 'applied'}; "
                "fix the database by hand, then migrate again (or use --fake)."
            )
        return MigrationFailedError(message, migration, ran, failed)

    def check_replacements(self) -> None:
        """Record a squashed migration as applied once everything it replaces is."""
        applied = self.recorder.applied_migrations()
        for key, replaced in self.loader.replaced.items():
            if key not in applied and all(m in applied for m in replaced):
                self.recorder.record_applied(*key)

    def detect_soft_applied(self, state: ProjectState, migration: Migration) -> tuple[bool, ProjectState]:
        """Whether an initial migration's tables (and added columns) already exist (``--fake-initial``).

        Returns ``(found, state after the migration)``; ``found`` is False for a
        migration that is not initial or when any table or column is missing.
        """
        if migration.initial is None:
            # Only the first migration of an app can be initial by default.
            if any(app == migration.app_label for app, _ in migration.dependencies):
                return False, state
        elif not migration.initial:
            return False, state
        after = migration.mutate_state(state, preserve=True)
        apps = after.apps
        introspection = self.connection.introspection
        tables = set(introspection.table_names())
        found = False
        for operation in migration.operations:
            if isinstance(operation, CreateModel):
                model = apps.get_model(migration.app_label, operation.name)
                if model._meta.proxy:
                    continue  # no table of its own
                if model._meta.db_table not in tables:
                    return False, state
                found = True
            elif isinstance(operation, AddField):
                model = apps.get_model(migration.app_label, operation.model_name)
                field = model._meta.get_field(operation.name)
                if field.many_to_many:
                    through = field.remote_field.through._meta.db_table
                    if through not in tables:
                        return False, state
                else:
                    columns = {c.name for c in introspection.get_table_description(model._meta.db_table)}
                    if field.column not in columns:
                        return False, state
                found = True
        return found, after

    def _progress(self, action: str, migration: Migration | None, fake: bool = False) -> None:
        if self.progress_callback is not None:
            self.progress_callback(action, migration, fake)


def resolve_target(loader: MigrationLoader, app_label: str, name: str | None) -> tuple[str, str | None]:
    """``(app_label, migration name)`` for ``migrate app [name|zero]``; names may be prefixes.

    Raises ``LookupError`` (with the candidates) for an unknown app, an app
    without migrations, or an unknown or ambiguous name.
    """
    if app_label not in loader.app_labels:
        raise NodeNotFoundError(
            f"No app with label {app_label!r}; the apps are: {', '.join(loader.app_labels) or 'none'} "
            "(set them in [tool.orm] apps).", (app_label, name or ""),
        )
    if app_label not in loader.migrated_apps:
        raise NodeNotFoundError(f"App {app_label!r} does not have migrations.", (app_label, name or ""))
    if name is None:
        return app_label, loader.graph.leaf_nodes(app_label)[-1][1]
    if name == "zero":
        return app_label, None
    migration = loader.get_migration_by_prefix(app_label, name)
    if (app_label, migration.name) not in loader.graph.nodes:
        raise NodeNotFoundError(
            f"Migration {app_label}.{migration.name} is replaced by a squashed migration here; "
            "target the squashed migration instead.", (app_label, migration.name),
        )
    return app_label, migration.name


# What orm.migrate() logs for each progress action.
_LOG_MESSAGES = {
    "apply_success": "Applied %s%s",
    "apply_skipped": "Skipped %s%s: another migrate applied it",
    "unapply_success": "Unapplied %s%s",
    "unapply_skipped": "Skipped %s%s: another migrate unapplied it",
    "lock_wait": "Waiting for another migrate of this database to finish%s%s",  # no migration
    "lock_retry": "A lock wait of %s timed out; trying again%s",
}


def migrate(
    app_label: str | None = None, target: str | None = None, *, using: str = "default",
    fake: bool = False, fake_initial: bool = False, apps: Sequence[str] | None = None,
    lock_timeout: str | None = DEFAULT_LOCK_TIMEOUT, lock_retries: int = DEFAULT_LOCK_RETRIES,
) -> list[str]:
    """Apply (or unapply) migrations from code, as ``orm migrate [app [target]]`` does.

    ``target`` is a migration name, an unambiguous prefix of one, or
    ``"zero"``; it needs ``app_label``. ``apps`` lists the app packages
    (default: ``[tool.orm] apps`` of the nearest ``pyproject.toml``). The
    database is ``connections[using]``; when ``orm`` is not configured at all
    the project's settings configure it. Progress is logged on the
    ``orm.migrations`` logger at INFO. Returns ``"app.name"`` of each
    migration run, in order. Raises ``LookupError`` for an unknown app or
    target, ``ConflictingMigrationsError`` for two leaves, and
    ``MigrationFailedError`` when a migration fails. ``lock_timeout`` and
    ``lock_retries``: see :class:`MigrationExecutor` (PostgreSQL only).
    """
    from orm.conf import load_project_settings
    from orm.db.connections import configure, connections
    from orm.exceptions import ImproperlyConfigured

    if target is not None and app_label is None:
        raise ValueError("migrate(target=...) needs app_label: the app the target migration belongs to.")
    try:
        connections.settings  # noqa: B018 - raises when nothing is configured
    except ImproperlyConfigured:
        project = load_project_settings()
        configure(databases=project.databases, routers=project.routers, use_tz=project.use_tz)
    done: list[str] = []

    def progress(action: str, migration: Migration | None, fake: bool) -> None:
        if action.endswith("_success"):
            done.append(str(migration))
        if action in _LOG_MESSAGES:
            logger.info(_LOG_MESSAGES[action], migration if migration is not None else "", " (fake)" if fake else "")

    executor = MigrationExecutor(connections[using], progress, apps=apps, lock_timeout=lock_timeout,
                                 lock_retries=lock_retries)
    executor.loader.check_ready()
    targets = None
    if app_label is not None:
        targets = [resolve_target(executor.loader, app_label, target)]
    executor.migrate(targets, fake=fake, fake_initial=fake_initial)
    return done


async def amigrate(
    app_label: str | None = None, target: str | None = None, *, using: str = "default",
    fake: bool = False, fake_initial: bool = False, apps: Sequence[str] | None = None,
    lock_timeout: str | None = DEFAULT_LOCK_TIMEOUT, lock_retries: int = DEFAULT_LOCK_RETRIES,
) -> list[str]:
    """Async twin of :func:`migrate`: runs it on the context's sync thread (safe in an ASGI lifespan)."""
    return await to_async(migrate)(
        app_label, target, using=using, fake=fake, fake_initial=fake_initial, apps=apps,
        lock_timeout=lock_timeout, lock_retries=lock_retries,
    )
