"""WebSocket proxying: the upstream handshake first (its subprotocol is the one accepted), then
frames both ways, text as text and binary as binary, until either side closes or nothing moves
for WEBSOCKET_IDLE_TIMEOUT_SECONDS.

Memory stays bounded with a slow reader on either side: each pump reads its next frame only
once the previous one was written, uvicorn's `send` waits while the client's socket is full and
the upstream client queues at most WEBSOCKET_MAX_QUEUE frames before it stops reading the
service's socket. Close codes travel through; a side that left without one is reported to the
other as 1001 (the client went away) or 1014 (bad gateway: the service vanished).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from gateway_service.circuit_breaker import CircuitBreaker
from gateway_service.problems import (
    UpstreamBadResponse,
    UpstreamTimedOut,
    UpstreamUnavailable,
    send_problem,
)
from gateway_service.proxy import HOP_BY_HOP
from gateway_service.upstream_pool import UpstreamPool
from webrana_common.request_id import get_request_id

if TYPE_CHECKING:
    from gateway_service.runtime import GatewayRuntime

log = logging.getLogger("webrana.gateway.websocket")

# Handshake headers the WebSocket client writes itself, plus those the gateway replaces.
_NOT_COPIED = HOP_BY_HOP | {
    b"host",
    b"sec-websocket-key",
    b"sec-websocket-version",
    b"sec-websocket-extensions",
    b"sec-websocket-protocol",
    b"sec-websocket-accept",
    b"user-agent",
    b"content-length",
    b"forwarded",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"x-request-id",
}
_SENDABLE = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
GOING_AWAY = 1001
BAD_GATEWAY = 1014


def sendable_code(code: int | None, *, vanished: int, no_status: int = 1000) -> int:
    """A close code that may go on the wire: 1005 (a close without a code) becomes `no_status`,
    1006 (no close at all) becomes `vanished`."""
    if code is None or code == 1006:
        return vanished
    if code == 1005:
        return no_status
    return code if code in _SENDABLE or 3000 <= code < 5000 else 1000


class WebSocketProxy:
    def __init__(self, runtime: GatewayRuntime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.idle_timeout = settings.websocket_idle_timeout_seconds
        self.open_timeout = settings.upstream_connect_timeout_seconds
        self.max_size = settings.websocket_max_message_bytes
        self.max_queue = settings.websocket_max_queue

    async def serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        pool: UpstreamPool,
        breaker: CircuitBreaker,
        target: bytes,
        forwarded_for: bytes,
        forwarded_proto: bytes,
    ) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            breaker.release_probe()
            return
        try:
            upstream = await self._open(scope, pool, target, forwarded_for, forwarded_proto)
        except InvalidStatus as exc:
            breaker.record_success()  # the service answered; it refused this handshake
            await self._relay_refusal(scope, send, exc, pool.service)
            return
        except TimeoutError:
            breaker.record_failure()
            await send_problem(scope, receive, send, UpstreamTimedOut(pool.service))
            return
        except OSError:
            breaker.record_failure()
            await send_problem(scope, receive, send, UpstreamUnavailable(pool.service))
            return
        except InvalidHandshake:
            breaker.record_failure()
            await send_problem(scope, receive, send, UpstreamBadResponse(pool.service))
            return
        breaker.record_success()
        gauge = self.runtime.metrics.websockets.labels(pool.service)
        gauge.inc()
        try:
            await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
            await self._pump(receive, send, upstream)
        finally:
            gauge.dec()
            with contextlib.suppress(Exception):
                await upstream.close()

    async def _open(
        self,
        scope: Scope,
        pool: UpstreamPool,
        target: bytes,
        forwarded_for: bytes,
        forwarded_proto: bytes,
    ) -> ClientConnection:
        query = scope.get("query_string", b"")
        scheme = "wss" if pool.ssl else "ws"
        url = f"{scheme}://{pool.host_header.decode()}{(pool.base_path + target).decode()}"
        if query:
            url += "?" + query.decode("latin-1")
        headers: list[tuple[str, str]] = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope["headers"]
            if name not in _NOT_COPIED
        ]
        headers.append(("X-Forwarded-For", forwarded_for.decode("latin-1")))
        headers.append(("X-Forwarded-Proto", "wss" if forwarded_proto == b"https" else "ws"))
        request_id = get_request_id()
        if request_id:
            headers.append(("X-Request-ID", request_id))
        return await connect(
            url,
            additional_headers=headers,
            subprotocols=scope.get("subprotocols") or None,
            open_timeout=self.open_timeout,
            max_size=self.max_size,
            max_queue=self.max_queue,
            compression=None,
            user_agent_header=None,
            proxy=None,
            ssl=pool.ssl,
        )

    async def _relay_refusal(
        self, scope: Scope, send: Send, exc: InvalidStatus, service: str
    ) -> None:
        response = exc.response
        if response.status_code >= 500 or "websocket.http.response" not in scope.get(
            "extensions", {}
        ):
            await send_problem(scope, _no_receive, send, UpstreamBadResponse(service))
            return
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in response.headers.raw_items()
            if name.lower().encode("latin-1") not in _NOT_COPIED
            and name.lower() not in ("date", "server")
        ]
        await send(
            {
                "type": "websocket.http.response.start",
                "status": response.status_code,
                "headers": headers,
            }
        )
        await send({"type": "websocket.http.response.body", "body": bytes(response.body or b"")})

    async def _pump(self, receive: Receive, send: Send, upstream: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        last_activity = loop.time()

        async def client_to_upstream() -> tuple[int, str]:
            nonlocal last_activity
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    text = message.get("text")
                    await upstream.send(text if text is not None else message.get("bytes") or b"")
                    last_activity = loop.time()
                elif kind == "websocket.disconnect":
                    return message.get("code", 1005), message.get("reason") or ""

        async def upstream_to_client() -> None:
            nonlocal last_activity
            with contextlib.suppress(ConnectionClosed):
                while True:
                    data = await upstream.recv()
                    if isinstance(data, str):
                        await send({"type": "websocket.send", "text": data})
                    else:
                        await send({"type": "websocket.send", "bytes": data})
                    last_activity = loop.time()

        async def idle() -> None:
            # Sleeps until the deadline, which each frame moves: one wake-up per quiet period.
            while (left := last_activity + self.idle_timeout - loop.time()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(left)

        from_client = asyncio.ensure_future(client_to_upstream())
        from_upstream = asyncio.ensure_future(upstream_to_client())
        idle_timer = asyncio.ensure_future(idle())
        tasks = (from_client, from_upstream, idle_timer)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_both(send, upstream, from_client, from_upstream, idle_timer)

    async def _close_both(
        self,
        send: Send,
        upstream: ClientConnection,
        from_client: asyncio.Future[Any],
        from_upstream: asyncio.Future[Any],
        idle_timer: asyncio.Future[Any],
    ) -> None:
        """Close whichever side is still open, telling it why the other side ended."""
        if _returned(from_client):
            code, reason = from_client.result()
            # uvicorn reports a client that dropped its connection as 1005, like a close frame
            # without a code: both mean "went away" to the service.
            code = sendable_code(code, vanished=GOING_AWAY, no_status=GOING_AWAY)
            with contextlib.suppress(Exception):
                await upstream.close(code, reason)
            return
        if _failed(from_upstream):  # writing to the client failed: it is gone
            with contextlib.suppress(Exception):
                await upstream.close(GOING_AWAY, "client went away")
            return
        if _returned(idle_timer):
            code, reason = GOING_AWAY, "idle timeout"
            with contextlib.suppress(Exception):
                await upstream.close(code, reason)
        else:  # the service closed, vanished, or could not be written to
            with contextlib.suppress(asyncio.TimeoutError, ConnectionClosed):
                await asyncio.wait_for(upstream.wait_closed(), 1.0)
            code = sendable_code(upstream.close_code, vanished=BAD_GATEWAY)
            reason = upstream.close_reason or ""
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": code, "reason": reason})


def _returned(task: asyncio.Future[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


def _failed(task: asyncio.Future[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is not None


async def _no_receive() -> dict[str, Any]:
    return {"type": "websocket.disconnect", "code": 1006}
