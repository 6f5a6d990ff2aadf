"""A stand-in for Sentry's ingest: takes what sentry-sdk sends and keeps it for inspection.

    uvicorn --factory devstack.sandbox.sentry:create_app --port 9000
    SENTRY_DSN=http://public@127.0.0.1:9000/1

`GET /api/envelopes` shows what arrived (`?type=event` for errors only), `DELETE` forgets it.
The envelope format is Sentry's (https://develop.sentry.dev/sdk/data-model/envelopes/): a JSON
header line, then per item a JSON header line and a payload that is either `length` bytes long
or runs to the end of the line. sentry-sdk gzips it (brotli when the `brotli` module is there).
"""

from __future__ import annotations

import gzip
import json
import threading
import uuid
import zlib
from collections import deque
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

MAX_ENVELOPES = 1000
MAX_BODY_BYTES = 20 * 1024 * 1024


class BadEnvelope(ValueError):
    pass


class UnsupportedEncoding(ValueError):
    pass


def decode_body(body: bytes, content_encoding: str | None) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity", "none"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        # HTTP "deflate" is zlib-wrapped, but some clients send raw deflate.
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    if encoding == "br":
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError as exc:
            raise UnsupportedEncoding("br needs the brotli module") from exc
        return bytes(brotli.decompress(body))
    raise UnsupportedEncoding(f"unsupported Content-Encoding {encoding!r}")


def _payload(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def parse_envelope(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Envelope headers and items as `{"type", "headers", "payload"}` (payload JSON if it is)."""

    def line_at(pos: int) -> tuple[bytes, int]:
        end = data.find(b"\n", pos)
        if end == -1:
            return data[pos:], len(data)
        return data[pos:end], end + 1

    def json_object(raw: bytes, what: str) -> dict[str, Any]:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise BadEnvelope(f"{what} is not JSON") from exc
        if not isinstance(value, dict):
            raise BadEnvelope(f"{what} is not a JSON object")
        return value

    header_line, pos = line_at(0)
    headers = json_object(header_line, "envelope header") if header_line.strip() else {}
    items: list[dict[str, Any]] = []
    while pos < len(data):
        line, pos = line_at(pos)
        if not line.strip():
            continue  # trailing newlines
        item_headers = json_object(line, "item header")
        length = item_headers.get("length")
        if length is not None:
            if not isinstance(length, int) or length < 0 or pos + length > len(data):
                raise BadEnvelope("item length runs past the end of the envelope")
            raw, pos = data[pos : pos + length], pos + length
            if data[pos : pos + 1] == b"\n":
                pos += 1  # the newline after a length-prefixed payload is optional
        else:
            raw, pos = line_at(pos)
        items.append(
            {"type": item_headers.get("type"), "headers": item_headers, "payload": _payload(raw)}
        )
    return headers, items


def public_key(request: Request, headers: dict[str, Any]) -> str | None:
    """The DSN's public key, from X-Sentry-Auth, the query string, or the envelope's `dsn`."""
    auth = request.headers.get("x-sentry-auth", "")
    if auth.lower().startswith("sentry "):
        for part in auth[len("sentry ") :].split(","):
            name, _, value = part.strip().partition("=")
            if name == "sentry_key" and value:
                return value
    if request.query_params.get("sentry_key"):
        return request.query_params["sentry_key"]
    dsn = headers.get("dsn")
    if isinstance(dsn, str) and "://" in dsn and "@" in dsn:
        return dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[0] or None
    return None


class EnvelopeStore:
    """The last `limit` envelopes, oldest first; safe to share between threads."""

    def __init__(self, limit: int = MAX_ENVELOPES) -> None:
        self._envelopes: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, envelope: dict[str, Any]) -> None:
        with self._lock:
            self._envelopes.append(envelope)

    def list(self, item_type: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            envelopes = list(self._envelopes)
        if item_type is None:
            return envelopes
        return [e for e in envelopes if any(i["type"] == item_type for i in e["items"])]

    def clear(self) -> None:
        with self._lock:
            self._envelopes.clear()


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def create_app(limit: int = MAX_ENVELOPES) -> FastAPI:
    app = FastAPI(title="Sentry sandbox", description=__doc__)
    store = EnvelopeStore(limit)
    app.state.envelopes = store

    async def ingest(request: Request, project_id: str, *, legacy: bool) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "envelope too large")
        try:
            data = decode_body(body, request.headers.get("content-encoding"))
        except UnsupportedEncoding as exc:
            return _error(415, str(exc))
        except (OSError, EOFError, zlib.error) as exc:
            return _error(400, f"cannot decompress the body: {exc}")
        try:
            if legacy:
                event = json.loads(data)
                if not isinstance(event, dict):
                    raise BadEnvelope("event is not a JSON object")
                headers = {"event_id": event.get("event_id")}
                items = [{"type": "event", "headers": {"type": "event"}, "payload": event}]
            else:
                headers, items = parse_envelope(data)
        except (BadEnvelope, ValueError) as exc:
            return _error(400, f"invalid envelope: {exc}")
        key = public_key(request, headers)
        if key is None:
            return _error(401, "missing authorization information")
        event_id = headers.get("event_id")
        store.add(
            {
                "id": uuid.uuid4().hex,
                "received_at": datetime.now(UTC).isoformat(),
                "project_id": project_id,
                "public_key": key,
                "headers": headers,
                "items": items,
                "raw": data.decode("utf-8", errors="replace"),
            }
        )
        # What Sentry answers: the event id when the envelope carries one.
        return JSONResponse({"id": event_id} if event_id else {})

    @app.post("/api/{project_id}/envelope/")
    async def envelope(request: Request, project_id: str) -> Response:
        return await ingest(request, project_id, legacy=False)

    @app.post("/api/{project_id}/store/")
    async def store_event(request: Request, project_id: str) -> Response:
        return await ingest(request, project_id, legacy=True)

    @app.get("/api/envelopes")
    async def list_envelopes(
        item_type: Annotated[str | None, Query(alias="type")] = None,
    ) -> dict[str, Any]:
        """Oldest first; `?type=event` keeps those with an item of that type."""
        return {"envelopes": store.list(item_type)}

    @app.delete("/api/envelopes", status_code=204)
    async def clear_envelopes() -> Response:
        store.clear()
        return Response(status_code=204)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
