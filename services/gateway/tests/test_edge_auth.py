"""Tokens at the edge: the public allowlist passes without one, everything else needs a valid
one (401 with WWW-Authenticate: Bearer), admin routes need the admin role and, when
ADMIN_ALLOWED_CIDRS is set, a client address inside it."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from conftest import RunningGateway
from gateway_tokens import TokenMint
from gateway_upstreams import Upstream

from gateway_service.edge_auth import EdgeAuthenticator, TokenInvalid
from webrana_common.auth.jwt import JWKSVerifier

PUBLIC = [
    ("POST", "/api/v1/auth/register", "auth"),
    ("POST", "/api/v1/auth/login", "auth"),
    ("POST", "/api/v1/auth/refresh", "auth"),
    ("POST", "/api/v1/auth/logout", "auth"),
    ("POST", "/api/v1/auth/forgot-password", "auth"),
    ("POST", "/api/v1/auth/reset-password", "auth"),
    ("POST", "/api/v1/auth/verify-email", "auth"),
    ("POST", "/api/v1/auth/resend-verification", "auth"),
    ("GET", "/api/v1/catalog/plans", "catalog"),
    ("GET", "/api/v1/catalog/regions/sgp1/images", "catalog"),
    ("HEAD", "/api/v1/catalog/plans", "catalog"),
    ("POST", "/api/v1/billing/callbacks/tripay", "billing"),
    ("POST", "/api/v1/notifications/telegram/webhook", "notification"),
    ("GET", "/api/v1/notifications/unsubscribe", "notification"),
    ("POST", "/api/v1/notifications/unsubscribe", "notification"),
]
PROTECTED = [
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/auth/logout-all"),
    ("GET", "/api/v1/auth/sessions"),
    ("POST", "/api/v1/auth/password/change"),
    ("POST", "/api/v1/catalog/plans"),
    ("GET", "/api/v1/orders"),
    ("POST", "/api/v1/orders"),
    ("GET", "/api/v1/billing/invoices"),
    ("GET", "/api/v1/billing/callbacks/tripay"),
    ("GET", "/api/v1/notifications"),
    ("DELETE", "/api/v1/notifications/unsubscribe"),
    ("POST", "/api/v1/instances/x/reboot"),
    ("GET", "/api/v1/admin/users"),
]


@pytest.mark.parametrize(("method", "path", "service"), PUBLIC)
async def test_the_public_allowlist_needs_no_token(
    client: httpx.AsyncClient,
    upstreams: dict[str, Upstream],
    method: str,
    path: str,
    service: str,
) -> None:
    response = await client.request(method, path, content=b"{}" if method == "POST" else None)
    assert response.status_code == 200, response.text
    assert upstreams[service].requests[-1].path == path


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_everything_else_needs_a_token(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream], method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "token_missing"
    assert not any(s.requests for s in upstreams.values())


@pytest.mark.parametrize(
    ("label", "header"),
    [
        ("garbage", "Bearer not-a-jwt"),
        ("basic scheme", "Basic dXNlcjpwYXNz"),
        ("bearer without a token", "Bearer"),
    ],
)
async def test_a_malformed_authorization_is_refused(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream], label: str, header: str
) -> None:
    response = await client.get("/api/v1/orders", headers={"Authorization": header})
    assert response.status_code == 401, label
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert not upstreams["order"].requests


@pytest.mark.parametrize(
    ("label", "claims"),
    [
        ("expired", {"expires_in": -60}),
        ("wrong audience", {"audience": "someone-else"}),
        ("wrong issuer", {"issuer": "https://evil.example"}),
    ],
)
async def test_an_invalid_token_is_refused_with_invalid_token(
    client: httpx.AsyncClient,
    upstreams: dict[str, Upstream],
    mint: TokenMint,
    label: str,
    claims: dict[str, object],
) -> None:
    response = await client.get("/api/v1/orders", headers=mint.bearer(**claims))  # type: ignore[arg-type]
    assert response.status_code == 401, label
    assert response.json()["code"] == "token_invalid"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert not upstreams["order"].requests


async def test_a_token_signed_by_another_key_is_refused(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream]
) -> None:
    forger = TokenMint()  # same kid, different key
    response = await client.get("/api/v1/orders", headers=forger.bearer())
    assert response.status_code == 401
    assert not upstreams["order"].requests


async def test_a_valid_token_is_forwarded_for_the_service_to_verify_again(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    headers = mint.bearer()
    response = await client.get("/api/v1/orders", headers=headers)
    assert response.status_code == 200
    assert upstreams["order"].requests[-1].header("authorization") == headers["Authorization"]


async def test_a_public_route_with_a_bad_token_still_passes(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    response = await client.get("/api/v1/catalog/plans", headers=mint.bearer(expires_in=-60))
    assert response.status_code == 200


async def test_admin_routes_need_the_admin_role(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    customer = await client.get("/api/v1/admin/users", headers=mint.bearer(role="customer"))
    assert customer.status_code == 403
    assert customer.json()["code"] == "admin_required"
    assert not upstreams["auth"].requests
    admin = await client.get("/api/v1/admin/users", headers=mint.bearer(role="admin"))
    assert admin.status_code == 200


async def test_admin_cidrs_refuse_admins_from_elsewhere(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    gateway = start_gateway(admin_allowed_cidrs="10.0.0.0/8")
    async with gateway.client() as client:
        response = await client.get(
            "/api/v1/admin/orders",
            headers={**mint.bearer(role="admin"), "X-Forwarded-For": "10.1.2.3"},
        )
        assert response.status_code == 403
        assert response.json()["code"] == "admin_network_forbidden"
        # Only admin routes are restricted.
        assert (await client.get("/api/v1/orders", headers=mint.bearer())).status_code == 200
    assert [r.path for r in upstreams["order"].requests] == ["/api/v1/orders"]


async def test_admin_cidrs_believe_forwarded_for_from_trusted_proxies_only(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    gateway = start_gateway(admin_allowed_cidrs="10.0.0.0/8", trusted_proxies="127.0.0.1/32")
    async with gateway.client() as client:
        inside = await client.get(
            "/api/v1/admin/orders",
            headers={**mint.bearer(role="admin"), "X-Forwarded-For": "10.1.2.3"},
        )
        outside = await client.get(
            "/api/v1/admin/orders",
            headers={**mint.bearer(role="admin"), "X-Forwarded-For": "10.1.2.3, 198.51.100.7"},
        )
    assert inside.status_code == 200
    # The rightmost untrusted hop is the client; what it wrote to its left proves nothing.
    assert outside.status_code == 403


async def test_admin_cidrs_let_a_local_admin_in_when_local_is_allowed(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    gateway = start_gateway(admin_allowed_cidrs="127.0.0.0/8,::1/128")
    async with gateway.client() as client:
        response = await client.get("/api/v1/admin/orders", headers=mint.bearer(role="admin"))
    assert response.status_code == 200


class CountingVerifier(JWKSVerifier):
    def __init__(self, jwks: dict[str, object]) -> None:
        super().__init__(
            None,
            issuer="https://auth.webrana.cloud",
            audience="webrana-api",
            static_jwks=jwks,  # type: ignore[arg-type]
        )
        self.calls = 0

    async def verify(self, token: str):  # type: ignore[no-untyped-def]
        self.calls += 1
        return await super().verify(token)


async def test_a_verified_token_is_remembered_until_it_expires(mint: TokenMint) -> None:
    now = [time.time()]
    verifier = CountingVerifier(mint.jwks)
    edge = EdgeAuthenticator(verifier, max_entries=100, clock=lambda: now[0])
    token = mint.token(expires_in=120)
    first = await edge.authenticate(token)
    second = await edge.authenticate(token)
    assert first == second
    assert verifier.calls == 1
    now[0] += 121
    await edge.authenticate(token)  # past its exp: the cache no longer answers for it
    assert verifier.calls == 2


async def test_invalid_tokens_are_not_remembered(mint: TokenMint) -> None:
    verifier = CountingVerifier(mint.jwks)
    edge = EdgeAuthenticator(verifier, max_entries=100)
    for _ in range(2):
        with pytest.raises(TokenInvalid):
            await edge.authenticate(mint.token(audience="nope"))
    assert verifier.calls == 2


async def test_the_token_cache_stays_within_its_size(mint: TokenMint) -> None:
    edge = EdgeAuthenticator(CountingVerifier(mint.jwks), max_entries=10)
    for _ in range(25):
        await edge.authenticate(mint.token())
    assert len(edge._verified) <= 10
