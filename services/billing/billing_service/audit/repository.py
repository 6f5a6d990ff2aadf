from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.audit.models import AuditEntry
from webrana_common.pagination import paginate_newest_first


async def record(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: object,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        id=uuid.uuid4(),
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        reason=reason,
        details=details or {},
    )
    session.add(entry)
    return entry


async def search(
    session: AsyncSession,
    *,
    subject_type: str | None,
    subject_id: str | None,
    action: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[AuditEntry]:
    stmt = select(AuditEntry)
    if subject_type:
        stmt = stmt.where(AuditEntry.subject_type == subject_type)
    if subject_id:
        stmt = stmt.where(AuditEntry.subject_id == subject_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    stmt = paginate_newest_first(stmt, AuditEntry.created_at, AuditEntry.id, cursor, limit)
    return (await session.scalars(stmt)).all()
