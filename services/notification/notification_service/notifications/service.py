"""The in-app inbox: listing, reading, deleting; every change is pushed to the user's other
tabs after commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.errors import NotificationNotFound
from notification_service.live import protocol
from notification_service.live.hub import LiveHub
from notification_service.notifications import repository
from notification_service.notifications.schemas import (
    NotificationView,
    ReadAllResult,
    ReadResult,
)
from webrana_common.db.base import utcnow
from webrana_common.db.session import after_commit
from webrana_common.pagination import Page, make_page

# A read-all of more than this many sends "ids": null; clients then refetch their list.
READ_IDS_LIMIT = 500


def _push(session: AsyncSession, hub: LiveHub, user_id: uuid.UUID, message: dict[str, Any]) -> None:
    after_commit(session, lambda: hub.publish([(user_id, message)]))


async def list_page(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    unread: bool | None,
    category: str | None,
    cursor: str | None,
    limit: int,
) -> Page[NotificationView]:
    rows = await repository.page(
        session, user_id, unread=unread, category=category, cursor=cursor, limit=limit
    )
    items, next_cursor = make_page(rows, limit)
    return Page[NotificationView](
        items=[NotificationView.of(row) for row in items], next_cursor=next_cursor
    )


async def mark_read(
    session: AsyncSession, hub: LiveHub, user_id: uuid.UUID, notification_id: uuid.UUID
) -> ReadResult:
    row = await repository.get_visible(session, user_id, notification_id)
    if row is None:
        raise NotificationNotFound(f"No notification {notification_id}")
    if row.read_at is None:
        row.read_at = utcnow()
        await session.flush()
        unread = await repository.unread_count(session, user_id)
        _push(
            session,
            hub,
            user_id,
            protocol.read([row.id], unread, read_at=row.read_at.isoformat()),
        )
    else:
        unread = await repository.unread_count(session, user_id)
    return ReadResult(id=row.id, read_at=row.read_at, unread_count=unread)


async def mark_all_read(
    session: AsyncSession, hub: LiveHub, user_id: uuid.UUID, before_id: uuid.UUID | None
) -> ReadAllResult:
    up_to = None
    if before_id is not None:
        up_to = await repository.seq_of(session, user_id, before_id)
        if up_to is None:
            raise NotificationNotFound(f"No notification {before_id}")
    now = utcnow()
    ids = await repository.mark_read(session, user_id, up_to, now)
    unread = await repository.unread_count(session, user_id)
    if ids:
        listed = ids if len(ids) <= READ_IDS_LIMIT else None
        _push(session, hub, user_id, protocol.read(listed, unread, read_at=now.isoformat()))
    return ReadAllResult(marked=len(ids), unread_count=unread)


async def delete(
    session: AsyncSession, hub: LiveHub, user_id: uuid.UUID, notification_id: uuid.UUID
) -> None:
    row = await repository.get_visible(session, user_id, notification_id)
    if row is None:
        raise NotificationNotFound(f"No notification {notification_id}")
    row.deleted_at = utcnow()
    await session.flush()
    unread = await repository.unread_count(session, user_id)
    # The badge's own event too: a client that only keeps a count needs nothing else.
    messages = [(user_id, protocol.deleted(row.id, unread)), (user_id, protocol.unread(unread))]
    after_commit(session, lambda: hub.publish(messages))
