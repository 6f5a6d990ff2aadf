"""Access tokens: RS256 JWTs the whole fleet verifies locally against auth's JWKS."""

from __future__ import annotations

import time
import uuid

from auth_service.config import AuthSettings
from auth_service.keys import KeyRing
from auth_service.users.models import User


def mint(keys: KeyRing, settings: AuthSettings, user: User, session_id: uuid.UUID) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user.id),
        "role": user.role,
        "jti": uuid.uuid4().hex,
        # The refresh family: lets auth tell "this session" from the others (session list,
        # password change keeping the caller signed in).
        "sid": str(session_id),
        "email_verified": user.email_verified,
        "iat": now,
        "nbf": now,
        "exp": now + settings.access_token_ttl_seconds,
    }
    return keys.sign(claims)
