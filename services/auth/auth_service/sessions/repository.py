from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.sessions.models import RefreshFamily, RefreshToken


async def get_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    return (await session.scalars(stmt)).one_or_none()


async def lock_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    """Row lock on the presented token: a second refresh of the same token waits here until
    the first one commits, then reads the rotated row (and takes the grace-window path)."""
    stmt = (
        select(RefreshToken)
        .where(RefreshToken.token_hash == token_hash)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def lock_family(session: AsyncSession, family_id: uuid.UUID) -> RefreshFamily | None:
    # Always after the token lock (same order everywhere), so a logout racing a refresh
    # serialises with it instead of deadlocking.
    return await session.get(RefreshFamily, family_id, with_for_update=True, populate_existing=True)


async def get_family(session: AsyncSession, family_id: uuid.UUID) -> RefreshFamily | None:
    return await session.get(RefreshFamily, family_id)


async def list_active(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> Sequence[RefreshFamily]:
    stmt = (
        select(RefreshFamily)
        .where(
            RefreshFamily.user_id == user_id,
            RefreshFamily.revoked_at.is_(None),
            RefreshFamily.expires_at > now,
        )
        .order_by(RefreshFamily.last_used_at.desc())
    )
    return (await session.scalars(stmt)).all()


async def revoke_families(
    session: AsyncSession,
    user_id: uuid.UUID,
    reason: str,
    now: datetime,
    *,
    keep: uuid.UUID | None = None,
) -> int:
    stmt = (
        update(RefreshFamily)
        .where(RefreshFamily.user_id == user_id, RefreshFamily.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(RefreshFamily.id != keep)
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget_sealed_pairs(session: AsyncSession, used_before: datetime) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.successor_sealed.is_not(None), RefreshToken.used_at < used_before)
        .values(successor_sealed=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_dead_families(session: AsyncSession, cutoff: datetime) -> int:
    """Families revoked or expired before `cutoff`; their tokens go with them (cascade)."""
    result = await session.execute(
        delete(RefreshFamily).where(
            or_(RefreshFamily.revoked_at < cutoff, RefreshFamily.expires_at < cutoff)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
