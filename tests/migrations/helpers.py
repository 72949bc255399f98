"""Shared pieces of the migration tests: an ``id`` field, replaying operations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orm
from orm.migrations import Operation, ProjectState


def auto_id() -> tuple[str, Any]:
    """The implicit primary key, as a generated ``CreateModel`` lists it."""
    return "id", orm.BigAutoField(auto_created=True, primary_key=True, verbose_name="ID")


def replay(app_label: str, operations: Iterable[Operation], state: ProjectState | None = None,
           render: bool = False) -> ProjectState:
    """A state built by running each operation's ``state_forwards`` (rendering after each one)."""
    state = state if state is not None else ProjectState()
    for operation in operations:
        operation.state_forwards(app_label, state)
        if render:
            state.apps  # noqa: B018 - rendering is the point
    return state


def meta(app_label: str, apps: Any, **options: Any) -> type:
    """A ``Meta`` class putting a model in registry ``apps``."""
    return type("Meta", (), {"app_label": app_label, "apps": apps, **options})
