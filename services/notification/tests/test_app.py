"""The app as a whole: health, readiness (database, Redis, the live channel), metrics,
documentation, and settings that refuse to start unsafe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from notification_service.config import NotificationSettings


async def test_health_ready_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok", "service": "notification"}
    ready = (await client.get("/ready")).json()
    assert ready["status"] == "ok"
    assert set(ready["checks"]) == {"database", "redis", "live_channel"}
    metrics = (await client.get("/metrics")).text
    assert "notification_websocket_connections 0.0" in metrics


async def test_documented_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/internal/notifications/send",
        "/api/v1/notifications",
        "/api/v1/notifications/unread-count",
        "/api/v1/notifications/read-all",
        "/api/v1/notifications/{notification_id}/read",
        "/api/v1/notifications/{notification_id}",
        "/api/v1/notifications/preferences",
        "/api/v1/notifications/telegram/webhook",
        "/api/v1/admin/notifications/broadcasts",
        "/api/v1/admin/notifications/templates",
        "/api/v1/admin/notifications/deliveries",
    ):
        assert path in paths, path


def test_production_refuses_development_secrets() -> None:
    base: dict[str, Any] = {
        "environment": "production",
        "database_url": "postgresql://x/y",
        "redis_url": "redis://x",
        "jwks_url": "http://auth/.well-known/jwks.json",
        "internal_api_keys": "order:k1",
        "internal_api_key": "k2",
    }
    with pytest.raises(ValidationError, match="UNSUBSCRIBE_SECRET"):
        NotificationSettings(**base)
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        NotificationSettings(**base, unsubscribe_secret="s", telegram_bot_token="1:x")
    NotificationSettings(
        **base, unsubscribe_secret="s", telegram_bot_token="1:x", telegram_webhook_secret="w"
    )


def test_smtp_tls_modes_exclude_each_other_and_secrets_follow_telegram_rules() -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        NotificationSettings(smtp_use_tls=True, smtp_starttls=True)
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        NotificationSettings(telegram_webhook_secret="has spaces")
    assert (
        NotificationSettings(telegram_bot_username="@WeBranaBot").telegram_bot_username
        == "WeBranaBot"
    )
