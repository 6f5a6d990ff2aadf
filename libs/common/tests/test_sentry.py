"""Sentry, proven end to end: sentry-sdk's real HTTP transport delivers to the devstack sandbox,
and what arrives carries the context we need and none of the request's secrets."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import Request
from pydantic import BaseModel
from sentry_sdk.integrations.starlette import StarletteRequestExtractor

from devstack.sandbox.sentry import create_app as create_sentry_sandbox
from devstack.sandbox.sentry import parse_envelope
from webrana_common.errors import NotFound, ServiceUnavailable
from webrana_common.sentry import (
    before_send,
    init_sentry,
    request_integrations_active,
    request_scope,
    scrub_text,
)
from webrana_common.service import create_service_app
from webrana_common.settings import ServiceSettings
from webrana_common.testing.client import running_app
from webrana_common.testing.live_server import LiveServer

JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjoxOTAwMDAwMDAwfQ"
    ".c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1sZWFr"
)
SECRETS = {
    "bearer token": JWT,
    "cookie": "cookie-value-s3cr3t",
    "api key header": "xak-header-9f8e7d6c",
    "password": "hunter2-correct-horse",
    "body token": "body-token-5a4b3c2d",
    "query api_key": "qak-query-1a2b3c4d",
}


class Login(BaseModel):
    email: str
    password: str
    token: str


LOGIN = {
    "email": "someone@example.com",
    "password": SECRETS["password"],
    "token": SECRETS["body token"],
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LiveServer]:
    with LiveServer(create_sentry_sandbox()) as server:
        yield server


@pytest.fixture
def sandbox_url(sandbox: LiveServer) -> Iterator[str]:
    httpx.delete(f"{sandbox.url}/api/envelopes")
    yield sandbox.url
    sentry_sdk.flush(timeout=5)
    sentry_sdk.init()  # no DSN: later tests report nowhere


def received(sandbox_url: str, item_type: str = "event") -> list[dict[str, Any]]:
    response = httpx.get(f"{sandbox_url}/api/envelopes", params={"type": item_type})
    response.raise_for_status()
    return response.json()["envelopes"]


async def wait_for_events(sandbox_url: str, count: int, timeout: float = 10.0) -> list[dict]:
    """Under uvicorn the error is captured after the client has its 500, so poll for it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        sentry_sdk.flush(timeout=2)
        envelopes = received(sandbox_url)
        if len(envelopes) >= count or asyncio.get_running_loop().time() > deadline:
            return envelopes
        await asyncio.sleep(0.02)


@pytest.fixture
async def client(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    port = sandbox_url.rsplit(":", 1)[1]
    settings = ServiceSettings(
        service_name="sentrytest",
        sentry_dsn=f"http://publickey@127.0.0.1:{port}/1",
        sentry_release="webrana@test",
        environment="test",
    )
    app = create_service_app(settings, title="sentry test", description="sentry proof")

    @app.post("/explode")
    async def explode(login: Login, request: Request) -> dict[str, str]:
        # Sentry attaches every frame's locals: a pydantic body and the raw bytes must not leak.
        raw_body = await request.body()
        raise RuntimeError(f"exploded after reading {len(raw_body)} bytes for {login.email}")

    @app.post("/sign-in")
    async def sign_in(login: Login) -> dict[str, str]:
        return {"email": login.email}

    @app.get("/crash/{n}")
    async def crash(n: int) -> dict[str, str]:
        await asyncio.sleep(0.05)  # the ten requests overlap
        raise RuntimeError(f"crash {n}")

    @app.get("/unavailable")
    async def unavailable() -> dict[str, str]:
        raise ServiceUnavailable("the provider is down")

    @app.get("/missing")
    async def missing() -> dict[str, str]:
        raise NotFound("no such invoice", code="invoice_not_found")

    with LiveServer(app) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            yield http


def secret_request_kwargs() -> dict[str, Any]:
    return {
        "params": {"api_key": SECRETS["query api_key"], "page": "2"},
        "headers": {
            "Authorization": f"Bearer {SECRETS['bearer token']}",
            "Cookie": f"session={SECRETS['cookie']}",
            "X-API-Key": SECRETS["api key header"],
        },
        "json": LOGIN,
    }


async def test_unhandled_error_reaches_sentry_with_context_and_without_secrets(
    client: httpx.AsyncClient, sandbox_url: str
) -> None:
    response = await client.post("/explode", **secret_request_kwargs())
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"

    [envelope] = await wait_for_events(sandbox_url, 1)
    [event] = [i["payload"] for i in envelope["items"] if i["type"] == "event"]
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"].startswith("exploded after reading")
    assert event["request"]["url"] == f"{client.base_url}/explode"
    assert "data" not in event["request"]  # no body, ever
    assert event["tags"]["request_id"] == response.headers["x-request-id"]
    assert event["tags"]["service"] == "sentrytest"
    assert event["release"] == "webrana@test"
    assert event["environment"] == "test"
    leaked = [name for name, value in SECRETS.items() if value in envelope["raw"]]
    assert leaked == []


async def test_expected_client_error_is_not_reported(
    client: httpx.AsyncClient, sandbox_url: str
) -> None:
    response = await client.get("/missing")
    assert response.status_code == 404
    assert response.json()["code"] == "invoice_not_found"
    # A bug afterwards marks the point by which a report of the 404 would have arrived.
    assert (await client.post("/explode", json=LOGIN)).status_code == 500

    envelopes = await wait_for_events(sandbox_url, 1)
    reported = [
        i["payload"]["exception"]["values"][-1]["type"]
        for e in envelopes
        for i in e["items"]
        if i["type"] == "event"
    ]
    assert reported == ["RuntimeError"]


async def test_server_error_raised_as_app_error_is_reported(
    client: httpx.AsyncClient, sandbox_url: str
) -> None:
    response = await client.get("/unavailable")
    assert response.status_code == 503

    [envelope] = await wait_for_events(sandbox_url, 1)
    [event] = [i["payload"] for i in envelope["items"] if i["type"] == "event"]
    assert event["exception"]["values"][-1]["type"] == "ServiceUnavailable"
    assert event["tags"]["request_id"] == response.headers["x-request-id"]


async def test_concurrent_failures_each_carry_their_own_request(
    client: httpx.AsyncClient, sandbox_url: str
) -> None:
    """Each request has a Sentry scope of its own: ten bugs at once, ten reports, each naming
    its own request id, URL and route."""
    responses = await asyncio.gather(
        *(client.get(f"/crash/{n}", params={"page": n}) for n in range(10))
    )
    assert {r.status_code for r in responses} == {500}

    envelopes = await wait_for_events(sandbox_url, 10)
    events = [i["payload"] for e in envelopes for i in e["items"] if i["type"] == "event"]
    seen = {
        event["tags"]["request_id"]: (
            event["request"]["url"],
            event["request"]["query_string"],
            event["transaction"],
            event["exception"]["values"][-1]["value"],
        )
        for event in events
    }
    assert len(events) == 10
    assert seen == {
        r.headers["x-request-id"]: (
            f"{client.base_url}/crash/{n}",
            f"page={n}",
            "/crash/{n}",
            f"crash {n}",
        )
        for n, r in enumerate(responses)
    }


async def test_with_tracing_request_scope_leaves_reporting_to_the_sdk(sandbox_url: str) -> None:
    """With tracing on, sentry-sdk's Starlette/FastAPI integrations scope and report each request
    themselves: `request_scope` only tags their scope, so a bug is never reported twice."""
    port = sandbox_url.rsplit(":", 1)[1]
    settings = ServiceSettings(
        service_name="sentrytracing",
        sentry_dsn=f"http://publickey@127.0.0.1:{port}/1",
        sentry_traces_sample_rate=1.0,
    )
    assert init_sentry(settings)
    assert request_integrations_active()
    scope = {"type": "http", "method": "GET", "path": "/explode", "headers": []}

    with sentry_sdk.isolation_scope() as isolation:
        with pytest.raises(RuntimeError), request_scope(scope, "rid-traced"):
            raise RuntimeError("the SDK's middleware reports this one")
        assert isolation._tags["request_id"] == "rid-traced"

    sentry_sdk.flush(timeout=2)
    assert received(sandbox_url) == []


def test_before_send_drops_expected_client_errors_and_keeps_server_errors() -> None:
    event = {"exception": {"values": [{"type": "X"}]}}

    assert before_send(dict(event), {"exc_info": (NotFound, NotFound(), None)}) is None
    unavailable = ServiceUnavailable("provider down")
    assert before_send(dict(event), {"exc_info": (ServiceUnavailable, unavailable, None)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Login(email='a@b.c', password='hunter2')", "Login(email='a@b.c', password='[Filtered]')"),
        ('b\'{"password": "hunter2", "n": 1}\'', 'b\'{"password": "[Filtered]", "n": 1}\''),
        ("GET /x?access_token=abc&page=2", "GET /x?access_token=[Filtered]&page=2"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer [Filtered]"),
        ("Cookie: session=abc; theme=dark", "Cookie: [Filtered]; theme=dark"),
        (f"token {JWT[:40]}", "token [Filtered]"),
        ("nothing secret here: 42", "nothing secret here: 42"),
    ],
)
def test_scrub_text_filters_secrets_in_free_text(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_sandbox_parses_length_prefixed_and_newline_delimited_items() -> None:
    attachment = b"line one\nline two"
    data = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
        + b'{"type":"attachment","length":%d}\n' % len(attachment)
        + attachment
        + b'{"type":"event"}\n{"message":"hello"}\n'
        + b'{"type":"session"}\n{"sid":"abc"}'
    )

    headers, items = parse_envelope(data)

    assert headers == {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}
    assert [(i["type"], i["payload"]) for i in items] == [
        ("attachment", "line one\nline two"),
        ("event", {"message": "hello"}),
        ("session", {"sid": "abc"}),
    ]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [(None, lambda b: b), ("gzip", gzip.compress), ("deflate", zlib.compress)],
)
async def test_sandbox_records_envelopes_and_answers_like_sentry(
    encoding: str | None, encode: Any
) -> None:
    body = b'{"event_id":"abc123"}\n{"type":"event"}\n{"level":"error"}\n'
    headers = {"Content-Type": "application/x-sentry-envelope"}
    if encoding:
        headers["Content-Encoding"] = encoding
    async with running_app(create_sentry_sandbox()) as sandbox:
        response = await sandbox.post(
            "/api/7/envelope/?sentry_key=pub", content=encode(body), headers=headers
        )
        await sandbox.post(
            "/api/7/envelope/",
            content=b'{}\n{"type":"client_report"}\n{"discarded_events":[]}\n',
            headers={"X-Sentry-Auth": "Sentry sentry_key=pub, sentry_version=7"},
        )
        events = (await sandbox.get("/api/envelopes", params={"type": "event"})).json()
        everything = (await sandbox.get("/api/envelopes")).json()
        assert (await sandbox.delete("/api/envelopes")).status_code == 204
        after_clear = (await sandbox.get("/api/envelopes")).json()

    assert response.status_code == 200
    assert response.json() == {"id": "abc123"}
    [envelope] = events["envelopes"]
    assert envelope["project_id"] == "7"
    assert envelope["public_key"] == "pub"
    assert envelope["items"] == [
        {"type": "event", "headers": {"type": "event"}, "payload": {"level": "error"}}
    ]
    assert len(everything["envelopes"]) == 2
    assert after_clear == {"envelopes": []}


async def test_sandbox_refuses_envelopes_without_a_key_and_keeps_the_latest_only() -> None:
    envelope = b'{"event_id":"e%d"}\n{"type":"event"}\n{}\n'
    auth = {"X-Sentry-Auth": "Sentry sentry_key=pub"}
    async with running_app(create_sentry_sandbox(limit=2)) as sandbox:
        anonymous = await sandbox.post("/api/1/envelope/", content=envelope % 0)
        for n in range(1, 4):
            await sandbox.post("/api/1/envelope/", content=envelope % n, headers=auth)
        legacy = await sandbox.post("/api/1/store/", json={"event_id": "e4"}, headers=auth)
        kept = (await sandbox.get("/api/envelopes")).json()["envelopes"]

    assert anonymous.status_code == 401
    assert legacy.json() == {"id": "e4"}
    assert [e["headers"]["event_id"] for e in kept] == ["e3", "e4"]


async def test_request_bodies_are_never_read_for_sentry(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body holds passwords and tokens; reading one for Sentry also cost every POST a
    second JSON parse."""
    reads: list[str] = []
    original_json = StarletteRequestExtractor.json

    async def spy_json(self: StarletteRequestExtractor) -> Any:
        reads.append("json")
        return await original_json(self)

    monkeypatch.setattr(StarletteRequestExtractor, "json", spy_json)

    response = await client.post("/sign-in", json=LOGIN)

    assert response.status_code == 200
    assert reads == []
