"""All SQL of the delivery log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notification_service.deliveries.models import Delivery, DeliveryStatus
from webrana_common.pagination import paginate_newest_first


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(Delivery.__table__.insert(), rows)


async def get(
    session: AsyncSession, delivery_id: uuid.UUID, *, for_update: bool = False
) -> Delivery | None:
    return await session.get(
        Delivery, delivery_id, with_for_update=for_update, populate_existing=for_update
    )


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
