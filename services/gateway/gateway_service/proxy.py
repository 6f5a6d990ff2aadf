"""Forwarding one HTTP request to a service and its answer back, both bodies streamed.

Kept: method, the normalised path, query string, status, end-to-end headers. Dropped: hop-by-hop
headers (and those a `Connection` header names), the client's `X-Forwarded-*` unless a trusted
proxy wrote them, and the service's `Date`/`Server` (uvicorn writes its own). Set:
`X-Forwarded-For/Proto/Host` and `X-Request-ID`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from starlette.types import Message, Receive, Scope, Send

from gateway_service.circuit_breaker import CircuitBreaker
from gateway_service.gateway_metrics import GatewayMetrics
from gateway_service.problems import (
    BodyTooLarge,
    UpstreamBadResponse,
    UpstreamTimedOut,
    UpstreamUnavailable,
)
from gateway_service.upstream_connection import (
    UpstreamClosed,
    UpstreamConnectError,
    UpstreamConnection,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamResponse,
    UpstreamTimeout,
)
from gateway_service.upstream_pool import UpstreamPool
from webrana_common.errors import AppError
from webrana_common.request_id import get_request_id

log = logging.getLogger("webrana.gateway.proxy")

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Request headers the gateway writes itself (or, for Expect, has already answered).
_NOT_COPIED = HOP_BY_HOP | {
    b"host",
    b"content-length",
    b"expect",
    b"forwarded",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"x-request-id",
}
_DROPPED_FROM_RESPONSE = HOP_BY_HOP | {b"date", b"server"}
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_BACKOFF_SECONDS = 0.05


@dataclass(slots=True)
class ForwardedRequest:
    """What the edge learnt about the request on its one pass over the headers."""

    target: bytes  # normalised path, percent-encoded
    forwarded_for: bytes
    forwarded_proto: bytes
    forwarded_host: bytes
    content_length: int | None
    chunked: bool
    body_limit: int
    connection_tokens: frozenset[bytes] = frozenset()


class ClientDisconnected(Exception):
    """The client left while its body was being forwarded: nobody is left to answer."""


class Forwarder:
    def __init__(
        self,
        *,
        timeout: float,
        retries: int,
        metrics: GatewayMetrics,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.metrics = metrics

    async def forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        pool: UpstreamPool,
        breaker: CircuitBreaker,
        request: ForwardedRequest,
        extra_headers: list[tuple[bytes, bytes]],
    ) -> None:
        """Raises an AppError (to be sent as problem+json) when nothing was answered yet."""
        method = scope["method"]
        head = self._request_head(scope, pool, request)
        idempotent = method in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            try:
                connection = await pool.acquire()
            except UpstreamConnectError as exc:
                if idempotent and attempt < self.retries:
                    attempt += 1
                    await asyncio.sleep(RETRY_BACKOFF_SECONDS * attempt)
                    continue
                self._failed(pool, breaker, "connect_error")
                raise UpstreamUnavailable(pool.service) from exc
            response = connection.start(method == "HEAD")
            body_read = False
            try:
                try:
                    body_read = await self._send_request(connection, head, receive, request)
                except UpstreamClosed:
                    # A service may answer (413, 401) and close before reading the whole body:
                    # then its answer is relayed.
                    if not response.has_headers:
                        raise
                await response.wait_headers(self.timeout)
            except (BodyTooLarge, ClientDisconnected):
                connection.abort()
                pool.release(connection)
                breaker.release_probe()
                raise
            except UpstreamError as exc:
                reused = connection.reused
                pool.release(connection)
                # A kept-alive connection the service closed just as we reused it: nothing was
                # processed, and an idempotent request without a consumed body can go again.
                if (
                    isinstance(exc, UpstreamClosed)
                    and reused
                    and idempotent
                    and not body_read
                    and attempt < self.retries
                ):
                    attempt += 1
                    continue
                raise self._error(pool, breaker, exc) from exc
            except BaseException:
                connection.abort()
                pool.release(connection)
                breaker.release_probe()
                raise
            break
        try:
            await self._relay_response(scope, receive, send, connection, response, extra_headers)
        finally:
            pool.release(connection)
        if response.status in (502, 503, 504):
            self._failed(pool, breaker, f"status_{response.status}")
        else:
            breaker.record_success()
            self.metrics.upstream_outcome(pool.service, "ok")

    def _failed(self, pool: UpstreamPool, breaker: CircuitBreaker, outcome: str) -> None:
        breaker.record_failure()
        self.metrics.upstream_outcome(pool.service, outcome)

    def _error(self, pool: UpstreamPool, breaker: CircuitBreaker, exc: UpstreamError) -> AppError:
        if isinstance(exc, UpstreamTimeout):
            self._failed(pool, breaker, "timeout")
            return UpstreamTimedOut(pool.service)
        if isinstance(exc, UpstreamProtocolError):
            self._failed(pool, breaker, "bad_response")
            return UpstreamBadResponse(pool.service)
        self._failed(pool, breaker, "closed")
        return UpstreamUnavailable(
            pool.service, f"The {pool.service} service closed the connection without answering"
        )

    def _request_head(self, scope: Scope, pool: UpstreamPool, request: ForwardedRequest) -> bytes:
        query = scope["query_string"]
        target = pool.base_path + request.target + (b"?" + query if query else b"")
        lines = [
            scope["method"].encode("ascii") + b" " + target + b" HTTP/1.1",
            b"host: " + pool.host_header,
        ]
        skip = _NOT_COPIED | request.connection_tokens if request.connection_tokens else _NOT_COPIED
        for name, value in scope["headers"]:
            if name not in skip:
                lines.append(name + b": " + value)
        lines.append(b"x-forwarded-for: " + request.forwarded_for)
        lines.append(b"x-forwarded-proto: " + request.forwarded_proto)
        if request.forwarded_host:
            lines.append(b"x-forwarded-host: " + request.forwarded_host)
        request_id = get_request_id()
        if request_id:
            lines.append(b"x-request-id: " + request_id.encode("ascii"))
        if request.chunked:
            lines.append(b"transfer-encoding: chunked")
        elif request.content_length is not None:
            lines.append(b"content-length: %d" % request.content_length)
        lines.append(b"\r\n")
        return b"\r\n".join(lines)

    async def _send_request(
        self,
        connection: UpstreamConnection,
        head: bytes,
        receive: Receive,
        request: ForwardedRequest,
    ) -> bool:
        """Write the head and stream the body; True once any body was read from the client."""
        if not request.chunked and not request.content_length:
            connection.write(head)
            return False
        message = await receive()
        body = message.get("body", b"")
        more = message.get("more_body", False)
        total = len(body)
        if total > request.body_limit:
            raise BodyTooLarge(request.body_limit)
        chunked = request.chunked
        connection.write(head + (_chunk(body) if chunked else body))
        while more:
            await connection.drain(self.timeout)
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            body = message.get("body", b"")
            more = message.get("more_body", False)
            total += len(body)
            if total > request.body_limit:
                raise BodyTooLarge(request.body_limit)
            if body:
                connection.write(_chunk(body) if chunked else body)
        if chunked:
            connection.write(b"0\r\n\r\n")
        return True

    async def _relay_response(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        connection: UpstreamConnection,
        response: UpstreamResponse,
        extra_headers: list[tuple[bytes, bytes]],
    ) -> None:
        headers = response_headers(response.headers)
        if extra_headers:
            headers.extend(extra_headers)
        start: Message = {
            "type": "http.response.start",
            "status": response.status,
            "headers": headers,
        }
        if response.complete:
            body = response.take_body()
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await send(start)
        watcher = asyncio.ensure_future(_watch_disconnect(receive, connection))
        try:
            while True:
                chunk = await response.read_chunk(self.timeout)
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except UpstreamError as exc:
            # The status line is out: all that is left is to cut the client's connection, which
            # uvicorn does when the app returns an unfinished response.
            connection.abort()
            if not watcher.done():
                log.warning("upstream response broke off: %s", exc)
            return
        finally:
            watcher.cancel()
        await send({"type": "http.response.body", "body": b""})


async def _watch_disconnect(receive: Receive, connection: UpstreamConnection) -> None:
    """A client that leaves mid-download must not keep the service streaming into the void
    (uvicorn silently drops what is sent after a disconnect)."""
    with contextlib.suppress(Exception):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                connection.abort()
                return


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b""


def response_headers(upstream: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    headers = []
    named: set[bytes] | None = None
    for name, value in upstream:
        if name in _DROPPED_FROM_RESPONSE:
            if name == b"connection":
                named = connection_tokens(value)
            continue
        headers.append((name, value))
    if named:
        headers = [(n, v) for n, v in headers if n not in named]
    return headers


def connection_tokens(value: bytes) -> frozenset[bytes]:
    """Header names a `Connection` header declares hop-by-hop."""
    tokens = {t.strip().lower() for t in value.split(b",")}
    tokens -= {b"keep-alive", b"close", b""}
    return frozenset(tokens)
