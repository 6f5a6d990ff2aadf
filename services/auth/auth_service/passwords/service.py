"""Changing a password (signed in) and resetting a forgotten one (by emailed link)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.audit import service as audit
from auth_service.audit.models import AuditAction
from auth_service.client_info import ClientInfo
from auth_service.config import AuthSettings
from auth_service.errors import CurrentPasswordIncorrect, PasswordUnchanged
from auth_service.notifications import NotificationEvent, SecurityReason, notify, security_alert
from auth_service.one_time_tokens import service as one_time_tokens
from auth_service.one_time_tokens.models import TokenPurpose
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import check_password
from auth_service.sessions import service as sessions
from auth_service.sessions.models import RevokeReason
from auth_service.throttle import LoginThrottle, within_budget
from auth_service.users import repository as users
from auth_service.users.models import User
from webrana_common.db.base import utcnow

RESET_PATH = "/reset-password"


async def change_password(
    session: AsyncSession,
    settings: AuthSettings,
    hashing: PasswordHashing,
    redis: Redis,
    user: User,
    current_password: str,
    new_password: str,
    client: ClientInfo,
    current_session: uuid.UUID | None,
) -> None:
    """Other sessions end; the caller's stays, so changing a password does not log you out."""
    # A stolen access token must not become a way to guess the password: same budget as login.
    throttle = LoginThrottle(redis, settings)
    await throttle.attempt(user.email, client.ip)
    if not await hashing.verify(user.password_hash, current_password):
        raise CurrentPasswordIncorrect("The current password is incorrect")
    await throttle.succeeded(user.email, client.ip)
    if new_password == current_password:
        raise PasswordUnchanged("Choose a password different from the current one")
    check_password(new_password, user.email)
    user.password_hash = await hashing.hash(new_password)
    user.password_changed_at = utcnow()
    revoked = await sessions.revoke_all(
        session, user.id, RevokeReason.PASSWORD_CHANGED, keep=current_session
    )
    await audit.record(
        session,
        AuditAction.PASSWORD_CHANGED,
        actor_id=user.id,
        target_user_id=user.id,
        after={"other_sessions_revoked": revoked},
        ip=client.ip,
    )
    await security_alert(session, user.id, SecurityReason.PASSWORD_CHANGED, client)


async def request_reset(
    session: AsyncSession, settings: AuthSettings, redis: Redis, email: str
) -> None:
    """Silent whatever happens, so the answer never tells whether the address has an account."""
    user = await users.get_by_email(session, email)
    if user is None or user.is_suspended:
        return
    if not await within_budget(redis, "mail", email, settings.account_emails_per_hour, 3600):
        return
    issued = await one_time_tokens.issue(
        session,
        user.id,
        TokenPurpose.PASSWORD_RESET,
        timedelta(minutes=settings.password_reset_ttl_minutes),
        expire_previous=True,
    )
    await notify(
        session,
        NotificationEvent.PASSWORD_RESET,
        user.id,
        {
            "email": user.email,
            "full_name": user.full_name,
            "link": settings.link(RESET_PATH, issued.token),
            "expires_at": issued.expires_at.isoformat(),
        },
        f"auth:password-reset:{issued.id}",
    )


async def reset_password(
    session: AsyncSession,
    settings: AuthSettings,
    hashing: PasswordHashing,
    redis: Redis,
    token: str,
    new_password: str,
    client: ClientInfo,
) -> None:
    row = await one_time_tokens.consume(session, token, TokenPurpose.PASSWORD_RESET)
    user = await users.get_for_update(session, row.user_id)
    assert user is not None  # the token row cascades with its user
    check_password(new_password, user.email)
    now = utcnow()
    user.password_hash = await hashing.hash(new_password)
    user.password_changed_at = now
    # The link reached the inbox, which proves the address as well as a verification would.
    user.email_verified_at = user.email_verified_at or now
    revoked = await sessions.revoke_all(session, user.id, RevokeReason.PASSWORD_RESET)
    await audit.record(
        session,
        AuditAction.PASSWORD_RESET,
        actor_id=user.id,
        target_user_id=user.id,
        after={"sessions_revoked": revoked},
        ip=client.ip,
    )
    await security_alert(session, user.id, SecurityReason.PASSWORD_RESET, client)
    # The rightful owner is back in control: lift a lockout an attacker may have caused.
    await LoginThrottle(redis, settings).clear_account(user.email)
