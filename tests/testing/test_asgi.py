"""An ASGI app behind ConnectionScopeMiddleware, driven by httpx, under ``orm_db``."""

from __future__ import annotations

import pytest

from tests.testing.conftest import Project

# Each test runs pytest in a subprocess, more than once for some: slower than
# the suite's per-test timeout on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

APP = """
import json

from orm.asgi import ConnectionScopeMiddleware
from shop.models import Item


async def items(scope, receive, send):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "POST":
        await Item.objects.acreate(name=json.loads(body)["name"])
    names = [item.name async for item in Item.objects.order_by("name")]
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(names).encode()})


app = ConnectionScopeMiddleware(items, reuse_threads=False)
reusing_app = ConnectionScopeMiddleware(items, reuse_threads=True)
"""

TESTS = """
import asyncio

import httpx
import pytest

from app import app, reusing_app
from shop.models import Item


@pytest.fixture(params=["thread per request", "reused threads"])
def asgi_app(request):
    if request.param == "thread per request":
        yield app
    else:
        yield reusing_app
        reusing_app.close()


async def test_requests_see_the_tests_rows(orm_db, asgi_app):
    await Item.objects.acreate(name="pen")
    transport = httpx.ASGITransport(app=asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/")).json() == ["pen"]
        assert (await client.post("/", json={"name": "ink"})).json() == ["ink", "pen"]
        responses = await asyncio.gather(
            *(client.post("/", json={"name": f"n{i}"}) for i in range(5))
        )
    assert all(r.status_code == 200 for r in responses)
    assert await Item.objects.acount() == 7


async def test_the_requests_writes_were_rolled_back(orm_db):
    assert await Item.objects.acount() == 0
"""


def test_asgi_app_through_httpx(project: Project) -> None:
    project.write(app=APP, test_asgi=TESTS)
    project.run().assert_outcomes(passed=3)
