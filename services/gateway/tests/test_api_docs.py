"""One API document: the public parts of every service's OpenAPI, tagged per service, with the
bearer scheme; refreshed periodically; a service that is down keeps its last part, marked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from conftest import RunningGateway, closed_port
from gateway_upstreams import Upstream, service_document

from gateway_service.openapi_merge import ServicePart, merge_documents


async def _document(gateway: RunningGateway) -> dict[str, Any]:
    async with gateway.client() as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_the_document_merges_every_services_public_paths(gateway: RunningGateway) -> None:
    document = await _document(gateway)
    paths = document["paths"]
    for prefix in ("/api/v1/auth", "/api/v1/catalog", "/api/v1/orders", "/api/v1/instances"):
        assert f"{prefix}/things" in paths
    assert "/health" in paths and "/ready" in paths  # the gateway's own
    assert not [p for p in paths if p.lower().startswith("/internal")]
    assert document["info"]["x-services"]["catalog"]["status"] == "ok"


async def test_operations_are_tagged_per_service_and_carry_the_bearer_scheme(
    gateway: RunningGateway,
) -> None:
    document = await _document(gateway)
    scheme = document["components"]["securitySchemes"]
    assert scheme == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from POST /api/v1/auth/login",
        }
    }
    orders = document["paths"]["/api/v1/orders/things"]
    assert orders["get"]["tags"] == ["order: things"]
    assert orders["get"]["security"] == [{"bearerAuth": []}]
    assert orders["get"]["operationId"] == "order_list_things"
    # Catalog reads are public at the edge; its writes are not.
    catalog = document["paths"]["/api/v1/catalog/things"]
    assert catalog["get"]["security"] == []
    assert catalog["post"]["security"] == [{"bearerAuth": []}]
    groups = {g["name"]: g["tags"] for g in document["x-tagGroups"]}
    assert groups["billing"] == ["billing: things"]
    tags = {t["name"]: t["description"] for t in document["tags"]}
    assert tags["billing: things"] == "Things of billing"


async def test_clashing_component_names_are_kept_apart(gateway: RunningGateway) -> None:
    document = await _document(gateway)
    schemas = document["components"]["schemas"]
    assert schemas["Thing"]["properties"]["owner"]["const"] == "auth"
    assert schemas["order_Thing"]["properties"]["owner"]["const"] == "order"
    response = document["paths"]["/api/v1/orders/things"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/order_Thing"
    }


async def test_a_service_never_reached_is_marked_missing(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gateway = start_gateway(billing_url=f"http://127.0.0.1:{closed_port()}")
    document = await _document(gateway)
    billing = document["info"]["x-services"]["billing"]
    assert billing["status"] == "missing"
    assert "billing" in {t["name"] for t in document["tags"]}
    assert (
        "unavailable" in next(t for t in document["tags"] if t["name"] == "billing")["description"]
    )
    assert "/api/v1/billing/things" not in document["paths"]


async def test_a_service_that_starts_after_the_gateway_joins_within_seconds(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    """`make run` starts everything at once: a service still booting when the gateway first
    asks is asked again after 1, 2, 4... s, not after the hour-long refresh period."""
    port = closed_port()
    gateway = start_gateway(billing_url=f"http://127.0.0.1:{port}")
    assert (await _document(gateway))["info"]["x-services"]["billing"]["status"] == "missing"
    upstream = await asyncio.to_thread(Upstream("billing").start, port)
    try:
        deadline = time.monotonic() + 8
        while "/api/v1/billing/things" not in (await _document(gateway))["paths"]:
            assert time.monotonic() < deadline, "billing's part never arrived"
            await asyncio.sleep(0.2)
    finally:
        await asyncio.to_thread(upstream.stop)


async def test_asking_for_the_document_fetches_a_missing_part_at_once(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    """Right after `make run` says the fleet is up, /docs must show every service: a request
    asks for a part still missing instead of waiting for the retry timer (up to 4 s)."""
    port = closed_port()
    gateway = start_gateway(billing_url=f"http://127.0.0.1:{port}")
    assert (await _document(gateway))["info"]["x-services"]["billing"]["status"] == "missing"
    # The timer has asked at 0, 1 and 3 s; its next ask is at 7 s.
    await asyncio.sleep(3.5)
    upstream = await asyncio.to_thread(Upstream("billing").start, port)
    try:
        await asyncio.sleep(1.0)  # the on-demand ask is at most once a second
        document = await _document(gateway)
    finally:
        await asyncio.to_thread(upstream.stop)
    assert document["info"]["x-services"]["billing"]["status"] == "ok"
    assert "/api/v1/billing/things" in document["paths"]


async def test_a_service_that_goes_down_keeps_its_last_part_marked_stale(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    upstream = Upstream("billing").start()
    gateway = start_gateway(billing_url=upstream.url, openapi_refresh_seconds=0.1)
    try:
        assert (await _document(gateway))["info"]["x-services"]["billing"]["status"] == "ok"
    finally:
        await asyncio.to_thread(upstream.stop)
    deadline = time.monotonic() + 5
    while True:
        document = await _document(gateway)
        if document["info"]["x-services"]["billing"]["status"] == "stale":
            break
        assert time.monotonic() < deadline, "the document never noticed billing went down"
        await asyncio.sleep(0.1)
    assert "/api/v1/billing/things" in document["paths"]
    assert (
        "unavailable"
        in next(t for t in document["tags"] if t["name"] == "billing: things")["description"]
    )


async def test_a_refresh_picks_up_a_changed_document(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(openapi_refresh_seconds=0.1)
    assert "/api/v1/catalog/plans" not in (await _document(gateway))["paths"]
    changed = service_document("catalog")
    changed["paths"]["/api/v1/catalog/plans"] = changed["paths"].pop("/api/v1/catalog/things")
    upstreams["catalog"].openapi = changed
    try:
        deadline = time.monotonic() + 5
        while "/api/v1/catalog/plans" not in (await _document(gateway))["paths"]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
    finally:
        upstreams["catalog"].openapi = None


async def test_docs_serve_swagger_ui_over_the_merged_document(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "/openapi.json" in response.text
    assert "cdn.jsdelivr.net" in response.headers["content-security-policy"]


def test_paths_a_service_does_not_own_are_left_out() -> None:
    document = service_document("catalog")
    document["paths"]["/api/v1/orders/sneaky"] = {"get": {"responses": {}}}
    document["paths"]["/INTERNAL/x"] = {"get": {"responses": {}}}
    merged = merge_documents(
        [ServicePart("catalog", document, "ok")], title="t", version="1", description="d"
    )
    assert set(merged["paths"]) == {"/api/v1/catalog/things"}
