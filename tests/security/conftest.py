"""Fixtures of the hostile-input tests.

- ``db``: the ``backend`` fixture plus every model of ``models.py`` created.
- ``reject``: ``with reject(FieldError, "Choices are"): ...`` asserts the
  block raises that error *and* that no SQL statement was even attempted
  (statements are recorded by the harness's execute wrapper before they run).
- ``all_rejected(call, corpus, error, match=())``: the same for every item of
  a corpus, reporting every item that got through (wrong error, no error,
  message without the rule, or SQL attempted) in one assertion.
- ``snapshot(Model)``: every row as dicts ordered by pk, to prove that a
  rejected write changed nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from tests.conftest import QueryCounter

ErrorTypes = type[BaseException] | tuple[type[BaseException], ...]


@pytest.fixture
def db(backend: str) -> str:
    import orm
    from tests.security.models import ALL_MODELS

    orm.create_tables(*ALL_MODELS)
    return backend


@pytest.fixture
def reject(
    count_queries: type[QueryCounter],
) -> Callable[..., contextlib.AbstractContextManager[Any]]:
    @contextlib.contextmanager
    def _reject(exc: ErrorTypes, match: str | None = None) -> Iterator[Any]:
        with count_queries() as ctx:
            with pytest.raises(exc, match=match) as info:
                yield info
        assert ctx.queries == [], f"the rejected input still ran SQL: {ctx.queries!r:.2000}"

    return _reject


def failures(
    count_queries: type[QueryCounter],
    call: Callable[[Any], Any],
    corpus: Iterable[Any],
    error: ErrorTypes,
    match: Iterable[str] = (),
) -> list[str]:
    """Run ``call`` on each item; describe each one not refused with ``error`` before any SQL."""
    match = tuple(match)
    problems = []
    for item in corpus:
        with count_queries() as ctx:
            try:
                call(item)
            except error as exc:
                if match and not any(m in str(exc) for m in match):
                    problems.append(f"{item!r}: message {exc!s:.160} lacks {match!r}")
            except Exception as exc:  # noqa: BLE001 - reported, not swallowed
                problems.append(f"{item!r}: {type(exc).__name__}: {exc!s:.160}")
            else:
                problems.append(f"{item!r}: accepted")
        if ctx.queries:
            problems.append(
                f"{item!r}: ran {len(ctx.queries)} statement(s) first: {ctx.queries[0][0]:.160}"
            )
    return problems


@pytest.fixture
def all_rejected(count_queries: type[QueryCounter]) -> Callable[..., None]:
    def check(
        call: Callable[[Any], Any],
        corpus: Iterable[Any],
        error: ErrorTypes,
        match: Iterable[str] | str = (),
    ) -> None:
        problems = failures(
            count_queries, call, corpus, error, (match,) if isinstance(match, str) else match
        )
        assert problems == [], f"{len(problems)} input(s) got through:\n" + "\n".join(problems)

    return check


def rows(model: Any) -> list[dict[str, Any]]:
    """Every row of ``model`` as a dict, ordered by primary key."""
    return list(model._base_manager.order_by("pk").values())


@pytest.fixture
def snapshot() -> Callable[[Any], list[dict[str, Any]]]:
    return rows
