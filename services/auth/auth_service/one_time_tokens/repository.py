from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.one_time_tokens.models import OneTimeToken


async def get_by_hash_for_update(session: AsyncSession, token_hash: str) -> OneTimeToken | None:
    # Locked so two clicks on the same link cannot both consume it.
    stmt = select(OneTimeToken).where(OneTimeToken.token_hash == token_hash).with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def expire_unused(
    session: AsyncSession, user_id: uuid.UUID, purpose: str, now: datetime
) -> None:
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.expires_at > now,
        )
        .values(expires_at=now)
    )


async def delete_expired_before(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(delete(OneTimeToken).where(OneTimeToken.expires_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
