from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from notification_service.contracts import Channel, NotificationEvent
from notification_service.deliveries import repository
from notification_service.deliveries.models import DeliveryReason, DeliveryStatus
from notification_service.deliveries.schemas import DeliveryView
from webrana_common.auth.dependencies import AdminUser
from webrana_common.db.session import ReadSessionDep
from webrana_common.openapi import ADMIN_AUTH, problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, make_page

router = APIRouter(prefix="/api/v1/admin/notifications/deliveries", tags=["admin"])


@router.get(
    "",
    summary="Search the delivery log, newest first",
    responses=problems(**ADMIN_AUTH, s400="invalid_cursor"),
)
async def search_deliveries(
    session: ReadSessionDep,
    _admin: AdminUser,
    user_id: uuid.UUID | None = None,
    notification_id: uuid.UUID | None = None,
    event: NotificationEvent | None = None,
    channel: Channel | None = None,
    status: DeliveryStatus | None = None,
    reason: DeliveryReason | None = None,
    since: Annotated[datetime | None, Query(description="created at or after")] = None,
    until: Annotated[datetime | None, Query(description="created before")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[DeliveryView]:
    rows = await repository.search(
        session,
        filters={
            "user_id": user_id,
            "notification_id": notification_id,
            "event": event,
            "channel": channel,
            "status": status,
            "reason": reason,
        },
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(rows, limit)
    return Page[DeliveryView](
        items=[DeliveryView.model_validate(row) for row in items], next_cursor=next_cursor
    )
