"""Request ids: accepted from `X-Request-ID`, or generated; echoed, logged and propagated."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

import sentry_sdk
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webrana_common.sentry import request_scope

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_SAFE = re.compile(r"[^A-Za-z0-9._:\-]")

_request_id: ContextVar[str | None] = ContextVar("webrana_request_id", default=None)
log = logging.getLogger("webrana.http")


def get_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    _request_id.set(value)


def sanitize_request_id(raw: str | None) -> str | None:
    """Keep only characters safe in logs and headers; a blank result means "generate one"."""
    if not raw:
        return None
    cleaned = _SAFE.sub("", raw)[:MAX_LENGTH]
    return cleaned or None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI, so the id lives in a contextvar seen by handlers, logs and outgoing calls.

    It also turns an unhandled exception into a problem+json 500 that carries the request id
    header, then re-raises so the server log and Sentry (`sentry.request_scope`, each request
    in a Sentry scope of its own) still get the stack.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = sanitize_request_id(incoming) or new_request_id()
        _request_id.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        if sentry_sdk.get_client().is_active():
            with request_scope(scope, request_id):
                await self._handle(scope, receive, send, request_id)
        else:
            await self._handle(scope, receive, send, request_id)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if scope["type"] != "http" or started:
                raise
            from webrana_common.problem import internal_error_response

            response = internal_error_response(scope.get("path", "/"))
            await response(scope, receive, send_with_id)
            raise
