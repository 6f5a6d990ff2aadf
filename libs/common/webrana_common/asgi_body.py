"""A request body read by pure-ASGI middleware before the app, then handed on: the app behind
receives the same stream it would have had (what was read, then the rest from the client)."""

from __future__ import annotations

from starlette.types import Message, Receive


async def read_body(receive: Receive, limit: int | None = None) -> tuple[bytes, bool]:
    """The body, and whether it all arrived: False when the client left, or when more than
    `limit` bytes came (then the part read so far)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if limit is not None and size > limit:
            return b"".join(chunks), False


def replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """The body read so far, then (when it stopped early) whatever the client sends next: the
    rest of the body, or its disconnect again (a server repeats it)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replayed
