"""All SQL of the delivery log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import asyncpg
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notification_service.deliveries.models import Delivery, DeliveryStatus
from webrana_common.db.base import utcnow
from webrana_common.pagination import paginate_newest_first

_D = Delivery.__table__


@dataclass(frozen=True)
class Work:
    """What a delivery job needs, in one round trip: the delivery, its notification (None when
    it is gone) and the user's current preferences (None: the defaults)."""

    id: uuid.UUID
    status: str
    channel: str
    user_id: uuid.UUID
    notification_id: uuid.UUID | None
    event: str | None
    category: str | None
    data: dict[str, Any] | None
    title: str | None
    preferences_user_id: uuid.UUID | None
    channels: dict[str, Any] | None
    muted_email: bool | None
    muted_telegram: bool | None
    quiet_hours_start: time | None
    quiet_hours_end: time | None


# A job's two statements run on the driver's connection (webrana_common.db.raw): through
# SQLAlchemy they were a fifth of the worker's CPU per mail.
_WORK = """
SELECT d.id, d.status, d.channel, d.user_id,
       n.id AS notification_id, n.event, n.category, n.data, n.title,
       p.user_id AS preferences_user_id, p.channels, p.muted_email, p.muted_telegram,
       p.quiet_hours_start, p.quiet_hours_end
FROM deliveries d
LEFT JOIN notifications n ON n.id = d.notification_id
LEFT JOIN notification_preferences p ON p.user_id = d.user_id
WHERE d.id = $1
"""


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(Delivery.__table__.insert(), rows)


async def get(
    session: AsyncSession, delivery_id: uuid.UUID, *, for_update: bool = False
) -> Delivery | None:
    return await session.get(
        Delivery, delivery_id, with_for_update=for_update, populate_existing=for_update
    )


async def work(connection: asyncpg.Connection, delivery_id: uuid.UUID) -> Work | None:
    row = await connection.fetchrow(_WORK, delivery_id)
    return None if row is None else Work(**dict(row.items()))


async def settle(
    connection: asyncpg.Connection,
    delivery_id: uuid.UUID,
    values: dict[str, Any],
    *,
    attempted: bool,
) -> bool:
    """Settle a QUEUED delivery in one statement; False when it was not QUEUED any more (a
    duplicate job, or a requeue racing the first, settled it already). Column names in
    `values` come from code, never from input."""
    names = [*values, "updated_at"]
    sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=3))
    status = await connection.execute(
        f"UPDATE deliveries SET attempts = attempts + $2, {sets}"  # noqa: S608
        f" WHERE id = $1 AND status = '{DeliveryStatus.QUEUED}'",
        delivery_id,
        1 if attempted else 0,
        *values.values(),
        utcnow(),
    )
    return status.endswith(" 1")


async def outcomes(
    session: AsyncSession | AsyncConnection, notification_id: uuid.UUID
) -> Sequence[Row[Any]]:
    """(channel, status, reason, scheduled_for) of a notification's deliveries."""
    table = Delivery.__table__
    stmt = (
        select(table.c.channel, table.c.status, table.c.reason, table.c.scheduled_for)
        .where(table.c.notification_id == notification_id)
        .order_by(table.c.channel)
    )
    return (await session.execute(stmt)).all()


async def stale_queued(
    session: AsyncSession, due_before: datetime, limit: int
) -> Sequence[Delivery]:
    """QUEUED deliveries due for a while and untouched since: their job was lost."""
    stmt = (
        select(Delivery)
        .where(
            Delivery.status == DeliveryStatus.QUEUED,
            (Delivery.scheduled_for.is_(None)) | (Delivery.scheduled_for < due_before),
            Delivery.updated_at < due_before,
        )
        .order_by(Delivery.created_at)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def search(
    session: AsyncSession,
    *,
    filters: dict[str, Any],
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> Sequence[Delivery]:
    stmt = select(Delivery)
    for name, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(Delivery, name) == value)
    if since is not None:
        stmt = stmt.where(Delivery.created_at >= since)
    if until is not None:
        stmt = stmt.where(Delivery.created_at < until)
    stmt = paginate_newest_first(stmt, Delivery.created_at, Delivery.id, cursor, limit)
    return (await session.scalars(stmt)).all()


async def delete_before(session: AsyncSession, cutoff: datetime, batch: int) -> int:
    victims = select(Delivery.id).where(Delivery.created_at < cutoff).limit(batch)
    result = await session.execute(
        Delivery.__table__.delete().where(Delivery.id.in_(victims.scalar_subquery()))
    )
    return int(result.rowcount or 0)
