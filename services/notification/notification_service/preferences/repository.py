from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notification_service.preferences.models import Preference
from webrana_common.db.base import utcnow


async def get(session: AsyncSession | AsyncConnection, user_id: uuid.UUID) -> Row[Any] | None:
    """A plain row (not an ORM object): read on every send, so kept cheap."""
    table = Preference.__table__
    return (await session.execute(select(table).where(table.c.user_id == user_id))).first()


async def get_many(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Preference]:
    if not user_ids:
        return {}
    rows = await session.scalars(select(Preference).where(Preference.user_id.in_(user_ids)))
    return {row.user_id: row for row in rows}


async def upsert(session: AsyncSession, user_id: uuid.UUID, values: dict[str, object]) -> None:
    values = {**values, "updated_at": utcnow()}
    stmt = insert(Preference).values(user_id=user_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[Preference.user_id], set_=values)
    )
