from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.broadcasts.models import Broadcast, BroadcastStatus
from webrana_common.pagination import paginate_newest_first


async def create(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """The new broadcast's id, or None when its idempotency key exists."""
    stmt = (
        insert(Broadcast)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(index_elements=[Broadcast.idempotency_key])
        .returning(Broadcast.id)
    )
    return await session.scalar(stmt)


async def by_key(session: AsyncSession, key: str) -> Broadcast | None:
    return (
        await session.scalars(select(Broadcast).where(Broadcast.idempotency_key == key))
    ).one_or_none()


async def get(
    session: AsyncSession, broadcast_id: uuid.UUID, *, for_update: bool = False
) -> Broadcast | None:
    return await session.get(
        Broadcast, broadcast_id, with_for_update=for_update, populate_existing=for_update
    )


async def page(session: AsyncSession, cursor: str | None, limit: int) -> Sequence[Broadcast]:
    stmt = paginate_newest_first(
        select(Broadcast), Broadcast.created_at, Broadcast.id, cursor, limit
    )
    return (await session.scalars(stmt)).all()


async def stalled(session: AsyncSession, before: datetime) -> Sequence[uuid.UUID]:
    stmt = select(Broadcast.id).where(
        Broadcast.status.in_([BroadcastStatus.PENDING, BroadcastStatus.RUNNING]),
        Broadcast.updated_at < before,
    )
    return (await session.scalars(stmt)).all()
