"""All SQL of the inbox: notifications and each user's sequence."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Select,
    Uuid,
    and_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.notifications.models import Notification, NotificationStream
from webrana_common.pagination import paginate_newest_first

_VISIBLE = and_(Notification.in_app.is_(True), Notification.deleted_at.is_(None))


async def next_seqs(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The next `seq` of each user. The stream rows stay locked until commit, so one user's
    notifications commit in `seq` order. Sorted, so two batches never lock in opposite order."""
    ordered = sorted(set(user_ids))
    if not ordered:
        return {}
    stmt = insert(NotificationStream).values([{"user_id": u, "last_seq": 1} for u in ordered])
    stmt = stmt.on_conflict_do_update(
        index_elements=[NotificationStream.user_id],
        set_={"last_seq": NotificationStream.last_seq + 1},
    ).returning(NotificationStream.user_id, NotificationStream.last_seq)
    return {row.user_id: row.last_seq for row in await session.execute(stmt)}


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Ids of the rows inserted; a row whose idempotency key exists is left out."""
    if not rows:
        return set()
    stmt = (
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[Notification.idempotency_key])
        .returning(Notification.id)
    )
    return set(await session.scalars(stmt))


async def by_key(session: AsyncSession, key: str) -> Notification | None:
    stmt = select(Notification).where(Notification.idempotency_key == key)
    return (await session.scalars(stmt)).one_or_none()


async def existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    stmt = select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys))
    return set(await session.scalars(stmt))


async def get(session: AsyncSession, notification_id: uuid.UUID) -> Notification | None:
    return await session.get(Notification, notification_id)


async def get_visible(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification | None:
    stmt = select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id, _VISIBLE
    )
    return (await session.scalars(stmt)).one_or_none()


def _listing(user_id: uuid.UUID, unread: bool | None, category: str | None) -> Select[Any]:
    stmt = select(Notification).where(Notification.user_id == user_id, _VISIBLE)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    if category:
        stmt = stmt.where(Notification.category == category)
    return stmt


async def page(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    unread: bool | None,
    category: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[Notification]:
    stmt = paginate_newest_first(
        _listing(user_id, unread, category),
        Notification.created_at,
        Notification.id,
        cursor,
        limit,
    )
    return (await session.scalars(stmt)).all()


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None), _VISIBLE
    )
    return int(await session.scalar(stmt) or 0)


async def unread_counts(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    stmt = (
        select(Notification.user_id, func.count())
        .where(Notification.user_id.in_(user_ids), Notification.read_at.is_(None), _VISIBLE)
        .group_by(Notification.user_id)
    )
    counts = {row[0]: int(row[1]) for row in await session.execute(stmt)}
    return {user_id: counts.get(user_id, 0) for user_id in user_ids}


async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, up_to_seq: int | None, now: datetime
) -> list[uuid.UUID]:
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None), _VISIBLE
    )
    if up_to_seq is not None:
        stmt = stmt.where(Notification.seq <= up_to_seq)
    result = await session.scalars(stmt.values(read_at=now).returning(Notification.id))
    return list(result)


async def seq_of(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> int | None:
    """Of any of the user's notifications, deleted ones too (a resume point may be deleted)."""
    stmt = select(Notification.seq).where(
        Notification.id == notification_id, Notification.user_id == user_id
    )
    return await session.scalar(stmt)


async def after_seq(
    session: AsyncSession, user_id: uuid.UUID, seq: int, limit: int
) -> Sequence[Notification]:
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id, Notification.seq > seq, _VISIBLE)
        .order_by(Notification.seq)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def delete_read_before(session: AsyncSession, cutoff: datetime, batch: int) -> int:
    """Read (or deleted) notifications older than `cutoff`, one batch; returns how many."""
    victims = (
        select(Notification.id)
        .where(
            Notification.created_at < cutoff,
            (Notification.read_at.is_not(None))
            | (Notification.deleted_at.is_not(None))
            | (Notification.in_app.is_(False)),
        )
        .limit(batch)
    )
    result = await session.execute(
        Notification.__table__.delete().where(Notification.id.in_(victims.scalar_subquery()))
    )
    return int(result.rowcount or 0)


# One round trip for a single send (the hot path): take the user's next seq, insert the
# notification unless its key exists, log its deliveries, and count the unread. The count's
# subquery sees the table as it was before this statement, hence the + 1 for a visible one.
_INSERT_ONE = text(
    """
WITH stream AS (
    INSERT INTO notification_streams (user_id, last_seq) VALUES (:user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET last_seq = notification_streams.last_seq + 1
    RETURNING last_seq
), inserted AS (
    INSERT INTO notifications (
        id, user_id, seq, event, category, priority, locale, idempotency_key, data,
        title, message, action_url, in_app, broadcast_id, created_at
    )
    SELECT :id, :user_id, stream.last_seq, :event, :category, :priority, :locale,
        :idempotency_key, :data, :title, :message, :action_url, :in_app, :broadcast_id,
        :created_at
    FROM stream
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, seq
), logged AS (
    INSERT INTO deliveries (
        id, notification_id, user_id, event, channel, status, reason, recipient, subject,
        attempts, scheduled_for, sent_at, created_at, updated_at
    )
    SELECT d.id, inserted.id, :user_id, :event, d.channel, d.status, d.reason, d.recipient,
        d.subject, d.attempts, d.scheduled_for, d.sent_at, :created_at, :created_at
    FROM inserted, jsonb_to_recordset(:deliveries) AS d(
        id uuid, channel text, status text, reason text, recipient text, subject text,
        attempts int, scheduled_for timestamptz, sent_at timestamptz
    )
    RETURNING 1
)
SELECT inserted.seq, (
    SELECT count(*) FROM notifications n
    WHERE n.user_id = :user_id AND n.in_app AND n.read_at IS NULL AND n.deleted_at IS NULL
) + CASE WHEN :in_app THEN 1 ELSE 0 END AS unread
FROM inserted
"""
).bindparams(
    bindparam("id", type_=Uuid()),
    bindparam("user_id", type_=Uuid()),
    bindparam("broadcast_id", type_=Uuid()),
    bindparam("data", type_=JSONB()),
    bindparam("deliveries", type_=JSONB()),
    bindparam("created_at", type_=DateTime(timezone=True)),
    bindparam("in_app", type_=Boolean()),
)
_DELIVERY_FIELDS = (
    "id", "channel", "status", "reason", "recipient", "subject", "attempts", "scheduled_for",
    "sent_at",
)  # fmt: skip


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def insert_one(
    session: AsyncSession, row: dict[str, Any], deliveries: list[dict[str, Any]]
) -> tuple[int, int] | None:
    """(seq, unread count) of the inserted notification; None when its key exists."""
    params = {name: row[name] for name in row if name != "seq"}
    params["deliveries"] = [
        {name: _json_value(d[name]) for name in _DELIVERY_FIELDS} for d in deliveries
    ]
    result = (await session.execute(_INSERT_ONE, params)).one_or_none()
    return None if result is None else (int(result.seq), int(result.unread))
