"""The audit trail: who changed what in the catalog, the state before and after, and the
request id that ties the entry to the logs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.audit.models import AuditEntry
from webrana_common.db.base import utcnow
from webrana_common.request_id import get_request_id


class AuditAction(StrEnum):
    PROVIDER_CREATED = "provider.created"
    PROVIDER_UPDATED = "provider.updated"
    PROVIDER_DELETED = "provider.deleted"
    REGION_CREATED = "region.created"
    REGION_UPDATED = "region.updated"
    REGION_DELETED = "region.deleted"
    IMAGE_CREATED = "image.created"
    IMAGE_UPDATED = "image.updated"
    IMAGE_DELETED = "image.deleted"
    PLAN_CREATED = "plan.created"
    PLAN_IMPORTED = "plan.imported"
    PLAN_UPDATED = "plan.updated"
    PLAN_DELETED = "plan.deleted"
    PLAN_DEACTIVATED = "plan.deactivated"
    PLAN_REFERENCED = "plan.referenced"
    CATALOG_SEEDED = "catalog.seeded"


class TargetType(StrEnum):
    PROVIDER = "provider"
    REGION = "region"
    IMAGE = "image"
    PLAN = "plan"
    CATALOG = "catalog"


@dataclass(frozen=True)
class Actor:
    """An admin (`user_id`) or a calling service (`service`); both None for the seed."""

    user_id: uuid.UUID | None = None
    service: str | None = None


def record(
    session: AsyncSession,
    action: AuditAction,
    actor: Actor,
    *,
    target_type: TargetType,
    target_id: uuid.UUID | None,
    target_slug: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    # Written in the same transaction as the change itself: no change without its entry,
    # no entry for a change that rolled back.
    entry = AuditEntry(
        id=uuid.uuid4(),
        actor_id=actor.user_id,
        actor_service=actor.service,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_slug=target_slug,
        before=before,
        after=after,
        request_id=get_request_id(),
        created_at=utcnow(),
    )
    session.add(entry)
    return entry
