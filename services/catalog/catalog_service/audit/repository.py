from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.audit.models import AuditEntry
from webrana_common.pagination import paginate_newest_first


async def search(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    target_type: str | None,
    target_id: uuid.UUID | None,
    action: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[AuditEntry]:
    stmt = select(AuditEntry)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if target_type is not None:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    stmt = paginate_newest_first(stmt, AuditEntry.created_at, AuditEntry.id, cursor, limit)
    return (await session.scalars(stmt)).all()
