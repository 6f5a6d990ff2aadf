"""All SQL of the delivery log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notification_service.deliveries.models import Delivery, DeliveryStatus
from notification_service.notifications.models import Notification
from notification_service.preferences.models import Preference
from webrana_common.db.base import utcnow
from webrana_common.pagination import paginate_newest_first

_D = Delivery.__table__
_N = Notification.__table__
_P = Preference.__table__
# What a delivery job needs, in one round trip: the delivery, its notification (None when it
# is gone) and the user's current preferences (None: the defaults). Built once.
_WORK = (
    select(
        _D.c.id,
        _D.c.status,
        _D.c.channel,
        _D.c.user_id,
        _N.c.id.label("notification_id"),
        _N.c.event,
        _N.c.category,
        _N.c.data,
        _N.c.title,
        _P.c.user_id.label("preferences_user_id"),
        _P.c.channels,
        _P.c.muted_email,
        _P.c.muted_telegram,
        _P.c.quiet_hours_start,
        _P.c.quiet_hours_end,
    )
    .select_from(
        _D.outerjoin(_N, _N.c.id == _D.c.notification_id).outerjoin(
            _P, _P.c.user_id == _D.c.user_id
        )
    )
    .where(_D.c.id == bindparam("delivery_id"))
)


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(Delivery.__table__.insert(), rows)


async def get(
    session: AsyncSession, delivery_id: uuid.UUID, *, for_update: bool = False
) -> Delivery | None:
    return await session.get(
        Delivery, delivery_id, with_for_update=for_update, populate_existing=for_update
    )


async def work(session: AsyncSession | AsyncConnection, delivery_id: uuid.UUID) -> Row[Any] | None:
    return (await session.execute(_WORK, {"delivery_id": delivery_id})).one_or_none()


async def settle(
    connection: AsyncConnection,
    delivery_id: uuid.UUID,
    values: dict[str, Any],
    *,
    attempted: bool,
) -> bool:
    """Settle a QUEUED delivery in one statement; False when it was not QUEUED any more (a
    duplicate job, or a requeue racing the first, settled it already)."""
    stmt = (
        update(_D)
        .where(_D.c.id == delivery_id, _D.c.status == DeliveryStatus.QUEUED)
        .values(
            attempts=_D.c.attempts + (1 if attempted else 0),
            updated_at=utcnow(),
            **values,
        )
    )
    result = await connection.execute(stmt)
    return bool(result.rowcount)


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
