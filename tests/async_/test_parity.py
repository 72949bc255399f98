"""API parity: every public sync method that touches the database has its ``a`` twin.

The walk covers QuerySet, Manager, Model instances, both related-manager
classes and the ``orm`` module's functions. Every public callable must be
classified here, either as touching the database (then ``a<name>`` must
exist, be a coroutine function or async generator, take the same
parameters, and forward its arguments unchanged to the sync method on a
worker thread) or as not touching it (then calling it on the event loop
runs no query). A new public method therefore fails this test until
someone decides which it is.
"""

from __future__ import annotations

import inspect
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import orm
import orm.models.schema as schema_module
from orm.models.manager import Manager
from orm.models.related import ManyRelatedManager, RelatedManager
from tests.async_.conftest import Library
from tests.async_.models import Author, Book, City, Publisher, Tag

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# the fixtures close this thread's connection so the twins open their own, and the twins' threads are compared.
pytestmark = pytest.mark.transactional

QUERYSET_DB = {
    "aggregate",
    "bulk_create",
    "bulk_update",
    "contains",
    "count",
    "create",
    "delete",
    "earliest",
    "exists",
    "explain",
    "first",
    "get",
    "get_or_create",
    "in_bulk",
    "iterator",
    "last",
    "latest",
    "update",
    "update_or_create",
}
QUERYSET_NO_DB = {
    "alias",
    "all",
    "annotate",
    "complex_filter",
    "dates",
    "datetimes",
    "defer",
    "difference",
    "distinct",
    "exclude",
    "filter",
    "intersection",
    "none",
    "only",
    "order_by",
    "prefetch_related",
    "raw",
    "reverse",
    "select_for_update",
    "select_related",
    "union",
    "using",
    "values",
    "values_list",
    "as_manager",
}
MANAGER_DB = QUERYSET_DB
MANAGER_NO_DB = (QUERYSET_NO_DB - {"as_manager"}) | {
    "contribute_to_class",
    "db_manager",
    "get_queryset",
    "from_queryset",
}
RELATED_DB = QUERYSET_DB | {"add", "remove", "clear", "set"}
RELATED_NO_DB = MANAGER_NO_DB
MODEL_DB = {"save", "delete", "refresh_from_db", "fetch_related", "full_clean", "validate_unique"}
MODEL_NO_DB = {"clean", "clean_fields", "from_db", "get_deferred_fields"}
MODULE_DB = {"create_tables", "drop_tables", "migrate", "prefetch_related_objects"}
MODULE_NO_DB = {
    # on_delete handlers, called by the deletion collector inside delete()
    "CASCADE",
    "DO_NOTHING",
    "PROTECT",
    "RESTRICT",
    "SET_DEFAULT",
    "SET_NULL",
    # the async machinery itself
    "async_to_sync",
    "sync_to_async",
    "connection_scope",
    "configure",  # settings only; closes connections, runs no query
    "capture_queries",  # records the statements others run; runs none itself
}

# Database-touching public API without a twin (none today: every one has its
# twin). An entry here must be removed when its twin lands (this test then
# fails until you do, so the list cannot go stale).
KNOWN_GAPS: set[tuple[str, str]] = set()

SURFACES: dict[str, tuple[Any, set[str], set[str]]] = {
    "QuerySet": (orm.QuerySet, QUERYSET_DB, QUERYSET_NO_DB),
    "Manager": (Manager, MANAGER_DB, MANAGER_NO_DB),
    "RelatedManager": (RelatedManager, RELATED_DB, RELATED_NO_DB),
    "ManyRelatedManager": (ManyRelatedManager, RELATED_DB, RELATED_NO_DB),
    "Model": (orm.Model, MODEL_DB, MODEL_NO_DB),
}


def public_callables(surface: str) -> set[str]:
    if surface == "orm":
        return {n for n in orm.__all__ if inspect.isfunction(getattr(orm, n))}
    cls = SURFACES[surface][0]
    return {
        n
        for n in dir(cls)
        if not n.startswith("_")
        and isinstance(inspect.getattr_static(cls, n), staticmethod | classmethod | Callable)
    }


def classification(surface: str) -> tuple[set[str], set[str]]:
    if surface == "orm":
        return MODULE_DB, MODULE_NO_DB
    return SURFACES[surface][1], SURFACES[surface][2]


def lookup(surface: str, name: str) -> Any:
    return getattr(orm if surface == "orm" else SURFACES[surface][0], name)


def twin_name(name: str) -> str:
    return "a" + name


ALL_SURFACES = [*SURFACES, "orm"]


@pytest.mark.parametrize("surface", ALL_SURFACES)
def test_every_public_callable_is_classified(surface: str) -> None:
    db, no_db = classification(surface)
    twins = {twin_name(n) for n in db}
    unclassified = public_callables(surface) - db - no_db - twins
    assert not unclassified, (
        f"{surface}: classify {sorted(unclassified)} in test_parity.py: does it touch the database?"
    )
    assert not db & no_db
    vanished = (db | no_db) - public_callables(surface)
    assert not vanished, f"{surface}: {sorted(vanished)} are listed but no longer exist"


@pytest.mark.parametrize("surface", ALL_SURFACES)
def test_every_database_method_has_a_twin(surface: str) -> None:
    db, _ = classification(surface)
    present = public_callables(surface)
    missing = {name for name in db if twin_name(name) not in present}
    known = {name for (s, name) in KNOWN_GAPS if s == surface}
    assert missing - known == set(), (
        f"{surface} lacks twins: {sorted(twin_name(n) for n in missing - known)}"
    )
    fixed = known - missing
    assert not fixed, f"{surface}: {sorted(fixed)} now have twins; remove them from KNOWN_GAPS"


def _is_generic_forwarder(fn: Any) -> bool:
    params = list(inspect.signature(fn).parameters.values())[1:]
    return [p.kind for p in params] == [
        inspect.Parameter.VAR_POSITIONAL,
        inspect.Parameter.VAR_KEYWORD,
    ]


def _params(fn: Any, *, skip_self: bool) -> list[tuple[str, Any, Any]]:
    params = list(inspect.signature(fn).parameters.values())
    if skip_self:
        params = params[1:]
    return [(p.name, p.kind, p.default) for p in params]


# Documented differences: ``aiterator`` streams in chunks of 2000 by default
# (as Django's does), ``iterator()``'s ``None`` means the same size.
DEFAULT_DIFFERENCES = {("aiterator", "chunk_size")}


def _twin_pairs() -> list[Any]:
    pairs = []
    for surface in ALL_SURFACES:
        db, _ = classification(surface)
        for name in sorted(db):
            if (surface, name) in KNOWN_GAPS:
                continue
            pairs.append(pytest.param(surface, name, id=f"{surface}.{twin_name(name)}"))
    return pairs


@pytest.mark.parametrize(("surface", "name"), _twin_pairs())
def test_twin_is_async_with_the_same_parameters(surface: str, name: str) -> None:
    sync = lookup(surface, name)
    twin = lookup(surface, twin_name(name))
    if name == "iterator" and surface != "QuerySet":
        # Managers hand back the QuerySet's async generator (see test below).
        assert not inspect.iscoroutinefunction(twin)
        assert _params(twin, skip_self=True) == _params(orm.QuerySet.aiterator, skip_self=True)
        return
    if name == "iterator":
        assert inspect.isasyncgenfunction(twin), f"{surface}.aiterator must be an async generator"
    else:
        assert inspect.iscoroutinefunction(twin), f"{surface}.{twin_name(name)} must be `async def`"
    skip_self = surface != "orm"
    if surface in ("Manager", "RelatedManager", "ManyRelatedManager") and _is_generic_forwarder(
        twin
    ):
        # BaseManager's twin ``(self, *args, **kwargs)`` forwards to the sync
        # method of the same name; test_twin_forwards_its_arguments checks it.
        return
    sync_params = _params(sync, skip_self=skip_self)
    twin_params = _params(twin, skip_self=skip_self)
    assert [(n, k) for n, k, _ in twin_params] == [(n, k) for n, k, _ in sync_params]
    for (pname, _, sync_default), (_, _, twin_default) in zip(
        sync_params, twin_params, strict=True
    ):
        if (twin_name(name), pname) not in DEFAULT_DIFFERENCES:
            assert twin_default == sync_default, f"default of {pname!r} differs"


def test_manager_aiterator_returns_an_async_generator(tables: str) -> None:
    stream = Book.objects.aiterator(chunk_size=10)
    assert inspect.isasyncgen(stream)
    # never started, so never touched the database; close it cleanly
    assert stream.ag_frame is not None and stream.ag_running is False
    stream.aclose().close()


# ------------------------------------------------------ forwarding, for real


class Sentinel:
    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return f"<{self.label}>"


def _arguments_for(signature: inspect.Signature) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in signature.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(Sentinel(p.name))
        elif p.kind is p.VAR_POSITIONAL:
            args += [Sentinel("star1"), Sentinel("star2")]
        elif p.kind is p.KEYWORD_ONLY:
            kwargs[p.name] = Sentinel(p.name)
        else:
            kwargs["extra"] = Sentinel("extra")
    return args, kwargs


def _receivers(seed: Library) -> dict[str, Callable[[], Any]]:
    return {
        "QuerySet": lambda: Book.objects.filter(pages__gt=0),
        "Manager": lambda: Book.objects,
        "RelatedManager": lambda: seed.ann.books,
        "ManyRelatedManager": lambda: seed.alpha.tags,
        "Model": lambda: Book(title="t", author=seed.ann),
    }


FORWARDED = [p for p in _twin_pairs() if p.values[1] != "iterator"]


@pytest.mark.parametrize(("surface", "name"), FORWARDED)
async def test_twin_forwards_its_arguments_to_the_sync_method(
    seed: Library, monkeypatch: pytest.MonkeyPatch, surface: str, name: str
) -> None:
    """The twin is a one-liner: same arguments in, same result out, off the loop."""
    loop_thread = threading.get_ident()
    received: list[tuple[tuple[Any, ...], dict[str, Any], int]] = []
    result = Sentinel("result")

    def spy(*args: Any, **kwargs: Any) -> Any:
        received.append((args, kwargs, threading.get_ident()))
        return result

    if surface == "orm":
        receiver: Any = orm
        module = sys.modules[getattr(orm, twin_name(name)).__module__]
        original = getattr(module, name)
        monkeypatch.setattr(module, name, spy)
        reference = inspect.signature(original)
    else:
        receiver = _receivers(seed)[surface]()
        original = getattr(receiver, name)
        monkeypatch.setattr(receiver, name, spy)  # the instance attribute wins
        reference = inspect.signature(original)
        if str(reference) == "(*args, **kwargs)":  # a manager delegate: the QuerySet's
            reference = inspect.signature(getattr(orm.QuerySet(Book), name))
    args, kwargs = _arguments_for(reference)
    returned = await getattr(receiver, twin_name(name))(*args, **kwargs)
    assert returned is result
    assert len(received) == 1
    got_args, got_kwargs, thread = received[0]
    assert thread != loop_thread
    expected = reference.bind(*args, **kwargs)
    actual = reference.bind(*got_args, **got_kwargs)
    assert actual.arguments == expected.arguments


async def test_aiterator_forwards_chunk_size_to_iterator(
    seed: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    qs = Book.objects.all()
    calls: list[tuple[Any, int]] = []

    def spy(chunk_size: Any = None) -> Iterator[str]:
        calls.append((chunk_size, threading.get_ident()))
        yield from ["x", "y", "z"]

    monkeypatch.setattr(qs, "iterator", spy)
    assert [item async for item in qs.aiterator(chunk_size=2)] == ["x", "y", "z"]
    assert [c for c, _ in calls] == [2]


# ------------------------------------------- the "no database" half, checked


NO_DB_CALLS: dict[str, Callable[[Library], Any]] = {
    "alias": lambda s: Book.objects.alias(n=orm.Count("tags")),
    "all": lambda s: Book.objects.all(),
    "annotate": lambda s: Book.objects.annotate(n=orm.Count("tags")),
    "defer": lambda s: Book.objects.defer("title"),
    "dates": lambda s: Book.objects.dates("published", "year"),
    "datetimes": lambda s: Book.objects.annotate(
        at=orm.functions.Cast("published", orm.DateTimeField())
    ).datetimes("at", "day"),
    "distinct": lambda s: Book.objects.distinct(),
    "exclude": lambda s: Book.objects.exclude(pk=1),
    "filter": lambda s: Book.objects.filter(pk=1),
    "complex_filter": lambda s: Book.objects.complex_filter(orm.Q(pk=1) | orm.Q(pk=2)),
    "none": lambda s: Book.objects.none(),
    "only": lambda s: Book.objects.only("title"),
    "order_by": lambda s: Book.objects.order_by("-pk"),
    "prefetch_related": lambda s: Book.objects.prefetch_related("tags"),
    "raw": lambda s: Book.objects.raw("SELECT id FROM shared_book"),
    "reverse": lambda s: Book.objects.order_by("pk").reverse(),
    "select_for_update": lambda s: Book.objects.select_for_update(),
    "select_related": lambda s: Book.objects.select_related("author"),
    "union": lambda s: Book.objects.filter(pk=1).union(Book.objects.filter(pk=2)),
    "intersection": lambda s: Book.objects.filter(pk=1).intersection(Book.objects.filter(pk=2)),
    "difference": lambda s: Book.objects.filter(pk=1).difference(Book.objects.filter(pk=2)),
    "using": lambda s: Book.objects.using("default"),
    "values": lambda s: Book.objects.values("title"),
    "values_list": lambda s: Book.objects.values_list("title", flat=True),
    "db_manager": lambda s: Book.objects.db_manager("default"),
    "get_queryset": lambda s: Book.objects.get_queryset(),
    "as_manager": lambda s: orm.QuerySet.as_manager(),
    "from_queryset": lambda s: Manager.from_queryset(orm.QuerySet),
    "related-get_queryset": lambda s: (s.ann.books.get_queryset(), s.alpha.tags.get_queryset()),
    "related-filter": lambda s: (s.ann.books.filter(pages=1), s.alpha.tags.exclude(name="x")),
    "clean": lambda s: s.alpha.clean(),
    "clean_fields": lambda s: Tag(name="t").clean_fields(),
    "from_db": lambda s: Book.from_db("default", ["id", "title"], [1, "t"]),
    "get_deferred_fields": lambda s: Book.from_db(
        "default", ["id", "title"], [1, "t"]
    ).get_deferred_fields(),
    "configure-untouched": lambda s: orm.connections["default"],
}


def test_every_no_db_name_has_a_sample_call() -> None:
    names = QUERYSET_NO_DB | MANAGER_NO_DB | MODEL_NO_DB
    untested = names - set(NO_DB_CALLS) - {"contribute_to_class"}
    assert not untested


@pytest.mark.parametrize("name", sorted(NO_DB_CALLS))
async def test_no_db_methods_run_no_query_on_the_loop(
    seed: Library, count_queries: type, name: str
) -> None:
    with count_queries() as ctx:
        NO_DB_CALLS[name](seed)  # no SynchronousOnlyOperation either
    assert ctx.queries == []
    assert orm.connections["default"].connection is None


def test_twin_module_functions_are_exported() -> None:
    assert orm.acreate_tables is schema_module.acreate_tables
    assert orm.adrop_tables is schema_module.adrop_tables
    assert orm.sync_to_async.__module__.startswith("asgiref")
    assert orm.async_to_sync.__module__.startswith("asgiref")


async def test_acreate_tables_and_adrop_tables_match_the_sync_functions(backend: str) -> None:
    await orm.acreate_tables(City, Publisher)  # Author and Book point at them
    await orm.acreate_tables(Author, Tag, Book)
    assert await Book.objects.acount() == 0
    author = await Author.objects.acreate(name="x")
    book = await Book.objects.acreate(title="t", author=author)
    await book.tags.aadd(await Tag.objects.acreate(name="t"))
    await orm.adrop_tables(Book)
    with pytest.raises(orm.DatabaseError):
        await Book.objects.acount()
    with pytest.raises(orm.DatabaseError):
        await Book.tags.through.objects.acount()  # the automatic m2m table went too
    assert await Author.objects.acount() == 1
    # the sync functions and the twins are interchangeable
    await orm.sync_to_async(orm.create_tables)(Book)
    assert await Book.objects.acount() == 0
    await orm.sync_to_async(orm.drop_tables)(Book, Tag, Author)
    await orm.acreate_tables(Author, Tag, Book)
    assert await Author.objects.acount() == 0
    for twin in (orm.acreate_tables, orm.adrop_tables):
        with pytest.raises(TypeError, match="not a concrete model"):
            await twin(object)
    with pytest.raises(orm.DatabaseError):
        await orm.acreate_tables(Author)  # already exists


# BUG 6 -----------------------------------------------------------------------
# API.md: "Every public method or function that touches the database has an
# a-prefixed twin". Model.validate_unique() runs one exists() query per unique
# field / unique_together, and full_clean() calls it; prefetch_related_objects()
# runs one query per lookup (Django 5 has aprefetch_related_objects). None has a
# twin; in async code full_clean() fails with a message about
# `QuerySet.exists()` / `aexists()`, calls the user never made.


def test_database_touching_api_has_twins() -> None:
    import inspect

    for owner, name in (
        (orm.Model, "afull_clean"),
        (orm.Model, "avalidate_unique"),
        (orm, "aprefetch_related_objects"),
    ):
        assert inspect.iscoroutinefunction(getattr(owner, name, None)), name


async def test_full_clean_in_async_code_names_itself(seed: Library) -> None:
    with pytest.raises(orm.SynchronousOnlyOperation) as info:
        Author(name="ann").full_clean()
    assert "full_clean" in str(info.value)
