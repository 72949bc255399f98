"""What configuration errors and async mistakes tell the user (issue 11).

- No message, log record, traceback or repr shows a database password: URLs are
  shown with the password replaced by ``***`` (item 3).
- SQLite URL options are checked by ``configure()`` itself, before any
  connection exists, and a connection whose set-up failed is never kept (item 5).
- Evaluating a QuerySet in async code (``qs[0]``, ``len(qs)``, ``bool(qs)``,
  ``list(qs)``) names the awaitable that replaces it, not ``connection.cursor()``
  (item 27).
- A forgotten ``await`` on any twin warns with the method's name (item 28).
"""

from __future__ import annotations

import gc
import logging
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import orm
from orm.conf import DatabaseSettings
from orm.db.connections import ConnectionHandler
from tests.conftest import postgres_url

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the tests configure orm themselves and break connections.
pytestmark = pytest.mark.transactional

# Every password below contains this marker, in plain and in percent-encoded
# forms; a message that shows any part of a password shows it.
MARK = "Zq9secret"
SECRET = f"{MARK}/p@ss?#w0rd"
ENCODED = quote(SECRET, safe="")


def assert_no_secret(text: str) -> None:
    """``text`` shows neither the password nor its percent-encoded form."""
    assert MARK not in text, text
    assert ENCODED not in text, text


def full_text(error: BaseException) -> str:
    """The error as a traceback prints it, chained causes included."""
    return "".join(traceback.format_exception(error))


@pytest.fixture
def reconfigure() -> Iterator[None]:
    """For tests that call ``orm.configure`` themselves: close everything afterwards."""
    try:
        yield
    finally:
        orm.connections.close_all()


# ------------------------------------------------------------- item 3: passwords

BAD_URLS = [
    pytest.param(f"postgresql://app:{MARK}@host:notaport/db", "Invalid port", id="bad-port"),
    pytest.param(
        f"postgresql://app:{ENCODED}@host:notaport/db", "Invalid port", id="encoded-bad-port"
    ),
    pytest.param(f"postgresql://app:{MARK}@host:5432/", "names no database", id="no-database"),
    pytest.param(f"postgres://app:{ENCODED}@host/", "names no database", id="encoded-no-database"),
    pytest.param(f"mysql://app:{MARK}@host/db", "Unsupported database scheme", id="scheme"),
    pytest.param(f"host=db user=app password={MARK} dbname=app", "not a URL", id="libpq-dsn"),
    pytest.param(f"host=db password = '{MARK} x\\' y' dbname=app", "not a URL", id="libpq-quoted"),
    pytest.param(f"dbname=app PASSWORD={MARK}", "not a URL", id="libpq-upper"),
    # Unescaped '/', '?', '#' or '@' in a password make the URL split in the wrong place.
    pytest.param(f"postgresql://app:{MARK}/x@host/db", "has an '@' after the host", id="raw-slash"),
    pytest.param(f"postgresql://app:{MARK}?x@host:5432/db", "names no database", id="raw-question"),
    pytest.param(f"postgresql://app:{MARK}#x@host/db", "names no database", id="raw-hash"),
    pytest.param(f"postgresql://app:{MARK}@x@host:bad/db", "Invalid port", id="raw-at"),
    pytest.param(
        f"postgresql://app@host:bad/db?password={MARK}", "Invalid port", id="query-password"
    ),
    pytest.param(
        f"postgresql://app@host:bad/db?x=1&sslpassword={ENCODED}",
        "Invalid port",
        id="query-sslpassword",
    ),
    pytest.param(
        f"postgresql://app@host:bad/db?pass%77ord={MARK}", "Invalid port", id="query-encoded-key"
    ),
    pytest.param(f"sqlite:///app.db?password={MARK}", "Unknown SQLite option", id="sqlite-query"),
    pytest.param(
        f"sqlite:///app.db?timeout=x&password={MARK}", "Invalid value", id="sqlite-bad-value"
    ),
]


@pytest.mark.parametrize(("url", "fragment"), BAD_URLS)
def test_configure_error_shows_the_url_without_its_password(url: str, fragment: str) -> None:
    with pytest.raises(orm.ImproperlyConfigured) as info:
        orm.configure(url)
    message = str(info.value)
    assert fragment in message
    assert_no_secret(full_text(info.value))
    if "://" in url and "Invalid value" not in message:
        assert "***" in message  # the URL is still shown, masked


def test_the_same_url_in_a_databases_mapping_is_masked_too() -> None:
    with pytest.raises(orm.ImproperlyConfigured) as info:
        orm.configure(
            databases={
                "default": "sqlite:///:memory:",
                "reports": f"postgresql://app:{ENCODED}@host:x/db",
            }
        )
    assert "postgresql://app:***@host:x/db" in str(info.value)
    assert_no_secret(full_text(info.value))


def test_a_settings_value_that_is_not_a_string_is_shown_by_type_only() -> None:
    with pytest.raises(orm.ImproperlyConfigured) as info:
        orm.configure(databases={"default": {"password": MARK}})  # type: ignore[dict-item]
    assert "<dict>" in str(info.value)
    assert_no_secret(full_text(info.value))


def test_orm_database_url_errors_name_the_variable_and_mask_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORM_DATABASE_URL", f"postgresql://app:{ENCODED}@db.internal:54x32/app")
    handler = ConnectionHandler()  # never configured: reads the environment
    with pytest.raises(orm.ImproperlyConfigured) as info:
        handler.settings  # noqa: B018 - the property reads ORM_DATABASE_URL
    message = str(info.value)
    assert message.startswith("ORM_DATABASE_URL is invalid: Invalid port")
    assert "postgresql://app:***@db.internal:54x32/app" in message
    assert_no_secret(full_text(info.value))


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:{ENCODED}@db:5432/app?sslmode=require",
        f"postgresql://app@db:5432/app?password={ENCODED}",
    ],
)
def test_settings_repr_and_display_url_hide_the_password(url: str) -> None:
    settings = orm.conf.parse_url(url)
    assert SECRET in (settings.password, settings.options.get("password"))
    for text in (repr(settings), str(settings), settings.display_url):
        assert_no_secret(text)
    assert "***" in settings.display_url


def test_redact_url_leaves_urls_without_a_password_alone() -> None:
    for url in (
        "postgresql://app@db:5432/app?sslmode=require&application_name=a@b",
        "postgresql://db/app",
        "sqlite:////var/lib/app.sqlite3?timeout=10",
        "host=db dbname=app",
    ):
        assert orm.conf.redact_url(url) == url


def _bad_connect_url(vendor: str, tmp_path: Path) -> str:
    """A URL of ``vendor`` with a password that the first connection (or configure) rejects."""
    if vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'x.sqlite3'}?password={ENCODED}"
    url = postgres_url()
    assert url is not None
    head, _, query = url.partition("?")
    scheme, _, rest = head.partition("://")
    rest = rest.split("@", 1)[-1]  # drop any user of the test URL
    # libpq quotes an invalid port back in its error: here the port is the password.
    return f"{scheme}://app:{ENCODED}@{rest}?port={ENCODED}&pool_timeout=5"


def test_no_password_in_connect_errors_tracebacks_or_logs(
    backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, reconfigure: None
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises((orm.ImproperlyConfigured, orm.OperationalError)) as info:
        orm.configure(_bad_connect_url(backend, tmp_path))
        with orm.connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert_no_secret(full_text(info.value))
    if backend == "postgresql":
        assert "Could not connect to PostgreSQL" in str(info.value)
        assert "***" in str(info.value)
        # The pool logs each failed attempt from its worker threads.
        assert any("error connecting" in r.getMessage() for r in caplog.records)
        assert_no_secret(repr(orm.connections.stats()))
    for record in caplog.records:
        assert_no_secret(record.getMessage())
        if record.exc_info:
            assert_no_secret("".join(traceback.format_exception(*record.exc_info)))


def test_an_invalid_libpq_option_message_hides_the_password() -> None:
    pytest.importorskip("psycopg")
    from orm.backends.postgresql.base import DatabaseWrapper

    # A password pasted as an option name is quoted back by libpq.
    settings = orm.conf.parse_url(f"postgresql://app:{ENCODED}@db/app?{ENCODED}=1")
    with pytest.raises(orm.ImproperlyConfigured) as info:
        DatabaseWrapper(settings, "default")._pool_params()
    assert "invalid connection option" in str(info.value)
    assert_no_secret(full_text(info.value))


# ------------------------------------------------ item 5: SQLite set-up options


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        ("foreign_keys=maybe", "Invalid SQLite foreign_keys 'maybe'"),
        ("journal_mode=fast", "Invalid SQLite journal_mode 'fast'"),
        ("synchronous=turbo", "Invalid SQLite synchronous 'turbo'"),
    ],
)
def test_bad_sqlite_pragma_values_are_refused_by_configure(
    option: str, fragment: str, tmp_path: Path, reconfigure: None
) -> None:
    path = tmp_path / "fk.sqlite3"
    orm.configure(f"sqlite:///{path}")  # a working configuration to keep
    before = orm.connections.settings
    with pytest.raises(orm.ImproperlyConfigured) as info:
        orm.configure(f"sqlite:///{path}?{option}")
    assert fragment in str(info.value)
    assert "choose from" in str(info.value)
    assert orm.connections.settings is before  # nothing changed, nothing opened
    assert not path.exists()


def test_pragma_values_are_case_insensitive(tmp_path: Path, reconfigure: None) -> None:
    orm.configure(f"sqlite:///{tmp_path / 'case.sqlite3'}?foreign_keys=ON&journal_mode=Delete")
    with orm.connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone() == (1,)
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone() == ("delete",)


def test_a_connection_whose_set_up_failed_is_not_kept(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper: Any = orm.connections["default"]
    original = type(wrapper).init_connection_state
    calls: list[object] = []

    def failing_once(self: Any) -> None:
        calls.append(self.connection)
        if len(calls) == 1:
            raise orm.OperationalError("set-up interrupted")
        original(self)

    monkeypatch.setattr(type(wrapper), "init_connection_state", failing_once)
    with pytest.raises(orm.OperationalError, match="set-up interrupted"):
        with orm.connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert wrapper.connection is None  # closed and forgotten, not half set up
    with orm.connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    # The next call set up its connection in full (on PostgreSQL it may be the
    # same pooled connection, given back and reset in between).
    assert len(calls) == 2


def test_sqlite_settings_with_a_bad_pragma_fail_on_every_call(tmp_path: Path) -> None:
    # Settings built by hand skip parse_url(): the wrapper must still refuse them
    # every time instead of going on with a connection whose pragmas never ran.
    from orm.backends.sqlite.base import DatabaseWrapper

    path = str(tmp_path / "hand.sqlite3")
    settings = DatabaseSettings(
        vendor="sqlite", name=path, url=f"sqlite:///{path}", options={"foreign_keys": "maybe"}
    )
    wrapper = DatabaseWrapper(settings, "hand")
    try:
        for _ in range(2):
            with pytest.raises(orm.ImproperlyConfigured, match="foreign_keys 'maybe'"):
                wrapper.ensure_connection()
            assert wrapper.connection is None
    finally:
        wrapper.close()


# ------------------------------------------- item 27: evaluating in async code


class Pet(orm.Model):
    name = orm.CharField(max_length=30)
    owner = orm.ForeignKey("Person", on_delete=orm.CASCADE, related_name="pets", null=True)
    friends = orm.ManyToManyField("self", blank=True)

    class Meta:
        app_label = "i11_cfg"


class Person(orm.Model):
    name = orm.CharField(max_length=30)

    class Meta:
        app_label = "i11_cfg"


@pytest.fixture
def pets(backend: str) -> Iterator[str]:
    orm.create_tables(Person, Pet)
    Pet.objects.create(name="rex")
    # The loop of an async test runs on this thread: start it with no connection.
    orm.connections.close_current()
    yield backend


EVALUATIONS: list[Any] = [
    pytest.param(
        lambda: Pet.objects.all()[0],
        ("`QuerySet[0]`", "`await qs.afirst()`", "aget("),
        id="index-0",
    ),
    pytest.param(
        lambda: Pet.objects.filter(name="rex")[3],
        ("`QuerySet[3]`", "`[obj async for obj in qs[3:4]]`", "aget("),
        id="index-3",
    ),
    pytest.param(
        lambda: len(Pet.objects.all()), ("len() of a QuerySet", "`await qs.acount()`"), id="len"
    ),
    pytest.param(
        lambda: bool(Pet.objects.all()), ("bool() of a QuerySet", "`await qs.aexists()`"), id="bool"
    ),
    pytest.param(
        lambda: list(Pet.objects.all()),
        ("iterating a QuerySet", "`async for obj in qs`"),
        id="list",
    ),
    pytest.param(
        lambda: [p for p in Pet.objects.all()[1:3]],
        ("iterating a QuerySet", "async for"),
        id="slice",
    ),
    pytest.param(
        lambda: Pet.objects.all()[0:4:2], ("iterating a QuerySet", "async for"), id="step"
    ),
]


@pytest.mark.parametrize(("evaluate", "words"), EVALUATIONS)
async def test_evaluating_a_queryset_in_async_code_names_the_awaitable(
    pets: str, evaluate: Callable[[], Any], words: tuple[str, ...]
) -> None:
    with pytest.raises(orm.SynchronousOnlyOperation) as info:
        evaluate()
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert "connection.cursor()" not in message
    assert "opening a database connection" not in message
    assert "orm.sync_to_async" in message
    assert orm.connections["default"].connection is None  # refused before connecting
    # The advice works.
    assert (await Pet.objects.all().afirst()).name == "rex"  # type: ignore[union-attr]
    assert await Pet.objects.acount() == 1 and await Pet.objects.aexists()
    assert [p.name async for p in Pet.objects.all()[0:1]] == ["rex"]


# -------------------------------------------- item 28: names of the coroutines


def _twin_calls() -> list[Any]:
    person = Person(name="p")
    person.pk = 1
    pet = Pet(name="q")
    pet.pk = 1
    return [
        ("QuerySet.acount", lambda: Pet.objects.all().acount()),
        ("QuerySet.aget", lambda: Pet.objects.filter(name="x").aget()),
        ("Manager.acount", lambda: Pet.objects.acount()),
        ("Manager.aget", lambda: Pet.objects.aget(pk=1)),
        ("Manager.acreate", lambda: Pet.objects.acreate(name="x")),
        ("Manager.abulk_create", lambda: Pet.objects.abulk_create([])),
        ("Manager.ain_bulk", lambda: Pet.objects.ain_bulk([1])),
        ("Model.asave", lambda: pet.asave()),
        ("Model.adelete", lambda: pet.adelete()),
        ("Model.arefresh_from_db", lambda: pet.arefresh_from_db()),
        ("RelatedManager.aadd", lambda: person.pets.aadd(pet)),
        ("Manager.acreate", lambda: person.pets.acreate(name="x")),
        ("Manager.acount", lambda: person.pets.acount()),
        ("ManyRelatedManager.aset", lambda: pet.friends.aset([])),
        ("Manager.aget_or_create", lambda: pet.friends.aget_or_create(name="x")),
        ("acreate_tables", lambda: orm.acreate_tables(Pet)),
        ("adrop_tables", lambda: orm.adrop_tables(Pet)),
        ("aprefetch_related_objects", lambda: orm.aprefetch_related_objects([], "pets")),
    ]


def test_a_forgotten_await_names_the_method(backend: str) -> None:
    for qualname, make in _twin_calls():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            coroutine = make()
            assert coroutine.__qualname__ == qualname
            del coroutine
            gc.collect()
        messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
        assert messages == [f"coroutine '{qualname}' was never awaited"]


def test_manager_twins_look_like_methods_of_the_class() -> None:
    assert orm.Manager.acount.__qualname__ == "Manager.acount"
    assert orm.Manager.acount.__name__ == "acount"
    assert orm.Manager.count.__qualname__ == "Manager.count"
