"""All SQL of the inbox: notifications and each user's sequence."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    Boolean,
    DateTime,
    Row,
    Select,
    Text,
    Uuid,
    and_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notification_service.notifications.models import Notification
from webrana_common.db import raw
from webrana_common.pagination import paginate_newest_first

_VISIBLE = and_(Notification.in_app.is_(True), Notification.deleted_at.is_(None))


async def id_by_key(session: AsyncSession | AsyncConnection, key: str) -> uuid.UUID | None:
    stmt = select(Notification.id).where(Notification.idempotency_key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


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


async def unread_count(session: AsyncSession | AsyncConnection, user_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None), _VISIBLE
    )
    return int(await session.scalar(stmt) or 0)


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
    session: AsyncSession | AsyncConnection, user_id: uuid.UUID, notification_id: uuid.UUID
) -> int | None:
    """Of any of the user's notifications, deleted ones too (a resume point may be deleted)."""
    stmt = select(Notification.seq).where(
        Notification.id == notification_id, Notification.user_id == user_id
    )
    return await session.scalar(stmt)


async def after_seq(
    session: AsyncSession | AsyncConnection, user_id: uuid.UUID, seq: int, limit: int
) -> Sequence[Row[Any]]:
    """Plain rows (the attributes NotificationView reads), oldest first."""
    table = Notification.__table__
    stmt = (
        select(table)
        .where(table.c.user_id == user_id, table.c.seq > seq, _VISIBLE)
        .order_by(table.c.seq)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


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


# One round trip for any number of notifications of one event (a send: one; a broadcast page:
# hundreds): take each user's next seq, insert the notifications whose key is new, log their
# deliveries, count each user's unread. The count's subquery sees the table as it was before
# this statement, hence the + 1 for a visible notification. A page never holds a user twice.
_INSERT_MANY_SQL = """
WITH input AS (
    SELECT * FROM unnest(
        CAST(:ids AS uuid[]), CAST(:user_ids AS uuid[]), CAST(:keys AS text[]),
        CAST(:locales AS text[]), CAST(:titles AS text[]), CAST(:messages AS text[]),
        CAST(:action_urls AS text[]), CAST(:in_apps AS boolean[])
    ) AS t(id, user_id, idempotency_key, locale, title, message, action_url, in_app)
), stream AS (
    INSERT INTO notification_streams (user_id, last_seq)
    SELECT user_id, 1 FROM input ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET last_seq = notification_streams.last_seq + 1
    RETURNING user_id, last_seq
), inserted AS (
    INSERT INTO notifications (
        id, user_id, seq, event, category, priority, locale, idempotency_key, data,
        title, message, action_url, in_app, broadcast_id, created_at
    )
    SELECT input.id, input.user_id, stream.last_seq, :event, :category, :priority,
        input.locale, input.idempotency_key, :data, input.title, input.message,
        input.action_url, input.in_app, :broadcast_id, :created_at
    FROM input JOIN stream USING (user_id)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, user_id, seq, in_app
), logged AS (
    INSERT INTO deliveries (
        id, notification_id, user_id, event, channel, status, reason, recipient, subject,
        attempts, scheduled_for, sent_at, created_at, updated_at
    )
    SELECT d.id, inserted.id, inserted.user_id, :event, d.channel, d.status, d.reason,
        d.recipient, d.subject, d.attempts, d.scheduled_for, d.sent_at, :created_at,
        :created_at
    FROM jsonb_to_recordset(:deliveries) AS d(
        id uuid, notification_id uuid, channel text, status text, reason text,
        recipient text, subject text, attempts int, scheduled_for timestamptz,
        sent_at timestamptz
    )
    JOIN inserted ON inserted.id = d.notification_id
    RETURNING 1
)
SELECT inserted.id, inserted.seq, (
    SELECT count(*) FROM notifications n
    WHERE n.user_id = inserted.user_id AND n.in_app AND n.read_at IS NULL
        AND n.deleted_at IS NULL
) + CASE WHEN inserted.in_app THEN 1 ELSE 0 END AS unread
FROM inserted
"""
# The same on the driver's connection (webrana_common.db.raw), for a single send: a third of
# the CPU of executing it through SQLAlchemy.
_INSERT_MANY_RAW, _RAW_PARAMS = raw.positional(_INSERT_MANY_SQL)
_INSERT_MANY = text(_INSERT_MANY_SQL).bindparams(
    bindparam("ids", type_=ARRAY(Uuid())),
    bindparam("user_ids", type_=ARRAY(Uuid())),
    bindparam("keys", type_=ARRAY(Text())),
    bindparam("locales", type_=ARRAY(Text())),
    bindparam("titles", type_=ARRAY(Text())),
    bindparam("messages", type_=ARRAY(Text())),
    bindparam("action_urls", type_=ARRAY(Text())),
    bindparam("in_apps", type_=ARRAY(Boolean())),
    bindparam("broadcast_id", type_=Uuid()),
    bindparam("data", type_=JSONB()),
    bindparam("deliveries", type_=JSONB()),
    bindparam("created_at", type_=DateTime(timezone=True)),
)
_DELIVERY_FIELDS = (
    "id", "notification_id", "channel", "status", "reason", "recipient", "subject", "attempts",
    "scheduled_for", "sent_at",
)  # fmt: skip


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def insert_many(
    session: AsyncSession | AsyncConnection | asyncpg.Connection,
    common: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    deliveries: Sequence[dict[str, Any]],
) -> dict[uuid.UUID, tuple[int, int]]:
    """{id: (seq, unread count)} of the notifications inserted; a row whose key exists is left
    out. `common`: event, category, priority, data, broadcast_id, created_at."""
    if not rows:
        return {}
    columns = {
        "ids": "id",
        "user_ids": "user_id",
        "keys": "idempotency_key",
        "locales": "locale",
        "titles": "title",
        "messages": "message",
        "action_urls": "action_url",
        "in_apps": "in_app",
    }
    params = {param: [row[name] for row in rows] for param, name in columns.items()}
    params |= common
    params["deliveries"] = [
        {name: _json_value(d[name]) for name in _DELIVERY_FIELDS} for d in deliveries
    ]
    if isinstance(session, asyncpg.Connection):
        params["data"] = raw.as_json(params["data"])
        params["deliveries"] = raw.as_json(params["deliveries"])
        records = await session.fetch(_INSERT_MANY_RAW, *(params[n] for n in _RAW_PARAMS))
        return {r["id"]: (int(r["seq"]), int(r["unread"])) for r in records}
    result = await session.execute(_INSERT_MANY, params)
    return {row.id: (int(row.seq), int(row.unread)) for row in result}
