"""LiveConnection on its own: no duplicate across a resume, a slow reader is cut off."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from notification_service.live import protocol
from notification_service.live.connection import LiveConnection


class _Socket:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def _drain(connection: LiveConnection) -> None:
    connection.close(1000, "")
    await connection.run_sender()


async def test_live_messages_held_during_a_resume_come_after_it_and_only_once() -> None:
    socket: Any = _Socket()
    connection = LiveConnection(socket, uuid.uuid4(), queue_size=16)
    connection.hold()
    connection.deliver("n2", 2, "live n2")  # published while the resume reads the database
    connection.deliver("n3", 3, "live n3")
    connection.send_notification("n1", 1, "resumed n1")
    connection.send_notification("n2", 2, "resumed n2")
    connection.send_text("resumed")
    connection.release()
    connection.deliver("n3", 3, "live n3 again")  # a second replica's copy, say
    await _drain(connection)
    assert socket.sent == ["resumed n1", "resumed n2", "resumed", "live n3"]
    assert connection.last_seq == 3


async def test_a_client_that_does_not_read_is_closed_with_1013() -> None:
    socket: Any = _Socket()
    connection = LiveConnection(socket, uuid.uuid4(), queue_size=8)
    for i in range(9):
        connection.deliver(f"n{i}", i, f"message {i}")
    assert connection.closing
    await asyncio.wait_for(connection.run_sender(), 1)
    assert len(socket.sent) == 8
    assert socket.closed == (protocol.CLOSE_TOO_SLOW, "too slow: reconnect and resume")
