"""The internal user listing the notification service needs from auth for broadcasts.

auth has no such route yet (README, "Needs from auth"): this router is the proposed
`auth_service/users/router.py` addition, mounted on the real auth app in these tests so that
broadcasts page through real auth users.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from auth_service.users.models import Locale, User, UserRole, UserStatus
from auth_service.users.schemas import InternalUserView
from webrana_common.auth.api_keys import Internal
from webrana_common.db.session import SessionDep
from webrana_common.pagination import Page, make_page, paginate_newest_first

router = APIRouter(prefix="/internal", tags=["internal"])


@router.get("/users", summary="Users for a broadcast, newest first (service-to-service)")
async def list_users(
    session: SessionDep,
    _caller: Internal,
    status: UserStatus | None = None,
    role: UserRole | None = None,
    locale: Locale | None = None,
    email_verified: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Page[InternalUserView]:
    stmt = select(User)
    if status is not None:
        stmt = stmt.where(User.status == status)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if locale is not None:
        stmt = stmt.where(User.locale == locale)
    if email_verified is not None:
        column = User.email_verified_at
        stmt = stmt.where(column.is_not(None) if email_verified else column.is_(None))
    stmt = paginate_newest_first(stmt, User.created_at, User.id, cursor, limit)
    rows, next_cursor = make_page((await session.scalars(stmt)).all(), limit)
    return Page[InternalUserView](
        items=[InternalUserView.of(u) for u in rows], next_cursor=next_cursor
    )
