from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from notification_service.broadcasts import repository, service
from notification_service.broadcasts.schemas import BroadcastRequest, BroadcastView
from notification_service.dependencies import QueueDep
from notification_service.errors import IdempotencyKeyMismatch, IdempotencyKeyMissing
from webrana_common.auth.dependencies import AdminUser
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import ADMIN_AUTH, problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, make_page

router = APIRouter(prefix="/api/v1/admin/notifications/broadcasts", tags=["admin"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Broadcast a SYSTEM_ANNOUNCEMENT",
    description="To every active user, or those matching `audience`, in pages of "
    "BROADCAST_BATCH_SIZE by the worker. Idempotent on `idempotency_key` / `Idempotency-Key`: "
    "the same key answers 200 with the existing broadcast. Follow progress with GET.",
    responses={
        200: {"model": BroadcastView, "description": "This key was broadcast already"},
        **problems(**ADMIN_AUTH, s400="idempotency_key_missing idempotency_key_mismatch"),
    },
)
async def create_broadcast(
    body: BroadcastRequest,
    response: Response,
    session: SessionDep,
    admin: AdminUser,
    queue: QueueDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=150)] = None,
) -> BroadcastView:
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise IdempotencyKeyMismatch("Send the same key in the header and the body, or one")
    key = body.idempotency_key or idempotency_key
    if not key:
        raise IdempotencyKeyMissing("A broadcast needs idempotency_key (or Idempotency-Key)")
    view, created = await service.create(session, queue, admin.user_id, body, key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return view


@router.get("", summary="Broadcasts, newest first", responses=problems(**ADMIN_AUTH))
async def list_broadcasts(
    session: ReadSessionDep,
    _admin: AdminUser,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[BroadcastView]:
    items, next_cursor = make_page(await repository.page(session, cursor, limit), limit)
    return Page[BroadcastView](items=[BroadcastView.of(b) for b in items], next_cursor=next_cursor)


@router.get(
    "/{broadcast_id}",
    summary="One broadcast and its progress",
    responses=problems(**ADMIN_AUTH, s404="broadcast_not_found"),
)
async def get_broadcast(
    broadcast_id: uuid.UUID, session: ReadSessionDep, _admin: AdminUser
) -> BroadcastView:
    return BroadcastView.of(await service.get(session, broadcast_id))


@router.post(
    "/{broadcast_id}/resume",
    summary="Resume a failed or stalled broadcast from where it stopped",
    responses=problems(**ADMIN_AUTH, s404="broadcast_not_found"),
)
async def resume_broadcast(
    broadcast_id: uuid.UUID, session: SessionDep, _admin: AdminUser, queue: QueueDep
) -> BroadcastView:
    return BroadcastView.of(await service.resume(session, queue, broadcast_id))
