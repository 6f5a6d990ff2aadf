from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from notification_service.contracts import Category
from notification_service.dependencies import HubDep
from notification_service.notifications import repository, service
from notification_service.notifications.schemas import (
    NotificationView,
    ReadAllRequest,
    ReadAllResult,
    ReadResult,
    UnreadCount,
)
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
_AUTH = {"s401": "token_missing token_invalid"}


@router.get(
    "",
    summary="The caller's notifications, newest first",
    responses=problems(**_AUTH, s400="invalid_cursor"),
)
async def list_notifications(
    session: ReadSessionDep,
    user: CurrentUser,
    unread: Annotated[bool | None, Query(description="true: unread only; false: read only")] = None,
    category: Category | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[NotificationView]:
    return await service.list_page(
        session, user.user_id, unread=unread, category=category, cursor=cursor, limit=limit
    )


@router.get("/unread-count", summary="How many are unread", responses=problems(**_AUTH))
async def unread_count(session: ReadSessionDep, user: CurrentUser) -> UnreadCount:
    return UnreadCount(unread_count=await repository.unread_count(session, user.user_id))


@router.post(
    "/read-all",
    summary="Mark everything up to `before_id` read",
    description="Pass the newest notification the client has shown as `before_id`: one that "
    "arrives meanwhile stays unread. Every open tab gets `notification:read`.",
    responses=problems(**_AUTH, s404="notification_not_found"),
)
async def read_all(
    session: SessionDep, user: CurrentUser, hub: HubDep, body: ReadAllRequest | None = None
) -> ReadAllResult:
    before_id = body.before_id if body else None
    return await service.mark_all_read(session, hub, user.user_id, before_id)


@router.post(
    "/{notification_id}/read",
    summary="Mark one read",
    description="Idempotent. Every open tab of the user gets `notification:read`.",
    responses=problems(**_AUTH, s404="notification_not_found"),
)
async def read_one(
    notification_id: uuid.UUID, session: SessionDep, user: CurrentUser, hub: HubDep
) -> ReadResult:
    return await service.mark_read(session, hub, user.user_id, notification_id)


@router.delete(
    "/{notification_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete one from the inbox",
    responses=problems(**_AUTH, s404="notification_not_found"),
)
async def delete_one(
    notification_id: uuid.UUID, session: SessionDep, user: CurrentUser, hub: HubDep
) -> Response:
    await service.delete(session, hub, user.user_id, notification_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
