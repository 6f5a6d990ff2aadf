"""One keep-alive HTTP/1.1 connection to a service, on asyncio's protocol API and httptools'
response parser (the C parser under uvicorn).

Why not httpx or aiohttp: a proxied request must cost tens of microseconds of client work; a
general client spends more than the whole budget (see README, "Hot path"). This one does
exactly what the proxy needs: one request at a time, a streamed body in each direction with
flow control both ways, and timeouts as timer handles rather than tasks.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools

# The upstream's socket stops being read while this much body waits for a slow client.
READ_HIGH_WATER = 256 * 1024
READ_LOW_WATER = 64 * 1024


class UpstreamError(Exception):
    """The exchange with the service failed."""


class UpstreamConnectError(UpstreamError):
    """No connection: the request never reached the service."""


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamClosed(UpstreamError):
    """The service closed or reset the connection."""


class UpstreamProtocolError(UpstreamError):
    pass


class UpstreamResponse:
    """The answer being read: headers first, then the body in chunks as the socket delivers."""

    __slots__ = (
        "_buffered",
        "_chunks",
        "_connection",
        "_waiter",
        "close_delimited",
        "complete",
        "error",
        "has_headers",
        "headers",
        "keep_alive",
        "status",
    )

    def __init__(self, connection: UpstreamConnection) -> None:
        self._connection = connection
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.has_headers = False
        self.complete = False
        self.keep_alive = False
        self.close_delimited = False
        self.error: UpstreamError | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self.error is None and not self.complete:
            self.error = error
        self._wake()

    async def _wait(self, seconds: float) -> None:
        # A timer handle, not asyncio.timeout(): no task or context manager per wait.
        loop = self._connection.loop
        waiter = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(seconds, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def wait_headers(self, seconds: float) -> None:
        if not self.has_headers and self.error is None:
            try:
                await self._wait(seconds)
            except TimeoutError:
                self._connection.abort()
                raise UpstreamTimeout("no response in time") from None
        if self.error is not None and not self.has_headers:
            raise self.error

    def take_body(self) -> bytes:
        """Everything buffered (the whole body once `complete`)."""
        chunks = self._chunks
        if not chunks:
            return b""
        data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        self._connection.resume_reading()
        return data

    async def read_chunk(self, seconds: float) -> bytes | None:
        """The next piece of body, or None at its end; `seconds` bounds the wait for it."""
        while not self._chunks:
            if self.complete:
                return None
            if self.error is not None:
                raise self.error
            try:
                await self._wait(seconds)
            except TimeoutError:
                self._connection.abort()
                raise UpstreamTimeout("the response body stalled") from None
        data = self.take_body()
        return data


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class UpstreamConnection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.reused = False
        self._parser: httptools.HttpResponseParser | None = None
        self._response: UpstreamResponse | None = None
        self._head_request = False
        self._informational = False
        self._framed = False
        self._reading_paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None

    # -- asyncio protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            # Bytes nobody asked for (or after a HEAD answer): the connection is not reusable.
            self.abort()
            return
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as exc:
            response = self._response
            if response is not None:
                response._fail(UpstreamProtocolError(f"invalid response: {exc}"))
            self.abort()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        response = self._response
        if response is not None and not response.complete:
            if response.close_delimited:
                response.complete = True
                response._wake()
            else:
                response._fail(UpstreamClosed("the service closed the connection"))
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(UpstreamClosed("the service closed the connection"))

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length" or name == b"transfer-encoding":
            self._framed = True
        self._response.headers.append((name, value))  # type: ignore[union-attr]

    def on_headers_complete(self) -> None:
        response = self._response
        parser = self._parser
        assert response is not None and parser is not None
        status = parser.get_status_code()
        if 100 <= status < 200:
            # 100 Continue and friends: the real answer follows on the same parser.
            self._informational = True
            self._framed = False
            response.headers.clear()
            return
        response.status = status
        response.has_headers = True
        if self._head_request:
            # No body follows whatever Content-Length says, and httptools cannot be told so:
            # this parser is dropped (each request gets a fresh one).
            response.complete = True
            response.keep_alive = parser.should_keep_alive()
            self._parser = None
        elif not self._framed and status not in (204, 304):
            response.close_delimited = True
        response._wake()

    def on_body(self, body: bytes) -> None:
        response = self._response
        assert response is not None
        response._chunks.append(body)
        response._buffered += len(body)
        if response._buffered > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]
        if response._waiter is not None:
            response._wake()

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        response = self._response
        parser = self._parser
        if response is None or parser is None or response.complete:
            return
        response.keep_alive = parser.should_keep_alive() and not response.close_delimited
        response.complete = True
        self._parser = None
        response._wake()

    # -- used by the pool and the proxy

    def start(self, head_request: bool) -> UpstreamResponse:
        self._parser = httptools.HttpResponseParser(self)
        self._head_request = head_request
        self._informational = False
        self._framed = False
        response = UpstreamResponse(self)
        self._response = response
        return response

    def finish(self) -> bool:
        """Detach the response; True when the connection may serve another request."""
        response = self._response
        self._response = None
        reusable = (
            response is not None
            and response.complete
            and response.keep_alive
            and not self.closed
            and self._parser is None
        )
        if self._reading_paused:
            self.resume_reading()
        return reusable

    def write(self, data: bytes) -> None:
        if self.closed:
            raise UpstreamClosed("the service closed the connection")
        self.transport.write(data)  # type: ignore[union-attr]

    async def drain(self, seconds: float) -> None:
        """Wait while the service is not reading what was written (`seconds` at most)."""
        if self._write_paused and not self.closed:
            waiter = self._drain_waiter = self.loop.create_future()
            timer = self.loop.call_later(seconds, _expire, waiter)
            try:
                await waiter
            except TimeoutError:
                self.abort()
                raise UpstreamTimeout("the service stopped reading the request body") from None
            finally:
                timer.cancel()
                self._drain_waiter = None
        if self.closed:
            raise UpstreamClosed("the service closed the connection")

    def resume_reading(self) -> None:
        if self._reading_paused and not self.closed:
            response = self._response
            if response is None or response._buffered < READ_LOW_WATER:
                self._reading_paused = False
                self.transport.resume_reading()  # type: ignore[union-attr]

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
