"""The gateway's own errors, and sending any error as problem+json from pure ASGI code."""

from __future__ import annotations

import json

from starlette.types import Receive, Scope, Send

from webrana_common.errors import (
    AppError,
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from webrana_common.problem import problem_response


class PathInvalid(BadRequest):
    code = "path_invalid"


class RouteNotFound(NotFound):
    pass


class BodyTooLarge(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body exceeds {limit} bytes", limit_bytes=limit)


class AdminNetworkForbidden(Forbidden):
    code = "admin_network_forbidden"


class UpstreamUnavailable(ServiceUnavailable):
    code = "upstream_unavailable"

    def __init__(self, service: str, detail: str | None = None) -> None:
        super().__init__(detail or f"The {service} service is unavailable", service=service)


class UpstreamNotConfigured(UpstreamUnavailable):
    code = "upstream_not_configured"


class CircuitOpen(UpstreamUnavailable):
    code = "circuit_open"

    def __init__(self, service: str, retry_after: int) -> None:
        super().__init__(
            service,
            f"The {service} service is failing; calls are paused for {retry_after} s",
        )
        self.headers["Retry-After"] = str(retry_after)
        self.extra["retry_after"] = retry_after


class UpstreamTimedOut(AppError):
    status = 504
    code = "upstream_timeout"
    title = "Gateway timeout"

    def __init__(self, service: str) -> None:
        super().__init__(f"The {service} service did not answer in time", service=service)


class UpstreamBadResponse(AppError):
    status = 502
    code = "upstream_error"
    title = "Bad gateway"

    def __init__(self, service: str) -> None:
        super().__init__(
            f"The {service} service answered with an invalid response", service=service
        )


async def send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    error: AppError,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    response = problem_response(
        error.status,
        error.code,
        error.title,
        error.detail,
        instance=scope.get("path"),
        headers=error.headers,
        **error.extra,
    )
    if headers:
        response.raw_headers.extend(headers)
    if scope["type"] == "websocket":
        await _reject_handshake(
            scope, send, response.status_code, response.raw_headers, response.body
        )
        return
    await response(scope, receive, send)


async def _reject_handshake(
    scope: Scope, send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """An HTTP answer to a WebSocket handshake where the server supports it, else a close
    (which servers turn into 403)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    code = 1013 if status in (503, 504) else 1008
    reason = json.loads(body).get("code", "") if body else ""
    await send({"type": "websocket.close", "code": code, "reason": reason})
