"""Requests written byte for byte: HTTP clients normalise paths (dot segments, escapes) before
sending, which would hide exactly the spellings the gateway must handle."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_request(
    base_url: str,
    target: bytes,
    *,
    method: bytes = b"GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> RawResponse:
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    lines = [method + b" " + target + b" HTTP/1.1", f"Host: {parts.netloc}".encode()]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}".encode())
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    lines.append(b"Connection: close")
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    if parsed.get("transfer-encoding") == "chunked":
        payload = _dechunk(payload)
    return RawResponse(int(status_line.split()[1]), parsed, payload)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out
