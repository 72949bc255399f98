"""Read-only replicas (``{"url": URL, "replica_of": "default"}``), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import orm
from orm.db import transaction
from orm.exceptions import DatabaseError, ImproperlyConfigured
from tests.conftest import postgres_url, with_application_name
from tests.models import ALL_MODELS, Author

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# a replica is a second alias, configured in the test.
pytestmark = pytest.mark.transactional


class ReplicaRouter:
    """Reads from the replica, writes to the primary (the usual replica setup)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"


@pytest.fixture
def replica(backend: str, tmp_path: Path) -> Iterator[str]:
    """``default`` plus ``replica`` (the same database, opened read-only), routed by ReplicaRouter."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        raw = postgres_url()
        assert raw is not None
        url = with_application_name(raw)
    orm.configure(
        databases={"default": url, "replica": {"url": url, "replica_of": "default"}},
        routers=[ReplicaRouter()],
    )
    orm.create_tables(*ALL_MODELS)
    try:
        yield backend
    finally:
        orm.connections.close_all()
        orm.configure(url)


def test_reads_go_to_the_replica_and_writes_to_the_primary(replica: str) -> None:
    a = Author.objects.create(name="A", email="a@x")
    assert a._state.db == "default"
    assert Author.objects.db == "replica"
    loaded = Author.objects.get()
    assert loaded._state.db == "replica"
    assert loaded.name == "A"


def test_write_on_replica_fails_naming_the_alias(replica: str) -> None:
    Author.objects.create(name="A", email="a@x")
    with pytest.raises(
        DatabaseError,
        match="Cannot write to database 'replica': it is a read-only replica of 'default'",
    ):
        Author.objects.using("replica").create(name="B", email="b@x")
    with pytest.raises(DatabaseError, match="read-only replica"):
        Author.objects.using("replica").update(name="Z")
    # Nothing stored changed.
    assert [x.name for x in Author.objects.using("default")] == ["A"]


def test_reads_inside_atomic_on_primary_go_to_primary(replica: str) -> None:
    with transaction.atomic():
        Author.objects.create(name="A", email="a@x")
        qs = Author.objects.all()
        assert qs.db == "default"
        assert [x.name for x in qs] == ["A"]  # the uncommitted row is visible
        assert Author.objects.using("replica").get()._state.db == "default"
    assert Author.objects.all().db == "replica"
    assert Author.objects.count() == 1


def test_bad_replica_configuration_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(
        ImproperlyConfigured, match="replica_of='nope', which is not a configured primary"
    ):
        orm.configure(databases={"default": url, "r": {"url": url, "replica_of": "nope"}})
    with pytest.raises(ImproperlyConfigured, match="'default' database cannot be a replica"):
        orm.configure(databases={"default": {"url": url, "replica_of": "default"}})
    with pytest.raises(ImproperlyConfigured, match="must be a URL or"):
        orm.configure(databases={"default": url, "r": {"uri": url}})
