"""Refuses a request carrying a NUL (see `nul_text`) before any route or fast path sees it.

A middleware rather than a FastAPI dependency: the fast paths that answer without FastAPI
(notification's send, catalog's public reads) are covered too, and it costs a few
microseconds a request where a dependency on every route cost about twenty.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from webrana_common.asgi_body import read_body, replay
from webrana_common.nul_text import find_nul, nul_error
from webrana_common.problem import validation_problem


class RefuseNulMiddleware:
    """Pure ASGI, inside the request-id and metrics middleware (the 422 gets both) and outside
    the fast paths. It reads a JSON body whole before passing it on, as FastAPI reads it for
    the route anyway; public bodies are bounded at the gateway (`MAX_BODY_BYTES`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loc = _nul_in_url(scope)
        if loc is None and _is_json(scope):
            body, complete = await read_body(receive)
            receive = replay(body, complete, receive)
            loc = _nul_in_body(body) if complete else None
        if loc is None:
            await self.app(scope, receive, send)
            return
        response = validation_problem(scope["path"], [nul_error(loc)])
        await response(scope, receive, send)


def _nul_in_url(scope: Scope) -> tuple[Any, ...] | None:
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        # Parsed as Starlette parses it, for the parameter's name.
        for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in key or "\x00" in value:
                return ("query", key)
    if "\x00" in scope["path"]:  # `%00` in a path parameter, decoded by the server
        return ("path",)
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return b"json" in value.lower()
    return False


def _nul_in_body(body: bytes) -> tuple[Any, ...] | None:
    # In JSON a NUL can only be the escape `\u0000` (a raw one is invalid JSON), so a byte
    # search passes nearly every body without parsing it.
    if b"\\u0000" not in body:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route reports it
    loc = find_nul(parsed)  # None: an escaped backslash followed by "u0000"
    return None if loc is None else ("body", *loc)
