from __future__ import annotations

from fastapi import APIRouter, Response, status

from auth_service.dependencies import (
    ActiveUser,
    ClientDep,
    HashingDep,
    RedisDep,
    SettingsDep,
    current_session_id,
)
from auth_service.passwords import service
from auth_service.passwords.schemas import ChangePasswordRequest, ResetPasswordRequest
from auth_service.users.schemas import Accepted, EmailRequest
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import SessionDep
from webrana_common.openapi import problems

router = APIRouter(prefix="/api/v1/auth", tags=["passwords"])

FORGOT_ANSWER = "If this address has an account, a link to reset the password is on its way."
_POLICY_CODES = "password_too_short password_contains_email password_too_common validation_error"


@router.post(
    "/password/change",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the caller's password",
    description="Needs the current password. Every other session is revoked; this one stays. "
    "Wrong current passwords count against the same budget as failed logins.",
    responses=problems(
        s400="current_password_incorrect",
        s401="token_missing token_invalid",
        s422="password_unchanged " + _POLICY_CODES,
        s429="login_locked login_rate_limited",
    ),
)
async def change_password(
    body: ChangePasswordRequest,
    session: SessionDep,
    settings: SettingsDep,
    hashing: HashingDep,
    redis: RedisDep,
    client: ClientDep,
    user: ActiveUser,
    principal: CurrentUser,
) -> Response:
    await service.change_password(
        session,
        settings,
        hashing,
        redis,
        user,
        body.current_password,
        body.new_password,
        client,
        current_session_id(principal),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/forgot-password",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a password-reset link",
    description="Same answer whether or not the address has an account. The link is valid "
    "30 minutes, single use; requesting a new one voids the previous.",
)
async def forgot_password(
    body: EmailRequest, session: SessionDep, settings: SettingsDep, redis: RedisDep
) -> Accepted:
    await service.request_reset(session, settings, redis, body.email)
    return Accepted(detail=FORGOT_ANSWER)


@router.post(
    "/reset-password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with the emailed token",
    description="Revokes every session of the account and lifts a login lockout.",
    responses=problems(
        s400="reset_token_invalid",
        s410="reset_token_expired reset_token_used",
        s422=_POLICY_CODES,
    ),
)
async def reset_password(
    body: ResetPasswordRequest,
    session: SessionDep,
    settings: SettingsDep,
    hashing: HashingDep,
    redis: RedisDep,
    client: ClientDep,
) -> Response:
    await service.reset_password(
        session, settings, hashing, redis, body.token, body.new_password, client
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
