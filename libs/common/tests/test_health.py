"""`/health` answers without I/O; `/ready` checks each dependency and names the one failing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from fastapi import FastAPI

from webrana_common import health
from webrana_common.service import create_service_app
from webrana_common.settings import ServiceSettings
from webrana_common.testing.client import running_app


async def test_health_answers_while_every_dependency_is_down(
    make_app: Callable[..., FastAPI], closed_port: int
) -> None:
    app = make_app(
        database_url=f"postgresql://app:secret@127.0.0.1:{closed_port}/app",
        redis_url=f"redis://127.0.0.1:{closed_port}/0",
    )

    async with running_app(app) as client:
        started = time.perf_counter()
        response = await client.get("/health")
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "testsvc"}
    assert elapsed < 0.5


async def test_ready_reports_each_dependency_when_all_answer(
    make_app: Callable[..., FastAPI], redis_url: str, empty_database_url: str
) -> None:
    app = make_app(database_url=empty_database_url, redis_url=redis_url)

    async with running_app(app) as client:
        response = await client.get("/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


async def test_ready_is_503_naming_redis_when_redis_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, empty_database_url: str, closed_port: int
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port}/0")
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    app = create_service_app(
        ServiceSettings(environment="test"), title="test", description="readiness"
    )

    async with running_app(app) as client:
        response = await client.get("/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"] == {"status": "error", "error": "ConnectionError"}
    assert body["checks"]["database"]["status"] == "ok"


async def test_a_hanging_check_times_out_and_is_named(
    make_app: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.05)
    app = make_app()

    async def provider_api() -> None:
        await asyncio.sleep(10)

    async def quick() -> None:
        return None

    app.state.readiness_checks["provider_api"] = provider_api
    app.state.readiness_checks["quick"] = quick

    async with running_app(app) as client:
        started = time.perf_counter()
        response = await client.get("/ready")
        elapsed = time.perf_counter() - started

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["provider_api"] == {"status": "error", "error": "TimeoutError"}
    assert checks["quick"]["status"] == "ok"
    assert elapsed < 1.0
