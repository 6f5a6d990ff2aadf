from __future__ import annotations

import httpx
from catalog_helpers import assert_problem


async def test_health_and_ready_report_database_and_redis(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok", "service": "catalog"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"database", "redis"}


async def test_openapi_documents_every_route_with_a_summary(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
    plans = spec["paths"]["/api/v1/catalog/plans"]["get"]
    documented = {p["name"] for p in plans["parameters"]}
    assert {"provider", "region", "min_vcpus", "min_memory_mb", "max_price", "cycle", "sort"} <= (
        documented
    )
    assert "304" in plans["responses"]
    quote = spec["paths"]["/internal/plans/{plan_id}/quote"]["get"]
    assert "application/problem+json" in quote["responses"]["422"]["content"]


async def test_unknown_route_answers_problem_json(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/catalog/nope"), 404, "not_found")
