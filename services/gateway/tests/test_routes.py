"""The route table: each public path reaches its service (and only that one), with the
normalised path, the query string and the method; anything else is the gateway's 404."""

from __future__ import annotations

import httpx
import pytest
from gateway_tokens import TokenMint
from gateway_upstreams import Upstream

from gateway_service.routes import access_for, match_route

ROUTED = [
    ("GET", "/api/v1/auth/me", "auth", "customer"),
    ("GET", "/.well-known/jwks.json", "auth", None),
    ("GET", "/api/v1/admin/users", "auth", "admin"),
    ("GET", "/api/v1/admin/users/7f1c/role", "auth", "admin"),
    ("GET", "/api/v1/admin/audit", "auth", "admin"),
    ("GET", "/api/v1/catalog/plans", "catalog", None),
    ("POST", "/api/v1/admin/catalog/plans", "catalog", "admin"),
    ("POST", "/api/v1/orders", "order", "customer"),
    ("GET", "/api/v1/orders/ORD-20250101-AAAAA", "order", "customer"),
    ("GET", "/api/v1/admin/orders/stuck", "order", "admin"),
    ("POST", "/api/v1/billing/invoices/1/pay", "billing", "customer"),
    ("GET", "/api/v1/admin/billing/payments", "billing", "admin"),
    ("GET", "/api/v1/notifications", "notification", "customer"),
    ("PATCH", "/api/v1/notifications/preferences", "notification", "customer"),
    ("POST", "/api/v1/instances/abc/reboot", "instance", "customer"),
    ("DELETE", "/api/v1/admin/instances/abc", "instance", "admin"),
]


@pytest.mark.parametrize(("method", "path", "service", "role"), ROUTED)
async def test_each_public_path_reaches_its_own_service(
    client: httpx.AsyncClient,
    upstreams: dict[str, Upstream],
    mint: TokenMint,
    method: str,
    path: str,
    service: str,
    role: str | None,
) -> None:
    headers = mint.bearer(role=role) if role else {}
    response = await client.request(method, path, headers=headers)
    if path == "/.well-known/jwks.json":
        assert response.status_code == 200
        assert response.json() == mint.jwks
        return
    assert response.status_code == 200, response.text
    assert response.json()["service"] == service
    assert response.json()["method"] == method
    assert response.json()["path"] == path
    others = [s for name, s in upstreams.items() if name != service]
    assert all(not s.requests for s in others)


async def test_query_string_and_status_pass_through_unchanged(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    response = await client.get(
        "/api/v1/orders/x?b=2&a=1&a=%20sp&echo_status=418", headers=mint.bearer()
    )
    assert response.status_code == 418
    assert response.json()["query"] == "b=2&a=1&a=%20sp&echo_status=418"


async def test_path_is_forwarded_normalised(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream]
) -> None:
    response = await client.get("/api/v1/catalog//plans/./x/../y")
    assert response.status_code == 200
    assert upstreams["catalog"].requests[-1].raw_path == "/api/v1/catalog/plans/y"


async def test_unknown_paths_get_the_gateways_404_and_reach_nobody(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    for path in ("/api/v1/providers/x", "/api/v1", "/api/v2/orders", "/api/v1/ordersx"):
        response = await client.get(path, headers=mint.bearer())
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"
    assert not any(s.requests for s in upstreams.values())


async def test_provider_is_never_routed(client: httpx.AsyncClient, mint: TokenMint) -> None:
    response = await client.get(
        "/api/v1/admin/provider/requests", headers=mint.bearer(role="admin")
    )
    assert response.status_code == 404


def test_admin_prefix_wins_over_shorter_prefixes() -> None:
    route = match_route("/api/v1/admin/users/1")
    assert route is not None and route.admin and route.service == "auth"
    assert match_route("/api/v1/auth") is not None
    assert match_route("/api/v1/authx") is None


def test_catalog_reads_are_public_and_catalog_writes_are_not() -> None:
    route = match_route("/api/v1/catalog/plans")
    assert route is not None
    assert access_for(route, "GET", "/api/v1/catalog/plans").public
    assert not access_for(route, "POST", "/api/v1/catalog/plans").public
    admin = match_route("/api/v1/admin/catalog/plans")
    assert admin is not None
    assert not access_for(admin, "GET", "/api/v1/admin/catalog/plans").public
