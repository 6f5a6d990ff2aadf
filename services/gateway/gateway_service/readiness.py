"""`/ready`: the gateway's own dependency (Redis) and every service's `/ready`, in one body.

The gateway is ready when it can serve: a service that is down answers 503 for its own routes
only, and Redis down means per-process rate limits, not refusal. So the status code is 200
("degraded" in the body when anything is unwell) unless a service named in
READY_REQUIRED_UPSTREAMS is not ready.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from gateway_service.runtime import GatewayRuntime

CHECK_TIMEOUT_SECONDS = 2.0


async def _probe_upstream(client: httpx.AsyncClient, base_url: str) -> dict[str, Any]:
    if not base_url:
        return {"status": "not_configured"}
    start = time.perf_counter()
    try:
        response = await client.get(f"{base_url.rstrip('/')}/ready", timeout=CHECK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return {"status": "down", "error": type(exc).__name__}
    latency = round((time.perf_counter() - start) * 1000, 2)
    if response.status_code != 200:
        return {"status": "not_ready", "http_status": response.status_code, "latency_ms": latency}
    return {"status": "ok", "latency_ms": latency}


async def _probe_redis(runtime: GatewayRuntime) -> dict[str, Any]:
    if runtime.redis is None:
        return {"status": "not_configured"}
    start = time.perf_counter()
    try:
        await asyncio.wait_for(runtime.redis.ping(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return {"status": "error", "error": type(exc).__name__, "fallback": "per-process limits"}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - start) * 1000, 2)}


def readiness_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/ready",
        summary="Readiness: the gateway and each service, in one body",
        description="200 while the gateway can serve (`status` is `degraded` when Redis or a "
        "service is unwell); 503 only when a service named in READY_REQUIRED_UPSTREAMS is not "
        "ready.",
    )
    async def ready(request: Request) -> JSONResponse:
        state = request.app.state
        runtime: GatewayRuntime = state.runtime
        urls = state.upstream_urls
        names = list(urls)
        results = await asyncio.gather(
            _probe_redis(runtime), *(_probe_upstream(state.probe_http, urls[n]) for n in names)
        )
        upstreams = dict(zip(names, results[1:], strict=True))
        for name, report in upstreams.items():
            report["circuit"] = runtime.breakers[name].state.value
        required = runtime.settings.required_upstreams()
        failing = sorted(n for n in required if upstreams[n]["status"] != "ok")
        healthy = results[0]["status"] in ("ok", "not_configured") and all(
            r["status"] == "ok" for r in upstreams.values()
        )
        status = "unavailable" if failing else ("ok" if healthy else "degraded")
        body = {"status": status, "checks": {"redis": results[0]}, "upstreams": upstreams}
        if failing:
            body["failing_required"] = failing
        return JSONResponse(body, status_code=503 if failing else 200)

    return router
