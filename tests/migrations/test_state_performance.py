"""Rendering cost of migration states on a large project (issue 13).

A generated project of 300 models with 600 foreign keys goes from empty
through 300 ``CreateModel`` (one foreign key each) and 300 ``AddField`` (one
more foreign key each), and back, through ``Migration.apply`` / ``unapply``
with an editor that only records what it is given: the historical models of
both states around every operation are rendered, as the executor needs them.
This measures the state side; the database side is the editor's.

The bound is generous (a loaded machine); the figure is printed with ``-s``.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

import orm
from orm import migrations
from orm.migrations import ProjectState
from tests.migrations.helpers import auto_id

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional

APP = "i13_perf"
MODELS = 300


class RecordingEditor:
    """A schema editor that runs nothing and checks it got coherent historical models."""

    # Operations read the alias to ask allow_migrate (no routers configured here).
    connection: Any = type("Connection", (), {"alias": "default"})()
    collect_sql = False
    atomic_migration = True

    def __init__(self) -> None:
        self.collected_sql: list[str] = []
        self.calls = 0

    def _model(self, model: Any) -> None:
        self.calls += 1
        for field in model._meta.local_fields:
            if field.is_relation:
                target = field.related_model
                assert not isinstance(target, str)
                assert target._meta.apps.get_model(*target._meta.label_lower.split(".")) is not None

    def create_model(self, model: Any) -> None:
        self._model(model)

    def delete_model(self, model: Any) -> None:
        self._model(model)

    def add_field(self, model: Any, field: Any) -> None:
        self._model(model)
        assert field.related_model._meta.pk is not None

    def remove_field(self, model: Any, field: Any) -> None:
        self._model(model)


def generated_operations(seed: int = 13) -> list[migrations.Operation]:
    rng = random.Random(seed)
    operations: list[migrations.Operation] = []
    for i in range(MODELS):
        target = f"{APP}.m{rng.randrange(i)}" if i else f"{APP}.m0"
        operations.append(migrations.CreateModel(f"M{i}", [
            auto_id(), ("name", orm.CharField(max_length=50)),
            ("parent", orm.ForeignKey(target, on_delete=orm.CASCADE, null=True, related_name="+")),
        ]))
    for i in range(MODELS):
        target = f"{APP}.m{rng.randrange(MODELS)}"
        operations.append(migrations.AddField(f"M{i}", "other", orm.ForeignKey(
            target, on_delete=orm.SET_NULL, null=True, related_name=f"others_from_m{i}")))
    return operations


@pytest.mark.slow
def test_300_models_600_foreign_keys_forwards_and_back() -> None:
    operations = generated_operations()
    migration = type("Migration", (migrations.Migration,), {"operations": operations})("0001_initial", APP)
    editor = RecordingEditor()
    start = time.perf_counter()
    state = migration.apply(ProjectState(), editor)  # type: ignore[arg-type]
    forwards = time.perf_counter() - start
    assert len(state.models) == MODELS and editor.calls == 2 * MODELS
    m7 = state.apps.get_model(APP, "M7")
    assert {f.name for f in m7._meta.local_fields} == {"id", "name", "parent", "other"}

    start = time.perf_counter()
    migration.unapply(ProjectState(), editor)  # type: ignore[arg-type]
    backwards = time.perf_counter() - start
    assert editor.calls == 4 * MODELS
    print(f"\n{MODELS} models, {2 * MODELS} foreign keys: forwards {forwards:.2f} s, "
          f"backwards {backwards:.2f} s (state side, apps rendered around every operation)")
    assert forwards + backwards < 30


def test_each_step_renders_a_bounded_number_of_models() -> None:
    """Per operation, only the changed model and its neighbours get new classes."""
    operations = generated_operations()[: MODELS // 3]
    state = ProjectState()
    worst = 0
    for operation in operations:
        before = {key: state.apps.get_model(*key) for key in state.models}
        operation.state_forwards(APP, state)
        after = {key: state.apps.get_model(*key) for key in state.models}
        worst = max(worst, sum(after[key] is not before.get(key) for key in after))
    # A new model and the model its foreign key points at; the models
    # pointing at that one are relinked, not rendered.
    assert worst == 2
