from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from auth_service.config import AuthSettings


async def test_health_and_ready_report_database_and_redis(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json()["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"database", "redis"}


async def test_openapi_documents_every_route_with_a_summary(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    assert "429" in login["responses"]
    assert "application/problem+json" in login["responses"]["429"]["content"]


async def test_unknown_route_answers_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_production_refuses_to_start_without_a_private_key() -> None:
    with pytest.raises(ValidationError, match="JWT_PRIVATE_KEY"):
        AuthSettings(
            environment="production",
            database_url="postgresql://db/auth",
            redis_url="redis://redis:6379/0",
            jwks_url="http://auth:3001/.well-known/jwks.json",
            internal_api_keys=SecretStr("gateway:a-real-secret"),
            internal_api_key=SecretStr("another-real-secret"),
        )


def test_bad_telegram_bot_username_is_refused() -> None:
    with pytest.raises(ValidationError, match="TELEGRAM_BOT_USERNAME"):
        AuthSettings(telegram_bot_username="not a bot!")
