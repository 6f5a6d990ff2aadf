"""Access tokens checked at the edge, with the fleet's JWKS verifier, and remembered.

RS256 verification costs ~100 µs; a client sends the same token for up to 15 minutes. So a
verified token is remembered (under its SHA-256, never the token itself) until its own `exp`,
and the next request with it costs one hash and one dict lookup. Services still verify every
token themselves: the edge check is a first wall, not the only one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from webrana_common.auth.jwt import JWKSVerifier, TokenInvalid

__all__ = [
    "EdgeAuthenticator",
    "Identity",
    "TokenInvalid",
    "bearer_token",
    "query_token",
    "subprotocol_token",
]


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    role: str
    rate_key: str  # the caller's rate-limit bucket, built once per token

    @classmethod
    def of(cls, user_id: str, role: str) -> Identity:
        return cls(user_id, role, f"u:{user_id}")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def bearer_token(authorization: bytes | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(b" ")
    token = token.strip()
    if scheme.lower() != b"bearer" or not token:
        return None
    return token.decode("latin-1")


def subprotocol_token(subprotocols: Sequence[str] | None) -> str | None:
    """The token a browser sends as `new WebSocket(url, ["bearer", token])`, that is
    `Sec-WebSocket-Protocol: bearer, <token>`: the way the notification service's live socket
    takes it (it refuses a token in the URL). The service verifies it again and answers the
    `bearer` subprotocol only."""
    offered = [p.strip() for p in subprotocols or ()]
    if len(offered) >= 2 and offered[0].lower() == "bearer" and offered[1]:
        return offered[1]
    return None


def query_token(query_string: bytes) -> str | None:
    """Browsers cannot set headers on a WebSocket handshake, so it may carry `access_token`."""
    if b"access_token=" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1")):
        if name == "access_token" and value:
            return value
    return None


class EdgeAuthenticator:
    def __init__(
        self,
        verifier: JWKSVerifier,
        *,
        max_entries: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = verifier
        self.max_entries = max_entries
        self._clock = clock
        self._verified: dict[bytes, tuple[float, Identity]] = {}

    async def authenticate(self, token: str) -> Identity:
        """The caller behind a valid token; `TokenInvalid` (safe to show) otherwise."""
        digest = hashlib.sha256(token.encode("latin-1")).digest()
        now = self._clock()
        cached = self._verified.get(digest)
        if cached is not None:
            if cached[0] > now:
                return cached[1]
            del self._verified[digest]
        claims = await self.verifier.verify(token)
        identity = Identity.of(claims.sub, claims.role)
        expires = claims.raw.get("exp")
        if self.max_entries and isinstance(expires, int | float) and expires > now:
            if len(self._verified) >= self.max_entries:
                self._evict(now)
            self._verified[digest] = (float(expires), identity)
        return identity

    def _evict(self, now: float) -> None:
        expired = [key for key, (expires, _) in self._verified.items() if expires <= now]
        for key in expired:
            del self._verified[key]
        # Still full: drop the oldest tenth (dicts keep insertion order).
        overflow = len(self._verified) - self.max_entries + 1
        if overflow > 0:
            for key in list(self._verified)[: max(overflow, self.max_entries // 10)]:
                del self._verified[key]
