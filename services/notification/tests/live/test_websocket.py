"""WS /api/v1/notifications/ws with a real client (websockets) against the app under uvicorn:
authentication (first message or subprotocol, never the URL), live notifications with the
unread count, resume without gaps or duplicates, tabs kept in sync, heartbeat, expiry."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from notification_helpers import nothing_more, receive, send
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from webrana_common.testing.live_server import LiveServer

WS_PATH = "/api/v1/notifications/ws"
INBOX = "/api/v1/notifications"


def _ws_url(server: LiveServer, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + WS_PATH + query


async def _closed_with(ws: Any, timeout: float = 5.0) -> tuple[int | None, str]:
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await ws.recv())
                assert message["type"] in ("heartbeat", "ready"), message
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else None), (
            closed.rcvd.reason if closed.rcvd else ""
        )
    raise AssertionError("not closed")


@pytest.fixture
async def server(serve: Any) -> LiveServer:
    return serve()


@pytest.fixture
async def http(server: LiveServer) -> Any:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        yield client


async def test_first_message_auth_then_live_notifications_with_unread_count(
    server: LiveServer, http: httpx.AsyncClient, make_user: Any, ws_connect: Any
) -> None:
    user = await make_user()
    await send(http, user, "ORDER_CREATED")
    async with ws_connect(server, user) as (ws, ready):
        assert ready["user_id"] == str(user.id) and ready["unread_count"] == 1
        body = await send(http, user, "PAYMENT_CONFIRMED")
        pushed = await receive(ws, "notification:new")
        assert pushed["unread_count"] == 2
        notification = pushed["notification"]
        assert notification["id"] == body["notification_id"]
        assert notification["title"] == "Pembayaran Rp 150.000 diterima"
        assert notification["event"] == "PAYMENT_CONFIRMED" and notification["read"] is False


async def test_subprotocol_bearer_authenticates_and_is_echoed_without_the_token(
    server: LiveServer, http: httpx.AsyncClient, make_user: Any, token_for: Any
) -> None:
    user = await make_user()
    async with connect(_ws_url(server), subprotocols=["bearer", token_for(user)]) as ws:
        assert ws.subprotocol == "bearer"
        assert (await receive(ws, "ready"))["user_id"] == str(user.id)
        await send(http, user, "VPS_ACTIVE")
        assert (await receive(ws, "notification:new"))["notification"]["event"] == "VPS_ACTIVE"


async def test_a_token_in_the_url_is_refused(
    server: LiveServer, make_user: Any, token_for: Any
) -> None:
    token = token_for(await make_user())
    async with connect(_ws_url(server, f"?token={token}")) as ws:
        code, reason = await _closed_with(ws)  # at once: no waiting for an auth message
    assert code == 4400 and "URL" in reason


async def test_silence_after_connecting_closes_with_4408(server: LiveServer) -> None:
    async with connect(_ws_url(server)) as ws:
        started = time.monotonic()
        code, _ = await _closed_with(ws)
    assert code == 4408 and 0.8 < time.monotonic() - started < 3  # WS_AUTH_TIMEOUT_SECONDS=1


async def test_bad_or_expired_tokens_close_with_4401(
    server: LiveServer, make_user: Any, token_for: Any
) -> None:
    user = await make_user()
    expired = token_for(user, ttl=-60)  # past the verifier's 10 s leeway
    for first in (
        {"type": "auth", "token": expired},
        {"type": "auth", "token": "not-a-jwt"},
        {"type": "hello"},
    ):
        async with connect(_ws_url(server)) as ws:
            await ws.send(json.dumps(first))
            code, _ = await _closed_with(ws)
        assert code == 4401, first
    async with connect(_ws_url(server), subprotocols=["bearer", expired]) as ws:
        code, reason = await _closed_with(ws)
    assert code == 4401 and "expired" in reason


async def test_the_socket_closes_with_4401_when_the_token_expires_unless_refreshed(
    server: LiveServer, make_user: Any, ws_connect: Any, token_for: Any
) -> None:
    user = await make_user()
    async with ws_connect(server, user, ttl=2) as (ws, _):
        started = time.monotonic()
        code, reason = await _closed_with(ws)
    assert code == 4401 and reason == "token expired"
    assert 0.5 < time.monotonic() - started < 6

    async with ws_connect(server, user, ttl=2) as (ws, _):
        await ws.send(json.dumps({"type": "auth", "token": token_for(user, ttl=600)}))
        assert (await receive(ws, "authenticated"))["type"] == "authenticated"
        await asyncio.sleep(2.3)
        await ws.send(json.dumps({"type": "ping"}))
        assert (await receive(ws, "pong"))["type"] == "pong"  # still open past the old expiry
        other = await make_user()
        await ws.send(json.dumps({"type": "auth", "token": token_for(other)}))
        code, _ = await _closed_with(ws)
    assert code == 4401  # a token of another user does not take over the socket


async def test_resume_sends_what_was_missed_in_order_then_live_without_duplicates(
    server: LiveServer, http: httpx.AsyncClient, make_user: Any, ws_connect: Any
) -> None:
    user = await make_user()
    async with ws_connect(server, user) as (ws, _):
        await send(http, user, "ORDER_CREATED")
        last_seen = (await receive(ws, "notification:new"))["notification"]["id"]
    missed = [
        (await send(http, user, event))["notification_id"]
        for event in ("PAYMENT_CONFIRMED", "VPS_ACTIVE", "WALLET_TOPUP")
    ]
    async with ws_connect(server, user, last_id=last_seen) as (ws, ready):
        assert ready["unread_count"] == 4
        replayed = [await receive(ws, "notification:new") for _ in missed]
        assert [m["notification"]["id"] for m in replayed] == missed
        assert [m["notification"]["seq"] for m in replayed] == [2, 3, 4]
        resumed = await receive(ws, "resumed")
        assert resumed == {
            "type": "resumed",
            "count": 3,
            "truncated": False,
            "reset": False,
            "unread_count": 4,
        }
        live = await send(http, user, "VPS_EXPIRING")
        assert (await receive(ws, "notification:new"))["notification"]["id"] == live[
            "notification_id"
        ]
        # Asking again from the same point while connected: nothing this socket already
        # had comes twice.
        await ws.send(json.dumps({"type": "resume", "last_id": last_seen}))
        assert (await receive(ws, "resumed"))["count"] == 0
        assert await nothing_more(ws) == []


async def test_resume_from_an_unknown_id_asks_for_a_refetch(
    server: LiveServer, make_user: Any, ws_connect: Any
) -> None:
    user = await make_user()
    async with ws_connect(server, user, last_id="9d3f2a4e-0000-4000-8000-000000000000") as (
        ws,
        _,
    ):
        assert (await receive(ws, "resumed"))["reset"] is True
        await ws.send(json.dumps({"type": "resume", "last_id": "nope"}))
        assert (await receive(ws, "error"))["code"] == "invalid_last_id"


async def test_tabs_stay_in_sync_and_users_stay_apart(
    server: LiveServer, http: httpx.AsyncClient, make_user: Any, ws_connect: Any, bearer: Any
) -> None:
    user, stranger = await make_user(), await make_user()
    async with (
        ws_connect(server, user) as (tab1, _),
        ws_connect(server, user) as (tab2, _),
        ws_connect(server, stranger) as (other, _),
    ):
        first = (await send(http, user, "ORDER_CREATED"))["notification_id"]
        second = (await send(http, user, "VPS_ACTIVE"))["notification_id"]
        for tab in (tab1, tab2):
            assert (await receive(tab, "notification:new"))["notification"]["id"] == first
            assert (await receive(tab, "notification:new"))["notification"]["id"] == second

        await http.post(f"{INBOX}/{first}/read", headers=bearer(user))  # "in tab 1"
        for tab in (tab1, tab2):
            read = await receive(tab, "notification:read")
            assert read["ids"] == [first] and read["unread_count"] == 1

        await http.delete(f"{INBOX}/{second}", headers=bearer(user))
        for tab in (tab1, tab2):
            deleted = await receive(tab, "notification:deleted")
            assert deleted == {"type": "notification:deleted", "id": second, "unread_count": 0}
            assert await receive(tab, "unread_count") == {"type": "unread_count", "unread_count": 0}

        third = (await send(http, user, "WALLET_TOPUP"))["notification_id"]
        await receive(tab1, "notification:new")
        await receive(tab2, "notification:new")
        await http.post(f"{INBOX}/read-all", json={"before_id": third}, headers=bearer(user))
        for tab in (tab1, tab2):
            read = await receive(tab, "notification:read")
            assert read["ids"] == [third] and read["unread_count"] == 0
        assert await nothing_more(other) == []


async def test_heartbeat_and_ping(serve: Any, make_user: Any, ws_connect: Any) -> None:
    server = serve(ws_heartbeat_seconds=0.2)
    async with ws_connect(server, await make_user()) as (ws, ready):
        assert ready["heartbeat_seconds"] == 0.2
        assert (await receive(ws, "heartbeat", timeout=2))["ts"] > 0
        await ws.send(json.dumps({"type": "ping"}))
        assert (await receive(ws, "pong"))["type"] == "pong"
        await ws.send(json.dumps({"type": "dance"}))
        assert (await receive(ws, "error"))["code"] == "unknown_type"
