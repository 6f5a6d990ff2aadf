from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.users.models import User
from webrana_common.pagination import paginate_newest_first


async def get(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_for_update(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id, with_for_update=True, populate_existing=True)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    # lower() matches the unique functional index, so this is one index probe.
    stmt = select(User).where(func.lower(User.email) == email.lower())
    return (await session.scalars(stmt)).one_or_none()


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    session: AsyncSession,
    *,
    query: str | None,
    status: str | None,
    role: str | None,
    verified: bool | None,
    cursor: str | None,
    limit: int,
) -> Sequence[User]:
    stmt = select(User)
    if query:
        pattern = f"%{_escape_like(query.lower())}%"
        stmt = stmt.where(
            or_(
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.full_name).like(pattern, escape="\\"),
                User.phone.like(pattern, escape="\\"),
            )
        )
    if status:
        stmt = stmt.where(User.status == status)
    if role:
        stmt = stmt.where(User.role == role)
    if verified is not None:
        stmt = stmt.where(
            User.email_verified_at.is_not(None) if verified else User.email_verified_at.is_(None)
        )
    stmt = paginate_newest_first(stmt, User.created_at, User.id, cursor, limit)
    return (await session.scalars(stmt)).all()


async def lock_many(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
    """Row locks taken in id order, so two transactions locking the same pair never deadlock."""
    stmt = (
        select(User)
        .where(User.id.in_(user_ids))
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {user.id: user for user in (await session.scalars(stmt)).all()}


async def list_for_broadcast(
    session: AsyncSession,
    *,
    status: str | None,
    role: str | None,
    locale: str | None,
    email_verified: bool | None,
    cursor: str | None,
    limit: int,
) -> Sequence[User]:
    """Newest first: users who register while a broadcast pages are not picked up halfway."""
    stmt = select(User)
    for column, value in ((User.status, status), (User.role, role), (User.locale, locale)):
        if value is not None:
            stmt = stmt.where(column == value)
    if email_verified is not None:
        column = User.email_verified_at
        stmt = stmt.where(column.is_not(None) if email_verified else column.is_(None))
    stmt = paginate_newest_first(stmt, User.created_at, User.id, cursor, limit)
    return (await session.scalars(stmt)).all()
