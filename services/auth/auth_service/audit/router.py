from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from auth_service.audit import repository
from auth_service.audit.models import AuditAction
from auth_service.audit.schemas import AuditEntryView
from auth_service.dependencies import AdminDep
from webrana_common.db.session import ReadSessionDep
from webrana_common.openapi import problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, make_page

# Under /admin/users/ so the gateway's existing route to auth covers it; declared before the
# `/{user_id}` routes of the admin router.
router = APIRouter(prefix="/api/v1/admin/users", tags=["admin"])


@router.get(
    "/audit",
    summary="Read the audit trail, newest first",
    description="Admin actions and security events (refresh-token reuse, password changes). "
    "Filter by actor, target user or action.",
    responses=problems(
        s401="token_missing token_invalid", s403="admin_required", s400="invalid_cursor"
    ),
)
async def list_audit(
    session: ReadSessionDep,
    _admin: AdminDep,
    actor_id: uuid.UUID | None = None,
    target_user_id: uuid.UUID | None = None,
    action: AuditAction | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AuditEntryView]:
    rows = await repository.search(
        session,
        actor_id=actor_id,
        target_user_id=target_user_id,
        action=action,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(list(rows), limit)
    return Page[AuditEntryView](
        items=[AuditEntryView.model_validate(r) for r in items], next_cursor=next_cursor
    )
