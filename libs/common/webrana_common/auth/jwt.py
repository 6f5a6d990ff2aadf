"""Access-token verification against auth's JWKS: RS256 only, cached keys, refetch on new kid."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from jose import jwk, jwt
from jose.exceptions import ExpiredSignatureError, JOSEError, JWTClaimsError

ALLOWED_ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ("sub", "exp", "aud", "iss")
# An unknown kid may mean auth rotated its keys; refetch, but not more often than this.
MIN_REFETCH_SECONDS = 10.0
log = logging.getLogger("webrana.auth")


class TokenInvalid(Exception):
    """Why a token was refused; the message is safe to show to the client."""


@dataclass(frozen=True)
class TokenClaims:
    sub: str
    role: str
    jti: str | None
    raw: dict[str, Any]


class JWKSVerifier:
    def __init__(
        self,
        jwks_url: str | None,
        *,
        issuer: str,
        audience: str,
        cache_seconds: int = 300,
        http: httpx.AsyncClient | None = None,
        static_jwks: dict[str, Any] | None = None,
        leeway_seconds: int = 10,
        clock: Callable[[], float] = time.monotonic,
        max_verified: int = 10_000,
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.cache_seconds = cache_seconds
        self.leeway = leeway_seconds
        self._http = http
        self._clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        # -inf, not 0.0: the monotonic clock may read less than the cache age on a fresh host.
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()
        # RSA keys built once per kid, and tokens already verified (until their `exp`): a
        # client sends the same token for minutes, and an RSA verify with python-jose's key
        # construction was a tenth of a service's CPU per request. Both are emptied when the
        # key set changes.
        self._constructed: dict[str, Any] = {}
        self._verified: dict[str, tuple[float, TokenClaims]] = {}
        self.max_verified = max_verified
        self._static = static_jwks
        if static_jwks is not None:
            self._install(static_jwks)
            self._fetched_at = float("inf")

    def _install(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for key in jwks.get("keys", []):
            if key.get("kty") == "RSA" and key.get("kid") and key.get("alg", "RS256") == "RS256":
                keys[key["kid"]] = key
        if keys != self._keys:
            self._constructed.clear()
            self._verified.clear()
        self._keys = keys

    async def _fetch(self, url: str) -> None:
        client = self._http or httpx.AsyncClient(timeout=5.0)
        try:
            response = await client.get(url)
            response.raise_for_status()
            self._install(response.json())
            self._fetched_at = self._clock()
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenInvalid("signing keys are unavailable, try again shortly") from exc
        finally:
            if self._http is None:
                await client.aclose()

    async def _key_for(self, kid: str) -> dict[str, Any]:
        if kid in self._keys and self._clock() - self._fetched_at < self.cache_seconds:
            return self._keys[kid]
        if self._static is not None:
            if kid in self._keys:
                return self._keys[kid]
            raise TokenInvalid("token signed with an unknown key")
        url = self.jwks_url
        if not url:
            raise TokenInvalid("token verification is not configured")
        async with self._lock:
            now = self._clock()
            wanted = kid not in self._keys or now - self._fetched_at >= self.cache_seconds
            # At most one fetch per window, however many requests queue here or carry made-up kids.
            if wanted and now - self._attempted_at >= MIN_REFETCH_SECONDS:
                self._attempted_at = now
                try:
                    await self._fetch(url)
                except TokenInvalid:
                    if kid not in self._keys:
                        raise
                    # auth is down: keep verifying with the keys we have rather than refuse all.
                    log.warning("JWKS refresh failed; using cached signing keys", exc_info=True)
        if kid in self._keys:
            return self._keys[kid]
        if not self._keys:
            raise TokenInvalid("signing keys are unavailable, try again shortly")
        raise TokenInvalid("token signed with an unknown key")

    async def verify(self, token: str) -> TokenClaims:
        cached = self._verified.get(token)
        if cached is not None:
            if cached[0] > time.time():
                return cached[1]
            del self._verified[token]
        claims = await self._verify(token)
        expires = claims.raw.get("exp")
        if self.max_verified and isinstance(expires, int | float):
            if len(self._verified) >= self.max_verified:
                self._evict()
            self._verified[token] = (float(expires), claims)
        return claims

    def _evict(self) -> None:
        now = time.time()
        for token in [t for t, (expires, _) in self._verified.items() if expires <= now]:
            del self._verified[token]
        overflow = len(self._verified) - self.max_verified + 1
        if overflow > 0:  # still full: the oldest tenth goes (dicts keep insertion order)
            for token in list(self._verified)[: max(overflow, self.max_verified // 10)]:
                del self._verified[token]

    def _construct(self, kid: str, key: dict[str, Any]) -> Any:
        constructed = self._constructed.get(kid)
        if constructed is None:
            constructed = self._constructed[kid] = jwk.construct(key, algorithm="RS256")
        return constructed

    async def _verify(self, token: str) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise TokenInvalid("malformed token") from exc
        # Checked before any key is touched: "none" and HS256-with-the-public-key never pass.
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise TokenInvalid("token algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenInvalid("token has no key id")
        key = await self._key_for(kid)
        try:
            claims = jwt.decode(
                token,
                self._construct(kid, key),
                algorithms=ALLOWED_ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"leeway": self.leeway},
            )
        except ExpiredSignatureError as exc:
            raise TokenInvalid("token expired") from exc
        except JWTClaimsError as exc:
            raise TokenInvalid(f"token claims invalid: {exc}") from exc
        except JOSEError as exc:
            raise TokenInvalid("token signature invalid") from exc
        # python-jose skips the `aud` check when the claim is absent; its own `require_*` options
        # fail with the same error as a bad signature, so presence is checked here.
        missing = [name for name in REQUIRED_CLAIMS if name not in claims]
        if missing:
            raise TokenInvalid(f"token lacks required claims: {', '.join(missing)}")
        if not isinstance(claims.get("sub"), str):
            raise TokenInvalid("token has no subject")
        return TokenClaims(
            sub=claims["sub"],
            role=str(claims.get("role", "customer")),
            jti=claims.get("jti"),
            raw=claims,
        )
