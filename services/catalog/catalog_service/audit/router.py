from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from catalog_service.audit import repository
from catalog_service.audit.schemas import AuditEntryView
from catalog_service.audit.service import AuditAction, TargetType
from catalog_service.dependencies import AdminUser
from webrana_common.db.session import ReadSessionDep
from webrana_common.openapi import ADMIN_AUTH, problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, make_page

router = APIRouter(prefix="/api/v1/admin/catalog/audit", tags=["admin: audit"])


@router.get(
    "",
    summary="Read the catalog's audit trail, newest first",
    description="Every change to providers, regions, images and plans: who (admin or "
    "service), what, the state before and after, and the request id.",
    responses=problems(**ADMIN_AUTH, s400="invalid_cursor", s422="validation_error"),
)
async def list_audit(
    session: ReadSessionDep,
    _admin: AdminUser,
    actor_id: uuid.UUID | None = None,
    target_type: TargetType | None = None,
    target_id: uuid.UUID | None = None,
    action: AuditAction | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AuditEntryView]:
    rows = await repository.search(
        session,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        action=action,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(list(rows), limit)
    return Page[AuditEntryView](
        items=[AuditEntryView.model_validate(r) for r in items], next_cursor=next_cursor
    )
