"""Access tokens verified against a real JWKS endpoint: cached keys, one refetch on a new kid,
and every way a token can be wrong refused with a 401 problem."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jose import jwk, jwt
from jose.backends.base import Key
from starlette.responses import JSONResponse

from webrana_common.auth.dependencies import AdminUser, CurrentUser
from webrana_common.auth.jwt import MIN_REFETCH_SECONDS, JWKSVerifier, TokenInvalid
from webrana_common.testing.client import running_app

ISSUER = "https://auth.test.webrana.cloud"
AUDIENCE = "webrana-api"
Serve = Callable[..., Awaitable[str]]


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Key  # constructed once: loading an RSA PEM is slow (~40 ms of key checks)
    public_pem: bytes

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(kid=kid, private=jwk.construct(private_pem, "RS256"), public_pem=public_pem)

    def public_jwk(self) -> dict[str, Any]:
        return {**jwk.construct(self.public_pem, "RS256").to_dict(), "kid": self.kid, "use": "sig"}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


@dataclass
class JwksEndpoint:
    """auth's `/.well-known/jwks.json`, with the keys it publishes and a count of fetches."""

    keys: list[SigningKey]
    fetches: int = 0
    failing: bool = False
    delay: float = 0.0
    app: FastAPI = field(default_factory=FastAPI)

    def __post_init__(self) -> None:
        @self.app.get("/.well-known/jwks.json")
        async def jwks() -> JSONResponse:
            self.fetches += 1
            await asyncio.sleep(self.delay)
            if self.failing:
                return JSONResponse({"error": "down"}, status_code=503)
            return JSONResponse({"keys": [k.public_jwk() for k in self.keys]})


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate("key-2024")


@pytest.fixture(scope="module")
def next_key() -> SigningKey:
    return SigningKey.generate("key-2025")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": str(uuid.uuid4()),
        "role": "customer",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- through an app route: what a client sees ---------------------------------------------


@pytest.fixture
async def jwks(key: SigningKey) -> JwksEndpoint:
    return JwksEndpoint(keys=[key])


def protected_app(make_app: Callable[..., FastAPI], jwks_url: str) -> FastAPI:
    app = make_app(jwks_url=jwks_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"user_id": str(user.user_id), "role": user.role}

    @app.get("/admin/stats")
    async def stats(admin: AdminUser) -> dict[str, str]:
        return {"admin": str(admin.user_id)}

    return app


@pytest.fixture
async def client(
    make_app: Callable[..., FastAPI], jwks: JwksEndpoint
) -> AsyncIterator[httpx.AsyncClient]:
    """The app's verifier reaches the JWKS app in-process (a real server costs 0.2 s a test)."""
    app = protected_app(make_app, "http://auth/.well-known/jwks.json")
    transport = httpx.ASGITransport(app=jwks.app)
    async with httpx.AsyncClient(transport=transport) as jwks_http:
        app.state.jwt_verifier = JWKSVerifier(
            "http://auth/.well-known/jwks.json", issuer=ISSUER, audience=AUDIENCE, http=jwks_http
        )
        async with running_app(app) as http:
            yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_token_identifies_the_user(client: httpx.AsyncClient, key: SigningKey) -> None:
    user_claims = claims(role="customer")

    response = await client.get("/me", headers=bearer(key.sign(user_claims)))

    assert response.status_code == 200
    assert response.json() == {"user_id": user_claims["sub"], "role": "customer"}


async def test_service_fetches_signing_keys_from_its_jwks_url_once(
    make_app: Callable[..., FastAPI], serve: Serve, jwks: JwksEndpoint, key: SigningKey
) -> None:
    base_url = await serve(jwks.app)
    app = protected_app(make_app, f"{base_url}/.well-known/jwks.json")

    async with running_app(app) as client:
        statuses = [
            (await client.get("/me", headers=bearer(key.sign(claims())))).status_code
            for _ in range(5)
        ]
        wrong_audience = await client.get("/me", headers=bearer(key.sign(claims(aud="other"))))

    assert statuses == [200] * 5
    assert wrong_audience.status_code == 401
    assert jwks.fetches == 1


def _alg_none(key: SigningKey, other: SigningKey) -> str:
    return unsigned({"alg": "none", "typ": "JWT", "kid": key.kid}, claims()) + "."


def _hs256_with_public_key(key: SigningKey, other: SigningKey) -> str:
    # Algorithm confusion: HMAC keyed with the public PEM a careless verifier would accept.
    signing_input = unsigned({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims())
    mac = hmac.new(key.public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def _tampered(key: SigningKey, other: SigningKey) -> str:
    header, _, signature = key.sign(claims(role="customer")).split(".")
    forged = b64url(json.dumps(claims(role="admin")).encode())
    return f"{header}.{forged}.{signature}"


BAD_TOKENS: dict[str, tuple[Callable[[SigningKey, SigningKey], str], str]] = {
    "expired": (
        lambda k, o: k.sign(claims(iat=int(time.time()) - 600, exp=int(time.time()) - 60)),
        "token expired",
    ),
    "not_yet_valid": (
        lambda k, o: k.sign(claims(nbf=int(time.time()) + 120)),
        "token claims invalid: The token is not yet valid (nbf)",
    ),
    "wrong_audience": (
        lambda k, o: k.sign(claims(aud="someone-else")),
        "token claims invalid: Invalid audience",
    ),
    "no_audience": (
        lambda k, o: k.sign(claims(aud=None)),
        "token lacks required claims: aud",
    ),
    "wrong_issuer": (
        lambda k, o: k.sign(claims(iss="https://evil.example")),
        "token claims invalid: Invalid issuer",
    ),
    "no_expiry": (lambda k, o: k.sign(claims(exp=None)), "token lacks required claims: exp"),
    "tampered_payload": (_tampered, "token signature invalid"),
    "signed_by_other_key_under_our_kid": (
        lambda k, o: o.sign(claims(), kid=k.kid),
        "token signature invalid",
    ),
    "alg_none": (_alg_none, "token algorithm not allowed"),
    "hs256_with_public_key": (_hs256_with_public_key, "token algorithm not allowed"),
    "unknown_kid": (lambda k, o: o.sign(claims()), "token signed with an unknown key"),
    "not_a_user_id": (
        lambda k, o: k.sign(claims(sub="service-account")),
        "token subject is not a user id",
    ),
    "garbage": (lambda k, o: "not.a.jwt", "malformed token"),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
async def test_bad_token_is_refused_with_401_problem(
    client: httpx.AsyncClient, key: SigningKey, next_key: SigningKey, case: str
) -> None:
    make_token, reason = BAD_TOKENS[case]

    response = await client.get("/me", headers=bearer(make_token(key, next_key)))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["code"] == "token_invalid"
    assert body["detail"] == reason


async def test_missing_bearer_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "token_missing"


async def test_customer_is_refused_an_admin_route(
    client: httpx.AsyncClient, key: SigningKey
) -> None:
    response = await client.get("/admin/stats", headers=bearer(key.sign(claims(role="customer"))))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "admin_required"


async def test_admin_reaches_an_admin_route(client: httpx.AsyncClient, key: SigningKey) -> None:
    admin_claims = claims(role="admin")

    response = await client.get("/admin/stats", headers=bearer(key.sign(admin_claims)))

    assert response.status_code == 200
    assert response.json() == {"admin": admin_claims["sub"]}


# --- the verifier's key cache ---------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def verifier(jwks: JwksEndpoint, clock: FakeClock) -> AsyncIterator[JWKSVerifier]:
    transport = httpx.ASGITransport(app=jwks.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auth") as http:
        yield JWKSVerifier(
            "http://auth/.well-known/jwks.json",
            issuer=ISSUER,
            audience=AUDIENCE,
            cache_seconds=300,
            http=http,
            clock=clock,
        )


async def test_unknown_kid_triggers_exactly_one_refetch(
    verifier: JWKSVerifier,
    jwks: JwksEndpoint,
    clock: FakeClock,
    key: SigningKey,
    next_key: SigningKey,
) -> None:
    await verifier.verify(key.sign(claims()))
    assert jwks.fetches == 1

    jwks.keys = [key, next_key]  # auth rotates: publishes and starts signing with a new key
    clock.now += MIN_REFETCH_SECONDS
    rotated = await verifier.verify(next_key.sign(claims(role="admin")))

    assert rotated.role == "admin"
    assert jwks.fetches == 2
    with pytest.raises(TokenInvalid, match="unknown key"):
        await verifier.verify(next_key.sign(claims(), kid="made-up"))
    assert jwks.fetches == 2


async def test_made_up_kids_cannot_make_the_verifier_hammer_auth(
    verifier: JWKSVerifier, jwks: JwksEndpoint, clock: FakeClock, key: SigningKey
) -> None:
    await verifier.verify(key.sign(claims()))
    clock.now += MIN_REFETCH_SECONDS

    for n in range(20):
        with pytest.raises(TokenInvalid, match="unknown key"):
            await verifier.verify(key.sign(claims(), kid=f"made-up-{n}"))

    assert jwks.fetches == 2


async def test_keys_are_refetched_when_the_cache_expires(
    verifier: JWKSVerifier, jwks: JwksEndpoint, clock: FakeClock, key: SigningKey
) -> None:
    await verifier.verify(key.sign(claims()))
    clock.now += 299
    await verifier.verify(key.sign(claims()))
    assert jwks.fetches == 1

    clock.now += 1
    await verifier.verify(key.sign(claims()))

    assert jwks.fetches == 2


async def test_concurrent_first_requests_share_one_fetch(
    verifier: JWKSVerifier, jwks: JwksEndpoint, key: SigningKey
) -> None:
    jwks.delay = 0.02

    results = await asyncio.gather(*(verifier.verify(key.sign(claims())) for _ in range(20)))

    assert len(results) == 20
    assert jwks.fetches == 1


async def test_cached_keys_keep_working_while_auth_is_down(
    verifier: JWKSVerifier, jwks: JwksEndpoint, clock: FakeClock, key: SigningKey
) -> None:
    await verifier.verify(key.sign(claims()))
    jwks.failing = True
    clock.now += 301

    first = await verifier.verify(key.sign(claims(role="admin")))
    second = await verifier.verify(key.sign(claims()))

    assert first.role == "admin"
    assert second.role == "customer"
    assert jwks.fetches == 2  # one failed refresh, then no retry storm


async def test_keys_unavailable_when_auth_never_answered(
    verifier: JWKSVerifier, jwks: JwksEndpoint, key: SigningKey
) -> None:
    jwks.failing = True

    with pytest.raises(TokenInvalid, match="signing keys are unavailable"):
        await verifier.verify(key.sign(claims()))
    with pytest.raises(TokenInvalid, match="signing keys are unavailable"):
        await verifier.verify(key.sign(claims()))


async def test_first_token_right_after_boot_fetches_the_keys(
    verifier: JWKSVerifier, jwks: JwksEndpoint, clock: FakeClock, key: SigningKey
) -> None:
    clock.now = 3.0  # the monotonic clock counts from boot: smaller than any cache age

    claims_ = await verifier.verify(key.sign(claims(role="admin")))

    assert claims_.role == "admin"
    assert jwks.fetches == 1


# --- tokens verified once ------------------------------------------------------------------


def static_verifier(key: SigningKey, **options: Any) -> JWKSVerifier:
    return JWKSVerifier(
        None, issuer=ISSUER, audience=AUDIENCE, static_jwks={"keys": [key.public_jwk()]}, **options
    )


async def test_a_token_seen_before_is_accepted_until_it_expires(
    jwks: JwksEndpoint, key: SigningKey
) -> None:
    """The second sight of a token skips the RSA work, never its expiry."""
    verifier = static_verifier(key, leeway_seconds=0)
    expires = int(time.time()) + 1
    token = key.sign(claims(exp=expires))
    first = await verifier.verify(token)
    assert (await verifier.verify(token)) == first
    # python-jose compares whole seconds: `exp` itself still passes.
    await asyncio.sleep(expires + 1.1 - time.time())
    with pytest.raises(TokenInvalid, match="expired"):
        await verifier.verify(token)


async def test_a_token_of_a_withdrawn_key_is_refused_though_seen_before(
    verifier: JWKSVerifier,
    jwks: JwksEndpoint,
    clock: FakeClock,
    key: SigningKey,
    next_key: SigningKey,
) -> None:
    old = key.sign(claims())
    await verifier.verify(old)
    jwks.keys = [next_key]  # auth withdraws the old key (say it leaked)
    clock.now += 300  # the key cache expires: the next token fetches the new set
    await verifier.verify(next_key.sign(claims()))
    assert jwks.fetches == 2
    with pytest.raises(TokenInvalid, match="unknown key"):
        await verifier.verify(old)


async def test_a_full_cache_makes_room_and_keeps_verifying(
    jwks: JwksEndpoint, key: SigningKey
) -> None:
    verifier = static_verifier(key, max_verified=20)
    tokens = [key.sign(claims()) for _ in range(45)]
    subjects = [(await verifier.verify(t)).sub for t in tokens]
    assert len(set(subjects)) == 45
    assert len(verifier._verified) <= 20
    assert (await verifier.verify(tokens[0])).sub == subjects[0]
