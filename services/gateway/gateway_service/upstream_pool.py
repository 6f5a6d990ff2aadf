"""Keep-alive connections to one service: reused newest first, opened on demand up to a limit,
dropped once idle longer than the service would keep them."""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from urllib.parse import urlsplit

from gateway_service.upstream_connection import UpstreamConnectError, UpstreamConnection


class UpstreamPool:
    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        max_connections: int,
        connect_timeout: float,
        keepalive_seconds: float,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{service} URL {base_url!r} must be http(s)://host[:port]")
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        default_port = (parts.scheme == "https" and self.port == 443) or self.port == 80
        self.host_header = (parts.netloc if not default_port else self.host).encode("ascii")
        self.base_path = parts.path.rstrip("/").encode("ascii")
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.keepalive_seconds = keepalive_seconds
        self._idle: list[UpstreamConnection] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def open_connections(self) -> int:
        return self._open

    async def acquire(self) -> UpstreamConnection:
        # The loop is remembered: get_running_loop() costs a getpid() system call each time.
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        idle = self._idle
        if idle:
            now = loop.time()
            while idle:
                connection = idle.pop()
                if not connection.closed and now - connection.idle_since < self.keepalive_seconds:
                    return connection
                self._discard(connection)
        while self._open >= self.max_connections:
            await self._wait_for_slot(loop)
            if idle:
                connection = idle.pop()
                if not connection.closed:
                    return connection
                self._discard(connection)
        self._open += 1
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    lambda: UpstreamConnection(loop),
                    self.host,
                    self.port,
                    ssl=self.ssl,
                ),
                self.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            self._open -= 1
            self._wake_one()
            reason = (
                "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            )
            raise UpstreamConnectError(f"cannot connect to {self.service}: {reason}") from exc
        except BaseException:
            self._open -= 1
            self._wake_one()
            raise
        return connection

    async def _wait_for_slot(self, loop: asyncio.AbstractEventLoop) -> None:
        waiter = loop.create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, self.connect_timeout)
        except TimeoutError as exc:
            raise UpstreamConnectError(
                f"all {self.max_connections} connections to {self.service} are busy"
            ) from exc
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def release(self, connection: UpstreamConnection) -> None:
        """Every acquired connection comes back here exactly once, reusable or not."""
        if connection.finish() and not self._closed:
            connection.idle_since = connection.loop.time()
            connection.reused = True
            self._idle.append(connection)
        else:
            self._discard(connection)
        self._wake_one()

    def _discard(self, connection: UpstreamConnection) -> None:
        if not connection.closed:
            connection.abort()
        self._open -= 1

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        self._closed = True
        while self._idle:
            self._discard(self._idle.pop())
