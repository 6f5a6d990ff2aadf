"""Stand-ins for the services behind the gateway: one small real ASGI app per service, under
uvicorn on its own port, that records what reached it and answers on command.

HTTP, any path: echoes method, path, raw path, query, headers and body size as JSON. Query
commands: `echo_status=418`, `echo_sleep=1.5`, `echo_stream_mb=50` (a streamed body),
`echo_hop=1` (answers with hop-by-hop headers that must not reach the client).
WebSocket (`/api/v1/notifications/ws`, `/api/v1/instances/console/ws`): greets, then echoes
text as text and bytes as bytes; `close:<code>:<reason>` closes with that code,
`flood:<count>:<size>` sends that many binary messages, counting each one sent; `headers`
answers with the handshake headers as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from webrana_common.testing.live_server import LiveServer

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CHUNK = b"0123456789abcdef" * 4096  # 64 KiB


@dataclass
class Received:
    method: str
    path: str
    raw_path: str
    query: str
    headers: list[tuple[str, str]]
    body_length: int

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        return ", ".join(values) if values else None


@dataclass
class Upstream:
    service: str
    jwks: dict[str, Any] | None = None
    ready: bool = True
    requests: list[Received] = field(default_factory=list)
    ws_events: list[tuple[str, Any]] = field(default_factory=list)
    flood_sent: int = 0
    streamed_chunks: int = 0
    body_started: threading.Event = field(default_factory=threading.Event)
    openapi: dict[str, Any] | None = None
    server: LiveServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def start(self, port: int = 0) -> Upstream:
        self.server = LiveServer(self.app(), port=port).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.ws_events.clear()
            self.flood_sent = 0
            self.streamed_chunks = 0
            self.body_started.clear()
            self.ready = True

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def app(self) -> Starlette:
        async def echo(request: Request) -> Response:
            if "echo_stream_body" in request.query_params:
                body = b""
                async for chunk in request.stream():
                    if chunk:
                        self.body_started.set()  # seen before the client finished sending
                    body += chunk
            else:
                body = await request.body()
            received = Received(
                method=request.method,
                path=request.scope["path"],
                raw_path=request.scope["raw_path"].decode("latin-1"),
                query=request.url.query,
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                body_length=len(body),
            )
            with self._lock:
                self.requests.append(received)
            params = request.query_params
            if "echo_sleep" in params:
                await asyncio.sleep(float(params["echo_sleep"]))
            if "echo_stream_mb" in params:
                return self._stream(request, int(params["echo_stream_mb"]))
            headers = {"X-Served-By": self.service}
            if "echo_hop" in params:
                headers |= {
                    "Connection": "X-Upstream-Secret",
                    "X-Upstream-Secret": "hop-by-hop",
                    "Keep-Alive": "timeout=5",
                    "Trailer": "X-Checksum",
                }
            return JSONResponse(
                {
                    "service": self.service,
                    "method": received.method,
                    "path": received.path,
                    "raw_path": received.raw_path,
                    "query": received.query,
                    "headers": received.headers,
                    "body_length": received.body_length,
                },
                status_code=int(params.get("echo_status", 200)),
                headers=headers,
            )

        async def jwks(request: Request) -> Response:
            if self.jwks is None:
                return await echo(request)
            return JSONResponse(self.jwks)

        async def ready(_: Request) -> Response:
            return JSONResponse(
                {"status": "ok" if self.ready else "down"}, 200 if self.ready else 503
            )

        async def openapi(_: Request) -> Response:
            return JSONResponse(self.openapi or service_document(self.service))

        routes = [
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            WebSocketRoute("/api/v1/notifications/ws", self._websocket),
            WebSocketRoute("/api/v1/instances/console/ws", self._websocket),
            Route("/{path:path}", echo, methods=METHODS),
        ]
        return Starlette(routes=routes)

    def _stream(self, request: Request, megabytes: int) -> StreamingResponse:
        async def chunks() -> Any:
            for n in range(megabytes * 16):
                # uvicorn drops what is sent after a disconnect without a word: ask.
                if n % 8 == 0 and await request.is_disconnected():
                    return
                yield CHUNK
                self.streamed_chunks += 1

        return StreamingResponse(
            chunks(),
            media_type="application/octet-stream",
            headers={"Content-Length": str(megabytes * 16 * len(CHUNK))},
        )

    async def _websocket(self, ws: WebSocket) -> None:
        offered = ws.scope.get("subprotocols") or []
        self.ws_events.append(("connect", {"path": ws.url.path, "subprotocols": offered}))
        await ws.accept(subprotocol=offered[0] if offered else None)
        await ws.send_text(f"welcome:{self.service}")
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    self.ws_events.append(("disconnect", message.get("code")))
                    return
                if message.get("bytes") is not None:
                    await ws.send_bytes(message["bytes"])
                    continue
                text = message.get("text") or ""
                if text.startswith("close:"):
                    _, code, reason = text.split(":", 2)
                    await ws.close(int(code), reason)
                    self.ws_events.append(("closed", int(code)))
                    return
                if text.startswith("flood:"):
                    _, count, size = text.split(":")
                    payload = os.urandom(int(size))  # incompressible: no deflate shortcut
                    for _ in range(int(count)):
                        await ws.send_bytes(payload)
                        self.flood_sent += 1
                    continue
                if text == "headers":
                    await ws.send_text(json.dumps(dict(ws.headers)))
                    continue
                await ws.send_text(text)
        except WebSocketDisconnect as exc:
            self.ws_events.append(("disconnect", exc.code))


def service_document(service: str) -> dict[str, Any]:
    """A small OpenAPI document like FastAPI's, with public, protected and internal paths."""
    prefix = {
        "auth": "/api/v1/auth",
        "catalog": "/api/v1/catalog",
        "order": "/api/v1/orders",
        "billing": "/api/v1/billing",
        "notification": "/api/v1/notifications",
        "instance": "/api/v1/instances",
    }[service]
    ref = {"$ref": "#/components/schemas/Thing"}
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"WeBrana {service}", "version": "1.0.0"},
        "paths": {
            f"{prefix}/things": {
                "get": {"tags": ["things"], "operationId": "list_things", "responses": ok},
                "post": {"tags": ["things"], "operationId": "create_thing", "responses": ok},
            },
            f"/internal/{service}/secrets": {
                "get": {"tags": ["internal"], "operationId": "secret", "responses": ok}
            },
            "/health": {"get": {"operationId": "health", "responses": ok}},
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {"owner": {"type": "string", "const": service}},
                }
            },
            "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
        },
        "tags": [{"name": "things", "description": f"Things of {service}"}],
    }
