"""The audit trail: who did what to whom, the state before and after, and the request id that
ties the entry to the logs."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.audit.models import AuditAction, AuditEntry
from webrana_common.db.base import utcnow
from webrana_common.request_id import get_request_id


async def record(
    session: AsyncSession,
    action: AuditAction,
    *,
    actor_id: uuid.UUID | None,
    target_user_id: uuid.UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    # Written in the same transaction as the change itself: no change without its entry,
    # no entry for a change that rolled back.
    entry = AuditEntry(
        id=uuid.uuid4(),
        actor_id=actor_id,
        target_user_id=target_user_id,
        action=action,
        before=before,
        after=after,
        request_id=get_request_id(),
        ip=ip,
        created_at=utcnow(),
    )
    session.add(entry)
    return entry
