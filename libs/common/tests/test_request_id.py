"""Request ids: accepted (sanitised) or generated, echoed, isolated per request, propagated."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI, Request

from webrana_common.request_id import MAX_LENGTH, get_request_id, sanitize_request_id
from webrana_common.testing.client import running_app

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def client(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, str | None]:
        await asyncio.sleep(0.01)  # let concurrent requests interleave
        return {"contextvar": get_request_id(), "state": request.state.request_id}

    async with running_app(app) as http:
        yield http


async def test_incoming_request_id_is_used_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/whoami", headers={"X-Request-ID": "edge-7f3a:retry.2"})

    assert response.headers["x-request-id"] == "edge-7f3a:retry.2"
    assert response.json() == {"contextvar": "edge-7f3a:retry.2", "state": "edge-7f3a:retry.2"}


async def test_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = await client.get("/whoami")
    second = await client.get("/whoami")

    generated = first.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert first.json()["contextvar"] == generated
    assert second.headers["x-request-id"] != generated


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"abc\r\nSet-Cookie: session=stolen", b"abcSet-Cookie:sessionstolen"),
        (b"\"quoted\" 'id'", b"quotedid"),
        (b"tab\there\x00nul\x1besc\x7fdel", b"tabherenulescdel"),
        (b"caf\xc3\xa9-<script>", b"caf-script"),
    ],
)
async def test_incoming_request_id_is_sanitised(
    client: httpx.AsyncClient, raw: bytes, expected: bytes
) -> None:
    # Raw bytes, as a lenient proxy could pass them on; h11 itself would refuse CR/LF.
    response = await client.get("/whoami", headers=[(b"X-Request-ID", raw)])

    assert response.headers.raw.count((b"x-request-id", expected)) == 1
    assert response.json()["contextvar"] == expected.decode()
    assert b"set-cookie" not in dict(response.headers.raw)


async def test_incoming_request_id_is_capped_in_length(client: httpx.AsyncClient) -> None:
    response = await client.get("/whoami", headers={"X-Request-ID": "a" * 5000})

    assert response.headers["x-request-id"] == "a" * MAX_LENGTH


async def test_request_id_of_only_unsafe_characters_is_replaced(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/whoami", headers={"X-Request-ID": '"" <> {}'})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_concurrent_requests_each_see_their_own_id(client: httpx.AsyncClient) -> None:
    ids = [f"req-{n}" for n in range(20)]

    responses = await asyncio.gather(
        *(client.get("/whoami", headers={"X-Request-ID": rid}) for rid in ids)
    )

    assert [r.json()["contextvar"] for r in responses] == ids


def test_sanitize_keeps_safe_ids_untouched() -> None:
    assert sanitize_request_id("01HZX3-abc_def.42:1") == "01HZX3-abc_def.42:1"
    assert sanitize_request_id("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0") == (
        "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    )
    assert sanitize_request_id("") is None
    assert sanitize_request_id(None) is None


async def test_request_id_is_propagated_on_internal_calls(
    make_app: Callable[..., FastAPI], serve: Serve
) -> None:
    receiver = FastAPI()

    @receiver.get("/seen")
    async def seen(request: Request) -> dict[str, str | None]:
        return {"x-request-id": request.headers.get("x-request-id")}

    receiver_url = await serve(receiver)
    app = make_app()

    @app.get("/fan-out")
    async def fan_out(request: Request) -> dict[str, str | None]:
        answer = await request.app.state.http.get(f"{receiver_url}/seen")
        return answer.json()

    async with running_app(app) as client:
        response = await client.get("/fan-out", headers={"X-Request-ID": "chain-42"})

    assert response.json() == {"x-request-id": "chain-42"}
