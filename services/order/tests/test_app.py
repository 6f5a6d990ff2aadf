from __future__ import annotations

import httpx
import pytest

from order_service.config import OrderSettings


async def test_health_ready_and_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).status_code == 200
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    spec = (await client.get("/openapi.json")).json()
    assert {
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/cancel",
        "/api/v1/admin/orders",
        "/api/v1/admin/orders/{order_id}/retry-provisioning",
        "/api/v1/admin/orders/{order_id}/refund",
        "/internal/orders/{order_id}/payment-status",
    } <= set(spec["paths"])


def test_settings_refuse_inconsistent_backoff() -> None:
    with pytest.raises(ValueError, match="PROVISIONING_POLL_INITIAL_SECONDS"):
        OrderSettings(provisioning_poll_initial_seconds=60, provisioning_poll_max_seconds=30)
