"""Security headers on every response, HSTS only over HTTPS, and CORS for the configured
frontend origins (answered at the edge, never forwarded)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from conftest import RunningGateway
from gateway_tokens import TokenMint
from gateway_upstreams import Upstream

FRONTEND = "https://app.webrana.cloud"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/catalog/plans", 200),
        ("GET", "/api/v1/orders", 401),
        ("GET", "/api/v1/nowhere", 404),
        ("GET", "/internal/x", 404),
        ("GET", "/health", 200),
        ("GET", "/openapi.json", 200),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers


async def test_hsts_is_sent_when_clients_come_over_https(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gateway = start_gateway(forwarded_proto="https", hsts_max_age_seconds=600)
    async with gateway.client() as client:
        response = await client.get("/api/v1/catalog/plans")
    assert response.headers["strict-transport-security"] == "max-age=600; includeSubDomains"


async def test_hsts_follows_x_forwarded_proto_from_a_trusted_proxy_only(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    trusting = start_gateway(trusted_proxies="127.0.0.1/32")
    distrusting = start_gateway()
    headers = {"X-Forwarded-Proto": "https"}
    async with trusting.client() as one, distrusting.client() as two:
        trusted = await one.get("/health", headers=headers)
        ignored = await two.get("/health", headers=headers)
    assert "strict-transport-security" in trusted.headers
    assert "strict-transport-security" not in ignored.headers


async def test_cors_preflight_is_answered_at_the_edge(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(
        cors_origins=f"{FRONTEND},http://localhost:5173", cors_max_age_seconds=900
    )
    async with gateway.client() as client:
        response = await client.options(
            "/api/v1/orders",
            headers={
                "Origin": FRONTEND,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "900"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert response.headers["x-content-type-options"] == "nosniff"
    assert not upstreams["order"].requests


async def test_cors_refuses_other_origins(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(cors_origins=FRONTEND)
    async with gateway.client() as client:
        preflight = await client.options(
            "/api/v1/orders",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        simple = await client.get(
            "/api/v1/catalog/plans", headers={"Origin": "https://evil.example"}
        )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers
    assert not upstreams["order"].requests


async def test_cors_responses_expose_the_rate_limit_and_request_id_headers(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    gateway = start_gateway(cors_origins=FRONTEND)
    async with gateway.client() as client:
        response = await client.get("/api/v1/orders", headers={**mint.bearer(), "Origin": FRONTEND})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert response.headers["access-control-allow-credentials"] == "true"
    exposed = response.headers["access-control-expose-headers"].lower()
    for name in ("ratelimit-remaining", "retry-after", "x-request-id"):
        assert name in exposed


async def test_without_cors_origins_no_cors_headers_are_sent(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/catalog/plans", headers={"Origin": FRONTEND})
    assert "access-control-allow-origin" not in response.headers
