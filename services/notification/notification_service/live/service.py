"""Reading what a connection missed (resume) and what it needs on connect."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from notification_service.live import protocol
from notification_service.live.connection import LiveConnection
from notification_service.notifications import repository
from notification_service.notifications.models import NotificationStream
from notification_service.notifications.schemas import NotificationView

# Reads only: on the autocommit engine (app.send_engine), two round trips each instead of
# the shared pool's seven (pre-ping, BEGIN, the statements, COMMIT); connects come in bursts.


async def connect_state(engine: AsyncEngine, user_id: uuid.UUID) -> tuple[int, int]:
    """(unread count, the user's last seq) at connect time."""
    async with engine.connect() as connection:
        unread = await repository.unread_count(connection, user_id)
        last_seq = await connection.scalar(
            select(NotificationStream.last_seq).where(NotificationStream.user_id == user_id)
        )
    return unread, int(last_seq or 0)


async def resume(
    engine: AsyncEngine, connection: LiveConnection, *, last_id: uuid.UUID | None, limit: int
) -> None:
    """Send what arrived after `last_id` (or after the connection's last seq), oldest first,
    then `resumed`. Live messages arriving meanwhile are held and sent after, minus those the
    resume already sent."""
    async with connection.resume_lock:
        connection.hold()
        try:
            reset = False
            async with engine.connect() as db:
                if last_id is not None:
                    seq = await repository.seq_of(db, connection.user_id, last_id)
                    reset = seq is None
                else:
                    seq = connection.last_seq
                rows = (
                    []
                    if seq is None
                    else await repository.after_seq(db, connection.user_id, seq, limit + 1)
                )
                unread = await repository.unread_count(db, connection.user_id)
            sent = 0
            for row in rows[:limit]:
                message = protocol.new(NotificationView.of(row), unread)
                sent += connection.send_notification(str(row.id), row.seq, protocol.dumps(message))
            connection.send(
                {
                    "type": "resumed",
                    # Those sent now; any this socket had already are not sent twice.
                    "count": sent,
                    # More than WS_RESUME_LIMIT were missed: refetch the list over HTTP.
                    "truncated": len(rows) > limit,
                    # The id is unknown (purged, or not this user's): refetch the list.
                    "reset": reset,
                    "unread_count": unread,
                }
            )
        finally:
            connection.release()
