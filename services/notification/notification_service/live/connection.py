"""One authenticated WebSocket: an outgoing queue drained by its own sender task, so the hub
never waits on a slow client, and the ids it has sent, so a notification never arrives twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque

from starlette.websockets import WebSocket, WebSocketDisconnect

from notification_service.live import protocol

log = logging.getLogger("notification.live")
# Enough to cover a resume window plus what arrives while it is read.
SEEN_IDS = 2048


class LiveConnection:
    def __init__(self, websocket: WebSocket, user_id: uuid.UUID, *, queue_size: int) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.key = str(user_id)
        # Which slice of the heartbeat interval this socket's heartbeat falls in.
        self.heartbeat_slot = random.randrange(1 << 16)
        # The last notification `seq` this connection has been sent (or the user's last at
        # connect time): where a resync after a lost Redis subscription starts.
        self.last_seq = 0
        self.resume_lock = asyncio.Lock()
        self._limit = queue_size
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._held: list[tuple[str | None, int, str]] | None = None
        self._closing: tuple[int, str] | None = None
        self._expiry: asyncio.TimerHandle | None = None

    @property
    def closing(self) -> bool:
        return self._closing is not None

    def deliver(self, notification_id: str | None, seq: int, text: str) -> None:
        """A live message from the hub; held back while a resume is being read."""
        if self._held is not None:
            self._held.append((notification_id, seq, text))
            return
        self._put(notification_id, seq, text)

    def send(self, message: dict[str, object]) -> None:
        self._put(None, 0, protocol.dumps(message))

    def send_text(self, text: str) -> None:
        self._put(None, 0, text)

    def send_notification(self, notification_id: str, seq: int, text: str) -> bool:
        """False when this socket was sent that notification already."""
        return self._put(notification_id, seq, text)

    def _put(self, notification_id: str | None, seq: int, text: str) -> bool:
        if self._closing is not None:
            return False
        if notification_id is not None:
            if notification_id in self._seen:
                return False
            self._remember(notification_id)
            self.last_seq = max(self.last_seq, seq)
        if self._queue.qsize() >= self._limit:
            log.warning("closing a WebSocket that reads too slowly", extra={"user": self.key})
            self.close(protocol.CLOSE_TOO_SLOW, "too slow: reconnect and resume")
            return False
        self._queue.put_nowait(text)
        return True

    def _remember(self, notification_id: str) -> None:
        self._seen.add(notification_id)
        self._seen_order.append(notification_id)
        if len(self._seen_order) > SEEN_IDS:
            self._seen.discard(self._seen_order.popleft())

    def hold(self) -> None:
        if self._held is None:
            self._held = []

    def release(self) -> None:
        held, self._held = self._held or [], None
        for notification_id, seq, text in held:
            self._put(notification_id, seq, text)

    def expire_at(self, unix_time: float) -> None:
        """Close with 4401 when the token expires (a fresh `auth` message moves this)."""
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(0.0, unix_time - time.time())
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(
            delay, self.close, protocol.CLOSE_UNAUTHORIZED, "token expired"
        )

    def close(self, code: int, reason: str) -> None:
        if self._closing is None:
            self._closing = (code, reason)
            self._queue.put_nowait(None)

    async def run_sender(self) -> None:
        try:
            while (text := await self._queue.get()) is not None:
                await self.websocket.send_text(text)
            code, reason = self._closing or (1000, "")
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.websocket.close(code, reason)
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The peer went away mid-send; the receive loop sees the disconnect.
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
