"""A bug while proxying reaches Sentry like a bug in a service: the client gets a problem+json
500 with its request id, and Sentry an event naming that request (no secret of it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sentry_sdk
from conftest import RunningGateway
from starlette.types import Receive, Scope, Send

from devstack.sandbox.sentry import create_app as create_sentry_sandbox
from gateway_service.edge import Edge
from webrana_common.testing.live_server import LiveServer

BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZQ"


@pytest.fixture
def sentry_url() -> Iterator[str]:
    with LiveServer(create_sentry_sandbox()) as sandbox:
        yield sandbox.url
        sentry_sdk.flush(timeout=5)
        sentry_sdk.init()  # no DSN: later tests report nowhere


async def test_a_bug_while_proxying_is_reported_with_its_request(
    start_gateway: Callable[..., RunningGateway],
    sentry_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: Edge, scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("edge bug")

    monkeypatch.setattr(Edge, "__call__", broken)
    port = sentry_url.rsplit(":", 1)[1]
    gateway = start_gateway(sentry_dsn=f"http://publickey@127.0.0.1:{port}/1")

    async with gateway.client() as client:
        response = await client.get(
            "/api/v1/orders", params={"status": "ACTIVE"}, headers={"Authorization": BEARER}
        )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "edge bug" not in response.text

    events: list[dict[str, Any]] = []
    for _ in range(100):
        sentry_sdk.flush(timeout=2)
        listing = httpx.get(f"{sentry_url}/api/envelopes", params={"type": "event"}).json()
        envelopes = listing["envelopes"]
        events = [i["payload"] for e in envelopes for i in e["items"] if i["type"] == "event"]
        if events:
            break
        await asyncio.sleep(0.05)
    [event] = events
    assert event["exception"]["values"][-1]["value"] == "edge bug"
    assert event["tags"]["request_id"] == response.headers["x-request-id"]
    assert event["tags"]["service"] == "gateway"
    assert event["request"]["url"] == f"{gateway.url}/api/v1/orders"
    assert event["request"]["query_string"] == "status=ACTIVE"
    assert BEARER not in str(envelopes)
