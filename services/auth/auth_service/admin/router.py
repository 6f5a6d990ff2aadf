from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from auth_service.admin import service
from auth_service.admin.schemas import AdminUserView, RoleChangeRequest, SuspendRequest
from auth_service.dependencies import AdminDep, ClientDep
from auth_service.users import repository as users
from auth_service.users.models import UserRole, UserStatus
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, make_page

router = APIRouter(prefix="/api/v1/admin/users", tags=["admin"])

_AUTH = {"s401": "token_missing token_invalid", "s403": "admin_required"}


@router.get(
    "",
    summary="List and search users, newest first",
    description="`q` matches email, name or phone (substring, case-insensitive).",
    responses=problems(**_AUTH, s400="invalid_cursor"),
)
async def list_users(
    session: ReadSessionDep,
    _admin: AdminDep,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    status: UserStatus | None = None,
    role: UserRole | None = None,
    verified: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AdminUserView]:
    rows = await users.search(
        session, query=q, status=status, role=role, verified=verified, cursor=cursor, limit=limit
    )
    items, next_cursor = make_page(list(rows), limit)
    return Page[AdminUserView](items=[AdminUserView.of(u) for u in items], next_cursor=next_cursor)


@router.get(
    "/{user_id}",
    summary="One user",
    responses=problems(**_AUTH, s404="user_not_found"),
)
async def get_user(user_id: uuid.UUID, session: ReadSessionDep, _admin: AdminDep) -> AdminUserView:
    return AdminUserView.of(await service.get_user(session, user_id))


@router.post(
    "/{user_id}/suspend",
    summary="Suspend a user",
    description="Login and refresh are refused from now on and every session is revoked.",
    responses=problems(
        **_AUTH, s404="user_not_found", s409="user_already_suspended admin_self_change"
    ),
)
async def suspend(
    user_id: uuid.UUID,
    body: SuspendRequest,
    session: SessionDep,
    admin: AdminDep,
    client: ClientDep,
) -> AdminUserView:
    return AdminUserView.of(await service.suspend(session, admin, user_id, body.reason, client))


@router.post(
    "/{user_id}/unsuspend",
    summary="Lift a suspension",
    responses=problems(**_AUTH, s404="user_not_found", s409="user_not_suspended admin_self_change"),
)
async def unsuspend(
    user_id: uuid.UUID, session: SessionDep, admin: AdminDep, client: ClientDep
) -> AdminUserView:
    return AdminUserView.of(await service.unsuspend(session, admin, user_id, client))


@router.put(
    "/{user_id}/role",
    summary="Set a user's role",
    description="Takes effect at the user's next token refresh (at most 15 minutes).",
    responses=problems(**_AUTH, s404="user_not_found", s409="admin_self_change"),
)
async def change_role(
    user_id: uuid.UUID,
    body: RoleChangeRequest,
    session: SessionDep,
    admin: AdminDep,
    client: ClientDep,
) -> AdminUserView:
    return AdminUserView.of(await service.change_role(session, admin, user_id, body.role, client))
