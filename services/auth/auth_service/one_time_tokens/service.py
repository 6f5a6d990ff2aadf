"""Issue and consume single-use tokens; each purpose reports its own problem codes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.errors import OneTimeTokenExpired, OneTimeTokenInvalid, OneTimeTokenUsed
from auth_service.one_time_tokens import repository
from auth_service.one_time_tokens.models import OneTimeToken, TokenPurpose
from auth_service.opaque_tokens import hash_token, new_token
from webrana_common.db.base import utcnow

_CODE_PREFIX = {
    TokenPurpose.EMAIL_VERIFY: "verification_token",
    TokenPurpose.PASSWORD_RESET: "reset_token",
    TokenPurpose.TELEGRAM_LINK: "telegram_link_token",
}


@dataclass(frozen=True)
class IssuedToken:
    id: uuid.UUID
    token: str
    expires_at: datetime


async def issue(
    session: AsyncSession,
    user_id: uuid.UUID,
    purpose: TokenPurpose,
    ttl: timedelta,
    *,
    expire_previous: bool,
) -> IssuedToken:
    """`expire_previous`: only the newest link works (reset, Telegram). Verification links do
    not need it: any of them proves the same thing."""
    now = utcnow()
    if expire_previous:
        await repository.expire_unused(session, user_id, purpose, now)
    token = new_token()
    row = OneTimeToken(
        id=uuid.uuid4(),
        user_id=user_id,
        purpose=purpose,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    await session.flush()
    return IssuedToken(id=row.id, token=token, expires_at=row.expires_at)


async def consume(session: AsyncSession, token: str, purpose: TokenPurpose) -> OneTimeToken:
    prefix = _CODE_PREFIX[purpose]
    row = await repository.get_by_hash_for_update(session, hash_token(token))
    if row is None or row.purpose != purpose:
        raise OneTimeTokenInvalid("This link is not valid", code=f"{prefix}_invalid")
    if row.used_at is not None:
        raise OneTimeTokenUsed("This link has already been used", code=f"{prefix}_used")
    now = utcnow()
    if row.expires_at <= now:
        raise OneTimeTokenExpired(
            "This link has expired; request a new one", code=f"{prefix}_expired"
        )
    row.used_at = now
    return row
