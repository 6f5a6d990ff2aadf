"""Helpers shared by the notification tests (imported by module name; see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

API_KEY = "order-test-key"  # what producers present to notification
AUTH_KEY = "notification-test-key"  # what notification presents to auth
BOT_TOKEN = "123456:TEST-token_abc"
WEBHOOK_SECRET = "hook-secret_123"
INTERNAL = {"X-API-Key": API_KEY}
SEND = "/internal/notifications/send"


@dataclass
class SeededUser:
    id: uuid.UUID
    email: str
    full_name: str
    locale: str = "id"
    chat_id: int | None = None


def sample(event: str) -> dict[str, Any]:
    from notification_service.contracts import EVENTS

    return dict(EVENTS[event].sample or {})  # type: ignore[index]


async def send(
    client: httpx.AsyncClient,
    user: SeededUser | uuid.UUID,
    event: str = "PAYMENT_CONFIRMED",
    data: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    expect: int | None = 202,
    **body: Any,
) -> dict[str, Any]:
    user_id = user.id if isinstance(user, SeededUser) else user
    payload = {
        "event": event,
        "user_id": str(user_id),
        "data": sample(event) if data is None else data,
        "idempotency_key": key or f"test:{uuid.uuid4()}",
        **body,
    }
    response = await client.post(SEND, json=payload, headers=INTERNAL)
    if expect is not None:
        assert response.status_code == expect, response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 5.0, interval: float = 0.02
) -> Any:
    """The first truthy result of `check`, polling; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


async def receive(ws: ClientConnection, kind: str | None = None, timeout: float = 5.0) -> dict:
    """The next message (of `kind`, skipping heartbeats and other kinds when given)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {kind or 'message'} within {timeout}s")
        message = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        if message["type"] == "heartbeat" and kind != "heartbeat":
            continue
        if kind is None or message["type"] == kind:
            return message


async def nothing_more(ws: ClientConnection, wait: float = 0.3) -> list[dict]:
    """Messages (other than heartbeats) that arrive within `wait` seconds."""
    extra = []
    deadline = time.monotonic() + wait
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        except TimeoutError:
            break
        if message["type"] != "heartbeat":
            extra.append(message)
    return extra
