"""Signals (issue 16 item 7): Django's ``Signal`` and the model signals, on both backends."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import orm
from orm import signals
from orm.dispatch import Signal, receiver
from tests.integration.conftest import Library
from tests.models import Author, Book, Group, Membership, Person, Tag


class Recorder:
    """A receiver that remembers its calls (and the thread of each)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, sender: Any, **kwargs: Any) -> str:
        self.calls.append({"sender": sender, "thread": threading.get_ident(), **kwargs})
        return "ok"


@pytest.fixture
def connect() -> Iterator[Callable[..., Recorder]]:
    """``connect(signal, sender=...)`` -> a Recorder, disconnected after the test."""
    connected: list[tuple[Any, Any, Any]] = []

    def make(signal: Any, sender: Any = None, recorder: Any = None, **kwargs: Any) -> Any:
        recorder = recorder if recorder is not None else Recorder()
        signal.connect(recorder, sender=sender, weak=False, **kwargs)
        connected.append((signal, recorder, sender))
        return recorder

    yield make
    for signal, recorder, sender in connected:
        signal.disconnect(recorder, sender=sender)


# --------------------------------------------------------------- the dispatcher


def test_connect_send_disconnect_and_has_listeners() -> None:
    signal = Signal()
    calls: list[Any] = []

    def handler(sender: Any, **kwargs: Any) -> int:
        calls.append((sender, kwargs))
        return 42

    assert not signal.has_listeners()
    signal.connect(handler)
    assert signal.has_listeners() and signal.has_listeners(sender=object())
    assert signal.send(sender="me", x=1) == [(handler, 42)]
    assert calls == [("me", {"signal": signal, "x": 1})]
    assert signal.disconnect(handler) is True
    assert signal.disconnect(handler) is False
    assert signal.send(sender="me") == []


def test_sender_filters_receivers() -> None:
    signal = Signal(use_caching=True)
    recorder = Recorder()
    signal.connect(recorder, sender=Author, weak=False)
    signal.send(sender=Book)
    signal.send(sender=Author)
    assert [c["sender"] for c in recorder.calls] == [Author]
    assert signal.has_listeners(Author) and not signal.has_listeners(Book)
    signal.disconnect(recorder, sender=Author)
    assert not signal.has_listeners(Author)


def test_weak_receivers_vanish_with_their_last_reference() -> None:
    signal = Signal()
    calls: list[str] = []

    def make() -> Callable[..., None]:
        def handler(sender: Any, **kwargs: Any) -> None:
            calls.append("weak")

        return handler

    handler = make()
    signal.connect(handler)
    strong = make()
    signal.connect(strong, weak=False)
    signal.send(sender=None)
    assert calls == ["weak", "weak"]
    del handler, strong
    gc.collect()
    calls.clear()
    signal.send(sender=None)
    assert calls == ["weak"]  # only the strongly held one is left
    assert len(signal.receivers) == 1


def test_weak_bound_method_is_dropped_with_its_instance() -> None:
    signal = Signal()

    class Listener:
        def __init__(self) -> None:
            self.seen = 0

        def on(self, sender: Any, **kwargs: Any) -> None:
            self.seen += 1

    listener = Listener()
    signal.connect(listener.on)
    signal.send(sender=None)
    assert listener.seen == 1
    assert signal.disconnect(listener.on) is True  # a new bound method object, same key
    signal.connect(listener.on)
    del listener
    gc.collect()
    assert signal.send(sender=None) == []
    assert not signal.has_listeners()


def test_dispatch_uid_connects_once_and_disconnects_by_uid() -> None:
    signal = Signal()
    first, second = Recorder(), Recorder()
    signal.connect(first, dispatch_uid="audit", weak=False)
    signal.connect(second, dispatch_uid="audit", weak=False)  # same uid: ignored
    signal.send(sender=None)
    assert len(first.calls) == 1 and second.calls == []
    assert signal.disconnect(dispatch_uid="audit") is True
    assert signal.send(sender=None) == []


def test_same_receiver_connected_twice_is_called_once() -> None:
    signal = Signal()
    recorder = Recorder()
    signal.connect(recorder, weak=False)
    signal.connect(recorder, weak=False)
    signal.send(sender=None)
    assert len(recorder.calls) == 1


def test_receiver_decorator_accepts_a_list_of_signals() -> None:
    one, two = Signal(), Signal()
    calls: list[Any] = []

    @receiver([one, two], weak=False)
    def handler(sender: Any, signal: Any, **kwargs: Any) -> None:
        calls.append(signal)

    one.send(sender=None)
    two.send(sender=None)
    assert calls == [one, two]
    one.disconnect(handler)
    two.disconnect(handler)


def test_receivers_must_be_callable_and_take_kwargs() -> None:
    signal = Signal()
    with pytest.raises(TypeError, match="must be callable"):
        signal.connect("nope")  # type: ignore[arg-type]

    def no_kwargs(sender: Any) -> None: ...

    with pytest.raises(ValueError, match=r"\*\*kwargs"):
        signal.connect(no_kwargs)
    assert signal.receivers == []


def test_send_propagates_and_send_robust_returns_errors(caplog: pytest.LogCaptureFixture) -> None:
    signal = Signal()
    after = Recorder()

    def boom(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver failed")

    signal.connect(boom)
    signal.connect(after, weak=False)
    with pytest.raises(RuntimeError, match="receiver failed"):
        signal.send(sender=None)
    assert after.calls == []  # the dispatch stopped at the error
    responses = signal.send_robust(sender=None)
    assert isinstance(responses[0][1], RuntimeError)
    assert responses[1] == (after, "ok")
    assert "Error calling" in caplog.text


def test_send_runs_async_receivers_from_sync_code() -> None:
    signal = Signal()
    order: list[str] = []

    async def slow(sender: Any, **kwargs: Any) -> str:
        await asyncio.sleep(0.02)
        order.append("slow")
        return "slow"

    async def fast(sender: Any, **kwargs: Any) -> str:
        order.append("fast")
        return "fast"

    signal.connect(slow)
    signal.connect(fast)
    assert signal.send(sender=None) == [(slow, "slow"), (fast, "fast")]
    assert order == ["fast", "slow"]  # gathered concurrently, not one after the other


async def test_asend_runs_sync_receivers_off_the_loop_and_async_ones_on_it() -> None:
    signal = Signal()
    loop_thread = threading.get_ident()
    sync_recorder = Recorder()
    seen: list[int] = []

    async def async_receiver(sender: Any, **kwargs: Any) -> str:
        seen.append(threading.get_ident())
        return "async"

    signal.connect(sync_recorder, weak=False)
    signal.connect(async_receiver)
    responses = await signal.asend(sender="s", value=3)
    assert responses == [(sync_recorder, "ok"), (async_receiver, "async")]
    assert sync_recorder.calls[0]["thread"] != loop_thread
    assert sync_recorder.calls[0]["value"] == 3
    assert seen == [loop_thread]


async def test_asend_robust_returns_errors_of_both_kinds() -> None:
    signal = Signal()

    def sync_boom(sender: Any, **kwargs: Any) -> None:
        raise ValueError("sync")

    async def async_boom(sender: Any, **kwargs: Any) -> None:
        raise KeyError("async")

    signal.connect(sync_boom)
    signal.connect(async_boom)
    (_, first), (_, second) = await signal.asend_robust(sender=None)
    assert isinstance(first, ValueError) and isinstance(second, KeyError)
    signal.disconnect(async_boom)
    with pytest.raises(ValueError, match="sync"):
        await signal.asend(sender=None)


# --------------------------------------------------------------- save / init


def test_pre_and_post_save_on_insert_and_update(db: str, connect: Callable[..., Recorder]) -> None:
    pre = connect(signals.pre_save, sender=Author)
    post = connect(signals.post_save, sender=Author)
    author = Author.objects.create(name="Ann", email="ann@example.com")
    assert pre.calls[0]["instance"] is author and pre.calls[0]["raw"] is False
    assert pre.calls[0]["using"] == "default" and pre.calls[0]["update_fields"] is None
    assert post.calls[0]["created"] is True
    author.name = "Anne"
    author.save(update_fields=["name"])
    assert post.calls[1]["created"] is False
    assert post.calls[1]["update_fields"] == frozenset({"name"})
    assert isinstance(post.calls[1]["update_fields"], frozenset)
    Tag.objects.create(name="other sender")
    assert len(pre.calls) == len(post.calls) == 2


def test_post_save_sees_the_written_row_and_can_abort_the_transaction(
    db: str, connect: Callable[..., Recorder]
) -> None:
    def check(sender: Any, instance: Any, **kwargs: Any) -> None:
        assert Author.objects.filter(pk=instance.pk, name=instance.name).exists()
        if instance.name == "refused":
            raise RuntimeError("refused by receiver")

    connect(signals.post_save, sender=Author, recorder=check)
    Author.objects.create(name="fine", email="fine@example.com")
    with pytest.raises(RuntimeError), orm.transaction.atomic():
        Author.objects.create(name="refused", email="refused@example.com")
    assert list(Author.objects.values_list("name", flat=True)) == ["fine"]


def test_pre_save_may_change_the_instance_before_the_write(
    db: str, connect: Callable[..., Recorder]
) -> None:
    def shout(sender: Any, instance: Any, **kwargs: Any) -> None:
        instance.name = instance.name.upper()

    connect(signals.pre_save, sender=Author, recorder=shout)
    author = Author.objects.create(name="quiet", email="q@example.com")
    assert Author.objects.get(pk=author.pk).name == "QUIET"


def test_empty_update_fields_sends_nothing(db: str, connect: Callable[..., Recorder]) -> None:
    author = Author.objects.create(name="A", email="a@example.com")
    pre = connect(signals.pre_save, sender=Author)
    author.save(update_fields=[])
    assert pre.calls == []


def test_bulk_create_and_update_send_no_save_signals(
    db: str, connect: Callable[..., Recorder]
) -> None:
    post = connect(signals.post_save)
    Tag.objects.bulk_create([Tag(name="a"), Tag(name="b")])
    Tag.objects.filter(name="a").update(name="c")
    assert post.calls == []


def test_pre_and_post_init_for_new_and_loaded_instances(
    db: str, connect: Callable[..., Recorder]
) -> None:
    Tag.objects.create(name="x")
    pre_args: list[tuple[Any, dict[str, Any]]] = []

    def pre(sender: Any, args: Any, kwargs: Any, **rest: Any) -> None:
        pre_args.append((args, dict(kwargs)))  # __init__ consumes kwargs afterwards

    connect(signals.pre_init, sender=Tag, recorder=pre)
    post = connect(signals.post_init, sender=Tag)
    tag = Tag(name="new")
    assert pre_args[0] == ((), {"name": "new"})
    assert post.calls[0]["instance"] is tag
    loaded = Tag.objects.get(name="x")
    assert post.calls[-1]["instance"] is loaded
    assert "x" in pre_args[-1][0]
    listed = list(Tag.objects.all())
    assert [c["instance"] for c in post.calls[-len(listed) :]] == listed


def test_post_init_for_objects_loaded_by_select_related_and_raw(
    library: Library, connect: Callable[..., Recorder]
) -> None:
    post = connect(signals.post_init, sender=Author)
    books = list(Book.objects.select_related("author"))
    assert [c["instance"] for c in post.calls] == [book.author for book in books]
    raw = list(Author.objects.raw("SELECT id, name, email, created FROM tests_author"))
    assert [c["instance"] for c in post.calls[len(books) :]] == raw


def test_lazy_string_sender_and_class_prepared(db: str, connect: Callable[..., Recorder]) -> None:
    post = connect(signals.post_save, sender="tests.Tag")
    Tag.objects.create(name="lazy")
    assert [c["instance"].name for c in post.calls] == ["lazy"]
    assert signals.post_save.disconnect(post, sender="tests.Tag") is None
    Tag.objects.create(name="after")
    assert len(post.calls) == 1
    prepared = connect(signals.class_prepared)

    class Prepared(orm.Model):
        class Meta:
            app_label = "signals_test"
            apps = orm.models.registry.Apps()

    assert [c["sender"] for c in prepared.calls] == [Prepared]


def test_lazy_sender_must_name_app_and_model() -> None:
    with pytest.raises(ValueError, match="app_label.ModelName"):
        signals.post_save.connect(Recorder(), sender="Tag")


# --------------------------------------------------------------- delete


def test_delete_signals_for_an_instance_and_its_cascade(
    library: Library, connect: Callable[..., Recorder]
) -> None:
    pre = connect(signals.pre_delete)
    post = connect(signals.post_delete)
    pks: list[Any] = []
    connect(
        signals.post_delete,
        sender=Author,
        recorder=lambda sender, instance, **kwargs: pks.append(instance.pk),
    )
    alice = library.alice
    alice_pk = alice.pk
    alice.delete()
    deleted = {
        (c["sender"], c["instance"].title if c["sender"] is Book else c["instance"].name)
        for c in post.calls
    }
    assert deleted == {(Author, "Alice"), (Book, "Python Basics"), (Book, "Advanced Python")}
    assert len(pre.calls) == 3 and all(c["origin"] is alice for c in pre.calls)
    assert all(c["using"] == "default" for c in pre.calls + post.calls)
    # post_delete still sees the primary key the row had.
    assert pks == [alice_pk]
    assert alice.pk is None  # cleared after the signals ran


def test_queryset_delete_sends_per_object_with_the_queryset_as_origin(
    library: Library, connect: Callable[..., Recorder]
) -> None:
    post = connect(signals.post_delete, sender=Book)
    qs = Book.objects.filter(author=library.bob)
    qs.delete()
    assert sorted(c["instance"].title for c in post.calls) == ["Django Unchained", "SQL 101"]
    assert all(c["origin"] is qs for c in post.calls)


def test_pre_delete_receiver_error_rolls_the_whole_deletion_back(
    library: Library, connect: Callable[..., Recorder]
) -> None:
    def refuse(sender: Any, instance: Any, **kwargs: Any) -> None:
        raise PermissionError("keep the books")

    connect(signals.pre_delete, sender=Book, recorder=refuse)
    with pytest.raises(PermissionError):
        library.alice.delete()
    assert Author.objects.filter(name="Alice").exists()
    assert Book.objects.count() == 4


def test_custom_through_rows_are_deleted_one_by_one_only_with_receivers(
    db: str, connect: Callable[..., Recorder]
) -> None:
    import datetime

    person = Person.objects.create(name="P")
    group = Group.objects.create(name="G")
    Membership.objects.create(person=person, group=group, date_joined=datetime.date(2024, 1, 1))
    collector = Group._meta.new_collector("default")
    assert collector.can_fast_delete(Membership)
    post = connect(signals.post_delete, sender=Membership)
    assert not collector.can_fast_delete(Membership)
    assert collector.can_fast_delete(Book.tags.through)  # automatic join rows never send signals
    group.delete()
    assert [c["sender"] for c in post.calls] == [Membership]
    assert Membership.objects.count() == 0


# --------------------------------------------------------------- m2m_changed


def test_m2m_changed_add_remove_clear_set(
    library: Library, connect: Callable[..., Recorder]
) -> None:
    changed = connect(signals.m2m_changed, sender=Book.tags.through)
    book = library.sql101  # tagged "sql"
    book.tags.add(library.python, library.sql)
    book.tags.remove(library.sql)
    book.tags.set([library.django])
    book.tags.clear()
    actions = [(c["action"], c["pk_set"]) for c in changed.calls]
    assert actions == [
        ("pre_add", {library.python.pk}),
        ("post_add", {library.python.pk}),  # sql was linked already
        ("pre_remove", {library.sql.pk}),
        ("post_remove", {library.sql.pk}),
        ("pre_remove", {library.python.pk}),
        ("post_remove", {library.python.pk}),
        ("pre_add", {library.django.pk}),
        ("post_add", {library.django.pk}),
        ("pre_clear", None),
        ("post_clear", None),
    ]
    first = changed.calls[0]
    assert first["instance"] is book and first["model"] is Tag and first["reverse"] is False
    assert first["using"] == "default" and first["sender"] is Book.tags.through


def test_m2m_changed_from_the_reverse_side(
    library: Library, connect: Callable[..., Recorder]
) -> None:
    changed = connect(signals.m2m_changed, sender=Book.tags.through)
    library.django.books.add(library.basics)
    assert changed.calls[0]["reverse"] is True
    assert changed.calls[0]["model"] is Book
    assert changed.calls[0]["instance"] is library.django
    assert changed.calls[0]["pk_set"] == {library.basics.pk}


def test_m2m_changed_error_in_pre_add_links_nothing(
    library: Library, connect: Callable[..., Recorder]
) -> None:
    def refuse(sender: Any, action: str, **kwargs: Any) -> None:
        if action == "pre_add":
            raise PermissionError("no")

    connect(signals.m2m_changed, sender=Book.tags.through, recorder=refuse)
    with pytest.raises(PermissionError):
        library.sql101.tags.add(library.python)
    assert list(library.sql101.tags.values_list("name", flat=True)) == ["sql"]


# --------------------------------------------------------------- async


async def test_a_twins_run_sync_receivers_on_the_sync_thread_and_async_ones_on_the_loop(
    db: str, connect: Callable[..., Recorder]
) -> None:
    loop_thread = threading.get_ident()
    sync_post = connect(signals.post_save, sender=Author)
    seen: list[tuple[int, bool]] = []

    async def async_post(sender: Any, instance: Any, **kwargs: Any) -> None:
        # Runs on the event loop while the sync thread waits; its own queries
        # hop back to that thread, inside the same transaction.
        exists = await Author.objects.filter(pk=instance.pk).aexists()
        seen.append((threading.get_ident(), exists))

    connect(signals.post_save, sender=Author, recorder=async_post)
    author = await Author.objects.acreate(name="A", email="a@example.com")
    assert sync_post.calls[0]["thread"] != loop_thread
    assert sync_post.calls[0]["instance"] is author
    assert seen == [(loop_thread, True)]
    await author.asave()
    await author.adelete()
    assert len(seen) == 2


async def test_async_receiver_inside_atomic_sees_the_uncommitted_row(
    db: str, connect: Callable[..., Recorder]
) -> None:
    counts: list[int] = []

    async def count(sender: Any, **kwargs: Any) -> None:
        counts.append(await Tag.objects.acount())

    connect(signals.post_save, sender=Tag, recorder=count)

    def work() -> None:
        with orm.transaction.atomic():
            Tag.objects.create(name="one")
            Tag.objects.create(name="two")

    await orm.sync_to_async(work)()
    assert counts == [1, 2]


async def test_async_m2m_and_delete_receivers_from_a_twins(
    library: Library, connect: Callable[..., Recorder]
) -> None:
    actions: list[str] = []
    deleted: list[str] = []

    async def on_change(sender: Any, action: str, **kwargs: Any) -> None:
        actions.append(action)

    async def on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
        deleted.append(type(instance).__name__)

    connect(signals.m2m_changed, sender=Book.tags.through, recorder=on_change)
    connect(signals.post_delete, recorder=on_delete)
    await library.sql101.tags.aadd(library.django)
    await library.sql101.tags.aclear()
    await library.bob.adelete()
    assert actions == ["pre_add", "post_add", "pre_clear", "post_clear"]
    assert sorted(deleted) == ["Author", "Book", "Book"]
