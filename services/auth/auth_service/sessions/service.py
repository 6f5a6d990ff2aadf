"""Login, refresh-token rotation with reuse detection, logout and the session list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service import access_tokens
from auth_service.audit import service as audit
from auth_service.audit.models import AuditAction
from auth_service.client_info import ClientInfo
from auth_service.config import AuthSettings
from auth_service.errors import (
    AccountSuspended,
    InvalidCredentials,
    RefreshTokenExpired,
    RefreshTokenInvalid,
    RefreshTokenReused,
    SessionNotFound,
    SessionRevoked,
)
from auth_service.keys import KeyRing
from auth_service.notifications import SecurityReason, security_alert
from auth_service.opaque_tokens import hash_token, new_token
from auth_service.passwords.hashing import PasswordHashing
from auth_service.sessions import repository
from auth_service.sessions.models import RefreshFamily, RefreshToken, RevokeReason
from auth_service.sessions.schemas import TokenPair
from auth_service.sessions.sealing import seal, unseal
from auth_service.throttle import LoginThrottle
from auth_service.users import repository as users
from auth_service.users.models import User
from webrana_common.db.base import utcnow


@dataclass(frozen=True)
class Issuer:
    """What minting a token pair needs."""

    settings: AuthSettings
    keys: KeyRing


async def login(
    session: AsyncSession,
    issuer: Issuer,
    hashing: PasswordHashing,
    redis: Redis,
    email: str,
    password: str,
    client: ClientInfo,
) -> TokenPair:
    throttle = LoginThrottle(redis, issuer.settings)
    await throttle.attempt(email, client.ip)
    user = await users.get_by_email(session, email)
    # One argon2 verification whether or not the account exists (a dummy hash otherwise).
    matched = await hashing.verify(user.password_hash if user else None, password)
    if user is None or not matched:
        raise InvalidCredentials("Email or password is incorrect")
    await throttle.succeeded(email, client.ip)
    if user.is_suspended:
        raise AccountSuspended("This account is suspended; contact support")
    if hashing.needs_rehash(user.password_hash):
        user.password_hash = await hashing.hash(password)
    user.last_login_at = utcnow()
    return await open_session(session, issuer, user, client)


async def open_session(
    session: AsyncSession, issuer: Issuer, user: User, client: ClientInfo
) -> TokenPair:
    now = utcnow()
    family = RefreshFamily(
        id=uuid.uuid4(),
        user_id=user.id,
        user_agent=client.user_agent,
        device=client.device,
        created_ip=client.ip,
        last_ip=client.ip,
        created_at=now,
        last_used_at=now,
        expires_at=now,
    )
    session.add(family)
    pair, _ = _issue(session, issuer, user, family, now)
    await session.flush()
    return pair


def _issue(
    session: AsyncSession, issuer: Issuer, user: User, family: RefreshFamily, now: datetime
) -> tuple[TokenPair, RefreshToken]:
    settings = issuer.settings
    plaintext = new_token()
    row = RefreshToken(
        id=uuid.uuid4(),
        family_id=family.id,
        token_hash=hash_token(plaintext),
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_ttl_days),
    )
    session.add(row)
    family.expires_at = row.expires_at
    pair = TokenPair(
        access_token=access_tokens.mint(issuer.keys, settings, user, family.id),
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=plaintext,
        refresh_expires_at=row.expires_at,
        session_id=family.id,
    )
    return pair, row


async def refresh(
    session: AsyncSession, issuer: Issuer, presented: str, client: ClientInfo
) -> TokenPair:
    """Rotate `presented`. Raises `RefreshTokenReused` after revoking the family: the caller
    must let the transaction commit (see the router)."""
    now = utcnow()
    token = await repository.lock_token(session, hash_token(presented))
    if token is None:
        raise RefreshTokenInvalid("Refresh token is not valid; log in again")
    family = await repository.lock_family(session, token.family_id)
    assert family is not None  # tokens cascade with their family
    if family.revoked_at is not None:
        raise SessionRevoked("This session has ended; log in again")
    if token.used_at is not None:
        grace = timedelta(seconds=issuer.settings.refresh_reuse_grace_seconds)
        if now - token.used_at <= grace and token.successor_sealed is not None:
            pair = unseal(token.successor_sealed, presented)
            if pair is not None:
                return pair
        await _revoke_on_reuse(session, family, token, client, now)
        raise RefreshTokenReused(
            "This refresh token was already used; the session is revoked for safety. Log in again"
        )
    if token.expires_at <= now:
        raise RefreshTokenExpired("Refresh token expired; log in again")
    user = await users.get(session, family.user_id)
    if user is None or user.is_suspended:
        raise AccountSuspended("This account is suspended; contact support")
    pair, _ = _issue(session, issuer, user, family, now)
    token.used_at = now
    token.successor_sealed = seal(pair, presented)
    family.last_used_at = now
    family.last_ip = client.ip or family.last_ip
    await session.flush()
    return pair


async def _revoke_on_reuse(
    session: AsyncSession,
    family: RefreshFamily,
    token: RefreshToken,
    client: ClientInfo,
    now: datetime,
) -> None:
    """A spent token came back after the grace window: either the legitimate client or a thief
    holds a copy, and we cannot tell which, so the whole family goes."""
    family.revoked_at = now
    family.revoked_reason = RevokeReason.REUSE_DETECTED
    await audit.record(
        session,
        AuditAction.REFRESH_TOKEN_REUSED,
        actor_id=None,
        target_user_id=family.user_id,
        before={"session_id": str(family.id), "revoked": False},
        after={
            "session_id": str(family.id),
            "revoked": True,
            "token_used_at": token.used_at.isoformat() if token.used_at else None,
            "presented_from": client.device,
        },
        ip=client.ip,
    )
    await security_alert(session, family.user_id, SecurityReason.REFRESH_TOKEN_REUSED, client)


async def logout(session: AsyncSession, presented: str) -> None:
    """Ends the session the token belongs to; silent for unknown tokens (nothing to reveal)."""
    token = await repository.get_token(session, hash_token(presented))
    if token is None:
        return
    family = await repository.lock_family(session, token.family_id)
    if family is not None and family.revoked_at is None:
        family.revoked_at = utcnow()
        family.revoked_reason = RevokeReason.LOGOUT


async def revoke_all(
    session: AsyncSession,
    user_id: uuid.UUID,
    reason: RevokeReason,
    *,
    keep: uuid.UUID | None = None,
) -> int:
    return await repository.revoke_families(session, user_id, reason, utcnow(), keep=keep)


async def list_sessions(session: AsyncSession, user_id: uuid.UUID) -> Sequence[RefreshFamily]:
    return await repository.list_active(session, user_id, utcnow())


async def revoke_one(session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    family = await repository.lock_family(session, session_id)
    # Someone else's session is "not found", never "forbidden": ids are not confirmed.
    if family is None or family.user_id != user_id or family.revoked_at is not None:
        raise SessionNotFound(f"No active session {session_id}")
    family.revoked_at = utcnow()
    family.revoked_reason = RevokeReason.REVOKED_BY_USER
