"""Helpers of the autodetector tests: states from model declarations, and replay checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orm
from orm.migrations import Migration, ProjectState
from orm.migrations.autodetector import MigrationAutodetector
from orm.migrations.questioner import MigrationQuestioner
from orm.models.registry import Apps
from tests.migrations.helpers import meta

ModelDef = tuple[str, str, dict[str, Any], dict[str, Any]]


def model(label: str, fields: Mapping[str, Any] | None = None, **options: Any) -> ModelDef:
    """``model("shop.Book", {"title": orm.CharField(...)}, ordering=[...])``."""
    app_label, name = label.split(".")
    return app_label, name, dict(fields or {}), options


def state(*models: ModelDef) -> ProjectState:
    """The state of the current models declared by ``models`` (in a registry of their own)."""
    apps = Apps()
    for app_label, name, fields, options in models:
        body: dict[str, Any] = {name: field.clone() for name, field in fields.items()}
        options = {key: [item.clone() for item in value] if key in ("indexes", "constraints") else value
                   for key, value in options.items()}
        body.update({"__module__": __name__, "Meta": meta(app_label, apps, **options)})
        type(name, (orm.Model,), body)
    return ProjectState.from_apps(apps)


def ordered(changes: dict[str, list[Migration]]) -> list[Migration]:
    """Every migration of ``changes``, each after the ones it depends on."""
    pending = [m for app in sorted(changes) for m in changes[app]]
    names = {(m.app_label, m.name) for m in pending}
    done: set[tuple[str, str]] = set()
    result: list[Migration] = []
    while pending:
        for migration in pending:
            if all(dep in done or dep not in names for dep in migration.dependencies):
                result.append(migration)
                done.add((migration.app_label, migration.name))
                pending.remove(migration)
                break
        else:
            raise AssertionError(f"circular dependencies between {pending!r}")
    return result


def detect(before: ProjectState, after: ProjectState, questioner: MigrationQuestioner | None = None,
           **kwargs: Any) -> dict[str, list[Migration]]:
    """``changes()`` from ``before`` to ``after``, checked: replaying them on ``before``
    gives ``after``, and detecting again from there finds nothing."""
    changes = MigrationAutodetector(before, after, questioner).changes(**kwargs)
    replayed = before
    for migration in ordered(changes):
        replayed = migration.mutate_state(replayed)
    assert replayed == after, "the generated operations do not lead to the models' state"
    assert MigrationAutodetector(replayed, after).changes() == {}
    return changes


def ops(changes: dict[str, list[Migration]], app_label: str, index: int = 0) -> list[str]:
    """Class names of the operations of the ``index``-th new migration of ``app_label``."""
    return [type(op).__name__ for op in changes[app_label][index].operations]


def only(changes: dict[str, list[Migration]], app_label: str) -> list[Any]:
    """The operations of the single new migration of ``app_label`` (asserting there is one)."""
    assert list(changes) == [app_label], changes
    assert len(changes[app_label]) == 1, changes[app_label]
    return changes[app_label][0].operations


def char(max_length: int = 50, **kwargs: Any) -> Any:
    """A CharField."""
    return orm.CharField(max_length=max_length, **kwargs)


def fk(to: str, **kwargs: Any) -> Any:
    """A ForeignKey with CASCADE."""
    return orm.ForeignKey(to, on_delete=orm.CASCADE, **kwargs)
