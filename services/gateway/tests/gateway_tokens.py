"""Access tokens as auth issues them (RS256, `kid`, iss/aud/sub/role/jti/exp), signed with a test
key whose JWKS the auth stand-in serves."""

from __future__ import annotations

import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

ISSUER = "https://auth.webrana.cloud"
AUDIENCE = "webrana-api"
KID = "test-key-1"


class TokenMint:
    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = jwk.construct(self.pem, algorithm="RS256").public_key().to_dict()
        self.jwks: dict[str, Any] = {"keys": [{**public, "kid": KID, "alg": "RS256", "use": "sig"}]}

    def token(
        self,
        *,
        role: str = "customer",
        sub: str | None = None,
        expires_in: int = 900,
        audience: str = AUDIENCE,
        issuer: str = ISSUER,
    ) -> str:
        now = int(time.time())
        claims = {
            "sub": sub or str(uuid.uuid4()),
            "role": role,
            "jti": uuid.uuid4().hex,
            "iss": issuer,
            "aud": audience,
            "iat": now,
            "exp": now + expires_in,
        }
        return jwt.encode(claims, self.pem, algorithm="RS256", headers={"kid": KID})

    def bearer(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}
