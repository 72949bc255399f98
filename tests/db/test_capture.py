"""``orm.capture_queries()``: every statement of one alias, from every thread,
while the block is open; ``with`` and ``async with``; nesting."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import orm
from orm import transaction
from orm.db import querylog
from tests.db.models import Note

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the logged and captured statements include the real BEGIN and COMMIT.
pytestmark = pytest.mark.transactional

COUNT = 'SELECT COUNT(*) AS "__count" FROM "querylogtests_note"'


async def test_async_with_sees_twins_sync_to_async_and_scopes(notes: str) -> None:
    main = threading.current_thread().name

    def sync_work() -> int:
        return Note.objects.filter(rank=1).count()

    async with orm.capture_queries() as queries:
        assert await Note.objects.acount() == 3
        assert await orm.sync_to_async(sync_work)() == 1
        async with orm.connection_scope():
            assert await Note.objects.acount() == 3
    assert len(queries) == 3
    assert [q.sql for q in queries] == [
        COUNT,
        f'{COUNT} WHERE "querylogtests_note"."rank" = %s',
        COUNT,
    ]
    assert [q.params for q in queries] == [[], [1], []]
    assert all(q.alias == "default" and q.thread != main and q.duration >= 0 for q in queries)
    # The scope ran on its own thread, not on the shared worker of the first two.
    assert queries[0].thread == queries[1].thread != queries[2].thread


def test_with_sees_statements_of_other_threads(notes: str) -> None:
    def in_thread() -> None:
        try:
            assert Note.objects.count() == 3
        finally:
            orm.connections.close_current()  # a plain thread closes what it opened

    with orm.capture_queries() as queries:
        worker = threading.Thread(target=in_thread, name="capture-test-thread")
        worker.start()
        worker.join()
        assert Note.objects.get(rank=2).text == "note 2"
    assert sorted(q.thread for q in queries) == ["MainThread", "capture-test-thread"]
    assert len(queries) == 2


def test_nested_captures_both_see_inner_statements(notes: str) -> None:
    with orm.capture_queries() as outer:
        Note.objects.count()
        with orm.capture_queries() as inner:
            Note.objects.filter(rank=1).exists()
        Note.objects.count()
    assert len(inner) == 1 and inner[0].sql.startswith("SELECT %s AS")
    assert [q.sql for q in outer] == [COUNT, inner[0].sql, COUNT]
    assert outer[1] is inner[0]


def test_records_transaction_control_and_failed_statements(notes: str) -> None:
    with orm.capture_queries() as queries, pytest.raises(orm.IntegrityError), transaction.atomic():
        Note.objects.create(text="same rank", rank=1)
    begin = "BEGIN IMMEDIATE" if notes == "sqlite" else "BEGIN"
    assert [q.sql.split(" ")[0] for q in queries] == [begin.split(" ")[0], "INSERT", "ROLLBACK"]
    assert queries[0].sql == begin and queries[0].params is None
    assert queries[1].params == ["same rank", 1]


def test_sequence_api_and_closed_capture(notes: str) -> None:
    capture = orm.capture_queries()
    assert repr(capture) == "<QueryCapture using='default' closed queries=0>"
    with capture as queries:
        assert queries is capture
        assert repr(capture) == "<QueryCapture using='default' open queries=0>"
        Note.objects.count()
        Note.objects.filter(rank=3).count()
        copy = queries.queries
    Note.objects.count()  # after the block: not recorded
    assert len(queries) == 2 and len(copy) == 2
    assert queries[-1].params == [3] and [q.params for q in queries[:1]] == [[]]
    assert list(queries) == copy and queries.sql == [q.sql for q in copy]
    assert queries.numbered() == f"1. {COUNT} -- params=[]\n2. {copy[1].sql} -- params=[3]"
    assert querylog.active == ()
    with capture:  # entering again starts a new record
        pass
    assert len(capture) == 0


def test_block_that_raises_stops_capturing(notes: str) -> None:
    with pytest.raises(KeyError), orm.capture_queries():
        raise KeyError("boom")
    assert querylog.active == ()


def test_open_capture_cannot_be_entered_again(notes: str) -> None:
    with orm.capture_queries() as queries:
        with pytest.raises(RuntimeError, match="already open"), queries:
            pass
        Note.objects.count()
    assert len(queries) == 1


def test_bad_alias_is_refused(notes: str) -> None:
    with pytest.raises(orm.ImproperlyConfigured, match="'nope'.*configured aliases: default"):
        with orm.capture_queries(using="nope"):
            pass
    with pytest.raises(TypeError, match="one database alias as a str"):
        orm.capture_queries(using=["default"])  # type: ignore[arg-type]
    assert querylog.active == ()


def test_only_the_captured_alias_is_recorded(tmp_path: Path) -> None:
    orm.configure(
        databases={
            "default": f"sqlite:///{tmp_path / 'a.sqlite3'}",
            "other": f"sqlite:///{tmp_path / 'b.sqlite3'}",
        }
    )
    try:
        with orm.capture_queries(using="other") as other, orm.capture_queries() as default:
            for alias in ("default", "other"):
                with orm.connections[alias].cursor() as cursor:
                    cursor.execute("SELECT %s", [alias])
        assert [(q.alias, q.params) for q in other] == [("other", ["other"])]
        assert [(q.alias, q.params) for q in default] == [("default", ["default"])]
    finally:
        orm.connections.close_all()


def test_execute_wrapper_sees_the_block_and_is_removed_even_on_error(notes: str) -> None:
    seen: list[str] = []

    def log_sql(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    connection = orm.connections["default"]
    with connection.execute_wrapper(log_sql):
        assert Note.objects.filter(rank=1).count() == 1
    assert seen == [f'{COUNT} WHERE "querylogtests_note"."rank" = %s']
    with pytest.raises(ZeroDivisionError), connection.execute_wrapper(log_sql):
        Note.objects.count()
        1 / 0  # noqa: B018 - the block fails after a statement
    assert seen[1:] == [COUNT]
    assert connection.execute_wrappers == []
    Note.objects.count()
    assert len(seen) == 2
