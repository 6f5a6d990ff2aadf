"""WebSocket proxying: frames both ways (text stays text, binary stays binary), subprotocols and
close codes passed through, an idle timeout, backpressure from a slow client, and each side's
departure closing the other."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import pytest
from conftest import RunningGateway, closed_port
from gateway_tokens import TokenMint
from gateway_upstreams import Upstream
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

NOTIFICATIONS = "/api/v1/notifications/ws"
CONSOLE = "/api/v1/instances/console/ws"


def _connect(gateway: RunningGateway, path: str, token: str | None, **kwargs):  # type: ignore[no-untyped-def]
    query = f"?access_token={token}" if token else ""
    return connect(f"{gateway.ws_url}{path}{query}", open_timeout=5, proxy=None, **kwargs)


async def _wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("path", "service"), [(NOTIFICATIONS, "notification"), (CONSOLE, "instance")]
)
async def test_frames_travel_both_ways_with_their_type(
    gateway: RunningGateway, mint: TokenMint, path: str, service: str
) -> None:
    async with _connect(gateway, path, mint.token()) as ws:
        assert await ws.recv() == f"welcome:{service}"  # pushed by the service unasked
        await ws.send("hello")
        assert await ws.recv() == "hello"
        await ws.send(b"\x00\x01\xff")
        echoed = await ws.recv()
        assert echoed == b"\x00\x01\xff" and isinstance(echoed, bytes)


async def test_the_handshake_carries_the_token_and_forwarded_headers(
    gateway: RunningGateway, mint: TokenMint
) -> None:
    token = mint.token()
    async with _connect(
        gateway, NOTIFICATIONS, None, additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        await ws.recv()
        await ws.send("headers")
        headers = json.loads(await ws.recv())
    assert headers["authorization"] == f"Bearer {token}"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-request-id"]


async def test_the_subprotocol_chosen_by_the_service_is_the_one_accepted(
    gateway: RunningGateway, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    async with _connect(
        gateway, NOTIFICATIONS, mint.token(), subprotocols=["webrana.v2", "webrana.v1"]
    ) as ws:
        assert ws.subprotocol == "webrana.v2"
    connects = [e for e in upstreams["notification"].ws_events if e[0] == "connect"]
    assert connects[0][1]["subprotocols"] == ["webrana.v2", "webrana.v1"]


async def test_a_close_by_the_service_reaches_the_client_with_its_code(
    gateway: RunningGateway, mint: TokenMint
) -> None:
    async with _connect(gateway, NOTIFICATIONS, mint.token()) as ws:
        await ws.recv()
        await ws.send("close:4001:session replaced")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 4001
    assert ws.close_reason == "session replaced"


async def test_a_close_by_the_client_reaches_the_service_with_its_code(
    gateway: RunningGateway, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    async with _connect(gateway, CONSOLE, mint.token()) as ws:
        await ws.recv()
        await ws.close(4002, "tab closed")
    events = upstreams["instance"].ws_events
    await _wait_for(lambda: any(e[0] == "disconnect" for e in events))
    assert ("disconnect", 4002) in events


async def test_a_client_that_vanishes_is_reported_to_the_service_as_going_away(
    gateway: RunningGateway, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    ws: ClientConnection = await _connect(gateway, NOTIFICATIONS, mint.token())
    await ws.recv()
    ws.transport.abort()  # no close frame: the connection is just gone
    events = upstreams["notification"].ws_events
    await _wait_for(lambda: any(e[0] == "disconnect" for e in events))
    assert ("disconnect", 1001) in events


async def test_a_service_that_goes_down_closes_the_client(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    upstream = Upstream("notification").start()
    gateway = start_gateway(notification_url=upstream.url)
    async with _connect(gateway, NOTIFICATIONS, mint.token()) as ws:
        await ws.recv()
        await asyncio.to_thread(upstream.stop)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code in (1001, 1012, 1014)


async def test_an_idle_connection_is_closed_on_both_sides(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    gateway = start_gateway(websocket_idle_timeout_seconds=0.4)
    started = time.monotonic()
    async with _connect(gateway, NOTIFICATIONS, mint.token()) as ws:
        await ws.recv()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 1001
    assert ws.close_reason == "idle timeout"
    assert time.monotonic() - started < 3
    events = upstreams["notification"].ws_events
    await _wait_for(lambda: ("disconnect", 1001) in events)


async def test_activity_keeps_a_connection_open_past_the_idle_timeout(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    gateway = start_gateway(websocket_idle_timeout_seconds=0.5)
    async with _connect(gateway, NOTIFICATIONS, mint.token()) as ws:
        await ws.recv()
        for _ in range(6):
            await asyncio.sleep(0.2)
            await ws.send("ping")
            assert await ws.recv() == "ping"


async def test_a_slow_client_holds_the_service_back_instead_of_filling_memory(
    gateway: RunningGateway, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    total, size = 2000, 64 * 1024  # 128 MiB if nothing pushed back
    async with _connect(gateway, CONSOLE, mint.token(), max_queue=4, compression=None) as ws:
        await ws.recv()
        await ws.send(f"flood:{total}:{size}")
        await asyncio.sleep(1.5)  # not reading
        upstream = upstreams["instance"]
        held_back_at = upstream.flood_sent
        assert held_back_at < total // 2, f"{held_back_at} messages went out unread"
        received = 0
        while received < total:
            message = await asyncio.wait_for(ws.recv(), 10)
            assert len(message) == size
            received += 1
    assert upstream.flood_sent == total


async def test_a_handshake_without_a_token_is_refused(
    gateway: RunningGateway, upstreams: dict[str, Upstream]
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with _connect(gateway, NOTIFICATIONS, None):
            pass
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["code"] == "token_missing"
    assert not upstreams["notification"].ws_events


async def test_a_browsers_bearer_subprotocol_carries_the_token(
    gateway: RunningGateway, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    """`new WebSocket(url, ["bearer", token])`: no header, nothing in the URL (the notification
    service refuses a token there); the service gets both subprotocols and picks `bearer`."""
    token = mint.token()
    async with _connect(gateway, NOTIFICATIONS, None, subprotocols=["bearer", token]) as ws:
        assert ws.subprotocol == "bearer"
        assert await ws.recv() == "welcome:notification"
    connects = [e for e in upstreams["notification"].ws_events if e[0] == "connect"]
    assert connects[0][1] == {"path": NOTIFICATIONS, "subprotocols": ["bearer", token]}


async def test_an_invalid_token_in_the_bearer_subprotocol_is_refused(
    gateway: RunningGateway, upstreams: dict[str, Upstream]
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with _connect(gateway, NOTIFICATIONS, None, subprotocols=["bearer", "not-a-jwt"]):
            pass
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["code"] == "token_invalid"
    assert not upstreams["notification"].ws_events


async def test_a_handshake_on_an_unknown_path_is_refused(
    gateway: RunningGateway, mint: TokenMint
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with _connect(gateway, "/api/v1/orders/ws", mint.token()):
            pass
    assert refused.value.response.status_code == 404


async def test_a_handshake_to_a_service_that_is_down_gets_503(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    gateway = start_gateway(notification_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(InvalidStatus) as refused:
        async with _connect(gateway, NOTIFICATIONS, mint.token()):
            pass
    assert refused.value.response.status_code == 503
    assert json.loads(refused.value.response.body)["service"] == "notification"


async def test_browsers_from_other_origins_cannot_open_websockets(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    gateway = start_gateway(cors_origins="https://app.webrana.cloud")
    with pytest.raises(InvalidStatus) as refused:
        async with _connect(gateway, NOTIFICATIONS, mint.token(), origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    assert json.loads(refused.value.response.body)["code"] == "origin_forbidden"
    async with _connect(
        gateway, NOTIFICATIONS, mint.token(), origin="https://app.webrana.cloud"
    ) as ws:
        assert await ws.recv() == "welcome:notification"
    assert len([e for e in upstreams["notification"].ws_events if e[0] == "connect"]) == 1
