"""A pipelined Redis connection for the rate limiter's one call per request.

Commands issued during one turn of the event loop go out in one write and replies are matched
in order, so any number of concurrent requests share one connection and one round trip, at a
few microseconds of work each (redis-py spends ~100 µs per call in its pool and parser, and a
socket write per command).
It speaks just enough RESP2 for scripts: integers, strings, errors and arrays.

When Redis fails (refused, reset, a reply later than REDIS timeout) the connection is dropped
and calls fail fast with `RedisUnavailable` for RATE_LIMIT_REDIS_RETRY_SECONDS before the next
attempt, so a dead Redis costs nothing per request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

_INCOMPLETE = object()
_CRLF = b"\r\n"


class RedisUnavailable(Exception):
    pass


class RedisReplyError(Exception):
    """An error reply (`-ERR ...`, `-NOSCRIPT ...`)."""


def encode_command(args: tuple[Any, ...]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        else:
            data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def parse_reply(buf: bytearray, pos: int) -> Any:
    """(value, next position), or `_INCOMPLETE` when the reply has not fully arrived."""
    end = buf.find(_CRLF, pos)
    if end < 0:
        return _INCOMPLETE
    kind = buf[pos]
    line = bytes(buf[pos + 1 : end])
    after = end + 2
    if kind == 0x3A:  # :integer
        return int(line), after
    if kind == 0x2B:  # +simple string
        return line.decode(), after
    if kind == 0x2D:  # -error
        return RedisReplyError(line.decode()), after
    if kind == 0x24:  # $bulk string
        size = int(line)
        if size < 0:
            return None, after
        if len(buf) < after + size + 2:
            return _INCOMPLETE
        return bytes(buf[after : after + size]), after + size + 2
    if kind == 0x2A:  # *array
        count = int(line)
        if count < 0:
            return None, after
        items = []
        for _ in range(count):
            parsed = parse_reply(buf, after)
            if parsed is _INCOMPLETE:
                return _INCOMPLETE
            item, after = parsed
            items.append(item)
        return items, after
    raise RedisReplyError(f"unexpected reply type {chr(kind)!r}")


class _RespProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending: deque[asyncio.Future[Any]] = deque()
        self.buffer = bytearray()
        self.outbox: list[bytes] = []
        self.closed = False
        self.loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        pos = 0
        pending = self.pending
        try:
            while pending:
                parsed = parse_reply(buf, pos)
                if parsed is _INCOMPLETE:
                    break
                value, pos = parsed
                future = pending.popleft()
                if not future.done():
                    future.set_result(value)
        except (RedisReplyError, ValueError):
            self.close()
            return
        if pos:
            del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_exception(RedisUnavailable("connection to Redis lost"))

    def send(self, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        loop = self.loop
        future = loop.create_future()
        self.pending.append(future)
        self.outbox.append(encode_command(args))
        if len(self.outbox) == 1:
            loop.call_soon(self.flush)
        return future

    def flush(self) -> None:
        """One write for every command issued during this turn of the event loop: a write
        (and the wake-up of Redis it causes) costs more than the rest of a rate-limit check."""
        if self.outbox and not self.closed:
            self.transport.write(b"".join(self.outbox))  # type: ignore[union-attr]
        self.outbox.clear()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


class RedisPipeline:
    def __init__(self, url: str, *, timeout: float, retry_seconds: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError("REDIS_URL must be redis:// or rediss://")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.ssl = ssl.create_default_context() if parts.scheme == "rediss" else None
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.db = int(parts.path.strip("/") or 0)
        self.timeout = timeout
        self.connect_timeout = max(timeout, 1.0)
        self.retry_seconds = retry_seconds
        self._protocol: _RespProtocol | None = None
        self._connecting: asyncio.Future[_RespProtocol] | None = None
        self._down_until = float("-inf")

    async def execute(self, *args: Any) -> Any:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            protocol = await self._connected()
        future = protocol.send(args)
        timer = protocol.loop.call_later(self.timeout, _expire, future)
        try:
            value = await future
        except TimeoutError:
            self._fail(protocol)
            raise RedisUnavailable(f"Redis did not answer within {self.timeout}s") from None
        except RedisUnavailable:
            self._fail(protocol)
            raise
        finally:
            timer.cancel()
        if isinstance(value, RedisReplyError):
            raise value
        return value

    def _fail(self, protocol: _RespProtocol) -> None:
        protocol.close()
        if self._protocol is protocol:
            self._protocol = None
        self._down_until = asyncio.get_running_loop().time() + self.retry_seconds

    async def _connected(self) -> _RespProtocol:
        loop = asyncio.get_running_loop()
        if loop.time() < self._down_until:
            raise RedisUnavailable("Redis failed recently; not retrying yet")
        if self._connecting is None:
            self._connecting = loop.create_future()
            connecting = self._connecting
            try:
                protocol = await asyncio.wait_for(self._connect(loop), self.connect_timeout)
            except Exception as exc:
                self._down_until = loop.time() + self.retry_seconds
                error = RedisUnavailable(f"cannot connect to Redis: {exc or type(exc).__name__}")
                connecting.set_exception(error)
                connecting.exception()  # retrieved: nobody else may be waiting
                raise error from exc
            finally:
                self._connecting = None
            self._protocol = protocol
            connecting.set_result(protocol)
            return protocol
        return await asyncio.shield(self._connecting)

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _RespProtocol:
        _, protocol = await loop.create_connection(
            _RespProtocol, self.host, self.port, ssl=self.ssl
        )
        setup: list[tuple[Any, ...]] = []
        if self.password is not None:
            setup.append(
                ("AUTH", self.username, self.password) if self.username else ("AUTH", self.password)
            )
        if self.db:
            setup.append(("SELECT", self.db))
        for reply in await asyncio.gather(*(protocol.send(command) for command in setup)):
            if isinstance(reply, RedisReplyError):
                protocol.close()
                raise reply
        return protocol

    async def ping(self) -> None:
        if await self.execute("PING") != "PONG":
            raise RedisUnavailable("unexpected PING reply")

    def close(self) -> None:
        if self._protocol is not None:
            self._protocol.close()
            self._protocol = None
