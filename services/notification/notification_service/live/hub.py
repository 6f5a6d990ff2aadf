"""Live push across replicas: every message goes through one Redis pub/sub channel; each
replica hands it to the WebSockets of that user it holds (several tabs, several devices).

A message published while a replica's subscription is down would be lost to its clients, so
after every (re)subscription the replica resyncs each connection from the database (the
`resync` callback: a resume from the connection's last `seq`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from notification_service.live import protocol
from notification_service.live.connection import LiveConnection

log = logging.getLogger("notification.live")
Resync = Callable[[LiveConnection], Awaitable[None]]
# One Redis message carries at most this many user messages (a broadcast page is split).
PUBLISH_CHUNK = 500


class LivePublisher(Protocol):
    async def publish(self, items: Iterable[tuple[uuid.UUID, dict[str, Any]]]) -> None: ...


class Publisher:
    """Publishing only (the worker): no subscription, no connections."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self.redis = redis
        self.channel = channel

    async def publish(self, items: Iterable[tuple[uuid.UUID, dict[str, Any]]]) -> None:
        await publish(self.redis, self.channel, items)


class LiveHub:
    def __init__(
        self,
        redis_url: str,
        *,
        channel: str,
        heartbeat_seconds: float,
        resync: Resync | None = None,
        reconnect_delay_seconds: float = 0.1,
    ) -> None:
        self.redis_url = redis_url
        # One connection of its own, not the shared pool: a pooled checkout peeks at the
        # socket first (a syscall per publish), and publishes are short and frequent.
        self.publisher = Redis.from_url(
            redis_url, single_connection_client=True, socket_connect_timeout=3, socket_timeout=5
        )
        self.channel = channel
        self.heartbeat_seconds = heartbeat_seconds
        self.resync = resync
        self.reconnect_delay = reconnect_delay_seconds
        self._by_user: dict[str, set[LiveConnection]] = defaultdict(set)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()

    # -- connections

    def add(self, connection: LiveConnection) -> None:
        self._by_user[connection.key].add(connection)

    def remove(self, connection: LiveConnection) -> None:
        connections = self._by_user.get(connection.key)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._by_user[connection.key]

    def connections(self, user_id: uuid.UUID | None = None) -> list[LiveConnection]:
        if user_id is not None:
            return list(self._by_user.get(str(user_id), ()))
        return [c for group in self._by_user.values() for c in group]

    @property
    def connection_count(self) -> int:
        return sum(len(group) for group in self._by_user.values())

    # -- publishing (any replica, and the worker)

    async def publish(self, items: Iterable[tuple[uuid.UUID, dict[str, Any]]]) -> None:
        await publish(self.publisher, self.channel, items)

    # -- receiving

    async def start(self, wait_seconds: float = 5.0) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="live-hub-listener"),
            asyncio.create_task(self._heartbeat(), name="live-hub-heartbeat"),
        ]
        # Serve only once subscribed, so no message published after startup is missed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), wait_seconds)

    async def check(self) -> None:
        """Readiness: a replica that is not subscribed pushes nothing to its clients."""
        if not self._subscribed.is_set():
            raise ConnectionError("live channel not subscribed")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connection in self.connections():
            connection.close(protocol.CLOSE_GOING_AWAY, "server restarting: reconnect and resume")
        with contextlib.suppress(RedisError, OSError):
            await self.publisher.aclose()

    async def _listen(self) -> None:
        failures = 0
        first = True
        while True:
            # No socket timeout: a quiet channel is normal, not a dead connection.
            client = Redis.from_url(self.redis_url, socket_connect_timeout=3)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                if not first:
                    log.info("live channel resubscribed; resyncing connections")
                    self._resync_all()
                first, failures = False, 0
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.dispatch(message["data"])
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                log.warning("live channel lost (%s); resubscribing", exc)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
                    await client.aclose()
            await asyncio.sleep(min(self.reconnect_delay * 2**failures, 5.0))
            failures += 1

    def dispatch(self, raw: bytes | str) -> None:
        try:
            items = json.loads(raw)["e"]
        except (ValueError, KeyError, TypeError):
            log.error("malformed live message dropped")
            return
        for user, notification_id, seq, text in items:
            for connection in self._by_user.get(user, ()):
                connection.deliver(notification_id, seq, text)

    def _resync_all(self) -> None:
        if self.resync is None:
            return
        for connection in self.connections():
            task = asyncio.create_task(self.resync(connection))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _heartbeat(self) -> None:
        """Each socket gets one every `heartbeat_seconds`, but spread over the interval in
        one-second slices: 5,000 at once would stall the loop (and every push) for a moment."""
        tick = min(1.0, self.heartbeat_seconds)
        slots = max(1, round(self.heartbeat_seconds / tick))
        slot = 0
        while True:
            await asyncio.sleep(tick)
            slot = (slot + 1) % slots
            text = protocol.heartbeat()
            for connection in self.connections():
                if connection.heartbeat_slot % slots == slot:
                    connection.send_text(text)


async def publish(
    redis: Redis, channel: str, items: Iterable[tuple[uuid.UUID, dict[str, Any]]]
) -> None:
    """Each message is serialised once, here, not once per receiving replica."""
    batch: list[list[Any]] = []
    for user_id, message in items:
        notification = message.get("notification") if message["type"] == protocol.NEW else None
        batch.append(
            [
                str(user_id),
                notification["id"] if notification else None,
                notification["seq"] if notification else 0,
                protocol.dumps(message),
            ]
        )
    for start in range(0, len(batch), PUBLISH_CHUNK):
        chunk = batch[start : start + PUBLISH_CHUNK]
        await redis.publish(channel, json.dumps({"e": chunk}, separators=(",", ":")))
