"""`CurrentUser` and `require_admin`: who is calling a public route, verified locally."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from webrana_common.auth.jwt import JWKSVerifier, TokenInvalid
from webrana_common.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    role: str
    token_id: str | None
    claims: dict[str, Any]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


_bearer_scheme = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


async def get_principal(
    conn: HTTPConnection,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)] = None,
) -> Principal:
    token = bearer_token(conn)
    if token is None:
        raise Unauthorized("Missing bearer token", code="token_missing")
    verifier: JWKSVerifier = conn.app.state.jwt_verifier
    try:
        claims = await verifier.verify(token)
        user_id = uuid.UUID(claims.sub)
    except TokenInvalid as exc:
        raise Unauthorized(str(exc), code="token_invalid") from exc
    except ValueError as exc:
        raise Unauthorized("token subject is not a user id", code="token_invalid") from exc
    principal = Principal(user_id=user_id, role=claims.role, token_id=claims.jti, claims=claims.raw)
    conn.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def _require_admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise Forbidden("This action requires the admin role", code="admin_required")
    return principal


require_admin = Depends(_require_admin)
AdminUser = Annotated[Principal, require_admin]
