"""`/health` (liveness, no I/O) and `/ready` (Redis and every service, in one body)."""

from __future__ import annotations

from collections.abc import Callable

from conftest import RunningGateway, closed_port
from gateway_upstreams import Upstream


async def test_health_answers_without_asking_anyone(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gateway = start_gateway(
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        auth_url=f"http://127.0.0.1:{closed_port()}",
    )
    async with gateway.client() as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "gateway"}


async def test_ready_reports_redis_and_every_service(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        response = await client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert set(body["upstreams"]) == {
        "auth", "catalog", "order", "billing", "notification", "instance"
    }  # fmt: skip
    for report in body["upstreams"].values():
        assert report["status"] == "ok"
        assert report["circuit"] == "closed"


async def test_a_service_down_degrades_readiness_without_failing_it(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(instance_url=f"http://127.0.0.1:{closed_port()}", billing_url="")
    upstreams["catalog"].ready = False
    async with gateway.client() as client:
        response = await client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["upstreams"]["instance"]["status"] == "down"
    assert body["upstreams"]["billing"]["status"] == "not_configured"
    catalog = body["upstreams"]["catalog"]
    assert (catalog["status"], catalog["http_status"], catalog["circuit"]) == (
        "not_ready",
        503,
        "closed",
    )
    assert body["upstreams"]["auth"]["status"] == "ok"


async def test_a_required_service_down_fails_readiness(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gateway = start_gateway(
        auth_url=f"http://127.0.0.1:{closed_port()}", ready_required_upstreams="auth,catalog"
    )
    async with gateway.client() as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["failing_required"] == ["auth"]
