"""The internal HTTP client against real servers: headers, careful retries, timeouts."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from webrana_common.aiohttp_transport import AiohttpTransport
from webrana_common.http import internal_client
from webrana_common.request_id import set_request_id
from webrana_common.testing.client import running_app

Serve = Callable[..., Awaitable[str]]


@dataclass
class Receiver:
    """Another service: counts the calls it gets, fails on demand, can be slow."""

    url: str = ""
    calls: Counter[str] = field(default_factory=Counter)
    failures_left: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/headers", methods=["GET", "POST"])
        async def headers(request: Request) -> dict[str, str]:
            self.calls[request.method] += 1
            return dict(request.headers)

        @app.api_route("/flaky", methods=["GET", "POST", "PUT"])
        async def flaky(request: Request) -> Response:
            self.calls[request.method] += 1
            if self.failures_left > 0:
                self.failures_left -= 1
                return Response(status_code=503)
            return Response(b"ok")

        @app.api_route("/slow", methods=["GET", "POST"])
        async def slow(request: Request) -> Response:
            self.calls[request.method] += 1
            # Wait for the test to end instead of sleeping, so shutdown is quick.
            await self.release.wait()
            return Response(b"late")

        return app


@pytest.fixture
async def receiver(serve: Serve) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    receiver.url = await serve(receiver.app())
    yield receiver
    receiver.release.set()


class ConnectAttempts(httpx.AsyncBaseTransport):
    """The fleet's real transport, recording when each connection attempt failed."""

    def __init__(self) -> None:
        self.inner = AiohttpTransport()
        self.refused: list[float] = []
        self.first_refusal = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.inner.handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            self.refused.append(time.monotonic())
            self.first_refusal.set()
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_request_id_in_context_is_sent_as_header(receiver: Receiver) -> None:
    set_request_id("ctx-123")
    async with internal_client(receiver.url) as client:
        seen = (await client.get("/headers")).json()

    assert seen["x-request-id"] == "ctx-123"


async def test_no_request_id_header_outside_a_request(receiver: Receiver) -> None:
    set_request_id(None)
    async with internal_client(receiver.url) as client:
        seen = (await client.get("/headers")).json()

    assert "x-request-id" not in seen


async def test_api_key_header_is_sent(receiver: Receiver) -> None:
    async with internal_client(receiver.url, api_key="order-key") as client:
        seen = (await client.get("/headers")).json()

    assert seen["x-api-key"] == "order-key"
    assert seen["user-agent"] == "webrana-internal/1"


async def test_service_client_uses_the_settings_key_and_timeout(
    make_app: Callable[..., FastAPI], receiver: Receiver
) -> None:
    app = make_app(internal_api_key="billing-outgoing-key", http_timeout_seconds=0.3)

    @app.get("/call")
    async def call(request: Request) -> dict[str, str]:
        return (await request.app.state.http.get(f"{receiver.url}/headers")).json()

    @app.get("/call-slow")
    async def call_slow(request: Request) -> None:
        await request.app.state.http.post(f"{receiver.url}/slow")

    async with running_app(app) as client:
        seen = (await client.get("/call")).json()
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/call-slow")

    assert seen["x-api-key"] == "billing-outgoing-key"


async def test_connection_refused_is_retried_until_the_server_appears(
    serve: Serve, closed_port: int
) -> None:
    receiver = Receiver()
    attempts = ConnectAttempts()
    async with internal_client(
        f"http://127.0.0.1:{closed_port}", attempts=6, transport=attempts
    ) as client:
        # POST: a refused connection never reached the server, so any method may be repeated.
        call = asyncio.create_task(client.post("/headers"))
        await attempts.first_refusal.wait()
        await serve(receiver.app(), port=closed_port)
        response = await call

    assert response.status_code == 200
    assert len(attempts.refused) >= 1
    assert receiver.calls == {"POST": 1}


async def test_retries_back_off_and_then_give_up(closed_port: int) -> None:
    attempts = ConnectAttempts()
    async with internal_client(
        f"http://127.0.0.1:{closed_port}", attempts=3, transport=attempts
    ) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/anything")

    first, second, third = attempts.refused
    assert second - first >= 0.1  # backoff 0.1 s, then doubled
    assert third - second >= 0.2


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose accept queue is full: the kernel drops new SYNs, so connecting times out."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in [*fillers, listener]:
        sock.close()


async def test_connect_timeout_is_retried_even_for_post(unaccepting_port: int) -> None:
    attempts = ConnectAttempts()
    async with internal_client(
        f"http://127.0.0.1:{unaccepting_port}", timeout=0.1, attempts=2, transport=attempts
    ) as client:
        with pytest.raises(httpx.ConnectTimeout):
            await client.post("/orders", json={"plan": "vps-1"})

    assert len(attempts.refused) == 2


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_idempotent_request_is_retried_on_503(receiver: Receiver, method: str) -> None:
    receiver.failures_left = 2
    async with internal_client(receiver.url) as client:
        response = await client.request(method, "/flaky")

    assert response.status_code == 200
    assert receiver.calls == {method: 3}


async def test_503_is_returned_when_attempts_run_out(receiver: Receiver) -> None:
    receiver.failures_left = 5
    async with internal_client(receiver.url, attempts=2) as client:
        response = await client.get("/flaky")

    assert response.status_code == 503
    assert receiver.calls == {"GET": 2}


async def test_post_without_idempotency_key_is_not_retried_on_503(receiver: Receiver) -> None:
    receiver.failures_left = 1
    async with internal_client(receiver.url) as client:
        response = await client.post("/flaky", json={"amount": 10})

    assert response.status_code == 503
    assert receiver.calls == {"POST": 1}


async def test_post_with_idempotency_key_is_retried_on_503(receiver: Receiver) -> None:
    receiver.failures_left = 1
    async with internal_client(receiver.url) as client:
        response = await client.post(
            "/flaky", json={"amount": 10}, headers={"Idempotency-Key": "pay-1"}
        )

    assert response.status_code == 200
    assert receiver.calls == {"POST": 2}


async def test_timeout_is_honoured_and_post_is_not_repeated(receiver: Receiver) -> None:
    async with internal_client(receiver.url, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/slow")
        elapsed = time.monotonic() - started

    assert 0.2 <= elapsed < 1.0
    assert receiver.calls == {"POST": 1}


async def test_timed_out_get_is_retried(receiver: Receiver) -> None:
    async with internal_client(receiver.url, timeout=0.1, attempts=2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")

    assert receiver.calls == {"GET": 2}
