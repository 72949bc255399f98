"""Multiple databases and routers (Django's ``ConnectionRouter`` protocol), on both backends."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import orm
from orm.db.routers import router
from orm.exceptions import ImproperlyConfigured
from tests.conftest import admin_connect, postgres_url, with_application_name
from tests.models import ALL_MODELS, Author, Book, Tag

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# routers use several aliases, configured in the test.
pytestmark = pytest.mark.transactional

Configure = Callable[..., None]


def _second_postgres_url(url: str) -> str:
    """``test_z2`` (or ``<name>2``) beside the test database, created empty."""
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    other = f"{name}2"
    admin = admin_connect(url)
    try:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (other,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{other}"')
    finally:
        admin.close()
    second = f"{base}/{other}"
    admin = admin_connect(second)
    try:
        admin.execute("DROP SCHEMA IF EXISTS public CASCADE")
        admin.execute("CREATE SCHEMA public")
    finally:
        admin.close()
    return second


@pytest.fixture
def two_dbs(backend: str, tmp_path: Path) -> Iterator[Configure]:
    """A function configuring ``default`` and ``other`` (with ``routers``), tables on both."""
    if backend == "sqlite":
        urls = {
            "default": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "other": f"sqlite:///{tmp_path / 'other.sqlite3'}",
        }
    else:
        url = postgres_url()
        assert url is not None
        urls = {
            "default": with_application_name(url),
            "other": with_application_name(_second_postgres_url(url)),
        }

    def setup(routers: list[Any] | None = None) -> None:
        orm.configure(databases=urls, routers=routers)
        for alias in urls:
            orm.create_tables(*ALL_MODELS, using=alias, if_not_exists=True)

    try:
        yield setup
    finally:
        orm.connections.close_all()
        orm.configure(urls["default"])  # no routers for the next test


class OtherRouter:
    """Sends every read and write of ``Author``/``Book`` to ``other``."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "other" if model in (Author, Book) else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "other" if model in (Author, Book) else None


class AllowAll:
    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True


class Abstains:
    """Answers nothing: the next router (or the default) decides."""

    def db_for_read(self, model: Any, **hints: Any) -> None:
        return None


def test_instance_remembers_its_database(two_dbs: Configure) -> None:
    two_dbs()
    a = Author.objects.using("other").create(name="A", email="a@x")
    assert a._state.db == "other"
    assert Author.objects.count() == 0
    loaded = Author.objects.db_manager("other").get(pk=a.pk)
    assert loaded._state.db == "other"
    loaded.name = "B"
    loaded.save()  # goes back where it came from
    assert Author.objects.using("other").get().name == "B"
    assert not Author.objects.exists()
    b = Book.objects.using("other").create(title="T", author=loaded)
    assert b._state.db == "other"
    assert [x.title for x in loaded.books.all()] == ["T"]
    assert Book.objects.using("other").get().author._state.db == "other"
    loaded.delete()
    assert not Book.objects.using("other").exists()


def test_save_using_copies_to_another_database(two_dbs: Configure) -> None:
    two_dbs()
    a = Author(name="A", email="a@x")
    a.save(using="other")
    assert a._state.db == "other"
    assert Author.objects.using("other").count() == 1
    assert Author.objects.count() == 0


def test_router_routes_reads_and_writes(two_dbs: Configure) -> None:
    two_dbs(routers=[Abstains(), OtherRouter()])
    a = Author.objects.create(name="A", email="a@x")
    assert a._state.db == "other"
    assert Author.objects.db == "other"
    assert Author.objects.using("default").count() == 0
    assert Author.objects.get().name == "A"
    Book.objects.create(title="T", author=a)
    assert Book.objects.using("other").count() == 1
    assert Author.objects.filter(name="A").update(name="Z") == 1
    assert Author.objects.using("other").get().name == "Z"


def test_routers_by_dotted_path_and_bad_path(two_dbs: Configure) -> None:
    two_dbs(routers=["tests.integration.test_routers.OtherRouter"])
    assert isinstance(router.routers[0], OtherRouter)
    Author.objects.create(name="A", email="a@x")
    assert Author.objects.using("other").count() == 1
    with pytest.raises(ImproperlyConfigured, match="Cannot import router 'tests.nope.Router'"):
        orm.configure("sqlite:///:memory:", routers=["tests.nope.Router"])
    # The failed call changed nothing.
    assert isinstance(router.routers[0], OtherRouter)
    assert Author.objects.using("other").count() == 1


def test_default_read_follows_instance_hint(two_dbs: Configure) -> None:
    two_dbs(routers=[Abstains()])
    a = Author.objects.using("other").create(name="A", email="a@x")
    Book.objects.using("other").create(title="T", author=a)
    book = Book.objects.using("other").get()
    # No router answers: the related read goes to the instance's database.
    assert book.author.name == "A"
    assert [b.title for b in a.books.all()] == ["T"]
    assert Author.objects.db == "default"


def test_cross_database_relation_refused(two_dbs: Configure) -> None:
    two_dbs()
    a = Author.objects.using("other").create(name="A", email="a@x")
    b = Book.objects.create(title="T", author=Author.objects.create(name="B", email="b@x"))
    with pytest.raises(ValueError, match="the current database router prevents this relation"):
        b.author = a
    assert b.author.name == "B"  # unchanged
    Book.objects.get(pk=b.pk)  # nothing stored changed
    assert Book.objects.get().author_id == b.author_id


def test_a_new_instance_takes_the_database_of_what_it_is_related_to(two_dbs: Configure) -> None:
    two_dbs()
    stored = Author.objects.using("other").create(name="A", email="a@x")
    book = Book(title="T", author=stored)  # through Model(**kwargs) and the descriptor
    assert (book._state.db, stored._state.db) == ("other", "other")
    unsaved, other_book = Author(name="B", email="b@x"), Book(title="U")
    other_book.author = unsaved
    assert (other_book._state.db, unsaved._state.db) == ("default", "default")
    with pytest.raises(ValueError, match="the current database router prevents this relation"):
        Book(title="V", author=Author.objects.create(name="C", email="c@x")).author = stored
    assert Book.objects.count() == 0


def test_cross_database_relation_allowed_by_router(two_dbs: Configure) -> None:
    two_dbs(routers=[AllowAll()])
    a = Author.objects.using("other").create(name="A", email="a@x")
    b = Book(title="T")
    b.author = a
    assert b._state.db == "other"  # an unsaved instance takes the related one's database
    b2 = Book.objects.create(title="U", author=Author.objects.create(name="B", email="b@x"))
    b2.author = a  # allowed across databases
    assert b2.author_id == a.pk


def test_many_to_many_add_and_set_ask_allow_relation(two_dbs: Configure) -> None:
    two_dbs()
    book = Book.objects.create(title="T", author=Author.objects.create(name="B", email="b@x"))
    here = Tag.objects.create(name="here")
    Tag.objects.using("other").create(name="filler")
    there = Tag.objects.using("other").create(name="there")  # another pk than ``here``'s
    message = (
        f'Cannot add "{there!r}": instance is on database "default", value is on database "other"'
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        book.tags.add(there)
    with pytest.raises(ValueError, match=re.escape(message)):
        book.tags.set([here, there])
    assert list(book.tags.all()) == []  # set() changed nothing
    book.tags.set([here])
    book.tags.set([here])  # nothing new to add: nothing to check
    book.tags.remove(there.pk)  # remove() does not ask, as Django
    assert [t.name for t in book.tags.all()] == ["here"]


def test_many_to_many_add_allowed_by_router(two_dbs: Configure) -> None:
    two_dbs(routers=[AllowAll()])
    book = Book.objects.create(title="T", author=Author.objects.create(name="B", email="b@x"))
    Tag.objects.create(name="same id here")
    there = Tag.objects.using("other").create(name="there")
    book.tags.add(there)  # the router allows it: the link is stored on the book's database
    assert [t.name for t in book.tags.all()] == ["same id here"]


def test_tool_orm_routers(tmp_path: Path) -> None:
    from orm.conf import load_project_settings

    (tmp_path / "pyproject.toml").write_text(
        '[tool.orm]\ndatabase = "sqlite:///a.sqlite3"\nrouters = ["tests.integration.test_routers.OtherRouter"]\n'
    )
    assert load_project_settings(start=tmp_path, environ={}).routers == [
        "tests.integration.test_routers.OtherRouter"
    ]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.orm]\ndatabase = "sqlite:///a.sqlite3"\nrouters = "x.Router"\n'
    )
    with pytest.raises(ImproperlyConfigured, match="'routers' must be a list of dotted paths"):
        load_project_settings(start=tmp_path, environ={})


def test_a_repeated_get_follows_the_router_and_using(two_dbs: Configure) -> None:
    # The second get() of a shape comes from the statement cache
    # (orm/query/point.py): it must read where the first one did.
    two_dbs(routers=[OtherRouter()])
    a = Author.objects.create(name="A", email="a@x")
    Author.objects.using("default").create(name="D", email="d@x")
    for _ in range(2):
        found = Author.objects.get(pk=a.pk)
        assert (found.name, found._state.db) == ("A", "other")
        here = Author.objects.using("default").get(email="d@x")
        assert (here.name, here._state.db) == ("D", "default")
        assert Author.objects.db_manager("default").get(pk=here.pk)._state.db == "default"
