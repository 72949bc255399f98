"""``orm.asgi.ConnectionScopeMiddleware``: one scope per HTTP or WebSocket request.

The middleware is called directly with a fake ASGI ``scope``/``receive``/
``send`` (no server): concurrent requests run their database work on separate
threads, each request's connections are closed when it ends (normally, with
an error, or cancelled by a disconnect), and ``lifespan`` passes through
untouched. The last tests drive the example app of ``migrations_example/``
end to end through ``httpx.ASGITransport`` (which does not run lifespan, so
the tables are created here on the ``backend`` database).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from decimal import Decimal
from typing import Any

import httpx
import pytest
from asgiref.sync import SyncToAsync

import orm
from orm.asgi import ConnectionScopeMiddleware
from orm.db.scopes import DEFAULT_THREADS
from tests.scopes.helpers import (
    LeakCheck,
    released,
    slow_query,
    thread_and_wrapper,
    wait_for_flag,
    warm_pool,
)
from tests.scopes.models import Item

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# scopes and concurrent requests each need a real connection of their own.
pytestmark = [pytest.mark.usefixtures("tables", "wide_scope_pool"), pytest.mark.transactional]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

N = 8


# ------------------------------------------------------------ a fake ASGI server


def http_scope(path: str = "/") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }


async def http_request(app: App, path: str = "/") -> list[Message]:
    """One GET request; returns the messages the app sent."""
    incoming: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(http_scope(path), receive, send)
    return sent


async def websocket_session(app: App, texts: list[str]) -> list[Message]:
    """Connect, send ``texts``, disconnect; returns the messages the app sent."""
    incoming: list[Message] = [{"type": "websocket.connect"}]
    incoming += [{"type": "websocket.receive", "text": t} for t in texts]
    incoming.append({"type": "websocket.disconnect", "code": 1000})
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {**http_scope("/ws"), "type": "websocket", "scheme": "ws", "subprotocols": []}
    del scope["method"]
    await app(scope, receive, send)
    return sent


def body_of(sent: list[Message]) -> bytes:
    assert sent[0]["type"] == "http.response.start"
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


class Recorder:
    """A bare ASGI app whose requests run ``work`` through ``orm.sync_to_async``.

    Each request (each WebSocket message) first runs a query, so it opens a
    connection, then ``work``; the app answers with the ident of the thread
    that ran it. The connection wrappers used are kept in ``wrappers``, and
    each request's own also in its ASGI scope under ``"test.wrappers"``.
    """

    def __init__(self, work: Callable[[], Any] | None = None) -> None:
        self.work = work or (lambda: None)
        self.wrappers: list[Any] = []

    def _run(self, scope: MutableMapping[str, Any]) -> int:
        Item.objects.count()
        thread, wrapper = thread_and_wrapper()
        self.wrappers.append(wrapper)
        scope.setdefault("test.wrappers", []).append(wrapper)  # this request's own
        self.work()
        return thread

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await receive()
            thread = await orm.sync_to_async(self._run)(scope)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": str(thread).encode()})
        elif scope["type"] == "websocket":
            assert (await receive())["type"] == "websocket.connect"
            await send({"type": "websocket.accept"})
            while (message := await receive())["type"] == "websocket.receive":
                thread = await orm.sync_to_async(self._run)(scope)
                await send({"type": "websocket.send", "text": f"{message['text']}:{thread}"})
            assert message["type"] == "websocket.disconnect"


def closing_request(app: App) -> App:
    """Wrap ``app`` in the middleware; check, as each request returns, that the
    connection it opened (recorded in its ASGI scope by ``Recorder``) is closed."""
    wrapped = ConnectionScopeMiddleware(app)

    async def checked(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        await wrapped(scope, receive, send)
        mine = scope["test.wrappers"]
        assert mine and all(released(w) for w in mine)

    return checked


# ------------------------------------------------------------------------ http


async def test_concurrent_http_requests_run_on_separate_threads(leaks: LeakCheck) -> None:
    shared = (await orm.sync_to_async(thread_and_wrapper)())[0]
    baseline = leaks.snapshot()
    barrier = threading.Barrier(N)  # passed only if all N requests run at once
    app = Recorder(lambda: barrier.wait(10))
    application = ConnectionScopeMiddleware(app)

    responses = await asyncio.gather(*(http_request(application) for _ in range(N)))

    threads = {int(body_of(sent)) for sent in responses}
    assert all(sent[0]["status"] == 200 for sent in responses)
    assert len(threads) == N and shared not in threads
    assert len({id(w) for w in app.wrappers}) == N
    assert all(released(w) for w in app.wrappers)
    await leaks.assert_clean(baseline)


async def test_each_requests_connection_is_closed_when_it_returns(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()
    app = Recorder()
    application = closing_request(app)
    for _ in range(5):
        await http_request(application)
    await asyncio.gather(*(http_request(application) for _ in range(5)))
    assert len(app.wrappers) == 10
    await leaks.assert_clean(baseline)


async def test_without_the_middleware_requests_share_one_thread() -> None:
    shared = (await orm.sync_to_async(thread_and_wrapper)())[0]
    app = Recorder()
    responses = await asyncio.gather(*(http_request(app) for _ in range(N)))
    assert {int(body_of(sent)) for sent in responses} == {shared}
    assert len({id(w) for w in app.wrappers}) == 1
    assert app.wrappers[0].connection is not None  # and it stays open


@pytest.mark.timing
async def test_8_requests_with_a_02s_query_each_finish_together() -> None:
    async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        hop = await orm.sync_to_async(slow_query)(0.2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(hop.thread).encode()})

    await warm_pool(N)
    start = time.perf_counter()
    scoped = await asyncio.gather(*(http_request(ConnectionScopeMiddleware(app)) for _ in range(N)))
    with_middleware = time.perf_counter() - start
    start = time.perf_counter()
    shared = await asyncio.gather(*(http_request(app) for _ in range(N)))
    without = time.perf_counter() - start

    assert len({body_of(sent) for sent in scoped}) == N
    assert len({body_of(sent) for sent in shared}) == 1
    assert with_middleware < 0.8, f"{with_middleware:.3f} s with the middleware"
    assert without >= N * 0.2 * 0.99, f"{without:.3f} s without it"


async def test_an_error_in_the_app_propagates_and_closes_the_connection(leaks: LeakCheck) -> None:
    baseline = leaks.snapshot()

    def fail() -> None:
        raise LookupError("view failed")

    app = Recorder(fail)
    with pytest.raises(LookupError, match="view failed"):
        await http_request(ConnectionScopeMiddleware(app))
    assert released(app.wrappers[0])
    await leaks.assert_clean(baseline)


async def test_a_disconnect_that_cancels_the_request_closes_its_connection(
    leaks: LeakCheck,
) -> None:
    """Servers cancel the request task when the client goes away."""
    baseline = leaks.snapshot()
    flag = threading.Event()

    def slow() -> None:
        flag.set()
        slow_query(0.3)

    app = Recorder(slow)
    task = asyncio.create_task(http_request(ConnectionScopeMiddleware(app)))
    await wait_for_flag(flag)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert released(app.wrappers[0])
    await leaks.assert_clean(baseline)


# ------------------------------------------------------------------- websocket


async def test_concurrent_websocket_sessions_run_on_separate_threads(leaks: LeakCheck) -> None:
    shared = (await orm.sync_to_async(thread_and_wrapper)())[0]
    baseline = leaks.snapshot()
    sessions = 4
    barrier = threading.Barrier(sessions)
    calls = 0
    lock = threading.Lock()

    def first_message_meets() -> None:
        nonlocal calls
        with lock:
            calls += 1
            first = calls <= sessions
        if first:
            barrier.wait(10)

    app = Recorder(first_message_meets)
    application = ConnectionScopeMiddleware(app)
    results = await asyncio.gather(
        *(websocket_session(application, [f"s{i}-a", f"s{i}-b"]) for i in range(sessions))
    )

    session_threads = []
    for i, sent in enumerate(results):
        assert sent[0] == {"type": "websocket.accept"}
        replies = [m["text"] for m in sent[1:]]
        assert [r.split(":")[0] for r in replies] == [f"s{i}-a", f"s{i}-b"]
        threads = {int(r.split(":")[1]) for r in replies}
        assert len(threads) == 1  # every message of a session on the session's thread
        session_threads.append(threads.pop())
    assert len(set(session_threads)) == sessions and shared not in session_threads
    assert all(released(w) for w in app.wrappers)
    await leaks.assert_clean(baseline)


# -------------------------------------------------------------------- lifespan


async def test_lifespan_passes_through_untouched() -> None:
    shared = (await orm.sync_to_async(thread_and_wrapper)())[0]
    seen: dict[str, Any] = {}

    async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        seen["scope"], seen["receive"], seen["send"] = scope, receive, send
        # No scope opened: thread-sensitive calls go to the process's shared thread.
        seen["context"] = SyncToAsync.thread_sensitive_context.get(None)
        seen["thread"] = (await orm.sync_to_async(thread_and_wrapper)())[0]
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    await ConnectionScopeMiddleware(app)(scope, receive, send)

    assert seen["scope"] is scope and seen["receive"] is receive and seen["send"] is send
    assert seen["context"] is None
    assert seen["thread"] == shared
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


async def test_http_requests_do_get_a_thread_sensitive_context() -> None:
    """The counterpart of the lifespan test: the middleware does open one for http."""
    contexts: list[Any] = []

    async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        contexts.append(SyncToAsync.thread_sensitive_context.get(None))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await http_request(ConnectionScopeMiddleware(app))
    assert contexts[0] is not None


# ----------------------------------------------- the example app, end to end


@pytest.fixture
def example_app(backend: str) -> Iterator[Any]:
    """The tables of migrations_example on the test database; yields its ``application``."""
    from migrations_example.app import application
    from migrations_example.models import Author, Book, Tag

    orm.create_tables(Author, Tag, Book)
    orm.connections.close_current()
    yield application


async def test_example_app_lists_creates_updates_and_moves_books(
    example_app: Any,
    leaks: LeakCheck,
) -> None:
    from migrations_example.models import Author, Book

    assert await Book.objects.acount() == 0  # opens the shared thread's connection first
    baseline = leaks.snapshot()
    transport = httpx.ASGITransport(app=example_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/books")).json() == []

        created = await client.post(
            "/books", json={"title": "Dune", "author": "Frank Herbert", "price": "9.99"}
        )
        assert created.status_code == 201
        dune = created.json()["id"]
        assert created.json() == {"id": dune, "title": "Dune"}

        # Concurrent requests, one author created once (get_or_create races are handled).
        more = await asyncio.gather(
            *(
                client.post(
                    "/books", json={"title": f"Volume {i}", "author": "Ann Leckie", "price": i}
                )
                for i in range(1, 9)
            )
        )
        assert [r.status_code for r in more] == [201] * 8
        assert await Author.objects.acount() == 2

        listed = (await client.get("/books")).json()
        assert listed[0] == {
            "id": dune,
            "title": "Dune",
            "author": "Frank Herbert",
            "price": "9.99",
        }
        assert sorted((b["title"], b["author"], b["price"]) for b in listed[1:]) == [
            (f"Volume {i}", "Ann Leckie", f"{i}.00") for i in range(1, 9)
        ]

        priced = await client.post(f"/books/{dune}/price", json={"price": "12.50"})
        assert priced.status_code == 200
        assert priced.json() == {"id": dune, "price": "12.50"}

        moved = await client.post(f"/books/{dune}/move", json={"author": "Ursula K. Le Guin"})
        assert moved.status_code == 200
        assert moved.json() == {"id": dune, "author": "Ursula K. Le Guin"}

        again = (await client.get("/books")).json()[0]
        assert again == {
            "id": dune,
            "title": "Dune",
            "author": "Ursula K. Le Guin",
            "price": "12.50",
        }
        book = await Book.objects.select_related("author").aget(pk=dune)
        assert (book.price, book.author.name) == (Decimal("12.50"), "Ursula K. Le Guin")

        # Errors: unknown book, missing field, unknown route.
        missing = await client.post("/books/999999/price", json={"price": "1"})
        assert (missing.status_code, missing.json()) == (404, {"error": "no such book"})
        assert (await client.post("/books/999999/move", json={"author": "X"})).status_code == 404
        assert (await client.post("/books", json={"author": "No Title"})).status_code == 400
        assert (await client.get("/nowhere")).status_code == 404

        stats = (await client.get("/stats")).json()
        # SQLite: the scope threads keep their (reset) connections open between requests.
        kept = (
            DEFAULT_THREADS.stats()["pooled"]
            if orm.connections["default"].vendor == "sqlite"
            else 0
        )
        assert baseline.open_connections <= stats["default"]["open_connections"]
        assert stats["default"]["open_connections"] <= baseline.open_connections + kept

    await leaks.assert_clean(baseline)
    assert await Book.objects.acount() == 9


# ------------------------------------------------------------ reused threads


@pytest.mark.parametrize("reuse", [True, False])
async def test_requests_reuse_a_capped_pool_of_threads(tables: str, reuse: bool) -> None:
    """Sequential requests share a thread and (SQLite) its reset connection, concurrent
    ones do not; ``max_threads`` caps the threads. ``reuse_threads=False``: a new
    thread per request, its connection closed."""
    seen: list[tuple[Any, Any, Any]] = []
    gate = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        def probe() -> tuple[Any, Any, Any]:
            Item.objects.count()
            wrapper = orm.connections["default"]
            return threading.current_thread(), wrapper, wrapper.connection

        seen.append(await orm.sync_to_async(probe)())
        if scope.get("wait"):
            await gate.wait()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        return None

    middleware = ConnectionScopeMiddleware(app, reuse_threads=reuse, max_threads=2, thread_wait=5)
    try:
        await middleware({"type": "http"}, receive, send)
        await middleware({"type": "http"}, receive, send)
        assert (seen[0][0] is seen[1][0]) == reuse  # the same thread served both
        assert (seen[0][2] is seen[1][2]) == (reuse and tables == "sqlite")  # and its connection
        assert all(released(wrapper) for _, wrapper, _ in seen)
        seen.clear()
        tasks = [
            asyncio.create_task(middleware({"type": "http", "wait": True}, receive, send))
            for _ in range(3)
        ]
        deadline = time.monotonic() + 5
        while len(seen) < (2 if reuse else 3):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert len(seen) == (2 if reuse else 3)  # capped: the third request waits
        assert seen[0][0] is not seen[1][0]  # concurrent requests: separate threads
        gate.set()
        await asyncio.gather(*tasks)
        assert len({id(thread) for thread, _, _ in seen}) == (2 if reuse else 3)
        assert all(released(wrapper) for _, wrapper, _ in seen)
    finally:
        middleware.close()


# ------------------------------------------------------------ once broken


async def test_example_app_answers_400_to_a_non_numeric_price(example_app: Any) -> None:
    transport = httpx.ASGITransport(app=example_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for price in ("abc", None):
            response = await client.post(
                "/books", json={"title": "T", "author": "A", "price": price}
            )
            assert response.status_code == 400, (price, response.status_code)  # once: 500
        book = (
            await client.post("/books", json={"title": "T", "author": "A", "price": "1"})
        ).json()
        response = await client.post(f"/books/{book['id']}/price", json={"price": "abc"})
        assert response.status_code == 400  # once: 500
