from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import Row, bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notification_service.preferences.models import Preference
from webrana_common.db import raw
from webrana_common.db.base import utcnow

_TABLE = Preference.__table__
# Built once: SQLAlchemy memoizes a statement's cache key on the object, so a send does not
# rebuild and re-key it.
_GET = select(_TABLE).where(_TABLE.c.user_id == bindparam("user_id"))


_GET_RAW = f"SELECT {raw.columns(Preference)} FROM notification_preferences WHERE user_id = $1"  # noqa: S608


async def get(
    session: AsyncSession | AsyncConnection | asyncpg.Connection, user_id: uuid.UUID
) -> Row[Any] | Preference | None:
    """A plain row, or a detached Preference on the driver's connection (webrana_common.db.raw):
    read on every send, so kept cheap."""
    if isinstance(session, asyncpg.Connection):
        return raw.load(Preference, await session.fetchrow(_GET_RAW, user_id))
    return (await session.execute(_GET, {"user_id": user_id})).first()


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
