from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status
from starlette.responses import JSONResponse

from auth_service.dependencies import (
    ActiveUser,
    ClientDep,
    HashingDep,
    KeysDep,
    RedisDep,
    SettingsDep,
    current_session_id,
)
from auth_service.errors import RefreshTokenReused
from auth_service.sessions import service
from auth_service.sessions.models import RevokeReason
from auth_service.sessions.schemas import LoginRequest, RefreshRequest, SessionView, TokenPair
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.errors import AppError
from webrana_common.openapi import problems
from webrana_common.problem import problem_response

router = APIRouter(prefix="/api/v1/auth", tags=["sessions"])

# Token responses must never sit in a browser or proxy cache (RFC 6749, 5.1).
NO_STORE = "no-store"


def _returned_problem(request: Request, exc: AppError) -> JSONResponse:
    return problem_response(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extra,
    )


@router.post(
    "/login",
    summary="Log in with email and password",
    description="Opens a session and returns a 15-minute access token and a refresh token. "
    "After 5 failed attempts for one address within 15 minutes (known or unknown alike) the "
    "address answers 429 with Retry-After; a per-IP budget applies as well.",
    responses=problems(
        s401="invalid_credentials",
        s403="account_suspended",
        s429="login_locked login_rate_limited",
    ),
)
async def login(
    response: Response,
    body: LoginRequest,
    session: SessionDep,
    settings: SettingsDep,
    keys: KeysDep,
    hashing: HashingDep,
    redis: RedisDep,
    client: ClientDep,
) -> TokenPair:
    issuer = service.Issuer(settings, keys)
    response.headers["Cache-Control"] = NO_STORE
    return await service.login(session, issuer, hashing, redis, body.email, body.password, client)


@router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for a new pair",
    description="Each refresh token works once. Presenting it again within "
    "REFRESH_REUSE_GRACE_SECONDS returns the same new pair (two tabs refreshing together); "
    "later, it revokes the whole session and answers `refresh_token_reused`.",
    responses=problems(
        s401="refresh_token_invalid refresh_token_expired refresh_token_reused session_revoked",
        s403="account_suspended",
    ),
)
async def refresh(
    request: Request,
    response: Response,
    body: RefreshRequest,
    session: SessionDep,
    settings: SettingsDep,
    keys: KeysDep,
    client: ClientDep,
) -> TokenPair | JSONResponse:
    response.headers["Cache-Control"] = NO_STORE
    try:
        return await service.refresh(
            session, service.Issuer(settings, keys), body.refresh_token, client
        )
    except RefreshTokenReused as exc:
        # Returned rather than raised: a raised error rolls the request's transaction back,
        # and with it the family's revocation and its audit entry.
        return _returned_problem(request, exc)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the session of a refresh token",
    description="Always 204: an unknown or already revoked token is not an error worth telling.",
)
async def logout(body: RefreshRequest, session: SessionDep) -> Response:
    await service.logout(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every session of the caller",
    description="Refresh tokens stop working at once; access tokens already issued expire "
    "within 15 minutes.",
    responses=problems(s401="token_missing token_invalid"),
)
async def logout_all(session: SessionDep, user: ActiveUser) -> Response:
    await service.revoke_all(session, user.id, RevokeReason.LOGOUT_ALL)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/sessions",
    summary="The caller's active sessions",
    responses=problems(s401="token_missing token_invalid"),
)
async def list_sessions(
    session: ReadSessionDep, user: ActiveUser, principal: CurrentUser
) -> list[SessionView]:
    current = current_session_id(principal)
    return [
        SessionView(
            id=f.id,
            device=f.device,
            user_agent=f.user_agent,
            ip=f.last_ip,
            created_at=f.created_at,
            last_used_at=f.last_used_at,
            expires_at=f.expires_at,
            current=f.id == current,
        )
        for f in await service.list_sessions(session, user.id)
    ]


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of the caller's sessions",
    responses=problems(s401="token_missing token_invalid", s404="session_not_found"),
)
async def revoke_session(session_id: uuid.UUID, session: SessionDep, user: ActiveUser) -> Response:
    await service.revoke_one(session, user.id, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
