"""Access tokens as auth signs them (RS256, `kid`; sub/role/jti/iss/aud/iat/nbf/exp), for the tests
of a service that verifies them, and the JWKS that service fetches over HTTP, as in production.

    issuer = TokenIssuer(kid="billing-test-key")
    with LiveServer(issuer.app()) as server:
        issuer.jwks_url = f"{server.url}/.well-known/jwks.json"
        client.get("/api/v1/...", headers=issuer.headers(user_id, role="admin"))
"""

from __future__ import annotations

import base64
import time
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ISSUER = "https://auth.webrana.cloud"
AUDIENCE = "webrana-api"
TTL_SECONDS = 900


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TokenIssuer:
    """Signs access tokens as auth does (RS256, `kid`) and serves the JWKS over HTTP (`app()`).
    `jwks_url` is for the caller to set once `app()` is served."""

    def __init__(self, kid: str = "test-key") -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        numbers = key.public_key().public_numbers()
        self.kid = kid
        self.jwks = {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "n": _b64(numbers.n),
                    "e": _b64(numbers.e),
                }
            ]
        }
        self.jwks_url = ""

    def token(self, user_id: uuid.UUID | None = None, role: str = "customer") -> str:
        """A valid access token for `user_id` (a new random user when None)."""
        now = int(time.time())
        claims = {
            "sub": str(user_id or uuid.uuid4()),
            "role": role,
            "jti": uuid.uuid4().hex,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + TTL_SECONDS,
        }
        return jwt.encode(claims, self._pem, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, user_id: uuid.UUID | None = None, role: str = "customer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, role)}"}

    def app(self) -> Starlette:
        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse(self.jwks)

        return Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
