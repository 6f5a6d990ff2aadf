"""httpx over aiohttp against real servers: what is sent arrives unchanged, what comes back is
what httpx would have returned, and a failure says whether the request may have been acted on."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from starlette.middleware.gzip import GZipMiddleware

from webrana_common.aiohttp_transport import AiohttpTransport
from webrana_common.http import internal_client

Serve = Callable[..., Awaitable[str]]


def echo_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=10)

    @app.api_route("/echo/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def echo(request: Request) -> Response:
        body = await request.body()
        seen = {
            "method": request.method,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
            "body": body.decode(errors="replace"),
            "body_length": len(body),
        }
        response = Response(
            content=httpx.Response(200, json=seen).content,
            status_code=201 if request.method == "POST" else 200,
            media_type="application/json",
        )
        response.headers.append("x-many", "one")
        response.headers.append("x-many", "two")
        return response

    return app


@pytest.fixture
async def echo(serve: Serve) -> str:
    return await serve(echo_app())


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        yield client


def header(seen: dict, name: str) -> list[str]:
    return [v for k, v in seen["headers"] if k == name]


async def test_request_arrives_as_httpx_built_it(echo: str, client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{echo}/echo/a%2Fb c",
        params={"q": "ä&=", "page": 2},
        json={"amount": 150000, "note": "ünïcode"},
        headers={"X-API-Key": "k1", "Idempotency-Key": "pay-1"},
    )

    assert response.status_code == 201
    assert response.reason_phrase == "Created"
    assert response.http_version == "HTTP/1.1"
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/echo/a%2Fb%20c"  # percent-encoding kept, not re-encoded
    assert seen["query"] == "q=%C3%A4%26%3D&page=2"
    assert httpx.Response(200, content=seen["body"]).json() == {
        "amount": 150000,
        "note": "ünïcode",
    }
    assert header(seen, "x-api-key") == ["k1"]
    assert header(seen, "idempotency-key") == ["pay-1"]
    assert header(seen, "content-type") == ["application/json"]
    assert header(seen, "content-length") == [str(len(seen["body"].encode()))]
    # httpx's own User-Agent and Accept, not aiohttp's added beside them.
    assert header(seen, "user-agent") == [f"python-httpx/{httpx.__version__}"]
    assert header(seen, "accept") == ["*/*"]


async def test_repeated_response_headers_are_all_kept(echo: str, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{echo}/echo/x")

    assert response.headers.get_list("x-many") == ["one", "two"]


async def test_a_compressed_answer_is_decoded_once(echo: str, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{echo}/echo/big", params={"pad": "x" * 2000})

    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["query"] == "pad=" + "x" * 2000


async def test_an_empty_post_says_its_length_is_zero(echo: str, client: httpx.AsyncClient) -> None:
    seen = (await client.post(f"{echo}/echo/cancel")).json()

    assert header(seen, "content-length") == ["0"]
    assert seen["body"] == ""


async def test_a_closed_transport_refuses_new_requests(echo: str) -> None:
    client = httpx.AsyncClient(transport=AiohttpTransport())
    assert (await client.get(f"{echo}/echo/x")).status_code == 200
    await client.aclose()

    with pytest.raises(RuntimeError):
        await client.get(f"{echo}/echo/x")


@pytest.fixture
async def hang_up() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server that reads a request and closes the connection without answering: the
    request reached it, so it may have been acted on."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(65536)
        if data:
            received.append(data)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", received
    server.close()
    await server.wait_closed()


async def test_a_server_hanging_up_after_the_request_is_not_a_connect_error(
    hang_up: tuple[str, list[bytes]],
) -> None:
    url, received = hang_up
    async with internal_client(url, attempts=3) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.post("/invoices", json={"order_id": "o-1"})

    # A connect error would have been repeated (nothing sent); this one must not be.
    assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)
    assert len(received) == 1
    assert received[0].startswith(b"POST /invoices HTTP/1.1")


async def test_refused_connection_is_a_connect_error(closed_port: int) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{closed_port}/")


async def test_a_gzip_body_sent_by_the_caller_is_not_touched(
    echo: str, client: httpx.AsyncClient
) -> None:
    raw = gzip.compress(b'{"a": 1}')
    seen = (
        await client.put(
            f"{echo}/echo/blob",
            content=raw,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/octet-stream"},
        )
    ).json()

    assert header(seen, "content-length") == [str(len(raw))]
    assert seen["body_length"] == len(raw)
    assert header(seen, "content-encoding") == ["gzip"]
