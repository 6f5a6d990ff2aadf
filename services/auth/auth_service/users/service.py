"""Registration, email verification and the profile."""

from __future__ import annotations

import uuid
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import AuthSettings
from auth_service.errors import EmailAlreadyRegistered
from auth_service.notifications import NotificationEvent, notify
from auth_service.one_time_tokens import service as one_time_tokens
from auth_service.one_time_tokens.models import TokenPurpose
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import check_password
from auth_service.throttle import within_budget
from auth_service.users import repository
from auth_service.users.models import User
from auth_service.users.schemas import RegisterRequest, UpdateProfileRequest
from webrana_common.db.base import utcnow

VERIFY_PATH = "/verify-email"


async def register(
    session: AsyncSession,
    settings: AuthSettings,
    hashing: PasswordHashing,
    data: RegisterRequest,
) -> User:
    check_password(data.password, data.email)
    if await repository.get_by_email(session, data.email) is not None:
        raise EmailAlreadyRegistered("An account with this email already exists")
    user = User(
        id=uuid.uuid4(),
        email=data.email,
        password_hash=await hashing.hash(data.password),
        full_name=data.full_name,
        phone=data.phone,
        locale=data.locale,
        password_changed_at=utcnow(),
    )
    try:
        # A savepoint: a concurrent registration of the same address loses on the unique
        # index here, and gets the same 409 as the check above would have given it.
        async with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise EmailAlreadyRegistered("An account with this email already exists") from exc
    await send_verification(session, settings, user)
    return user


async def send_verification(session: AsyncSession, settings: AuthSettings, user: User) -> None:
    issued = await one_time_tokens.issue(
        session,
        user.id,
        TokenPurpose.EMAIL_VERIFY,
        timedelta(hours=settings.email_verification_ttl_hours),
        expire_previous=False,
    )
    await notify(
        session,
        NotificationEvent.EMAIL_VERIFY,
        user.id,
        {
            "email": user.email,
            "full_name": user.full_name,
            "link": settings.link(VERIFY_PATH, issued.token),
            "expires_at": issued.expires_at.isoformat(),
        },
        f"auth:email-verify:{issued.id}",
    )


async def verify_email(session: AsyncSession, token: str) -> User:
    row = await one_time_tokens.consume(session, token, TokenPurpose.EMAIL_VERIFY)
    user = await repository.get_for_update(session, row.user_id)
    assert user is not None  # the token row cascades with its user
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


async def resend_verification(
    session: AsyncSession, settings: AuthSettings, redis: Redis, email: str
) -> None:
    """Silent whatever happens: the answer must not tell whether the address has an account."""
    user = await repository.get_by_email(session, email)
    if user is None or user.email_verified or user.is_suspended:
        return
    if await within_budget(redis, "mail", email, settings.account_emails_per_hour, 3600):
        await send_verification(session, settings, user)


async def update_profile(user: User, changes: UpdateProfileRequest) -> User:
    for name in changes.model_fields_set:
        setattr(user, name, getattr(changes, name))
    return user
