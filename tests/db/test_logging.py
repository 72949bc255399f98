"""The ``orm.db`` statement log: one DEBUG record per statement, from the thread
that ran it, with nothing formatted (or even timed) when DEBUG is off."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import pytest

import orm
from orm import transaction
from orm.db import querylog
from tests.db.models import Note

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the logged and captured statements include the real BEGIN and COMMIT.
pytestmark = pytest.mark.transactional


def statements(caplog: pytest.LogCaptureFixture) -> list[Any]:
    """The statement records (children of ``orm.db`` log other events)."""
    return [record for record in caplog.records if record.name == "orm.db"]


class Loud(str):
    """A parameter the drivers accept as text, counting every time it is formatted."""

    formatted = 0

    def __repr__(self) -> str:
        Loud.formatted += 1
        return "Loud(" + str.__repr__(self) + ")"

    def __str__(self) -> str:
        Loud.formatted += 1
        return str.__str__(self)


async def test_a_twin_logs_one_debug_record_from_its_thread(
    notes: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="orm.db")
    assert await Note.objects.filter(rank__gte=2).acount() == 2
    [record] = statements(caplog)
    assert record.levelno == logging.DEBUG
    sql: Any = record.sql
    assert sql.startswith("SELECT COUNT(*)") and '"querylogtests_note"."rank" >= %s' in sql
    assert record.params == [2]
    assert record.alias == "default"
    assert record.many is False
    duration: Any = record.duration
    assert isinstance(duration, float) and 0 <= duration < 60_000
    # Run by asgiref's worker, not by the event loop's thread, and logged there.
    assert record.threadName != threading.current_thread().name
    assert record.thread_name == record.threadName
    message = record.getMessage()
    assert re.match(r"\(\d+\.\d{3} ms\) SELECT COUNT\(\*\)", message), message
    assert message.endswith(f"; args=[2]; alias=default; thread={record.threadName}")


def test_sync_statement_is_logged_on_the_calling_thread(
    notes: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="orm.db")
    assert Note.objects.get(rank=1).text == "note 1"
    [record] = statements(caplog)
    assert record.threadName == threading.current_thread().name
    assert record.params == [1]


def test_long_parameters_are_cut_in_the_message_only(
    notes: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="orm.db")
    ranks = list(range(10_000, 12_000))
    long_text = "x" * 100_000
    with orm.connections["default"].cursor() as cursor:
        cursor.execute(f"SELECT 1 WHERE 1 IN ({', '.join(['%s'] * len(ranks))})", ranks)
        assert cursor.fetchall() == []
    assert Note.objects.filter(text=long_text).count() == 0
    in_record, text_record = statements(caplog)
    assert in_record.params == ranks  # the record keeps them whole
    message = in_record.getMessage().replace(in_record.sql, "")
    assert len(message) < querylog.PARAMS_SHOWN + 200
    assert "10000, 10001" in message and "... (2000 items)" in message
    assert text_record.params == [long_text]
    assert len(text_record.getMessage()) < 1000


def test_nothing_is_timed_or_formatted_when_debug_is_off(
    notes: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[str] = []
    real_record = querylog.record
    monkeypatch.setattr(
        querylog, "record", lambda *args: recorded.append(args[1]) or real_record(*args)
    )
    Loud.formatted = 0
    caplog.set_level(logging.INFO, logger="orm.db")
    with orm.connections["default"].cursor() as cursor:
        cursor.execute("SELECT %s", [Loud("quiet")])
        assert cursor.fetchone() == ("quiet",)
    with transaction.atomic():
        Note.objects.create(text=Loud("quiet too"), rank=4)
    assert (recorded, Loud.formatted, statements(caplog)) == ([], 0, [])

    # The same statement at DEBUG is recorded and formatted: the test can fail.
    caplog.set_level(logging.DEBUG, logger="orm.db")
    with orm.connections["default"].cursor() as cursor:
        cursor.execute("SELECT %s", [Loud("loud")])
    assert recorded == ["SELECT %s"]
    assert "Loud('loud')" in statements(caplog)[0].getMessage()
    assert Loud.formatted > 0


def test_transaction_control_is_logged_as_django_does(
    notes: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="orm.db")
    with transaction.atomic():
        Note.objects.filter(rank=1).update(text="one")
        with pytest.raises(ValueError), transaction.atomic():
            Note.objects.filter(rank=2).update(text="two")
            raise ValueError("roll back the savepoint")
        with transaction.atomic():
            Note.objects.filter(rank=3).update(text="three")
    with pytest.raises(ValueError), transaction.atomic():
        Note.objects.filter(rank=1).update(text="uno")
        raise ValueError("roll back the transaction")
    begin = "BEGIN IMMEDIATE" if notes == "sqlite" else "BEGIN"
    kinds = [re.sub(r'"s\d+_x\d+"', "sid", r.sql).split(" SET ")[0] for r in statements(caplog)]
    update = 'UPDATE "querylogtests_note"'
    assert kinds == [
        begin,
        update,
        "SAVEPOINT sid",
        update,
        "ROLLBACK TO SAVEPOINT sid",
        "RELEASE SAVEPOINT sid",
        "SAVEPOINT sid",
        update,
        "RELEASE SAVEPOINT sid",
        "COMMIT",
        begin,
        update,
        "ROLLBACK",
    ]
    assert all(r.params is None for r in statements(caplog) if "UPDATE" not in r.sql)


def test_executemany_ddl_and_failures_are_logged(
    notes: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="orm.db")
    table = '"querylogtests_note"'
    with orm.connections["default"].cursor() as cursor:
        rows = [("a", 10), ("b", 11)]
        cursor.executemany(f"INSERT INTO {table} (text, rank) VALUES (%s, %s)", rows)
        with pytest.raises(orm.IntegrityError):
            cursor.execute(f"INSERT INTO {table} (text, rank) VALUES (%s, %s)", ["dup", 10])
    with orm.connections["default"].schema_editor() as editor:
        editor.execute("CREATE INDEX querylog_idx ON querylogtests_note (text)")
    many, failed = [r for r in statements(caplog) if r.sql.startswith("INSERT")]
    assert many.many is True and many.params == rows
    assert failed.params == ["dup", 10]  # the failing statement is there too
    assert any(
        r.sql == "CREATE INDEX querylog_idx ON querylogtests_note (text)"
        for r in statements(caplog)
    )


async def test_streams_are_logged_once_per_statement(
    notes: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="orm.db")
    texts = [note.text async for note in Note.objects.order_by("rank").aiterator(chunk_size=1)]
    assert texts == ["note 1", "note 2", "note 3"]
    stream = Note.objects.order_by("rank").values_list("rank", flat=True)
    assert await orm.sync_to_async(lambda: list(stream.iterator(chunk_size=1)))() == [1, 2, 3]
    selects = [r.sql for r in statements(caplog)]
    assert len(selects) == 2 and all(sql.startswith("SELECT") for sql in selects)


def test_manual_transactions_are_logged(notes: str) -> None:
    begin = "BEGIN IMMEDIATE" if notes == "sqlite" else "BEGIN"
    connection = orm.connections["default"]
    with orm.capture_queries() as queries:
        connection.set_autocommit(False)
        try:
            Note.objects.filter(rank=1).update(text="kept")
            transaction.commit()
            Note.objects.filter(rank=1).update(text="dropped")
            transaction.rollback()
        finally:
            connection.set_autocommit(True)
    assert [q.sql.split(" SET ")[0] for q in queries] == [
        begin,
        'UPDATE "querylogtests_note"',
        "COMMIT",
        begin,
        'UPDATE "querylogtests_note"',
        "ROLLBACK",
    ]
    assert Note.objects.get(rank=1).text == "kept"
