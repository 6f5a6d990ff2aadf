from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from auth_service.dependencies import ActiveUser, HashingDep, RedisDep, SettingsDep
from auth_service.errors import UserNotFound
from auth_service.users import repository, service
from auth_service.users.models import Locale, UserRole, UserStatus
from auth_service.users.schemas import (
    Accepted,
    EmailRequest,
    EmailVerified,
    InternalUserView,
    MeView,
    RegisterRequest,
    UpdateProfileRequest,
    VerifyEmailRequest,
)
from webrana_common.auth.api_keys import Internal
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import problems
from webrana_common.pagination import Page, make_page

router = APIRouter(prefix="/api/v1/auth", tags=["account"])
internal_router = APIRouter(prefix="/internal", tags=["internal"])

RESEND_ANSWER = "If this address has an unverified account, a new verification link is on its way."


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer account",
    description="Stores the account and emails a verification link (valid 24 h). The password "
    "needs 10+ characters, must not contain the email's local part and must not be a common "
    "password. `phone` is an optional Indonesian number, returned as E.164.",
    responses=problems(
        s409="email_already_registered",
        s422="password_too_short password_contains_email password_too_common validation_error",
    ),
)
async def register(
    body: RegisterRequest, session: SessionDep, settings: SettingsDep, hashing: HashingDep
) -> MeView:
    return MeView.of(await service.register(session, settings, hashing, body))


@router.post(
    "/verify-email",
    summary="Confirm an email address with the emailed token",
    responses=problems(
        s400="verification_token_invalid",
        s410="verification_token_expired verification_token_used",
    ),
)
async def verify_email(body: VerifyEmailRequest, session: SessionDep) -> EmailVerified:
    user = await service.verify_email(session, body.token)
    return EmailVerified(email=user.email, email_verified=user.email_verified)


@router.post(
    "/resend-verification",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new verification link",
    description="Answers the same whether or not the address has an account. At most "
    "ACCOUNT_EMAILS_PER_HOUR mails per address per hour.",
)
async def resend_verification(
    body: EmailRequest, session: SessionDep, settings: SettingsDep, redis: RedisDep
) -> Accepted:
    await service.resend_verification(session, settings, redis, body.email)
    return Accepted(detail=RESEND_ANSWER)


@router.get(
    "/me",
    summary="The caller's profile",
    responses=problems(s401="token_missing token_invalid", s403="account_suspended"),
)
async def me(user: ActiveUser) -> MeView:
    return MeView.of(user)


@router.patch(
    "/me",
    summary="Change name, phone or locale",
    responses=problems(s401="token_missing token_invalid", s422="validation_error"),
)
async def update_me(body: UpdateProfileRequest, user: ActiveUser) -> MeView:
    return MeView.of(await service.update_profile(user, body))


@internal_router.get(
    "/users",
    summary="Users for a broadcast, newest first (service-to-service)",
    responses=problems(s400="invalid_cursor", s401="api_key_invalid"),
)
async def internal_users(
    session: ReadSessionDep,
    _caller: Internal,
    status: UserStatus | None = None,
    role: UserRole | None = None,
    locale: Locale | None = None,
    email_verified: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Page[InternalUserView]:
    rows = await repository.list_for_broadcast(
        session,
        status=status,
        role=role,
        locale=locale,
        email_verified=email_verified,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(list(rows), limit)
    return Page[InternalUserView](
        items=[InternalUserView.of(u) for u in items], next_cursor=next_cursor
    )


@internal_router.get(
    "/users/{user_id}",
    summary="Contact details of a user (service-to-service)",
    responses=problems(s401="api_key_invalid", s404="user_not_found"),
)
async def internal_user(
    user_id: uuid.UUID, session: ReadSessionDep, _caller: Internal
) -> InternalUserView:
    user = await repository.get(session, user_id)
    if user is None:
        raise UserNotFound(f"No user {user_id}")
    return InternalUserView.of(user)
